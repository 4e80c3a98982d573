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

mod api;
pub mod diff;
pub mod notice;
pub mod sample;
pub mod strict;
pub mod vectors;

pub use api::*;
pub use notice::Notice;
pub use yibao_compliance as compliance;
pub use yibao_engine::{self as engine, Claim, Date, Money, Policy, Settlement, YtdState};
pub use yibao_lang::{self as lang, Diagnostic, DiagnosticJson};
pub use yibao_policies::{self as policies, Registry};
