#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! `deductible every N days`: a per-admission deductible that a long stay pays once per period
//! begun (Guangzhou's 90-day rule). How it parses, lowers, checks, formats and merges.

use yibao_engine::ir::Value;

const HEAD: &str = "policy x.y \"t\"\neffective 2024-01-01\nconfirmed 2024-12-31\nsource S \"s\"\ncare [inpatient]\nlevels [1, 2, 3]\ndiseases { tb \"结核\" \"tuberculosis\" flu \"流感\" }\n";

fn layer(body: &str) -> String {
    format!("{HEAD}layer basic \"b\" {{\n  base in_scope\n{body}  ratio 80% [official S]\n}}\n")
}

/// Each diagnostic as (code, file, line, column, underlined text).
fn diagnostics(text: &str) -> Vec<(String, String, u32, u32, String)> {
    let out = yibao_lang::compile_text("t.policy", text);
    out.diagnostics
        .iter()
        .map(|d| {
            let j = d.to_json(&out.map);
            (
                j.code,
                j.file.unwrap_or_default(),
                j.line.unwrap_or_default(),
                j.column.unwrap_or_default(),
                j.text.unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn a_period_lowers_with_its_figure_and_provenance() {
    let text = layer(
        "  deductible per_admission 500 [official S]\n  deductible every 90 days [official S \"every 90 days\"]\n",
    );
    let out = yibao_lang::compile_text("t.policy", &text);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let p = out.policy.unwrap();
    let d = p.layers[0].deductible.as_ref().unwrap();
    let (v, cite) = d.every.as_ref().unwrap();
    assert!(matches!(v, Value::Const { value, .. } if value.to_string() == "90"));
    assert_eq!(cite.line, 11);
    let param = p
        .params
        .iter()
        .find(|x| x.path == "basic.deductible_every")
        .unwrap();
    assert_eq!(param.value.to_string(), "90");
}

#[test]
fn a_period_may_be_a_table_by_disease() {
    let text = layer(
        "  deductible per_admission 500 [official S]\n  deductible every by disease { tb: 180  else: 90 } days [official S]\n",
    );
    let out = yibao_lang::compile_text("t.policy", &text);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let d = out.policy.unwrap().layers[0].deductible.clone().unwrap();
    assert!(matches!(d.every, Some((Value::Table { .. }, _))));
}

#[test]
fn misuse_is_reported_at_the_clause() {
    // Per year: the period has no meaning.
    let found = diagnostics(&layer(
        "  deductible per_year 500 [official S]\n  deductible every 90 days [official S]\n",
    ));
    assert_eq!(
        found,
        vec![(
            "yibao::conflict".to_string(),
            "t.policy".to_string(),
            11,
            3,
            "deductible every 90 days [official S]".to_string()
        )],
    );
    // No deductible to repeat.
    let found = diagnostics(&layer("  deductible every 90 days [official S]\n"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "yibao::conflict");
    assert_eq!((found[0].2, found[0].3), (10, 3));
    // Not a whole number of days, or zero; the same inside a table, in an entry or in `else:`:
    // at the clause, before any claim.
    for bad in [
        "0",
        "1.5",
        "by disease { tb: 0  else: 90 }",
        "by disease { tb: 180  else: 30.5 }",
    ] {
        let found = diagnostics(&layer(&format!(
            "  deductible per_admission 500 [official S]\n  deductible every {bad} days [official S]\n"
        )));
        assert_eq!(found.len(), 1, "{bad}: {found:?}");
        assert_eq!(found[0].0, "yibao::out-of-range", "{bad}");
        assert_eq!((found[0].2, found[0].3), (11, 3), "{bad}");
    }
    // `days` is required: a syntax error where it was expected (the next clause, line 12).
    let found = diagnostics(&layer(
        "  deductible per_admission 500 [official S]\n  deductible every 90 [official S]\n",
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].2, found[0].3),
        ("yibao::syntax", 12, 3),
        "{found:?}"
    );
}

#[test]
fn the_formatter_keeps_the_clause() {
    let messy = layer(
        "  deductible per_admission 500 [official S]\n  deductible   every\n 90   days[official S]\n",
    );
    let out = yibao_lang::fmt::format(&messy).unwrap();
    assert!(
        out.contains("  deductible every 90 days [official S]\n"),
        "{out}"
    );
    assert_eq!(yibao_lang::fmt::format(&out).unwrap(), out);
}

/// An `amend` that states only the deductible keeps the parent's period; one that states the
/// period replaces it.
#[test]
fn amend_keeps_or_replaces_the_period() {
    use yibao_lang::{merge::merge, parse::parse, SourceMap};
    let parent = layer(
        "  deductible per_admission 500 [official S]\n  deductible every 90 days [official S]\n",
    );
    let period = |child: &str| {
        let mut map = SourceMap::new();
        let a = parse(map.add("x/y/2024-01-01.policy", parent.as_str()), &parent).unwrap();
        let b = parse(map.add("x/y/2025-01-01.policy", child), child).unwrap();
        let merged = merge(&a, &b).unwrap();
        let c = yibao_lang::compile(&merged, &map, String::new());
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        let p = c.policy.unwrap();
        p.params
            .iter()
            .find(|x| x.path == "basic.deductible_every")
            .map(|x| x.value.to_string())
    };
    let head =
        "policy x.y \"t\"\neffective 2025-01-01\nconfirmed 2025-12-31\nextends x.y@2024-01-01\n";
    assert_eq!(
        period(&format!(
            "{head}amend layer basic {{ deductible per_admission 250 [official S] }}\n"
        ))
        .as_deref(),
        Some("90")
    );
    assert_eq!(
        period(&format!(
            "{head}amend layer basic {{ deductible every 180 days [official S] }}\n"
        ))
        .as_deref(),
        Some("180")
    );
}

/// `base remaining … plus special_drugs` (Zhejiang's 大病 base, ZJ-REG art. 34): lowered to the
/// layer's flag, formatted back, and refused beside `out_of_list` (which holds the drugs).
#[test]
fn a_base_plus_special_drugs() {
    let two = |second: &str| {
        format!("{HEAD}layer basic \"b\" {{\n  base in_scope\n  ratio 80% [official S]\n}}\nlayer serious_illness \"大病\" {{\n{second}  ratio 60% [official S]\n}}\n")
    };
    let text = two("  base   remaining in_scope after basic\n   plus   special_drugs\n");
    let out = yibao_lang::compile_text("t.policy", &text);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let p = out.policy.unwrap();
    assert!(!p.layers[0].plus_special_drugs);
    assert!(p.layers[1].plus_special_drugs);
    let f = yibao_lang::fmt::format(&text).unwrap();
    assert!(
        f.contains("  base remaining in_scope after basic plus special_drugs\n"),
        "{f}"
    );
    let found = diagnostics(&two(
        "  base remaining [co_pay, out_of_list] after basic plus special_drugs\n",
    ));
    assert_eq!(
        found,
        vec![(
            "yibao::conflict".to_string(),
            "t.policy".to_string(),
            13,
            52,
            "plus special_drugs".to_string()
        )]
    );
}
