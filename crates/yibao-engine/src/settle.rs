//! `settle`: one claim, one policy, the year so far → a settlement and the next year-to-date state.
//!
//! The layers run in order. Each works on a base — the claim's policy-scope amount, or what the
//! earlier layers left the patient of named components — places it on a measure (this claim, or
//! the year's accumulated base), takes off the deductible, pays each band's ratio of the part in
//! the band, stops at its caps, and rounds its payment to 0.01 yuan half up. The first layer that
//! takes the policy-scope amount classifies what it leaves into deductible, co-pay and above-cap;
//! later layers pay from those parts in the order their base names them. Conservation — payments
//! plus out-of-pocket equal the total — holds exactly by construction and is checked by property
//! tests.
//!
//! This file holds the cascade (`run`: base, deductible, bands, caps, payment and who bears what
//! is left) and the entry points; each rule it applies lives in its own module: `resolve`
//! (the claim's situation), `eval` (values, formulas, `for` blocks), `deductible`, `caps` (caps,
//! pools, the cap line), `unknown` (the rule for unknown figures), `year` (the year so far),
//! `fen` (integer money and the one rounding), `explain` (the trace and the named settlement),
//! and `plan` (the same evaluation compiled per claim situation).

use std::borrow::Cow;
use std::sync::Arc;

use rust_decimal::Decimal;
use smallvec::SmallVec;

use crate::claim::Claim;
use crate::err::{ClaimError, EvalError, SettleError};
use crate::ir::*;
use crate::money::{fmt_decimal, fmt_money, Money};
use crate::settlement::*;
use crate::state::{Chain, LayerYtd, YtdState};

mod caps;
mod care;
mod deductible;
mod eval;
mod explain;
mod fen;
mod notes;
mod plan;
mod resolve;
mod unknown;
mod year;

use caps::*;
use deductible::*;
use eval::*;
use explain::*;
use fen::*;
use notes::*;
pub use plan::Settler;
use resolve::*;
use unknown::*;
use year::*;
/// What `settle` should produce besides the numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettleOptions {
    /// Build the step-by-step explanation (batch runs leave it off).
    pub trace: bool,
}

/// Settles `claim` under `policy`, given the person's `state` for the year so far.
/// Returns the settlement and the state after this claim; `state` itself is not changed.
pub fn settle(
    policy: &Policy,
    claim: &Claim,
    state: &YtdState,
    opts: &SettleOptions,
) -> Result<(Settlement, YtdState), SettleError> {
    let mut next = state.clone();
    let s = settle_in_place(policy, claim, &mut next, opts)?;
    Ok((s, next))
}

/// The amount a layer works on: the policy-scope amount not yet classified, or what earlier
/// layers left the patient of the components its base names — with `plus special_drugs`, also
/// what is left of the claim's special drugs (`special`, a part of what `out_of_list` holds).
#[inline]
fn layer_base(layer: &Layer, unclassified: Fen, burden: &[Fen; 7], special: Fen) -> Fen {
    match &layer.base {
        Base::InScope => unclassified,
        Base::Remaining(cs) => {
            let listed: Fen = cs.iter().map(|c| burden[c.index()]).sum();
            if layer.plus_special_drugs {
                listed + special.min(burden[Component::OutOfList.index()])
            } else {
                listed
            }
        }
    }
}

/// The special drugs (`amounts.special_drugs`) as fen: at most `out_of_list` (the claim was
/// checked).
#[inline]
fn special_of(claim: &Claim) -> Fen {
    fen_of(claim.amounts.special_drugs)
}

/// Whether an earlier layer already classified the policy-scope amount this layer would take.
#[inline]
fn already_classified(layer: &Layer, unclassified: Fen, in_scope: Fen) -> bool {
    layer.base == Base::InScope && unclassified == 0 && in_scope > 0
}

/// Settles `claim` and updates `state` in place (the fast path for a year's fold and for batch).
/// On error `state` may have been moved to the claim's year but holds no part of the claim.
pub fn settle_in_place(
    policy: &Policy,
    claim: &Claim,
    state: &mut YtdState,
    opts: &SettleOptions,
) -> Result<Settlement, SettleError> {
    let mut rec = Recorder {
        tr: Tracer {
            on: opts.trace,
            policy,
            steps: Vec::new(),
        },
        bands: Some(Vec::new()),
    };
    let r = resolve(policy, claim)?;
    let mut out = Outcome::default();
    settle_resolved(policy, claim, &r, state, &mut rec, &mut out)?;
    Ok(build(policy, claim, &r, out, rec))
}

/// Settles `claim` and updates `state` in place, keeping only the numbers: the same evaluation
/// as [`settle_in_place`] without building the named, explained [`Settlement`] — the entry point
/// for batch runs over many claims. Call [`settle_in_place`] for names, band lines and the
/// explanation.
pub fn settle_outcome(
    policy: &Policy,
    claim: &Claim,
    state: &mut YtdState,
) -> Result<Outcome, SettleError> {
    let r = resolve(policy, claim)?;
    let mut out = Outcome::default();
    settle_resolved(
        policy,
        claim,
        &r,
        state,
        &mut Recorder::lean(policy),
        &mut out,
    )?;
    Ok(out)
}

/// The bill before any fund pays: the policy-scope amount, and what the patient bears outside it
/// (out of the list, paid first, over the price limit) as the first parts of the split.
#[inline]
fn split_bill(claim: &Claim) -> (Fen, [Fen; 7]) {
    let a = &claim.amounts;
    let (total, out_of_list, pre_self_pay, over_limit) = (
        fen_of(a.total),
        fen_of(a.out_of_list),
        fen_of(a.pre_self_pay),
        fen_of(a.over_limit),
    );
    let mut burden: [Fen; 7] = [0; 7];
    burden[Component::OutOfList.index()] = out_of_list;
    burden[Component::PreSelfPay.index()] = pre_self_pay;
    burden[Component::OverLimit.index()] = over_limit;
    (total - out_of_list - pre_self_pay - over_limit, burden)
}

fn settle_resolved(
    policy: &Policy,
    claim: &Claim,
    r: &Resolved,
    state: &mut YtdState,
    rec: &mut Recorder,
    out: &mut Outcome,
) -> Result<(), SettleError> {
    staged(policy, claim, state, |state, deltas| {
        run(policy, claim, r, state, rec, out, deltas)
    })
}

/// What `run` records besides the numbers: the explanation, and the band lines of each layer
/// (`None` on the numbers-only path).
struct Recorder<'p> {
    tr: Tracer<'p>,
    bands: Option<Vec<(usize, BandLine)>>,
}

impl<'p> Recorder<'p> {
    /// Records nothing: the numbers-only path.
    fn lean(policy: &'p Policy) -> Recorder<'p> {
        Recorder {
            tr: Tracer {
                on: false,
                policy,
                steps: Vec::new(),
            },
            bands: None,
        }
    }
}

/// One layer's numbers for one claim, in fen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LayerOut {
    applied: bool,
    base: Fen,
    /// The deductible figure that applied to this claim (`None`: no deductible, or unknown).
    threshold: Option<Fen>,
    deductible: Fen,
    cap_remaining: Option<Fen>,
    capped: bool,
    payment: Fen,
}

impl LayerOut {
    /// A layer that applied and paid: the rounded amount, or what its caps leave when less.
    #[inline]
    fn settled(base: Fen, deductible: Fen, limit: Option<Fen>, uncapped: Fen) -> LayerOut {
        let capped = limit.is_some_and(|l| l < uncapped);
        LayerOut {
            applied: true,
            base,
            threshold: None,
            deductible,
            cap_remaining: limit,
            capped,
            payment: match limit {
                Some(l) if capped => l,
                _ => uncapped,
            },
        }
    }
}

/// The numbers of one settlement without names or explanation: each layer's payment, the
/// out-of-pocket split and the fund total. Kept as exact fen inside; every accessor answers in
/// [`Money`]. [`settle_in_place`] builds its [`Settlement`] from exactly these numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    layers: SmallVec<[LayerOut; 6]>,
    burden: [Fen; 7],
    in_scope: Fen,
    fund_total: Fen,
    act_pay_dedc: Fen,
    /// Parameters used that are unverified or overridden.
    flagged: ParamSet,
    warnings: Notes,
}

impl Outcome {
    /// How many layers the policy has (applied or not), in policy order.
    pub fn layer_count(&self) -> usize {
        self.layers.len()
    }
    /// What layer `i` (policy order) paid; zero for a layer that did not apply or does not exist.
    pub fn payment(&self, i: usize) -> Money {
        money(self.layers.get(i).map_or(0, |l| l.payment))
    }
    /// Whether layer `i` applied to the claim.
    pub fn applied(&self, i: usize) -> bool {
        self.layers.get(i).is_some_and(|l| l.applied)
    }
    /// The policy-scope amount (政策范围内费用).
    pub fn in_scope(&self) -> Money {
        money(self.in_scope)
    }
    /// What all layers paid together.
    pub fn fund_total(&self) -> Money {
        money(self.fund_total)
    }
    /// What the patient pays in all.
    pub fn out_of_pocket(&self) -> Money {
        money(self.burden.iter().sum())
    }
    /// One part of what the patient pays.
    pub fn out_of_pocket_part(&self, c: Component) -> Money {
        money(self.burden[c.index()])
    }
    /// What the layers paid of the policy-scope amount: the amount less the in-scope parts the
    /// patient still bears (the numerator of 政策范围内报销比例).
    pub fn in_scope_paid(&self) -> Money {
        let left: Fen = Component::IN_SCOPE
            .iter()
            .map(|c| self.burden[c.index()])
            .sum();
        money(self.in_scope - left)
    }
    /// Whether the result relies on a placeholder (unverified) figure or an overridden one.
    pub fn relies_on_flagged(&self) -> bool {
        !self.flagged.is_empty()
    }
    /// The warnings the settlement raised.
    pub fn warnings(&self, policy: &Policy) -> Vec<Warning> {
        word_all(&self.warnings, policy)
    }
}

/// A set of parameter ids, as bits: adding one costs a shift and an or.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ParamSet(SmallVec<[u64; 4]>);

impl ParamSet {
    fn insert(&mut self, p: ParamId) {
        let w = p as usize / 64;
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        if let Some(word) = self.0.get_mut(w) {
            *word |= 1 << (p % 64);
        }
    }

    fn insert_all(&mut self, ps: &[ParamId]) {
        for p in ps {
            self.insert(*p);
        }
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// The ids, ascending.
    fn iter(&self) -> impl Iterator<Item = ParamId> + '_ {
        self.0.iter().enumerate().flat_map(|(i, w)| {
            (0..64u32)
                .filter(move |b| w & (1 << b) != 0)
                .map(move |b| i as u32 * 64 + b)
        })
    }
}

/// What a layer paid of its base and what it left, in fen.
struct Paid {
    ded: Fen,
    /// The part of the base within the bands (or the per-case amount).
    within: Fen,
    /// The part above the last band.
    beyond: Fen,
    /// The payment before caps, rounded.
    uncapped: Fen,
    payment: Fen,
    /// When a cap stopped the payment: the cost within the bands up to the cap line (see
    /// [`cap_line`]); the rest of `within` lies above the cap.
    line: Option<Fen>,
}

impl Paid {
    #[inline]
    fn of(layer: &LayerOut, within: Fen, beyond: Fen, uncapped: Fen, line: Option<Fen>) -> Paid {
        Paid {
            ded: layer.deductible,
            within,
            beyond,
            uncapped,
            payment: layer.payment,
            line,
        }
    }

    /// Charges what the layer left to the patient's components. A layer on the policy-scope
    /// amount classifies it into deductible, co-pay and above-cap (and says so: `true`); a layer
    /// on what earlier layers left pays those components off in the order its base names them.
    fn classify(&self, layer: &Layer, burden: &mut [Fen; 7], special: &mut Fen) -> bool {
        match &layer.base {
            Base::InScope => {
                burden[Component::Deductible.index()] += self.ded;
                match self.line {
                    // Capped: the co-pay is what the patient bears below the cap line; the cost
                    // above the line is 超封顶.
                    Some(line) => {
                        burden[Component::CoPay.index()] += line - self.payment;
                        burden[Component::AboveCap.index()] += self.beyond + (self.within - line);
                    }
                    None => {
                        burden[Component::CoPay.index()] += self.within - self.uncapped;
                        burden[Component::AboveCap.index()] +=
                            self.beyond + (self.uncapped - self.payment);
                    }
                }
                true
            }
            Base::Remaining(cs) => {
                let mut left = self.payment;
                for c in cs {
                    let take = left.min(burden[c.index()]);
                    burden[c.index()] -= take;
                    left -= take;
                }
                if layer.plus_special_drugs {
                    // Then the special drugs, which the patient bore as 全自费.
                    let ool = &mut burden[Component::OutOfList.index()];
                    let take = left.min((*special).min(*ool));
                    *ool -= take;
                    *special -= take;
                }
                false
            }
        }
    }
}

/// Why a layer does not apply to a claim.
enum Skip {
    /// Its `when` conditions do not select the claim.
    Conditions,
    /// It is a per-case layer and the claim has no case.
    NotPerCase,
    /// An earlier layer already classified the policy-scope amount.
    Classified,
}

fn run(
    policy: &Policy,
    claim: &Claim,
    r: &Resolved,
    state: &YtdState,
    rec: &mut Recorder,
    out: &mut Outcome,
    deltas: &mut Deltas,
) -> Result<(), SettleError> {
    if policy.is_care() {
        return care::run(policy, claim, r, state, rec, out, deltas);
    }
    let a = &claim.amounts;
    let (in_scope, mut burden) = split_bill(claim);
    let mut special = special_of(claim);
    let mut fund_total: Fen = 0;
    let mut act_pay_dedc: Fen = 0;
    let mut unclassified = in_scope;
    let mut used_list = Used::new();
    let used_all = &mut used_list;
    let warnings = &mut out.warnings;
    let layers = &mut out.layers;
    let mut used: Used = SmallVec::new();
    let tr = &mut rec.tr;
    let trace = tr.on;
    let mut classified_by: Option<&str> = None;

    if tr.on {
        tr.step(
            None,
            StepKind::Split,
            format!(
                "医疗费总额 {}：全自费 {}，先行自付 {}，超限价自付 {}，政策范围内费用 {}",
                a.total,
                a.out_of_list,
                a.pre_self_pay,
                a.over_limit,
                fmt_money(yuan(in_scope))
            ),
            format!(
            "Total bill {}: out-of-list {}, pre-self-pay {}, over-limit {}, policy-scope amount {}",
            a.total, a.out_of_list, a.pre_self_pay, a.over_limit, fmt_money(yuan(in_scope))
        ),
            yuan(in_scope),
            None,
            &[],
        );
    }
    warn_level_defaulted(r, warnings);
    warn_case_code_ignored(policy, claim, warnings);

    for (li, layer) in policy.layers.iter().enumerate() {
        let lid: &str = &layer.id;
        let lid_arc = &layer.id;
        let mut result = LayerOut::default();
        // Why the layer does not apply, if it does not (words only when tracing).
        let skip = if !r.selects(&layer.when) {
            Some(Skip::Conditions)
        } else if layer.per_case.is_some() && r.case.is_none() {
            Some(Skip::NotPerCase)
        } else if already_classified(layer, unclassified, in_scope) {
            Some(Skip::Classified)
        } else {
            None
        };
        if let Some(why) = skip {
            if tr.on {
                let by = classified_by.unwrap_or("");
                let (zh, en) = match why {
                    Skip::Conditions => (
                        "本次就医不符合本层的适用条件".to_string(),
                        "the claim does not meet this layer's conditions".to_string(),
                    ),
                    Skip::NotPerCase => (
                        "非按病种结算".to_string(),
                        "not a per-case (按病种) claim".to_string(),
                    ),
                    Skip::Classified => (
                        format!("政策范围内费用已由 {by} 结算"),
                        format!("the policy-scope amount was already settled by `{by}`"),
                    ),
                };
                tr.step(
                    Some(lid_arc),
                    StepKind::NotApplicable,
                    format!("{}：{zh}", layer.label),
                    format!("{}: {en}", layer.name_en()),
                    Decimal::ZERO,
                    Some(&layer.cite),
                    &[],
                );
            }
            layers.push(result);
            continue;
        }
        used.clear();
        if ratio_unknown(layer, r, &mut used)? {
            // The rule for unknown figures: a layer whose ratio is unknown is not applied.
            take_used(used_all, &used);
            used.clear();
            warnings.push(Note::Unknown(li, Target::Ratio));
            if tr.on {
                tr.step(
                    Some(lid_arc),
                    StepKind::NotApplicable,
                    format!("{}：支付比例未知（未核实），本层未计算", layer.label),
                    format!(
                        "{}: the payment ratio is unknown (unverified); the layer is not applied",
                        layer.name_en()
                    ),
                    Decimal::ZERO,
                    Some(&layer.cite),
                    &[],
                );
            }
            layers.push(result);
            continue;
        }
        result.applied = true;
        let ytd = state
            .layers
            .get(li)
            .map(|(_, y)| y.clone())
            .unwrap_or_default();

        // The base.
        let base = layer_base(layer, unclassified, &burden, special);
        if tr.on {
            let base_desc = match &layer.base {
                Base::InScope => (
                    "政策范围内费用".to_string(),
                    "the policy-scope amount".to_string(),
                ),
                Base::Remaining(cs) => {
                    let mut names: Vec<&str> = cs.iter().map(|c| c.name()).collect();
                    if layer.plus_special_drugs {
                        names.push("special_drugs");
                    }
                    (
                        "前序各层结算后个人负担的 ".to_string() + &names.join(" + "),
                        "what earlier layers left the patient: ".to_string() + &names.join(" + "),
                    )
                }
            };
            tr.step(
                Some(lid_arc),
                StepKind::Base,
                format!(
                    "{}：计算基数 {} = {}",
                    layer.label,
                    base_desc.0,
                    fmt_money(yuan(base))
                ),
                format!(
                    "{}: base = {} = {}",
                    layer.name_en(),
                    base_desc.1,
                    fmt_money(yuan(base))
                ),
                yuan(base),
                Some(&layer.cite),
                &[],
            );
        }

        if base == 0 {
            // Nothing to pay: no figure of this layer affects the result. The claim still counts
            // (an admission with everything out of scope is an admission).
            deltas.push(Delta::empty(li, layer, ytd.chain.as_ref(), claim.referral));
            layers.push(result);
            continue;
        }
        let ytd_base = year_base(lid, Some(&ytd))?;

        let mods = active_modifiers(layer, r);

        // The deductible (threshold).
        let mut threshold: Fen = 0;
        let mut ded: Fen = 0;
        let mut ded_unknown = false;
        if let Some(d) = &layer.deductible {
            let later = d
                .later
                .as_ref()
                .is_some_and(|(n, ..)| ytd.claims.saturating_add(1) >= *n);
            let dv = deductible_value(d, later, &mods, r, &mut used, trace)?;
            let (t, cite) = (dv.figure, dv.cite);
            ded_unknown = dv.unknown;
            let period = every_period(d, r, &mut used, trace)?;
            let times = deductible_times(d.per, period, claim.stay_days);
            warn_stay_days_missing(li, d.per, period, claim.stay_days, warnings);
            let tf = dv.fen.saturating_mul(Fen::from(times));
            threshold = tf;
            let remaining = deductible_due(d.per, tf, layer, Some(&ytd), claim.referral);
            warn_referral_without_chain(li, layer, d.per, Some(&ytd), claim.referral, warnings);
            // Why, in words: only for the trace.
            let why = || match d.per {
                DeductiblePer::Admission => match (&ytd.chain, layer.referral, claim.referral) {
                    (Some(ch), Referral::Continuous, true) if ch.entered_fund => (
                        "转诊连续计算起付线，前次住院已超过起付线".to_string(),
                        "referral: the chain already passed the deductible".to_string(),
                    ),
                    (Some(ch), Referral::Continuous, true) => (
                        format!("转诊连续计算起付线，已付 {}", ch.deductible_paid),
                        format!("referral: {} already paid in the chain", ch.deductible_paid),
                    ),
                    (Some(ch), Referral::Difference, true) => (
                        format!("转诊按差额计算起付线，转诊链已付 {}", ch.deductible_paid),
                        format!(
                            "referral: the difference to the {} already paid in the chain",
                            ch.deductible_paid
                        ),
                    ),
                    _ => (
                        format!("本年第 {} 次", ytd.claims.saturating_add(1)),
                        format!("claim {} of the year", ytd.claims.saturating_add(1)),
                    ),
                },
                DeductiblePer::Year => (
                    format!("年度累计已付 {}", ytd.deductible_paid),
                    format!("{} already paid this year", ytd.deductible_paid),
                ),
            };
            ded = remaining.min(base);
            take_used(used_all, &used);
            if tr.on {
                if dv.before != t {
                    trace_modifiers(tr, layer, &mods, Target::Deductible, dv.before, r)?;
                }
                let (mut why_zh, mut why_en) = why();
                if let (Some(p), Some(days)) = (period, claim.stay_days) {
                    why_zh.push_str(&format!("；住院 {days} 天，每 {p} 天计一次，计 {times} 次"));
                    why_en.push_str(&format!(
                        "; a stay of {days} days, charged once per {p} days begun: {times} times"
                    ));
                }
                tr.step(
                    Some(lid_arc),
                    StepKind::Deductible,
                    if ded_unknown {
                        format!(
                            "起付标准未知（未核实），按 0 计算（{why_zh}），本次计入起付线 {}",
                            fmt_money(yuan(ded))
                        )
                    } else {
                        format!(
                            "起付标准 {}（{why_zh}），本次计入起付线 {}",
                            fmt_money(t),
                            fmt_money(yuan(ded))
                        )
                    },
                    if ded_unknown {
                        format!(
                            "deductible unknown (unverified), taken as 0 ({why_en}); charged in this claim: {}",
                            fmt_money(yuan(ded))
                        )
                    } else {
                        format!(
                            "deductible {} ({why_en}); charged in this claim: {}",
                            fmt_money(t),
                            fmt_money(yuan(ded))
                        )
                    },
                    yuan(ded),
                    Some(cite),
                    &used,
                );
            }
            used.clear();
        }

        // Bands, or the per-case share.
        let (start, end) = measure_span(layer.measure, ytd_base, &ytd, base, ded);
        let mut segments: SmallVec<[(Fen, Decimal); 4]> = SmallVec::new();
        let mut raw = Decimal::ZERO;
        let mut within: Fen = 0;
        if let (Some(pc), Some(ci)) = (&layer.per_case, r.case) {
            let case = policy.cases.get(ci);
            let mut cx = Ctx {
                r,
                cite: &pc.cite,
                used: &mut used,
                all: trace,
                unknown: false,
            };
            let share = eval(&pc.share, &mut cx, None)?
                .unwrap_or_default()
                .clamp(Decimal::ZERO, Decimal::ONE);
            let standard = match case {
                Some(c) => eval(&c.standard, &mut cx, None)?.unwrap_or_default(),
                None => Decimal::ZERO,
            };
            let patient = chk(share.checked_mul(standard), &pc.cite)?.min(yuan(base - ded));
            raw = yuan(base - ded) - patient;
            within = base - ded;
            take_used(used_all, &used);
            if tr.on {
                tr.step(
                    Some(lid_arc),
                    StepKind::PerCase,
                    format!(
                        "按病种结算：病种标准 {} × 个人负担比例 {} = 个人负担 {}",
                        fmt_money(standard),
                        pct(share),
                        fmt_decimal(patient)
                    ),
                    format!(
                        "per case: standard fee {} × patient share {} = {}",
                        fmt_money(standard),
                        pct(share),
                        fmt_decimal(patient)
                    ),
                    raw,
                    Some(&pc.cite),
                    &used,
                );
            }
            used.clear();
        } else if let Some(bands) = &layer.bands {
            let mut lo: Fen = 0;
            for band in &bands.bands {
                let mut cx = Ctx {
                    r,
                    cite: &band.cite,
                    used: &mut used,
                    all: trace,
                    unknown: false,
                };
                let hi = band_edge(band, &mut cx)?.map(|edge| {
                    if bands.relative {
                        edge + threshold
                    } else {
                        edge
                    }
                });
                let Some(ratio0) = eval(&band.ratio, &mut cx, None)? else {
                    // No ratio for this claim in this band: the band pays nothing.
                    lo = hi.unwrap_or(lo);
                    take_used(used_all, &used);
                    used.clear();
                    continue;
                };
                let ratio = modify(&mods, Target::Ratio, ratio0, &mut cx)?.unwrap_or(ratio0);
                let ratio = if !is_unit_ratio(ratio) {
                    warnings.push(
                        Warning {
                            layer: Some(lid_arc.clone()),
                            ..Warning::new(
                                "ratio_clamped",
                                format!("layer `{lid}`: ratio {} after modifiers is outside 0–100% and was clamped", pct(ratio)),
                            )
                        }
                        .into(),
                    );
                    ratio.clamp(Decimal::ZERO, Decimal::ONE)
                } else {
                    ratio
                };
                let b_lo = lo.max(start);
                let b_hi = match hi {
                    Some(h) => h.min(end),
                    None => end,
                };
                if b_hi > b_lo {
                    if tr.on && ratio != ratio0 {
                        trace_modifiers(tr, layer, &mods, Target::Ratio, ratio0, r)?;
                    }
                    let amount = b_hi - b_lo;
                    let product = chk(yuan(amount).checked_mul(ratio), &band.cite)?;
                    raw += product;
                    within += amount;
                    segments.push((amount, ratio));
                    take_used(used_all, &used);
                    if tr.on {
                        let (range, range_en) = if hi.is_none() && lo == 0 && bands.bands.len() == 1
                        {
                            ("按比例支付".to_string(), "at the ratio".to_string())
                        } else {
                            let r = format!("{}–{}", fmt_money(yuan(b_lo)), fmt_money(yuan(b_hi)));
                            (format!("{r} 段"), format!("band {r}"))
                        };
                        tr.step(
                            Some(lid_arc),
                            StepKind::Band,
                            format!(
                                "{range}：{} × {} = {}",
                                fmt_money(yuan(amount)),
                                pct(ratio),
                                fmt_amount(product)
                            ),
                            format!(
                                "{range_en}: {} × {} = {}",
                                fmt_money(yuan(amount)),
                                pct(ratio),
                                fmt_amount(product)
                            ),
                            yuan(amount),
                            Some(&band.cite),
                            &used,
                        );
                    }
                    if let Some(lines) = &mut rec.bands {
                        lines.push((
                            li,
                            BandLine {
                                from: money(lo),
                                to: hi.map(money),
                                amount: money(amount),
                                ratio,
                                product,
                            },
                        ));
                    }
                }
                used.clear();
                match hi {
                    Some(h) => lo = lo.max(h),
                    None => break,
                }
            }
        }
        let beyond = (end - start) - within;
        if beyond > 0 && layer.per_case.is_none() && tr.on {
            {
                tr.step(
                    Some(lid_arc),
                    StepKind::Uncovered,
                    format!("超出最高分段的 {} 本层不予支付", fmt_money(yuan(beyond))),
                    format!(
                        "{} above the last band is not paid by this layer",
                        fmt_money(yuan(beyond))
                    ),
                    yuan(beyond),
                    Some(&layer.cite),
                    &[],
                );
            }
        }

        // Caps.
        let mut limit: Option<Fen> = None;
        let mut limit_cite: Option<&Cite> = None;
        let mut cap_unknown = false;
        for cap in &layer.caps {
            let mut cx = Ctx {
                r,
                cite: &cap.cite,
                used: &mut used,
                all: trace,
                unknown: false,
            };
            let Some(v) = eval(&cap.value, &mut cx, None)? else {
                cap_unknown |= cx.unknown;
                take_used(used_all, &used);
                used.clear();
                continue;
            };
            let Some(v) = modify(&mods, Target::Cap, v, &mut cx)? else {
                used.clear();
                continue;
            };
            let vf = money_param(non_negative(v), &cap.cite)?;
            let remaining = match &cap.per {
                CapPer::Claim => vf,
                CapPer::Year { pool } => (vf - pool_paid(policy, state, deltas, *pool)).max(0),
                CapPer::Month => (vf - month_paid(Some(&ytd), claim.date)).max(0),
            };
            take_used(used_all, &used);
            if limit.is_none_or(|l| remaining < l) {
                limit = Some(remaining);
                limit_cite = Some(&cap.cite);
                if tr.on {
                    {
                        tr.step(
                            Some(lid_arc),
                            StepKind::Cap,
                            format!(
                                "最高支付限额 {}，本次可支付 {}",
                                fmt_money(v),
                                fmt_money(yuan(remaining))
                            ),
                            format!(
                                "cap {}; available for this claim: {}",
                                fmt_money(v),
                                fmt_money(yuan(remaining))
                            ),
                            yuan(remaining),
                            Some(&cap.cite),
                            &used,
                        );
                    }
                }
            }
            used.clear();
        }

        let uncapped = round_to_fen(raw).ok_or_else(|| EvalError::Overflow(layer.cite.clone()))?;
        let mut result = LayerOut::settled(base, ded, limit, uncapped);
        result.threshold = layer
            .deductible
            .as_ref()
            .filter(|_| !ded_unknown)
            .map(|_| threshold);
        let payment = result.payment;
        fund_total += payment;
        let line = capped_line(layer, &result, segments.iter().copied());
        warn_unknown(li, ded_unknown, cap_unknown, payment, warnings);
        if tr.on {
            tr.step(
                Some(lid_arc),
                StepKind::Payment,
                if result.capped {
                    format!(
                        "{}支付 {}（按比例应付 {}，受最高支付限额限制）",
                        layer.label,
                        fmt_money(yuan(payment)),
                        fmt_money(yuan(uncapped))
                    )
                } else {
                    format!(
                        "{}支付 {}（{} 四舍五入到分）",
                        layer.label,
                        fmt_money(yuan(payment)),
                        fmt_amount(raw)
                    )
                },
                if result.capped {
                    format!(
                        "{} pays {} ({} by ratio, limited by the cap)",
                        layer.name_en(),
                        fmt_money(yuan(payment)),
                        fmt_money(yuan(uncapped))
                    )
                } else {
                    format!(
                        "{} pays {} ({} rounded to the cent)",
                        layer.name_en(),
                        fmt_money(yuan(payment)),
                        fmt_amount(raw)
                    )
                },
                yuan(payment),
                Some(limit_cite.filter(|_| result.capped).unwrap_or(&layer.cite)),
                &[],
            );
        }

        if let (Some(line), true) = (line, tr.on) {
            let above = within - line;
            tr.step(
                Some(lid_arc),
                StepKind::Cap,
                format!(
                    "封顶线：费用累计到 {} 时本层支付达到限额；其上 {} 为超封顶费用",
                    fmt_money(yuan(start + line)),
                    fmt_money(yuan(above))
                ),
                format!(
                    "cap line: this layer's payment reaches its cap at {} of cost; the {} above it is above the cap",
                    fmt_money(yuan(start + line)),
                    fmt_money(yuan(above))
                ),
                yuan(above),
                limit_cite,
                &[],
            );
        }

        // Who bears what is left.
        let paid = Paid::of(&result, within, beyond, uncapped, line);
        if paid.classify(layer, &mut burden, &mut special) {
            unclassified = 0;
            classified_by = Some(lid);
            act_pay_dedc += ded;
        }
        // The year so far (applied once the whole claim is settled).
        deltas.push(Delta::after(
            li,
            layer,
            ytd.chain.as_ref(),
            claim.referral,
            base,
            &paid,
        ));
        layers.push(result);
    }
    burden[Component::NotCovered.index()] += unclassified;

    let oop_total: Fen = burden.iter().sum();
    if tr.on {
        tr.step(
            None,
            StepKind::OutOfPocket,
            format!(
                "基金合计支付 {}，个人负担 {}",
                fmt_money(yuan(fund_total)),
                fmt_money(yuan(oop_total))
            ),
            format!(
                "funds pay {} in all; the patient pays {}",
                fmt_money(yuan(fund_total)),
                fmt_money(yuan(oop_total))
            ),
            yuan(oop_total),
            None,
            &[],
        );
    }
    for i in used_list {
        if is_flagged(policy, i) {
            out.flagged.insert(i);
        }
    }
    out.burden = burden;
    out.in_scope = in_scope;
    out.fund_total = fund_total;
    out.act_pay_dedc = act_pay_dedc;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::round_cents;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn is_unit_ratio_is_a_comparison(lo in any::<u32>(), mid in 0u32..3, neg: bool, scale in 0u32..=28) {
            let r = Decimal::from_parts(lo, mid, 0, neg, scale);
            prop_assert_eq!(is_unit_ratio(r), r >= Decimal::ZERO && r <= Decimal::ONE);
            prop_assert_eq!(non_negative(r), r.max(Decimal::ZERO));
        }

        /// The integer rounding used on the hot path is rust_decimal's half-away-from-zero
        /// rounding to the cent, for every mantissa and scale a payment can have.
        #[test]
        fn round_to_fen_is_round_cents(lo in any::<u32>(), mid in any::<u32>(), hi in 0u32..1000, neg: bool, scale in 0u32..=28) {
            let d = Decimal::from_parts(lo, mid, hi, neg, scale);
            let want = to_fen(round_cents(d));
            prop_assert_eq!(round_to_fen(d), want);
        }

        #[test]
        fn round_to_fen_at_midpoints(f in -10_000_000_000i64..10_000_000_000, extra in 1u32..17) {
            // f fen and a half, at `extra` more decimals than the cent.
            let m = i128::from(f) * 10i128.pow(extra) + 5 * 10i128.pow(extra - 1) * i128::from(f.signum().max(1));
            let d = Decimal::from_i128_with_scale(m, 2 + extra);
            prop_assert_eq!(round_to_fen(d), to_fen(round_cents(d)));
        }
    }
}
