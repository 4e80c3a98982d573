//! The rule for unknown figures (`none [placeholder]`) and the warnings that say which way a result
//! may be off.

use super::*;

/// Whether one of the layer's band ratios is unknown for this claim (`ratio none
/// [placeholder]`): such a layer is not applied (ARCHITECTURE.md, "Unknown figures"). The
/// parameters met are added to `used`.
pub(super) fn ratio_unknown(
    layer: &Layer,
    r: &Resolved,
    used: &mut Used,
) -> Result<bool, EvalError> {
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
pub(super) fn unknown_warning(layer: &Layer, figure: Target) -> Warning {
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

/// A claim without a hospital level under a policy whose figures may differ by level: the
/// first level was taken, and the result says so.
pub(super) fn warn_level_defaulted(policy: &Policy, r: &Resolved, warnings: &mut Vec<Warning>) {
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
pub(super) fn warn_case_code_ignored(policy: &Policy, claim: &Claim, warnings: &mut Vec<Warning>) {
    if claim.case_code.is_some() && policy.cases.is_empty() {
        warnings.push(Warning::new(
            "case_code_ignored",
            "this policy has no per-case (按病种) rule; the case code was ignored",
        ));
    }
}

/// The warnings of a layer that applied with an unknown deductible or cap (the rule for
/// unknown figures: taken as none, the result says which way it may be off). An unknown cap
/// matters only where the layer paid.
pub(super) fn warn_unknown(
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
