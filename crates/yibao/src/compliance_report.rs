//! The national compliance checks over policy versions, bundled or drafts.

use serde::Serialize;
use yibao_engine::Date;
use yibao_policies::Registry;

#[cfg(feature = "bundled-policies")]
use crate::check::{draft_version, with_drafts};
#[cfg(feature = "bundled-policies")]
use crate::error::{ApiError, ErrorKind};

/// One finding of the national compliance checks, with the known-deviation note if any.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplianceFinding {
    /// The finding itself (its fields are written inline).
    #[serde(flatten)]
    pub finding: yibao_compliance::Finding,
    /// Why this finding on a bundled policy is accepted (policies/known-deviations.yaml).
    pub known: Option<String>,
}

/// The compliance findings of one policy version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplianceReport {
    /// `region.scheme`.
    pub policy: String,
    /// The version's effective date.
    pub version: Date,
    /// The file the version was read from.
    pub file: String,
    /// Every finding, known deviations included (with `known` set).
    pub findings: Vec<ComplianceFinding>,
}

/// Checks policy versions against the national rules: the versions read from `files` (names as
/// in the registry), or by default each policy's current version (the latest).
pub fn compliance_report(
    reg: &Registry,
    files: Option<&[String]>,
    indicators: &yibao_compliance::Indicators,
) -> Vec<ComplianceReport> {
    let known = yibao_compliance::known_deviations();
    let versions = reg.versions();
    versions
        .iter()
        .filter(|v| match files {
            Some(fs) => fs.contains(&v.file),
            None => !versions
                .iter()
                .any(|w| w.id == v.id && w.effective > v.effective),
        })
        .filter(|v| !v.id.starts_with("fixture."))
        .filter_map(|v| {
            let p = v.policy.as_ref()?;
            let until = versions
                .iter()
                .filter(|w| w.id == v.id && w.effective > v.effective)
                .map(|w| w.effective)
                .min();
            let findings = yibao_compliance::check(p, until, indicators)
                .into_iter()
                .map(|f| ComplianceFinding {
                    known: yibao_compliance::known(&known, p, &f).map(str::to_string),
                    finding: f,
                })
                .collect();
            Some(ComplianceReport {
                policy: v.id.clone(),
                version: v.effective,
                file: v.file.clone(),
                findings,
            })
        })
        .collect()
}

/// The national compliance findings of a draft policy text (loaded over the bundled policies).
#[cfg(feature = "bundled-policies")]
pub fn draft_compliance(name: &str, text: &str) -> Result<ComplianceReport, ApiError> {
    let reg = with_drafts(vec![(name.to_string(), text.to_string())]);
    draft_version(&reg, name)?;
    compliance_report(
        &reg,
        Some(&[name.to_string()]),
        &yibao_compliance::Indicators::bundled(),
    )
    .into_iter()
    .next()
    .ok_or_else(|| {
        ApiError::new(
            ErrorKind::Policy,
            None,
            format!("{name} holds no policy version"),
        )
    })
}
