//! The warnings a claim raises, recorded while it settles as a few bytes each (which warning,
//! about which layer) and worded only when an answer is built from the outcome. Batch runs never
//! read the words: a claim under a policy with unknown figures used to format up to four
//! bilingual messages it then threw away, about a fifth of the planned path's time.

use super::*;

/// One warning as recorded while settling. The wording is [`Note::word`]'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Note {
    /// No hospital level given: the level with this index was taken.
    LevelDefaulted(u16),
    /// A per-case code under a policy without per-case rules.
    CaseCodeIgnored,
    /// A figure of the layer with this index is unknown (the rule for unknown figures).
    Unknown(usize, Target),
    /// The layer's deductible repeats every `period` days and the stay's length was not given.
    StayDaysMissing { layer: usize, period: u32 },
    /// A referred admission with no chain to continue this year.
    ReferralWithoutChain(usize),
    /// A warning worded where it was raised (rare ones, whose words depend on the claim).
    Worded(Box<Warning>),
}

/// A claim's warnings: most claims raise none, and none raises many.
pub(super) type Notes = SmallVec<[Note; 4]>;

impl From<Warning> for Note {
    fn from(w: Warning) -> Note {
        Note::Worded(Box::new(w))
    }
}

impl Note {
    /// The warning in words (Chinese, then English), or `None` when it names a layer or level
    /// the policy does not have (it cannot: notes are recorded from the same policy).
    pub(super) fn word(&self, policy: &Policy) -> Option<Warning> {
        let layer = |i: usize| policy.layers.get(i);
        Some(match self {
            Note::LevelDefaulted(i) => {
                let l = policy.dims.levels.get(usize::from(*i))?;
                Warning::new(
                    "level_defaulted",
                    format!(
                        "未填写医院等级，按“{}”计算 / no hospital level given: taken as `{}` ({})",
                        l.zh, l.id, l.en
                    ),
                )
            }
            Note::CaseCodeIgnored => Warning::new(
                "case_code_ignored",
                "this policy has no per-case (按病种) rule; the case code was ignored",
            ),
            Note::Unknown(i, figure) => unknown_warning(layer(*i)?, *figure),
            Note::StayDaysMissing { layer: i, period } => {
                let layer = layer(*i)?;
                Warning {
                    layer: Some(layer.id.clone()),
                    effect: Some("fund_overstated"),
                    ..Warning::new(
                        "stay_days_missing",
                        format!(
                            "{}：未提供住院天数，起付线按一次计算；连续住院每满 {period} 天另计一次起付线，本层支付可能偏高 / {}: the length of the stay (stay_days) was not given, so the deductible is charged once; a stay longer than {period} days pays it again for each further {period} days, so this layer's payment may be overstated",
                            layer.label,
                            layer.name_en()
                        ),
                    )
                }
            }
            Note::ReferralWithoutChain(i) => {
                let layer = layer(*i)?;
                Warning {
                    layer: Some(layer.id.clone()),
                    ..Warning::new(
                        "referral_without_chain",
                        format!(
                            "{}：本年度没有可连续计算的前次住院（转诊不跨年度），起付线按本次住院计算 / {}: no earlier admission this year to continue the referral from (a chain does not cross the year); the deductible is charged afresh",
                            layer.label,
                            layer.name_en()
                        ),
                    )
                }
            }
            Note::Worded(w) => (**w).clone(),
        })
    }
}

/// The notes in words, in the order they were raised.
pub(super) fn word_all(notes: &[Note], policy: &Policy) -> Vec<Warning> {
    notes.iter().filter_map(|n| n.word(policy)).collect()
}

/// What an unknown figure does to a result, said once per layer and figure: the rule for
/// unknown figures (ARCHITECTURE.md) and which way the estimate may be off.
fn unknown_warning(layer: &Layer, figure: Target) -> Warning {
    let name = &layer.label;
    let en = layer.name_en();
    let (code, effect, message) = match figure {
        Target::Deductible => (
            "unknown_deductible",
            "fund_overstated",
            format!("{name}：起付线未知，按 0 计算；本层支付可能偏高，您实际自付可能更多 / {en}: the deductible is unknown and taken as 0; this layer's payment may be overstated, and what you pay understated"),
        ),
        Target::Ratio => (
            "unknown_ratio",
            "fund_understated",
            format!("{name}：支付比例未知，本层未计算；实际可能还有本层支付，您实际自付可能更少 / {en}: the payment ratio is unknown, so this layer is not applied; it may pay something, and what you pay may be less"),
        ),
        Target::Cap => (
            "unknown_cap",
            "fund_overstated",
            format!("{name}：最高支付限额未知，按不设限额计算；本层支付可能偏高 / {en}: the cap is unknown and taken as no cap; this layer's payment may be overstated"),
        ),
    };
    Warning {
        code: Cow::Borrowed(code),
        message: Cow::Owned(message),
        layer: Some(layer.id.clone()),
        effect: Some(effect),
    }
}
