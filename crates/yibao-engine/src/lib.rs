//! The yibao evaluator.
//!
//! `yibao-engine` owns the compiled policy IR ([`Policy`]) and the one function that settles a
//! claim under it ([`settle`]). It knows nothing about the policy language, files or the network:
//! `yibao-lang` compiles text to a [`Policy`], and every front end (CLI, server, wasm) calls
//! [`settle`] through the `yibao` facade crate.
//!
//! Money is [`rust_decimal::Decimal`] throughout; each layer's payment is rounded to 0.01 yuan
//! half up and nothing else is rounded. `settle` performs no I/O, reads no clock and never panics
//! on any input: a bad claim is a [`ClaimError`] with the field path, an arithmetic overflow is an
//! [`EvalError`].
//!
//! ```
//! use yibao_engine::{ir::*, Claim, YtdState, settle, SettleOptions};
//! # use rust_decimal::Decimal;
//! let policy = Policy::example_flat("demo", Decimal::new(800, 0), Decimal::new(70, 2));
//! let claim: Claim = serde_json::from_str(r#"{"date":"2024-03-01","care":"inpatient",
//!     "amounts":{"total":"10800"}}"#).unwrap();
//! let (s, _state) = settle(&policy, &claim, &YtdState::default(), &SettleOptions::default()).unwrap();
//! assert_eq!(s.layers[0].payment.to_string(), "7000.00");
//! assert_eq!(s.out_of_pocket.total.to_string(), "3800.00");
//! ```

#![warn(missing_docs)]

/// Claims: what was billed, where and for whom.
pub mod claim;
/// Calendar dates.
pub mod date;
mod err;
/// The compiled policy (IR) the evaluator runs.
pub mod ir;
/// Exact money.
pub mod money;
mod settle;
/// The result of settling one claim.
pub mod settlement;
/// The year-to-date state carried from claim to claim.
pub mod state;

pub use claim::{Amounts, CareCosts, CareMonth, Claim};
pub use date::Date;
pub use err::{ClaimError, EvalError, SettleError};
pub use ir::Policy;
pub use money::Money;
pub use settle::{settle, settle_in_place, settle_outcome, Outcome, SettleOptions, Settler};
pub use settlement::Settlement;
pub use state::YtdState;
