#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! The request/answer layer: errors name the field and say what was wrong.

use yibao::{estimate_json, parse_request_json, parse_request_yaml, ErrorKind, Registry};

fn reg() -> Registry {
    Registry::bundled()
}

#[test]
fn bundled_policies_compile_without_errors() {
    let r = reg();
    assert!(!r.has_errors(), "{:#?}", r.diagnostics);
    assert!(r.versions().iter().all(|v| v.policy.is_some()));
}

#[test]
fn unknown_care_type_names_the_field_and_the_choices() {
    let e = estimate_json(&reg(), r#"{"policy":"tianjin.resident","claim":{"date":"2024-01-01","care":"dental","amounts":{"total":"10"}}}"#).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Claim);
    assert_eq!(e.path.as_deref(), Some("claim.care"));
    assert!(
        e.message.contains("unknown care type `dental`"),
        "{}",
        e.message
    );
    assert_eq!(
        e.allowed,
        vec!["inpatient", "outpatient_special", "general_outpatient"]
    );
}

#[test]
fn parts_above_total_are_refused() {
    let e = estimate_json(&reg(), r#"{"policy":"tianjin.resident","claims":[{"date":"2024-01-01","care":"inpatient","amounts":{"total":"10","out_of_list":"11"}}]}"#).unwrap_err();
    assert_eq!(e.path.as_deref(), Some("claims[0].amounts"));
    assert!(e.message.contains("more than the total"));
}

#[test]
fn malformed_json_and_wrong_fields_have_paths() {
    let e = parse_request_json(r#"{"policy":"x","claims":[{"date":"2024-01-01","care":"inpatient","amounts":{"total":12.5}}]}"#).unwrap_err();
    assert_eq!(e.path.as_deref(), Some("claims[0].amounts.total"));
    assert!(e.message.contains("as a string"), "{}", e.message);
    let e = parse_request_json(
        r#"{"claims":[{"date":"2024-02-30","care":"x","amounts":{"total":"1"}}]}"#,
    )
    .unwrap_err();
    assert_eq!(e.path.as_deref(), Some("claims[0].date"));
    let e = parse_request_json(r#"{"claims":[{"date":"2024-01-01","care":"x","amount":{}}]}"#)
        .unwrap_err();
    assert!(
        e.message.contains("unknown field `amount`"),
        "{}",
        e.message
    );
    assert!(parse_request_json("{").is_err());
}

#[test]
fn no_version_in_force_lists_the_versions() {
    let e = estimate_json(&reg(), r#"{"policy":"tianjin.resident","claim":{"date":"2010-01-01","care":"inpatient","amounts":{"total":"10"}}}"#).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(
        e.allowed,
        vec![
            "2014-07-01",
            "2016-01-01",
            "2020-03-01",
            "2020-04-01",
            "2023-01-01"
        ]
    );
    let e = estimate_json(&reg(), r#"{"policy":"atlantis.resident","claim":{"date":"2020-01-01","care":"inpatient","amounts":{"total":"10"}}}"#).unwrap_err();
    assert!(e.allowed.contains(&"tianjin.resident".to_string()));
}

#[test]
fn claims_out_of_date_order_are_refused() {
    let e = estimate_json(
        &reg(),
        r#"{"policy":"tianjin.resident","claims":[
        {"date":"2024-05-01","care":"inpatient","amounts":{"total":"10"}},
        {"date":"2024-04-01","care":"inpatient","amounts":{"total":"10"}}]}"#,
    )
    .unwrap_err();
    assert_eq!(e.path.as_deref(), Some("claims[1].date"));
}

#[test]
fn a_new_year_starts_afresh() {
    let ans = yibao::estimate(
        &reg(),
        &parse_request_json(
            r#"{"policy":"tianjin.resident","overrides":{"basic.ratio":"0%"},"claims":[
        {"date":"2024-05-01","care":"inpatient","amounts":{"total":"30000"}},
        {"date":"2025-01-02","care":"inpatient","amounts":{"total":"30000"}}]}"#,
        )
        .unwrap(),
    )
    .unwrap();
    // Each year pays (30,000 − 21,202) × 50% = 4,399: the threshold is paid again in the new year.
    assert_eq!(ans.settlements[0].layers[1].payment.to_string(), "4399.00");
    assert_eq!(ans.settlements[1].layers[1].payment.to_string(), "4399.00");
    assert_eq!(ans.state.year, Some(2025));
}

#[test]
fn overrides_replace_figures_and_are_reported() {
    let ans = yibao::estimate(&reg(), &parse_request_json(r#"{"policy":"tianjin.resident","overrides":{"basic.deductible":"800","basic.ratio":"85%"},
        "claim":{"date":"2024-05-01","care":"inpatient","amounts":{"total":"10800"}}}"#).unwrap()).unwrap();
    let s = &ans.settlements[0];
    assert_eq!(s.layers[0].payment.to_string(), "8500.00"); // (10,800 − 800) × 85%
    let paths: Vec<&str> = s.overrides.iter().map(|o| o.path()).collect();
    assert_eq!(paths, vec!["basic.deductible", "basic.ratio"]);
    assert!(!s.unverified.iter().any(|u| u.path() == "basic.deductible"));
    let e = estimate_json(&reg(), r#"{"policy":"tianjin.resident","overrides":{"basic.ratoi":"1%"},"claim":{"date":"2024-05-01","care":"inpatient","amounts":{"total":"1"}}}"#).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Request);
    assert!(
        e.message.contains("did you mean `basic.ratio`"),
        "{}",
        e.message
    );
}

#[test]
fn yaml_files_hold_a_claim_a_list_or_a_request() {
    let one =
        parse_request_yaml("date: '2024-01-01'\ncare: inpatient\namounts: {total: '5'}\n").unwrap();
    assert!(one.claim.is_some());
    let many = parse_request_yaml("- {date: '2024-01-01', care: inpatient, amounts: {total: 5}}\n- {date: '2024-01-02', care: inpatient, amounts: {total: 5}}\n").unwrap();
    assert_eq!(many.claims.len(), 2);
    let e = parse_request_yaml("- {date: '2024-01-01', care: inpatient, amounts: {total: -5}}\n")
        .unwrap_err();
    assert_eq!(e.path.as_deref(), Some("claims[0].amounts.total"));
    let req = parse_request_yaml("policy: tianjin.resident\nclaims: []\n").unwrap();
    assert_eq!(req.policy.as_deref(), Some("tianjin.resident"));
}

#[test]
fn check_json_reports_lines_and_columns() {
    let a = yibao::check_json("draft.policy", "policy x.y \"草稿\"\neffective 2024-01-01 confirmed 2024-12-31\ncare [inpatient]\nlayer basic \"统筹\" {\n  base in_scope\n  ratio 185% [placeholder]\n}\n");
    assert!(!a.ok);
    let d = &a.diagnostics[0];
    assert_eq!(
        (d.line, d.column, d.text.as_deref()),
        (Some(6), Some(9), Some("185%"))
    );
    assert_eq!(d.code, "yibao::out-of-range");
}

#[test]
fn the_fidelity_report_in_docs_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/fidelity.md");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = yibao::fidelity_markdown(&reg());
    assert!(
        committed == generated,
        "docs/fidelity.md is out of date: run `cargo run -p yibao-cli -- check --provenance > docs/fidelity.md`"
    );
    // Every bundled policy appears, and placeholders are listed with their paths.
    for id in reg().policy_ids() {
        assert!(generated.contains(&format!("### {id} (")), "{id}");
    }
    assert!(generated.contains("- `basic.deductible` = `none`"));
}

/// A formula that gives a fraction of a fen is an evaluation error naming the clause, not a
/// silent rounding (the error travels small inside the evaluator and is owned at the boundary).
#[test]
fn a_money_formula_with_a_fraction_of_a_fen_is_an_error_naming_the_clause() {
    // 1,000.01 halved for a category: 500.005 — not a whole fen; the checker cannot see it.
    let text = "policy t.resident \"t\"\neffective 2024-01-01\nsource T \"test\"\ncategories [destitute]\ncare [inpatient]\nlayer basic \"b\" {\n  base in_scope\n  deductible per_admission 1000.01 [official T]\n  ratio 50% [official T]\n  for category in [destitute] {\n    deductible × 50% [official T]\n  }\n}\n";
    let out = yibao::lang::compile_text("t.policy", text);
    let p = out.policy.expect("compiles");
    let claim: yibao::Claim = serde_json::from_str(
        r#"{"date":"2024-03-01","care":"inpatient","categories":["destitute"],"amounts":{"total":"5000"}}"#,
    )
    .unwrap();
    let err = yibao::engine::settle(
        &p,
        &claim,
        &yibao::YtdState::default(),
        &yibao::engine::SettleOptions::default(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("500.005") && msg.contains("more than two decimal places"),
        "{msg}"
    );
    assert!(msg.contains("t.policy:8:3"), "{msg}");
    let lean =
        yibao::engine::settle_outcome(&p, &claim, &mut yibao::YtdState::default()).unwrap_err();
    assert_eq!(lean.to_string(), msg);
}

/// A figure beyond the range claims have (here a cap of 1.2 trillion yuan a modifier produces) is
/// an evaluation error naming the clause — on every path, planned or not — never an overflow.
#[test]
fn a_figure_beyond_the_supported_range_is_an_error_naming_the_clause() {
    let text = "policy t.resident \"t\"\neffective 2024-01-01\nsource T \"test\"\ncategories [destitute]\ncare [inpatient]\nlayer basic \"b\" {\n  base in_scope\n  ratio 50% [official T]\n  cap per_year 600000000000 pool p [official T]\n  for category in [destitute] {\n    cap × 200% [official T]\n  }\n}\n";
    let out = yibao::lang::compile_text("t.policy", text);
    let p = std::sync::Arc::new(out.policy.expect("compiles"));
    let claim: yibao::Claim = serde_json::from_str(
        r#"{"date":"2024-03-01","care":"inpatient","categories":["destitute"],"amounts":{"total":"5000"}}"#,
    )
    .unwrap();
    let err = yibao::engine::settle_outcome(&p, &claim, &mut yibao::YtdState::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`1200000000000`") && err.contains("beyond the 1,000,000,000,000 yuan"),
        "{err}"
    );
    let mut settler = yibao::engine::Settler::new(p.clone());
    let planned = settler
        .settle_outcome(&claim, &mut yibao::YtdState::default())
        .unwrap_err();
    assert_eq!(planned.to_string(), err);
}

/// A year whose accumulated base is beyond a hundred trillion yuan is refused with the state's
/// path, before any sum could overflow (found by a batch of 100,000 trillion-yuan admissions).
#[test]
fn a_year_beyond_the_supported_range_is_refused_with_the_state_path() {
    let p = reg()
        .policy("tianjin.resident", yibao::Date::new(2024, 6, 1).unwrap())
        .unwrap();
    let claim: yibao::Claim = serde_json::from_str(
        r#"{"date":"2024-03-01","care":"inpatient","level":"3","amounts":{"total":"1000000000000"}}"#,
    )
    .unwrap();
    let mut settler = yibao::engine::Settler::new(p.clone());
    let (mut a, mut b) = (yibao::YtdState::default(), yibao::YtdState::default());
    for i in 1..=101 {
        yibao::engine::settle_outcome(&p, &claim, &mut a).unwrap();
        settler.settle_outcome(&claim, &mut b).unwrap();
        assert_eq!(a, b, "claim {i}");
    }
    let err = yibao::engine::settle_outcome(&p, &claim, &mut a).unwrap_err();
    assert_eq!(
        err.to_string(),
        "state.layers.basic.base: the year so far has accumulated more than 100,000,000,000,000 yuan: beyond what yibao settles"
    );
    assert_eq!(
        settler
            .settle_outcome(&claim, &mut b)
            .unwrap_err()
            .to_string(),
        err.to_string()
    );
    // The refused claim left the state as it was.
    assert_eq!(a, b);
}

/// Front ends word errors themselves: each mistake a person can make has a stable code and the
/// facts the words need, whatever the English message says.
#[test]
fn errors_carry_a_stable_code_and_fields() {
    let claim = |amounts: &str| {
        format!(
            r#"{{"policy":"tianjin.resident","claims":[{{"date":"2024-05-01","care":"inpatient","amounts":{amounts}}}]}}"#
        )
    };
    let code = |req: &str| {
        let e = estimate_json(&reg(), req).unwrap_err();
        let code = serde_json::to_value(e.code)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        (code, e.fields.clone(), e.path.clone())
    };
    let (c, f, p) = code(&claim(r#"{"total":"1000.555"}"#));
    assert_eq!(c, "amount_precision");
    assert_eq!(f["value"], "1000.555");
    assert_eq!(p.as_deref(), Some("claims[0].amounts.total"));
    assert_eq!(code(&claim(r#"{"total":"-5"}"#)).0, "amount_negative");
    assert_eq!(code(&claim(r#"{"total":"abc"}"#)).0, "amount_syntax");
    assert_eq!(code(&claim(r#"{"total":12.5}"#)).0, "amount_syntax");
    assert_eq!(
        code(&claim(r#"{"total":"2000000000000"}"#)).0,
        "amount_too_large"
    );
    let (c, f, _) = code(&claim(
        r#"{"total":"100","out_of_list":"80","over_limit":"30.5"}"#,
    ));
    assert_eq!(c, "parts_above_total");
    assert_eq!(
        (f["parts"].as_str(), f["total"].as_str()),
        ("110.50", "100.00")
    );
    let (c, f, _) = code(
        r#"{"policy":"tianjin.resident","claim":{"date":"2001-01-01","care":"inpatient","amounts":{"total":"10"}}}"#,
    );
    assert_eq!(c, "no_version");
    assert_eq!(f["date"], "2001-01-01");
    let (c, f, _) = code(
        r#"{"policy":"tianjin.resident","claim":{"date":"2024-01-01","care":"dental","amounts":{"total":"10"}}}"#,
    );
    assert_eq!(
        (c.as_str(), f["value"].as_str()),
        ("unknown_choice", "dental")
    );
    let (c, f, _) = code(
        r#"{"policy":"tianjin.resident","claims":[{"date":"2024-05-01","care":"inpatient","amounts":{"total":"10"}},{"date":"2024-03-01","care":"inpatient","amounts":{"total":"10"}}]}"#,
    );
    assert_eq!(
        (c.as_str(), f["date"].as_str()),
        ("date_order", "2024-03-01")
    );
    let (c, f, p) = code(
        r#"{"policy":"tianjin.resident","overrides":{"basic.ratio":"lots"},"claim":{"date":"2024-05-01","care":"inpatient","amounts":{"total":"10"}}}"#,
    );
    assert_eq!(
        (c.as_str(), f["value"].as_str()),
        ("override_value", "lots")
    );
    assert_eq!(p.as_deref(), Some("overrides.basic.ratio"));
    assert_eq!(code(r#"{"policy":"tianjin.resident","overrides":{"basic.ratoi":"1%"},"claim":{"date":"2024-05-01","care":"inpatient","amounts":{"total":"1"}}}"#).0, "unknown_override");
    assert_eq!(code(r#"{"policy":"tianjin.resident","claim":{"date":"2024-13-01","care":"inpatient","amounts":{"total":"1"}}}"#).0, "not_a_date");
    // Not JSON at all; a mistake without a specific code names its kind.
    assert_eq!(code("{").0, "not_json");
    assert_eq!(code(r#"{"policy":"tianjin.resident"}"#).0, "request");
    // YAML files get the same codes.
    let e =
        parse_request_yaml("date: 2024-05-01\ncare: inpatient\namounts: { total: \"1.005\" }\n")
            .unwrap_err();
    assert_eq!(e.code, yibao::ErrorCode::AmountPrecision);
    // The code is part of the JSON a front end reads.
    let json =
        serde_json::to_value(estimate_json(&reg(), &claim(r#"{"total":"1.001"}"#)).unwrap_err())
            .unwrap();
    assert_eq!(json["code"], "amount_precision");
    assert_eq!(json["fields"]["value"], "1.001");
}
