#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! `for referred { … }` and `for not referred { … }`: figures that depend on whether the claim
//! was referred (转诊). How they parse, lower, check, format and merge.

use yibao_engine::ir::{ModOp, Selector};

const HEAD: &str = "policy x.y \"t\"\neffective 2024-01-01\nconfirmed 2024-12-31\nsource S \"s\"\ncare [inpatient]\nlevels [1, 2, 3]\n";

/// The diagnostics' codes with the source text each underlines.
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

fn layer(body: &str) -> String {
    format!(
        "{HEAD}layer basic \"b\" {{\n  base in_scope\n  deductible per_admission 1000 [official S]\n  ratio 80% [official S]\n{body}}}\n"
    )
}

#[test]
fn referred_and_not_referred_lower_to_the_selector() {
    let text = layer(
        "  for referred { deductible × 50% [official S] }\n  for not referred and level in [3] { ratio - 10% [official S] }\n",
    );
    let out = yibao_lang::compile_text("t.policy", &text);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let p = out.policy.unwrap();
    let mods = &p.layers[0].modifiers;
    assert_eq!(mods.len(), 2);
    assert_eq!(
        mods[0].selector,
        Selector {
            referral: Some(true),
            ..Selector::default()
        }
    );
    assert!(matches!(mods[0].ops[..], [ModOp::Deductible { .. }]));
    assert_eq!(
        mods[1].selector,
        Selector {
            referral: Some(false),
            levels: vec![2],
            ..Selector::default()
        }
    );
    assert!(p.depends_on_referral());
    // Each figure has its path, the referral first.
    let paths: Vec<&str> = p.params.iter().map(|x| x.path.as_str()).collect();
    assert!(
        paths.contains(&"basic.for[referred].deductible")
            && paths.contains(&"basic.for[not_referred,level=3].ratio"),
        "{paths:?}"
    );
    // The selector's referral is in the serialised IR only where a block asks.
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(
        json["layers"][0]["modifiers"][1]["selector"]["referral"],
        serde_json::json!(false)
    );
    assert!(json["layers"][0]["when"].get("referral").is_none());
    // A policy without such a block does not depend on the referral.
    let plain = yibao_lang::compile_text("t.policy", &layer(""))
        .policy
        .unwrap();
    assert!(!plain.depends_on_referral());
}

#[test]
fn misuse_is_reported_where_it_is_written() {
    let cases: &[(&str, (&str, &str))] = &[
        // The same condition twice.
        (
            "  for referred and referred { ratio + 5% [official S] }\n",
            ("yibao::duplicate", "referred"),
        ),
        // A block no claim can reach.
        (
            "  for referred and not referred { ratio + 5% [official S] }\n",
            ("yibao::conflict", "not referred"),
        ),
        // Two blocks with one selector: one clause of each key per layer.
        (
            "  for referred { ratio + 5% [official S] }\n  for referred { ratio + 1% [official S] }\n",
            ("yibao::duplicate", "for referred { ratio + 1% [official S] }"),
        ),
        // The changes are checked as in any `for` block: units, the value being changed.
        (
            "  for referred { ratio + 5 [official S] }\n",
            ("yibao::unit", "5"),
        ),
        (
            "  for not referred { cap × 50% [official S] }\n",
            ("yibao::no-effect", "cap × 50% [official S]"),
        ),
        (
            "  for referred and level in [4] { ratio + 5% [official S] }\n",
            ("yibao::unknown-name", "4"),
        ),
    ];
    for (body, (code, under)) in cases {
        let found = underlines(&layer(body));
        assert!(
            found.iter().any(|(c, u)| c == code && u == under),
            "{body}\nexpected {code} under `{under}`, found {found:?}"
        );
    }
    // A layer's `when` does not take the referral: a syntax error that says what it expects.
    let out = yibao_lang::compile_text(
        "t.policy",
        &format!(
            "{HEAD}layer basic \"b\" {{ when referred base in_scope ratio 1% [official S] }}\n"
        ),
    );
    assert_eq!(out.diagnostics.len(), 1, "{:?}", out.diagnostics);
    assert_eq!(out.diagnostics[0].code, "yibao::syntax");
    // Nor does a long-term care layer take a `for` block.
    let care = "policy x.ltc \"t\"\neffective 2024-01-01\nconfirmed 2024-12-31\ncare { home \"h\" }\nlayer c \"c\" { base cost [personal_care] ratio 70% [placeholder] for referred { ratio + 5% [placeholder] } }\n";
    let found = underlines(care);
    assert!(
        found
            .iter()
            .any(|(c, u)| c == "yibao::care-clause" && u.starts_with("for referred")),
        "{found:?}"
    );
}

#[test]
fn the_formatter_puts_the_referral_first_and_keeps_the_meaning() {
    let messy = layer(
        "for   level in [ 3 ]  and not\n   referred {ratio - 10% [official S]}\n for referred{ deductible × 50% [official S] }\n",
    );
    let out = yibao_lang::fmt::format(&messy).unwrap();
    assert!(
        out.contains("  for not referred and level in [3] {\n    ratio - 10% [official S]\n  }\n")
            && out.contains("  for referred {\n    deductible × 50% [official S]\n  }\n"),
        "{out}"
    );
    assert_eq!(yibao_lang::fmt::format(&out).unwrap(), out);
    let strip = |t: &str| {
        let mut p = yibao_lang::compile_text("t.policy", t).policy.unwrap();
        for l in &mut p.layers {
            for m in &mut l.modifiers {
                m.cite = Default::default();
                m.op_texts.clear();
            }
        }
        p.layers
            .iter()
            .map(|l| l.modifiers.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&messy), strip(&out));
}

/// A later version replaces a `for referred` block by its selector, and keeps the others.
#[test]
fn amend_replaces_the_block_with_the_same_selector() {
    use yibao_lang::{merge::merge, parse::parse, SourceMap};
    let parent = layer(
        "  for referred { deductible × 50% [official S] }\n  for not referred { ratio - 10% [official S] }\n",
    );
    let child = "policy x.y \"t\"\neffective 2025-01-01\nconfirmed 2025-12-31\nextends x.y@2024-01-01\namend layer basic { for referred { deductible × 40% [official S] } }\n";
    let mut map = SourceMap::new();
    let a = parse(map.add("x/y/2024-01-01.policy", parent.as_str()), &parent).unwrap();
    let b = parse(map.add("x/y/2025-01-01.policy", child), child).unwrap();
    let merged = merge(&a, &b).unwrap();
    let c = yibao_lang::compile(&merged, &map, String::new());
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let p = c.policy.unwrap();
    let mods = &p.layers[0].modifiers;
    assert_eq!(mods.len(), 2);
    let figure = |path: &str| {
        p.params
            .iter()
            .find(|x| x.path == path)
            .map(|x| x.value.to_string())
    };
    assert_eq!(
        figure("basic.for[referred].deductible").as_deref(),
        Some("0.40")
    );
    assert_eq!(
        figure("basic.for[not_referred].ratio").as_deref(),
        Some("0.10")
    );
}
