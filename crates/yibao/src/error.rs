//! The one error type of the facade: whose mistake it is, a stable code, the field at fault.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use yibao_engine::{Claim, ClaimError, Date};
use yibao_lang::DiagnosticJson;
use yibao_policies::SelectError;

/// Why a request could not be answered. `kind` says whose mistake it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{}{message}", path.as_ref().map(|p| format!("{p}: ")).unwrap_or_default())]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// Whose mistake it is; decides the HTTP status.
    pub kind: ErrorKind,
    /// A stable name of the mistake, for front ends that word it in their own language:
    /// `amount_syntax`, `amount_precision`, `amount_negative`, `amount_too_large`,
    /// `parts_above_total`, `date_order`, `not_a_date`, `unknown_choice`, `unknown_policy`,
    /// `no_version`, `override_value`, `unknown_override`; otherwise the kind's name.
    pub code: ErrorCode,
    /// The field at fault, e.g. `claims[1].amounts.total`.
    pub path: Option<String>,
    /// What was wrong, in English.
    pub message: String,
    /// The facts the code's words need, by name (`value`, `parts`, `total`, `date`, `policy`).
    #[serde(default, skip_serializing_if = "no_fields")]
    #[cfg_attr(feature = "openapi", schema(value_type = HashMap<String, String>))]
    pub fields: Box<BTreeMap<String, String>>,
    /// Values the field may take, where it is a choice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    /// Policy diagnostics, for a policy that does not compile.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<DiagnosticJson>,
}

/// Whose mistake an error is; decides the HTTP status (400/422, 404, 500, 503).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ErrorKind {
    /// The request is not valid JSON/YAML or has a wrong field.
    Request,
    /// A claim's content is wrong (unknown care type, parts above the total …).
    Claim,
    /// No policy or version applies.
    NotFound,
    /// The policy cannot be evaluated (a policy error, not the caller's).
    Policy,
    /// A fault in the service itself (HTTP 500): please report it.
    Internal,
    /// The service is at capacity or shutting down (HTTP 503): try again shortly.
    Unavailable,
}

/// The stable name of a mistake (see [`ApiError::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ErrorCode {
    /// A request mistake with no more specific code.
    Request,
    /// A claim mistake with no more specific code.
    Claim,
    /// Not found, with no more specific code.
    NotFound,
    /// The policy cannot be evaluated.
    Policy,
    /// The text is not one JSON value.
    NotJson,
    /// An amount is not a number of yuan (`value`).
    AmountSyntax,
    /// An amount has more than two decimals (`value`).
    AmountPrecision,
    /// An amount is negative (`value`).
    AmountNegative,
    /// An amount is beyond the largest the evaluator takes (`value`).
    AmountTooLarge,
    /// The parts of a bill add up to more than its total (`parts`, `total`).
    PartsAboveTotal,
    /// A claim is dated before the claim before it (`date`, `after`).
    DateOrder,
    /// A date is not a date `YYYY-MM-DD` (`value`).
    NotADate,
    /// A value is not one of the choices the policy declares (`value`; `allowed` lists them).
    UnknownChoice,
    /// No policy with that id (`policy`; `allowed` lists them).
    UnknownPolicy,
    /// No version of the policy in force on the date (`policy`, `date`).
    NoVersion,
    /// An override's value is not an amount or a ratio (`value`).
    OverrideValue,
    /// An override names no parameter of the policy.
    UnknownOverride,
    /// A fault in the service.
    Internal,
    /// The service is at capacity or shutting down.
    Unavailable,
}

fn no_fields(f: &BTreeMap<String, String>) -> bool {
    f.is_empty()
}

impl ErrorKind {
    fn code(self) -> ErrorCode {
        match self {
            ErrorKind::Request => ErrorCode::Request,
            ErrorKind::Claim => ErrorCode::Claim,
            ErrorKind::NotFound => ErrorCode::NotFound,
            ErrorKind::Policy => ErrorCode::Policy,
            ErrorKind::Internal => ErrorCode::Internal,
            ErrorKind::Unavailable => ErrorCode::Unavailable,
        }
    }
}

impl ApiError {
    /// An error of `kind` about the field `path` (the code is the kind's own).
    pub fn new(kind: ErrorKind, path: Option<String>, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            code: kind.code(),
            path,
            message: message.into(),
            fields: Box::default(),
            allowed: vec![],
            diagnostics: vec![],
        }
    }

    /// The same error with a specific code and the facts its words need.
    pub fn with_code(mut self, code: ErrorCode, fields: &[(&str, String)]) -> Self {
        self.code = code;
        self.fields = Box::new(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        );
        self
    }

    /// A claim the evaluator refused, coded from the field it names and the claim's own values.
    /// `previous`: the date of the claim before, where known (for `date_order`).
    pub(crate) fn claim_of(
        i: usize,
        many: bool,
        e: ClaimError,
        claim: &Claim,
        previous: Option<Date>,
    ) -> Self {
        let field = e.path.clone();
        let err = Self::claim(i, many, e);
        let a = &claim.amounts;
        let choice = |v: Option<&str>| match v {
            Some(v) => err
                .clone()
                .with_code(ErrorCode::UnknownChoice, &[("value", v.to_string())]),
            None => err.clone().with_code(ErrorCode::UnknownChoice, &[]),
        };
        match field.as_str() {
            "amounts" => {
                let parts = a.out_of_list.0 + a.pre_self_pay.0 + a.over_limit.0;
                err.clone().with_code(
                    ErrorCode::PartsAboveTotal,
                    &[
                        ("parts", yibao_engine::money::fmt_money(parts)),
                        ("total", a.total.to_string()),
                    ],
                )
            }
            "date" => {
                let mut fields = vec![("date", claim.date.to_string())];
                fields.extend(previous.map(|p| ("after", p.to_string())));
                err.clone().with_code(ErrorCode::DateOrder, &fields)
            }
            "group" => choice(claim.group.as_deref()),
            "care" => choice(Some(&claim.care)),
            "level" => choice(claim.level.as_deref()),
            "place" => choice(claim.place.as_deref()),
            "disease" => choice(claim.disease.as_deref()),
            "case_code" => choice(claim.case_code.as_deref()),
            f if f.starts_with("categories[") => {
                let k: Option<usize> = f
                    .trim_start_matches("categories[")
                    .trim_end_matches(']')
                    .parse()
                    .ok();
                choice(k.and_then(|k| claim.categories.get(k)).map(String::as_str))
            }
            _ => err,
        }
    }

    pub(crate) fn claim(i: usize, many: bool, e: ClaimError) -> Self {
        let prefix = if many {
            format!("claims[{i}]")
        } else {
            "claim".to_string()
        };
        let path = if e.path.starts_with("state.") {
            e.path.clone()
        } else {
            format!("{prefix}.{}", e.path)
        };
        ApiError {
            allowed: e.allowed,
            ..ApiError::new(ErrorKind::Claim, Some(path), e.message)
        }
    }

    pub(crate) fn select(e: SelectError, path: &str) -> Self {
        let allowed = match &e {
            SelectError::UnknownPolicy { known, .. } => known.clone(),
            SelectError::NoVersion { versions, .. } => {
                versions.iter().map(Date::to_string).collect()
            }
            SelectError::Broken { .. } => vec![],
        };
        let kind = if matches!(e, SelectError::Broken { .. }) {
            ErrorKind::Policy
        } else {
            ErrorKind::NotFound
        };
        let err = ApiError {
            allowed,
            ..ApiError::new(kind, Some(path.to_string()), e.to_string())
        };
        match &e {
            SelectError::UnknownPolicy { id, .. } => {
                err.with_code(ErrorCode::UnknownPolicy, &[("policy", id.clone())])
            }
            SelectError::NoVersion { id, date, .. } => err.with_code(
                ErrorCode::NoVersion,
                &[("policy", id.clone()), ("date", date.to_string())],
            ),
            SelectError::Broken { .. } => err,
        }
    }
}
