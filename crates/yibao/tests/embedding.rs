#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! What a service embedding the crate relies on: answers and errors read back to the same bytes,
//! defaults that match the docs, the figures of a version, policies from a folder.

use std::path::{Path, PathBuf};

use yibao::{
    ApiError, BatchAnswer, CheckAnswer, ErrorKind, EstimateAnswer, EstimateRequest, Registry,
};

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

fn vectors_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// Serialises, reads back, serialises again: the same bytes.
fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(json: &str, what: &str) {
    let read: T = serde_json::from_str(json).unwrap_or_else(|e| panic!("{what}: {e}\n{json}"));
    let again = serde_json::to_string(&read).unwrap();
    assert_eq!(again, json, "{what}: not the same bytes after reading back");
}

#[test]
fn every_vector_answer_reads_back_to_the_same_bytes() {
    let mut policies = vec![];
    let mut vectors = vec![];
    files(&vectors_root(), "policy", &mut policies);
    files(&vectors_root(), "yaml", &mut vectors);
    let (_, results) = yibao::vectors::run_all(policies, &vectors);
    let answered: Vec<_> = results.iter().filter(|r| !r.json.is_empty()).collect();
    // Every vector answers (a vector whose request fails has an empty `json` and fails itself).
    assert_eq!(answered.len(), results.len());
    assert!(answered.len() >= 92, "{} answers", answered.len());
    let mut with_overrides = 0;
    for r in answered {
        round_trip::<EstimateAnswer>(&r.json, &r.id);
        if r.json.contains("\"overridden_with\":\"") {
            with_overrides += 1;
        }
    }
    assert!(with_overrides > 0, "no vector answer with an override");
}

#[test]
fn batch_answers_and_errors_read_back_to_the_same_bytes() {
    let reg = Registry::bundled();
    let req: yibao::BatchRequest = serde_json::from_str(
        r#"{"policy":"beijing.resident","trace":true,"claims":[
        {"person":"a","date":"2018-03-01","care":"general_outpatient","level":1,"amounts":{"total":"2000"}},
        {"person":"b","date":"2018-03-01","care":"dental","amounts":{"total":"10"}},
        {"person":"a","date":"2018-06-01","care":"general_outpatient","level":1,"amounts":{"total":"2000"}}]}"#,
    )
    .unwrap();
    let answer = yibao::estimate_batch(&reg, &req).unwrap();
    assert_eq!((answer.settled, answer.failed), (2, 1));
    round_trip::<BatchAnswer>(&yibao::to_json(&answer).unwrap(), "batch");

    // An error with a code, facts and choices.
    let e = yibao::estimate_json(&reg, r#"{"policy":"tianjin.resident","claim":{"date":"2024-05-01","care":"dental","amounts":{"total":"1"}}}"#).unwrap_err();
    assert!(!e.allowed.is_empty());
    round_trip::<ApiError>(&serde_json::to_string(&e).unwrap(), "error");
    // An error with diagnostics.
    let e = yibao::estimate_json(&reg, r#"{"policy":"tianjin.resident","overrides":{"basic.ratoi":"1%"},"claim":{"date":"2024-05-01","care":"inpatient","amounts":{"total":"1"}}}"#).unwrap_err();
    assert!(!e.diagnostics.is_empty());
    round_trip::<ApiError>(
        &serde_json::to_string(&e).unwrap(),
        "error with diagnostics",
    );
    // A check answer.
    let c = yibao::check_json("x.policy", "policy x.y \"t\"\neffective 2024-01-01\ncare [inpatient]\nlayer basic \"b\" { base in_scope ratio 120% [placeholder] }\n");
    assert!(!c.ok);
    round_trip::<CheckAnswer>(&serde_json::to_string(&c).unwrap(), "check");
    // The list of versions and the fidelity report.
    round_trip::<Vec<yibao::VersionInfo>>(
        &serde_json::to_string(&yibao::list_versions(&reg)).unwrap(),
        "versions",
    );
    round_trip::<Vec<yibao::Fidelity>>(
        &serde_json::to_string(&yibao::fidelity(&reg)).unwrap(),
        "fidelity",
    );
}

#[test]
fn the_default_request_is_what_an_empty_object_reads_as() {
    let read: EstimateRequest = yibao::from_json(b"{}").unwrap();
    assert_eq!(read, EstimateRequest::default());
    // Its doc: explanations on by default.
    assert!(EstimateRequest::default().trace);
    let batch: yibao::BatchRequest = yibao::from_json(br#"{"claims":[]}"#).unwrap();
    assert_eq!(batch, yibao::BatchRequest::default());
    assert!(!batch.trace);
}

#[test]
fn the_builders_make_the_request_the_json_makes() {
    let claim: yibao::Claim = serde_json::from_str(
        r#"{"date":"2024-05-01","care":"inpatient","amounts":{"total":"30000"}}"#,
    )
    .unwrap();
    let built = EstimateRequest::for_claims("tianjin.resident", vec![claim])
        .with_override("basic.ratio", "85%")
        .without_trace();
    let read: EstimateRequest = yibao::from_json(
        br#"{"policy":"tianjin.resident","overrides":{"basic.ratio":"85%"},"trace":false,
            "claims":[{"date":"2024-05-01","care":"inpatient","amounts":{"total":"30000"}}]}"#,
    )
    .unwrap();
    assert_eq!(built, read);
}

#[test]
fn an_unknown_override_cites_the_requested_policys_file() {
    let reg = Registry::bundled();
    for (policy, date, city) in [
        ("tianjin.resident", "2024-05-01", "tianjin/"),
        ("guangzhou.employee", "2024-05-01", "guangzhou/"),
    ] {
        let req = format!(
            r#"{{"policy":"{policy}","overrides":{{"basic.ratoi":"1%"}},"claim":{{"date":"{date}","care":"inpatient","amounts":{{"total":"1"}}}}}}"#
        );
        let e = yibao::estimate_json(&reg, &req).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Request);
        assert_eq!(e.code, yibao::ErrorCode::UnknownOverride);
        let d = &e.diagnostics[0];
        let file = d.file.as_deref().unwrap_or("");
        assert!(file.starts_with(city), "{policy}: cites {file}");
        assert_eq!(d.line, Some(1));
    }
}

#[test]
fn params_lists_every_figure_of_a_version_with_its_provenance() {
    let reg = Registry::bundled();
    let v = yibao::list_versions(&reg)
        .into_iter()
        .find(|v| v.id == "tianjin.resident")
        .unwrap();
    let listed = yibao::params(&reg, &v.id, v.effective).unwrap();
    let policy = reg.policy(&v.id, v.effective).unwrap();
    assert_eq!(listed.params.len(), policy.params.len());
    assert_eq!(listed.file, v.file);
    // The counts by provenance are the version list's.
    let mut counts = std::collections::BTreeMap::new();
    for p in &listed.params {
        *counts.entry(p.provenance.name().to_string()).or_insert(0) += 1;
        assert_eq!(p.cite.file, v.file, "{}", p.path);
    }
    assert_eq!(counts, v.provenance);
    // A path it lists is one an override may name.
    let path = &listed.params[0].path;
    let req = format!(
        r#"{{"policy":"tianjin.resident","version":"{}","overrides":{{"{path}":"1"}},"claim":{{"date":"{}","care":"inpatient","amounts":{{"total":"1"}}}}}}"#,
        v.effective, v.effective
    );
    yibao::estimate_json(&reg, &req).unwrap();
    // Unknown policy or date: not found, with what exists.
    let e = yibao::params(&reg, "atlantis.resident", v.effective).unwrap_err();
    assert_eq!(
        (e.kind, e.path.as_deref()),
        (ErrorKind::NotFound, Some("policy"))
    );
    assert!(e.allowed.contains(&"tianjin.resident".to_string()));
    let e = yibao::params(
        &reg,
        "tianjin.resident",
        yibao::Date::new(2001, 1, 1).unwrap(),
    )
    .unwrap_err();
    assert_eq!(e.path.as_deref(), Some("version"));
    assert!(e.allowed.contains(&v.effective.to_string()));
}

#[test]
fn policies_load_from_a_folder_as_from_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    let from_dir = Registry::from_dir(&dir).unwrap();
    let bundled = Registry::bundled();
    assert!(!from_dir.has_errors());
    let ids = |r: &Registry| {
        r.versions()
            .iter()
            .map(|v| {
                (
                    v.id.clone(),
                    v.effective,
                    v.file.clone(),
                    v.content_hash.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&from_dir), ids(&bundled));
    assert!(Registry::from_dir(Path::new("/nonexistent/yibao")).is_err());
}

#[test]
fn the_bundled_indicators_read_from_json_are_the_yaml_file() {
    use yibao::compliance::Indicators;
    let yaml = include_str!("../../../policies/indicators.yaml");
    let bundled = Indicators::bundled();
    assert!(!bundled.0.is_empty());
    assert_eq!(bundled, Indicators::from_yaml(yaml).unwrap());
}
