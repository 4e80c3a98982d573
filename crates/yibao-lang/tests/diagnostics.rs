#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! Golden tests of rendered diagnostics: drop a `.policy` file into tests/diagnostics/ and
//! review its snapshot (`INSTA_UPDATE=always cargo test -p yibao-lang --test diagnostics`).

use miette::{GraphicalReportHandler, GraphicalTheme};

fn render(name: &str, text: &str) -> String {
    let out = yibao_lang::compile_text(name, text);
    let handler =
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
    let mut s = String::new();
    for d in &out.diagnostics {
        let report = d.to_report(&out.map);
        let _ = handler.render_report(&mut s, report.as_ref());
        s.push('\n');
    }
    s
}

#[test]
fn rendered_diagnostics() {
    insta::glob!("diagnostics/*.policy", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = format!(
            "diagnostics/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        insta::assert_snapshot!(render(&name, &text));
    });
}

/// Names the underlined source text of each diagnostic, as the checker's tests read best.
fn underlines(text: &str) -> Vec<(String, String)> {
    let out = yibao_lang::compile_text("t.policy", text);
    out.diagnostics
        .iter()
        .map(|d| {
            (
                d.code.to_string(),
                d.span
                    .map(|s| text[s.range()].to_string())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

const HEAD: &str = "policy x.y \"t\"\neffective 2024-01-01\nconfirmed 2024-12-31\ncare [inpatient]\ncategories [destitute, min_allowance]\n";

#[test]
fn each_checker_rule_underlines_its_cause() {
    let cases: &[(&str, (&str, &str))] = &[
        ("layer basic \"b\" { base in_scope ratio 170% [placeholder] }", ("yibao::out-of-range", "170%")),
        ("layer basic \"b\" { base in_scope ratio 0.7 [placeholder] }", ("yibao::unit", "0.7")),
        ("layer basic \"b\" { base in_scope deductible per_year 7% [placeholder] ratio 1% [placeholder] }", ("yibao::unit", "7%")),
        ("layer basic \"b\" { base in_scope bands { to 5: 1% [placeholder] to 4: 1% [placeholder] } }", ("yibao::band-order", "4")),
        ("layer basic \"b\" { base in_scope ratio by level { 1: 1% 2: 1% } [placeholder] }", ("yibao::not-exhaustive", "level")),
        ("layer basic \"b\" { base in_scope ratio by category { destitute: 1% } [placeholder] }", ("yibao::not-exhaustive", "category")),
        ("layer basic \"b\" { base in_scope ratio 1% [placeholder] for category in [destitue] { no cap } }", ("yibao::unknown-name", "destitue")),
        ("layer serious_illness \"s\" { base remaining in_scope after basic ratio 1% [placeholder] } layer basic \"b\" { base in_scope ratio 1% [placeholder] }", ("yibao::base-order", "basic")),
        ("layer basic \"b\" { base in_scope ratio 1% [official NOPE] }", ("yibao::unknown-source", "NOPE")),
        ("layer basic \"b\" { base in_scope ratio 1% }", ("yibao::provenance", "1%")),
        ("layer basic \"b\" { base in_scope ratio 1% [placeholder] field hifx_pay }", ("yibao::unknown-name", "hifx_pay")),
        ("layer basic \"b\" { ratio 1% [placeholder] }", ("yibao::missing-base", "basic")),
        ("layer basic \"b\" { base in_scope deductible per_admission 1.001 [placeholder] ratio 1% [placeholder] }", ("yibao::precision", "1.001")),
        ("layer basic \"b\" kind basci { base in_scope ratio 1% [placeholder] }", ("yibao::unknown-layer-kind", "basci")),
    ];
    for (body, (code, under)) in cases {
        let found = underlines(&format!("{HEAD}{body}"));
        assert!(
            found.iter().any(|(c, u)| c == code && u == under),
            "{body}\nexpected {code} under `{under}`, found {found:?}"
        );
    }
}

#[test]
fn extends_errors_name_the_missing_layer() {
    let parent = "policy a.b \"p\"\neffective 2024-01-01\ncare [inpatient]\nlayer basic \"b\" { base in_scope ratio 1% [placeholder] }\n";
    let child = "policy a.b \"p\"\neffective 2025-01-01\nextends a.b@2024-01-01\namend layer basci { ratio 2% [placeholder] }\nremove layer gone\n";
    let reg = yibao_policies_free::registry(&[
        ("a/b/2024-01-01.policy", parent),
        ("a/b/2025-01-01.policy", child),
    ]);
    let codes: Vec<(&str, String)> = reg.iter().map(|(c, t)| (*c, t.clone())).collect();
    assert!(
        codes.contains(&("yibao::extends-missing", "basci".to_string())),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("yibao::extends-missing", "gone".to_string())),
        "{codes:?}"
    );
}

/// A tiny stand-in for the registry (this crate cannot depend on it): parse both, merge.
mod yibao_policies_free {
    use yibao_lang::{merge::merge, parse::parse, SourceMap};

    pub fn registry(files: &[(&str, &str)]) -> Vec<(&'static str, String)> {
        let mut map = SourceMap::new();
        let asts: Vec<_> = files
            .iter()
            .map(|(n, t)| parse(map.add(*n, *t), t).unwrap())
            .collect();
        match merge(&asts[0], &asts[1]) {
            Ok(_) => vec![],
            Err(ds) => ds
                .iter()
                .map(|d| {
                    (
                        d.code,
                        map.get(d.span.unwrap().file)
                            .unwrap()
                            .slice(d.span.unwrap())
                            .to_string(),
                    )
                })
                .collect(),
        }
    }
}

/// Validity statements: every version needs one for the whole version (a warning on its date);
/// a stated end before the effective date, an unknown layer and a repeated statement are errors.
#[test]
fn validity_statements_are_checked() {
    let head = "policy x.y \"t\"\neffective 2024-01-01\ncare [inpatient]\n";
    let layer = "layer basic \"b\" { base in_scope ratio 1% [placeholder] }\n";
    let cases: &[(&str, (&str, &str))] = &[
        ("", ("yibao::missing-validity", "2024-01-01")),
        (
            "valid_until 2023-12-31\n",
            ("yibao::validity-before-effective", "2023-12-31"),
        ),
        (
            "confirmed 2024-02-01\nvalid_until 2024-06-30 layers [basci]\n",
            ("yibao::unknown-name", "basci"),
        ),
        (
            "confirmed 2024-02-01\nconfirmed 2024-03-01\n",
            ("yibao::duplicate", "confirmed"),
        ),
        (
            "confirmed 2024-02-01 [official NOPE]\n",
            ("yibao::unknown-source", "NOPE"),
        ),
    ];
    for (stmts, (code, under)) in cases {
        let found = underlines(&format!("{head}{stmts}{layer}"));
        assert!(
            found.iter().any(|(c, u)| c == code && u == under),
            "{stmts}\nexpected {code} under `{under}`, found {found:?}"
        );
    }
    // Both kinds together, and a statement about one layer, are fine.
    let ok = format!("{head}confirmed 2024-02-01\nvalid_until 2026-12-31\nvalid_until 2025-06-30 layers [basic]\n{layer}");
    assert_eq!(underlines(&ok), vec![]);
    let out = yibao_lang::compile_text("t.policy", &ok);
    let p = out.policy.unwrap();
    let v: Vec<(String, String, Vec<String>)> = p
        .validity
        .iter()
        .map(|v| {
            (
                v.kind.keyword().to_string(),
                v.until.to_string(),
                v.layers.iter().map(|l| l.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(
        v,
        vec![
            ("confirmed".into(), "2024-02-01".into(), vec![]),
            ("valid_until".into(), "2026-12-31".into(), vec![]),
            (
                "valid_until".into(),
                "2025-06-30".into(),
                vec!["basic".to_string()]
            ),
        ]
    );
}

/// `extends`: the parent's whole-version validity is not inherited (each version states its
/// own), its layer-scoped statements are, and a removed layer leaves them.
#[test]
fn validity_merges_by_scope() {
    use yibao_lang::{ast::Item, merge::merge, parse::parse, SourceMap};
    let parent = "policy a.b \"p\"\neffective 2024-01-01\nconfirmed 2024-01-01\nvalid_until 2024-12-31 layers [basic, extra]\ncare [inpatient]\nlayer basic \"b\" { base in_scope ratio 1% [placeholder] }\nlayer extra \"e\" { base remaining in_scope after basic ratio 1% [placeholder] }\n";
    let child =
        "policy a.b \"p\"\neffective 2025-01-01\nextends a.b@2024-01-01\nremove layer extra\n";
    let mut map = SourceMap::new();
    let p = parse(map.add("p", parent), parent).unwrap();
    let c = parse(map.add("c", child), child).unwrap();
    let m = merge(&p, &c).unwrap();
    let stmts: Vec<String> = m
        .items
        .iter()
        .filter_map(|i| match &i.node {
            Item::Validity(v) => Some(format!(
                "{} {} {:?}",
                v.kind.node.keyword(),
                v.date.node,
                v.layers
                    .as_ref()
                    .map(|ls| ls.iter().map(|l| l.node.clone()).collect::<Vec<_>>())
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        stmts,
        vec!["valid_until 2024-12-31 Some([\"basic\"])".to_string()]
    );
}
