//! yibao: a policy-as-code calculator for Chinese medical-insurance reimbursement.
//!
//! This crate is the one API every front end calls — the `yibao` command, the HTTP server and
//! the WebAssembly module — so they give the same bytes for the same input. Each call takes a
//! serde request and returns an answer or an [`ApiError`] that names the field and the reason.
//!
//! ```
//! use yibao::{estimate, EstimateRequest, Registry};
//! let reg = Registry::bundled();
//! let req: EstimateRequest = serde_json::from_str(r#"{
//!   "policy": "tianjin.resident",
//!   "claims": [{"date": "2024-05-01", "care": "inpatient", "level": "3",
//!               "amounts": {"total": "30000", "out_of_list": "2000"}}]
//! }"#).unwrap();
//! let answer = estimate(&reg, &req).unwrap();
//! let s = &answer.settlements[0];
//! assert_eq!(s.amounts.in_scope.to_string(), "28000.00");
//! ```
//!
//! # What a service can ask
//!
//! | module | asks |
//! |---|---|
//! | [`mod@estimate`] | settle one claim or one person's year: [`estimate()`], [`estimate_json`] |
//! | [`year`] | one person's year a claim at a time, as the bills come in: [`Year`] |
//! | [`batch`] | many persons' claims at once: [`estimate_batch`] |
//! | [`check`] | the diagnostics of a policy text: [`check_json`], [`check_text`] |
//! | [`versions`] | the versions loaded: [`list_versions`], [`params`], [`version_ref`] |
//! | [`fidelity`] | how sure each version's figures are: [`fidelity()`] |
//! | [`compliance_report`] | the national rules over a version (feature `compliance`) |
//! | [`diff`] | what changed between two versions, and its impact |
//! | [`bench`] | `settle` itself in a loop, for benchmarks |
//!
//! and the parts they share: [`input`] (reading requests), [`overrides`], [`cache`] (the
//! compiled policy per claim, also the fast path for batches), [`error`].
//!
//! # Features
//!
//! - `bundled-policies` (default): the policy files built into the binary
//!   ([`Registry::bundled`]), drafts over them ([`with_drafts`]), the test vectors.
//! - `yaml` (default): requests and vectors in YAML ([`parse_request_yaml`]).
//! - `compliance` (default): the national compliance report.
//! - `sample` (default): seeded synthetic claims ([`sample`]) and a draft's impact ([`draft_diff`]).
//! - `openapi`: OpenAPI schemas of the public types (for the HTTP server).
//!
//! With `default-features = false` the crate is the engine, the policy language and JSON:
//! load policies with [`Registry::from_files`] and settle.

#![warn(missing_docs)]

/// Many persons' claims at once.
pub mod batch;
/// A benchmark entry.
pub mod bench;
/// The compiled policy of each claim, shared across a request.
pub mod cache;
/// Checking policy texts.
pub mod check;
/// The national compliance report.
#[cfg(feature = "compliance")]
pub mod compliance_report;
/// Comparing two versions.
pub mod diff;
/// The facade's error type.
pub mod error;
/// Settling a person's claims.
pub mod estimate;
/// How sure the figures are.
pub mod fidelity;
/// Reading requests.
pub mod input;
/// Notices about the rules behind a result.
pub mod notice;
/// Overrides of policy figures.
pub mod overrides;
/// Synthetic claims.
#[cfg(feature = "sample")]
pub mod sample;
/// The strict JSON reader.
pub mod strict;
/// The test vectors.
#[cfg(all(feature = "yaml", feature = "bundled-policies"))]
pub mod vectors;
/// The policy versions loaded.
pub mod versions;
/// One person's year, a claim at a time.
pub mod year;

#[doc(inline)]
pub use batch::{
    estimate_batch, estimate_batch_until, BatchAnswer, BatchItem, BatchRequest, MAX_BATCH,
};
#[doc(inline)]
pub use bench::settle_rounds;
#[doc(inline)]
pub use cache::PolicyCache;
#[cfg(feature = "bundled-policies")]
#[doc(inline)]
pub use check::with_drafts;
#[doc(inline)]
pub use check::{check_json, check_text, CheckAnswer};
#[cfg(all(feature = "compliance", feature = "bundled-policies"))]
#[doc(inline)]
pub use compliance_report::draft_compliance;
#[cfg(feature = "compliance")]
#[doc(inline)]
pub use compliance_report::{compliance_report, ComplianceFinding, ComplianceReport};
#[cfg(all(feature = "sample", feature = "bundled-policies"))]
#[doc(inline)]
pub use diff::draft_diff;
#[doc(inline)]
pub use error::{ApiError, ErrorCode, ErrorKind};
#[doc(inline)]
pub use estimate::{estimate, estimate_json, EstimateAnswer, EstimateRequest};
#[doc(inline)]
pub use fidelity::{fidelity, fidelity_markdown, Fidelity, FIDELITY_AS_OF};
#[cfg(feature = "yaml")]
#[doc(inline)]
pub use input::parse_request_yaml;
#[doc(inline)]
pub use input::{from_json, parse_request_json, to_json, JsonError};
#[doc(inline)]
pub use notice::Notice;
#[doc(inline)]
pub use overrides::{parse_override, parse_overrides};
#[doc(inline)]
pub use versions::{
    list_versions, params, version_ref, CareFields, ParamInfo, VersionInfo, VersionParams,
};
#[doc(inline)]
pub use year::Year;

/// Exact decimal numbers: every amount and ratio at the interface.
#[doc(inline)]
pub use rust_decimal::Decimal;
#[cfg(feature = "compliance")]
pub use yibao_compliance as compliance;
#[doc(inline)]
pub use yibao_engine::ir::{Cite, DimValue, Dims, LayerKind, Provenance, ValidityKind};
#[doc(inline)]
pub use yibao_engine::settlement::{
    BandLine, BillSplit, LayerResult, OutOfPocket, ParamUse, Platform, PolicyRef, Situation, Step,
    StepKind, Warning,
};
#[doc(inline)]
pub use yibao_engine::state::{Chain, LayerYtd};
#[doc(inline)]
pub use yibao_engine::{
    self as engine, Amounts, Claim, ClaimError, Date, Money, Policy, Settlement, YtdState,
};
#[doc(inline)]
pub use yibao_lang::{self as lang, Diagnostic, DiagnosticJson, Overrides};
#[doc(inline)]
pub use yibao_policies::{self as policies, Registry, SelectError, Version};
