//! The year so far: staged changes applied only when a whole claim settles, and where a claim lies
//! on a layer's measure.

use super::*;

/// The layer's accumulated base before this claim. Beyond [`MAX_YEAR_FEN`] the claim is refused
/// rather than risk an overflow: a layer's base bounds everything else that grows with it (its
/// deductible, payments, pools and chain grow by at most its base per claim, and given states
/// start below [`MAX_FEN`]), and it is checked before every claim that adds to it.
pub(super) fn year_base(layer: &str, ytd: Option<&LayerYtd>) -> Result<Fen, ClaimError> {
    match ytd.map_or(Some(0), |y| to_fen(y.base.0)) {
        Some(f) if f <= MAX_YEAR_FEN => Ok(f),
        _ => Err(ClaimError::new(
            format!("state.layers.{layer}.base"),
            "the year so far has accumulated more than 100,000,000,000,000 yuan: beyond what yibao settles",
        )),
    }
}

/// Prepares `state` for the claim, lets `run` read it and stage its changes, and applies them
/// only when `run` succeeds.
pub(super) fn staged(
    policy: &Policy,
    claim: &Claim,
    state: &mut YtdState,
    run: impl FnOnce(&YtdState, &mut Deltas) -> Result<(), SettleError>,
) -> Result<(), SettleError> {
    let before = (state.year, state.last_date);
    state.prepare(policy, claim.date)?;
    let mut deltas = Deltas::new();
    match run(state, &mut deltas) {
        Ok(()) => {
            apply(policy, state, &deltas);
            Ok(())
        }
        Err(e) => {
            if state.year == before.0 {
                state.last_date = before.1;
            }
            Err(e)
        }
    }
}

/// One layer's change to the year-to-date state.
pub(super) struct Delta {
    pub(super) layer: usize,
    pub(super) base: Fen,
    pub(super) deductible: Fen,
    pub(super) paid: Fen,
    /// `Some` when the layer has a per-admission deductible: the chain after this claim.
    pub(super) chain: Option<Chain>,
}

pub(super) type Deltas = SmallVec<[Delta; 6]>;

impl Delta {
    /// A layer that applied with nothing to pay: the claim still counts (an admission with
    /// everything out of scope is an admission) and starts a new referral chain.
    pub(super) fn empty(li: usize, layer: &Layer, chain: Option<&Chain>, referral: bool) -> Delta {
        let chain = layer
            .deductible
            .as_ref()
            .filter(|d| d.per == DeductiblePer::Admission)
            .filter(|_| !(chain.is_some() && layer.referral != Referral::Separate && referral))
            .map(|_| Chain {
                deductible_paid: money(0),
                entered_fund: false,
            });
        Delta {
            layer: li,
            base: 0,
            deductible: 0,
            paid: 0,
            chain,
        }
    }

    /// A layer that paid: its base, deductible and payment, and the referral chain after it.
    pub(super) fn after(
        li: usize,
        layer: &Layer,
        chain: Option<&Chain>,
        referral: bool,
        base: Fen,
        paid: &Paid,
    ) -> Delta {
        let ded = paid.ded;
        let chain = if layer
            .deductible
            .as_ref()
            .is_some_and(|d| d.per == DeductiblePer::Admission)
        {
            match (chain, layer.referral, referral) {
                (Some(ch), Referral::Continuous | Referral::Difference, true) => Some(Chain {
                    deductible_paid: money(fen_of(ch.deductible_paid) + ded),
                    entered_fund: ch.entered_fund || base > ded,
                }),
                _ => Some(Chain {
                    deductible_paid: money(ded),
                    entered_fund: base > ded,
                }),
            }
        } else {
            None
        };
        Delta {
            layer: li,
            base,
            deductible: ded,
            paid: paid.payment,
            chain,
        }
    }
}

pub(super) fn apply(policy: &Policy, state: &mut YtdState, deltas: &Deltas) {
    let month = state.last_date.map(|d| d.month());
    for d in deltas {
        if let Some((_, y)) = state.layers.get_mut(d.layer) {
            if d.paid != 0 && has_month_cap(policy.layers.get(d.layer)) {
                if y.month == month {
                    y.month_paid = money(fen_of(y.month_paid) + d.paid);
                } else {
                    y.month = month;
                    y.month_paid = money(d.paid);
                }
            }
            y.claims = y.claims.saturating_add(1);
            // Only what changed is converted (most claims leave some sums as they were).
            if d.base != 0 {
                y.base = money(fen_of(y.base) + d.base);
            }
            if d.deductible != 0 {
                y.deductible_paid = money(fen_of(y.deductible_paid) + d.deductible);
            }
            if d.paid != 0 {
                y.paid = money(fen_of(y.paid) + d.paid);
            }
            if d.chain.is_some() {
                y.chain.clone_from(&d.chain);
            }
        }
        if d.paid != 0 {
            if let Some(layer) = policy.layers.get(d.layer) {
                for p in layer_pools(layer) {
                    if let Some((_, m)) = state.pools.get_mut(p as usize) {
                        *m = money(fen_of(*m) + d.paid);
                    }
                }
            }
        }
    }
}

/// Where this claim's base lies on the layer's measure: `(start, end)` of the part above the
/// deductible. On the claim it starts at the deductible; on the year, after the year's base so
/// far (deductibles included); on the year's covered amount, after what earlier claims had
/// above their deductibles.
#[inline]
pub(super) fn measure_span(
    measure: Measure,
    ytd_base: Fen,
    ytd: &LayerYtd,
    base: Fen,
    ded: Fen,
) -> (Fen, Fen) {
    match measure {
        Measure::Claim => (ded, base),
        Measure::Year => (ytd_base + ded, ytd_base + base),
        Measure::YearCovered => {
            let covered = (ytd_base - fen_of(ytd.deductible_paid)).max(0);
            (covered, covered + base - ded)
        }
    }
}
