#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! The formatter is idempotent, keeps comments and keeps meaning.

use std::path::Path;

fn policy_texts() -> Vec<(String, String)> {
    let mut out = vec![];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for dir in ["policies", "tests/vectors"] {
        walk(&root.join(dir), &mut out);
    }
    assert!(out.len() >= 3);
    out
}

fn walk(p: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(p).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "policy") {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
}

#[test]
fn bundled_policies_are_formatted_and_formatting_is_idempotent() {
    for (name, text) in policy_texts() {
        let once = yibao_lang::fmt::format(&text).unwrap();
        let twice = yibao_lang::fmt::format(&once).unwrap();
        assert_eq!(once, twice, "{name}: not idempotent");
        assert_eq!(
            once, text,
            "{name} is not in canonical form: run `yibao fmt --write {name}`"
        );
    }
}

#[test]
fn formatting_keeps_the_compiled_meaning() {
    for (name, text) in policy_texts() {
        if text.contains("extends") {
            continue;
        }
        let a = yibao_lang::compile_text(&name, &text).policy.unwrap();
        let b = yibao_lang::compile_text(&name, &yibao_lang::fmt::format(&text).unwrap())
            .policy
            .unwrap();
        // Citations (lines) may move; the numbers and structure may not.
        let strip = |p: yibao_engine::Policy| {
            let mut v = serde_json::to_value(&p).unwrap();
            strip_cites(&mut v);
            v
        };
        assert_eq!(strip(a), strip(b), "{name}");
    }
}

fn strip_cites(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.remove("cite");
            m.remove("later");
            for x in m.values_mut() {
                strip_cites(x);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_cites),
        _ => {}
    }
}

#[test]
fn messy_text_gets_its_canonical_form() {
    let messy = r#"# head comment
policy   x.y "名"   "en"
effective 2024-01-01   # trailing
care [ inpatient ,outpatient_special ]
source S "s"
layer basic "b" {   base in_scope
# about the deductible
 deductible per_admission by level {1:300 2:500
   3: 800} [placeholder]
      ratio 1-60%*(1-85%) [official S]
 bands relative { to 10万: 50% [official S] above: 60% [official S] }
 for category in [destitute] { ratio + 5% [official S] no cap }
}
"#;
    let out = yibao_lang::fmt::format(messy).unwrap();
    insta::assert_snapshot!(out);
    assert_eq!(yibao_lang::fmt::format(&out).unwrap(), out);
}

#[test]
fn a_comment_before_a_layer_stays_with_it() {
    let text = "policy t.resident \"t\"\neffective 2024-01-01\ncare [inpatient]\n\nlayer a \"a\" {\n  ratio 50% [placeholder]\n}\n\n# About layer b.\nlayer b \"b\" kind supplementary {\n  base remaining [co_pay] after a\n  ratio 50% [placeholder]\n}\n";
    let out = yibao_lang::fmt::format(text).unwrap();
    assert!(out.contains("}\n\n# About layer b.\nlayer b"), "{out}");
}
