//! `check`: the diagnostics of a policy text, and drafts loaded over the bundled policies.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use yibao_engine::Policy;
use yibao_lang::{Diagnostic, DiagnosticJson};
use yibao_policies::Registry;

use crate::error::{ApiError, ErrorKind};

/// What `check` found in a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckAnswer {
    /// No error (warnings allowed).
    pub ok: bool,
    /// How many diagnostics are errors.
    pub errors: usize,
    /// How many are warnings.
    pub warnings: usize,
    /// Every diagnostic, with file, line, column and byte span.
    pub diagnostics: Vec<DiagnosticJson>,
}

/// Checks a policy text. A text that `extends` a bundled version is checked against it (without
/// the feature `bundled-policies`, the text is checked on its own).
///
/// ```
/// let (_, diags) = yibao::check_text("draft.policy", "policy nonsense");
/// assert!(diags.iter().any(|d| d.is_error()));
/// ```
pub fn check_text(name: &str, text: &str) -> (Registry, Vec<Diagnostic>) {
    let draft = vec![(name.to_string(), text.to_string())];
    #[cfg(feature = "bundled-policies")]
    let reg = with_drafts(draft);
    #[cfg(not(feature = "bundled-policies"))]
    let reg = Registry::from_files(draft);
    let diags: Vec<Diagnostic> = reg
        .diagnostics
        .iter()
        .filter(|(f, _)| f == name)
        .flat_map(|(_, ds)| ds.iter().cloned())
        .collect();
    (reg, diags)
}

/// The bundled policies with draft files loaded over them: a draft replaces the bundled version
/// with the same id and effective date, and may `extends` any bundled version.
#[cfg(feature = "bundled-policies")]
pub fn with_drafts(drafts: Vec<(String, String)>) -> Registry {
    let mut files: Vec<(String, String)> = yibao_policies::bundled_files();
    let bundled = Registry::bundled();
    for (name, text) in &drafts {
        let probe = Registry::from_files(vec![(name.clone(), text.clone())]);
        for v in probe.versions() {
            if let Some(b) = bundled.version(&v.id, v.effective) {
                let f = b.file.clone();
                files.retain(|(n, _)| *n != f);
            }
        }
    }
    files.extend(drafts);
    Registry::from_files(files)
}

/// `check` as JSON, for the playground and the server.
pub fn check_json(name: &str, text: &str) -> CheckAnswer {
    let (reg, diags) = check_text(name, text);
    let errors = diags.iter().filter(|d| d.is_error()).count();
    CheckAnswer {
        ok: errors == 0,
        errors,
        warnings: diags.len() - errors,
        diagnostics: diags.iter().map(|d| d.to_json(&reg.map)).collect(),
    }
}

/// A draft's version in a registry it was loaded into, or its errors.
#[cfg_attr(not(feature = "bundled-policies"), allow(dead_code))]
pub(crate) fn draft_version(reg: &Registry, name: &str) -> Result<Arc<Policy>, ApiError> {
    let v = reg
        .versions()
        .iter()
        .find(|v| v.file == name)
        .ok_or_else(|| {
            ApiError::new(
                ErrorKind::Policy,
                None,
                format!("{name} holds no policy version"),
            )
        })?;
    v.policy.clone().ok_or_else(|| {
        let diags: Vec<DiagnosticJson> = reg
            .diagnostics
            .iter()
            .filter(|(f, _)| f == name)
            .flat_map(|(_, ds)| ds.iter().filter(|d| d.is_error()))
            .map(|d| d.to_json(&reg.map))
            .collect();
        ApiError {
            diagnostics: diags,
            ..ApiError::new(ErrorKind::Policy, None, format!("{name} has errors"))
        }
    })
}
