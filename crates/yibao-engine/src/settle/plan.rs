//! Compiled plans: the policy resolved, once, for one claim situation.
//!
//! Everything `run` evaluates from the IR — which layers apply, deductibles (first and n-th
//! admission), band edges, ratios after modifiers, caps — depends only on the claim's
//! [`Resolved`] dimension values, not on its amounts or the year so far. A [`Plan`] holds those
//! figures for one situation, evaluated by the same `eval`/`modify` as `run`, as integers: money
//! in fen, each layer's ratios as integers over one power of ten. Settling a claim with a plan is
//! then integer arithmetic only, and exact: every product fits `i128`, and the same products in
//! `Decimal` are exact too (amounts are at most 10^14 fen, ratios carry at most
//! [`MAX_RATIO_SCALE`] decimals), so rounding the sum gives the same fen.
//!
//! A situation whose figures cannot be planned — an evaluation error, a ratio clamped to 0–100%,
//! a per-case (按病种) layer, a ratio with more decimals — has no plan, and [`Settler`] settles
//! it with `run`, which reports the error or warning at the point it is reached. A property test
//! holds the planned path equal to `run` over every bundled policy.

use std::collections::HashMap;

use super::*;

/// Ratios with more decimals than this are left to `run` (a formula like 2/3 has 28).
const MAX_RATIO_SCALE: u32 = 12;

/// At most this many situations are kept; a run that exceeds it starts over (memory stays
/// bounded whatever the claims' category lists are).
const MAX_PLANS: usize = 4096;

/// Parameters to name in a result (unverified or overridden), in the order `run` meets them.
type Flags = SmallVec<[ParamId; 2]>;

pub(super) struct Plan {
    layers: Vec<LayerPlan>,
}

enum LayerPlan {
    /// The layer's conditions exclude the situation (or it is per-case and the claim is not).
    Skip,
    /// A ratio is unknown for the situation: not applied, said, and its figures flagged.
    Unknown(Flags),
    Apply(Box<Apply>),
}

struct Apply {
    measure: Measure,
    deductible: Option<Ded>,
    relative: bool,
    bands: SmallVec<[PlanBand; 4]>,
    /// Ratios are integers over this power of ten (`10^scale`).
    unit: i128,
    scale: u32,
    caps: SmallVec<[PlanCap; 2]>,
    cap_flags: Flags,
    /// A cap is unknown and taken as none.
    cap_unknown: bool,
}

struct Ded {
    per: DeductiblePer,
    /// `deductible every N days`: N.
    period: Option<u32>,
    period_flags: Flags,
    first: Threshold,
    /// From the n-th claim of the layer in the year.
    later: Option<(u32, Threshold)>,
}

struct Threshold {
    fen: Fen,
    flags: Flags,
    /// Unknown and taken as zero.
    unknown: bool,
}

struct PlanBand {
    /// The upper edge before the deductible is added (relative bands).
    hi: Option<Fen>,
    /// `None`: no ratio for this situation — the band pays nothing.
    /// At most 10^12 (a ratio in 0–100% with at most 12 decimals), so it fits `i64` and a
    /// product with an amount (at most 10^14 fen) is one widening multiplication.
    ratio: Option<i64>,
    flags: Flags,
}

/// A band's figures as evaluated, before its ratio becomes an integer over the layer's unit.
struct BandFigures {
    hi: Option<Fen>,
    ratio: Option<Decimal>,
    flags: Flags,
}

struct PlanCap {
    fen: Fen,
    per: CapPer,
}

/// Why a situation has no plan; `run` settles it.
struct Unplanned;

impl From<EvalError> for Unplanned {
    fn from(_: EvalError) -> Self {
        Unplanned
    }
}

fn flagged(policy: &Policy, used: &[ParamId]) -> Flags {
    used.iter()
        .copied()
        .filter(|i| is_flagged(policy, *i))
        .collect()
}

impl Plan {
    fn build(policy: &Policy, r: &Resolved) -> Result<Plan, Unplanned> {
        // A month of long-term care is settled by `run` (settle/care.rs); it has no plan.
        if policy.is_care() {
            return Err(Unplanned);
        }
        let layers = policy
            .layers
            .iter()
            .map(|layer| {
                if !r.selects(&layer.when) || (layer.per_case.is_some() && r.case.is_none()) {
                    Ok(LayerPlan::Skip)
                } else if layer.per_case.is_some() {
                    Err(Unplanned)
                } else {
                    let mut used = Used::new();
                    if ratio_unknown(layer, r, &mut used)? {
                        Ok(LayerPlan::Unknown(flagged(policy, &used)))
                    } else {
                        Ok(LayerPlan::Apply(Box::new(Apply::build(policy, layer, r)?)))
                    }
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Plan { layers })
    }
}

impl Apply {
    fn build(policy: &Policy, layer: &Layer, r: &Resolved) -> Result<Apply, Unplanned> {
        let mods = active_modifiers(layer, r);
        let mut period_used = Used::new();
        let deductible = match &layer.deductible {
            None => None,
            Some(d) => Some(Ded {
                per: d.per,
                period: every_period(d, r, &mut period_used, true)?,
                period_flags: flagged(policy, &period_used),
                first: threshold(policy, d, r, &mods, false)?,
                later: match &d.later {
                    Some((n, ..)) => Some((*n, threshold(policy, d, r, &mods, true)?)),
                    None => None,
                },
            }),
        };

        let mut figures: SmallVec<[BandFigures; 4]> = SmallVec::new();
        if let Some(bs) = &layer.bands {
            for band in &bs.bands {
                let mut used = Used::new();
                let mut cx = Ctx {
                    r,
                    cite: &band.cite,
                    used: &mut used,
                    all: true,
                    unknown: false,
                };
                let hi = band_edge(band, &mut cx)?;
                let ratio = match eval(&band.ratio, &mut cx, None)? {
                    None => None,
                    Some(r0) => {
                        let ratio = modify(&mods, Target::Ratio, r0, &mut cx)?.unwrap_or(r0);
                        if !is_unit_ratio(ratio) || ratio.scale() > MAX_RATIO_SCALE {
                            return Err(Unplanned);
                        }
                        Some(ratio)
                    }
                };
                figures.push(BandFigures {
                    hi,
                    ratio,
                    flags: flagged(policy, &used),
                });
            }
        }
        // One scale for the layer's products, so their sum is exact before the one rounding.
        let scale = figures
            .iter()
            .filter_map(|b| b.ratio.map(|d| d.scale()))
            .max()
            .unwrap_or(0);
        let unit = 10i128.pow(scale);
        let bands = figures
            .into_iter()
            .map(|BandFigures { hi, ratio, flags }| {
                let ratio = match ratio {
                    None => None,
                    Some(d) => Some(
                        i64::try_from(d.mantissa() * 10i128.pow(scale - d.scale()))
                            .map_err(|_| Unplanned)?,
                    ),
                };
                Ok(PlanBand { hi, ratio, flags })
            })
            .collect::<Result<_, Unplanned>>()?;

        let mut caps = SmallVec::new();
        let mut cap_used = Used::new();
        let mut cap_unknown = false;
        for cap in &layer.caps {
            let mut used = Used::new();
            let mut cx = Ctx {
                r,
                cite: &cap.cite,
                used: &mut used,
                all: true,
                unknown: false,
            };
            let Some(v) = eval(&cap.value, &mut cx, None)? else {
                cap_unknown |= cx.unknown;
                take_used(&mut cap_used, &used);
                continue;
            };
            let Some(v) = modify(&mods, Target::Cap, v, &mut cx)? else {
                continue;
            };
            caps.push(PlanCap {
                fen: money_param(non_negative(v), &cap.cite)?,
                per: cap.per,
            });
            take_used(&mut cap_used, &used);
        }

        Ok(Apply {
            measure: layer.measure,
            deductible,
            relative: layer.bands.as_ref().is_some_and(|b| b.relative),
            bands,
            unit,
            scale,
            caps,
            cap_flags: flagged(policy, &cap_used),
            cap_unknown,
        })
    }
}

/// The deductible for the first claims of the year, or (`later`) from the n-th on — as `run`
/// evaluates it.
fn threshold(
    policy: &Policy,
    d: &Deductible,
    r: &Resolved,
    mods: &Active,
    later: bool,
) -> Result<Threshold, Unplanned> {
    let mut used = Used::new();
    let dv = deductible_value(d, later, mods, r, &mut used, true)?;
    Ok(Threshold {
        fen: dv.fen,
        flags: flagged(policy, &used),
        unknown: dv.unknown,
    })
}

/// `run` on a plan: the same steps, with every figure already evaluated.
fn run_plan(
    policy: &Policy,
    r: &Resolved,
    plan: &Plan,
    claim: &Claim,
    state: &YtdState,
    out: &mut Outcome,
    deltas: &mut Deltas,
) -> Result<(), SettleError> {
    let (in_scope, mut burden) = split_bill(claim);
    let mut special = special_of(claim);
    let mut fund_total: Fen = 0;
    let mut act_pay_dedc: Fen = 0;
    let mut unclassified = in_scope;
    warn_level_defaulted(r, &mut out.warnings);
    warn_case_code_ignored(policy, claim, &mut out.warnings);
    let flags = &mut out.flagged;

    for (li, (layer, lp)) in policy.layers.iter().zip(&plan.layers).enumerate() {
        let mut result = LayerOut::default();
        let p = match lp {
            LayerPlan::Apply(p) if !already_classified(layer, unclassified, in_scope) => p,
            LayerPlan::Unknown(unknown) if !already_classified(layer, unclassified, in_scope) => {
                flags.insert_all(unknown);
                out.warnings.push(Note::Unknown(li, Target::Ratio));
                out.layers.push(result);
                continue;
            }
            _ => {
                out.layers.push(result);
                continue;
            }
        };
        result.applied = true;
        let ytd = state.layers.get(li).map(|(_, y)| y);
        let chain = ytd.and_then(|y| y.chain.as_ref());
        let base = layer_base(layer, unclassified, &burden, special);
        if base == 0 {
            deltas.push(Delta::empty(li, layer, chain, claim.referral));
            out.layers.push(result);
            continue;
        }
        let ytd_base = year_base(&layer.id, ytd)?;

        let mut threshold: Fen = 0;
        let mut ded: Fen = 0;
        let mut ded_unknown = false;
        if let Some(d) = &p.deductible {
            let claims = ytd.map_or(0, |y| y.claims);
            let t = match &d.later {
                Some((n, t)) if claims.saturating_add(1) >= *n => t,
                _ => &d.first,
            };
            let times = deductible_times(d.per, d.period, claim.stay_days);
            warn_stay_days_missing(li, d.per, d.period, claim.stay_days, &mut out.warnings);
            let tf = t.fen.saturating_mul(Fen::from(times));
            threshold = tf;
            ded_unknown = t.unknown;
            ded = deductible_due(d.per, tf, layer, ytd, claim.referral).min(base);
            if !d.period_flags.is_empty() {
                flags.insert_all(&d.period_flags);
            }
            warn_referral_without_chain(li, layer, d.per, ytd, claim.referral, &mut out.warnings);
            if !t.flags.is_empty() {
                flags.insert_all(&t.flags);
            }
        }

        let empty = LayerYtd::default();
        let (start, end) = measure_span(p.measure, ytd_base, ytd.unwrap_or(&empty), base, ded);
        let mut segments: SmallVec<[(Fen, i64); 4]> = SmallVec::new();
        let mut raw: i128 = 0;
        let mut within: Fen = 0;
        let mut lo: Fen = 0;
        for band in &p.bands {
            let hi = band.hi.map(|e| if p.relative { e + threshold } else { e });
            let Some(ratio) = band.ratio else {
                lo = hi.unwrap_or(lo);
                if !band.flags.is_empty() {
                    flags.insert_all(&band.flags);
                }
                continue;
            };
            let b_lo = lo.max(start);
            let b_hi = hi.map_or(end, |h| h.min(end));
            if b_hi > b_lo {
                let amount = b_hi - b_lo;
                raw += i128::from(amount) * i128::from(ratio);
                within += amount;
                segments.push((amount, ratio));
                if !band.flags.is_empty() {
                    flags.insert_all(&band.flags);
                }
            }
            match hi {
                Some(h) => lo = lo.max(h),
                None => break,
            }
        }
        let beyond = (end - start) - within;

        let mut limit: Option<Fen> = None;
        for cap in &p.caps {
            let remaining = match cap.per {
                CapPer::Claim => cap.fen,
                CapPer::Year { pool } => (cap.fen - pool_paid(policy, state, deltas, pool)).max(0),
                CapPer::Month => (cap.fen - month_paid(ytd, claim.date)).max(0),
            };
            if limit.is_none_or(|l| remaining < l) {
                limit = Some(remaining);
            }
        }
        if !p.cap_flags.is_empty() {
            flags.insert_all(&p.cap_flags);
        }

        let uncapped = Fen::try_from(div_round(raw, p.unit))
            .map_err(|_| EvalError::Overflow(layer.cite.clone()))?;
        let mut result = LayerOut::settled(base, ded, limit, uncapped);
        result.threshold = p
            .deductible
            .as_ref()
            .filter(|_| !ded_unknown)
            .map(|_| threshold);
        let payment = result.payment;
        fund_total += payment;
        let line = capped_line(
            layer,
            &result,
            segments
                .iter()
                .map(|(a, r)| (*a, Decimal::from_i128_with_scale(i128::from(*r), p.scale))),
        );
        warn_unknown(li, ded_unknown, p.cap_unknown, payment, &mut out.warnings);

        let paid = Paid::of(&result, within, beyond, uncapped, line);
        if paid.classify(layer, &mut burden, &mut special) {
            unclassified = 0;
            act_pay_dedc += ded;
        }
        deltas.push(Delta::after(li, layer, chain, claim.referral, base, &paid));
        out.layers.push(result);
    }
    burden[Component::NotCovered.index()] += unclassified;
    out.burden = burden;
    out.in_scope = in_scope;
    out.fund_total = fund_total;
    out.act_pay_dedc = act_pay_dedc;
    Ok(())
}

/// Settles many claims under one policy, planning each claim situation once: the entry point
/// for batch runs. It gives exactly what [`settle_outcome`] gives, faster when situations
/// repeat.
///
/// ```
/// use std::sync::Arc;
/// use yibao_engine::{ir::Policy, Claim, Settler, YtdState};
/// # use rust_decimal::Decimal;
/// let policy = Arc::new(Policy::example_flat("demo", Decimal::new(800, 0), Decimal::new(70, 2)));
/// let mut settler = Settler::new(policy);
/// let claim: Claim = serde_json::from_str(r#"{"date":"2024-03-01","care":"inpatient",
///     "amounts":{"total":"10800"}}"#).unwrap();
/// let mut state = YtdState::default();
/// let out = settler.settle_outcome(&claim, &mut state).unwrap();
/// assert_eq!(out.payment(0).to_string(), "7000.00");
/// ```
pub struct Settler {
    policy: Arc<Policy>,
    /// Plan (or `None`: settled by `run`) per situation.
    plans: Vec<Option<Plan>>,
    index: HashMap<Resolved, usize>,
    /// The last few claims' names, their situations and plans, the most recent first: claims
    /// of one person often repeat them (or alternate, as inpatient and outpatient claims do),
    /// and comparing names is cheaper than resolving them and looking the situation up.
    recent: SmallVec<[(Names, Resolved, usize); RECENT]>,
}

/// How many recent situations [`Settler`] compares a claim's names with before resolving them.
const RECENT: usize = 4;

/// A claim's dimension values as it names them, and its referral.
struct Names {
    group: Option<String>,
    care: String,
    level: Option<String>,
    place: Option<String>,
    categories: Vec<String>,
    disease: Option<String>,
    case_code: Option<String>,
    referral: bool,
}

impl Names {
    fn of(c: &Claim) -> Names {
        Names {
            group: c.group.clone(),
            care: c.care.clone(),
            level: c.level.clone(),
            place: c.place.clone(),
            categories: c.categories.clone(),
            disease: c.disease.clone(),
            case_code: c.case_code.clone(),
            referral: c.referral,
        }
    }

    fn name(&self, c: &Claim) -> bool {
        self.care == c.care
            && self.level == c.level
            && self.group == c.group
            && self.place == c.place
            && self.categories == c.categories
            && self.disease == c.disease
            && self.case_code == c.case_code
            && self.referral == c.referral
    }
}

impl Settler {
    /// A settler for `policy`, with no plan compiled yet.
    pub fn new(policy: Arc<Policy>) -> Settler {
        Settler {
            policy,
            plans: Vec::new(),
            index: HashMap::new(),
            recent: SmallVec::new(),
        }
    }

    /// The policy this settler settles under.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// [`settle_outcome`] under the settler's policy.
    pub fn settle_outcome(
        &mut self,
        claim: &Claim,
        state: &mut YtdState,
    ) -> Result<Outcome, SettleError> {
        let policy = &*self.policy;
        // The claim's situation goes to the front of `recent`, found or resolved.
        match self.recent.iter().position(|(names, ..)| names.name(claim)) {
            Some(k) => {
                check_amounts(policy, claim)?;
                self.recent[..=k].rotate_right(1);
            }
            None => {
                let r = resolve(policy, claim)?;
                let i = match self.index.get(&r) {
                    Some(i) => *i,
                    None => {
                        if self.plans.len() >= MAX_PLANS {
                            self.plans.clear();
                            self.index.clear();
                            self.recent.clear();
                        }
                        self.plans.push(Plan::build(policy, &r).ok());
                        self.index.insert(r.clone(), self.plans.len() - 1);
                        self.plans.len() - 1
                    }
                };
                if self.recent.len() == RECENT {
                    self.recent.pop();
                }
                self.recent.insert(0, (Names::of(claim), r, i));
            }
        }
        // Never out of bounds: the arms above leave the claim's situation at index 0.
        let (_, r, i) = &self.recent[0];
        let i = *i;
        let mut out = Outcome::default();
        match self.plans.get(i).and_then(Option::as_ref) {
            Some(plan) => staged(policy, claim, state, |state, deltas| {
                run_plan(policy, r, plan, claim, state, &mut out, deltas)
            })?,
            None => settle_resolved(
                policy,
                claim,
                r,
                state,
                &mut Recorder::lean(policy),
                &mut out,
            )?,
        }
        Ok(out)
    }
}
