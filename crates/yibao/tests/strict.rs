#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! The one request reader: what JSON and YAML requests may look like (issue 16, lenient JSON).

use yibao::{parse_request_json, parse_request_yaml, BatchRequest, EstimateRequest, Registry};

const ONE: &str = r#"{"policy":"tianjin.resident","claim":{"date":"2024-05-01","care":"inpatient","amounts":{"total":"30000"}}}"#;

#[test]
fn one_json_value_and_nothing_after_it() {
    assert!(parse_request_json(ONE).is_ok());
    assert!(parse_request_json(&format!("  {ONE}\n\t ")).is_ok());
    for tail in ["xyz", ONE, "}", ",", "null"] {
        let e = parse_request_json(&format!("{ONE}{tail}")).unwrap_err();
        assert!(e.message.contains("nothing after it"), "{tail}: {e}");
        let e =
            yibao::from_json::<EstimateRequest>(format!("{ONE} {tail}").as_bytes()).unwrap_err();
        assert!(e.syntax, "{tail}");
    }
}

#[test]
fn structs_are_objects_never_arrays_read_by_position() {
    let cases = [
        // The whole request.
        (r#"["tianjin.resident", null, {}, null, true]"#, None),
        // A claim.
        (
            r#"{"policy":"tianjin.resident","claim":[null,null,null,null,"2024-05-01",null,[],"inpatient",null,null,false,null,null,{"total":"1"}]}"#,
            Some("claim"),
        ),
        // Amounts inside a claim inside a list.
        (
            r#"{"policy":"tianjin.resident","claims":[{"date":"2024-05-01","care":"inpatient","amounts":["300000"]}]}"#,
            Some("claims[0].amounts"),
        ),
    ];
    for (text, path) in cases {
        let e = yibao::from_json::<EstimateRequest>(text.as_bytes()).unwrap_err();
        assert!(!e.syntax, "{text}");
        assert_eq!(e.error.path.as_deref(), path, "{text}: {}", e.error);
        assert!(e.error.message.contains("sequence"), "{}", e.error);
    }
    let e = yibao::from_json::<BatchRequest>(br#"[[]]"#).unwrap_err();
    assert!(!e.syntax);
    // YAML (the command line's claim files) reads the same way.
    assert!(parse_request_yaml("policy: tianjin.resident\nclaim: [a, b]\n").is_err());
    assert!(
        parse_request_yaml("- date: '2024-01-01'\n  care: inpatient\n  amounts: ['5']\n").is_err()
    );
    // Lists that are lists stay lists.
    let ok = r#"{"policy":"tianjin.resident","claims":[{"date":"2024-05-01","care":"inpatient","categories":["min_allowance"],"amounts":{"total":"1"}}]}"#;
    assert!(parse_request_json(ok).is_ok());
}

#[test]
fn money_strings_follow_the_documented_pattern_everywhere() {
    for bad in [" 100 ", "+100", "30000.", ".5", "-0", "00030000", "1.500"] {
        let json = format!(
            r#"{{"policy":"tianjin.resident","claim":{{"date":"2024-05-01","care":"inpatient","amounts":{{"total":"{bad}"}}}}}}"#
        );
        let e = parse_request_json(&json).unwrap_err();
        assert_eq!(e.path.as_deref(), Some("claim.amounts.total"), "`{bad}`");
        let yaml = format!("date: '2024-05-01'\ncare: inpatient\namounts: {{total: '{bad}'}}\n");
        assert!(parse_request_yaml(&yaml).is_err(), "`{bad}` from YAML");
    }
    // Whole numbers as integers, and levels as integers, are declared in the schema.
    let r = parse_request_json(
        r#"{"policy":"tianjin.resident","claim":{"date":"2024-05-01","care":"inpatient","level":3,"amounts":{"total":30000}}}"#,
    )
    .unwrap();
    let c = r.claim.unwrap();
    assert_eq!(c.level.as_deref(), Some("3"));
    assert_eq!(c.amounts.total.to_string(), "30000.00");
}

#[test]
fn a_batch_stops_between_claims_when_asked() {
    let reg = Registry::bundled();
    let req: BatchRequest = yibao::from_json(
        br#"{"policy":"tianjin.resident","claims":[
            {"date":"2024-05-01","care":"inpatient","amounts":{"total":"100"}},
            {"date":"2024-05-02","care":"inpatient","amounts":{"total":"100"}},
            {"date":"2024-05-03","care":"inpatient","amounts":{"total":"100"}}]}"#,
    )
    .unwrap();
    let asked = std::cell::Cell::new(0);
    let stop = || {
        asked.set(asked.get() + 1);
        asked.get() > 2
    };
    let e = yibao::estimate_batch_until(&reg, &req, &stop).unwrap_err();
    assert_eq!(e.kind, yibao::ErrorKind::Unavailable);
    assert!(e.message.contains("after 2 claims"), "{e}");
    let all = yibao::estimate_batch_until(&reg, &req, &|| false).unwrap();
    assert_eq!(all.settled, 3);
}

#[test]
fn stay_days_is_a_whole_number_of_days_everywhere() {
    let req = |v: &str| {
        format!(
            r#"{{"policy":"guangzhou.employee","claim":{{"date":"2023-03-01","care":"inpatient","level":3,"stay_days":{v},"amounts":{{"total":"50000"}}}}}}"#
        )
    };
    for bad in ["-1", "1.5", "90.0", "\"90\"", "4294967296", "true"] {
        let e = parse_request_json(&req(bad)).unwrap_err();
        assert_eq!(e.path.as_deref(), Some("claim.stay_days"), "`{bad}`: {e}");
        let yaml = format!(
            "date: '2023-03-01'\ncare: inpatient\nstay_days: {bad}\namounts: {{total: '50000'}}\n"
        );
        assert!(parse_request_yaml(&yaml).is_err(), "`{bad}` from YAML");
    }
    // The national platform's name is an alias.
    let r = parse_request_json(&req("200").replace("stay_days", "act_ipt_days")).unwrap();
    assert_eq!(r.claim.as_ref().unwrap().stay_days, Some(200));
    // Read, then settled: 200 days pay the deductible three times; beyond 100 years is refused
    // as a bad claim, naming the field.
    let reg = Registry::bundled();
    let a = yibao::estimate(&reg, &r).unwrap();
    let s = &a.settlements[0];
    assert_eq!(s.out_of_pocket.deductible.to_string(), "3000.00");
    let r = parse_request_json(&req("36526")).unwrap();
    let e = yibao::estimate(&reg, &r).unwrap_err();
    assert!(e.to_string().contains("claim.stay_days"), "{e}");
    // An amount above the total is refused as before, whatever the stay.
    let r = parse_request_json(
        r#"{"policy":"guangzhou.employee","claim":{"date":"2023-03-01","care":"inpatient","stay_days":10,"amounts":{"total":"100","out_of_list":"200"}}}"#,
    )
    .unwrap();
    let e = yibao::estimate(&reg, &r).unwrap_err();
    assert!(e.message.contains("more than the total"), "{e}");
}

#[test]
fn special_drugs_is_money_within_out_of_list() {
    let req = |v: &str, ool: &str| {
        format!(
            r#"{{"policy":"huzhou.resident","claim":{{"date":"2022-04-01","care":"inpatient","amounts":{{"total":"50000","out_of_list":"{ool}","special_drugs":{v}}}}}}}"#
        )
    };
    for bad in ["\"-1\"", "-1", "\"1.234\"", "12.5"] {
        let e = parse_request_json(&req(bad, "20000")).unwrap_err();
        assert_eq!(
            e.path.as_deref(),
            Some("claim.amounts.special_drugs"),
            "`{bad}`: {e}"
        );
    }
    let reg = Registry::bundled();
    // Within 全自费: read and settled.
    let r = parse_request_json(&req("\"15000\"", "20000")).unwrap();
    assert!(yibao::estimate(&reg, &r).is_ok());
    // Above 全自费 (and so above what the bill leaves outside the policy scope): refused.
    let r = parse_request_json(&req("\"25000\"", "20000")).unwrap();
    let e = yibao::estimate(&reg, &r).unwrap_err();
    assert!(e.to_string().contains("special_drugs"), "{e}");
    // Above the total itself: refused too.
    let r = parse_request_json(&req("\"60000\"", "20000")).unwrap();
    assert!(yibao::estimate(&reg, &r).is_err());
}
