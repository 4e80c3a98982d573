//! Caps: per claim, per month, per year in pools a payment may share; the cap line (the cost at
//! which a capped layer's payment reaches its cap).

use super::*;

/// The cost, from the start of the layer's bands in this claim, at which the layer's payment
/// reaches `limit` (the cap line): what lies above it is 超封顶 — the base of a layer that pays
/// above the cap. `segments` are the claim's amounts in each band with the band's ratio, in
/// order. The point inside a band is `need ÷ ratio`, rounded to the fen half up.
pub(super) fn cap_line(segments: impl Iterator<Item = (Fen, Decimal)>, limit: Fen) -> Fen {
    let limit = yuan(limit);
    let mut paid = Decimal::ZERO;
    let mut cost: Fen = 0;
    for (amount, ratio) in segments {
        let need = limit - paid;
        if need <= Decimal::ZERO {
            break;
        }
        let Some(product) = yuan(amount).checked_mul(ratio) else {
            break;
        };
        if product < need || ratio.is_zero() {
            paid += product;
            cost += amount;
            continue;
        }
        let inside = need
            .checked_div(ratio)
            .and_then(round_to_fen)
            .unwrap_or(amount);
        cost += inside.min(amount);
        break;
    }
    cost
}

/// The year pools a layer's caps draw on, each once.
pub(super) fn layer_pools(layer: &Layer) -> impl Iterator<Item = u32> + '_ {
    layer
        .caps
        .iter()
        .enumerate()
        .filter_map(|(i, cap)| match cap.per {
            CapPer::Year { pool }
                if !layer.caps[..i]
                    .iter()
                    .any(|c| matches!(c.per, CapPer::Year { pool: q } if q == pool)) =>
            {
                Some(pool)
            }
            _ => None,
        })
}

/// Whether `layer` draws on `pool`.
pub(super) fn draws_on(layer: Option<&Layer>, pool: u32) -> bool {
    layer.is_some_and(|l| {
        l.caps
            .iter()
            .any(|c| matches!(c.per, CapPer::Year { pool: q } if q == pool))
    })
}

/// What a layer paid earlier in the month of `date` (for its `cap per_month`).
#[inline]
pub(super) fn month_paid(ytd: Option<&LayerYtd>, date: crate::date::Date) -> Fen {
    match ytd {
        Some(y) if y.month == Some(date.month()) => fen_of(y.month_paid),
        _ => 0,
    }
}

/// Whether a layer has a monthly cap, so its state keeps the month's payments.
pub(super) fn has_month_cap(layer: Option<&Layer>) -> bool {
    layer.is_some_and(|l| {
        l.caps.iter().any(|c| matches!(c.per, CapPer::Month))
            || l.care.as_ref().is_some_and(|c| !c.caps.is_empty())
    })
}

/// What a pool has paid this year, including earlier layers of this claim.
pub(super) fn pool_paid(policy: &Policy, state: &YtdState, deltas: &Deltas, pool: u32) -> Fen {
    let before = state
        .pools
        .get(pool as usize)
        .map(|(_, m)| fen_of(*m))
        .unwrap_or(0);
    before
        + deltas
            .iter()
            .filter(|d| draws_on(policy.layers.get(d.layer), pool))
            .map(|d| d.paid)
            .sum::<Fen>()
}

/// The cap line of a layer a cap stopped, where it classifies the policy-scope amount (a
/// layer on what others left pays those parts off and has no line of its own).
pub(super) fn capped_line(
    layer: &Layer,
    result: &LayerOut,
    segments: impl Iterator<Item = (Fen, Decimal)>,
) -> Option<Fen> {
    (result.capped && layer.base == Base::InScope && layer.per_case.is_none())
        .then(|| cap_line(segments, result.payment))
}
