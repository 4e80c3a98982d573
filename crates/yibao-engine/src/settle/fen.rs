//! Money inside `run`: integer fen, and the one rounding (half up to the fen).

use super::*;

/// Money inside `run` is integer fen. Every amount is whole cents — claims are validated to two
/// decimals, money parameters are checked below, payments are rounded — so this is exact, and
/// it keeps the bookkeeping (sums, comparisons, min/max) off `Decimal`'s slower paths.
pub(super) type Fen = i64;

/// Whole cents of `d`, or `None` when `d` has a fraction of a cent or does not fit.
pub(super) fn to_fen(d: Decimal) -> Option<Fen> {
    let m = d.mantissa();
    let v = match d.scale() {
        0 => m.checked_mul(100)?,
        1 => m.checked_mul(10)?,
        2 => m,
        _ => {
            let mut x = d.normalize();
            if x.scale() > 2 {
                return None;
            }
            x.rescale(2);
            x.mantissa()
        }
    };
    Fen::try_from(v).ok()
}

/// A claim or state amount: validated whole cents within bounds, so the fallback is never taken.
pub(super) fn fen_of(m: Money) -> Fen {
    to_fen(m.0).unwrap_or(0)
}

pub(super) fn yuan(f: Fen) -> Decimal {
    // The parts of |f| as rust_decimal stores them, scale 2: cheaper than `Decimal::new`'s checks.
    let a = f.unsigned_abs();
    Decimal::from_parts(a as u32, (a >> 32) as u32, 0, f < 0, 2)
}

pub(super) fn money(f: Fen) -> Money {
    Money(yuan(f))
}

/// `d` rounded to whole fen, half away from zero (half up for the non-negative amounts paid):
/// the same as [`round_cents`] on the mantissa directly, without rust_decimal's general rounding.
pub(super) fn round_to_fen(d: Decimal) -> Option<Fen> {
    let m = d.mantissa();
    let v = match d.scale() {
        s @ 0..=2 => m.checked_mul(10i128.pow(2 - s))?,
        // 10^(s-2) in 64-bit arithmetic where it fits (i128 powers are a loop of slow products).
        s @ 3..=20 => div_round(m, i128::from(10i64.pow(s - 2))),
        s => div_round(m, 10i128.checked_pow(s - 2)?),
    };
    Fen::try_from(v).ok()
}

/// `m / div` (`div` > 0) rounded half away from zero. Products of fen and ratios nearly always
/// fit 64 bits: the division is done there when it can be, it is much cheaper.
#[inline]
pub(super) fn div_round(m: i128, div: i128) -> i128 {
    if let (Ok(m), Ok(div)) = (i64::try_from(m), i64::try_from(div)) {
        let (q, r) = (m / div, m % div);
        return i128::from(if r.unsigned_abs() * 2 >= div.unsigned_abs() {
            q + m.signum()
        } else {
            q
        });
    }
    let (q, r) = (m / div, m % div);
    if r.unsigned_abs() * 2 >= div.unsigned_abs() {
        q + m.signum()
    } else {
        q
    }
}

/// The largest money figure, in fen: [`crate::money::MAX_AMOUNT`], as for claims.
pub(super) const MAX_FEN: Fen = 100_000_000_000_000;

/// The largest year-to-date sum, in fen (a hundred trillion yuan): with claims and figures at
/// most [`MAX_FEN`], every sum `settle` forms stays far inside `i64`.
pub(super) const MAX_YEAR_FEN: Fen = 10_000_000_000_000_000;
