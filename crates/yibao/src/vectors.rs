//! Shared test vectors: YAML files of claims with expected amounts worked out by hand.
//!
//! The same files are run natively (`cargo test`, `yibao vectors`), on the wasm build in Node and
//! in the browser; each run also yields the settlements' canonical JSON so the targets can be
//! compared byte for byte.
//!
//! ```yaml
//! id: TJ-D1
//! title: 大病 bands, burden 150,000
//! provenance: derived          # or official, when it reproduces a published example
//! source: TJ-a
//! policy: tianjin.resident
//! overrides: { basic.ratio: "0%" }
//! claims:
//!   - claim: { date: 2015-03-01, care: inpatient, level: "3", amounts: { total: "150000" } }
//!     expect:
//!       layers: { serious_illness: "70000.00" }
//!       out_of_pocket: "80000.00"
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use yibao_engine::{Claim, Date, Money, YtdState};
use yibao_policies::Registry;

use crate::{estimate, to_json, EstimateRequest};

/// One test vector: a request and what each claim must give.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Vector {
    /// A stable id.
    pub id: String,
    /// What it tests.
    pub title: String,
    /// `derived` (computed by hand from the policy's numbers) or `official` (a published example).
    pub provenance: VectorProvenance,
    /// The document or example it comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `region.scheme`.
    pub policy: String,
    /// A pinned version, when the vector pins one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Date>,
    /// Overrides, as in a request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, String>,
    /// The year so far, before the first claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<YtdState>,
    /// The claims, in order.
    pub claims: Vec<VectorClaim>,
}

/// Where a vector's expected numbers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VectorProvenance {
    /// Computed by hand from the policy's numbers.
    Derived,
    /// A published example.
    Official,
}

/// A claim of a vector and what it must give.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VectorClaim {
    /// The claim.
    pub claim: Claim,
    /// What it must give.
    pub expect: Expect,
}

/// What a claim must give. Only the fields written are compared.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Payment per layer id.
    #[serde(default)]
    pub layers: BTreeMap<String, Money>,
    /// The fund's total payment.
    #[serde(default)]
    pub fund_total: Option<Money>,
    /// The patient's share.
    #[serde(default)]
    pub out_of_pocket: Option<Money>,
    /// Parts of the out-of-pocket amount (`deductible`, `co_pay`, `above_cap`, …).
    #[serde(default)]
    pub split: BTreeMap<String, Money>,
    /// Paths of the placeholder figures the result must list as unverified.
    #[serde(default)]
    pub unverified: Option<Vec<String>>,
    /// Warning codes the result must carry (others may come too), e.g. `unknown_ratio`.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Codes of the notices the claim must get (`rules_stale`, `rules_expired`,
    /// `known_deviation`), in any order; `[]` for none.
    #[serde(default)]
    pub notices: Option<Vec<String>>,
}

/// How many vectors a file's text holds, counted from the text itself (a `- id:` line per vector
/// in a list, or a top-level `id:`): tests compare it with what ran.
pub fn count_written(text: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with("- id:") || l.starts_with("id:"))
        .count()
}

/// Reads a vector file's text.
pub fn parse_vectors(text: &str) -> Result<Vec<Vector>, String> {
    let value: serde_norway::Value = serde_norway::from_str(text).map_err(|e| e.to_string())?;
    if value.is_sequence() {
        let v: Vec<Vector> = serde_path_to_error::deserialize(value)
            .map_err(|e| format!("{}: {}", e.path(), e.inner()))?;
        Ok(v)
    } else {
        let v: Vector = serde_path_to_error::deserialize(value)
            .map_err(|e| format!("{}: {}", e.path(), e.inner()))?;
        Ok(vec![v])
    }
}

/// The outcome of one vector.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VectorResult {
    /// The vector file.
    pub file: String,
    /// The vector's id.
    pub id: String,
    /// The vector's title.
    pub title: String,
    /// Whether every expected number matched.
    pub passed: bool,
    /// What differed, one line per field: `claims[0].layers.basic: expected 1.00, got 2.00`.
    pub diffs: Vec<String>,
    /// The settlements' canonical JSON (the answer of `estimate`), for cross-target comparison.
    pub json: String,
}

/// The request a vector makes.
pub fn request_of(v: &Vector) -> EstimateRequest {
    EstimateRequest {
        policy: Some(v.policy.clone()),
        version: v.version,
        overrides: v.overrides.clone(),
        state: v.state.clone(),
        trace: true,
        claim: None,
        claims: v.claims.iter().map(|c| c.claim.clone()).collect(),
    }
}

/// Runs one vector against `reg`.
pub fn run_vector(reg: &Registry, file: &str, v: &Vector) -> VectorResult {
    let mut diffs = vec![];
    let mut json = String::new();
    match estimate(reg, &request_of(v)) {
        Err(e) => diffs.push(format!("error: {e}")),
        Ok(answer) => {
            json = to_json(&answer).unwrap_or_default();
            for (i, (vc, s)) in v.claims.iter().zip(&answer.settlements).enumerate() {
                let mut cmp = |what: String, want: Money, got: Option<Money>| match got {
                    Some(g) if g == want => {}
                    Some(g) => diffs.push(format!("claims[{i}].{what}: expected {want}, got {g}")),
                    None => diffs.push(format!(
                        "claims[{i}].{what}: expected {want}, but there is no such field"
                    )),
                };
                for (layer, want) in &vc.expect.layers {
                    let got = s
                        .layers
                        .iter()
                        .find(|l| *l.id == **layer)
                        .map(|l| l.payment);
                    cmp(format!("layers.{layer}"), *want, got);
                }
                if let Some(w) = vc.expect.fund_total {
                    cmp("fund_total".into(), w, Some(s.fund_total));
                }
                if let Some(w) = vc.expect.out_of_pocket {
                    cmp("out_of_pocket".into(), w, Some(s.out_of_pocket.total));
                }
                for (part, want) in &vc.expect.split {
                    let o = &s.out_of_pocket;
                    let got = match part.as_str() {
                        "out_of_list" => Some(o.out_of_list),
                        "pre_self_pay" => Some(o.pre_self_pay),
                        "over_limit" => Some(o.over_limit),
                        "deductible" => Some(o.deductible),
                        "co_pay" => Some(o.co_pay),
                        "above_cap" => Some(o.above_cap),
                        "not_covered" => Some(o.not_covered),
                        _ => None,
                    };
                    cmp(format!("split.{part}"), *want, got);
                }
                for code in &vc.expect.warnings {
                    if !s.warnings.iter().any(|w| w.code == code.as_str()) {
                        let got: Vec<&str> = s.warnings.iter().map(|w| &*w.code).collect();
                        diffs.push(format!(
                            "claims[{i}].warnings: expected `{code}` among {got:?}"
                        ));
                    }
                }
                if let Some(want) = &vc.expect.notices {
                    let mut got: Vec<String> = answer
                        .notices
                        .iter()
                        .filter(|n| n.claim == i)
                        .map(|n| n.code.to_string())
                        .collect();
                    let mut want = want.clone();
                    got.sort();
                    want.sort();
                    if got != want {
                        diffs.push(format!(
                            "claims[{i}].notices: expected {want:?}, got {got:?}"
                        ));
                    }
                }
                if let Some(want) = &vc.expect.unverified {
                    let mut got: Vec<String> =
                        s.unverified.iter().map(|p| p.path().to_string()).collect();
                    let mut want = want.clone();
                    got.sort();
                    want.sort();
                    if got != want {
                        diffs.push(format!(
                            "claims[{i}].unverified: expected {want:?}, got {got:?}"
                        ));
                    }
                }
            }
        }
    }
    VectorResult {
        file: file.to_string(),
        id: v.id.clone(),
        title: v.title.clone(),
        passed: diffs.is_empty(),
        diffs,
        json,
    }
}

/// Runs every vector of the given files, with extra policy files (fixtures) added to the
/// bundled policies. Unreadable vector files are reported as failed results.
pub fn run_all(
    extra_policies: Vec<(String, String)>,
    vector_files: &[(String, String)],
) -> (Registry, Vec<VectorResult>) {
    let reg = crate::with_drafts(extra_policies);
    let mut out = vec![];
    for (name, text) in vector_files {
        match parse_vectors(text) {
            Ok(vs) => out.extend(vs.iter().map(|v| run_vector(&reg, name, v))),
            Err(e) => out.push(VectorResult {
                file: name.clone(),
                id: "?".into(),
                title: String::new(),
                passed: false,
                diffs: vec![format!("cannot read: {e}")],
                json: String::new(),
            }),
        }
    }
    (reg, out)
}
