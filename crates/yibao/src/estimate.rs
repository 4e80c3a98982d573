//! `estimate`: settle one claim, or one person's claims of a year in date order.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use yibao_engine::{
    settle_in_place, Claim, Date, Policy, SettleError, SettleOptions, Settlement, YtdState,
};
use yibao_policies::Registry;

use crate::cache::PolicyCache;
use crate::error::{ApiError, ErrorKind};
use crate::input::{parse_request_json, to_json};
use crate::overrides::parse_overrides;

/// Settle one claim, or one person's claims of a year in date order.
///
/// Give `claim` or `claims`, not both. [`EstimateRequest::default()`] is what an empty JSON
/// object reads as: no policy named, no overrides, no state, explanations on (`trace: true`).
///
/// ```
/// use yibao::{Claim, EstimateRequest};
/// let claim: Claim = serde_json::from_str(
///     r#"{"date": "2024-05-01", "care": "inpatient", "amounts": {"total": "30000"}}"#,
/// ).unwrap();
/// let req = EstimateRequest::for_claims("tianjin.resident", vec![claim])
///     .with_override("basic.deductible", "800")
///     .without_trace();
/// assert_eq!(req.policy.as_deref(), Some("tianjin.resident"));
/// assert!(!req.trace);
/// assert!(EstimateRequest::default().trace);
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EstimateRequest {
    /// `region.scheme`; when absent, taken from the first claim's `region` and `scheme`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Pin a version by its effective date; by default each claim's date picks the version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Date>,
    /// Values for named parameters, e.g. `{"basic.deductible": "800"}` (`85%` for ratios).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, String>,
    /// The year so far, before the first claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<YtdState>,
    /// Build the step-by-step explanation (default: yes).
    #[serde(default = "yes")]
    pub trace: bool,
    /// One claim (the answer's paths then read `claim.…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<Claim>,
    /// One person's claims of a year, in date order (paths `claims[i].…`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<Claim>,
}

impl Default for EstimateRequest {
    fn default() -> Self {
        EstimateRequest {
            policy: None,
            version: None,
            overrides: BTreeMap::new(),
            state: None,
            trace: yes(),
            claim: None,
            claims: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

impl EstimateRequest {
    /// A request settling `claims` in order under the policy `policy` (`region.scheme`).
    pub fn for_claims(policy: impl Into<String>, claims: Vec<Claim>) -> Self {
        EstimateRequest {
            policy: Some(policy.into()),
            claims,
            ..EstimateRequest::default()
        }
    }

    /// The same request with one more override (`800`, `30万`, `85%`, `0.85`).
    pub fn with_override(mut self, path: impl Into<String>, value: impl Into<String>) -> Self {
        self.overrides.insert(path.into(), value.into());
        self
    }

    /// The same request starting from a year so far.
    pub fn with_state(mut self, state: YtdState) -> Self {
        self.state = Some(state);
        self
    }

    /// The same request pinned to the version taking effect on `effective`.
    pub fn with_version(mut self, effective: Date) -> Self {
        self.version = Some(effective);
        self
    }

    /// The same request without explanations (much smaller answers).
    pub fn without_trace(mut self) -> Self {
        self.trace = false;
        self
    }

    pub(crate) fn all_claims(&self) -> impl Iterator<Item = &Claim> {
        self.claim.iter().chain(self.claims.iter())
    }
}

/// The settlements, in order, and the state after the last claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EstimateAnswer {
    /// One settlement per claim, in the request's order.
    pub settlements: Vec<Settlement>,
    /// The year-to-date state after the last claim: pass it as the next request's `state`.
    pub state: YtdState,
    /// Rules known only up to a date before a claim, rules past their stated validity, known
    /// deviations that touch a claim (each also a warning of its settlement).
    pub notices: Vec<crate::notice::Notice>,
}

/// Settles the request's claims in order, folding the year-to-date state.
pub fn estimate(reg: &Registry, req: &EstimateRequest) -> Result<EstimateAnswer, ApiError> {
    let many = req.claim.is_none() || !req.claims.is_empty();
    if req.claim.is_some() && !req.claims.is_empty() {
        return Err(ApiError::new(
            ErrorKind::Request,
            Some("claim".into()),
            "give either `claim` or `claims`, not both",
        ));
    }
    let claims: Vec<&Claim> = req.all_claims().collect();
    if claims.is_empty() {
        return Err(ApiError::new(
            ErrorKind::Request,
            Some("claims".into()),
            "no claim to settle",
        ));
    }
    let mut policies = PolicyCache::new(reg, parse_overrides(&req.overrides)?);
    let opts = SettleOptions { trace: req.trace };
    let mut state = req.state.clone().unwrap_or_default();
    let mut out = Vec::with_capacity(claims.len());
    let mut notices = vec![];
    let mut current: Option<Arc<Policy>> = None;
    for (i, claim) in claims.iter().enumerate() {
        let cpath = if many {
            format!("claims[{i}]")
        } else {
            "claim".into()
        };
        let policy = policies.for_claim(req.policy.as_deref(), req.version, claim, &cpath)?;
        // A year may cross into another version: carry the state over to its layers.
        if current.as_ref().is_some_and(|c| !Arc::ptr_eq(c, &policy)) {
            state = state.carry_to(&policy);
        }
        current = Some(policy.clone());
        let mut s = settle_in_place(&policy, claim, &mut state, &opts).map_err(|e| match e {
            SettleError::Claim(c) => {
                let previous = i.checked_sub(1).and_then(|j| claims.get(j)).map(|p| p.date);
                ApiError::claim_of(i, many, c, claim, previous)
            }
            SettleError::Eval(ev) => {
                ApiError::new(ErrorKind::Policy, Some(cpath.clone()), ev.to_string())
            }
        })?;
        notices.extend(crate::notice::annotate(reg, &policy, i, &mut s));
        out.push(s);
    }
    Ok(EstimateAnswer {
        settlements: out,
        state,
        notices,
    })
}

/// `estimate` from JSON text to canonical JSON text: the function the wasm module and the
/// server expose.
pub fn estimate_json(reg: &Registry, request: &str) -> Result<String, ApiError> {
    let req = parse_request_json(request)?;
    let answer = estimate(reg, &req)?;
    to_json(&answer)
}
