//! `Year`: one person's year settled a claim at a time, the state carried between claims.

use yibao_engine::{settle_in_place, Claim, Date, SettleError, SettleOptions, YtdState};
use yibao_lang::Overrides;
use yibao_policies::Registry;

use crate::cache::PolicyCache;
use crate::error::{ApiError, ErrorKind};
use crate::estimate::{EstimateAnswer, EstimateRequest};
use crate::overrides::parse_overrides;

/// One person's year, settled a claim at a time as the bills come in: each claim sees what the
/// ones before used of the deductibles and caps, exactly as when the same claims are settled
/// together by [`estimate`](crate::estimate) (a version taking effect mid-year gets the state
/// carried over). A claim that cannot be settled is an error and leaves the year as it was.
///
/// ```
/// use yibao::{Claim, EstimateRequest, Registry, Year};
/// let reg = Registry::bundled();
/// let claim = |json: &str| serde_json::from_str::<Claim>(json).unwrap();
/// let (a, b) = (
///     claim(r#"{"date": "2024-03-01", "care": "inpatient", "level": "3", "amounts": {"total": "30000"}}"#),
///     claim(r#"{"date": "2024-09-01", "care": "inpatient", "level": "3", "amounts": {"total": "50000"}}"#),
/// );
/// let mut year = Year::new(&EstimateRequest::for_claims("tianjin.resident", vec![])).unwrap();
/// year.settle(&reg, &a).unwrap();
/// let second = year.settle(&reg, &b).unwrap();
/// let together = yibao::estimate(&reg, &EstimateRequest::for_claims("tianjin.resident", vec![a, b])).unwrap();
/// assert_eq!(second.settlements[0], together.settlements[1]);
/// assert_eq!(year.state(), &together.state);
/// ```
#[derive(Debug, Clone)]
pub struct Year {
    policy: Option<String>,
    version: Option<Date>,
    overrides: Overrides,
    options: SettleOptions,
    state: YtdState,
    settled: usize,
}

impl Year {
    /// A year under the request's `policy`, `version`, `overrides`, starting `state` and `trace`;
    /// the request carries no claims (they come one by one to [`Year::settle`]). A bad override is
    /// an error here.
    pub fn new(req: &EstimateRequest) -> Result<Year, ApiError> {
        if req.claim.is_some() || !req.claims.is_empty() {
            return Err(ApiError::new(
                ErrorKind::Request,
                Some(
                    if req.claim.is_some() {
                        "claim"
                    } else {
                        "claims"
                    }
                    .into(),
                ),
                "a year starts without claims: settle them one by one",
            ));
        }
        Ok(Year {
            policy: req.policy.clone(),
            version: req.version,
            overrides: parse_overrides(&req.overrides)?,
            options: SettleOptions { trace: req.trace },
            state: req.state.clone().unwrap_or_default(),
            settled: 0,
        })
    }

    /// Settles the next claim (not dated before the last one): the answer holds its settlement,
    /// the state after it and its notices (`claim` is its index in the year). Errors name the
    /// field as `claim.…`.
    pub fn settle(&mut self, reg: &Registry, claim: &Claim) -> Result<EstimateAnswer, ApiError> {
        let mut policies = PolicyCache::new(reg, self.overrides.clone());
        let policy = policies.for_claim(self.policy.as_deref(), self.version, claim, "claim")?;
        let mut state = self.state.clone();
        // A year may cross into another version: carry the state over to its layers.
        state.carry_if_foreign(&policy);
        let mut s =
            settle_in_place(&policy, claim, &mut state, &self.options).map_err(|e| match e {
                SettleError::Claim(c) => {
                    ApiError::claim_of(0, false, c, claim, self.state.last_date)
                }
                SettleError::Eval(ev) => {
                    ApiError::new(ErrorKind::Policy, Some("claim".into()), ev.to_string())
                }
            })?;
        let notices = crate::notice::annotate(reg, &policy, self.settled, &mut s);
        self.state = state;
        self.settled += 1;
        Ok(EstimateAnswer {
            settlements: vec![s],
            state: self.state.clone(),
            notices,
        })
    }

    /// The year so far: pass it as a request's `state` to go on elsewhere.
    pub fn state(&self) -> &YtdState {
        &self.state
    }

    /// How many claims have been settled.
    pub fn settled(&self) -> usize {
        self.settled
    }
}
