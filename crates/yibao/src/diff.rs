//! `diff`: what changed between two policy versions, and what it does to a set of claims.
//!
//! Parameters are compared by path (`basic.deductible.level.3`): added, removed, or changed in
//! value, text or provenance. The impact settles every claim under both versions — each person's
//! claims folding one year-to-date state per version — and reports the claims whose out-of-pocket
//! changed, the mean and percentiles of the change, the fund cost before and after, and the
//! policy-scope reimbursement ratio (政策范围内报销比例) before and after.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use yibao_engine::ir::Policy;
use yibao_engine::{settle_outcome, Claim, Date, Money, Outcome, YtdState};

/// One side of a parameter change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamSide {
    /// The figure as written.
    pub text: String,
    /// Its provenance (`official`, `secondary`, `seed`, `derived`, `placeholder`).
    pub provenance: &'static str,
    /// Its source, when known.
    pub source: Option<String>,
    /// The file it is written in.
    pub file: String,
    /// The line it is written on (1-based).
    pub line: u32,
}

/// A parameter that differs between the versions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamChange {
    /// The parameter's path (`basic.deductible.level.3`).
    pub path: String,
    /// In the old version (`None`: added).
    pub old: Option<ParamSide>,
    /// In the new version (`None`: removed).
    pub new: Option<ParamSide>,
}

/// A version, by id and effective date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionRef {
    /// `region.scheme`.
    pub id: String,
    /// The effective date.
    pub version: Date,
}

/// The effect on a claim set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Impact {
    /// Claims in the set.
    pub claims: usize,
    /// Distinct persons in the set.
    pub persons: usize,
    /// Claims settled under both versions (the statistics below are over these).
    pub settled: usize,
    /// Claims one version could not settle (e.g. a care type only one declares), with the reason.
    pub unsettled: Vec<String>,
    /// Claims whose out-of-pocket amount changed.
    pub changed: usize,
    /// Out-of-pocket change (new − old) per claim: mean (rounded to the fen for display) and
    /// nearest-rank percentiles.
    pub mean_change: Money,
    /// The smallest change.
    pub min_change: Money,
    /// The 10th percentile of the change.
    pub p10_change: Money,
    /// The median change.
    pub p50_change: Money,
    /// The 90th percentile of the change.
    pub p90_change: Money,
    /// The largest change.
    pub max_change: Money,
    /// The policy-scope amount of the settled claims.
    pub in_scope: Money,
    /// What the layers paid under the old version.
    pub fund_before: Money,
    /// What the layers pay under the new version.
    pub fund_after: Money,
    /// What the patients paid under the old version.
    pub out_of_pocket_before: Money,
    /// What the patients pay under the new version.
    pub out_of_pocket_after: Money,
    /// 政策范围内报销比例: what the layers paid of the policy-scope amount ÷ that amount.
    pub policy_scope_ratio_before: Option<Decimal>,
    /// The same ratio under the new version.
    pub policy_scope_ratio_after: Option<Decimal>,
    /// The claims with the largest changes (up to 10), for a look.
    pub largest: Vec<ClaimChange>,
}

/// One claim's change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimChange {
    /// The claim's index in the set.
    pub index: usize,
    /// The claim's `id`, when given.
    pub id: Option<String>,
    /// The claim's `person`, when given.
    pub person: Option<String>,
    /// The claim's care type.
    pub care: String,
    /// The bill's total.
    pub total: Money,
    /// The patient's share under the old version.
    pub out_of_pocket_before: Money,
    /// The patient's share under the new version.
    pub out_of_pocket_after: Money,
    /// New minus old.
    pub change: Money,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffReport {
    /// The version compared against.
    pub old: VersionRef,
    /// The version (or draft) compared.
    pub new: VersionRef,
    /// Parameters added, removed or changed.
    pub params: Vec<ParamChange>,
    /// The effect on the claims.
    pub impact: Impact,
}

fn side(p: &yibao_engine::ir::ParamInfo) -> ParamSide {
    ParamSide {
        text: p.text.clone(),
        provenance: p.provenance.name(),
        source: p.source.clone(),
        file: p.cite.file.clone(),
        line: p.cite.line,
    }
}

/// Parameters that differ, in path order.
pub fn param_changes(old: &Policy, new: &Policy) -> Vec<ParamChange> {
    let a: BTreeMap<&str, _> = old.params.iter().map(|p| (p.path.as_str(), p)).collect();
    let b: BTreeMap<&str, _> = new.params.iter().map(|p| (p.path.as_str(), p)).collect();
    let mut paths: Vec<&str> = a.keys().chain(b.keys()).copied().collect();
    paths.sort_unstable();
    paths.dedup();
    paths
        .into_iter()
        .filter_map(|path| {
            let (x, y) = (a.get(path), b.get(path));
            let same = match (x, y) {
                (Some(x), Some(y)) => {
                    x.value == y.value && x.text == y.text && x.provenance == y.provenance
                }
                _ => false,
            };
            (!same).then(|| ParamChange {
                path: path.to_string(),
                old: x.map(|p| side(p)),
                new: y.map(|p| side(p)),
            })
        })
        .collect()
}

/// The nearest-rank `p`-th percentile (0 < p ≤ 100) of sorted values.
fn percentile(sorted: &[Decimal], p: usize) -> Decimal {
    if sorted.is_empty() {
        return Decimal::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// Settles `claims` under both versions (claims of one person must be together and in date
/// order; a claim without `person` is a person of its own) and compares.
pub fn diff(old: &Policy, new: &Policy, claims: &[Claim]) -> DiffReport {
    let (mut s_old, mut s_new) = (YtdState::default(), YtdState::default());
    let mut person: Option<&str> = None;
    let mut persons = 0usize;
    let mut changes: Vec<(Decimal, ClaimChange)> = Vec::new();
    let mut unsettled = Vec::new();
    let (mut in_scope, mut fund_a, mut fund_b, mut oop_a, mut oop_b, mut paid_a, mut paid_b) = (
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ZERO,
    );
    for (i, c) in claims.iter().enumerate() {
        if c.person.is_none() || c.person.as_deref() != person {
            persons += 1;
            person = c.person.as_deref();
            s_old = YtdState::default();
            s_new = YtdState::default();
        }
        let (a, b) = (
            settle_outcome(old, c, &mut s_old),
            settle_outcome(new, c, &mut s_new),
        );
        let (a, b) = match (a, b) {
            (Ok(a), Ok(b)) => (a, b),
            (a, b) => {
                let why = |r: &Result<Outcome, yibao_engine::SettleError>, v: &str| match r {
                    Err(e) => format!("{v}: {e}"),
                    Ok(_) => String::new(),
                };
                let reasons: Vec<String> = [why(&a, "old"), why(&b, "new")]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect();
                unsettled.push(format!("claims[{i}]: {}", reasons.join("; ")));
                continue;
            }
        };
        in_scope += a.in_scope().get();
        fund_a += a.fund_total().get();
        fund_b += b.fund_total().get();
        oop_a += a.out_of_pocket().get();
        oop_b += b.out_of_pocket().get();
        paid_a += a.in_scope_paid().get();
        paid_b += b.in_scope_paid().get();
        let d = b.out_of_pocket().get() - a.out_of_pocket().get();
        changes.push((
            d,
            ClaimChange {
                index: i,
                id: c.id.clone(),
                person: c.person.clone(),
                care: c.care.clone(),
                total: c.amounts.total,
                out_of_pocket_before: a.out_of_pocket(),
                out_of_pocket_after: b.out_of_pocket(),
                change: Money::new(d),
            },
        ));
    }
    let mut sorted: Vec<Decimal> = changes.iter().map(|(d, _)| *d).collect();
    sorted.sort_unstable();
    let n = sorted.len();
    let sum: Decimal = sorted.iter().sum();
    let mean = if n == 0 {
        Decimal::ZERO
    } else {
        (sum / Decimal::from(n))
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    };
    let ratio = |paid: Decimal| (!in_scope.is_zero()).then(|| (paid / in_scope).round_dp(4));
    let mut largest: Vec<(Decimal, ClaimChange)> = changes
        .iter()
        .filter(|(d, _)| !d.is_zero())
        .cloned()
        .collect();
    largest.sort_by(|x, y| y.0.abs().cmp(&x.0.abs()).then(x.1.index.cmp(&y.1.index)));
    largest.truncate(10);
    let m = Money::new;
    DiffReport {
        old: VersionRef {
            id: old.id.to_string(),
            version: old.effective,
        },
        new: VersionRef {
            id: new.id.to_string(),
            version: new.effective,
        },
        params: param_changes(old, new),
        impact: Impact {
            claims: claims.len(),
            persons,
            settled: n,
            unsettled,
            changed: sorted.iter().filter(|d| !d.is_zero()).count(),
            mean_change: m(mean),
            min_change: m(sorted.first().copied().unwrap_or_default()),
            p10_change: m(percentile(&sorted, 10)),
            p50_change: m(percentile(&sorted, 50)),
            p90_change: m(percentile(&sorted, 90)),
            max_change: m(sorted.last().copied().unwrap_or_default()),
            in_scope: m(in_scope),
            fund_before: m(fund_a),
            fund_after: m(fund_b),
            out_of_pocket_before: m(oop_a),
            out_of_pocket_after: m(oop_b),
            policy_scope_ratio_before: ratio(paid_a),
            policy_scope_ratio_after: ratio(paid_b),
            largest: largest.into_iter().map(|(_, c)| c).collect(),
        },
    }
}

#[cfg(all(feature = "sample", feature = "bundled-policies"))]
/// A draft against the bundled version in force on the draft's effective date (the version it
/// replaces, or the one before it): changed parameters and the impact on a seeded sample of
/// `persons` persons' claims.
pub fn draft_diff(name: &str, text: &str, persons: u64) -> Result<DiffReport, crate::ApiError> {
    let reg = crate::check::with_drafts(vec![(name.to_string(), text.to_string())]);
    let draft = crate::check::draft_version(&reg, name)?;
    let bundled = yibao_policies::Registry::bundled();
    let base = bundled
        .policy(&draft.id, draft.effective)
        .map_err(|e| crate::ApiError::select(e, "effective"))?;
    let opts = |year| crate::sample::SampleOptions {
        persons,
        seed: 1,
        year,
        policy: Some(draft.id.to_string()),
    };
    let claims: Vec<Claim> = crate::sample::sample(&bundled, &opts(draft.effective.year()))
        .or_else(|_| crate::sample::sample(&bundled, &opts(draft.effective.year() + 1)))
        .map_err(|e| crate::ApiError::new(crate::ErrorKind::Policy, None, e))?
        .collect();
    Ok(diff(&base, &draft, &claims))
}
