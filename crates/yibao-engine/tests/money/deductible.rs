//! Deductibles: per admission, per year, from the n-th admission, after `for` blocks, unknown,
//! and the per-case (按病种) layer's deductible.

use yibao_engine::ir::*;
use yibao_engine::settlement::StepKind;

use crate::common::*;

fn basic(p: &mut P, per: DeductiblePer) -> Layer {
    let mut a = layer("basic");
    a.deductible = ded(per, p.fig("basic.deductible", "1000"));
    a.bands = flat(p.fig("basic.ratio", "0.9"));
    a
}

#[test]
fn per_admission_and_per_year() {
    let mut p = P::new();
    let a = basic(&mut p, DeductiblePer::Admission);
    p.add(a);
    let (s, st) = all(
        &p.build(),
        &[claim("2024-01-10", "600"), claim("2024-02-10", "5000")],
    );
    // Each admission pays its own 1,000: 600 all deductible; then (5,000 − 1,000) × 90% = 3,600.
    assert_eq!(
        (pay(&s[0], 0), pay(&s[1], 0)),
        ("0.00".into(), "3600.00".into())
    );
    assert_eq!(oop(&s[0]), ["600.00", "0.00", "0.00", "0.00", "600.00"]);
    assert_eq!(oop(&s[1]), ["1000.00", "400.00", "0.00", "0.00", "1400.00"]);
    assert_eq!(s[1].layers[0].threshold.map(y), Some("1000.00".into()));
    let l = st.layer("basic").unwrap();
    assert_eq!(
        (l.claims, y(l.base), y(l.deductible_paid), y(l.paid)),
        (2, "5600.00".into(), "1600.00".into(), "3600.00".into())
    );

    let mut p = P::new();
    let a = basic(&mut p, DeductiblePer::Year);
    p.add(a);
    let (s, st) = all(
        &p.build(),
        &[
            claim("2024-01-10", "600"),
            claim("2024-02-10", "5000"),
            claim("2024-03-10", "100"),
        ],
    );
    // Once a year: 600, then the 400 left; (5,000 − 400) × 90% = 4,140; then none: 90.
    let pays: Vec<String> = s.iter().map(|x| pay(x, 0)).collect();
    assert_eq!(pays, ["0.00", "4140.00", "90.00"]);
    assert_eq!(y(s[1].layers[0].deductible), "400.00");
    assert_eq!(y(s[1].platform.act_pay_dedc), "400.00");
    let l = st.layer("basic").unwrap();
    assert_eq!(
        (y(l.deductible_paid), l.chain.clone()),
        ("1000.00".into(), None)
    );
    let why = s[1]
        .trace
        .iter()
        .find(|t| t.kind == StepKind::Deductible)
        .unwrap();
    assert!(why.zh.contains("年度累计已付 600.00"), "{}", why.zh);
    assert!(why.zh.contains("本次计入起付线 400.00"), "{}", why.zh);
}

/// From the n-th admission on: a figure of its own, or one computed from the first.
#[test]
fn the_nth_admission() {
    let mut p = P::new();
    let mut a = basic(&mut p, DeductiblePer::Admission);
    a.deductible.as_mut().unwrap().value = p.ph("basic.deductible.first", "1000");
    let half = Value::Expr(Box::new(Expr::Mul(
        Box::new(Expr::Current),
        Box::new(ev(p.fig("basic.deductible.later", "0.5"))),
    )));
    a.deductible.as_mut().unwrap().later = Some((2, half, cite("later")));
    p.add(a);
    let (s, _) = all(
        &p.build(),
        &[
            claim("2024-01-10", "3000"),
            claim("2024-02-10", "3000"),
            claim("2024-03-10", "3000"),
        ],
    );
    // 1,000, then 1,000 × 50% = 500 from the 2nd on: (3,000 − 1,000) × 90% = 1,800; 2,250; 2,250.
    let pays: Vec<String> = s.iter().map(|x| pay(x, 0)).collect();
    assert_eq!(pays, ["1800.00", "2250.00", "2250.00"]);
    // The later figure is computed from the first: both are named.
    assert_eq!(s[2].unverified.len(), 1);
    assert_eq!(s[2].unverified[0].path(), "basic.deductible.first");
    let why = s[2]
        .trace
        .iter()
        .find(|t| t.kind == StepKind::Deductible)
        .unwrap();
    assert!(why.zh.contains("本年第 3 次"), "{}", why.zh);
    assert_eq!(why.cite.as_ref().unwrap().text, "later");

    let mut p = P::new();
    let mut a = basic(&mut p, DeductiblePer::Admission);
    a.deductible.as_mut().unwrap().value = p.ph("basic.deductible.first", "1000");
    let own = p.fig("basic.deductible.third", "300");
    a.deductible.as_mut().unwrap().later = Some((3, own, cite("later")));
    p.add(a);
    let (s, _) = all(
        &p.build(),
        &[
            claim("2024-01-10", "3000"),
            claim("2024-02-10", "3000"),
            claim("2024-03-10", "3000"),
        ],
    );
    // 1,000, 1,000, then the 3rd admission's own 300: (3,000 − 300) × 90% = 2,430.
    let pays: Vec<String> = s.iter().map(|x| pay(x, 0)).collect();
    assert_eq!(pays, ["1800.00", "1800.00", "2430.00"]);
    // Its own figure replaces the first: the placeholder is not relied on any more.
    assert_eq!(s[1].unverified.len(), 1);
    assert!(s[2].unverified.is_empty());
    assert_eq!(codes(&s[1])[0], "unverified");
    assert!(!codes(&s[2]).contains(&"unverified"));
}

/// An unknown first deductible with an own later figure: unknown (taken as 0) only while the
/// first applies.
#[test]
fn an_unknown_deductible_is_taken_as_zero_and_said() {
    let mut p = P::new();
    let mut a = basic(&mut p, DeductiblePer::Admission);
    a.deductible.as_mut().unwrap().value = p.unknown("basic.deductible");
    let own = p.fig("basic.deductible.second", "200");
    a.deductible.as_mut().unwrap().later = Some((2, own, cite("later")));
    p.add(a);
    let (s, _) = all(
        &p.build(),
        &[claim("2024-01-10", "1000"), claim("2024-02-10", "1000")],
    );
    // 1,000 × 90% = 900 with no deductible; then (1,000 − 200) × 90% = 720.
    assert_eq!(
        (pay(&s[0], 0), pay(&s[1], 0)),
        ("900.00".into(), "720.00".into())
    );
    assert_eq!(s[0].layers[0].threshold, None);
    assert_eq!(s[1].layers[0].threshold.map(y), Some("200.00".into()));
    assert_eq!(codes(&s[0]), ["unverified", "unknown_deductible"]);
    assert_eq!(s[0].warnings[1].layer.as_deref(), Some("basic"));
    assert_eq!(s[0].warnings[1].effect, Some("fund_overstated"));
    assert!(codes(&s[1]).is_empty());
    let why = s[0]
        .trace
        .iter()
        .find(|t| t.kind == StepKind::Deductible)
        .unwrap();
    assert!(why.zh.starts_with("起付标准未知"), "{}", why.zh);
    assert!(why.en.contains("taken as 0"), "{}", why.en);
}

/// `none` is no deductible (not an unknown one): nothing is said; a later figure of `none`
/// leaves the first in force.
#[test]
fn a_deductible_of_none_is_not_unknown() {
    let mut p = P::new();
    let mut a = basic(&mut p, DeductiblePer::Admission);
    a.deductible.as_mut().unwrap().value = p.none("basic.deductible");
    p.add(a);
    let s = one(&p.build(), claim("2024-01-10", "1000"));
    // 1,000 × 90% = 900, no deductible.
    assert_eq!(pay(&s, 0), "900.00");
    assert_eq!(s.layers[0].threshold.map(y), Some("0.00".into()));
    assert!(codes(&s).is_empty());

    let mut p = P::new();
    let mut a = basic(&mut p, DeductiblePer::Admission);
    let later = p.none("basic.deductible.second");
    a.deductible.as_mut().unwrap().later = Some((2, later, cite("later")));
    p.add(a);
    let (s, _) = all(
        &p.build(),
        &[claim("2024-01-10", "3000"), claim("2024-02-10", "3000")],
    );
    // Both (3,000 − 1,000) × 90% = 1,800: the second admission's `none` changes nothing.
    assert_eq!(
        (pay(&s[0], 0), pay(&s[1], 0)),
        ("1800.00".into(), "1800.00".into())
    );
    assert!(codes(&s[1]).is_empty());
    assert_eq!(s[1].layers[0].threshold.map(y), Some("1000.00".into()));
}

/// `for` blocks on the deductible, by group and by level table; a result below zero is zero;
/// a claim without a level under a policy with several takes the first and says so.
#[test]
fn deductible_blocks_and_tables() {
    let mut p = P::new();
    let mut a = layer("basic");
    let by_level = table(
        Dim::Level,
        vec![
            Some(p.fig("basic.deductible.1", "300")),
            Some(p.fig("basic.deductible.2", "500")),
            Some(p.fig("basic.deductible.3", "800")),
        ],
        None,
    );
    a.deductible = ded(DeductiblePer::Admission, by_level);
    a.bands = flat(p.fig("basic.ratio", "0.5"));
    let half = ev(p.fig("basic.retired.deductible", "0.5"));
    let minus = ev(p.fig("basic.destitute.deductible", "2000"));
    a.modifiers = vec![
        modifier(
            Selector {
                groups: vec![1],
                ..Selector::default()
            },
            vec![ModOp::Deductible {
                expr: Expr::Mul(Box::new(Expr::Current), Box::new(half)),
            }],
            &["deductible × 50% [official]"],
        ),
        modifier(
            Selector {
                categories: vec![0],
                ..Selector::default()
            },
            vec![ModOp::Deductible {
                expr: Expr::Sub(Box::new(Expr::Current), Box::new(minus)),
            }],
            &["deductible - 2000"],
        ),
    ];
    p.add(a);
    let policy = p.build();
    let c = |level: Option<&str>, group: &str, cats: &[&str]| {
        with(claim("2024-05-01", "3000"), |c| {
            c.level = level.map(String::from);
            c.group = Some(group.into());
            c.categories = cats.iter().map(|x| x.to_string()).collect();
        })
    };
    let (s, _) = year_of(
        &policy,
        &[
            c(Some("3"), "in_service", &[]),
            c(Some("3"), "retired", &[]),
            c(Some("2"), "retired", &[]),
            c(None, "in_service", &[]),
            c(Some("3"), "in_service", &["destitute"]),
        ],
    );
    let s: Vec<_> = s.into_iter().map(Result::unwrap).collect();
    // (3,000 − 800) × 50% = 1,100; (3,000 − 400) × 50% = 1,300; (3,000 − 250) × 50% = 1,375;
    // level 1 by default: (3,000 − 300) × 50% = 1,350; 800 − 2,000 < 0 → 0: 1,500.
    let pays: Vec<String> = s.iter().map(|x| pay(x, 0)).collect();
    assert_eq!(
        pays,
        ["1100.00", "1300.00", "1375.00", "1350.00", "1500.00"]
    );
    assert_eq!(codes(&s[3]), ["level_defaulted"]);
    assert!(s[3].warnings[0].message.contains("按“1组”计算"));
    assert_eq!(&*s[3].situation.level, "1");
    assert!(codes(&s[0]).is_empty());
    let m = s[1]
        .trace
        .iter()
        .find(|t| t.kind == StepKind::Modifier)
        .unwrap();
    assert!(
        m.zh.contains("（deductible × 50%）") && m.zh.contains("800.00 → 400.00"),
        "{}",
        m.zh
    );
    assert_eq!(y(m.value), "400.00");
    assert!(!s[0].trace.iter().any(|t| t.kind == StepKind::Modifier));
    assert_eq!(s[4].layers[0].threshold.map(y), Some("0.00".into()));
}

fn per_case_policy(p: &mut P, with_cap: bool) {
    let mut c = layer("case");
    c.deductible = ded(DeductiblePer::Admission, p.fig("case.deductible", "500"));
    c.per_case = Some(PerCase {
        share: p.fig("case.share", "0.3"),
        cite: cite("per_case"),
    });
    if with_cap {
        c.caps = vec![cap(CapPer::Claim, p.fig("case.cap", "10000"))];
    }
    let standard = p.fig("case.A01", "10000");
    p.policy.cases = vec![Case {
        code: "A01".into(),
        name: "case A01".into(),
        standard,
    }];
    let mut b = layer("basic");
    b.bands = flat(p.fig("basic.ratio", "0.8"));
    p.add(c).add(b);
}

/// 按病种: the patient pays the share of the standard fee (at most what is above the
/// deductible); the layer pays the rest of the in-scope amount; the basic layer sees it
/// classified.
#[test]
fn the_per_case_layer_and_its_deductible() {
    let mut p = P::new();
    per_case_policy(&mut p, false);
    let policy = p.build();
    let case =
        |date: &str, total: &str| with(claim(date, total), |c| c.case_code = Some("A01".into()));
    let (s, st) = all(
        &policy,
        &[
            case("2024-05-01", "20000"),
            claim("2024-05-02", "10000"),
            case("2024-05-03", "2500"),
        ],
    );
    // 20,000: deductible 500; patient 30% × 10,000 = 3,000; the layer 19,500 − 3,000 = 16,500.
    assert_eq!(pay(&s[0], 0), "16500.00");
    assert!(!s[0].layers[1].applied);
    assert!(codes(&s[0]).is_empty());
    assert_eq!(oop(&s[0]), ["500.00", "3000.00", "0.00", "0.00", "3500.00"]);
    let step = s[0]
        .trace
        .iter()
        .find(|t| t.kind == StepKind::PerCase)
        .unwrap();
    assert!(
        step.zh
            .contains("病种标准 10000.00 × 个人负担比例 30% = 个人负担 3000"),
        "{}",
        step.zh
    );
    let skip = s[0]
        .trace
        .iter()
        .filter(|t| t.kind == StepKind::NotApplicable)
        .collect::<Vec<_>>();
    assert_eq!(skip.len(), 1);
    assert!(
        skip[0].zh.contains("政策范围内费用已由 case 结算"),
        "{}",
        skip[0].zh
    );
    // Not a per-case claim: the basic layer pays 80%.
    assert!(!s[1].layers[0].applied);
    assert_eq!(pay(&s[1], 1), "8000.00");
    let skip = s[1]
        .trace
        .iter()
        .find(|t| t.kind == StepKind::NotApplicable)
        .unwrap();
    assert!(skip.zh.contains("非按病种结算"), "{}", skip.zh);
    // 2,500: deductible 500; the share (3,000) is more than the 2,000 left: the layer pays 0.
    assert_eq!(pay(&s[2], 0), "0.00");
    assert_eq!(oop(&s[2]), ["500.00", "2000.00", "0.00", "0.00", "2500.00"]);
    let l = st.layer("case").unwrap();
    assert_eq!((l.claims, y(l.deductible_paid)), (2, "1000.00".into()));
    assert_eq!(st.layer("basic").unwrap().claims, 1);

    let mut p = P::new();
    per_case_policy(&mut p, true);
    let s = one(&p.build(), case("2024-05-01", "20000"));
    // Capped at 10,000: a per-case layer has no cap line; the 6,500 it would have paid is
    // above the cap.
    assert_eq!(pay(&s, 0), "10000.00");
    assert_eq!(
        oop(&s),
        ["500.00", "3000.00", "6500.00", "0.00", "10000.00"]
    );

    let (r, _) = year_of(
        &policy,
        &[with(claim("2024-05-01", "100"), |c| {
            c.case_code = Some("B02".into())
        })],
    );
    let e = r.into_iter().next().unwrap().unwrap_err().to_string();
    assert!(
        e.starts_with("case_code: unknown per-case code `B02`"),
        "{e}"
    );
}

/// A case code under a policy without per-case rules is said, not refused.
#[test]
fn a_case_code_without_per_case_rules() {
    let mut p = P::new();
    let a = basic(&mut p, DeductiblePer::Admission);
    p.add(a);
    let s = one(
        &p.build(),
        with(claim("2024-05-01", "2000"), |c| {
            c.case_code = Some("A01".into())
        }),
    );
    assert_eq!(pay(&s, 0), "900.00");
    assert_eq!(codes(&s), ["case_code_ignored"]);
}

/// `deductible every 90 days`: a stay pays the per-admission deductible once per period begun;
/// without its length, once, with a warning; a period that is not a whole number of days stops
/// the claim with the clause.
#[test]
fn a_long_stay_repeats_the_deductible() {
    let mut p = P::new();
    let mut a = basic(&mut p, DeductiblePer::Admission);
    a.deductible.as_mut().unwrap().every =
        Some((p.fig("basic.deductible_every", "90"), cite("every")));
    p.add(a);
    let policy = p.build();
    let stay = |days: Option<u32>| with(claim("2024-03-01", "10000"), |c| c.stay_days = days);
    let (s, st) = all(
        &policy,
        &[stay(Some(200)), stay(Some(90)), stay(Some(0)), stay(None)],
    );
    // 200 days: ceil(200 / 90) = 3 → 3,000; (10,000 − 3,000) × 90% = 6,300.
    // 90 days: once → (10,000 − 1,000) × 90% = 8,100; 0 days: at least once → 8,100.
    // Not given: once, and the answer says the stay's length was not given.
    let pays: Vec<String> = s.iter().map(|x| pay(x, 0)).collect();
    assert_eq!(pays, ["6300.00", "8100.00", "8100.00", "8100.00"]);
    assert_eq!(oop(&s[0]), ["3000.00", "700.00", "0.00", "0.00", "3700.00"]);
    assert_eq!(s[0].layers[0].threshold.map(y), Some("3000.00".into()));
    assert!(!codes(&s[0]).contains(&"stay_days_missing"));
    assert!(
        codes(&s[3]).contains(&"stay_days_missing"),
        "{:?}",
        codes(&s[3])
    );
    let why = s[0]
        .trace
        .iter()
        .find(|t| t.kind == StepKind::Deductible)
        .unwrap();
    assert!(
        why.zh.contains("住院 200 天，每 90 天计一次，计 3 次"),
        "{}",
        why.zh
    );
    assert_eq!(y(st.layer("basic").unwrap().deductible_paid), "6000.00");

    // A per-year deductible ignores the period (the compiler refuses the pair in a policy).
    let mut p = P::new();
    let mut a = basic(&mut p, DeductiblePer::Year);
    a.deductible.as_mut().unwrap().every =
        Some((p.fig("basic.deductible_every", "90"), cite("every")));
    p.add(a);
    let s = one(&p.build(), stay(Some(200)));
    assert_eq!(pay(&s, 0), "8100.00");

    // A period of 1.5 days (an override, say) is refused with the clause.
    let mut p = P::new();
    let mut a = basic(&mut p, DeductiblePer::Admission);
    a.deductible.as_mut().unwrap().every =
        Some((p.fig("basic.deductible_every", "1.5"), cite("every")));
    p.add(a);
    let (r, _) = year_of(&p.build(), &[stay(Some(10))]);
    let e = r[0].as_ref().unwrap_err().to_string();
    assert!(
        e.contains("deductible period `1.5`") && e.contains("every"),
        "{e}"
    );
}
