//! `settle`: one claim, one policy, the year so far → a settlement and the next year-to-date state.
//!
//! The layers run in order. Each works on a base — the claim's policy-scope amount, or what the
//! earlier layers left the patient of named components — places it on a measure (this claim, or
//! the year's accumulated base), takes off the deductible, pays each band's ratio of the part in
//! the band, stops at its caps, and rounds its payment to 0.01 yuan half up. The first layer that
//! takes the policy-scope amount classifies what it leaves into deductible, co-pay and above-cap;
//! later layers pay from those parts in the order their base names them. Conservation — payments
//! plus out-of-pocket equal the total — holds exactly by construction and is checked by property
//! tests.

use std::borrow::Cow;
use std::sync::Arc;

use rust_decimal::Decimal;
use smallvec::SmallVec;

use crate::claim::Claim;
use crate::err::{ClaimError, EvalError, SettleError};
use crate::ir::*;
use crate::money::{fmt_decimal, fmt_money, Money};
use crate::settlement::*;
use crate::state::{Chain, LayerYtd, YtdState};

mod plan;
pub use plan::Settler;

/// What `settle` should produce besides the numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettleOptions {
    /// Build the step-by-step explanation (batch runs leave it off).
    pub trace: bool,
}

/// Settles `claim` under `policy`, given the person's `state` for the year so far.
/// Returns the settlement and the state after this claim; `state` itself is not changed.
pub fn settle(
    policy: &Policy,
    claim: &Claim,
    state: &YtdState,
    opts: &SettleOptions,
) -> Result<(Settlement, YtdState), SettleError> {
    let mut next = state.clone();
    let s = settle_in_place(policy, claim, &mut next, opts)?;
    Ok((s, next))
}

/// The claim's dimension values as indices into the policy's declarations: everything about a
/// claim that decides which clauses and figures apply (the key of a compiled plan).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Resolved {
    group: u16,
    categories: SmallVec<[u16; 4]>,
    care: u16,
    level: u16,
    place: u16,
    disease: Option<u16>,
    case: Option<usize>,
    /// The claim gave no hospital level and the policy has several: the first was taken.
    level_defaulted: bool,
}

impl Resolved {
    fn index(&self, dim: Dim) -> Option<u16> {
        Some(match dim {
            Dim::Group => self.group,
            Dim::Care => self.care,
            Dim::Level => self.level,
            Dim::Place => self.place,
            Dim::Disease => return self.disease,
            Dim::Category => return None,
        })
    }

    fn selects(&self, s: &Selector) -> bool {
        let one = |set: &[u16], v: u16| set.is_empty() || set.contains(&v);
        one(&s.groups, self.group)
            && one(&s.care, self.care)
            && one(&s.levels, self.level)
            && one(&s.places, self.place)
            && (s.diseases.is_empty() || self.disease.is_some_and(|d| s.diseases.contains(&d)))
            && (s.categories.is_empty() || self.categories.iter().any(|c| s.categories.contains(c)))
    }
}

fn choose(
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

fn resolve(policy: &Policy, claim: &Claim) -> Result<Resolved, ClaimError> {
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
    check_amounts(claim)?;
    Ok(Resolved {
        group,
        categories,
        care,
        level,
        place,
        disease,
        case,
        level_defaulted: claim.level.is_none() && d.levels.len() > 1,
    })
}

/// The parts of the bill outside the policy scope cannot exceed the bill.
fn check_amounts(claim: &Claim) -> Result<(), ClaimError> {
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
    Ok(())
}

/// Evaluation context for one clause: the claim, the clause's citation, and the parameters used.
type Used = SmallVec<[ParamId; 16]>;

struct Ctx<'a> {
    r: &'a Resolved,
    cite: &'a Cite,
    /// Parameters used; all of them when tracing, else only those a result must name.
    used: &'a mut Used,
    all: bool,
    /// Set when a figure the evaluation met is unknown (`none [placeholder]`).
    unknown: bool,
}

fn chk(x: Option<Decimal>, cite: &Cite) -> Result<Decimal, EvalError> {
    x.ok_or_else(|| EvalError::Overflow(cite.clone()))
}

fn eval(v: &Value, cx: &mut Ctx, cur: Option<Decimal>) -> Result<Option<Decimal>, EvalError> {
    match v {
        Value::Const {
            value,
            params,
            flagged,
        } => {
            if cx.all || *flagged {
                note(cx.used, params);
            }
            Ok(Some(*value))
        }
        Value::Table {
            dim,
            entries,
            default,
        } => {
            let entry = if *dim == Dim::Category {
                cx.r.categories
                    .iter()
                    .filter_map(|c| entries.get(usize::from(*c)).and_then(Option::as_ref))
                    .next()
            } else {
                cx.r.index(*dim)
                    .and_then(|i| entries.get(usize::from(i)))
                    .and_then(Option::as_ref)
            };
            match entry.or(default.as_deref()) {
                Some(e) => eval(e, cx, cur),
                None => Ok(None),
            }
        }
        Value::Expr(e) => eval_expr(e, cx, cur),
        Value::None { params, unknown } => {
            note(cx.used, params);
            cx.unknown |= *unknown;
            Ok(None)
        }
    }
}

fn eval_expr(e: &Expr, cx: &mut Ctx, cur: Option<Decimal>) -> Result<Option<Decimal>, EvalError> {
    let bin = |a: &Expr, b: &Expr, cx: &mut Ctx| -> Result<Option<(Decimal, Decimal)>, EvalError> {
        Ok(match (eval_expr(a, cx, cur)?, eval_expr(b, cx, cur)?) {
            (Some(x), Some(y)) => Some((x, y)),
            _ => None,
        })
    };
    let cite = cx.cite;
    Ok(match e {
        Expr::Value(v) => eval(v, cx, cur)?,
        Expr::Current => cur,
        Expr::Add(a, b) => match bin(a, b, cx)? {
            Some((x, y)) => Some(chk(x.checked_add(y), cite)?),
            None => None,
        },
        Expr::Sub(a, b) => match bin(a, b, cx)? {
            Some((x, y)) => Some(chk(x.checked_sub(y), cite)?),
            None => None,
        },
        Expr::Mul(a, b) => match bin(a, b, cx)? {
            Some((x, y)) => Some(chk(x.checked_mul(y), cite)?),
            None => None,
        },
        Expr::Div(a, b) => match bin(a, b, cx)? {
            Some((_, y)) if y.is_zero() => return Err(EvalError::DivisionByZero(cite.clone())),
            Some((x, y)) => Some(chk(x.checked_div(y), cite)?),
            None => None,
        },
        Expr::Min(a, b) => bin(a, b, cx)?.map(|(x, y)| x.min(y)),
        Expr::Max(a, b) => bin(a, b, cx)?.map(|(x, y)| x.max(y)),
    })
}

/// Whether a value refers to the value it replaces (`deductible × 50%`).
fn refers_to_current(v: &Value) -> bool {
    fn expr(e: &Expr) -> bool {
        match e {
            Expr::Current => true,
            Expr::Value(v) => refers_to_current(v),
            Expr::Add(a, b)
            | Expr::Sub(a, b)
            | Expr::Mul(a, b)
            | Expr::Div(a, b)
            | Expr::Min(a, b)
            | Expr::Max(a, b) => expr(a) || expr(b),
        }
    }
    match v {
        Value::Const { .. } | Value::None { .. } => false,
        Value::Table {
            entries, default, ..
        } => {
            entries.iter().flatten().any(refers_to_current)
                || default.as_deref().is_some_and(refers_to_current)
        }
        Value::Expr(e) => expr(e),
    }
}

/// Money inside `run` is integer fen. Every amount is whole cents — claims are validated to two
/// decimals, money parameters are checked below, payments are rounded — so this is exact, and
/// it keeps the bookkeeping (sums, comparisons, min/max) off `Decimal`'s slower paths.
type Fen = i64;

/// Whole cents of `d`, or `None` when `d` has a fraction of a cent or does not fit.
fn to_fen(d: Decimal) -> Option<Fen> {
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
fn fen_of(m: Money) -> Fen {
    to_fen(m.0).unwrap_or(0)
}

fn yuan(f: Fen) -> Decimal {
    // The parts of |f| as rust_decimal stores them, scale 2: cheaper than `Decimal::new`'s checks.
    let a = f.unsigned_abs();
    Decimal::from_parts(a as u32, (a >> 32) as u32, 0, f < 0, 2)
}

fn money(f: Fen) -> Money {
    Money(yuan(f))
}

/// Adds the parameters a clause used to the result's list.
#[inline]
fn take_used(all: &mut Used, used: &[ParamId]) {
    for p in used {
        if !all.contains(p) {
            all.push(*p);
        }
    }
}

/// Whether a result that used parameter `i` must name it: unverified or overridden.
fn is_flagged(policy: &Policy, i: ParamId) -> bool {
    policy
        .params
        .get(i as usize)
        .is_some_and(|p| p.provenance.is_unverified() || p.overridden.is_some())
}

/// Records the parameters a value used (usually one: a push, not a general slice copy).
fn note(used: &mut Used, params: &[ParamId]) {
    for p in params {
        used.push(*p);
    }
}

/// `max(d, 0)` without a general decimal comparison.
fn non_negative(d: Decimal) -> Decimal {
    if d.is_sign_negative() {
        Decimal::ZERO
    } else {
        d
    }
}

/// Whether `r` lies in 0–100%: `0 ≤ mantissa ≤ 10^scale`, without rescaling either side.
fn is_unit_ratio(r: Decimal) -> bool {
    let m = r.mantissa();
    m >= 0 && 10i128.checked_pow(r.scale()).is_some_and(|one| m <= one)
}

/// `d` rounded to whole fen, half away from zero (half up for the non-negative amounts paid):
/// the same as [`round_cents`] on the mantissa directly, without rust_decimal's general rounding.
fn round_to_fen(d: Decimal) -> Option<Fen> {
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
fn div_round(m: i128, div: i128) -> i128 {
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
const MAX_FEN: Fen = 100_000_000_000_000;

/// The largest year-to-date sum, in fen (a hundred trillion yuan): with claims and figures at
/// most [`MAX_FEN`], every sum `settle` forms stays far inside `i64`.
const MAX_YEAR_FEN: Fen = 10_000_000_000_000_000;

/// Money parameters must resolve to whole cents (a fraction of a cent would need rounding that
/// the policy never asked for) within the range claims have.
fn money_param(v: Decimal, cite: &Cite) -> Result<Fen, EvalError> {
    match to_fen(v) {
        Some(f) if f.unsigned_abs() > MAX_FEN.unsigned_abs() => Err(EvalError::OutOfRange {
            value: fmt_decimal(v),
            cite: cite.clone(),
        }),
        Some(f) => Ok(f),
        None if v.normalize().scale() > 2 => Err(EvalError::MoneyPrecision {
            value: fmt_decimal(v),
            cite: cite.clone(),
        }),
        None => Err(EvalError::Overflow(cite.clone())),
    }
}

/// The modifiers of a layer that select this claim, found once per layer.
type Active<'a> = SmallVec<[&'a Modifier; 4]>;

fn active_modifiers<'a>(layer: &'a Layer, r: &Resolved) -> Active<'a> {
    layer
        .modifiers
        .iter()
        .filter(|m| r.selects(&m.selector))
        .collect()
}

#[derive(Clone, Copy)]
enum Target {
    Deductible,
    Ratio,
    Cap,
}

impl Target {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Target::Deductible => ("起付标准", "deductible"),
            Target::Ratio => ("支付比例", "ratio"),
            Target::Cap => ("最高支付限额", "cap"),
        }
    }

    fn of(self, op: &ModOp) -> bool {
        matches!(
            (op, self),
            (ModOp::Deductible { .. }, Target::Deductible)
                | (ModOp::Ratio { .. }, Target::Ratio)
                | (ModOp::Cap { .. }, Target::Cap)
        )
    }
}

/// The explanation of a figure a `for` block changed: one step per block, citing it, with its
/// formula and the value before and after. Only when tracing.
fn trace_modifiers(
    tr: &mut Tracer,
    layer: &Layer,
    mods: &Active,
    target: Target,
    before: Decimal,
    r: &Resolved,
) -> Result<(), EvalError> {
    let show = |v: Decimal| match target {
        Target::Ratio => pct(v),
        _ => fmt_amount(v),
    };
    let mut v = before;
    for m in mods {
        let texts: Vec<&str> = m
            .ops
            .iter()
            .zip(&m.op_texts)
            .filter(|(op, _)| target.of(op))
            .map(|(_, t)| t.split(" [").next().unwrap_or(t).trim())
            .collect();
        if texts.is_empty() {
            continue;
        }
        let one: Active = smallvec::smallvec![*m];
        let mut used = Used::new();
        let mut cx = Ctx {
            r,
            cite: &m.cite,
            used: &mut used,
            all: true,
            unknown: false,
        };
        let after = modify(&one, target, v, &mut cx)?;
        let formula = texts.join("; ");
        let (zh_name, en_name) = target.names();
        let (after_zh, after_en) = match after {
            Some(a) => (show(a), show(a)),
            None => ("不设限额".to_string(), "no cap".to_string()),
        };
        tr.step(
            Some(&layer.id),
            StepKind::Modifier,
            format!(
                "{}：按特别规定（{formula}）调整{zh_name}：{} → {after_zh}",
                layer.label,
                show(v)
            ),
            format!(
                "{}: {en_name} changed by a rule for this claim ({formula}): {} → {after_en}",
                layer.label_en.as_deref().unwrap_or(&layer.id),
                show(v)
            ),
            after.unwrap_or(v),
            Some(&m.cite),
            &used,
        );
        if let Some(a) = after {
            v = a;
        }
    }
    Ok(())
}

/// Applies the selected modifiers' ops on `target` to `v`, in order; `None` when one removes
/// the cap (`no cap`) — the other targets always have a value.
fn modify(
    mods: &Active,
    target: Target,
    v: Decimal,
    cx: &mut Ctx,
) -> Result<Option<Decimal>, EvalError> {
    let mut v = v;
    let mut removed = false;
    for m in mods {
        for op in &m.ops {
            let e = match (op, &target) {
                (ModOp::Deductible { expr }, Target::Deductible)
                | (ModOp::Ratio { expr }, Target::Ratio)
                | (ModOp::Cap { expr: Some(expr) }, Target::Cap) => expr,
                (ModOp::Cap { expr: None }, Target::Cap) => {
                    removed = true;
                    continue;
                }
                _ => continue,
            };
            let mut mcx = Ctx {
                r: cx.r,
                cite: &m.cite,
                used: cx.used,
                all: cx.all,
                unknown: false,
            };
            let x = eval_expr(e, &mut mcx, Some(v))?;
            cx.unknown |= mcx.unknown;
            if let Some(x) = x {
                v = x;
            }
        }
    }
    Ok((!removed).then_some(v))
}

/// What is left to charge of deductible `t` on this claim: per admission, all of it — unless a
/// referral continues a chain, which counts what the chain paid (or nothing, once it entered the
/// fund); per year, what the year has not paid yet.
#[inline]
fn deductible_due(
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

/// The amount a layer works on: the policy-scope amount not yet classified, or what earlier
/// layers left the patient of the components its base names.
#[inline]
fn layer_base(layer: &Layer, unclassified: Fen, burden: &[Fen; 7]) -> Fen {
    match &layer.base {
        Base::InScope => unclassified,
        Base::Remaining(cs) => cs.iter().map(|c| burden[c.index()]).sum(),
    }
}

/// Whether an earlier layer already classified the policy-scope amount this layer would take.
#[inline]
fn already_classified(layer: &Layer, unclassified: Fen, in_scope: Fen) -> bool {
    layer.base == Base::InScope && unclassified == 0 && in_scope > 0
}

/// A band's upper edge as written, in fen (a relative band adds the deductible to it); `None`:
/// open-ended.
fn band_edge(band: &Band, cx: &mut Ctx) -> Result<Option<Fen>, EvalError> {
    match &band.upto {
        None => Ok(None),
        Some(v) => match eval(v, cx, None)? {
            Some(x) => Ok(Some(money_param(x, &band.cite)?)),
            None => Ok(None),
        },
    }
}

/// A layer's deductible for this claim.
struct DeductibleValue<'a> {
    /// Before the `for` blocks.
    before: Decimal,
    figure: Decimal,
    fen: Fen,
    cite: &'a Cite,
    /// The figure is unknown and taken as zero.
    unknown: bool,
}

/// A layer's deductible for this claim: the first value, or (`later`: from the n-th claim of
/// the year on) the later one, after the selected modifiers, not below zero — as the figure,
/// in fen, and the clause that set it.
fn deductible_value<'a>(
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

/// Whether one of the layer's band ratios is unknown for this claim (`ratio none
/// [placeholder]`): such a layer is not applied (ARCHITECTURE.md, "Unknown figures"). The
/// parameters met are added to `used`.
fn ratio_unknown(layer: &Layer, r: &Resolved, used: &mut Used) -> Result<bool, EvalError> {
    if !layer.ratio_may_be_unknown {
        return Ok(false);
    }
    let Some(bands) = &layer.bands else {
        return Ok(false);
    };
    for band in &bands.bands {
        let mut cx = Ctx {
            r,
            cite: &band.cite,
            used,
            all: true,
            unknown: false,
        };
        if eval(&band.ratio, &mut cx, None)?.is_none() && cx.unknown {
            return Ok(true);
        }
    }
    Ok(false)
}

/// What an unknown figure does to a result, said once per layer and figure: the rule for
/// unknown figures (ARCHITECTURE.md) and which way the estimate may be off.
fn unknown_warning(layer: &Layer, figure: Target) -> Warning {
    let name = &layer.label;
    let en = layer.label_en.as_deref().unwrap_or(&layer.id);
    let (code, effect, message) = match figure {
        Target::Deductible => (
            "unknown_deductible",
            "fund_overstated",
            format!("{name}：起付线未知，按 0 计算；本层支付可能偏高，您实际自付可能更多 / {en}: the deductible is unknown and taken as 0; this layer's payment may be overstated, and what you pay understated"),
        ),
        Target::Ratio => (
            "unknown_ratio",
            "fund_understated",
            format!("{name}：支付比例未知，本层未计算；实际可能还有本层支付，您实际自付可能更少 / {en}: the payment ratio is unknown, so this layer is not applied; it may pay something, and what you pay may be less"),
        ),
        Target::Cap => (
            "unknown_cap",
            "fund_overstated",
            format!("{name}：最高支付限额未知，按不设限额计算；本层支付可能偏高 / {en}: the cap is unknown and taken as no cap; this layer's payment may be overstated"),
        ),
    };
    Warning {
        code: Cow::Borrowed(code),
        message: Cow::Owned(message),
        layer: Some(layer.id.clone()),
        effect: Some(effect),
    }
}

/// The cost, from the start of the layer's bands in this claim, at which the layer's payment
/// reaches `limit` (the cap line): what lies above it is 超封顶 — the base of a layer that pays
/// above the cap. `segments` are the claim's amounts in each band with the band's ratio, in
/// order. The point inside a band is `need ÷ ratio`, rounded to the fen half up.
fn cap_line(segments: impl Iterator<Item = (Fen, Decimal)>, limit: Fen) -> Fen {
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

fn uses(policy: &Policy, ids: &[ParamId]) -> Vec<ParamUse> {
    let mut ids: SmallVec<[ParamId; 16]> = ids.iter().copied().collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .filter_map(|i| policy.params.get(i as usize).map(|p| ParamUse(p.clone())))
        .collect()
}

struct Tracer<'p> {
    on: bool,
    policy: &'p Policy,
    steps: Vec<Step>,
}

impl Tracer<'_> {
    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        layer: Option<&Arc<str>>,
        kind: StepKind,
        zh: String,
        en: String,
        value: Decimal,
        cite: Option<&Cite>,
        params: &[ParamId],
    ) {
        if self.on {
            self.steps.push(Step {
                layer: layer.cloned(),
                kind,
                zh,
                en,
                value: Money(value),
                cite: cite.cloned(),
                params: uses(self.policy, params),
            });
        }
    }
}

/// Money-like display for whole-cent values, exact digits otherwise.
fn fmt_amount(d: Decimal) -> String {
    if d.normalize().scale() <= 2 {
        fmt_money(d)
    } else {
        fmt_decimal(d)
    }
}

fn pct(r: Decimal) -> String {
    fmt_decimal(r * Decimal::ONE_HUNDRED) + "%"
}

/// Settles `claim` and updates `state` in place (the fast path for a year's fold and for batch).
/// On error `state` may have been moved to the claim's year but holds no part of the claim.
pub fn settle_in_place(
    policy: &Policy,
    claim: &Claim,
    state: &mut YtdState,
    opts: &SettleOptions,
) -> Result<Settlement, SettleError> {
    let mut rec = Recorder {
        tr: Tracer {
            on: opts.trace,
            policy,
            steps: Vec::new(),
        },
        bands: Some(Vec::new()),
    };
    let r = resolve(policy, claim)?;
    let mut out = Outcome::default();
    settle_resolved(policy, claim, &r, state, &mut rec, &mut out)?;
    Ok(build(policy, claim, &r, out, rec))
}

/// Settles `claim` and updates `state` in place, keeping only the numbers: the same evaluation
/// as [`settle_in_place`] without building the named, explained [`Settlement`] — the entry point
/// for batch runs over many claims. Call [`settle_in_place`] for names, band lines and the
/// explanation.
pub fn settle_outcome(
    policy: &Policy,
    claim: &Claim,
    state: &mut YtdState,
) -> Result<Outcome, SettleError> {
    let r = resolve(policy, claim)?;
    let mut out = Outcome::default();
    settle_resolved(
        policy,
        claim,
        &r,
        state,
        &mut Recorder::lean(policy),
        &mut out,
    )?;
    Ok(out)
}

/// The layer's accumulated base before this claim. Beyond [`MAX_YEAR_FEN`] the claim is refused
/// rather than risk an overflow: a layer's base bounds everything else that grows with it (its
/// deductible, payments, pools and chain grow by at most its base per claim, and given states
/// start below [`MAX_FEN`]), and it is checked before every claim that adds to it.
fn year_base(layer: &str, ytd: Option<&LayerYtd>) -> Result<Fen, ClaimError> {
    match ytd.map_or(Some(0), |y| to_fen(y.base.0)) {
        Some(f) if f <= MAX_YEAR_FEN => Ok(f),
        _ => Err(ClaimError::new(
            format!("state.layers.{layer}.base"),
            "the year so far has accumulated more than 100,000,000,000,000 yuan: beyond what yibao settles",
        )),
    }
}

/// The bill before any fund pays: the policy-scope amount, and what the patient bears outside it
/// (out of the list, paid first, over the price limit) as the first parts of the split.
#[inline]
fn split_bill(claim: &Claim) -> (Fen, [Fen; 7]) {
    let a = &claim.amounts;
    let (total, out_of_list, pre_self_pay, over_limit) = (
        fen_of(a.total),
        fen_of(a.out_of_list),
        fen_of(a.pre_self_pay),
        fen_of(a.over_limit),
    );
    let mut burden: [Fen; 7] = [0; 7];
    burden[Component::OutOfList.index()] = out_of_list;
    burden[Component::PreSelfPay.index()] = pre_self_pay;
    burden[Component::OverLimit.index()] = over_limit;
    (total - out_of_list - pre_self_pay - over_limit, burden)
}

/// A claim without a hospital level under a policy whose figures may differ by level: the
/// first level was taken, and the result says so.
fn warn_level_defaulted(policy: &Policy, r: &Resolved, warnings: &mut Vec<Warning>) {
    if !r.level_defaulted {
        return;
    }
    if let Some(l) = policy.dims.levels.get(usize::from(r.level)) {
        warnings.push(Warning::new(
            "level_defaulted",
            format!(
                "未填写医院等级，按“{}”计算 / no hospital level given: taken as `{}` ({})",
                l.zh, l.id, l.en
            ),
        ));
    }
}

/// A claim with a per-case code under a policy without per-case rules: said, not refused.
fn warn_case_code_ignored(policy: &Policy, claim: &Claim, warnings: &mut Vec<Warning>) {
    if claim.case_code.is_some() && policy.cases.is_empty() {
        warnings.push(Warning::new(
            "case_code_ignored",
            "this policy has no per-case (按病种) rule; the case code was ignored",
        ));
    }
}

fn settle_resolved(
    policy: &Policy,
    claim: &Claim,
    r: &Resolved,
    state: &mut YtdState,
    rec: &mut Recorder,
    out: &mut Outcome,
) -> Result<(), SettleError> {
    staged(policy, claim, state, |state, deltas| {
        run(policy, claim, r, state, rec, out, deltas)
    })
}

/// Prepares `state` for the claim, lets `run` read it and stage its changes, and applies them
/// only when `run` succeeds.
fn staged(
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

/// What `run` records besides the numbers: the explanation, and the band lines of each layer
/// (`None` on the numbers-only path).
struct Recorder<'p> {
    tr: Tracer<'p>,
    bands: Option<Vec<(usize, BandLine)>>,
}

impl<'p> Recorder<'p> {
    /// Records nothing: the numbers-only path.
    fn lean(policy: &'p Policy) -> Recorder<'p> {
        Recorder {
            tr: Tracer {
                on: false,
                policy,
                steps: Vec::new(),
            },
            bands: None,
        }
    }
}

/// One layer's numbers for one claim, in fen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LayerOut {
    applied: bool,
    base: Fen,
    deductible: Fen,
    cap_remaining: Option<Fen>,
    capped: bool,
    payment: Fen,
}

impl LayerOut {
    /// A layer that applied and paid: the rounded amount, or what its caps leave when less.
    #[inline]
    fn settled(base: Fen, deductible: Fen, limit: Option<Fen>, uncapped: Fen) -> LayerOut {
        let capped = limit.is_some_and(|l| l < uncapped);
        LayerOut {
            applied: true,
            base,
            deductible,
            cap_remaining: limit,
            capped,
            payment: match limit {
                Some(l) if capped => l,
                _ => uncapped,
            },
        }
    }
}

/// The numbers of one settlement without names or explanation: each layer's payment, the
/// out-of-pocket split and the fund total. Kept as exact fen inside; every accessor answers in
/// [`Money`]. [`settle_in_place`] builds its [`Settlement`] from exactly these numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    layers: SmallVec<[LayerOut; 6]>,
    burden: [Fen; 7],
    in_scope: Fen,
    fund_total: Fen,
    act_pay_dedc: Fen,
    /// Parameters used that are unverified or overridden.
    flagged: ParamSet,
    warnings: Vec<Warning>,
}

impl Outcome {
    /// How many layers the policy has (applied or not), in policy order.
    pub fn layer_count(&self) -> usize {
        self.layers.len()
    }
    /// What layer `i` (policy order) paid; zero for a layer that did not apply or does not exist.
    pub fn payment(&self, i: usize) -> Money {
        money(self.layers.get(i).map_or(0, |l| l.payment))
    }
    /// Whether layer `i` applied to the claim.
    pub fn applied(&self, i: usize) -> bool {
        self.layers.get(i).is_some_and(|l| l.applied)
    }
    /// The policy-scope amount (政策范围内费用).
    pub fn in_scope(&self) -> Money {
        money(self.in_scope)
    }
    /// What all layers paid together.
    pub fn fund_total(&self) -> Money {
        money(self.fund_total)
    }
    /// What the patient pays in all.
    pub fn out_of_pocket(&self) -> Money {
        money(self.burden.iter().sum())
    }
    /// One part of what the patient pays.
    pub fn out_of_pocket_part(&self, c: Component) -> Money {
        money(self.burden[c.index()])
    }
    /// What the layers paid of the policy-scope amount: the amount less the in-scope parts the
    /// patient still bears (the numerator of 政策范围内报销比例).
    pub fn in_scope_paid(&self) -> Money {
        let left: Fen = Component::IN_SCOPE
            .iter()
            .map(|c| self.burden[c.index()])
            .sum();
        money(self.in_scope - left)
    }
    /// Whether the result relies on a placeholder (unverified) figure or an overridden one.
    pub fn relies_on_flagged(&self) -> bool {
        !self.flagged.is_empty()
    }
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }
}

/// A set of parameter ids, as bits: adding one costs a shift and an or.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ParamSet(SmallVec<[u64; 4]>);

impl ParamSet {
    fn insert(&mut self, p: ParamId) {
        let w = p as usize / 64;
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        if let Some(word) = self.0.get_mut(w) {
            *word |= 1 << (p % 64);
        }
    }

    fn insert_all(&mut self, ps: &[ParamId]) {
        for p in ps {
            self.insert(*p);
        }
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// The ids, ascending.
    fn iter(&self) -> impl Iterator<Item = ParamId> + '_ {
        self.0.iter().enumerate().flat_map(|(i, w)| {
            (0..64u32)
                .filter(move |b| w & (1 << b) != 0)
                .map(move |b| i as u32 * 64 + b)
        })
    }
}

/// One layer's change to the year-to-date state.
struct Delta {
    layer: usize,
    base: Fen,
    deductible: Fen,
    paid: Fen,
    /// `Some` when the layer has a per-admission deductible: the chain after this claim.
    chain: Option<Chain>,
}

type Deltas = SmallVec<[Delta; 6]>;

impl Delta {
    /// A layer that applied with nothing to pay: the claim still counts (an admission with
    /// everything out of scope is an admission) and starts a new referral chain.
    fn empty(li: usize, layer: &Layer, chain: Option<&Chain>, referral: bool) -> Delta {
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
    fn after(
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

/// What a layer paid of its base and what it left, in fen.
struct Paid {
    ded: Fen,
    /// The part of the base within the bands (or the per-case amount).
    within: Fen,
    /// The part above the last band.
    beyond: Fen,
    /// The payment before caps, rounded.
    uncapped: Fen,
    payment: Fen,
    /// When a cap stopped the payment: the cost within the bands up to the cap line (see
    /// [`cap_line`]); the rest of `within` lies above the cap.
    line: Option<Fen>,
}

impl Paid {
    #[inline]
    fn of(layer: &LayerOut, within: Fen, beyond: Fen, uncapped: Fen, line: Option<Fen>) -> Paid {
        Paid {
            ded: layer.deductible,
            within,
            beyond,
            uncapped,
            payment: layer.payment,
            line,
        }
    }

    /// Charges what the layer left to the patient's components. A layer on the policy-scope
    /// amount classifies it into deductible, co-pay and above-cap (and says so: `true`); a layer
    /// on what earlier layers left pays those components off in the order its base names them.
    fn classify(&self, base: &Base, burden: &mut [Fen; 7]) -> bool {
        match base {
            Base::InScope => {
                burden[Component::Deductible.index()] += self.ded;
                match self.line {
                    // Capped: the co-pay is what the patient bears below the cap line; the cost
                    // above the line is 超封顶.
                    Some(line) => {
                        burden[Component::CoPay.index()] += line - self.payment;
                        burden[Component::AboveCap.index()] += self.beyond + (self.within - line);
                    }
                    None => {
                        burden[Component::CoPay.index()] += self.within - self.uncapped;
                        burden[Component::AboveCap.index()] +=
                            self.beyond + (self.uncapped - self.payment);
                    }
                }
                true
            }
            Base::Remaining(cs) => {
                let mut left = self.payment;
                for c in cs {
                    let take = left.min(burden[c.index()]);
                    burden[c.index()] -= take;
                    left -= take;
                }
                false
            }
        }
    }
}

/// The year pools a layer's caps draw on, each once.
fn layer_pools(layer: &Layer) -> impl Iterator<Item = u32> + '_ {
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
fn draws_on(layer: Option<&Layer>, pool: u32) -> bool {
    layer.is_some_and(|l| {
        l.caps
            .iter()
            .any(|c| matches!(c.per, CapPer::Year { pool: q } if q == pool))
    })
}

/// What a layer paid earlier in the month of `date` (for its `cap per_month`).
#[inline]
fn month_paid(ytd: Option<&LayerYtd>, date: crate::date::Date) -> Fen {
    match ytd {
        Some(y) if y.month == Some(date.month()) => fen_of(y.month_paid),
        _ => 0,
    }
}

/// Whether a layer has a monthly cap, so its state keeps the month's payments.
fn has_month_cap(layer: Option<&Layer>) -> bool {
    layer.is_some_and(|l| l.caps.iter().any(|c| matches!(c.per, CapPer::Month)))
}

fn apply(policy: &Policy, state: &mut YtdState, deltas: &Deltas) {
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

/// What a pool has paid this year, including earlier layers of this claim.
fn pool_paid(policy: &Policy, state: &YtdState, deltas: &Deltas, pool: u32) -> Fen {
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

/// Where this claim's base lies on the layer's measure: `(start, end)` of the part above the
/// deductible. On the claim it starts at the deductible; on the year, after the year's base so
/// far (deductibles included); on the year's covered amount, after what earlier claims had
/// above their deductibles.
#[inline]
fn measure_span(
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

/// The cap line of a layer a cap stopped, where it classifies the policy-scope amount (a
/// layer on what others left pays those parts off and has no line of its own).
fn capped_line(
    layer: &Layer,
    result: &LayerOut,
    segments: impl Iterator<Item = (Fen, Decimal)>,
) -> Option<Fen> {
    (result.capped && layer.base == Base::InScope && layer.per_case.is_none())
        .then(|| cap_line(segments, result.payment))
}

/// The warnings of a layer that applied with an unknown deductible or cap (the rule for
/// unknown figures: taken as none, the result says which way it may be off). An unknown cap
/// matters only where the layer paid.
fn warn_unknown(
    layer: &Layer,
    ded_unknown: bool,
    cap_unknown: bool,
    payment: Fen,
    warnings: &mut Vec<Warning>,
) {
    if ded_unknown {
        warnings.push(unknown_warning(layer, Target::Deductible));
    }
    if cap_unknown && payment > 0 {
        warnings.push(unknown_warning(layer, Target::Cap));
    }
}

/// Why a layer does not apply to a claim.
enum Skip {
    /// Its `when` conditions do not select the claim.
    Conditions,
    /// It is a per-case layer and the claim has no case.
    NotPerCase,
    /// An earlier layer already classified the policy-scope amount.
    Classified,
}

fn run(
    policy: &Policy,
    claim: &Claim,
    r: &Resolved,
    state: &YtdState,
    rec: &mut Recorder,
    out: &mut Outcome,
    deltas: &mut Deltas,
) -> Result<(), SettleError> {
    let a = &claim.amounts;
    let (in_scope, mut burden) = split_bill(claim);
    let mut fund_total: Fen = 0;
    let mut act_pay_dedc: Fen = 0;
    let mut unclassified = in_scope;
    let mut used_list = Used::new();
    let used_all = &mut used_list;
    let warnings = &mut out.warnings;
    let layers = &mut out.layers;
    let mut used: Used = SmallVec::new();
    let tr = &mut rec.tr;
    let trace = tr.on;
    let mut classified_by: Option<&str> = None;

    if tr.on {
        tr.step(
            None,
            StepKind::Split,
            format!(
                "医疗费总额 {}：全自费 {}，先行自付 {}，超限价自付 {}，政策范围内费用 {}",
                a.total,
                a.out_of_list,
                a.pre_self_pay,
                a.over_limit,
                fmt_money(yuan(in_scope))
            ),
            format!(
            "Total bill {}: out-of-list {}, pre-self-pay {}, over-limit {}, policy-scope amount {}",
            a.total, a.out_of_list, a.pre_self_pay, a.over_limit, fmt_money(yuan(in_scope))
        ),
            yuan(in_scope),
            None,
            &[],
        );
    }
    warn_level_defaulted(policy, r, warnings);
    warn_case_code_ignored(policy, claim, warnings);

    for (li, layer) in policy.layers.iter().enumerate() {
        let lid: &str = &layer.id;
        let lid_arc = &layer.id;
        let mut result = LayerOut::default();
        // Why the layer does not apply, if it does not (words only when tracing).
        let skip = if !r.selects(&layer.when) {
            Some(Skip::Conditions)
        } else if layer.per_case.is_some() && r.case.is_none() {
            Some(Skip::NotPerCase)
        } else if already_classified(layer, unclassified, in_scope) {
            Some(Skip::Classified)
        } else {
            None
        };
        if let Some(why) = skip {
            if tr.on {
                let by = classified_by.unwrap_or("");
                let (zh, en) = match why {
                    Skip::Conditions => (
                        "本次就医不符合本层的适用条件".to_string(),
                        "the claim does not meet this layer's conditions".to_string(),
                    ),
                    Skip::NotPerCase => (
                        "非按病种结算".to_string(),
                        "not a per-case (按病种) claim".to_string(),
                    ),
                    Skip::Classified => (
                        format!("政策范围内费用已由 {by} 结算"),
                        format!("the policy-scope amount was already settled by `{by}`"),
                    ),
                };
                tr.step(
                    Some(lid_arc),
                    StepKind::NotApplicable,
                    format!("{}：{zh}", layer.label),
                    format!("{}: {en}", layer.label_en.as_deref().unwrap_or(lid)),
                    Decimal::ZERO,
                    Some(&layer.cite),
                    &[],
                );
            }
            layers.push(result);
            continue;
        }
        used.clear();
        if ratio_unknown(layer, r, &mut used)? {
            // The rule for unknown figures: a layer whose ratio is unknown is not applied.
            take_used(used_all, &used);
            used.clear();
            warnings.push(unknown_warning(layer, Target::Ratio));
            if tr.on {
                tr.step(
                    Some(lid_arc),
                    StepKind::NotApplicable,
                    format!("{}：支付比例未知（未核实），本层未计算", layer.label),
                    format!(
                        "{}: the payment ratio is unknown (unverified); the layer is not applied",
                        layer.label_en.as_deref().unwrap_or(lid)
                    ),
                    Decimal::ZERO,
                    Some(&layer.cite),
                    &[],
                );
            }
            layers.push(result);
            continue;
        }
        result.applied = true;
        let ytd = state
            .layers
            .get(li)
            .map(|(_, y)| y.clone())
            .unwrap_or_default();

        // The base.
        let base = layer_base(layer, unclassified, &burden);
        if tr.on {
            let base_desc = match &layer.base {
                Base::InScope => (
                    "政策范围内费用".to_string(),
                    "the policy-scope amount".to_string(),
                ),
                Base::Remaining(cs) => {
                    let names: Vec<&str> = cs.iter().map(|c| c.name()).collect();
                    (
                        "前序各层结算后个人负担的 ".to_string() + &names.join(" + "),
                        "what earlier layers left the patient: ".to_string() + &names.join(" + "),
                    )
                }
            };
            tr.step(
                Some(lid_arc),
                StepKind::Base,
                format!(
                    "{}：计算基数 {} = {}",
                    layer.label,
                    base_desc.0,
                    fmt_money(yuan(base))
                ),
                format!(
                    "{}: base = {} = {}",
                    layer.label_en.as_deref().unwrap_or(lid),
                    base_desc.1,
                    fmt_money(yuan(base))
                ),
                yuan(base),
                Some(&layer.cite),
                &[],
            );
        }

        if base == 0 {
            // Nothing to pay: no figure of this layer affects the result. The claim still counts
            // (an admission with everything out of scope is an admission).
            deltas.push(Delta::empty(li, layer, ytd.chain.as_ref(), claim.referral));
            layers.push(result);
            continue;
        }
        let ytd_base = year_base(lid, Some(&ytd))?;

        let mods = active_modifiers(layer, r);

        // The deductible (threshold).
        let mut threshold: Fen = 0;
        let mut ded: Fen = 0;
        let mut ded_unknown = false;
        if let Some(d) = &layer.deductible {
            let later = d
                .later
                .as_ref()
                .is_some_and(|(n, ..)| ytd.claims.saturating_add(1) >= *n);
            let dv = deductible_value(d, later, &mods, r, &mut used, trace)?;
            let (t, tf, cite) = (dv.figure, dv.fen, dv.cite);
            ded_unknown = dv.unknown;
            threshold = tf;
            let remaining = deductible_due(d.per, tf, layer, Some(&ytd), claim.referral);
            // Why, in words: only for the trace.
            let why = || match d.per {
                DeductiblePer::Admission => match (&ytd.chain, layer.referral, claim.referral) {
                    (Some(ch), Referral::Continuous, true) if ch.entered_fund => (
                        "转诊连续计算起付线，前次住院已超过起付线".to_string(),
                        "referral: the chain already passed the deductible".to_string(),
                    ),
                    (Some(ch), Referral::Continuous, true) => (
                        format!("转诊连续计算起付线，已付 {}", ch.deductible_paid),
                        format!("referral: {} already paid in the chain", ch.deductible_paid),
                    ),
                    (Some(ch), Referral::Difference, true) => (
                        format!("转诊按差额计算起付线，转诊链已付 {}", ch.deductible_paid),
                        format!(
                            "referral: the difference to the {} already paid in the chain",
                            ch.deductible_paid
                        ),
                    ),
                    _ => (
                        format!("本年第 {} 次", ytd.claims.saturating_add(1)),
                        format!("claim {} of the year", ytd.claims.saturating_add(1)),
                    ),
                },
                DeductiblePer::Year => (
                    format!("年度累计已付 {}", ytd.deductible_paid),
                    format!("{} already paid this year", ytd.deductible_paid),
                ),
            };
            ded = remaining.min(base);
            take_used(used_all, &used);
            if tr.on {
                if dv.before != t {
                    trace_modifiers(tr, layer, &mods, Target::Deductible, dv.before, r)?;
                }
                let (why_zh, why_en) = why();
                tr.step(
                    Some(lid_arc),
                    StepKind::Deductible,
                    if ded_unknown {
                        format!(
                            "起付标准未知（未核实），按 0 计算（{why_zh}），本次计入起付线 {}",
                            fmt_money(yuan(ded))
                        )
                    } else {
                        format!(
                            "起付标准 {}（{why_zh}），本次计入起付线 {}",
                            fmt_money(t),
                            fmt_money(yuan(ded))
                        )
                    },
                    if ded_unknown {
                        format!(
                            "deductible unknown (unverified), taken as 0 ({why_en}); charged in this claim: {}",
                            fmt_money(yuan(ded))
                        )
                    } else {
                        format!(
                            "deductible {} ({why_en}); charged in this claim: {}",
                            fmt_money(t),
                            fmt_money(yuan(ded))
                        )
                    },
                    yuan(ded),
                    Some(cite),
                    &used,
                );
            }
            used.clear();
        }

        // Bands, or the per-case share.
        let (start, end) = measure_span(layer.measure, ytd_base, &ytd, base, ded);
        let mut segments: SmallVec<[(Fen, Decimal); 4]> = SmallVec::new();
        let mut raw = Decimal::ZERO;
        let mut within: Fen = 0;
        if let (Some(pc), Some(ci)) = (&layer.per_case, r.case) {
            let case = policy.cases.get(ci);
            let mut cx = Ctx {
                r,
                cite: &pc.cite,
                used: &mut used,
                all: trace,
                unknown: false,
            };
            let share = eval(&pc.share, &mut cx, None)?
                .unwrap_or_default()
                .clamp(Decimal::ZERO, Decimal::ONE);
            let standard = match case {
                Some(c) => eval(&c.standard, &mut cx, None)?.unwrap_or_default(),
                None => Decimal::ZERO,
            };
            let patient = chk(share.checked_mul(standard), &pc.cite)?.min(yuan(base - ded));
            raw = yuan(base - ded) - patient;
            within = base - ded;
            take_used(used_all, &used);
            if tr.on {
                tr.step(
                    Some(lid_arc),
                    StepKind::PerCase,
                    format!(
                        "按病种结算：病种标准 {} × 个人负担比例 {} = 个人负担 {}",
                        fmt_money(standard),
                        pct(share),
                        fmt_decimal(patient)
                    ),
                    format!(
                        "per case: standard fee {} × patient share {} = {}",
                        fmt_money(standard),
                        pct(share),
                        fmt_decimal(patient)
                    ),
                    raw,
                    Some(&pc.cite),
                    &used,
                );
            }
            used.clear();
        } else if let Some(bands) = &layer.bands {
            let mut lo: Fen = 0;
            for band in &bands.bands {
                let mut cx = Ctx {
                    r,
                    cite: &band.cite,
                    used: &mut used,
                    all: trace,
                    unknown: false,
                };
                let hi = band_edge(band, &mut cx)?.map(|edge| {
                    if bands.relative {
                        edge + threshold
                    } else {
                        edge
                    }
                });
                let Some(ratio0) = eval(&band.ratio, &mut cx, None)? else {
                    // No ratio for this claim in this band: the band pays nothing.
                    lo = hi.unwrap_or(lo);
                    take_used(used_all, &used);
                    used.clear();
                    continue;
                };
                let ratio = modify(&mods, Target::Ratio, ratio0, &mut cx)?.unwrap_or(ratio0);
                let ratio = if !is_unit_ratio(ratio) {
                    warnings.push(Warning {
                        layer: Some(lid_arc.clone()),
                        ..Warning::new(
                            "ratio_clamped",
                            format!("layer `{lid}`: ratio {} after modifiers is outside 0–100% and was clamped", pct(ratio)),
                        )
                    });
                    ratio.clamp(Decimal::ZERO, Decimal::ONE)
                } else {
                    ratio
                };
                let b_lo = lo.max(start);
                let b_hi = match hi {
                    Some(h) => h.min(end),
                    None => end,
                };
                if b_hi > b_lo {
                    if tr.on && ratio != ratio0 {
                        trace_modifiers(tr, layer, &mods, Target::Ratio, ratio0, r)?;
                    }
                    let amount = b_hi - b_lo;
                    let product = chk(yuan(amount).checked_mul(ratio), &band.cite)?;
                    raw += product;
                    within += amount;
                    segments.push((amount, ratio));
                    take_used(used_all, &used);
                    if tr.on {
                        let (range, range_en) = if hi.is_none() && lo == 0 && bands.bands.len() == 1
                        {
                            ("按比例支付".to_string(), "at the ratio".to_string())
                        } else {
                            let r = format!("{}–{}", fmt_money(yuan(b_lo)), fmt_money(yuan(b_hi)));
                            (format!("{r} 段"), format!("band {r}"))
                        };
                        tr.step(
                            Some(lid_arc),
                            StepKind::Band,
                            format!(
                                "{range}：{} × {} = {}",
                                fmt_money(yuan(amount)),
                                pct(ratio),
                                fmt_amount(product)
                            ),
                            format!(
                                "{range_en}: {} × {} = {}",
                                fmt_money(yuan(amount)),
                                pct(ratio),
                                fmt_amount(product)
                            ),
                            yuan(amount),
                            Some(&band.cite),
                            &used,
                        );
                    }
                    if let Some(lines) = &mut rec.bands {
                        lines.push((
                            li,
                            BandLine {
                                from: money(lo),
                                to: hi.map(money),
                                amount: money(amount),
                                ratio,
                                product,
                            },
                        ));
                    }
                }
                used.clear();
                match hi {
                    Some(h) => lo = lo.max(h),
                    None => break,
                }
            }
        }
        let beyond = (end - start) - within;
        if beyond > 0 && layer.per_case.is_none() && tr.on {
            {
                tr.step(
                    Some(lid_arc),
                    StepKind::Uncovered,
                    format!("超出最高分段的 {} 本层不予支付", fmt_money(yuan(beyond))),
                    format!(
                        "{} above the last band is not paid by this layer",
                        fmt_money(yuan(beyond))
                    ),
                    yuan(beyond),
                    Some(&layer.cite),
                    &[],
                );
            }
        }

        // Caps.
        let mut limit: Option<Fen> = None;
        let mut limit_cite: Option<&Cite> = None;
        let mut cap_unknown = false;
        for cap in &layer.caps {
            let mut cx = Ctx {
                r,
                cite: &cap.cite,
                used: &mut used,
                all: trace,
                unknown: false,
            };
            let Some(v) = eval(&cap.value, &mut cx, None)? else {
                cap_unknown |= cx.unknown;
                take_used(used_all, &used);
                used.clear();
                continue;
            };
            let Some(v) = modify(&mods, Target::Cap, v, &mut cx)? else {
                used.clear();
                continue;
            };
            let vf = money_param(non_negative(v), &cap.cite)?;
            let remaining = match &cap.per {
                CapPer::Claim => vf,
                CapPer::Year { pool } => (vf - pool_paid(policy, state, deltas, *pool)).max(0),
                CapPer::Month => (vf - month_paid(Some(&ytd), claim.date)).max(0),
            };
            take_used(used_all, &used);
            if limit.is_none_or(|l| remaining < l) {
                limit = Some(remaining);
                limit_cite = Some(&cap.cite);
                if tr.on {
                    {
                        tr.step(
                            Some(lid_arc),
                            StepKind::Cap,
                            format!(
                                "最高支付限额 {}，本次可支付 {}",
                                fmt_money(v),
                                fmt_money(yuan(remaining))
                            ),
                            format!(
                                "cap {}; available for this claim: {}",
                                fmt_money(v),
                                fmt_money(yuan(remaining))
                            ),
                            yuan(remaining),
                            Some(&cap.cite),
                            &used,
                        );
                    }
                }
            }
            used.clear();
        }

        let uncapped = round_to_fen(raw).ok_or_else(|| EvalError::Overflow(layer.cite.clone()))?;
        let result = LayerOut::settled(base, ded, limit, uncapped);
        let payment = result.payment;
        fund_total += payment;
        let line = capped_line(layer, &result, segments.iter().copied());
        warn_unknown(layer, ded_unknown, cap_unknown, payment, warnings);
        if tr.on {
            tr.step(
                Some(lid_arc),
                StepKind::Payment,
                if result.capped {
                    format!(
                        "{}支付 {}（按比例应付 {}，受最高支付限额限制）",
                        layer.label,
                        fmt_money(yuan(payment)),
                        fmt_money(yuan(uncapped))
                    )
                } else {
                    format!(
                        "{}支付 {}（{} 四舍五入到分）",
                        layer.label,
                        fmt_money(yuan(payment)),
                        fmt_amount(raw)
                    )
                },
                if result.capped {
                    format!(
                        "{} pays {} ({} by ratio, limited by the cap)",
                        layer.label_en.as_deref().unwrap_or(lid),
                        fmt_money(yuan(payment)),
                        fmt_money(yuan(uncapped))
                    )
                } else {
                    format!(
                        "{} pays {} ({} rounded to the cent)",
                        layer.label_en.as_deref().unwrap_or(lid),
                        fmt_money(yuan(payment)),
                        fmt_amount(raw)
                    )
                },
                yuan(payment),
                Some(limit_cite.filter(|_| result.capped).unwrap_or(&layer.cite)),
                &[],
            );
        }

        if let (Some(line), true) = (line, tr.on) {
            let above = within - line;
            tr.step(
                Some(lid_arc),
                StepKind::Cap,
                format!(
                    "封顶线：费用累计到 {} 时本层支付达到限额；其上 {} 为超封顶费用",
                    fmt_money(yuan(start + line)),
                    fmt_money(yuan(above))
                ),
                format!(
                    "cap line: this layer's payment reaches its cap at {} of cost; the {} above it is above the cap",
                    fmt_money(yuan(start + line)),
                    fmt_money(yuan(above))
                ),
                yuan(above),
                limit_cite,
                &[],
            );
        }

        // Who bears what is left.
        let paid = Paid::of(&result, within, beyond, uncapped, line);
        if paid.classify(&layer.base, &mut burden) {
            unclassified = 0;
            classified_by = Some(lid);
            act_pay_dedc += ded;
        }
        // The year so far (applied once the whole claim is settled).
        deltas.push(Delta::after(
            li,
            layer,
            ytd.chain.as_ref(),
            claim.referral,
            base,
            &paid,
        ));
        layers.push(result);
    }
    burden[Component::NotCovered.index()] += unclassified;

    let oop_total: Fen = burden.iter().sum();
    if tr.on {
        tr.step(
            None,
            StepKind::OutOfPocket,
            format!(
                "基金合计支付 {}，个人负担 {}",
                fmt_money(yuan(fund_total)),
                fmt_money(yuan(oop_total))
            ),
            format!(
                "funds pay {} in all; the patient pays {}",
                fmt_money(yuan(fund_total)),
                fmt_money(yuan(oop_total))
            ),
            yuan(oop_total),
            None,
            &[],
        );
    }
    for i in used_list {
        if is_flagged(policy, i) {
            out.flagged.insert(i);
        }
    }
    out.burden = burden;
    out.in_scope = in_scope;
    out.fund_total = fund_total;
    out.act_pay_dedc = act_pay_dedc;
    Ok(())
}

/// The named, explained result, built from the numbers `run` produced.
fn build(policy: &Policy, claim: &Claim, r: &Resolved, out: Outcome, rec: Recorder) -> Settlement {
    let a = &claim.amounts;
    let b = &out.burden;
    let oop = OutOfPocket {
        total: money(b.iter().sum()),
        out_of_list: money(b[Component::OutOfList.index()]),
        pre_self_pay: money(b[Component::PreSelfPay.index()]),
        over_limit: money(b[Component::OverLimit.index()]),
        deductible: money(b[Component::Deductible.index()]),
        co_pay: money(b[Component::CoPay.index()]),
        above_cap: money(b[Component::AboveCap.index()]),
        not_covered: money(b[Component::NotCovered.index()]),
    };
    let mut platform = Platform::default();
    let mut band_lines = rec.bands.unwrap_or_default().into_iter().peekable();
    let mut layers = Vec::with_capacity(out.layers.len());
    for (li, (layer, lo)) in policy.layers.iter().zip(&out.layers).enumerate() {
        let mut bands = SmallVec::new();
        while let Some((_, line)) = band_lines.next_if(|(l, _)| *l == li) {
            bands.push(line);
        }
        if let Some(f) = platform.fund_field_mut(&layer.platform_field) {
            *f = money(fen_of(*f) + lo.payment);
        }
        layers.push(LayerResult {
            id: layer.id.clone(),
            kind: layer.kind,
            label: layer.label.clone(),
            label_en: layer.label_en.clone(),
            platform_field: layer.platform_field.clone(),
            applied: lo.applied,
            base: money(lo.base),
            deductible: money(lo.deductible),
            bands,
            cap_remaining: lo.cap_remaining.map(money),
            capped: lo.capped,
            payment: money(lo.payment),
        });
    }
    platform.medfee_sumamt = a.total;
    platform.fulamt_ownpay_amt = a.out_of_list;
    platform.overlmt_selfpay = a.over_limit;
    platform.preselfpay_amt = a.pre_self_pay;
    platform.inscp_scp_amt = money(out.in_scope);
    platform.act_pay_dedc = money(out.act_pay_dedc);
    platform.fund_pay_sumamt = money(out.fund_total);
    platform.psn_part_amt = oop.total;

    let (mut overrides, mut unverified) = (Vec::new(), Vec::new());
    if !out.flagged.is_empty() {
        let ids: Used = out.flagged.iter().collect();
        for p in uses(policy, &ids) {
            if p.0.overridden.is_some() {
                overrides.push(p);
            } else {
                unverified.push(p);
            }
        }
    }
    let mut warnings = out.warnings;
    if policy.effective_provenance.provenance == Provenance::Placeholder {
        warnings.push(Warning::new(
            "unverified_version_date",
            "the date this policy version took effect is not verified (未核实); claims near it may fall under another version",
        ));
    }
    if !unverified.is_empty() {
        warnings.insert(
            0,
            Warning::new(
                "unverified",
                "本结果用到了尚未与官方文件核实的数字（见 unverified 列表），结果可能与实际不符 / this result relies on figures not yet verified against an official text (listed under `unverified`); it may differ from what you are actually paid",
            ),
        );
    }
    let d = &policy.dims;
    let name = |v: &[DimValue], i: u16| {
        v.get(usize::from(i))
            .map(|x| x.id.clone())
            .unwrap_or_else(|| Arc::from(""))
    };
    Settlement {
        claim_id: claim.id.clone(),
        policy: PolicyRef {
            id: policy.id.clone(),
            name: policy.name.clone(),
            version: policy.effective,
            content_hash: policy.content_hash.clone(),
        },
        date: claim.date,
        situation: Situation {
            group: name(&d.groups, r.group),
            categories: r
                .categories
                .iter()
                .map(|c| name(&d.categories, *c))
                .collect(),
            care: name(&d.care, r.care),
            level: name(&d.levels, r.level),
            place: name(&d.places, r.place),
            referral: claim.referral,
            disease: r.disease.map(|x| name(&d.diseases, x)),
            case_code: claim.case_code.clone(),
        },
        amounts: BillSplit {
            total: a.total,
            out_of_list: a.out_of_list,
            pre_self_pay: a.pre_self_pay,
            over_limit: a.over_limit,
            in_scope: money(out.in_scope),
        },
        layers,
        fund_total: money(out.fund_total),
        out_of_pocket: oop,
        platform,
        unverified,
        overrides,
        warnings,
        trace: rec.tr.steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::round_cents;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn is_unit_ratio_is_a_comparison(lo in any::<u32>(), mid in 0u32..3, neg: bool, scale in 0u32..=28) {
            let r = Decimal::from_parts(lo, mid, 0, neg, scale);
            prop_assert_eq!(is_unit_ratio(r), r >= Decimal::ZERO && r <= Decimal::ONE);
            prop_assert_eq!(non_negative(r), r.max(Decimal::ZERO));
        }

        /// The integer rounding used on the hot path is rust_decimal's half-away-from-zero
        /// rounding to the cent, for every mantissa and scale a payment can have.
        #[test]
        fn round_to_fen_is_round_cents(lo in any::<u32>(), mid in any::<u32>(), hi in 0u32..1000, neg: bool, scale in 0u32..=28) {
            let d = Decimal::from_parts(lo, mid, hi, neg, scale);
            let want = to_fen(round_cents(d));
            prop_assert_eq!(round_to_fen(d), want);
        }

        #[test]
        fn round_to_fen_at_midpoints(f in -10_000_000_000i64..10_000_000_000, extra in 1u32..17) {
            // f fen and a half, at `extra` more decimals than the cent.
            let m = i128::from(f) * 10i128.pow(extra) + 5 * 10i128.pow(extra - 1) * i128::from(f.signum().max(1));
            let d = Decimal::from_i128_with_scale(m, 2 + extra);
            prop_assert_eq!(round_to_fen(d), to_fen(round_cents(d)));
        }
    }
}
