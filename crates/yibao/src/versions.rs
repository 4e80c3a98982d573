//! The list of policy versions, and naming one version (`region.scheme@YYYY-MM-DD`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use yibao_engine::{Date, Policy};
use yibao_policies::Registry;

/// One version in the list of policies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionInfo {
    /// `region.scheme`.
    pub id: String,
    /// The region (`tianjin`).
    pub region: String,
    /// The scheme (`resident`, `employee`, `ltc`).
    pub scheme: String,
    /// The policy's name in Chinese.
    pub name: String,
    /// Its name in English, when given.
    pub name_en: Option<String>,
    /// The effective date.
    pub effective: Date,
    /// The SHA-256 of the version's text (after `extends`).
    pub content_hash: String,
    /// The file it was read from.
    pub file: String,
    /// Whether it compiled without errors.
    pub ok: bool,
    /// How many of the version's numbers have each provenance.
    pub provenance: BTreeMap<String, usize>,
    /// The values a claim may take along each dimension (when it compiled).
    pub dims: Option<yibao_engine::ir::Dims>,
    /// For a long-term care policy: the fields of a claim's `month` its layers read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub care: Option<CareFields>,
}

/// The fields of a month of care (`claim.month`) a care policy reads, so a form asks for those
/// and no others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CareFields {
    /// The cost kinds its layers pay from (`month.costs.<kind>`), in the claim format's order.
    pub costs: Vec<String>,
    /// The facts it reads (`month.<fact>`): `days` and `hospital_days` when a limit is per day,
    /// and every fact a `require` tests, in the claim format's order.
    pub facts: Vec<String>,
}

/// What a care policy reads of a month; `None` for a medical policy.
fn care_fields(p: &Policy) -> Option<CareFields> {
    use yibao_engine::ir::{CareFact, CostKind, LimitPer};
    let rules: Vec<_> = p.layers.iter().filter_map(|l| l.care.as_deref()).collect();
    if rules.is_empty() {
        return None;
    }
    let per_day = rules
        .iter()
        .any(|r| r.limit.as_ref().is_some_and(|l| l.per == LimitPer::Day));
    let tested = |f: CareFact| rules.iter().any(|r| r.requires.iter().any(|q| q.fact == f));
    let mut facts = vec![];
    if per_day || tested(CareFact::Days) {
        facts.extend(["days", "hospital_days"]);
    }
    for f in [
        CareFact::Visits,
        CareFact::Hours,
        CareFact::Age,
        CareFact::MonthsUsed,
    ] {
        if tested(f) {
            facts.push(f.name());
        }
    }
    Some(CareFields {
        costs: CostKind::ALL
            .iter()
            .filter(|k| rules.iter().any(|r| r.costs.contains(k)))
            .map(|k| k.name().to_string())
            .collect(),
        facts: facts.into_iter().map(str::to_string).collect(),
    })
}

/// Every bundled version, for pickers and the API.
pub fn list_versions(reg: &Registry) -> Vec<VersionInfo> {
    reg.versions()
        .iter()
        .map(|v| {
            let (region, scheme) = v.id.split_once('.').unwrap_or((&v.id, ""));
            let mut provenance = BTreeMap::new();
            if let Some(p) = &v.policy {
                for param in &p.params {
                    *provenance
                        .entry(param.provenance.name().to_string())
                        .or_insert(0) += 1;
                }
            }
            VersionInfo {
                id: v.id.clone(),
                region: region.to_string(),
                scheme: scheme.to_string(),
                name: v
                    .policy
                    .as_ref()
                    .map(|p| p.name.to_string())
                    .unwrap_or_default(),
                name_en: v.policy.as_ref().and_then(|p| p.name_en.clone()),
                effective: v.effective,
                content_hash: v.content_hash.clone(),
                file: v.file.clone(),
                ok: v.policy.is_some(),
                provenance,
                dims: v.policy.as_ref().map(|p| p.dims.clone()),
                care: v.policy.as_deref().and_then(care_fields),
            }
        })
        .collect()
}

/// A version named `region.scheme@YYYY-MM-DD`, or `region.scheme` for its latest version.
pub fn version_ref(reg: &Registry, name: &str) -> Result<Arc<Policy>, String> {
    let (id, date) = match name.split_once('@') {
        Some((id, d)) => (
            id,
            Some(d.parse::<Date>().map_err(|e| format!("`{name}`: {e}"))?),
        ),
        None => (name, None),
    };
    let versions: Vec<_> = reg.versions().iter().filter(|v| v.id == id).collect();
    if versions.is_empty() {
        return Err(format!(
            "no policy `{id}`; the policies are: {}",
            reg.policy_ids().join(", ")
        ));
    }
    let v = match date {
        Some(d) => versions.iter().find(|v| v.effective == d).ok_or_else(|| {
            format!(
                "`{id}` has no version taking effect on {d}; its versions: {}",
                versions
                    .iter()
                    .map(|v| v.effective.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?,
        None => versions
            .iter()
            .max_by_key(|v| v.effective)
            .ok_or_else(|| format!("no policy `{id}`"))?,
    };
    v.policy
        .clone()
        .ok_or_else(|| format!("`{}@{}` has errors ({})", v.id, v.effective, v.file))
}

/// One figure of a version, as `yibao check --params` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParamInfo {
    /// The stable path an override names, e.g. `basic.deductible.level.3`.
    pub path: String,
    /// The figure as written in the policy (`85%`, `20000`).
    pub text: String,
    /// Its exact value (a ratio as a fraction: `85%` is `0.85`).
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = r"^-?[0-9]+(\.[0-9]+)?$"))]
    pub value: rust_decimal::Decimal,
    /// How sure the figure is.
    pub provenance: yibao_engine::ir::Provenance,
    /// Where it comes from (a document and article), when known.
    pub source: Option<String>,
    /// A note on the figure (why it is a placeholder, how it was derived).
    pub note: Option<String>,
    /// The clause it is written in: file, line, column and its text.
    pub cite: yibao_engine::ir::Cite,
}

/// The figures of one version, for listing the paths an override may name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionParams {
    /// `region.scheme`.
    pub id: String,
    /// The version's effective date.
    pub effective: Date,
    /// The file the version was read from.
    pub file: String,
    /// Every figure, in the order of the policy text.
    pub params: Vec<ParamInfo>,
}

/// The figures of the version of `id` taking effect on `effective` — paths, values, provenance
/// and sources. `Err` holds what does exist: the policy ids, or the policy's versions.
///
/// ```
/// let reg = yibao::Registry::bundled();
/// let v = yibao::list_versions(&reg).into_iter().find(|v| v.id == "tianjin.resident").unwrap();
/// let listed = yibao::params(&reg, &v.id, v.effective).unwrap();
/// assert!(listed.params.iter().any(|p| p.path.starts_with("basic.")));
/// ```
pub fn params(reg: &Registry, id: &str, effective: Date) -> Result<VersionParams, crate::ApiError> {
    use crate::{ApiError, ErrorKind};
    let versions: Vec<_> = reg.versions().iter().filter(|v| v.id == id).collect();
    let Some(v) = versions.iter().find(|v| v.effective == effective) else {
        let (path, allowed, message) = if versions.is_empty() {
            ("policy", reg.policy_ids(), format!("no policy `{id}`"))
        } else {
            (
                "version",
                versions.iter().map(|v| v.effective.to_string()).collect(),
                format!("no version of `{id}` takes effect on {effective}"),
            )
        };
        return Err(ApiError {
            allowed,
            ..ApiError::new(ErrorKind::NotFound, Some(path.into()), message)
        });
    };
    let Some(p) = &v.policy else {
        return Err(ApiError::new(
            ErrorKind::Policy,
            Some("version".into()),
            format!("`{id}@{effective}` has errors ({})", v.file),
        ));
    };
    Ok(VersionParams {
        id: v.id.clone(),
        effective: v.effective,
        file: v.file.clone(),
        params: p
            .params
            .iter()
            .map(|q| ParamInfo {
                path: q.path.clone(),
                text: q.text.clone(),
                value: q.value,
                provenance: q.provenance,
                source: q.source.clone(),
                note: q.note.clone(),
                cite: q.cite.clone(),
            })
            .collect(),
    })
}
