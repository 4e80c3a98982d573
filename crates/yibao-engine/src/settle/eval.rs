//! Evaluating the policy's values for a claim: tables, formulas and the `for` blocks (modifiers).

use super::*;

/// Evaluation context for one clause: the claim, the clause's citation, and the parameters used.
pub(super) type Used = SmallVec<[ParamId; 16]>;

pub(super) struct Ctx<'a> {
    pub(super) r: &'a Resolved,
    pub(super) cite: &'a Cite,
    /// Parameters used; all of them when tracing, else only those a result must name.
    pub(super) used: &'a mut Used,
    pub(super) all: bool,
    /// Set when a figure the evaluation met is unknown (`none [placeholder]`).
    pub(super) unknown: bool,
}

pub(super) fn chk(x: Option<Decimal>, cite: &Cite) -> Result<Decimal, EvalError> {
    x.ok_or_else(|| EvalError::Overflow(cite.clone()))
}

pub(super) fn eval(
    v: &Value,
    cx: &mut Ctx,
    cur: Option<Decimal>,
) -> Result<Option<Decimal>, EvalError> {
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

pub(super) fn eval_expr(
    e: &Expr,
    cx: &mut Ctx,
    cur: Option<Decimal>,
) -> Result<Option<Decimal>, EvalError> {
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
pub(super) fn refers_to_current(v: &Value) -> bool {
    v.any_leaf(&|l| matches!(l, Leaf::Current))
}

/// Adds the parameters a clause used to the result's list.
#[inline]
pub(super) fn take_used(all: &mut Used, used: &[ParamId]) {
    for p in used {
        if !all.contains(p) {
            all.push(*p);
        }
    }
}

/// Whether a result that used parameter `i` must name it: unverified or overridden.
pub(super) fn is_flagged(policy: &Policy, i: ParamId) -> bool {
    policy
        .params
        .get(i as usize)
        .is_some_and(|p| p.provenance.is_unverified() || p.overridden.is_some())
}

/// Records the parameters a value used (usually one: a push, not a general slice copy).
pub(super) fn note(used: &mut Used, params: &[ParamId]) {
    for p in params {
        used.push(*p);
    }
}

/// `max(d, 0)` without a general decimal comparison.
pub(super) fn non_negative(d: Decimal) -> Decimal {
    if d.is_sign_negative() {
        Decimal::ZERO
    } else {
        d
    }
}

/// Whether `r` lies in 0–100%: `0 ≤ mantissa ≤ 10^scale`, without rescaling either side.
pub(super) fn is_unit_ratio(r: Decimal) -> bool {
    let m = r.mantissa();
    m >= 0 && 10i128.checked_pow(r.scale()).is_some_and(|one| m <= one)
}

/// Money parameters must resolve to whole cents (a fraction of a cent would need rounding that
/// the policy never asked for) within the range claims have.
pub(super) fn money_param(v: Decimal, cite: &Cite) -> Result<Fen, EvalError> {
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
pub(super) type Active<'a> = SmallVec<[&'a Modifier; 4]>;

pub(super) fn active_modifiers<'a>(layer: &'a Layer, r: &Resolved) -> Active<'a> {
    layer
        .modifiers
        .iter()
        .filter(|m| r.selects(&m.selector))
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Deductible,
    Ratio,
    Cap,
}

impl Target {
    pub(super) fn names(self) -> (&'static str, &'static str) {
        match self {
            Target::Deductible => ("起付标准", "deductible"),
            Target::Ratio => ("支付比例", "ratio"),
            Target::Cap => ("最高支付限额", "cap"),
        }
    }

    pub(super) fn of(self, op: &ModOp) -> bool {
        matches!(
            (op, self),
            (ModOp::Deductible { .. }, Target::Deductible)
                | (ModOp::Ratio { .. }, Target::Ratio)
                | (ModOp::Cap { .. }, Target::Cap)
        )
    }
}

/// Applies the selected modifiers' ops on `target` to `v`, in order; `None` when one removes
/// the cap (`no cap`) — the other targets always have a value.
pub(super) fn modify(
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

/// A band's upper edge as written, in fen (a relative band adds the deductible to it); `None`:
/// open-ended.
pub(super) fn band_edge(band: &Band, cx: &mut Ctx) -> Result<Option<Fen>, EvalError> {
    match &band.upto {
        None => Ok(None),
        Some(v) => match eval(v, cx, None)? {
            Some(x) => Ok(Some(money_param(x, &band.cite)?)),
            None => Ok(None),
        },
    }
}
