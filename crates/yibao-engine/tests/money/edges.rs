//! Edges the mutation run of 2026-12-07 found unpinned: the precision of money figures and how an
//! oversized one fails, the level a claim is settled at when a policy has one level, a month of
//! care under a medical policy, a referred admission whose base is exactly what the chain still
//! owed, an unknown figure inside a `for` block, and which block's text explains which figure.

use yibao_engine::claim::CareMonth;
use yibao_engine::ir::*;
use yibao_engine::settlement::StepKind;

use crate::common::*;
use crate::referral::{adm, policy};

#[test]
fn a_figure_written_past_the_cents_with_zeros_is_whole_cents() {
    // 1,000.250 is 1,000.25 (its normalised scale is 2): the cap holds the 2,500 to 1,000.25.
    assert_eq!(pay(&capped("1000.250").unwrap(), 0), "1000.25");
    assert_eq!(pay(&capped("1000.2500000").unwrap(), 0), "1000.25");
}

#[test]
fn a_figure_too_large_for_the_engine_is_an_overflow_not_a_precision_error() {
    // Whole cents, but far beyond i64 fen: the error is about size, not decimals.
    let e = capped("100000000000000000000000.01")
        .unwrap_err()
        .to_string();
    assert!(!e.contains("decimal places"), "{e}");
    assert!(e.contains("overflow") || e.contains("beyond"), "{e}");
}

/// A policy whose levels are one: a claim without a level is settled at it without a note that
/// a level was assumed (there was nothing to choose).
#[test]
fn one_level_is_no_default_to_mention() {
    let mut p = P::new();
    p.policy.dims.levels = vec![DimValue {
        id: "1".into(),
        zh: "一级".into(),
        en: "1".into(),
    }];
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.5"));
    p.add(a);
    let policy = p.build();
    let (s, _) = year_of(
        &policy,
        &[with(claim("2024-05-01", "1000"), |c| c.level = None)],
    );
    let s = s.into_iter().next().unwrap().unwrap();
    // 1,000 × 50% = 500.
    assert_eq!(pay(&s, 0), "500.00");
    assert!(codes(&s).is_empty(), "{:?}", codes(&s));
    assert_eq!(&*s.situation.level, "1");
}

#[test]
fn a_month_of_care_is_refused_by_a_medical_policy() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.5"));
    p.add(a);
    let c = with(claim("2024-05-31", "1000"), |c| {
        c.month = Some(CareMonth::default());
    });
    let (r, _) = year_of(&p.build(), &[c]);
    let e = r.into_iter().next().unwrap().unwrap_err().to_string();
    assert!(
        e.starts_with("month: a month of long-term care is settled only under a long-term care"),
        "{e}"
    );
    // The same claim without the month is settled: 1,000 × 50%.
    let (r, _) = year_of(&p.build(), &[claim("2024-05-31", "1000")]);
    assert_eq!(pay(r[0].as_ref().unwrap(), 0), "500.00");
}

/// A referred admission whose base is exactly the part of the deductible the chain still owed
/// pays nothing and leaves the chain short of the fund; the next referral then owes nothing more
/// but is still in the chain.
#[test]
fn a_referral_that_only_completes_the_deductible_has_not_entered_the_fund() {
    let policy = policy(Referral::Continuous, DeductiblePer::Admission);
    let claims = [
        adm("2024-03-01", "1", "500", false),
        adm("2024-03-05", "3", "800", true),
        adm("2024-03-09", "3", "2000", true),
    ];
    let chain = |n: usize| {
        let (_, st) = year_of(&policy, &claims[..n]);
        let c = st.layer("basic").unwrap().chain.clone().unwrap();
        (y(c.deductible_paid), c.entered_fund)
    };
    // 500 all deductible at level 1 (chain 500, not in the fund).
    assert_eq!(chain(1), ("500.00".into(), false));
    // Referred to level 3: 1,300 − 500 = 800 due; the base is 800: nothing above it (chain 1,300,
    // still not in the fund).
    assert_eq!(chain(2), ("1300.00".into(), false));
    let (s, _) = all(&policy, &claims);
    let pays: Vec<String> = s.iter().map(|x| pay(x, 0)).collect();
    let deds: Vec<String> = s.iter().map(|x| y(x.layers[0].deductible)).collect();
    // Referred again: 1,300 paid of 1,300 → nothing due; 2,000 × 90% = 1,800.
    assert_eq!(pays, ["0.00", "0.00", "1800.00"]);
    assert_eq!(deds, ["500.00", "800.00", "0.00"]);
    assert_eq!(chain(3), ("1300.00".into(), true));
}

/// An unknown figure inside a `for` block is an operand with no figure: `min(ratio, x)` with `x`
/// unknown leaves the ratio as it was, and the result names `x` among the unverified figures.
#[test]
fn an_unknown_figure_in_a_for_block_is_named_unverified() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.8"));
    let x = p.unknown("basic.for.ratio_limit");
    a.modifiers = vec![modifier(
        Selector::default(),
        vec![ModOp::Ratio {
            expr: Expr::Min(Box::new(Expr::Current), Box::new(ev(x))),
        }],
        &["ratio = min(ratio, limit)"],
    )];
    p.add(a);
    let (r, _) = year_of(&p.build(), &[claim("2024-05-01", "10000")]);
    let s = r.into_iter().next().unwrap().unwrap();
    // 10,000 × 80% = 8,000.
    assert_eq!(pay(&s, 0), "8000.00");
    assert_eq!(codes(&s), ["unverified"]);
    assert!(s
        .unverified
        .iter()
        .any(|u| u.path() == "basic.for.ratio_limit"));
}

/// A block that changes the deductible and the ratio explains each figure with its own text.
#[test]
fn each_figure_is_explained_by_its_own_part_of_a_block() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.deductible = ded(DeductiblePer::Admission, p.fig("basic.deductible", "500"));
    a.bands = flat(p.fig("basic.ratio", "0.8"));
    a.modifiers = vec![modifier(
        Selector::default(),
        vec![
            ModOp::Deductible { expr: k("300") },
            ModOp::Ratio { expr: k("0.9") },
        ],
        &["deductible = 300", "ratio = 90%"],
    )];
    p.add(a);
    let (r, _) = year_of(&p.build(), &[claim("2024-05-01", "10300")]);
    let s = r.into_iter().next().unwrap().unwrap();
    // (10,300 − 300) × 90% = 9,000.
    assert_eq!(pay(&s, 0), "9000.00");
    let steps: Vec<&str> = s
        .trace
        .iter()
        .filter(|t| t.kind == StepKind::Modifier)
        .map(|t| t.zh.as_str())
        .collect();
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert!(
        steps[0].contains("（deductible = 300）调整起付标准：500.00 → 300.00"),
        "{}",
        steps[0]
    );
    assert!(
        steps[1].contains("（ratio = 90%）调整支付比例：80% → 90%"),
        "{}",
        steps[1]
    );
}
