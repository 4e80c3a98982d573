//! Overrides: a request's own values for named policy figures.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use yibao_lang::Overrides;

use crate::error::{ApiError, ErrorCode, ErrorKind};

/// Parses an override value: `800`, `30万`, `85%` or `0.85`.
pub fn parse_override(text: &str) -> Option<Decimal> {
    let t = text.trim();
    let (digits, scale) = if let Some(d) = t.strip_suffix('%') {
        (d, Decimal::new(1, 2))
    } else if let Some(d) = t.strip_suffix('万') {
        (d, Decimal::from(10_000))
    } else {
        (t.strip_suffix('元').unwrap_or(t), Decimal::ONE)
    };
    let d = Decimal::from_str_exact(digits.trim()).ok()?;
    if d.is_sign_negative() {
        return None;
    }
    d.checked_mul(scale)
}

/// Parses `{"basic.deductible": "800", "basic.ratio": "85%"}` into compiler overrides.
pub fn parse_overrides(map: &BTreeMap<String, String>) -> Result<Overrides, ApiError> {
    let mut o = Overrides::default();
    for (k, v) in map {
        let Some(d) = parse_override(v) else {
            return Err(ApiError::new(
                ErrorKind::Request,
                Some(format!("overrides.{k}")),
                format!("`{v}` is not an amount (`800`) or a ratio (`85%`)"),
            )
            .with_code(ErrorCode::OverrideValue, &[("value", v.clone())]));
        };
        o.values.insert(k.clone(), d);
    }
    Ok(o)
}
