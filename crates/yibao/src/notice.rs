//! What an answer says about how far its rules can be trusted on the claim's date: rules known
//! only up to a date before the claim (`rules_stale`), rules whose stated validity ended before it
//! (`rules_expired`), and known deviations from the national rules that touch the claim
//! (`known_deviation`). Each is a [`Notice`] with structured data, in Chinese and English, and
//! also a warning of the settlement it concerns, so every surface that shows warnings shows it.

use std::borrow::Cow;
use std::sync::OnceLock;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use yibao_compliance::KnownDeviation;
use yibao_engine::ir::{Provenance, Validity, ValidityKind};
use yibao_engine::settlement::Warning;
use yibao_engine::{Date, Policy, Settlement};
use yibao_policies::Registry;

/// One notice about a settled claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notice {
    /// The claim's index in the request.
    pub claim: usize,
    /// `rules_stale`, `rules_expired` or `known_deviation` (one of [`NOTICE_CODES`]).
    pub code: &'static str,
    /// `region.scheme`.
    pub policy: String,
    /// The version the claim was settled under (its effective date).
    pub version: Date,
    /// The date the figures are known to hold up to (`rules_stale`, `rules_expired`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Date>,
    /// What that date is: `valid_until` (the document's own end) or `confirmed` (last confirmed
    /// by a source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_kind: Option<ValidityKind>,
    /// How sure that date is, and its source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_provenance: Option<Provenance>,
    /// The source of that date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_source: Option<String>,
    /// Days from `until` to the claim's date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_beyond: Option<i64>,
    /// The layers it concerns (empty: the whole version).
    pub layers: Vec<String>,
    /// The national rule a known deviation is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The notice in Chinese.
    pub zh: String,
    /// The notice in English.
    pub en: String,
}

/// The codes a notice may carry.
pub const NOTICE_CODES: [&str; 3] = ["rules_stale", "rules_expired", "known_deviation"];

/// The JSON of a [`Notice`] as read (`code` checked against [`NOTICE_CODES`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeJson {
    /// The claim's index in the request.
    pub claim: usize,
    /// `rules_stale`, `rules_expired` or `known_deviation` (one of [`NOTICE_CODES`]).
    pub code: String,
    /// `region.scheme`.
    pub policy: String,
    /// The version the claim was settled under (its effective date).
    pub version: Date,
    /// The date the figures are known to hold up to (`rules_stale`, `rules_expired`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Date>,
    /// What that date is: `valid_until` (the document's own end) or `confirmed` (last confirmed
    /// by a source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_kind: Option<ValidityKind>,
    /// How sure that date is, and its source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_provenance: Option<Provenance>,
    /// The source of that date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_source: Option<String>,
    /// Days from `until` to the claim's date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_beyond: Option<i64>,
    /// The layers it concerns (empty: the whole version).
    pub layers: Vec<String>,
    /// The national rule a known deviation is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The notice in Chinese.
    pub zh: String,
    /// The notice in English.
    pub en: String,
}

/// Reads the JSON a [`Notice`] writes.
impl<'de> Deserialize<'de> for Notice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Notice::try_from(NoticeJson::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<NoticeJson> for Notice {
    type Error = String;
    fn try_from(n: NoticeJson) -> Result<Notice, String> {
        let code = NOTICE_CODES
            .iter()
            .find(|k| **k == n.code)
            .copied()
            .ok_or_else(|| format!("unknown notice code `{}`", n.code))?;
        Ok(Notice {
            claim: n.claim,
            code,
            policy: n.policy,
            version: n.version,
            until: n.until,
            until_kind: n.until_kind,
            until_provenance: n.until_provenance,
            until_source: n.until_source,
            days_beyond: n.days_beyond,
            layers: n.layers,
            rule: n.rule,
            zh: n.zh,
            en: n.en,
        })
    }
}

impl Notice {
    fn warning(&self) -> Warning {
        Warning::new(self.code, Cow::Owned(format!("{} / {}", self.zh, self.en)))
    }
}

/// Whether the layer would have applied but its ratio is unknown (the rule for unknown figures
/// leaves it unapplied): a validity or deviation about it still concerns the claim.
fn unknown_ratio(s: &Settlement, layer: &str) -> bool {
    s.warnings
        .iter()
        .any(|w| w.code == "unknown_ratio" && w.layer.as_deref() == Some(layer))
}

fn deviations() -> &'static [KnownDeviation] {
    static KNOWN: OnceLock<Vec<KnownDeviation>> = OnceLock::new();
    KNOWN.get_or_init(yibao_compliance::known_deviations)
}

/// Days since 0000-03-01 (civil calendar), for differences of dates.
fn day_number(d: Date) -> i64 {
    let (y, m, day) = (
        i64::from(d.year()),
        i64::from(d.month()),
        i64::from(d.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe
}

/// Days from `a` to `b` (positive when `b` is later).
pub fn days_between(a: Date, b: Date) -> i64 {
    day_number(b) - day_number(a)
}

/// Whether `policy` is the newest version of its policy in `reg`.
fn is_newest(reg: &Registry, policy: &Policy) -> bool {
    !reg.versions()
        .iter()
        .any(|v| *v.id == *policy.id && v.effective > policy.effective)
}

/// The notices for one settled claim, also added to the settlement's warnings.
pub fn annotate(reg: &Registry, policy: &Policy, index: usize, s: &mut Settlement) -> Vec<Notice> {
    let mut out = vec![];
    let date = s.date;
    let newest = is_newest(reg, policy);
    let name = &*policy.name;
    let name_en = policy.name_en.as_deref().unwrap_or(&*policy.id);
    let labels = |ids: &[std::sync::Arc<str>]| -> (String, String) {
        let zh: Vec<&str> = ids
            .iter()
            .filter_map(|id| s.layers.iter().find(|l| l.id == *id))
            .map(|l| &*l.label)
            .collect();
        let en: Vec<&str> = ids
            .iter()
            .filter_map(|id| s.layers.iter().find(|l| l.id == *id))
            .map(|l| l.label_en.as_deref().unwrap_or(&*l.id))
            .collect();
        (zh.join("、"), en.join(", "))
    };
    let touched = |v: &Validity| -> Vec<std::sync::Arc<str>> {
        v.layers
            .iter()
            .filter(|id| {
                s.layers.iter().any(|l| *l.id == ***id && l.applied) || unknown_ratio(s, id)
            })
            .cloned()
            .collect()
    };
    for v in &policy.validity {
        if date <= v.until {
            continue;
        }
        // A confirmation date only matters for the newest version: an older one is followed by
        // the next version, whose date bounds it.
        if v.kind == ValidityKind::Confirmed && !newest {
            continue;
        }
        let layers = if v.layers.is_empty() {
            vec![]
        } else {
            let t = touched(v);
            if t.is_empty() {
                continue;
            }
            t
        };
        let days = days_between(v.until, date);
        let version = policy.effective;
        let until = v.until;
        let (code, zh, en) = match (v.kind, layers.is_empty()) {
            (ValidityKind::Confirmed, true) => (
                "rules_stale",
                format!("{name}：本工具已知的最新规定为 {version} 版（数字最后核实于 {until}，早于本次就医 {days} 天）；此后的调整未收录，结果可能与实际不符"),
                format!("{name_en}: the newest rules known here are from {version} (figures last confirmed {until}, {days} days before this claim); later changes are not included, so the result may differ from what is actually paid"),
            ),
            (ValidityKind::Confirmed, false) => {
                let (lz, le) = labels(&layers);
                (
                    "rules_stale",
                    format!("{name}：{lz}的数字最后核实于 {until}（早于本次就医 {days} 天）；此后的调整未收录，结果可能与实际不符"),
                    format!("{name_en}: the figures of {le} were last confirmed {until}, {days} days before this claim; later changes are not included, so the result may differ from what is actually paid"),
                )
            }
            (ValidityKind::ValidUntil, true) => (
                "rules_expired",
                format!("{name}：{version} 版规定的有效期至 {until}，本次就医晚于该日期 {days} 天；后续规定未收录，结果可能与实际不符"),
                format!("{name_en}: the {version} rules were valid until {until}, {days} days before this claim; the rules that followed are not included, so the result may differ from what is actually paid"),
            ),
            (ValidityKind::ValidUntil, false) => {
                let (lz, le) = labels(&layers);
                (
                    "rules_expired",
                    format!("{name}：{lz}的规定有效期至 {until}，本次就医晚于该日期 {days} 天；后续规定未收录，本结果仍按已到期的数字计算，可能与实际不符"),
                    format!("{name_en}: the rules of {le} were valid until {until}, {days} days before this claim; their successor is not included, so the result uses the expired figures and may differ from what is actually paid"),
                )
            }
        };
        out.push(Notice {
            claim: index,
            code,
            policy: policy.id.to_string(),
            version,
            until: Some(until),
            until_kind: Some(v.kind),
            until_provenance: Some(v.provenance.provenance),
            until_source: v.provenance.source.clone(),
            days_beyond: Some(days),
            layers: layers.iter().map(|l| l.to_string()).collect(),
            rule: None,
            zh,
            en,
        });
    }
    let key = format!("{}@{}", policy.id, policy.effective);
    for k in deviations().iter().filter(|k| k.policy == key) {
        if !k.categories.is_empty()
            && !s
                .situation
                .categories
                .iter()
                .any(|c| k.categories.iter().any(|x| **x == **c))
        {
            continue;
        }
        let layers: Vec<String> = if k.layers.is_empty() {
            vec![]
        } else {
            let t: Vec<String> = k
                .layers
                .iter()
                // Touched: the layer applied and worked on something of this claim, or it would
                // have but its ratio is unknown (the rule for unknown figures leaves it unapplied).
                .filter(|id| {
                    s.layers
                        .iter()
                        .any(|l| *l.id == ***id && l.applied && l.base.get() > Decimal::ZERO)
                        || unknown_ratio(s, id)
                })
                .cloned()
                .collect();
            if t.is_empty() {
                continue;
            }
            t
        };
        let zh = k.reason_zh.as_deref().unwrap_or(&k.reason);
        out.push(Notice {
            claim: index,
            code: "known_deviation",
            policy: policy.id.to_string(),
            version: policy.effective,
            until: None,
            until_kind: None,
            until_provenance: None,
            until_source: None,
            days_beyond: None,
            layers,
            rule: Some(k.rule.clone()),
            zh: format!("{name}：已知与国家规则（{}）的偏差：{zh}", k.rule),
            en: format!(
                "{name_en}: a known deviation from the national rule {}: {}",
                k.rule, k.reason
            ),
        });
    }
    for n in &out {
        s.warnings.push(n.warning());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap_or(Date::MIN)
    }

    #[test]
    fn days_between_counts_leap_days() {
        assert_eq!(days_between(d("2024-06-30"), d("2025-06-30")), 365);
        assert_eq!(days_between(d("2023-06-30"), d("2024-06-30")), 366);
        assert_eq!(days_between(d("2010-05-01"), d("2010-05-01")), 0);
        assert_eq!(days_between(d("2025-01-01"), d("2024-12-31")), -1);
        assert_eq!(days_between(d("2000-02-28"), d("2000-03-01")), 2);
        assert_eq!(days_between(d("1900-02-28"), d("1900-03-01")), 1);
    }
}
