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

/// A claim without a hospital level under a policy whose figures may differ by level: the
/// first level was taken, and the result says so.
pub(super) fn warn_level_defaulted(r: &Resolved, warnings: &mut Notes) {
    if r.level_defaulted {
        warnings.push(Note::LevelDefaulted(r.level));
    }
}

/// A claim with a per-case code under a policy without per-case rules: said, not refused.
pub(super) fn warn_case_code_ignored(policy: &Policy, claim: &Claim, warnings: &mut Notes) {
    if claim.case_code.is_some() && policy.cases.is_empty() {
        warnings.push(Note::CaseCodeIgnored);
    }
}

/// The warnings of a layer that applied with an unknown deductible or cap (the rule for
/// unknown figures: taken as none, the result says which way it may be off). An unknown cap
/// matters only where the layer paid.
pub(super) fn warn_unknown(
    li: usize,
    ded_unknown: bool,
    cap_unknown: bool,
    payment: Fen,
    warnings: &mut Notes,
) {
    if ded_unknown {
        warnings.push(Note::Unknown(li, Target::Deductible));
    }
    if cap_unknown && payment > 0 {
        warnings.push(Note::Unknown(li, Target::Cap));
    }
}
