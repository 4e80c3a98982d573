//! A claim's dimension values resolved against the policy's declarations: the key of a plan.

use super::*;

/// The claim's dimension values as indices into the policy's declarations, and its referral where
/// a `for referred` block depends on it: everything about a claim that decides which clauses and
/// figures apply (the key of a compiled plan).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Resolved {
    pub(super) group: u16,
    pub(super) categories: SmallVec<[u16; 4]>,
    pub(super) care: u16,
    pub(super) level: u16,
    pub(super) place: u16,
    pub(super) disease: Option<u16>,
    pub(super) case: Option<usize>,
    /// The claim was referred (转诊) and the policy has a figure that depends on it; `false`
    /// otherwise, so a referral alone does not make a new situation where nothing depends on it.
    pub(super) referred: bool,
    /// The claim gave no hospital level and the policy has several: the first was taken.
    pub(super) level_defaulted: bool,
}

impl Resolved {
    pub(super) fn index(&self, dim: Dim) -> Option<u16> {
        Some(match dim {
            Dim::Group => self.group,
            Dim::Care => self.care,
            Dim::Level => self.level,
            Dim::Place => self.place,
            Dim::Disease => return self.disease,
            Dim::Category => return None,
        })
    }

    pub(super) fn selects(&self, s: &Selector) -> bool {
        let one = |set: &[u16], v: u16| set.is_empty() || set.contains(&v);
        one(&s.groups, self.group)
            && one(&s.care, self.care)
            && one(&s.levels, self.level)
            && one(&s.places, self.place)
            && (s.diseases.is_empty() || self.disease.is_some_and(|d| s.diseases.contains(&d)))
            && (s.categories.is_empty() || self.categories.iter().any(|c| s.categories.contains(c)))
            && s.referral.is_none_or(|r| r == self.referred)
    }
}

pub(super) fn choose(
    dim_name: &str,
    path: impl FnOnce() -> String,
    values: &[DimValue],
    given: Option<&str>,
) -> Result<u16, ClaimError> {
    let pick = match given {
        None => values.first().map(|_| 0usize),
        Some(g) => values.iter().position(|v| &*v.id == g),
    };
    match pick.and_then(|i| u16::try_from(i).ok()) {
        Some(i) => Ok(i),
        None => {
            let msg = match given {
                Some(g) => format!("unknown {dim_name} `{g}`"),
                None => format!("this policy declares no {dim_name}"),
            };
            let mut e = ClaimError::new(path(), msg);
            e.allowed = values.iter().map(|v| v.id.to_string()).collect();
            Err(e)
        }
    }
}

pub(super) fn resolve(policy: &Policy, claim: &Claim) -> Result<Resolved, ClaimError> {
    let d = &policy.dims;
    let group = choose(
        "member group",
        || "group".into(),
        &d.groups,
        claim.group.as_deref(),
    )?;
    let care = choose("care type", || "care".into(), &d.care, Some(&claim.care))?;
    let level = choose(
        "hospital level",
        || "level".into(),
        &d.levels,
        claim.level.as_deref(),
    )?;
    let place = choose(
        "place",
        || "place".into(),
        &d.places,
        claim.place.as_deref(),
    )?;
    let mut categories = SmallVec::new();
    for (i, c) in claim.categories.iter().enumerate() {
        let idx = choose(
            "category",
            || format!("categories[{i}]"),
            &d.categories,
            Some(c),
        )?;
        if !categories.contains(&idx) {
            categories.push(idx);
        }
    }
    // A person's categories are a set: declaration order is their precedence, whatever order
    // the claim lists them in.
    categories.sort_unstable();
    let disease = match &claim.disease {
        None => None,
        Some(x) => Some(choose(
            "disease",
            || "disease".into(),
            &d.diseases,
            Some(x),
        )?),
    };
    let case = match &claim.case_code {
        Some(code) if !policy.cases.is_empty() => {
            match policy.cases.iter().position(|c| c.code == *code) {
                Some(i) => Some(i),
                None => {
                    let mut e =
                        ClaimError::new("case_code", format!("unknown per-case code `{code}`"));
                    e.allowed = policy.cases.iter().map(|c| c.code.clone()).collect();
                    return Err(e);
                }
            }
        }
        _ => None,
    };
    check_amounts(policy, claim)?;
    Ok(Resolved {
        group,
        categories,
        care,
        level,
        place,
        disease,
        case,
        referred: claim.referral && policy.depends_on_referral(),
        level_defaulted: claim.level.is_none() && d.levels.len() > 1,
    })
}

/// The longest stay a claim may give (`stay_days`): 100 years.
pub(super) const MAX_STAY_DAYS: u32 = 36_525;

/// The parts of the bill outside the policy scope cannot exceed the bill, nor the special drugs
/// `out_of_list`; a stay is at most [`MAX_STAY_DAYS`]; only a long-term care policy takes a month
/// of care.
pub(super) fn check_amounts(policy: &Policy, claim: &Claim) -> Result<(), ClaimError> {
    if claim.month.is_some() && !policy.is_care() {
        return Err(ClaimError::new(
            "month",
            "a month of long-term care is settled only under a long-term care policy",
        ));
    }
    if claim.stay_days.is_some_and(|d| d > MAX_STAY_DAYS) {
        return Err(ClaimError::new(
            "stay_days",
            format!(
                "a stay of more than {MAX_STAY_DAYS} days (100 years) is not a stay yibao settles"
            ),
        ));
    }
    let a = &claim.amounts;
    let parts = fen_of(a.out_of_list) + fen_of(a.pre_self_pay) + fen_of(a.over_limit);
    if parts > fen_of(a.total) {
        let parts = yuan(parts);
        return Err(ClaimError::new(
            "amounts",
            format!(
                "out_of_list + pre_self_pay + over_limit = {} is more than the total {}",
                fmt_money(parts),
                a.total
            ),
        ));
    }
    if a.special_drugs > a.out_of_list {
        return Err(ClaimError::new(
            "amounts",
            format!(
                "special_drugs {} is more than out_of_list {}: the items on the provincial special-drug lists are a part of 全自费",
                a.special_drugs, a.out_of_list
            ),
        ));
    }
    Ok(())
}
