//! Long-term care (长期护理保险): one month of care for one person, under a care policy.
//!
//! Each care layer takes the month's costs of the kinds its base names (`base cost [..]`) that
//! no earlier layer took, checks its conditions (`require <fact> <op> V`: unmet, it pays
//! nothing and says so), limits the cost that counts (`limit per_day|per_month V`: per day it
//! counts the days of care outside hospital), pays its ratio of the counted cost rounded to the
//! fen, and stops at its fund caps (`cap per_month V [pool P]`: its own payments in the month, or
//! those of every layer in the pool, this claim's earlier layers included). What the person
//! pays splits into co-pay (the counted cost the ratio leaves), above-cap (the cost above a
//! covered-cost limit and what a fund cap stops) and not covered (costs no layer took, or whose
//! layer's conditions were not met).

use super::*;
use crate::claim::CareMonth;

/// The fact a condition tests, for this month; `months_used` adds the months this layer paid
/// earlier in the year.
fn fact(m: &CareMonth, f: CareFact, ytd: &LayerYtd) -> Result<Decimal, ClaimError> {
    let need = |v: Option<u32>| {
        v.map(Decimal::from).ok_or_else(|| {
            ClaimError::new(
                format!("month.{}", f.name()),
                format!(
                    "this policy's conditions need `{}` for this month of care",
                    f.name()
                ),
            )
        })
    };
    Ok(match f {
        CareFact::Days => need(m.days)?,
        CareFact::Visits => need(m.visits)?,
        CareFact::Age => need(m.age)?,
        CareFact::Hours => match m.hours {
            Some(h) => h.0,
            None => need(None)?,
        },
        CareFact::MonthsUsed => Decimal::from(m.months_used) + Decimal::from(ytd.claims),
    })
}

/// Checks the month against the claim: it is required, its costs add up to the total, the
/// hospital days lie within the days of care, and nothing is out of the list.
fn check_month(claim: &Claim) -> Result<&CareMonth, ClaimError> {
    let Some(m) = &claim.month else {
        return Err(ClaimError::new(
            "month",
            "a long-term care policy settles a month of care: give `month` with its costs",
        ));
    };
    let a = &claim.amounts;
    for (name, v) in [
        ("out_of_list", a.out_of_list),
        ("pre_self_pay", a.pre_self_pay),
        ("over_limit", a.over_limit),
    ] {
        if !v.is_zero() {
            return Err(ClaimError::new(
                format!("amounts.{name}"),
                "a month of long-term care has no such part: give the costs by kind in `month.costs`",
            ));
        }
    }
    let sum: Fen = m.costs.by_kind().iter().map(|c| fen_of(*c)).sum();
    if sum != fen_of(a.total) {
        return Err(ClaimError::new(
            "amounts.total",
            format!(
                "the total {} is not the sum of the month's costs ({})",
                a.total,
                fmt_money(yuan(sum))
            ),
        ));
    }
    if let Some(days) = m.days {
        if days > 31 {
            return Err(ClaimError::new(
                "month.days",
                format!("{days} days of care in one month: at most 31"),
            ));
        }
        if m.hospital_days > days {
            return Err(ClaimError::new(
                "month.hospital_days",
                format!(
                    "{} days in hospital is more than the {days} days of care",
                    m.hospital_days
                ),
            ));
        }
    } else if m.hospital_days > 31 {
        return Err(ClaimError::new(
            "month.hospital_days",
            "more than 31 days in one month",
        ));
    }
    Ok(m)
}

/// What the layers of `pool` paid in the claim's month: earlier claims of the month (from the
/// state) and earlier layers of this claim.
fn month_pool_paid(
    policy: &Policy,
    state: &YtdState,
    deltas: &Deltas,
    pool: &str,
    date: crate::date::Date,
) -> Fen {
    let in_pool = |l: &Layer| {
        l.care
            .as_ref()
            .is_some_and(|c| c.caps.iter().any(|k| k.pool.as_deref() == Some(pool)))
    };
    let before: Fen = policy
        .layers
        .iter()
        .zip(&state.layers)
        .filter(|(l, _)| in_pool(l))
        .map(|(_, (_, y))| month_paid(Some(y), date))
        .sum();
    before
        + deltas
            .iter()
            .filter(|d| policy.layers.get(d.layer).is_some_and(in_pool))
            .map(|d| d.paid)
            .sum::<Fen>()
}

#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    policy: &Policy,
    claim: &Claim,
    r: &Resolved,
    state: &YtdState,
    rec: &mut Recorder,
    out: &mut Outcome,
    deltas: &mut Deltas,
) -> Result<(), SettleError> {
    let m = check_month(claim)?;
    let mut left: [Fen; 6] = [0; 6];
    for (i, c) in m.costs.by_kind().iter().enumerate() {
        left[i] = fen_of(*c);
    }
    let total = fen_of(claim.amounts.total);
    let mut burden: [Fen; 7] = [0; 7];
    let mut fund_total: Fen = 0;
    let mut used_all = Used::new();
    let mut used = Used::new();
    let tr = &mut rec.tr;
    let trace = tr.on;
    let care_days = m.days.map(|d| d.saturating_sub(m.hospital_days));
    if tr.on {
        let names: Vec<String> = CostKind::ALL
            .iter()
            .zip(m.costs.by_kind())
            .filter(|(_, c)| !c.is_zero())
            .map(|(k, c)| format!("{} {c}", k.name()))
            .collect();
        tr.step(
            None,
            StepKind::Split,
            format!(
                "本月护理费用合计 {}：{}",
                claim.amounts.total,
                names.join("，")
            ),
            format!(
                "care costs this month {}: {}",
                claim.amounts.total,
                names.join(", ")
            ),
            yuan(total),
            None,
            &[],
        );
    }
    if m.hospital_days > 0 {
        out.warnings.push(
            Warning::new(
                "care_in_hospital",
                format!(
                    "本月有 {} 天住院或急诊留观，期间的护理费用不予支付 / {} days of the month in hospital or emergency observation: care on those days is not paid",
                    m.hospital_days, m.hospital_days
                ),
            )
            .into(),
        );
    }
    warn_level_defaulted(r, &mut out.warnings);

    for (li, layer) in policy.layers.iter().enumerate() {
        let lid = &layer.id;
        let Some(rule) = layer.care.as_deref() else {
            out.layers.push(LayerOut::default());
            continue;
        };
        let not_applicable = |tr: &mut Tracer, zh: &str, en: &str| {
            if tr.on {
                tr.step(
                    Some(lid),
                    StepKind::NotApplicable,
                    format!("{}：{zh}", layer.label),
                    format!("{}: {en}", layer.name_en()),
                    Decimal::ZERO,
                    Some(&layer.cite),
                    &[],
                );
            }
        };
        if !r.selects(&layer.when) {
            not_applicable(
                tr,
                "本月护理不符合本层的适用条件",
                "this month of care does not meet this layer's conditions",
            );
            out.layers.push(LayerOut::default());
            continue;
        }
        used.clear();
        if ratio_unknown(layer, r, &mut used)? {
            take_used(&mut used_all, &used);
            out.warnings.push(Note::Unknown(li, Target::Ratio));
            not_applicable(
                tr,
                "支付比例未知（未核实），本层未计算",
                "the payment ratio is unknown (unverified); the layer is not applied",
            );
            out.layers.push(LayerOut::default());
            continue;
        }
        let ytd = state
            .layers
            .get(li)
            .map(|(_, y)| y.clone())
            .unwrap_or_default();
        let base: Fen = rule.costs.iter().map(|k| left[k.index()]).sum();
        for k in &rule.costs {
            left[k.index()] = 0;
        }
        let mut result = LayerOut {
            applied: true,
            base,
            ..LayerOut::default()
        };
        if tr.on {
            let names: Vec<&str> = rule.costs.iter().map(|k| k.name()).collect();
            tr.step(
                Some(lid),
                StepKind::Base,
                format!(
                    "{}：费用 {} = {}",
                    layer.label,
                    names.join(" + "),
                    fmt_money(yuan(base))
                ),
                format!(
                    "{}: costs {} = {}",
                    layer.name_en(),
                    names.join(" + "),
                    fmt_money(yuan(base))
                ),
                yuan(base),
                Some(&layer.cite),
                &[],
            );
        }

        // Conditions.
        let mut unmet: Option<(&Require, Decimal, Decimal)> = None;
        for req in &rule.requires {
            let mut cx = Ctx {
                r,
                cite: &req.cite,
                used: &mut used,
                all: trace,
                unknown: false,
            };
            let Some(figure) = eval(&req.value, &mut cx, None)? else {
                continue;
            };
            let f = fact(m, req.fact, &ytd)?;
            if !req.op.holds(f, figure) {
                unmet = Some((req, f, figure));
                break;
            }
        }
        take_used(&mut used_all, &used);
        used.clear();
        if let Some((req, f, figure)) = unmet {
            burden[Component::NotCovered.index()] += base;
            let (zh, en) = (
                format!(
                    "{}：本月 {} = {}，不满足 {} {} {}，本层不予支付",
                    layer.label,
                    req.fact.name(),
                    fmt_decimal(f),
                    req.fact.name(),
                    req.op.symbol(),
                    fmt_decimal(figure)
                ),
                format!(
                    "{}: this month's {} is {}, not {} {}; the layer pays nothing",
                    layer.name_en(),
                    req.fact.name(),
                    fmt_decimal(f),
                    req.op.symbol(),
                    fmt_decimal(figure)
                ),
            );
            out.warnings.push(
                Warning {
                    layer: Some(lid.clone()),
                    ..Warning::new("care_condition_unmet", format!("{zh} / {en}"))
                }
                .into(),
            );
            if tr.on {
                tr.step(
                    Some(lid),
                    StepKind::NotApplicable,
                    zh,
                    en,
                    Decimal::ZERO,
                    Some(&req.cite),
                    &[],
                );
            }
            out.layers.push(result);
            continue;
        }
        if base == 0 {
            out.layers.push(result);
            continue;
        }

        // The covered-cost limit.
        let mut counted = base;
        let mut limit_unknown = false;
        if let Some(limit) = &rule.limit {
            let mut cx = Ctx {
                r,
                cite: &limit.cite,
                used: &mut used,
                all: trace,
                unknown: false,
            };
            match eval(&limit.value, &mut cx, None)? {
                // No figure: no limit (an unknown one is said below, like an unknown cap).
                None => limit_unknown = cx.unknown,
                Some(v) => {
                    let per = money_param(non_negative(v), &limit.cite)?;
                    let (lim, zh, en) = match limit.per {
                        LimitPer::Month => (
                            per,
                            format!("每月限额 {}", fmt_money(v)),
                            format!("limit {} a month", fmt_money(v)),
                        ),
                        LimitPer::Day => {
                            let days = match care_days {
                                Some(d) => d,
                                None => {
                                    return Err(ClaimError::new(
                                        "month.days",
                                        "a per-day limit needs the days of care in the month",
                                    )
                                    .into())
                                }
                            };
                            (
                                per * Fen::from(days),
                                format!("每日限额 {} × {days} 天", fmt_money(v)),
                                format!("limit {} a day × {days} days", fmt_money(v)),
                            )
                        }
                    };
                    counted = base.min(lim);
                    if tr.on {
                        tr.step(
                            Some(lid),
                            StepKind::Cap,
                            format!(
                                "{zh} = {}，计入费用 {}",
                                fmt_money(yuan(lim)),
                                fmt_money(yuan(counted))
                            ),
                            format!(
                                "{en} = {}; cost counted {}",
                                fmt_money(yuan(lim)),
                                fmt_money(yuan(counted))
                            ),
                            yuan(counted),
                            Some(&limit.cite),
                            &used,
                        );
                    }
                }
            }
            take_used(&mut used_all, &used);
            used.clear();
        }

        // The ratio.
        let mut raw = Decimal::ZERO;
        if let Some(band) = layer.bands.as_ref().and_then(|b| b.bands.first()) {
            let mut cx = Ctx {
                r,
                cite: &band.cite,
                used: &mut used,
                all: trace,
                unknown: false,
            };
            if let Some(ratio) = eval(&band.ratio, &mut cx, None)? {
                let ratio = ratio.clamp(Decimal::ZERO, Decimal::ONE);
                raw = chk(yuan(counted).checked_mul(ratio), &band.cite)?;
                if tr.on {
                    tr.step(
                        Some(lid),
                        StepKind::Band,
                        format!(
                            "按比例支付：{} × {} = {}",
                            fmt_money(yuan(counted)),
                            pct(ratio),
                            fmt_amount(raw)
                        ),
                        format!(
                            "at the ratio: {} × {} = {}",
                            fmt_money(yuan(counted)),
                            pct(ratio),
                            fmt_amount(raw)
                        ),
                        yuan(counted),
                        Some(&band.cite),
                        &used,
                    );
                }
            }
            take_used(&mut used_all, &used);
            used.clear();
        }
        let uncapped = round_to_fen(raw).ok_or_else(|| EvalError::Overflow(layer.cite.clone()))?;

        // Fund caps for the month.
        let mut limit: Option<Fen> = None;
        let mut cap_unknown = false;
        for cap in &rule.caps {
            let mut cx = Ctx {
                r,
                cite: &cap.cite,
                used: &mut used,
                all: trace,
                unknown: false,
            };
            let Some(v) = eval(&cap.value, &mut cx, None)? else {
                cap_unknown |= cx.unknown;
                take_used(&mut used_all, &used);
                used.clear();
                continue;
            };
            let vf = money_param(non_negative(v), &cap.cite)?;
            let paid = match &cap.pool {
                Some(p) => month_pool_paid(policy, state, deltas, p, claim.date),
                None => month_paid(Some(&ytd), claim.date),
            };
            let remaining = (vf - paid).max(0);
            take_used(&mut used_all, &used);
            if limit.is_none_or(|l| remaining < l) {
                limit = Some(remaining);
                if tr.on {
                    let (pz, pe) = match &cap.pool {
                        Some(p) => (format!("（与 {p} 共用）"), format!(" (shared: {p})")),
                        None => (String::new(), String::new()),
                    };
                    tr.step(
                        Some(lid),
                        StepKind::Cap,
                        format!(
                            "基金每月最高支付 {}{pz}，本月尚可支付 {}",
                            fmt_money(v),
                            fmt_money(yuan(remaining))
                        ),
                        format!(
                            "the fund pays at most {} a month{pe}; left this month: {}",
                            fmt_money(v),
                            fmt_money(yuan(remaining))
                        ),
                        yuan(remaining),
                        Some(&cap.cite),
                        &used,
                    );
                }
            }
            used.clear();
        }
        let settled = LayerOut::settled(base, 0, limit, uncapped);
        result.cap_remaining = settled.cap_remaining;
        result.capped = settled.capped;
        result.payment = settled.payment;
        let payment = result.payment;
        fund_total += payment;
        warn_unknown(
            li,
            false,
            cap_unknown || limit_unknown,
            payment,
            &mut out.warnings,
        );
        burden[Component::CoPay.index()] += counted - uncapped;
        burden[Component::AboveCap.index()] += (base - counted) + (uncapped - payment);
        if tr.on {
            tr.step(
                Some(lid),
                StepKind::Payment,
                format!("{}支付 {}", layer.label, fmt_money(yuan(payment))),
                format!("{} pays {}", layer.name_en(), fmt_money(yuan(payment))),
                yuan(payment),
                Some(&layer.cite),
                &[],
            );
        }
        // Months used: only a month the layer paid counts toward its maximum.
        if payment > 0 {
            deltas.push(Delta {
                layer: li,
                base,
                deductible: 0,
                paid: payment,
                chain: None,
            });
        }
        out.layers.push(result);
    }
    let uncovered: Vec<&str> = CostKind::ALL
        .iter()
        .filter(|k| left[k.index()] > 0)
        .map(|k| k.name())
        .collect();
    if !uncovered.is_empty() {
        out.warnings.push(
            Warning::new(
                "care_not_covered",
                format!(
                    "本月的失能等级与护理方式不享受这些费用的待遇：{} / this level and care setting carry no benefit for: {}",
                    uncovered.join("、"),
                    uncovered.join(", ")
                ),
            )
            .into(),
        );
    }
    burden[Component::NotCovered.index()] += left.iter().sum::<Fen>();
    let oop: Fen = burden.iter().sum();
    if tr.on {
        tr.step(
            None,
            StepKind::OutOfPocket,
            format!(
                "长期护理保险基金合计支付 {}，个人负担 {}",
                fmt_money(yuan(fund_total)),
                fmt_money(yuan(oop))
            ),
            format!(
                "the care fund pays {} in all; the person pays {}",
                fmt_money(yuan(fund_total)),
                fmt_money(yuan(oop))
            ),
            yuan(oop),
            None,
            &[],
        );
    }
    for i in used_all {
        if is_flagged(policy, i) {
            out.flagged.insert(i);
        }
    }
    out.burden = burden;
    out.in_scope = total;
    out.fund_total = fund_total;
    out.act_pay_dedc = 0;
    Ok(())
}
