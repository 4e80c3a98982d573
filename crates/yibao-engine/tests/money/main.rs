//! Tests that pin the money down: hand-worked cases built as IR, each settled through every entry
//! point (`settle` traced and untraced, `settle_in_place`, `settle_outcome`, a `Settler`), which
//! must agree on every number, warning and state. `cargo xtask mutants` runs cargo-mutants on the
//! money code with this binary (see `crates/yibao-engine/MUTANTS.md`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

mod caps;
mod care;
mod cascade;
mod deductible;
mod edges;
mod eval;
mod referral;
mod text;
mod year;
