//! `estimate_batch`: many persons' claims at once, each person's in the order given.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use yibao_engine::{
    settle_in_place, Claim, Date, SettleError, SettleOptions, Settlement, YtdState,
};
use yibao_policies::Registry;

use crate::cache::PolicyCache;
use crate::error::{ApiError, ErrorKind};
use crate::overrides::parse_overrides;

/// The most claims one batch request may carry.
pub const MAX_BATCH: usize = 10_000;

/// Many persons' claims at once. Claims of one person (same `person`) are settled in the order
/// given, as that person's year; a claim without `person` is a person of its own.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// `region.scheme` for every claim; when absent, each claim's `region` and `scheme`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Pin a version by its effective date; by default each claim's date picks the version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Date>,
    /// Values for named parameters, as in
    /// [`EstimateRequest::overrides`](crate::EstimateRequest::overrides).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, String>,
    /// Build explanations (default: no; they make answers about ten times larger).
    #[serde(default)]
    pub trace: bool,
    /// The claims, at most [`MAX_BATCH`]; a person's claims in date order.
    pub claims: Vec<Claim>,
}

/// One claim's outcome, in input order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchItem {
    /// The claim's index in the request.
    pub index: usize,
    /// The claim's `person`, when given.
    pub person: Option<String>,
    /// The settlement, when the claim could be settled.
    pub settlement: Option<Settlement>,
    /// Why the claim could not be settled (its path is `claims[index]…`).
    pub error: Option<ApiError>,
    /// As `EstimateAnswer::notices`, for this claim (`claim` is its index in the batch).
    pub notices: Vec<crate::notice::Notice>,
}

/// A batch's outcome: counts and one item per claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchAnswer {
    /// Distinct persons (a claim without `person` counts as one).
    pub persons: usize,
    /// Claims settled.
    pub settled: usize,
    /// Claims with an error.
    pub failed: usize,
    /// One item per claim, in input order.
    pub results: Vec<BatchItem>,
}

/// Settles a batch. A request-level problem (too many claims, a bad override) is an error; a
/// claim's own problem is reported in its item and leaves that person's year as it was.
pub fn estimate_batch(reg: &Registry, req: &BatchRequest) -> Result<BatchAnswer, ApiError> {
    estimate_batch_until(reg, req, &|| false)
}

/// [`estimate_batch`] that gives up between claims once `stop` says so (a service whose caller
/// went away or whose deadline passed), answering an `unavailable` error instead of finishing.
pub fn estimate_batch_until(
    reg: &Registry,
    req: &BatchRequest,
    stop: &dyn Fn() -> bool,
) -> Result<BatchAnswer, ApiError> {
    if req.claims.len() > MAX_BATCH {
        return Err(ApiError::new(
            ErrorKind::Request,
            Some("claims".into()),
            format!(
                "{} claims; a batch takes at most {MAX_BATCH}",
                req.claims.len()
            ),
        ));
    }
    let overrides = parse_overrides(&req.overrides)?;
    let mut policies = PolicyCache::new(reg, overrides);
    let opts = SettleOptions { trace: req.trace };
    let mut states: BTreeMap<&str, YtdState> = BTreeMap::new();
    let mut results = Vec::with_capacity(req.claims.len());
    let mut persons = 0usize;
    for (i, claim) in req.claims.iter().enumerate() {
        if stop() {
            return Err(ApiError::new(
                ErrorKind::Unavailable,
                None,
                format!("stopped after {i} claims: the request's time ran out"),
            ));
        }
        let path = format!("claims[{i}]");
        let policy = match policies.for_claim(req.policy.as_deref(), req.version, claim, &path) {
            Ok(p) => p,
            // A bad override spoils the whole request; anything else is this claim's own error.
            Err(e) if e.path.as_deref() == Some("overrides") => return Err(e),
            Err(e) => {
                results.push(BatchItem {
                    index: i,
                    person: claim.person.clone(),
                    settlement: None,
                    error: Some(e),
                    notices: vec![],
                });
                continue;
            }
        };
        let key: &str = claim.person.as_deref().unwrap_or("");
        let state = if claim.person.is_none() {
            persons += 1;
            None
        } else {
            if !states.contains_key(key) {
                persons += 1;
            }
            Some(states.entry(key).or_default())
        };
        let mut scratch = YtdState::default();
        let state = match state {
            Some(s) => {
                // A person's year may cross into a version with other layers.
                s.carry_if_foreign(&policy);
                s
            }
            None => &mut scratch,
        };
        match settle_in_place(&policy, claim, state, &opts) {
            Ok(mut s) => {
                let notices = crate::notice::annotate(reg, &policy, i, &mut s);
                results.push(BatchItem {
                    index: i,
                    person: claim.person.clone(),
                    settlement: Some(s),
                    error: None,
                    notices,
                })
            }
            Err(SettleError::Claim(c)) => results.push(BatchItem {
                index: i,
                person: claim.person.clone(),
                settlement: None,
                error: Some(ApiError::claim_of(i, true, c, claim, None)),
                notices: vec![],
            }),
            Err(SettleError::Eval(ev)) => results.push(BatchItem {
                index: i,
                person: claim.person.clone(),
                settlement: None,
                error: Some(ApiError::new(ErrorKind::Policy, Some(path), ev.to_string())),
                notices: vec![],
            }),
        }
    }
    let settled = results.iter().filter(|r| r.settlement.is_some()).count();
    Ok(BatchAnswer {
        persons,
        settled,
        failed: results.len() - settled,
        results,
    })
}
