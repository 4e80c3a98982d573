//! Deductibles: the figure for this claim (first or n-th admission, after `for` blocks) and what is
//! still due (per admission, per year, referral chains).

use super::*;

/// What is left to charge of deductible `t` on this claim: per admission, all of it — unless a
/// referral continues a chain, which counts what the chain paid (or nothing, once it entered the
/// fund); per year, what the year has not paid yet.
#[inline]
pub(super) fn deductible_due(
    per: DeductiblePer,
    t: Fen,
    layer: &Layer,
    ytd: Option<&LayerYtd>,
    referral: bool,
) -> Fen {
    match per {
        DeductiblePer::Admission => {
            match (ytd.and_then(|y| y.chain.as_ref()), layer.referral, referral) {
                (Some(ch), Referral::Continuous, true) if ch.entered_fund => 0,
                (Some(ch), Referral::Continuous | Referral::Difference, true) => {
                    (t - fen_of(ch.deductible_paid)).max(0)
                }
                _ => t,
            }
        }
        DeductiblePer::Year => (t - ytd.map_or(0, |y| fen_of(y.deductible_paid))).max(0),
    }
}

/// A referred admission with no chain to continue this year: its deductible is charged afresh,
/// and the result says so. A chain does not cross 1 January — deductibles and the year so far
/// are per calendar year, and the national guidance (2026-03-16: 同一疾病周期内不再另设起付线)
/// does not say how an episode meets the turn of the year.
pub(super) fn warn_referral_without_chain(
    li: usize,
    layer: &Layer,
    per: DeductiblePer,
    ytd: Option<&LayerYtd>,
    referral: bool,
    warnings: &mut Notes,
) {
    if referral
        && per == DeductiblePer::Admission
        && layer.referral != Referral::Separate
        && ytd.and_then(|y| y.chain.as_ref()).is_none()
    {
        warnings.push(Note::ReferralWithoutChain(li));
    }
}

/// A layer's deductible for this claim.
pub(super) struct DeductibleValue<'a> {
    /// Before the `for` blocks.
    pub(super) before: Decimal,
    pub(super) figure: Decimal,
    pub(super) fen: Fen,
    pub(super) cite: &'a Cite,
    /// The figure is unknown and taken as zero.
    pub(super) unknown: bool,
}

/// A layer's deductible for this claim: the first value, or (`later`: from the n-th claim of
/// the year on) the later one, after the selected modifiers, not below zero — as the figure,
/// in fen, and the clause that set it.
pub(super) fn deductible_value<'a>(
    d: &'a Deductible,
    later: bool,
    mods: &Active,
    r: &Resolved,
    used: &mut Used,
    all: bool,
) -> Result<DeductibleValue<'a>, EvalError> {
    let mut cx = Ctx {
        r,
        cite: &d.cite,
        used,
        all,
        unknown: false,
    };
    let first_value = eval(&d.value, &mut cx, None)?;
    let mut unknown = first_value.is_none() && cx.unknown;
    let first = first_value.unwrap_or_default();
    let mut t = first;
    let mut cite = &d.cite;
    if let (true, Some((_, lv, lcite))) = (later, &d.later) {
        let own = !refers_to_current(lv);
        if own {
            // The n-th admission's own figure replaces the first: only it was used.
            cx.used.clear();
        }
        let mut lcx = Ctx {
            r,
            cite: lcite,
            used: cx.used,
            all,
            unknown: false,
        };
        let lx = eval(lv, &mut lcx, Some(first))?;
        if own {
            unknown = lx.is_none() && lcx.unknown;
        }
        if let Some(x) = lx {
            t = x;
            cite = lcite;
        }
    }
    let mut cx = Ctx {
        r,
        cite,
        used: cx.used,
        all,
        unknown: false,
    };
    let before = t;
    let t = non_negative(modify(mods, Target::Deductible, t, &mut cx)?.unwrap_or(t));
    Ok(DeductibleValue {
        before,
        figure: t,
        fen: money_param(t, cite)?,
        cite,
        unknown,
    })
}

/// The period of a `deductible every N days` clause for this claim, in days: `None` without
/// the clause (or when its table has no entry for the claim).
pub(super) fn every_period(
    d: &Deductible,
    r: &Resolved,
    used: &mut Used,
    all: bool,
) -> Result<Option<u32>, EvalError> {
    let Some((v, cite)) = &d.every else {
        return Ok(None);
    };
    let mut cx = Ctx {
        r,
        cite,
        used,
        all,
        unknown: false,
    };
    let Some(n) = eval(v, &mut cx, None)? else {
        return Ok(None);
    };
    let m = n.normalize();
    match u32::try_from(m.mantissa()) {
        Ok(days) if m.scale() == 0 && days >= 1 => Ok(Some(days)),
        _ => Err(EvalError::Period {
            value: fmt_decimal(n),
            cite: cite.clone(),
        }),
    }
}

/// How many times a per-admission deductible is charged on a stay of `stay` days: once for each
/// period of `period` days begun, at least once; once without a period or without the stay.
#[inline]
pub(super) fn deductible_times(per: DeductiblePer, period: Option<u32>, stay: Option<u32>) -> u32 {
    match (per, period, stay) {
        (DeductiblePer::Admission, Some(p), Some(s)) => s.div_ceil(p).max(1),
        _ => 1,
    }
}

/// A layer whose deductible repeats every N days of a stay, and a claim that does not give the
/// stay's length: the deductible is charged once, and the result says so.
pub(super) fn warn_stay_days_missing(
    li: usize,
    per: DeductiblePer,
    period: Option<u32>,
    stay: Option<u32>,
    warnings: &mut Notes,
) {
    if let (DeductiblePer::Admission, Some(period), None) = (per, period, stay) {
        warnings.push(Note::StayDaysMissing { layer: li, period });
    }
}
