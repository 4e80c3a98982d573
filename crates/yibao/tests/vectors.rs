#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! Every vector in tests/vectors/ passes natively, and gives the same bytes twice.

use std::path::{Path, PathBuf};

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

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

#[test]
fn all_vectors_pass() {
    let mut policies = vec![];
    let mut vectors = vec![];
    files(&root(), "policy", &mut policies);
    files(&root(), "yaml", &mut vectors);
    assert!(vectors.len() >= 4, "vector files found: {}", vectors.len());
    let (reg, results) = yibao::vectors::run_all(policies.clone(), &vectors);
    assert!(!reg.has_errors(), "{:?}", reg.diagnostics);
    // Every vector in the files ran: counted from the text, independently of the parser.
    let written: usize = vectors
        .iter()
        .map(|(_, t)| yibao::vectors::count_written(t))
        .sum();
    assert_eq!(results.len(), written);
    assert_eq!(
        written, 174,
        "{written} vectors: recount from the files when adding some"
    );
    let failed: Vec<_> = results.iter().filter(|r| !r.passed).collect();
    assert!(failed.is_empty(), "failed vectors: {failed:#?}");
    // Deterministic: a second run gives the same bytes.
    let (_, again) = yibao::vectors::run_all(policies, &vectors);
    for (a, b) in results.iter().zip(&again) {
        assert_eq!(a.json, b.json, "{}", a.id);
        assert!(!a.json.is_empty());
    }
}

#[test]
fn a_wrong_expectation_is_reported_with_the_field() {
    let mut policies = vec![];
    files(&root(), "policy", &mut policies);
    let text = std::fs::read_to_string(root().join("tianjin/d1-d3-serious-illness.yaml")).unwrap();
    let broken = text.replace(
        "serious_illness: \"70000.00\"",
        "serious_illness: \"70000.01\"",
    );
    let (_, results) = yibao::vectors::run_all(policies, &[("x.yaml".into(), broken)]);
    let d1 = results.iter().find(|r| r.id == "TJ-D1").unwrap();
    assert!(!d1.passed);
    assert_eq!(
        d1.diffs,
        vec!["claims[0].layers.serious_illness: expected 70000.01, got 70000.00".to_string()]
    );
}
