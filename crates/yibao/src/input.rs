//! Reading requests: the one strict JSON reader (server, command line, WebAssembly), the YAML
//! reader for files a user writes, and canonical JSON out.

use serde::Serialize;
#[cfg(feature = "yaml")]
use yibao_engine::Claim;

use crate::error::{ApiError, ErrorCode, ErrorKind};
use crate::estimate::EstimateRequest;

/// Parses a request from JSON, reporting the field path of a mistake.
pub fn parse_request_json(text: &str) -> Result<EstimateRequest, ApiError> {
    from_json(text.as_bytes()).map_err(|e| {
        if e.syntax {
            return e.error.with_code(ErrorCode::NotJson, &[]);
        }
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => coded(e.error, &v),
            Err(_) => e.error.with_code(ErrorCode::NotJson, &[]),
        }
    })
}

/// Why a JSON text could not be read as a request.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonError {
    /// The error, with the field path of a wrong field.
    pub error: ApiError,
    /// The text is not one JSON value (bad syntax, cut short, or more after the value), as
    /// opposed to JSON with a wrong field.
    pub syntax: bool,
}

/// The one JSON reader for requests (server, command line, WebAssembly): exactly one JSON value
/// with nothing but whitespace after it, structs written as objects (never arrays read by
/// position), unknown fields refused, and the field path of a mistake reported.
pub fn from_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T =
        serde_path_to_error::deserialize(crate::strict::Strict(&mut de)).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            JsonError {
                syntax: !inner.is_data(),
                error: path_error(path, inner.to_string()),
            }
        })?;
    de.end().map_err(|e| JsonError {
        syntax: true,
        error: ApiError::new(
            ErrorKind::Request,
            None,
            format!("{e}: a request is one JSON object with nothing after it"),
        ),
    })?;
    Ok(value)
}

/// The value at an error path (`claims[0].amounts.total`) of a request.
fn value_at<'v>(root: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    let mut v = root;
    for seg in path.split('.') {
        let (name, rest) = seg.split_once('[').unwrap_or((seg, ""));
        if !name.is_empty() {
            v = v.get(name)?;
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse::<usize>() {
                v = v.get(i)?;
            }
        }
    }
    Some(v)
}

/// A request field's error coded from the value given: an amount's mistake by the money parser's
/// own verdict, a date that is not one.
fn coded(err: ApiError, request: &serde_json::Value) -> ApiError {
    let Some(path) = err.path.clone() else {
        return err;
    };
    let Some(value) = value_at(request, &path) else {
        return err;
    };
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let field = path.rsplit('.').next().unwrap_or_default();
    // The bill's amounts, and a month of care's costs by kind.
    if path.contains("amounts.") || path.contains("month.costs.") {
        use yibao_engine::money::MoneyError;
        let code = match text.parse::<yibao_engine::Money>() {
            Err(MoneyError::Precision(_)) => ErrorCode::AmountPrecision,
            Err(MoneyError::Negative(_)) => ErrorCode::AmountNegative,
            Err(MoneyError::TooLarge(_)) => ErrorCode::AmountTooLarge,
            // Parsed as text but refused as JSON (a float), or not a number at all.
            _ => ErrorCode::AmountSyntax,
        };
        return err.with_code(code, &[("value", text)]);
    }
    if field == "date" || field == "version" || field == "last_date" {
        return err.with_code(ErrorCode::NotADate, &[("value", text)]);
    }
    err
}

/// Parses a request from YAML or JSON text as a user writes it in a file: a full request, one
/// claim, or a list of claims (feature `yaml`).
#[cfg(feature = "yaml")]
pub fn parse_request_yaml(text: &str) -> Result<EstimateRequest, ApiError> {
    let value: serde_norway::Value = serde_norway::from_str(text)
        .map_err(|e| ApiError::new(ErrorKind::Request, None, e.to_string()))?;
    let is_request = value.as_mapping().is_some_and(|m| {
        m.keys().any(|k| {
            matches!(
                k.as_str(),
                Some("claims" | "claim" | "policy" | "state" | "overrides")
            )
        })
    });
    let json = serde_json::to_value(&value).unwrap_or_default();
    if is_request {
        return serde_path_to_error::deserialize(crate::strict::Strict(value)).map_err(|e| {
            coded(
                path_error(e.path().to_string(), e.inner().to_string()),
                &json,
            )
        });
    }
    if value.is_sequence() {
        let claims: Vec<Claim> = serde_path_to_error::deserialize(crate::strict::Strict(value))
            .map_err(|e| {
                let err = path_error(
                    format!("claims{}", bracket(e.path().to_string())),
                    e.inner().to_string(),
                );
                coded(err, &serde_json::json!({ "claims": json }))
            })?;
        return Ok(EstimateRequest {
            claims,
            trace: true,
            ..EstimateRequest::default()
        });
    }
    let claim: Claim =
        serde_path_to_error::deserialize(crate::strict::Strict(value)).map_err(|e| {
            let err = path_error(format!("claim.{}", e.path()), e.inner().to_string());
            coded(err, &serde_json::json!({ "claim": json }))
        })?;
    Ok(EstimateRequest {
        claim: Some(claim),
        trace: true,
        ..EstimateRequest::default()
    })
}

#[cfg(feature = "yaml")]
fn bracket(p: String) -> String {
    if p.starts_with('[') {
        p
    } else {
        format!(".{p}")
    }
}

fn path_error(path: String, message: String) -> ApiError {
    let path = if path == "." || path.is_empty() {
        None
    } else {
        Some(path.trim_end_matches(".?").to_string())
    };
    ApiError::new(ErrorKind::Request, path, message)
}

/// Canonical JSON of any answer.
pub fn to_json<T: Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v)
        .map_err(|e| ApiError::new(ErrorKind::Policy, None, format!("internal error: {e}")))
}
