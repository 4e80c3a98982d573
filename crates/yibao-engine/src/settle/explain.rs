//! The explanation (trace steps) and the named `Settlement` built from the numbers.

use super::*;

/// The explanation of a figure a `for` block changed: one step per block, citing it, with its
/// formula and the value before and after. Only when tracing.
pub(super) fn trace_modifiers(
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
                layer.name_en(),
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

pub(super) fn uses(policy: &Policy, ids: &[ParamId]) -> Vec<ParamUse> {
    let mut ids: SmallVec<[ParamId; 16]> = ids.iter().copied().collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .filter_map(|i| policy.params.get(i as usize).map(|p| ParamUse(p.clone())))
        .collect()
}

pub(super) struct Tracer<'p> {
    pub(super) on: bool,
    pub(super) policy: &'p Policy,
    pub(super) steps: Vec<Step>,
}

impl Tracer<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn step(
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
pub(super) fn fmt_amount(d: Decimal) -> String {
    if d.normalize().scale() <= 2 {
        fmt_money(d)
    } else {
        fmt_decimal(d)
    }
}

pub(super) fn pct(r: Decimal) -> String {
    fmt_decimal(r * Decimal::ONE_HUNDRED) + "%"
}

/// The named, explained result, built from the numbers `run` produced.
pub(super) fn build(
    policy: &Policy,
    claim: &Claim,
    r: &Resolved,
    out: Outcome,
    rec: Recorder,
) -> Settlement {
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
            threshold: lo.threshold.map(money),
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
    let mut warnings = word_all(&out.warnings, policy);
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
