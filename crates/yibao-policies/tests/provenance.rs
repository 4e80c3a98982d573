#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! The rule "every guess is flagged", checked on every bundled figure (README, "Every guess is a
//! placeholder"):
//! - every figure and every effective date has a provenance;
//! - `seed` cites one of the five seed documents (`*-seed`); `derived` and every sourced kind
//!   name their source or formula;
//! - a figure whose note says it is an outcome indicator, a target, a national floor or frame, a
//!   background figure or any other stand-in is a `placeholder`: no other tag may carry such a
//!   note;
//! - every version says how long its figures are known to hold.

use yibao_engine::ir::Provenance;
use yibao_policies::Registry;

/// Words that mark a figure standing in for an unknown value.
const STAND_IN: &[&str] = &[
    "indicator",
    "stand-in",
    "stands in",
    "national frame",
    "national floor",
    "outcome",
    "target",
    "background",
    "unsourced",
    "not found",
    "not known",
];

/// Every breach of the rule in `reg`'s versions, and how many figures were walked.
fn breaches(reg: &Registry) -> (Vec<String>, usize) {
    let mut wrong = vec![];
    let mut checked = 0;
    for v in reg.versions() {
        let p = v.policy.as_ref().expect("bundled versions compile");
        let at = format!("{}@{}", v.id, v.effective);
        if p.effective_provenance.provenance == Provenance::Unspecified {
            wrong.push(format!("{at}: the effective date has no provenance"));
        }
        if p.validity.iter().all(|x| !x.layers.is_empty()) {
            wrong.push(format!(
                "{at}: no `valid_until` or `confirmed` for the whole version"
            ));
        }
        for x in &p.validity {
            if x.provenance.provenance == Provenance::Unspecified {
                wrong.push(format!("{at}: `{}` has no provenance", x.kind.keyword()));
            }
        }
        for param in &p.params {
            checked += 1;
            let note = param.note.as_deref().unwrap_or("").to_lowercase();
            let source = param.source.as_deref().unwrap_or("");
            let what = format!("{at} `{}` = {}", param.path, param.text);
            match param.provenance {
                Provenance::Unspecified => wrong.push(format!("{what}: untagged")),
                Provenance::Placeholder => {}
                kind => {
                    if let Some(w) = STAND_IN.iter().find(|w| note.contains(*w)) {
                        wrong.push(format!(
                            "{what}: tagged `{}` but its note says `{w}`: a stand-in is a `placeholder`",
                            kind.name()
                        ));
                    }
                    if kind == Provenance::Seed && !source.ends_with("-seed") {
                        wrong.push(format!(
                            "{what}: `seed` must cite a seed document, not `{source}`"
                        ));
                    }
                    if source.is_empty() && note.is_empty() {
                        wrong.push(format!("{what}: `{}` names no source", kind.name()));
                    }
                }
            }
        }
    }
    (wrong, checked)
}

#[test]
fn every_stand_in_is_a_placeholder() {
    let reg = Registry::bundled();
    assert!(!reg.has_errors(), "{:#?}", reg.diagnostics);
    let (wrong, checked) = breaches(&reg);
    assert!(checked > 300, "walked {checked} figures");
    assert!(
        wrong.is_empty(),
        "mis-tagged figures:\n{}",
        wrong.join("\n")
    );
}

/// The rule bites: an indicator tagged `seed`, a seed figure citing no seed document, an untagged
/// figure and effective date, and a version without validity are each reported.
#[test]
fn mis_tagged_stand_ins_are_reported() {
    let text = "policy x.y \"t\"\neffective 2024-01-01\nsource X-seed \"plan\"\nsource N \"news\"\ncare [inpatient]\nlayer basic \"b\" {\n  base in_scope\n  ratio 70% [seed X-seed \"plan indicator\"]\n  cap per_year 1000 [seed N]\n  deductible per_admission 100\n}\n";
    let reg = Registry::from_files(vec![("x/y/2024-01-01.policy".into(), text.into())]);
    let (wrong, checked) = breaches(&reg);
    assert_eq!(checked, 3);
    let has = |s: &str| wrong.iter().any(|w| w.contains(s));
    assert!(
        has("`basic.ratio` = 70%: tagged `seed` but its note says `indicator`"),
        "{wrong:#?}"
    );
    assert!(
        has("`basic.cap_year` = 1000: `seed` must cite a seed document"),
        "{wrong:#?}"
    );
    assert!(has("`basic.deductible` = 100: untagged"), "{wrong:#?}");
    assert!(has("the effective date has no provenance"), "{wrong:#?}");
    assert!(has("no `valid_until` or `confirmed`"), "{wrong:#?}");
    assert_eq!(wrong.len(), 5, "{wrong:#?}");
}
