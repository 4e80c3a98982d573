//! The policy cache: the compiled version each claim is settled under, with the request's
//! overrides applied once per version.

use std::sync::Arc;

use yibao_engine::{Claim, Date, Policy};
use yibao_lang::Overrides;
use yibao_policies::Registry;

use crate::error::{ApiError, ErrorCode, ErrorKind};

/// The compiled policies a request has used, by id and version, with the request's overrides.
/// `estimate`, `estimate_batch` and the batch command resolve each claim's policy through it.
pub struct PolicyCache<'r> {
    reg: &'r Registry,
    overrides: Overrides,
    compiled: Vec<(String, Date, Arc<Policy>)>,
    /// The last answer and the dates it holds for, so a run of claims under the same policy
    /// skips the registry lookup.
    last: Option<Memo>,
}

struct Memo {
    policy: Option<String>,
    region: Option<String>,
    scheme: Option<String>,
    from: Date,
    until: Option<Date>,
    compiled: Arc<Policy>,
}

impl<'r> PolicyCache<'r> {
    /// An empty cache over `reg`, compiling each version with `overrides`.
    pub fn new(reg: &'r Registry, overrides: Overrides) -> Self {
        PolicyCache {
            reg,
            overrides,
            compiled: Vec::new(),
            last: None,
        }
    }

    /// The policy `claim` is settled under: the one the request names, or the claim's region and
    /// scheme; the version pinned by the request or in force on the claim's date. `path` is the
    /// claim's place in the request, for errors.
    pub fn for_claim(
        &mut self,
        policy: Option<&str>,
        version: Option<Date>,
        claim: &Claim,
        path: &str,
    ) -> Result<Arc<Policy>, ApiError> {
        if version.is_none() {
            if let Some(m) = &self.last {
                let same = match policy {
                    Some(p) => m.policy.as_deref() == Some(p),
                    None => {
                        m.policy.is_none() && m.region == claim.region && m.scheme == claim.scheme
                    }
                };
                if same && claim.date >= m.from && m.until.is_none_or(|u| claim.date < u) {
                    return Ok(m.compiled.clone());
                }
            }
        }
        let reg = self.reg;
        let id = match (policy, &claim.region, &claim.scheme) {
            (Some(p), _, _) => p.to_string(),
            (None, Some(r), Some(s)) => format!("{r}.{s}"),
            _ => {
                return Err(ApiError {
                    allowed: reg.policy_ids(),
                    ..ApiError::new(
                        ErrorKind::Request,
                        Some(format!("{path}.region")),
                        "name the policy (`policy`), or give the claim's `region` and `scheme`",
                    )
                })
            }
        };
        let v = reg
            .select(&id, version.unwrap_or(claim.date))
            .map_err(|e| ApiError::select(e, if version.is_some() { "version" } else { path }))?;
        let (from, until) = (
            v.effective,
            reg.versions()
                .iter()
                .filter(|x| x.id == id && x.effective > v.effective)
                .map(|x| x.effective)
                .min(),
        );
        let memo = |compiled: Arc<Policy>| Memo {
            policy: policy.map(str::to_string),
            region: claim.region.clone(),
            scheme: claim.scheme.clone(),
            from,
            until,
            compiled,
        };
        if let Some((_, _, p)) = self
            .compiled
            .iter()
            .find(|(c, e, _)| *c == id && *e == v.effective)
        {
            if version.is_none() {
                self.last = Some(memo(p.clone()));
            }
            return Ok(p.clone());
        }
        let p = reg.with_overrides(v, &self.overrides).map_err(|ds| {
            let unknown = ds.iter().any(|d| d.code == "yibao::unknown-override");
            let err = ApiError {
                diagnostics: ds.iter().map(|d| d.to_json(&reg.map)).collect(),
                ..ApiError::new(
                    if unknown {
                        ErrorKind::Request
                    } else {
                        ErrorKind::Policy
                    },
                    Some("overrides".into()),
                    ds.first()
                        .map(|d| {
                            format!(
                                "{}{}",
                                d.message,
                                d.help
                                    .as_ref()
                                    .map(|h| format!(" ({h})"))
                                    .unwrap_or_default()
                            )
                        })
                        .unwrap_or_default(),
                )
            };
            if unknown {
                err.with_code(ErrorCode::UnknownOverride, &[])
            } else {
                err
            }
        })?;
        self.compiled.push((id, v.effective, p.clone()));
        if version.is_none() {
            self.last = Some(memo(p.clone()));
        }
        Ok(p)
    }
}
