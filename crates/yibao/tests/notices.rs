#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! Answers say how far their rules can be trusted on the claim's date: stale rules (the newest
//! version known only up to an earlier date), expired rules (a stated end passed) and known
//! deviations, as structured notices and as warnings of the settlement.

use serde_json::Value;
use yibao::{estimate_batch, estimate_json, BatchRequest, Registry};

fn answer(request: &str) -> Value {
    let reg = Registry::bundled();
    serde_json::from_str(&estimate_json(&reg, request).unwrap()).unwrap()
}

fn codes(v: &Value) -> Vec<String> {
    let mut c: Vec<String> = v["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["code"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c
}

fn notice<'a>(v: &'a Value, code: &str) -> &'a Value {
    v["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == code)
        .unwrap_or_else(|| panic!("no {code}: {v}"))
}

#[test]
fn a_2026_beijing_employee_admission_uses_rules_known_only_to_2010() {
    let v = answer(
        r#"{"policy":"beijing.employee","claim":{"date":"2026-03-01","care":"inpatient","level":"3","amounts":{"total":"20000"}}}"#,
    );
    let n = notice(&v, "rules_stale");
    assert_eq!(n["claim"], 0);
    assert_eq!(n["version"], "2010-05-01");
    assert_eq!(n["until"], "2010-05-01");
    assert_eq!(n["until_kind"], "confirmed");
    assert_eq!(n["until_provenance"], "official");
    assert_eq!(n["until_source"], "BJ-f");
    assert_eq!(n["days_beyond"], 5783); // 2010-05-01 → 2026-03-01
    assert_eq!(n["layers"], serde_json::json!([]));
    let zh = n["zh"].as_str().unwrap();
    assert!(zh.contains("本工具已知的最新规定为 2010-05-01 版"), "{zh}");
    assert!(zh.contains("此后的调整未收录，结果可能与实际不符"), "{zh}");
    assert!(n["en"]
        .as_str()
        .unwrap()
        .contains("the newest rules known here are from 2010-05-01"));
    // The same text is a warning of the settlement, for every surface that shows warnings.
    let w = v["settlements"][0]["warnings"].as_array().unwrap();
    assert!(w
        .iter()
        .any(|w| w["code"] == "rules_stale" && w["message"].as_str().unwrap().starts_with(zh)));
}

#[test]
fn a_claim_on_the_confirmation_date_is_not_stale() {
    let v = answer(
        r#"{"policy":"beijing.employee","claim":{"date":"2010-05-01","care":"inpatient","level":"3","amounts":{"total":"20000"}}}"#,
    );
    assert!(!codes(&v).contains(&"rules_stale".to_string()), "{v}");
    let v = answer(
        r#"{"policy":"beijing.employee","claim":{"date":"2010-05-02","care":"inpatient","level":"3","amounts":{"total":"20000"}}}"#,
    );
    assert_eq!(notice(&v, "rules_stale")["days_beyond"], 1);
}

#[test]
fn a_2025_guangzhou_special_disease_month_uses_expired_rules() {
    let v = answer(
        r#"{"policy":"guangzhou.employee","claim":{"date":"2025-03-31","care":"outpatient_special","disease":"hypertension","level":"designated","amounts":{"total":"300"}}}"#,
    );
    let n = notice(&v, "rules_expired");
    assert_eq!(n["until"], "2024-06-30");
    assert_eq!(n["until_kind"], "valid_until");
    assert_eq!(n["until_source"], "GZ-g");
    assert_eq!(n["days_beyond"], 274);
    assert_eq!(n["layers"], serde_json::json!(["special_1"]));
    assert!(n["zh"]
        .as_str()
        .unwrap()
        .contains("门诊特定病种（一类）的规定有效期至 2024-06-30"));
    // On the last day of validity there is no expired-rules notice; an inpatient claim in 2025
    // does not touch the 门特 layers.
    let v = answer(
        r#"{"policy":"guangzhou.employee","claim":{"date":"2024-06-30","care":"outpatient_special","disease":"hypertension","level":"designated","amounts":{"total":"300"}}}"#,
    );
    assert!(!codes(&v).contains(&"rules_expired".to_string()), "{v}");
    let v = answer(
        r#"{"policy":"guangzhou.employee","claim":{"date":"2025-03-31","group":"in_service","care":"inpatient","level":"3","amounts":{"total":"11000"}}}"#,
    );
    assert!(!codes(&v).contains(&"rules_expired".to_string()), "{v}");
}

#[test]
fn a_2024_tianjin_serious_illness_case_reports_its_deviation_and_staleness() {
    let v = answer(
        r#"{"policy":"tianjin.resident","claim":{"date":"2024-05-01","care":"inpatient","level":"3","amounts":{"total":"200000"}}}"#,
    );
    let n = notice(&v, "known_deviation");
    assert_eq!(n["rule"], "NAT-SI-RATIO-60");
    assert_eq!(n["layers"], serde_json::json!(["serious_illness"]));
    assert!(n["zh"].as_str().unwrap().contains("2014 年的分段比例"));
    // Stale twice: the version (confirmed 2023-01-01) and its 大病 figures (2020-04-01).
    let stale: Vec<&Value> = v["notices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["code"] == "rules_stale")
        .collect();
    assert_eq!(stale.len(), 2, "{v}");
    assert!(
        stale
            .iter()
            .any(|n| n["layers"] == serde_json::json!(["serious_illness"])
                && n["days_beyond"] == 1491)
    );
    // The tilt deviation concerns only 返贫致贫人口.
    assert!(!v["notices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["rule"] == "NAT-SI-TILT-THRESHOLD"));
    let v = answer(
        r#"{"policy":"tianjin.resident","claim":{"date":"2024-05-01","categories":["poverty_risk"],"care":"inpatient","level":"3","amounts":{"total":"200000"}}}"#,
    );
    assert!(v["notices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["rule"] == "NAT-SI-TILT-THRESHOLD"));
}

#[test]
fn a_claim_under_a_superseded_version_in_its_time_has_no_notice() {
    let v = answer(
        r#"{"policy":"tianjin.resident","claim":{"date":"2021-03-01","care":"inpatient","level":"3","amounts":{"total":"100000"}}}"#,
    );
    assert_eq!(codes(&v), Vec::<String>::new());
}

#[test]
fn batch_items_carry_their_notices() {
    let reg = Registry::bundled();
    let req: BatchRequest = serde_json::from_str(
        r#"{"claims":[
          {"region":"beijing","scheme":"employee","date":"2026-03-01","care":"inpatient","level":"3","amounts":{"total":"20000"}},
          {"region":"tianjin","scheme":"resident","date":"2021-03-01","care":"inpatient","level":"3","amounts":{"total":"100000"}}]}"#,
    )
    .unwrap();
    let a = estimate_batch(&reg, &req).unwrap();
    assert!(a.results[0].notices.iter().any(|n| n.code == "rules_stale"));
    assert_eq!(a.results[0].notices[0].claim, 0);
    assert!(a.results[1].notices.is_empty());
}
