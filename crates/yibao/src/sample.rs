//! A seeded sample of synthetic claims: for `yibao gen`, benchmarks, and the default claim set of
//! `yibao diff` (and the playground's impact table).
//!
//! The mix is plausible, not calibrated: each person belongs to one bundled policy (city and
//! scheme) and member group, a few carry a special category, and has 1–12 claims over a year —
//! mostly general outpatient visits, some chronic-disease (门特) visits, about one admission in
//! eight — with amounts drawn from wide ranges per care type and parts of the bill outside the
//! catalogue. The same seed gives the same claims on every machine and target (ChaCha8).
//! Amounts are whole cents drawn as integers; nothing here is a policy figure.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use yibao_engine::{Amounts, Claim, Date, Money, Policy};
use yibao_policies::Registry;

/// Sample settings.
#[derive(Debug, Clone)]
pub struct SampleOptions {
    /// How many persons.
    pub persons: u64,
    /// The seed: the same seed gives the same claims.
    pub seed: u64,
    /// The year the claims fall in.
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

fn fen(f: u64) -> Money {
    Money::new(Decimal::new(i64::try_from(f).unwrap_or(i64::MAX), 2))
}

struct Target {
    region: String,
    scheme: String,
    policy: Arc<Policy>,
}

/// The policies a sample draws from: those in force on 1 July of the year.
fn targets(reg: &Registry, opts: &SampleOptions) -> Result<Vec<Target>, String> {
    let mid =
        Date::new(opts.year, 7, 1).ok_or_else(|| format!("year {} is out of range", opts.year))?;
    let mut targets = Vec::new();
    for id in reg.policy_ids() {
        if id.starts_with("fixture.") || opts.policy.as_ref().is_some_and(|p| *p != id) {
            continue;
        }
        if let Ok(p) = reg.policy(&id, mid) {
            // Sample claims are medical bills; long-term care months are not generated.
            if p.is_care() {
                continue;
            }
            let (region, scheme) = id.split_once('.').unwrap_or((&id, ""));
            targets.push(Target {
                region: region.to_string(),
                scheme: scheme.to_string(),
                policy: p,
            });
        }
    }
    if targets.is_empty() {
        return Err(match &opts.policy {
            Some(p) => format!(
                "no policy `{p}` in force on {mid}; the policies are: {}",
                reg.policy_ids().join(", ")
            ),
            None => "no bundled policy is in force in that year".into(),
        });
    }
    Ok(targets)
}

/// The sample, person by person, each person's claims in date order.
pub struct Sample {
    targets: Vec<Target>,
    rng: ChaCha8Rng,
    opts: SampleOptions,
    person: u64,
    pending: std::vec::IntoIter<Claim>,
}

/// A seeded sample of claims from the bundled policies.
pub fn sample(reg: &Registry, opts: &SampleOptions) -> Result<Sample, String> {
    Ok(Sample {
        targets: targets(reg, opts)?,
        rng: ChaCha8Rng::seed_from_u64(opts.seed),
        opts: opts.clone(),
        person: 0,
        pending: Vec::new().into_iter(),
    })
}

impl Sample {
    fn next_person(&mut self) -> Vec<Claim> {
        let rng = &mut self.rng;
        let person = self.person;
        let year = self.opts.year;
        let t = &self.targets[rng.random_range(0..self.targets.len())];
        let d = &t.policy.dims;
        let pick = |rng: &mut ChaCha8Rng, v: &[yibao_engine::ir::DimValue]| -> Option<String> {
            (!v.is_empty()).then(|| v[rng.random_range(0..v.len())].id.to_string())
        };
        let group = pick(rng, &d.groups);
        // About one person in twelve has a special category (救助对象 and the like).
        let category = if rng.random_range(0..12) == 0 {
            pick(rng, &d.categories)
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
        let mut out = Vec::with_capacity(days.len());
        for (k, (month, day)) in days.iter().enumerate() {
            let Some(date) = Date::new(year, *month, *day) else {
                continue;
            };
            let care = weighted(rng, &care_weights)
                .cloned()
                .unwrap_or_else(|| "inpatient".into());
            let level = if d.levels.is_empty() {
                None
            } else {
                // Most visits at any level, admissions at the top two.
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
            let (lo, hi) = weighted(rng, &ranges).copied().unwrap_or((100, 1_000));
            let total = rng.random_range(lo * 100..hi * 100);
            // Parts of the bill: 0–15% out of the catalogue, 0–8% 先行自付, sometimes over-limit.
            let out_of_list = total * rng.random_range(0..16u64) / 100;
            let pre_self_pay = total * rng.random_range(0..9u64) / 100;
            let over_limit = if rng.random_range(0..10) == 0 {
                total * rng.random_range(0..4u64) / 100
            } else {
                0
            };
            out.push(Claim {
                id: Some(format!("c{person:08}-{k:02}")),
                person: Some(format!("p{person:08}")),
                region: Some(t.region.clone()),
                scheme: Some(t.scheme.clone()),
                date,
                group: group.clone(),
                categories: category.iter().cloned().collect(),
                care,
                level,
                place,
                referral,
                disease: None,
                case_code: None,
                stay_days: None,
                amounts: Amounts {
                    total: fen(total),
                    out_of_list: fen(out_of_list),
                    pre_self_pay: fen(pre_self_pay),
                    over_limit: fen(over_limit),
                    special_drugs: Money::ZERO,
                },
                month: None,
            });
        }
        out
    }
}

impl Iterator for Sample {
    type Item = Claim;
    fn next(&mut self) -> Option<Claim> {
        loop {
            if let Some(c) = self.pending.next() {
                return Some(c);
            }
            if self.person >= self.opts.persons {
                return None;
            }
            let claims = self.next_person();
            self.person += 1;
            self.pending = claims.into_iter();
        }
    }
}
