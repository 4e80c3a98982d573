use std::collections::BTreeMap;
use std::path::PathBuf;

use comfy_table::{presets, Table};
use yibao::engine::{CareCosts, CareMonth};
use yibao::{Claim, Date, EstimateRequest, Money, Settlement, YtdState};

use crate::Exit;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  yibao estimate --policy tianjin.resident --date 2024-05-01 --care inpatient --level 3 --total 30000 --out-of-list 2000\n  yibao estimate claims.yaml --json\n  yibao estimate --policy guangzhou.ltc --date 2024-09-30 --care home_b --level 2 --group employee --visits 12 --hours 28 --personal-care 1000 --nursing 400\n  yibao estimate examples/care-month.yaml\n\nA month of long-term care (长期护理保险) is estimated under a care policy (`<region>.ltc`): give\nits facts (--days, --visits, --hours, --age, …) and its costs by kind (--personal-care, --nursing,\n--supplies, --equipment, --assessment, --family-care); the total is their sum.\n\nA file holds one claim, a list of claims (one person's year, in date order), or a full request\n{policy, claims, state, overrides}; YAML or JSON. Money is written as \"1234.50\" or 1234."
)]
pub struct Args {
    /// A YAML or JSON file with the claim(s); without it the claim is built from the flags.
    file: Option<PathBuf>,
    /// The policy, `region.scheme` (e.g. `tianjin.resident`).
    #[arg(long)]
    policy: Option<String>,
    /// Settlement date (picks the version in force), YYYY-MM-DD.
    #[arg(long)]
    date: Option<Date>,
    /// Care type: inpatient, outpatient_special, general_outpatient, …
    #[arg(long, default_value = "inpatient")]
    care: String,
    /// Hospital level: 1, 2 or 3.
    #[arg(long)]
    level: Option<String>,
    /// Member group (in_service, retired, …).
    #[arg(long)]
    group: Option<String>,
    /// Special category (destitute, min_allowance, …); repeat for several.
    #[arg(long = "category")]
    categories: Vec<String>,
    /// local, offsite_registered or offsite_unregistered.
    #[arg(long)]
    place: Option<String>,
    /// Referred from the previous admission.
    #[arg(long)]
    referral: bool,
    /// Length of the stay in days (住院天数): a deductible that repeats every N days of a stay
    /// is charged once per N days begun.
    #[arg(long, value_parser = yibao::engine::claim::parse_stay_days)]
    stay_days: Option<u32>,
    /// Total bill (医疗费总额).
    #[arg(long)]
    total: Option<Money>,
    /// Items outside the catalogue (全自费).
    #[arg(long, default_value = "0")]
    out_of_list: Money,
    /// The 乙类 first share (先行自付).
    #[arg(long, default_value = "0")]
    pre_self_pay: Money,
    /// Above the payment standard (超限价自付).
    #[arg(long, default_value = "0")]
    over_limit: Money,
    /// The part of --out-of-list on the provincial 大病 special-drug, consumables and services
    /// lists (Zhejiang): a 大病 base `plus special_drugs` counts it.
    #[arg(long, default_value = "0")]
    special_drugs: Money,
    /// Long-term care: days of care in the month.
    #[arg(long, help_heading = "Long-term care month")]
    days: Option<u32>,
    /// Long-term care: days of the month in hospital or emergency observation.
    #[arg(long, help_heading = "Long-term care month")]
    hospital_days: Option<u32>,
    /// Long-term care: home-care visits in the month.
    #[arg(long, help_heading = "Long-term care month")]
    visits: Option<u32>,
    /// Long-term care: hours of home care in the month.
    #[arg(long, help_heading = "Long-term care month")]
    hours: Option<Money>,
    /// Long-term care: the person's age.
    #[arg(long, help_heading = "Long-term care month")]
    age: Option<u32>,
    /// Long-term care: months of this setting already used in the validity period.
    #[arg(long, help_heading = "Long-term care month")]
    months_used: Option<u32>,
    /// Long-term care cost: 生活照料 (personal care).
    #[arg(long, help_heading = "Long-term care month")]
    personal_care: Option<Money>,
    /// Long-term care cost: 医疗护理 (nursing), without its consumables.
    #[arg(long, help_heading = "Long-term care month")]
    nursing: Option<Money>,
    /// Long-term care cost: 耗材 (nursing supplies).
    #[arg(long, help_heading = "Long-term care month")]
    supplies: Option<Money>,
    /// Long-term care cost: 设备使用 (equipment).
    #[arg(long, help_heading = "Long-term care month")]
    equipment: Option<Money>,
    /// Long-term care cost: 评估费 (the disability assessment).
    #[arg(long, help_heading = "Long-term care month")]
    assessment: Option<Money>,
    /// Long-term care cost: 亲情照护 (what a family carer is paid).
    #[arg(long, help_heading = "Long-term care month")]
    family_care: Option<Money>,
    /// Replace a policy figure: `--set basic.deductible=800`, `--set basic.ratio=85%`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    overrides: Vec<String>,
    /// The year so far (JSON or YAML state from an earlier estimate).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Extra policy files or folders, loaded over the bundled ones (a draft, test fixtures).
    #[arg(long = "policies", value_name = "PATH")]
    policies: Vec<PathBuf>,
    /// Print the canonical JSON answer.
    #[arg(long)]
    json: bool,
    /// Leave out the step-by-step explanation.
    #[arg(long)]
    brief: bool,
}

fn build(a: &Args) -> Result<EstimateRequest, String> {
    let mut req = match &a.file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            yibao::parse_request_yaml(&text).map_err(|e| format!("{}: {e}", f.display()))?
        }
        None => {
            let month = care_month(a);
            let care_total = month.as_ref().map(|m| {
                Money(
                    m.costs
                        .by_kind()
                        .iter()
                        .fold(rust_decimal::Decimal::ZERO, |s, c| s + c.0),
                )
            });
            let (Some(date), Some(total)) = (a.date, a.total.or(care_total)) else {
                return Err(
                    "give a claim file, or at least --date and --total (and --policy)".into(),
                );
            };
            let mut c = Claim::simple(date, &a.care, total);
            c.level = a.level.clone();
            c.group = a.group.clone();
            c.categories = a.categories.clone();
            c.place = a.place.clone();
            c.referral = a.referral;
            c.stay_days = a.stay_days;
            c.amounts.out_of_list = a.out_of_list;
            c.amounts.pre_self_pay = a.pre_self_pay;
            c.amounts.over_limit = a.over_limit;
            c.amounts.special_drugs = a.special_drugs;
            c.month = month;
            EstimateRequest {
                claim: Some(c),
                trace: true,
                ..EstimateRequest::default()
            }
        }
    };
    if a.policy.is_some() {
        req.policy = a.policy.clone();
    }
    for o in &a.overrides {
        let Some((k, v)) = super::split_override(o) else {
            return Err(format!("--set takes PATH=VALUE, found `{o}`"));
        };
        req.overrides
            .insert(k.trim().to_string(), v.trim().to_string());
    }
    if let Some(s) = &a.state {
        let text =
            std::fs::read_to_string(s).map_err(|e| format!("cannot read {}: {e}", s.display()))?;
        let st: YtdState =
            serde_norway::from_str(&text).map_err(|e| format!("{}: {e}", s.display()))?;
        req.state = Some(st);
    }
    if a.brief {
        req.trace = false;
    }
    Ok(req)
}

/// The month of long-term care the flags describe, if any of them is given.
fn care_month(a: &Args) -> Option<CareMonth> {
    let costs = CareCosts {
        personal_care: a.personal_care.unwrap_or(Money::ZERO),
        nursing: a.nursing.unwrap_or(Money::ZERO),
        supplies: a.supplies.unwrap_or(Money::ZERO),
        equipment: a.equipment.unwrap_or(Money::ZERO),
        assessment: a.assessment.unwrap_or(Money::ZERO),
        family_care: a.family_care.unwrap_or(Money::ZERO),
    };
    let any_cost = [
        a.personal_care,
        a.nursing,
        a.supplies,
        a.equipment,
        a.assessment,
        a.family_care,
    ]
    .iter()
    .any(Option::is_some);
    let any_fact = a.days.is_some()
        || a.hospital_days.is_some()
        || a.visits.is_some()
        || a.hours.is_some()
        || a.age.is_some()
        || a.months_used.is_some();
    (any_cost || any_fact).then(|| CareMonth {
        days: a.days,
        hospital_days: a.hospital_days.unwrap_or(0),
        visits: a.visits,
        hours: a.hours,
        age: a.age,
        months_used: a.months_used.unwrap_or(0),
        costs,
    })
}

pub fn run(a: Args) -> Exit {
    let req = match build(&a) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    let reg = match super::registry(&a.policies) {
        Ok(r) => r,
        Err(exit) => return exit,
    };
    match yibao::estimate(&reg, &req) {
        Err(e) => {
            if a.json {
                outln!("{}", serde_json::to_string(&e).unwrap_or_default());
            } else {
                eprintln!("error: {e}");
                if !e.allowed.is_empty() {
                    eprintln!("  allowed: {}", e.allowed.join(", "));
                }
            }
            Exit::Findings
        }
        Ok(ans) => {
            if a.json {
                outln!("{}", yibao::to_json(&ans).unwrap_or_default());
            } else {
                for s in &ans.settlements {
                    print_settlement(s, !a.brief);
                }
            }
            Exit::Ok
        }
    }
}

fn print_settlement(s: &Settlement, steps: bool) {
    outln!(
        "{} {} — {} (version {}, {})",
        s.claim_id.as_deref().unwrap_or("claim"),
        s.date,
        s.policy.name,
        s.policy.version,
        s.policy.id
    );
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(["layer 层", "base 基数", "deductible 起付", "payment 支付"]);
    for l in &s.layers {
        let name = format!("{} {}", l.label, l.label_en.as_deref().unwrap_or(""));
        if l.applied {
            t.add_row([
                name,
                l.base.to_string(),
                l.deductible.to_string(),
                l.payment.to_string(),
            ]);
        } else {
            t.add_row([name, "—".into(), "—".into(), "not applicable 不适用".into()]);
        }
    }
    t.add_row([
        "funds in all 基金合计".to_string(),
        String::new(),
        String::new(),
        s.fund_total.to_string(),
    ]);
    outln!("{t}");
    let o = &s.out_of_pocket;
    let mut split = Table::new();
    split.load_preset(presets::UTF8_FULL_CONDENSED);
    split.set_header(["you pay 个人负担", "amount"]);
    let rows: BTreeMap<u8, (&str, Money)> = [
        (0, ("全自费 out of list", o.out_of_list)),
        (1, ("先行自付 pre-self-pay", o.pre_self_pay)),
        (2, ("超限价 over limit", o.over_limit)),
        (3, ("起付线 deductible", o.deductible)),
        (4, ("按比例自付 co-pay", o.co_pay)),
        (5, ("超封顶 above cap", o.above_cap)),
        (6, ("不予支付 not covered", o.not_covered)),
    ]
    .into_iter()
    .collect();
    for (_, (k, v)) in rows {
        if v != Money::ZERO {
            split.add_row([k.to_string(), v.to_string()]);
        }
    }
    split.add_row(["total 合计".to_string(), o.total.to_string()]);
    outln!("{split}");
    if steps {
        outln!("how it was computed 计算过程:");
        for (i, st) in s.trace.iter().enumerate() {
            outln!("  {:>2}. {}", i + 1, st.zh);
            outln!("      {}", st.en);
            if let Some(c) = &st.cite {
                if !c.file.is_empty() {
                    outln!("      ↳ {}:{}:{}  {}", c.file, c.line, c.column, c.text);
                }
            }
            for p in &st.params {
                outln!(
                    "      · {} = {} [{}{}]",
                    p.path(),
                    p.0.text,
                    p.provenance().name(),
                    p.0.source
                        .as_ref()
                        .map(|s| format!(" {s}"))
                        .unwrap_or_default()
                );
            }
        }
    }
    // The unverified figures are listed below in words; other warnings as the engine says them.
    for w in s.warnings.iter().filter(|w| w.code != "unverified") {
        outln!("⚠ {} ({})", w.message, w.code);
    }
    if !s.unverified.is_empty() {
        outln!(
            "⚠ 未核实 {n} figure(s) this estimate used are not yet verified against an official text:\n  \
             the insurance office may settle differently. Each is listed with what was assumed;\n  \
             if your notice gives the figure, rerun with --set PATH=VALUE (e.g. --set {p}=800).",
            n = s.unverified.len(),
            p = s.unverified[0].path()
        );
        for p in &s.unverified {
            outln!(
                "    {} = {}: {}",
                p.path(),
                p.0.text,
                assumed(p.path(), &p.0.text)
            );
            if let Some(note) = &p.0.note {
                outln!("      ({note})");
            }
        }
    }
    outln!();
}

/// What an estimate assumed for an unverified figure, in words.
fn assumed(path: &str, text: &str) -> &'static str {
    let is = |k: &str| path.split('.').any(|s| s == k || s.starts_with(k));
    match text {
        "none" if is("deductible") => {
            "no official figure found; counted as 0, so the estimate may be too generous"
        }
        "none" if is("cap") => {
            "no official figure found; no cap applied, so the estimate may be too generous"
        }
        "none" if is("ratio") => {
            "no official figure found; this layer is not applied, so the estimate may be too low"
        }
        "none" => "no official figure found; counted as absent",
        _ => "a reference figure used as it stands, not checked against an official text",
    }
}
