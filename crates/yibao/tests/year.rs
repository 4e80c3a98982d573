#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! `Year`, a claim at a time, gives what `estimate` gives for the same claims at once: over every
//! vector (their years cross versions, caps, referral chains), and across a version that takes
//! effect mid-year; a refused claim leaves the year as it was.

use std::path::{Path, PathBuf};

use yibao::{estimate, Claim, ErrorKind, EstimateRequest, Registry, Year};

fn files(dir: &Path, ext: &str, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p: PathBuf = e.unwrap().path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
}

fn claim(json: &str) -> Claim {
    serde_json::from_str(json).unwrap()
}

#[test]
fn a_year_claim_by_claim_equals_every_vector_settled_at_once() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors");
    let (mut policies, mut vectors) = (vec![], vec![]);
    files(&root, "policy", &mut policies);
    files(&root, "yaml", &mut vectors);
    let reg = yibao::with_drafts(policies);
    let (mut years, mut claims, mut longest) = (0, 0, 0);
    for (file, text) in &vectors {
        for v in yibao::vectors::parse_vectors(text).unwrap() {
            let req = yibao::vectors::request_of(&v);
            let at_once = estimate(&reg, &req).unwrap_or_else(|e| panic!("{file} {}: {e}", v.id));
            let mut year = Year::new(&EstimateRequest {
                claims: vec![],
                ..req.clone()
            })
            .unwrap();
            let mut notices = vec![];
            for (i, c) in req.claims.iter().enumerate() {
                let one = year
                    .settle(&reg, c)
                    .unwrap_or_else(|e| panic!("{} claim {i}: {e}", v.id));
                assert_eq!(one.settlements.len(), 1);
                assert_eq!(
                    one.settlements[0], at_once.settlements[i],
                    "{} claim {i}",
                    v.id
                );
                notices.extend(one.notices);
            }
            assert_eq!(
                year.state(),
                &at_once.state,
                "{}: the state after the year",
                v.id
            );
            assert_eq!(notices, at_once.notices, "{}: notices", v.id);
            assert_eq!(year.settled(), req.claims.len());
            years += 1;
            claims += req.claims.len();
            longest = longest.max(req.claims.len());
        }
    }
    assert!(years >= 100, "{years} vectors");
    assert!(
        longest >= 3 && claims > years,
        "{claims} claims, longest year {longest}"
    );
}

#[test]
fn a_year_crosses_into_a_version_taking_effect_mid_year() {
    let reg = Registry::bundled();
    // Guangzhou's resident scheme has a version taking effect on 1 December 2022.
    let id = "guangzhou.resident";
    let versions: Vec<_> = yibao::list_versions(&reg)
        .into_iter()
        .filter(|v| v.id == id)
        .collect();
    let v = versions
        .iter()
        .find(|v| {
            v.effective.month() > 1
                && v.effective.day() < 20
                && versions.iter().any(|w| w.effective < v.effective)
        })
        .expect("a version taking effect mid-year, after another");
    let (y, m) = (v.effective.year(), v.effective.month());
    let before = yibao::Date::new(y, m - 1, 10).unwrap();
    let after = yibao::Date::new(y, m, 20).unwrap();
    let a = claim(&format!(
        r#"{{"date": "{before}", "care": "inpatient", "level": "3", "amounts": {{"total": "30000"}}}}"#
    ));
    let b = claim(&format!(
        r#"{{"date": "{after}", "care": "inpatient", "level": "3", "amounts": {{"total": "40000"}}}}"#
    ));
    let at_once = estimate(
        &reg,
        &EstimateRequest::for_claims(id, vec![a.clone(), b.clone()]),
    )
    .unwrap();
    assert_ne!(
        at_once.settlements[0].policy.version, at_once.settlements[1].policy.version,
        "the two claims fall under two versions"
    );
    let mut year = Year::new(&EstimateRequest::for_claims(id, vec![])).unwrap();
    let first = year.settle(&reg, &a).unwrap();
    assert_eq!(first.settlements[0], at_once.settlements[0]);
    let second = year.settle(&reg, &b).unwrap();
    assert_eq!(second.settlements[0], at_once.settlements[1]);
    assert_eq!(year.state(), &at_once.state);
}

#[test]
fn a_refused_claim_leaves_the_year_as_it_was_and_names_the_field() {
    let reg = Registry::bundled();
    let mut year = Year::new(&EstimateRequest::for_claims("tianjin.resident", vec![])).unwrap();
    year.settle(
        &reg,
        &claim(r#"{"date": "2024-06-01", "care": "inpatient", "level": "3", "amounts": {"total": "30000"}}"#),
    )
    .unwrap();
    let before = year.state().clone();
    let earlier = year
        .settle(
            &reg,
            &claim(r#"{"date": "2024-05-01", "care": "inpatient", "amounts": {"total": "100"}}"#),
        )
        .unwrap_err();
    assert_eq!(earlier.kind, ErrorKind::Claim);
    assert_eq!(earlier.path.as_deref(), Some("claim.date"), "{earlier}");
    let dental = year
        .settle(
            &reg,
            &claim(r#"{"date": "2024-07-01", "care": "dental", "amounts": {"total": "100"}}"#),
        )
        .unwrap_err();
    assert_eq!(dental.path.as_deref(), Some("claim.care"), "{dental}");
    assert_eq!(year.state(), &before);
    assert_eq!(year.settled(), 1);
    // A year starts without claims, and a bad override is refused at the start.
    let with_claim = EstimateRequest::for_claims(
        "tianjin.resident",
        vec![claim(
            r#"{"date": "2024-05-01", "care": "inpatient", "amounts": {"total": "1"}}"#,
        )],
    );
    assert_eq!(
        Year::new(&with_claim).unwrap_err().path.as_deref(),
        Some("claims")
    );
    let bad = EstimateRequest::for_claims("tianjin.resident", vec![])
        .with_override("basic.ratio", "lots");
    assert_eq!(
        Year::new(&bad).unwrap_err().path.as_deref(),
        Some("overrides.basic.ratio")
    );
}
