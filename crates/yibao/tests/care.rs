#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! Long-term care months: bad months are errors with the field path, and the planned batch
//! path (`Settler`) settles care months exactly as `settle` does.

use std::sync::Arc;

use yibao::engine::{settle, settle_outcome, Claim, SettleError, SettleOptions, Settler, YtdState};
use yibao::{Date, Registry};

fn month(json: serde_json::Value) -> Claim {
    serde_json::from_value(json).unwrap()
}

fn gz() -> Arc<yibao::Policy> {
    Registry::bundled()
        .policy("guangzhou.ltc", Date::new(2024, 9, 30).unwrap())
        .unwrap()
}

fn claim_error(policy: &yibao::Policy, c: &Claim) -> (String, String) {
    match settle(policy, c, &YtdState::default(), &SettleOptions::default()) {
        Err(SettleError::Claim(e)) => (e.path, e.message),
        other => panic!("expected a claim error, got {other:?}"),
    }
}

#[test]
fn bad_months_are_errors_with_the_field_path() {
    let p = gz();
    let base = serde_json::json!({"date":"2024-09-30","group":"employee","care":"home_b","level":2,
        "amounts":{"total":"1400"},
        "month":{"days":30,"visits":12,"hours":28,"costs":{"personal_care":"1000","nursing":"400"}}});
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = base.clone();
        f(&mut v);
        month(v)
    };
    let cases: Vec<(Claim, &str, &str)> = vec![
        (
            with(&|v| {
                v.as_object_mut().unwrap().remove("month");
            }),
            "month",
            "a month of care",
        ),
        (
            with(&|v| v["amounts"]["total"] = "1500".into()),
            "amounts.total",
            "not the sum",
        ),
        (
            with(&|v| v["amounts"]["out_of_list"] = "10".into()),
            "amounts.out_of_list",
            "no such part",
        ),
        (
            with(&|v| v["month"]["hospital_days"] = 31.into()),
            "month.hospital_days",
            "more than the 30 days",
        ),
        (
            with(&|v| v["month"]["days"] = 32.into()),
            "month.days",
            "at most 31",
        ),
        (
            with(&|v| {
                v["month"].as_object_mut().unwrap().remove("visits");
            }),
            "month.visits",
            "need `visits`",
        ),
        (
            with(&|v| {
                v["care"] = "institution".into();
                v["month"].as_object_mut().unwrap().remove("days");
            }),
            "month.days",
            "per-day limit",
        ),
    ];
    for (c, path, words) in cases {
        let (got, msg) = claim_error(&p, &c);
        assert_eq!(got, path, "{msg}");
        assert!(msg.contains(words), "{path}: {msg}");
    }
    // A month of care under a medical policy.
    let medical = Registry::bundled()
        .policy("guangzhou.employee", Date::new(2024, 9, 30).unwrap())
        .unwrap();
    let mut c = with(&|_| {});
    c.care = "inpatient".into();
    c.group = None;
    c.level = Some("3".into());
    assert_eq!(claim_error(&medical, &c).0, "month");
    // The same through the planned path.
    let mut s = Settler::new(Arc::clone(&medical));
    assert!(matches!(
        s.settle_outcome(&c, &mut YtdState::default()),
        Err(SettleError::Claim(e)) if e.path == "month"
    ));
}

/// Every long-term care vector's months, folded through `settle_outcome` and through the
/// planned `Settler`, give the same numbers and the same state.
#[test]
fn the_planned_path_settles_care_months_as_settle_does() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/ltc");
    let reg = Registry::bundled();
    let mut months = 0;
    for f in ["guangzhou.yaml", "tianjin.yaml"] {
        let text = std::fs::read_to_string(root.join(f)).unwrap();
        for v in yibao::vectors::parse_vectors(&text).unwrap() {
            let first = v.claims[0].claim.date;
            let policy = reg.policy(&v.policy, first).unwrap();
            let mut settler = Settler::new(Arc::clone(&policy));
            let (mut a, mut b) = (YtdState::default(), YtdState::default());
            for c in &v.claims {
                let x = settle_outcome(&policy, &c.claim, &mut a).unwrap();
                let y = settler.settle_outcome(&c.claim, &mut b).unwrap();
                assert_eq!(x, y, "{}", v.id);
                assert_eq!(a, b, "{}", v.id);
                months += 1;
            }
        }
    }
    assert_eq!(months, 33);
}

/// The policy list says which month fields a care policy reads (a form asks for those only), and
/// nothing for a medical policy.
#[test]
fn a_care_policy_lists_the_month_fields_it_reads() {
    let reg = Registry::bundled();
    let versions = yibao::list_versions(&reg);
    let care = |id: &str| {
        versions
            .iter()
            .find(|v| v.id == id)
            .unwrap()
            .care
            .clone()
            .unwrap()
    };
    // Guangzhou: per-day limits (days, hospital days), visit and hour minimums, the months of a
    // validity period, residents' age; no family carer.
    let gz = care("guangzhou.ltc");
    assert_eq!(
        gz.costs,
        [
            "personal_care",
            "nursing",
            "supplies",
            "equipment",
            "assessment"
        ]
    );
    assert_eq!(
        gz.facts,
        [
            "days",
            "hospital_days",
            "visits",
            "hours",
            "age",
            "months_used"
        ]
    );
    // Tianjin: one per-day limit and no condition; the family carer's pay is a cost.
    let tj = care("tianjin.ltc");
    assert_eq!(
        tj.costs,
        [
            "personal_care",
            "nursing",
            "supplies",
            "equipment",
            "assessment",
            "family_care"
        ]
    );
    assert_eq!(tj.facts, ["days", "hospital_days"]);
    assert!(versions
        .iter()
        .filter(|v| v.scheme != "ltc")
        .all(|v| v.care.is_none()));
    let json = serde_json::to_value(
        versions
            .iter()
            .find(|v| v.id == "tianjin.resident")
            .unwrap(),
    )
    .unwrap();
    assert!(
        json.get("care").is_none(),
        "a medical policy's entry is unchanged"
    );
}

/// A cost that is not an amount is coded like any amount of a bill, with the value typed.
#[test]
fn a_bad_cost_is_coded_as_an_amount() {
    let reg = Registry::bundled();
    let req = r#"{"policy":"guangzhou.ltc","claims":[{"date":"2024-09-30","care":"home_b","level":2,
        "amounts":{"total":"0"},"month":{"visits":12,"hours":"28","costs":{"nursing":"4OO"}}}]}"#;
    let e = yibao::estimate_json(&reg, req).unwrap_err();
    assert_eq!(e.path.as_deref(), Some("claims[0].month.costs.nursing"));
    assert_eq!(e.code, yibao::ErrorCode::AmountSyntax);
    assert_eq!(e.fields["value"], "4OO");
}
