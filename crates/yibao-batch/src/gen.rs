//! Synthetic claims for benchmarks and demos: `yibao gen --persons N --seed S`.
//!
//! The mix is plausible, not calibrated: each person belongs to one bundled policy (city and
//! scheme) and member group, a few carry a special category, and has 1–12 claims over a year —
//! mostly general outpatient visits, some chronic-disease (门特) visits, about one admission in
//! eight — with amounts drawn from wide ranges per care type and parts of the bill outside the
//! catalogue. The same seed gives the same bytes on every machine (ChaCha8). Amounts are whole
//! cents drawn as integers; nothing here is a policy figure.

use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yibao::{Date, Policy, Registry};

use crate::Format;

/// Generation settings.
#[derive(Debug, Clone)]
pub struct GenOptions {
    pub persons: u64,
    pub seed: u64,
    pub year: i32,
    /// Restrict to one policy (`region.scheme`); by default every bundled city and scheme.
    pub policy: Option<String>,
}

/// Ranges of a total bill in yuan, per care type, with weights (low, high, weight).
fn bill_ranges(care: &str) -> &'static [(u64, u64, u32)] {
    match care {
        "inpatient" => &[
            (1_500, 8_000, 40),
            (8_000, 30_000, 40),
            (30_000, 150_000, 17),
            (150_000, 600_000, 3),
        ],
        "emergency_observation" => &[(500, 3_000, 70), (3_000, 20_000, 30)],
        "outpatient_special" => &[(200, 2_000, 60), (2_000, 20_000, 35), (20_000, 80_000, 5)],
        _ => &[(20, 300, 70), (300, 1_500, 25), (1_500, 6_000, 5)],
    }
}

fn weighted<'a, T>(rng: &mut ChaCha8Rng, items: &'a [(T, u32)]) -> Option<&'a T> {
    let total: u32 = items.iter().map(|(_, w)| *w).sum();
    if total == 0 {
        return None;
    }
    let mut x = rng.random_range(0..total);
    for (item, w) in items {
        if x < *w {
            return Some(item);
        }
        x -= w;
    }
    None
}

/// Yuan and fen as text, from a count of fen.
fn yuan(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

struct Target {
    region: String,
    scheme: String,
    policy: std::sync::Arc<Policy>,
}

/// Writes `opts.persons` persons' claims to `out` (CSV with a header, or JSON Lines), grouped by
/// person and in date order. Returns the number of claims written.
pub fn generate(
    reg: &Registry,
    opts: &GenOptions,
    format: Format,
    out: &mut dyn Write,
) -> Result<u64, crate::BatchError> {
    let mid = Date::new(opts.year, 7, 1)
        .ok_or_else(|| crate::BatchError::Request(format!("year {} is out of range", opts.year)))?;
    let mut targets = Vec::new();
    for id in reg.policy_ids() {
        if id.starts_with("fixture.") || opts.policy.as_ref().is_some_and(|p| *p != id) {
            continue;
        }
        // A policy in force all year: the version on 1 July.
        if let Ok(p) = reg.policy(&id, mid) {
            let (region, scheme) = id.split_once('.').unwrap_or((&id, ""));
            targets.push(Target {
                region: region.to_string(),
                scheme: scheme.to_string(),
                policy: p,
            });
        }
    }
    if targets.is_empty() {
        return Err(crate::BatchError::Request(match &opts.policy {
            Some(p) => format!(
                "no policy `{p}` in force on {mid}; the policies are: {}",
                reg.policy_ids().join(", ")
            ),
            None => "no bundled policy is in force in that year".into(),
        }));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    if format == Format::Csv {
        writeln!(
            out,
            "id,person,region,scheme,date,group,categories,care,level,place,referral,total,out_of_list,pre_self_pay,over_limit"
        )?;
    }
    let mut claims = 0u64;
    let mut buf = String::with_capacity(256);
    for person in 0..opts.persons {
        let t = &targets[rng.random_range(0..targets.len())];
        let d = &t.policy.dims;
        let pick = |rng: &mut ChaCha8Rng, v: &[yibao::engine::ir::DimValue]| -> Option<String> {
            (!v.is_empty()).then(|| v[rng.random_range(0..v.len())].id.to_string())
        };
        let group = pick(&mut rng, &d.groups);
        // About one person in twelve has a special category (救助对象 and the like).
        let category = if rng.random_range(0..12) == 0 {
            pick(&mut rng, &d.categories)
        } else {
            None
        };
        let n = 1 + rng.random_range(0..12u32);
        // Dates as (month, day); days 1–28 exist in every month.
        let mut days: Vec<(u8, u8)> = (0..n)
            .map(|_| (rng.random_range(1..=12u8), rng.random_range(1..=28u8)))
            .collect();
        days.sort_unstable();
        let care_weights: Vec<(String, u32)> = d
            .care
            .iter()
            .map(|c| {
                let w = match &*c.id {
                    "inpatient" => 12,
                    "general_outpatient" => 60,
                    "outpatient_special" => 20,
                    _ => 8,
                };
                (c.id.to_string(), w)
            })
            .collect();
        let mut previous_inpatient = false;
        for (k, (month, day)) in days.iter().enumerate() {
            let date = Date::new(opts.year, *month, *day).unwrap_or(mid);
            let care = weighted(&mut rng, &care_weights)
                .cloned()
                .unwrap_or_else(|| "inpatient".into());
            let level = if d.levels.is_empty() {
                None
            } else {
                // Most visits at community (1) and secondary (2) hospitals, admissions at 2 and 3.
                let n = d.levels.len();
                let i = if care == "inpatient" {
                    n.saturating_sub(1 + rng.random_range(0..2usize.min(n)))
                } else {
                    rng.random_range(0..n)
                };
                d.levels.get(i).map(|v| v.id.to_string())
            };
            let place = if d.places.len() > 1 && rng.random_range(0..20) == 0 {
                d.places
                    .get(1 + rng.random_range(0..d.places.len() - 1))
                    .map(|v| v.id.to_string())
            } else {
                d.places.first().map(|v| v.id.to_string())
            };
            let referral =
                care == "inpatient" && previous_inpatient && rng.random_range(0..10) == 0;
            previous_inpatient = care == "inpatient";
            let ranges: Vec<((u64, u64), u32)> = bill_ranges(&care)
                .iter()
                .map(|(lo, hi, w)| ((*lo, *hi), *w))
                .collect();
            let (lo, hi) = weighted(&mut rng, &ranges).copied().unwrap_or((100, 1_000));
            let total = rng.random_range(lo * 100..hi * 100);
            // Parts of the bill: 0–15% out of the catalogue, 0–8% 先行自付, sometimes over-limit.
            let out_of_list = total * rng.random_range(0..16u64) / 100;
            let pre_self_pay = total * rng.random_range(0..9u64) / 100;
            let over_limit = if rng.random_range(0..10) == 0 {
                total * rng.random_range(0..4u64) / 100
            } else {
                0
            };
            buf.clear();
            let id = format!("c{person:08}-{k:02}");
            let pid = format!("p{person:08}");
            match format {
                Format::Csv => {
                    use std::fmt::Write as _;
                    let _ = writeln!(
                        buf,
                        "{id},{pid},{},{},{date},{},{},{care},{},{},{},{},{},{},{}",
                        t.region,
                        t.scheme,
                        group.as_deref().unwrap_or(""),
                        category.as_deref().unwrap_or(""),
                        level.as_deref().unwrap_or(""),
                        place.as_deref().unwrap_or(""),
                        referral,
                        yuan(total),
                        yuan(out_of_list),
                        yuan(pre_self_pay),
                        yuan(over_limit),
                    );
                }
                Format::Jsonl => {
                    let mut v = serde_json::json!({
                        "id": id, "person": pid, "region": t.region, "scheme": t.scheme,
                        "date": date.to_string(), "care": care,
                        "amounts": {
                            "total": yuan(total), "out_of_list": yuan(out_of_list),
                            "pre_self_pay": yuan(pre_self_pay), "over_limit": yuan(over_limit),
                        },
                    });
                    if let Some(m) = v.as_object_mut() {
                        if let Some(g) = &group {
                            m.insert("group".into(), g.clone().into());
                        }
                        if let Some(c) = &category {
                            m.insert("categories".into(), vec![c.clone()].into());
                        }
                        if let Some(l) = &level {
                            m.insert("level".into(), l.clone().into());
                        }
                        if let Some(p) = &place {
                            m.insert("place".into(), p.clone().into());
                        }
                        if referral {
                            m.insert("referral".into(), true.into());
                        }
                    }
                    buf.push_str(&v.to_string());
                    buf.push('\n');
                }
            }
            out.write_all(buf.as_bytes())?;
            claims += 1;
        }
    }
    out.flush()?;
    Ok(claims)
}
