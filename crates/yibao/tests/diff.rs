#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! `diff` on two versions with the impact worked out by hand.

use yibao::diff::diff;
use yibao::{Claim, Policy};

fn policy(effective: &str, deductible: &str, ratio: &str) -> Policy {
    let text = format!(
        r#"policy test.resident "测试" "test"
effective {effective}
source FX "test fixture"
care [inpatient, general_outpatient]
layer basic "统筹" "basic" {{
  when care in [inpatient]
  base in_scope
  deductible per_admission {deductible} [official FX]
  ratio {ratio} [official FX]
}}
"#
    );
    let out = yibao::lang::compile_text("test.policy", &text);
    out.policy.unwrap()
}

fn claim(person: &str, date: &str, care: &str, total: &str) -> Claim {
    serde_json::from_value(serde_json::json!({
        "person": person, "date": date, "care": care, "amounts": {"total": total}
    }))
    .unwrap()
}

#[test]
fn diff_reports_changed_parameters_and_a_hand_computed_impact() {
    let old = policy("2024-01-01", "1000", "80%");
    let new = policy("2025-01-01", "500", "85%");
    let claims = vec![
        // p1: old (10,000 − 1,000) × 80% = 7,200, pays 2,800; new (10,000 − 500) × 85% = 8,075,
        // pays 1,925: change −875.
        claim("p1", "2025-03-01", "inpatient", "10000"),
        // p2: old all 800 under the deductible, pays 800; new (800 − 500) × 85% = 255, pays 545:
        // change −255.
        claim("p2", "2025-03-01", "inpatient", "800"),
        // p3: outpatient, no layer pays in either: pays 1,000 both times.
        claim("p3", "2025-03-01", "general_outpatient", "1000"),
    ];
    let r = diff(&old, &new, &claims);

    let paths: Vec<&str> = r.params.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["basic.deductible", "basic.ratio"]);
    assert_eq!(r.params[0].old.as_ref().unwrap().text, "1000");
    assert_eq!(r.params[0].new.as_ref().unwrap().text, "500");
    assert_eq!(r.params[1].new.as_ref().unwrap().provenance, "official");

    let i = &r.impact;
    assert_eq!((i.claims, i.persons, i.settled, i.changed), (3, 3, 3, 2));
    // Mean of −875, −255, 0 = −376.666… → −376.67.
    assert_eq!(i.mean_change.to_string(), "-376.67");
    assert_eq!(i.min_change.to_string(), "-875.00");
    // Nearest rank: p10 → 1st of 3, p50 → 2nd, p90 → 3rd.
    assert_eq!(i.p10_change.to_string(), "-875.00");
    assert_eq!(i.p50_change.to_string(), "-255.00");
    assert_eq!(i.p90_change.to_string(), "0.00");
    assert_eq!(i.max_change.to_string(), "0.00");
    assert_eq!(i.fund_before.to_string(), "7200.00");
    assert_eq!(i.fund_after.to_string(), "8330.00");
    assert_eq!(i.out_of_pocket_before.to_string(), "4600.00");
    assert_eq!(i.out_of_pocket_after.to_string(), "3470.00");
    assert_eq!(i.in_scope.to_string(), "11800.00");
    // 7,200 / 11,800 = 0.61016… ; 8,330 / 11,800 = 0.70593…
    assert_eq!(i.policy_scope_ratio_before.unwrap().to_string(), "0.6102");
    assert_eq!(i.policy_scope_ratio_after.unwrap().to_string(), "0.7059");
    assert_eq!(i.largest.len(), 2);
    assert_eq!(i.largest[0].person.as_deref(), Some("p1"));
    assert_eq!(i.largest[0].change.to_string(), "-875.00");
}

#[test]
fn a_second_admission_folds_the_year_under_each_version() {
    // Per-year deductible: the second claim of the same person pays none under either version.
    let mk = |d: &str| {
        let text = format!(
            r#"policy test.resident "测试" "test"
effective 2024-01-01
source FX "test fixture"
care [inpatient]
layer basic "统筹" "basic" {{
  base in_scope
  deductible per_year {d} [official FX]
  ratio 50% [official FX]
}}
"#
        );
        yibao::lang::compile_text("t.policy", &text).policy.unwrap()
    };
    let (old, new) = (mk("1000"), mk("2000"));
    let claims = vec![
        claim("p", "2024-02-01", "inpatient", "3000"),
        claim("p", "2024-03-01", "inpatient", "3000"),
    ];
    // Old: (3000 − 1000) × 50% = 1000, then 3000 × 50% = 1500 → fund 2,500.
    // New: (3000 − 2000) × 50% = 500, then 1500 → fund 2,000. Only the first claim changes (+500).
    let r = diff(&old, &new, &claims);
    assert_eq!(r.impact.persons, 1);
    assert_eq!(r.impact.fund_before.to_string(), "2500.00");
    assert_eq!(r.impact.fund_after.to_string(), "2000.00");
    assert_eq!(r.impact.changed, 1);
    assert_eq!(r.impact.max_change.to_string(), "500.00");
}
