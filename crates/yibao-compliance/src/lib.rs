//! National compliance checks: the numeric rules of the national benefit list
//! (../shared/docs/national-rules.md) as checks over a compiled policy.
//!
//! Each rule is a row of [`RULES`]: an id, the document and article it rests on, how sure we are
//! of it, and a small function. The functions do not read the IR's expressions: they *probe* the
//! policy through the one evaluator — settle a large inpatient (or outpatient) bill for a given
//! member group, category, level and place, and read the deductible, the ratios and the cap each
//! layer applied, with the clause each came from. So a rule sees exactly what a claim would see,
//! tables, modifiers and `extends` included.
//!
//! Severity follows the rule's confidence: a hard rule reported by a reliable secondary source is
//! a **violation**; a rule known only from background knowledge, or a soft one ("原则上", "逐步"),
//! is a **warning** to verify; a rule that cannot be checked (a placeholder figure, a missing
//! indicator) is **info**.

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use yibao_engine::ir::{Cite, LayerKind, Policy, Value};
use yibao_engine::settlement::{LayerResult, StepKind};
use yibao_engine::{settle, Claim, Date, Money, SettleOptions, Settlement, YtdState};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Violation,
    Warning,
    Info,
}

/// How sure we are of the rule itself (national-rules.md's confidence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Official,
    Secondary,
    Background,
}

/// One finding: which rule, how bad, where in the policy, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule's id.
    pub rule: &'static str,
    /// How bad.
    pub severity: Severity,
    /// How sure the rule's reading of the national text is.
    pub confidence: Confidence,
    /// The finding in Chinese.
    pub message_zh: String,
    /// The finding in English.
    pub message_en: String,
    /// The clause concerned.
    pub file: String,
    /// The clause's line (1-based).
    pub line: u32,
    /// The clause's column (1-based).
    pub column: u32,
    /// The clause's text.
    pub clause: String,
    /// The national document (and article) the rule rests on.
    pub document: &'static str,
    /// The value found and the bound it was held against, when there is one.
    pub found: Option<String>,
    /// The bound it was held against.
    pub bound: Option<String>,
}

/// A rule: data plus a small function.
pub struct Rule {
    /// A stable id (`deductible_max`).
    pub id: &'static str,
    /// When the rule took effect (year, month, day): it binds a version in force at any time since.
    pub since: (i32, u8, u8),
    /// How sure its reading of the national text is.
    pub confidence: Confidence,
    /// The national document (and article) it rests on.
    pub document: &'static str,
    /// What it checks, in Chinese.
    pub summary_zh: &'static str,
    /// What it checks, in English.
    pub summary_en: &'static str,
    check: fn(&Ctx, &Rule) -> Vec<Finding>,
}

/// A published statistical indicator for a city and year (e.g. per-capita disposable income).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// The city (`tianjin`).
    pub region: String,
    /// The year it is for.
    pub year: i32,
    /// Its name ([`INCOME_RESIDENT`], [`AVERAGE_WAGE`]).
    pub name: String,
    /// `None` when not known (a placeholder).
    pub value: Option<Decimal>,
    /// How sure it is.
    pub provenance: String,
    /// Where it comes from.
    pub source: String,
}

/// Indicators by city and year.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Indicators(pub Vec<Indicator>);

/// The indicator names the rules use.
pub const INCOME_RESIDENT: &str = "per_capita_disposable_income_resident";
/// The average employee wage indicator's name.
pub const AVERAGE_WAGE: &str = "average_wage_employee";

impl Indicators {
    /// Parses the YAML list format of `policies/indicators.yaml` (feature `yaml`).
    #[cfg(feature = "yaml")]
    pub fn from_yaml(text: &str) -> Result<Indicators, String> {
        let list: Option<Vec<Indicator>> =
            serde_norway::from_str(text).map_err(|e| format!("indicators: {e}"))?;
        Ok(Indicators(list.unwrap_or_default()))
    }

    /// The bundled indicators (`policies/indicators.yaml`, turned into JSON by the build script).
    pub fn bundled() -> Indicators {
        let text = include_str!(concat!(env!("OUT_DIR"), "/indicators.json"));
        let list: Option<Vec<Indicator>> = serde_json::from_str(text).unwrap_or_default();
        Indicators(list.unwrap_or_default())
    }

    fn get(&self, region: &str, year: i32, name: &str) -> Option<&Indicator> {
        self.0
            .iter()
            .find(|i| i.region == region && i.year == year && i.name == name)
    }
}

/// What a rule function sees.
pub struct Ctx<'a> {
    /// The policy checked.
    pub policy: &'a Policy,
    /// The indicators the rules may need.
    pub indicators: &'a Indicators,
}

/// A claim situation to probe the policy with.
#[derive(Debug, Clone, Default)]
struct Situation<'s> {
    care: &'s str,
    group: Option<&'s str>,
    category: Option<&'s str>,
    level: Option<&'s str>,
    place: Option<&'s str>,
}

/// A bill large enough to pass every deductible and reach every band.
const PROBE_TOTAL: i64 = 2_000_000;

impl Ctx<'_> {
    fn has(&self, values: &[yibao_engine::ir::DimValue], id: &str) -> bool {
        values.iter().any(|v| &*v.id == id)
    }

    fn top_level(&self) -> Option<&str> {
        self.policy.dims.levels.last().map(|l| &*l.id)
    }

    fn first_level(&self) -> Option<&str> {
        self.policy.dims.levels.first().map(|l| &*l.id)
    }

    fn middle_level(&self) -> Option<&str> {
        let l = &self.policy.dims.levels;
        l.get(l.len() / 2).map(|v| &*v.id)
    }

    /// Settles a large bill for `s`; `None` when the policy has no such care type.
    fn probe(&self, s: &Situation) -> Option<Settlement> {
        let d = &self.policy.dims;
        if !self.has(&d.care, s.care) {
            return None;
        }
        let mut c = Claim::simple(
            self.policy.effective,
            s.care,
            Money::new(Decimal::from(PROBE_TOTAL)),
        );
        c.group = s.group.map(str::to_string);
        c.categories = s.category.map(|x| vec![x.to_string()]).unwrap_or_default();
        c.level = s.level.map(str::to_string);
        c.place = s.place.map(str::to_string);
        settle(
            self.policy,
            &c,
            &YtdState::default(),
            &SettleOptions { trace: true },
        )
        .ok()
        .map(|(s, _)| s)
    }
}

/// The first layer of `kind` that applied, with its index.
fn layer(s: &Settlement, kind: LayerKind) -> Option<(usize, &LayerResult)> {
    s.layers
        .iter()
        .enumerate()
        .find(|(_, l)| l.kind == kind && l.applied)
}

/// The lowest band's ratio a layer applied, if any band paid.
fn lowest_ratio(l: &LayerResult) -> Option<Decimal> {
    l.bands.first().map(|b| b.ratio)
}

/// The clause of a layer's step of `kind` (its deductible, first band, cap), else the layer's.
fn cite_of(ctx: &Ctx, s: &Settlement, li: usize, kind: StepKind) -> Cite {
    let layer = ctx.policy.layers.get(li);
    let id = layer.map(|l| &*l.id);
    s.trace
        .iter()
        .find(|st| st.kind == kind && st.layer.as_deref() == id)
        .and_then(|st| st.cite.clone())
        .or_else(|| layer.map(|l| l.cite.clone()))
        .unwrap_or(Cite {
            file: String::new(),
            line: 0,
            column: 0,
            text: String::new(),
        })
}

fn pct(r: Decimal) -> String {
    format!("{}%", (r * Decimal::ONE_HUNDRED).normalize())
}

fn severity(rule: &Rule) -> Severity {
    match rule.confidence {
        Confidence::Official | Confidence::Secondary => Severity::Violation,
        Confidence::Background => Severity::Warning,
    }
}

#[allow(clippy::too_many_arguments)]
fn finding(
    rule: &Rule,
    sev: Severity,
    cite: Cite,
    zh: String,
    en: String,
    found: Option<String>,
    bound: Option<String>,
) -> Finding {
    Finding {
        rule: rule.id,
        severity: sev,
        confidence: rule.confidence,
        message_zh: zh,
        message_en: en,
        file: cite.file,
        line: cite.line,
        column: cite.column,
        clause: cite.text,
        document: rule.document,
        found,
        bound,
    }
}

/// The categories the national tilt covers: 特困, 低保, 返贫致贫.
const TILT: [&str; 3] = ["destitute", "min_allowance", "poverty_risk"];

fn inpatient<'s>(ctx: &'s Ctx, category: Option<&'s str>) -> Situation<'s> {
    Situation {
        care: "inpatient",
        level: ctx.top_level(),
        category,
        ..Situation::default()
    }
}

// ---------------------------------------------------------------------------------------------
// The rules.

fn no_new_scheme(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    ctx.policy
        .layers
        .iter()
        .filter(|l| l.kind == LayerKind::Commercial)
        .map(|l| {
            finding(
                rule,
                Severity::Warning,
                l.cite.clone(),
                format!("「{}」不属于基本医保、补充医保或医疗救助：只能是商业保险，不得由医保基金支付", l.label),
                format!("`{}` is none of basic insurance, supplementary insurance or medical aid: it may only be commercial insurance, not paid by the fund — verify", l.id),
                Some("commercial".into()),
                Some("basic | serious_illness | supplementary | medical_aid".into()),
            )
        })
        .collect()
}

fn list_structure(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    let mut out = vec![];
    for l in ctx
        .policy
        .layers
        .iter()
        // Long-term care layers (`care`) are outside the medical benefit list: their limits are
        // counted-cost limits and fund caps of the care rules, not 起付/比例/限额.
        .filter(|l| l.kind == LayerKind::Basic && l.per_case.is_none() && l.care.is_none())
    {
        let mut missing = vec![];
        if l.deductible.is_none() {
            missing.push(("起付标准", "deductible"));
        }
        if l.bands.is_none() {
            missing.push(("支付比例", "ratio"));
        }
        if l.caps.is_empty() {
            missing.push(("最高支付限额", "cap"));
        }
        if !missing.is_empty() {
            let zh: Vec<&str> = missing.iter().map(|m| m.0).collect();
            let en: Vec<&str> = missing.iter().map(|m| m.1).collect();
            out.push(finding(
                rule,
                Severity::Warning,
                l.cite.clone(),
                format!(
                    "「{}」未声明{}（不设的应明确写 none）",
                    l.label,
                    zh.join("、")
                ),
                format!(
                    "`{}` declares no {} (write `none` where there is none)",
                    l.id,
                    en.join(", ")
                ),
                None,
                None,
            ));
        }
    }
    out
}

/// A finding when the lowest band a layer of `kind` applied to the probe `s` is below `floor`.
/// `what` names the ratio: (Chinese, English).
fn ratio_below(
    ctx: &Ctx,
    rule: &Rule,
    s: Option<Settlement>,
    kind: LayerKind,
    floor: Decimal,
    what: (&str, &str),
    bound: String,
) -> Vec<Finding> {
    let Some(s) = s else { return vec![] };
    match layer(&s, kind).and_then(|(li, l)| lowest_ratio(l).map(|r| (li, r))) {
        Some((li, r)) if r < floor => vec![finding(
            rule,
            severity(rule),
            cite_of(ctx, &s, li, StepKind::Band),
            format!("{} {} 低于 {}", what.0, pct(r), pct(floor)),
            format!("{} {} is below {}", what.1, pct(r), pct(floor)),
            Some(pct(r)),
            Some(bound),
        )],
        _ => vec![],
    }
}

fn si_ratio(ctx: &Ctx, rule: &Rule, floor: Decimal) -> Vec<Finding> {
    ratio_below(
        ctx,
        rule,
        ctx.probe(&inpatient(ctx, None)),
        LayerKind::SeriousIllness,
        floor,
        (
            "大病保险最低一段支付比例",
            "the serious-illness layer's lowest band ratio",
        ),
        format!("≥ {}", pct(floor)),
    )
}

fn si_ratio_50(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    si_ratio(ctx, rule, Decimal::new(50, 2))
}

fn si_ratio_60(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    si_ratio(ctx, rule, Decimal::new(60, 2))
}

/// For each tilted category the policy declares: the general and the tilted 大病 result.
fn tilt_pairs(ctx: &Ctx) -> Vec<(&'static str, Settlement, Settlement)> {
    let Some(general) = ctx.probe(&inpatient(ctx, None)) else {
        return vec![];
    };
    TILT.iter()
        .filter(|c| ctx.has(&ctx.policy.dims.categories, c))
        .filter_map(|c| {
            ctx.probe(&inpatient(ctx, Some(c)))
                .map(|t| (*c, general.clone(), t))
        })
        .collect()
}

fn si_tilt_threshold(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    let mut out = vec![];
    for (cat, g, t) in tilt_pairs(ctx) {
        let (Some((_, gl)), Some((li, tl))) = (
            layer(&g, LayerKind::SeriousIllness),
            layer(&t, LayerKind::SeriousIllness),
        ) else {
            continue;
        };
        let (gd, td) = (gl.deductible.get(), tl.deductible.get());
        if gd.is_zero() {
            continue;
        }
        let bound = (gd * Decimal::new(5, 1)).round_dp(2);
        if td > bound {
            out.push(finding(
                rule,
                severity(rule),
                cite_of(ctx, &t, li, StepKind::Deductible),
                format!("{cat}：大病保险起付标准 {td} 未降低 50%（一般 {gd}，应 ≤ {bound}）"),
                format!("{cat}: the serious-illness deductible {td} is not halved (general {gd}; at most {bound})"),
                Some(td.to_string()),
                Some(format!("≤ {bound}")),
            ));
        }
    }
    out
}

fn si_tilt_ratio(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    let mut out = vec![];
    let five = Decimal::new(5, 2);
    for (cat, g, t) in tilt_pairs(ctx) {
        let (Some((_, gl)), Some((li, tl))) = (
            layer(&g, LayerKind::SeriousIllness),
            layer(&t, LayerKind::SeriousIllness),
        ) else {
            continue;
        };
        // Compare band by band where both applied the same band.
        let short = gl.bands.iter().find_map(|gb| {
            tl.bands
                .iter()
                .find(|tb| tb.from == gb.from)
                .filter(|tb| tb.ratio < gb.ratio + five && tb.ratio < Decimal::ONE)
                .map(|tb| (gb.ratio, tb.ratio))
        });
        if let Some((gr, tr)) = short {
            out.push(finding(
                rule,
                severity(rule),
                cite_of(ctx, &t, li, StepKind::Band),
                format!(
                    "{cat}：大病保险支付比例 {} 未提高 5 个百分点（一般 {}）",
                    pct(tr),
                    pct(gr)
                ),
                format!(
                    "{cat}: the serious-illness ratio {} is not 5 points above the general {}",
                    pct(tr),
                    pct(gr)
                ),
                Some(pct(tr)),
                Some(format!("≥ {}", pct(gr + five))),
            ));
        }
    }
    out
}

fn si_tilt_cap(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    let mut out = vec![];
    for (cat, _, t) in tilt_pairs(ctx) {
        let Some((li, tl)) = layer(&t, LayerKind::SeriousIllness) else {
            continue;
        };
        if let Some(cap) = tl.cap_remaining {
            out.push(finding(
                rule,
                Severity::Warning,
                cite_of(ctx, &t, li, StepKind::Cap),
                format!("{cat}：大病保险仍设封顶线 {cap}（应逐步取消）"),
                format!("{cat}: the serious-illness layer still caps at {cap} (to be removed progressively)"),
                Some(cap.to_string()),
                Some("no cap".into()),
            ));
        }
    }
    out
}

fn ma_limit(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    let mut out = vec![];
    for l in ctx
        .policy
        .layers
        .iter()
        .filter(|l| l.kind == LayerKind::MedicalAid)
    {
        if l.caps.is_empty() {
            out.push(finding(
                rule,
                severity(rule),
                l.cite.clone(),
                format!("「{}」未设年度救助限额", l.label),
                format!("`{}` sets no annual assistance limit", l.id),
                Some("no cap".into()),
                Some("an annual limit".into()),
            ));
        } else if l.caps.iter().all(|c| matches!(c.value, Value::None { .. })) {
            out.push(finding(
                rule,
                Severity::Info,
                l.cite.clone(),
                format!("「{}」的年度救助限额未知（占位），未能检查", l.label),
                format!(
                    "`{}`: the annual assistance limit is not known (placeholder); not checked",
                    l.id
                ),
                None,
                None,
            ));
        }
    }
    out
}

/// The medical-aid ratio a category gets on an inpatient bill.
fn ma_ratio(ctx: &Ctx, cat: &str) -> Option<(Decimal, Settlement, usize)> {
    if !ctx.has(&ctx.policy.dims.categories, cat) {
        return None;
    }
    let s = ctx.probe(&inpatient(ctx, Some(cat)))?;
    let (li, l) = layer(&s, LayerKind::MedicalAid)?;
    let r = lowest_ratio(l)?;
    Some((r, s, li))
}

fn ma_ratio_core(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    let floor = Decimal::new(70, 2);
    ["destitute", "min_allowance"]
        .iter()
        .filter_map(|cat| {
            let (r, s, li) = ma_ratio(ctx, cat)?;
            (r < floor).then(|| {
                finding(
                    rule,
                    severity(rule),
                    cite_of(ctx, &s, li, StepKind::Band),
                    format!("{cat}：医疗救助比例 {} 低于 70%", pct(r)),
                    format!("{cat}: medical aid pays {}, below 70%", pct(r)),
                    Some(pct(r)),
                    Some("≥ 70%".into()),
                )
            })
        })
        .collect()
}

fn ma_ratio_lowinc(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    match (ma_ratio(ctx, "low_income"), ma_ratio(ctx, "min_allowance")) {
        (Some((low, s, li)), Some((min, _, _))) if low > min => vec![finding(
            rule,
            severity(rule),
            cite_of(ctx, &s, li, StepKind::Band),
            format!("低收入人口救助比例 {} 高于低保对象 {}", pct(low), pct(min)),
            format!(
                "low-income aid ratio {} is above the 低保 ratio {}",
                pct(low),
                pct(min)
            ),
            Some(pct(low)),
            Some(format!("≤ {}", pct(min))),
        )],
        _ => vec![],
    }
}

fn outpatient<'s>(ctx: &'s Ctx, group: Option<&'s str>) -> Situation<'s> {
    Situation {
        care: "general_outpatient",
        group,
        level: ctx.first_level(),
        ..Situation::default()
    }
}

fn opc_ratio(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    if ctx.policy.scheme != "employee" {
        return vec![];
    }
    let group = ctx
        .has(&ctx.policy.dims.groups, "in_service")
        .then_some("in_service");
    let floor = Decimal::new(50, 2);
    ratio_below(
        ctx,
        rule,
        ctx.probe(&outpatient(ctx, group)),
        LayerKind::Basic,
        floor,
        (
            "职工门诊共济统筹支付比例",
            "the employee general-outpatient ratio",
        ),
        "≥ 50%".into(),
    )
}

fn opc_retiree(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    let g = &ctx.policy.dims.groups;
    if !(ctx.has(g, "in_service") && ctx.has(g, "retired")) {
        return vec![];
    }
    let (Some(a), Some(b)) = (
        ctx.probe(&outpatient(ctx, Some("in_service"))),
        ctx.probe(&outpatient(ctx, Some("retired"))),
    ) else {
        return vec![];
    };
    let (Some((_, al)), Some((li, bl))) =
        (layer(&a, LayerKind::Basic), layer(&b, LayerKind::Basic))
    else {
        return vec![];
    };
    let mut out = vec![];
    if let (Some(ra), Some(rb)) = (lowest_ratio(al), lowest_ratio(bl)) {
        if rb < ra {
            out.push(finding(
                rule,
                severity(rule),
                cite_of(ctx, &b, li, StepKind::Band),
                format!("退休人员门诊支付比例 {} 低于在职 {}", pct(rb), pct(ra)),
                format!(
                    "retirees' outpatient ratio {} is below in-service {}",
                    pct(rb),
                    pct(ra)
                ),
                Some(pct(rb)),
                Some(format!("≥ {}", pct(ra))),
            ));
        }
    }
    if let (Some(ca), Some(cb)) = (al.cap_remaining, bl.cap_remaining) {
        if cb < ca {
            out.push(finding(
                rule,
                severity(rule),
                cite_of(ctx, &b, li, StepKind::Cap),
                format!("退休人员门诊年度限额 {cb} 低于在职 {ca}"),
                format!("retirees' outpatient cap {cb} is below in-service {ca}"),
                Some(cb.to_string()),
                Some(format!("≥ {ca}")),
            ));
        }
    }
    out
}

fn res_inpt_ratio(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    if ctx.policy.scheme != "resident" {
        return vec![];
    }
    let s = ctx.probe(&Situation {
        care: "inpatient",
        level: ctx.middle_level(),
        ..Situation::default()
    });
    ratio_below(
        ctx,
        rule,
        s,
        LayerKind::Basic,
        Decimal::new(65, 2),
        (
            "居民住院统筹支付比例（目标 70% 左右）",
            "the resident inpatient ratio (target about 70%)",
        ),
        "≈ 70% (65%–80%)".into(),
    )
}

fn offsite_reduction(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    let places = &ctx.policy.dims.places;
    let Some(local) = places.first().map(|p| &*p.id) else {
        return vec![];
    };
    let ratio_at = |place: &str| {
        let s = ctx.probe(&Situation {
            care: "inpatient",
            level: ctx.top_level(),
            place: Some(place),
            ..Situation::default()
        })?;
        let (li, l) = layer(&s, LayerKind::Basic)?;
        let r = lowest_ratio(l)?;
        Some((r, s, li))
    };
    let Some((base, _, _)) = ratio_at(local) else {
        return vec![];
    };
    let mut out = vec![];
    for (pi, p) in places.iter().enumerate().skip(1) {
        let Some((r, s, li)) = ratio_at(&p.id) else {
            continue;
        };
        // The clause that makes the difference: a modifier for this place, else the band.
        let modifier = ctx.policy.layers.get(li).and_then(|l| {
            l.modifiers
                .iter()
                .find(|m| m.selector.places.iter().any(|x| usize::from(*x) == pi))
                .map(|m| m.cite.clone())
        });
        let cite = modifier.unwrap_or_else(|| cite_of(ctx, &s, li, StepKind::Band));
        let cut = base - r;
        let registered = p.id.contains("registered") && !p.id.contains("unregistered");
        let limit = if registered {
            Decimal::ZERO
        } else {
            Decimal::new(20, 2)
        };
        if cut > limit {
            out.push(finding(
                rule,
                severity(rule),
                cite,
                format!("{}：异地就医支付比例 {} 比本地 {} 降低 {}，超过允许的 {}", p.id, pct(r), pct(base), pct(cut), pct(limit)),
                format!("{}: the out-of-area ratio {} is {} below the local {}, more than the {} allowed", p.id, pct(r), pct(cut), pct(base), pct(limit)),
                Some(pct(cut)),
                Some(format!("≤ {}", pct(limit))),
            ));
        }
    }
    out
}

/// A rule that compares a figure with a multiple of an indicator.
#[allow(clippy::too_many_arguments)]
fn indicator_rule(
    ctx: &Ctx,
    rule: &Rule,
    name: &str,
    figure: Option<(Decimal, Cite)>,
    factor: Decimal,
    at_most: bool,
    what_zh: &str,
    what_en: &str,
) -> Vec<Finding> {
    let Some((value, cite)) = figure else {
        return vec![];
    };
    let year = ctx.policy.effective.year() - 1;
    let region = &ctx.policy.region;
    let Some(ind) = ctx
        .indicators
        .get(region, year, name)
        .and_then(|i| i.value.map(|v| (i, v)))
    else {
        return vec![finding(
            rule,
            Severity::Info,
            cite,
            format!("未能检查：缺少 {region} {year} 年指标 {name}（见 policies/indicators.yaml）"),
            format!("not checked: no {name} for {region} {year} (see policies/indicators.yaml)"),
            Some(value.to_string()),
            None,
        )];
    };
    let bound = (ind.1 * factor).round_dp(2);
    let bad = if at_most {
        value > bound
    } else {
        value < bound
    };
    if !bad {
        return vec![];
    }
    let rel = if at_most { "≤" } else { "≥" };
    vec![finding(
        rule,
        severity(rule),
        cite,
        format!(
            "{what_zh} {value} 不满足 {rel} {bound}（{name} {year} = {}，{}）",
            ind.1, ind.0.source
        ),
        format!(
            "{what_en} {value} is not {rel} {bound} ({name} {year} = {}, {})",
            ind.1, ind.0.source
        ),
        Some(value.to_string()),
        Some(format!("{rel} {bound}")),
    )]
}

fn si_threshold(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    let figure = ctx.probe(&inpatient(ctx, None)).and_then(|s| {
        let (li, l) = layer(&s, LayerKind::SeriousIllness)?;
        Some((
            l.deductible.get(),
            cite_of(ctx, &s, li, StepKind::Deductible),
        ))
    });
    indicator_rule(
        ctx,
        rule,
        INCOME_RESIDENT,
        figure.filter(|(v, _)| !v.is_zero()),
        Decimal::new(5, 1),
        true,
        "大病保险起付标准",
        "the serious-illness deductible",
    )
}

fn deduct_10pct(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    if ctx.policy.scheme != "employee" {
        return vec![];
    }
    let group = ctx
        .has(&ctx.policy.dims.groups, "in_service")
        .then_some("in_service");
    let figure = ctx
        .probe(&Situation {
            care: "inpatient",
            level: ctx.top_level(),
            group,
            ..Situation::default()
        })
        .and_then(|s| {
            let (li, l) = layer(&s, LayerKind::Basic)?;
            Some((
                l.deductible.get(),
                cite_of(ctx, &s, li, StepKind::Deductible),
            ))
        });
    indicator_rule(
        ctx,
        rule,
        AVERAGE_WAGE,
        figure.filter(|(v, _)| !v.is_zero()),
        Decimal::new(12, 2),
        true,
        "职工住院起付标准",
        "the employee inpatient deductible",
    )
}

fn cap_6x(ctx: &Ctx, rule: &Rule) -> Vec<Finding> {
    let name = if ctx.policy.scheme == "employee" {
        AVERAGE_WAGE
    } else {
        INCOME_RESIDENT
    };
    let figure = ctx.probe(&inpatient(ctx, None)).and_then(|s| {
        let (li, l) = layer(&s, LayerKind::Basic)?;
        let cap = l.cap_remaining?;
        Some((cap.get(), cite_of(ctx, &s, li, StepKind::Cap)))
    });
    indicator_rule(
        ctx,
        rule,
        name,
        figure,
        Decimal::new(48, 1),
        false,
        "统筹基金年度最高支付限额",
        "the basic fund's annual cap",
    )
}

/// Every rule, in one place. Add a rule by adding a row and its function.
pub static RULES: &[Rule] = &[
    Rule {
        id: "NAT-SYS-NO-NEW-SCHEME",
        since: (2021, 1, 28),
        confidence: Confidence::Secondary,
        document: "医保发〔2021〕5号 《关于建立医疗保障待遇清单制度的意见》",
        summary_zh: "基本制度框架之外不得新设制度",
        summary_en: "No scheme outside basic insurance, supplementary insurance and medical aid",
        check: no_new_scheme,
    },
    Rule {
        id: "NAT-LIST-STRUCTURE",
        since: (2021, 1, 28),
        confidence: Confidence::Secondary,
        document: "医保发〔2021〕5号 《国家医疗保障待遇清单(2020年版)》 待遇支付政策",
        summary_zh: "待遇以起付标准、支付比例、最高支付限额表达",
        summary_en: "Benefits are a deductible, a ratio and a cap",
        check: list_structure,
    },
    Rule {
        id: "NAT-SI-RATIO-50",
        since: (2015, 7, 28),
        confidence: Confidence::Secondary,
        document: "国办发〔2015〕57号 《关于全面实施城乡居民大病保险的意见》",
        summary_zh: "大病保险支付比例应达到 50% 以上",
        summary_en: "Serious-illness insurance pays more than 50%",
        check: si_ratio_50,
    },
    Rule {
        id: "NAT-SI-RATIO-60",
        since: (2019, 4, 26),
        confidence: Confidence::Background,
        document: "医保发〔2019〕30号 《关于做好2019年城乡居民基本医疗保障工作的通知》",
        summary_zh: "大病保险政策范围内支付比例提高到 60%",
        summary_en: "Serious-illness ratio raised to 60%",
        check: si_ratio_60,
    },
    Rule {
        id: "NAT-SI-THRESHOLD",
        since: (2019, 4, 26),
        confidence: Confidence::Background,
        document: "医保发〔2019〕30号; 国办发〔2021〕42号",
        summary_zh: "大病保险起付标准原则上不高于上年居民人均可支配收入的 50%",
        summary_en: "Serious-illness deductible at most 50% of prior-year per-capita disposable income",
        check: si_threshold,
    },
    Rule {
        id: "NAT-SI-TILT-THRESHOLD",
        since: (2021, 4, 15),
        confidence: Confidence::Background,
        document: "医保发〔2021〕10号; 国办发〔2021〕42号",
        summary_zh: "特困、低保、返贫致贫人口大病保险起付标准降低 50%",
        summary_en: "Serious-illness deductible halved for 特困, 低保, 返贫致贫",
        check: si_tilt_threshold,
    },
    Rule {
        id: "NAT-SI-TILT-RATIO",
        since: (2021, 4, 15),
        confidence: Confidence::Background,
        document: "医保发〔2021〕10号; 国办发〔2021〕42号",
        summary_zh: "特困、低保、返贫致贫人口大病保险支付比例提高 5 个百分点",
        summary_en: "Serious-illness ratio 5 points higher for 特困, 低保, 返贫致贫",
        check: si_tilt_ratio,
    },
    Rule {
        id: "NAT-SI-TILT-CAP",
        since: (2021, 4, 15),
        confidence: Confidence::Background,
        document: "医保发〔2021〕10号; 国办发〔2021〕42号",
        summary_zh: "特困、低保、返贫致贫人口逐步取消大病保险封顶线",
        summary_en: "Serious-illness cap progressively removed for 特困, 低保, 返贫致贫",
        check: si_tilt_cap,
    },
    Rule {
        id: "NAT-MA-LIMIT",
        since: (2021, 10, 28),
        confidence: Confidence::Secondary,
        document: "国办发〔2021〕42号 《关于健全重特大疾病医疗保险和救助制度的意见》",
        summary_zh: "统筹地区合理设定年度救助限额",
        summary_en: "Medical aid has an annual assistance limit",
        check: ma_limit,
    },
    Rule {
        id: "NAT-MA-RATIO-CORE",
        since: (2021, 10, 28),
        confidence: Confidence::Background,
        document: "国办发〔2021〕42号",
        summary_zh: "特困人员、低保对象救助比例不低于 70%",
        summary_en: "Medical aid pays at least 70% for 特困 and 低保",
        check: ma_ratio_core,
    },
    Rule {
        id: "NAT-MA-RATIO-LOWINC",
        since: (2021, 10, 28),
        confidence: Confidence::Background,
        document: "国办发〔2021〕42号",
        summary_zh: "低收入人口救助比例略低于低保对象",
        summary_en: "Low-income aid ratio below the 低保 ratio",
        check: ma_ratio_lowinc,
    },
    Rule {
        id: "NAT-OPC-RATIO",
        since: (2021, 4, 22),
        confidence: Confidence::Secondary,
        document: "国办发〔2021〕14号 《关于建立健全职工基本医疗保险门诊共济保障机制的指导意见》",
        summary_zh: "职工门诊统筹支付比例从 50% 起步",
        summary_en: "Employee general-outpatient ratio starts at 50%",
        check: opc_ratio,
    },
    Rule {
        id: "NAT-OPC-RETIREE",
        since: (2021, 4, 22),
        confidence: Confidence::Secondary,
        document: "国办发〔2021〕14号",
        summary_zh: "门诊待遇向退休人员倾斜",
        summary_en: "Outpatient benefits tilt toward retirees",
        check: opc_retiree,
    },
    Rule {
        id: "NAT-RES-INPT-RATIO",
        since: (2019, 4, 26),
        confidence: Confidence::Background,
        document: "《关于做好…年城乡居民基本医疗保障工作的通知》 (2019–2024)",
        summary_zh: "居民住院政策范围内支付比例保持在 70% 左右",
        summary_en: "Resident inpatient ratio kept around 70%",
        check: res_inpt_ratio,
    },
    Rule {
        id: "NAT-OFFSITE-REDUCTION",
        since: (2022, 7, 23),
        confidence: Confidence::Background,
        document: "医保发〔2022〕22号 《关于进一步做好基本医疗保险跨省异地就医直接结算工作的通知》",
        summary_zh: "临时外出就医支付比例降幅原则上不超过 10 个百分点（未备案 20）；长期异地居住不降低",
        summary_en: "Out-of-area ratio cut at most 10 points (20 unregistered); none for registered residents",
        check: offsite_reduction,
    },
    Rule {
        id: "NAT-DEDUCT-10PCT",
        since: (1998, 12, 14),
        confidence: Confidence::Background,
        document: "国发〔1998〕44号 《关于建立城镇职工基本医疗保险制度的决定》",
        summary_zh: "职工起付标准原则上控制在当地职工年平均工资的 10% 左右",
        summary_en: "Employee deductible about 10% of the average wage",
        check: deduct_10pct,
    },
    Rule {
        id: "NAT-CAP-6X",
        since: (2009, 3, 17),
        confidence: Confidence::Background,
        document: "中发〔2009〕6号 and its implementation plan",
        summary_zh: "统筹基金最高支付限额约为当地职工年平均工资（居民人均可支配收入）的 6 倍",
        summary_en: "Basic fund cap about 6× the average wage (or per-capita disposable income)",
        check: cap_6x,
    },
];

impl Rule {
    /// Whether the rule binds a version in force until `until` (exclusive; `None`: still in force).
    pub fn applies(&self, until: Option<Date>) -> bool {
        let (y, m, d) = self.since;
        match (until, Date::new(y, m, d)) {
            (Some(u), Some(since)) => u > since,
            _ => true,
        }
    }
}

/// Runs every rule that binds `policy` — in force from its effective date until `until` (the
/// next version's date; `None` for the version in force, or a draft); findings sorted by
/// severity, then rule order. A rule's date is its document's issue date (background).
pub fn check(policy: &Policy, until: Option<Date>, indicators: &Indicators) -> Vec<Finding> {
    let ctx = Ctx { policy, indicators };
    let mut out: Vec<Finding> = RULES
        .iter()
        .filter(|r| r.applies(until))
        .flat_map(|r| (r.check)(&ctx, r))
        .collect();
    out.sort_by_key(|f| f.severity);
    out
}

/// Runs one rule (for tests), with the same applicability as [`check`].
pub fn check_rule(
    policy: &Policy,
    until: Option<Date>,
    indicators: &Indicators,
    id: &str,
) -> Option<Vec<Finding>> {
    let ctx = Ctx { policy, indicators };
    RULES.iter().find(|r| r.id == id).map(|r| {
        if r.applies(until) {
            (r.check)(&ctx, r)
        } else {
            vec![]
        }
    })
}

/// A finding on a bundled policy that is known and explained (`policies/known-deviations.yaml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownDeviation {
    /// `region.scheme@YYYY-MM-DD`.
    pub policy: String,
    /// The rule (`Finding::rule`).
    pub rule: String,
    /// Why it is accepted.
    pub reason: String,
    /// The reason in Chinese, for what citizens see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_zh: Option<String>,
    /// The layers the deviation is about: a claim one of them applies to reports it in its
    /// result. Empty: every claim under the version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<String>,
    /// When given, only a claim with one of these special categories is concerned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
}

/// The bundled list of known deviations (`policies/known-deviations.yaml`, turned into JSON by
/// the build script so that reading it needs no YAML parser).
pub fn known_deviations() -> Vec<KnownDeviation> {
    let text = include_str!(concat!(env!("OUT_DIR"), "/known-deviations.json"));
    serde_json::from_str::<Option<Vec<KnownDeviation>>>(text)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Whether `f` on `policy` is a known deviation; the reason if so.
pub fn known<'k>(known: &'k [KnownDeviation], policy: &Policy, f: &Finding) -> Option<&'k str> {
    let key = format!("{}@{}", policy.id, policy.effective);
    known
        .iter()
        .find(|k| k.policy == key && k.rule == f.rule)
        .map(|k| k.reason.as_str())
}

/// The policy's id and version, as known deviations name it.
pub fn policy_key(policy: &Arc<Policy>) -> String {
    format!("{}@{}", policy.id, policy.effective)
}
