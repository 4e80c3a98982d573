#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! Malformed input of any kind gives diagnostics or errors, never a panic: 100,000+ mutated and
//! random policy texts, claim documents and CSV claim files per run (seeded, so a failure
//! reproduces). This is CI's short bounded fuzz; `cargo xtask fuzz` runs millions.

use std::panic::{catch_unwind, AssertUnwindSafe};

use yibao_fuzz::{input, run_one, Fixtures, Outcome, Target};

fn fuzz(target: Target, seed: u64, n: u64) -> u64 {
    let fx = Fixtures::new().unwrap();
    let mut accepted = 0;
    for i in 0..n {
        let text = input(target, &fx, seed, i);
        match catch_unwind(AssertUnwindSafe(|| run_one(target, &fx, &text))) {
            Ok(Outcome::Accepted) => accepted += 1,
            Ok(Outcome::Refused) => {}
            Err(_) => panic!("panic on {target:?} input #{i} (seed {seed}):\n{text}"),
        }
    }
    eprintln!("{target:?}: {n} inputs, {accepted} accepted");
    accepted
}

#[test]
fn mutated_policies_never_panic() {
    let accepted = fuzz(Target::Policy, 0x5EED_0001, 60_000);
    assert!(
        accepted > 1_000,
        "mutations should often leave a valid policy ({accepted})"
    );
}

#[test]
fn mutated_claim_documents_never_panic() {
    let accepted = fuzz(Target::Claim, 0x5EED_0002, 40_000);
    assert!(
        accepted > 500,
        "mutations should often leave a valid request ({accepted})"
    );
}

#[test]
fn mutated_csv_claim_files_never_panic() {
    let accepted = fuzz(Target::Csv, 0x5EED_0003, 10_000);
    assert!(
        accepted > 500,
        "mutations should often leave a valid file ({accepted})"
    );
}
