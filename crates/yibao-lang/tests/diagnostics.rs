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

const HEAD: &str = "policy x.y \"t\"\neffective 2024-01-01\ncare [inpatient]\ncategories [destitute, min_allowance]\n";

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
