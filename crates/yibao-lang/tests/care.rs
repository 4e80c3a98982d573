#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! Long-term care constructs: `base cost [..]`, `limit`, `require`, `cap per_month … pool`:
//! what the checker says about them, how they lower, and how they format.

use yibao_engine::ir::{CareFact, CmpOp, CostKind, LimitPer};

const HEAD: &str = "policy x.ltc \"t\"\neffective 2024-01-01\nconfirmed 2024-12-31\ngroups { employee \"e\" resident \"r\" }\ncare { institution \"i\" home \"h\" }\n";

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

#[test]
fn each_care_rule_underlines_its_cause() {
    let cases: &[(&str, (&str, &str))] = &[
        // A count with a unit.
        (
            "layer c \"c\" { base cost [personal_care] ratio 70% [placeholder] require visits >= 12% [placeholder] }",
            ("yibao::unit", "12%"),
        ),
        // A ratio where money is expected.
        (
            "layer c \"c\" { base cost [personal_care] ratio 70% [placeholder] limit per_day 70% [placeholder] }",
            ("yibao::unit", "70%"),
        ),
        // Care clauses in a medical layer.
        (
            "layer basic \"b\" { base in_scope ratio 70% [placeholder] limit per_month 100 [placeholder] }",
            ("yibao::care-clause", "limit per_month 100 [placeholder]"),
        ),
        (
            "layer basic \"b\" { base in_scope ratio 70% [placeholder] require age >= 18 [placeholder] }",
            ("yibao::care-clause", "require age >= 18 [placeholder]"),
        ),
        (
            "layer basic \"b\" { base in_scope ratio 70% [placeholder] cap per_month 100 pool p [placeholder] }",
            ("yibao::care-clause", "cap per_month 100 pool p [placeholder]"),
        ),
        // Medical clauses in a care layer.
        (
            "layer c \"c\" { base cost [nursing] ratio 70% [placeholder] deductible per_year 100 [placeholder] }",
            ("yibao::care-clause", "deductible per_year 100 [placeholder]"),
        ),
        (
            "layer c \"c\" { base cost [nursing] ratio 70% [placeholder] cap per_year 100 [placeholder] }",
            ("yibao::care-clause", "cap per_year 100 [placeholder]"),
        ),
        (
            "layer c \"c\" { base cost [nursing] ratio 70% [placeholder] measure year }",
            ("yibao::care-clause", "measure year"),
        ),
        // Care and medical layers in one policy.
        (
            "layer c \"c\" { base cost [nursing] ratio 70% [placeholder] } layer basic \"b\" { base in_scope ratio 70% [placeholder] }",
            ("yibao::mixed-benefits", "basic"),
        ),
        // A cost kind twice.
        (
            "layer c \"c\" { base cost [nursing, nursing] ratio 70% [placeholder] }",
            ("yibao::duplicate", "nursing"),
        ),
        // One condition per fact.
        (
            "layer c \"c\" { base cost [nursing] ratio 70% [placeholder] require age >= 18 [placeholder] require age >= 20 [placeholder] }",
            ("yibao::duplicate", "require age >= 20 [placeholder]"),
        ),
        // Tables on care figures are checked as any other.
        (
            "layer c \"c\" { base cost [nursing] ratio 70% [placeholder] limit per_month by group { employee: 100 } [placeholder] }",
            ("yibao::not-exhaustive", "group"),
        ),
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
fn care_clauses_lower_to_a_care_rule() {
    let text = format!(
        "{HEAD}layer c \"c\" kind basic {{ base cost [nursing, supplies] ratio 70% [placeholder] limit per_day 60 [placeholder] require visits >= by group {{ employee: 12  resident: none }} [placeholder] require months_used < 24 [placeholder] cap per_month 300 [placeholder] cap per_month 1000 pool n [placeholder] }}"
    );
    let out = yibao_lang::compile_text("t.policy", &text);
    assert!(
        !out.diagnostics.iter().any(|d| d.is_error()),
        "{:?}",
        out.diagnostics
    );
    let p = out.policy.unwrap();
    assert!(p.is_care());
    let rule = p.layers[0].care.as_deref().unwrap();
    assert_eq!(rule.costs, vec![CostKind::Nursing, CostKind::Supplies]);
    assert_eq!(rule.limit.as_ref().unwrap().per, LimitPer::Day);
    let facts: Vec<(CareFact, CmpOp)> = rule.requires.iter().map(|r| (r.fact, r.op)).collect();
    assert_eq!(
        facts,
        vec![
            (CareFact::Visits, CmpOp::Ge),
            (CareFact::MonthsUsed, CmpOp::Lt)
        ]
    );
    let pools: Vec<Option<&str>> = rule.caps.iter().map(|c| c.pool.as_deref()).collect();
    assert_eq!(pools, vec![None, Some("n")]);
    // The layer's medical caps stay empty: care caps are the care rule's.
    assert!(p.layers[0].caps.is_empty());
    // Figures get stable paths.
    let paths: Vec<&str> = p.params.iter().map(|x| x.path.as_str()).collect();
    for want in [
        "c.limit_day",
        "c.require.visits.group.employee",
        "c.require.months_used",
        "c.cap_month",
        "c.cap_month.n",
    ] {
        assert!(paths.contains(&want), "{want} not in {paths:?}");
    }
}

#[test]
fn care_clauses_format_canonically_and_keep_their_meaning() {
    let messy = format!(
        "{HEAD}layer c \"c\" kind basic {{ base cost [ nursing ,supplies ] ratio 70% [placeholder]\n limit   per_month 2100 [placeholder]\n require hours>=28 [placeholder] cap per_month 1000  pool   n [placeholder] }}\n"
    );
    let once = yibao_lang::fmt::format(&messy).unwrap();
    assert!(once.contains("  base cost [nursing, supplies]\n"), "{once}");
    assert!(
        once.contains("  limit per_month 2100 [placeholder]\n"),
        "{once}"
    );
    assert!(
        once.contains("  require hours >= 28 [placeholder]\n"),
        "{once}"
    );
    assert!(
        once.contains("  cap per_month 1000 pool n [placeholder]\n"),
        "{once}"
    );
    assert_eq!(yibao_lang::fmt::format(&once).unwrap(), once);
    let a = yibao_lang::compile_text("a.policy", &messy).policy.unwrap();
    let b = yibao_lang::compile_text("a.policy", &once).policy.unwrap();
    // Cites differ by layout; the rules' meaning does not.
    let meaning = |p: &yibao_engine::ir::Policy| {
        let r = p.layers[0].care.as_deref().unwrap();
        (
            r.costs.clone(),
            r.limit.as_ref().map(|l| (l.per, l.value.clone())),
            r.requires
                .iter()
                .map(|q| (q.fact, q.op, q.value.clone()))
                .collect::<Vec<_>>(),
            r.caps
                .iter()
                .map(|c| (c.pool.clone(), c.value.clone()))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(meaning(&a), meaning(&b));
}
