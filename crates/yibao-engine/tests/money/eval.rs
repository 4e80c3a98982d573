//! Values: formulas in `for` blocks, division, overflow, tables without an entry, unknown
//! ratios, ratios of mixed decimal scale and the one rounding, conditions on every dimension.

use yibao_engine::ir::*;
use yibao_engine::settlement::{Settlement, StepKind};
use yibao_engine::SettleError;

use crate::common::*;

fn bx(e: Expr) -> Box<Expr> {
    Box::new(e)
}

/// A 80% layer whose ratio a `for` block (for every claim) changes with `f(current)`; one claim
/// of 10,000.
fn with_ratio_block(f: impl FnOnce(Expr) -> Expr) -> Result<Settlement, SettleError> {
    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.8"));
    a.modifiers = vec![modifier(
        Selector::default(),
        vec![ModOp::Ratio {
            expr: f(Expr::Current),
        }],
        &["ratio = f(ratio)"],
    )];
    p.add(a);
    let (r, _) = year_of(&p.build(), &[claim("2024-05-01", "10000")]);
    r.into_iter().next().unwrap()
}

#[test]
fn formulas_in_for_blocks() {
    let paid = |f: fn(Expr) -> Expr| pay(&with_ratio_block(f).unwrap(), 0);
    assert_eq!(paid(|c| Expr::Add(bx(c), bx(k("0.05")))), "8500.00"); // 85%
    assert_eq!(paid(|c| Expr::Sub(bx(c), bx(k("0.1")))), "7000.00"); // 70%
    assert_eq!(paid(|c| Expr::Mul(bx(c), bx(k("0.5")))), "4000.00"); // 40%
    assert_eq!(paid(|c| Expr::Div(bx(c), bx(k("4")))), "2000.00"); // 20%
    assert_eq!(paid(|c| Expr::Min(bx(c), bx(k("0.75")))), "7500.00");
    assert_eq!(paid(|c| Expr::Max(bx(c), bx(k("0.9")))), "9000.00");
    assert_eq!(paid(|c| Expr::Min(bx(k("0.75")), bx(c))), "7500.00");
    assert_eq!(paid(|c| Expr::Max(bx(k("0.9")), bx(c))), "9000.00");
    // 1 − 60% × (1 − 80%) = 88%.
    assert_eq!(
        paid(|c| Expr::Sub(
            bx(k("1")),
            bx(Expr::Mul(bx(k("0.6")), bx(Expr::Sub(bx(k("1")), bx(c)))))
        )),
        "8800.00"
    );
    // 1 ÷ 3: 28 decimals (settled by `run`, not planned): 3,333.33…
    assert_eq!(paid(|_| Expr::Div(bx(k("1")), bx(k("3")))), "3333.33");
    // 2 ÷ 3: 6,666.66… → 6,666.67.
    assert_eq!(paid(|_| Expr::Div(bx(k("2")), bx(k("3")))), "6666.67");
    // An operand with no figure leaves the ratio as it was.
    assert_eq!(
        paid(|c| Expr::Add(
            bx(c),
            bx(ev(Value::None {
                params: vec![],
                unknown: false
            }))
        )),
        "8000.00"
    );
    let s = with_ratio_block(|c| Expr::Add(bx(c), bx(k("0.05")))).unwrap();
    let m = s
        .trace
        .iter()
        .find(|t| t.kind == StepKind::Modifier)
        .unwrap();
    assert!(m.zh.contains("调整支付比例：80% → 85%"), "{}", m.zh);
    let b = s.trace.iter().find(|t| t.kind == StepKind::Band).unwrap();
    assert_eq!(b.zh, "按比例支付：10000.00 × 85% = 8500.00");
    // A block that leaves the ratio as it was is not explained.
    let s = with_ratio_block(|c| Expr::Max(bx(c), bx(k("0.5")))).unwrap();
    assert_eq!(pay(&s, 0), "8000.00");
    assert!(!s.trace.iter().any(|t| t.kind == StepKind::Modifier));
}

#[test]
fn ratios_outside_unit_are_clamped_and_said() {
    let s = with_ratio_block(|c| Expr::Add(bx(c), bx(k("0.3")))).unwrap();
    assert_eq!(pay(&s, 0), "10000.00");
    assert_eq!(codes(&s), ["ratio_clamped"]);
    // The warning names the layer it is about.
    assert_eq!(s.warnings[0].layer.as_deref(), Some("basic"));
    assert!(
        s.warnings[0].message.contains("110%"),
        "{}",
        s.warnings[0].message
    );
    let s = with_ratio_block(|c| Expr::Sub(bx(c), bx(k("0.9")))).unwrap();
    assert_eq!(pay(&s, 0), "0.00");
    assert_eq!(codes(&s), ["ratio_clamped"]);
    let s = with_ratio_block(|c| Expr::Add(bx(c), bx(k("0.2")))).unwrap();
    assert_eq!(pay(&s, 0), "10000.00");
    assert!(codes(&s).is_empty());
    let s = with_ratio_block(|c| Expr::Sub(bx(c), bx(k("0.8")))).unwrap();
    assert!(codes(&s).is_empty());
}

#[test]
fn division_by_zero_and_overflow_are_errors_naming_the_clause() {
    let err = |f: fn(Expr) -> Expr| with_ratio_block(f).unwrap_err().to_string();
    let e = err(|c| Expr::Div(bx(c), bx(k("0"))));
    assert!(e.starts_with("division by zero evaluating `for`"), "{e}");
    let e = err(|c| Expr::Div(bx(c), bx(k("0.000"))));
    assert!(e.starts_with("division by zero"), "{e}");
    // Zero divided by something is fine.
    assert_eq!(
        pay(
            &with_ratio_block(|c| Expr::Div(bx(k("0")), bx(c))).unwrap(),
            0
        ),
        "0.00"
    );
    const MAX: &str = "79228162514264337593543950335";
    for f in [
        (|_| Expr::Add(bx(k(MAX)), bx(k(MAX)))) as fn(Expr) -> Expr,
        |_| Expr::Sub(bx(k("-79228162514264337593543950335")), bx(k(MAX))),
        |_| Expr::Mul(bx(k(MAX)), bx(k("10"))),
        |_| Expr::Div(bx(k(MAX)), bx(k("0.1"))),
    ] {
        let e = err(f);
        assert!(e.starts_with("arithmetic overflow evaluating `for`"), "{e}");
    }
}

/// A band whose table has no entry for the claim (and no default) pays nothing, and the next
/// band starts at its edge.
#[test]
fn a_band_without_a_ratio_for_the_claim() {
    let mut p = P::new();
    let mut a = layer("basic");
    let r1 = table(
        Dim::Place,
        vec![Some(p.fig("basic.r1.local", "0.9")), None],
        None,
    );
    a.bands = bands(
        false,
        vec![
            (Some(p.ph("basic.upto", "5000")), r1),
            (None, p.fig("basic.r2", "0.5")),
        ],
    );
    p.add(a);
    let policy = p.build();
    let other = with(claim("2024-05-01", "8000"), |c| {
        c.place = Some("other".into())
    });
    let (s, _) = all(&policy, &[claim("2024-05-01", "8000"), other]);
    // Local: 5,000 × 90% + 3,000 × 50% = 6,000. Other: the first band pays nothing,
    // 3,000 × 50% = 1,500; the first 5,000 is beyond the bands (above the cap for the patient).
    assert_eq!(
        (pay(&s[0], 0), pay(&s[1], 0)),
        ("6000.00".into(), "1500.00".into())
    );
    assert_eq!(
        oop(&s[1]),
        ["0.00", "1500.00", "5000.00", "0.00", "6500.00"]
    );
    // A default entry applies where the table has none.
    let mut p = P::new();
    let mut a = layer("basic");
    let r = table(
        Dim::Place,
        vec![Some(p.fig("basic.r.local", "0.9")), None],
        Some(p.fig("basic.r.else", "0.6")),
    );
    a.bands = flat(r);
    p.add(a);
    let other = with(claim("2024-05-01", "8000"), |c| {
        c.place = Some("other".into())
    });
    assert_eq!(pay(&one(&p.build(), other), 0), "4800.00");
}

/// A ratio not known for the claim: the layer is not applied, the result says so and names the
/// figure; a later layer on the scope takes it. Where an earlier layer classified the scope, the
/// unknown layer is simply not reached.
#[test]
fn an_unknown_ratio_does_not_apply_the_layer() {
    let mut p = P::new();
    let mut a = layer("basic");
    let r = table(
        Dim::Level,
        vec![
            Some(p.fig("basic.ratio.1", "0.9")),
            Some(p.none("basic.ratio.2")),
            Some(p.unknown("basic.ratio.3")),
        ],
        None,
    );
    a.bands = flat(r);
    let mut b = layer("fallback");
    b.bands = flat(p.fig("fallback.ratio", "0.5"));
    let mut c = layer("late_unknown");
    c.bands = flat(p.unknown("late_unknown.ratio"));
    p.add(a).add(b).add(c);
    let policy = p.build();
    let at = |level: &str| {
        with(claim("2024-05-01", "1000"), |c| {
            c.level = Some(level.into())
        })
    };
    let (s, st) = all(&policy, &[at("3"), at("1"), at("2")]);
    assert!(!s[0].layers[0].applied);
    assert_eq!(pay(&s[0], 1), "500.00");
    assert_eq!(codes(&s[0]), ["unverified", "unknown_ratio"]);
    assert_eq!(s[0].warnings[1].effect, Some("fund_understated"));
    assert_eq!(s[0].warnings[1].layer.as_deref(), Some("basic"));
    assert_eq!(s[0].unverified[0].path(), "basic.ratio.3");
    let na = s[0]
        .trace
        .iter()
        .find(|t| t.kind == StepKind::NotApplicable)
        .unwrap();
    assert!(na.zh.contains("支付比例未知"), "{}", na.zh);
    assert_eq!(pay(&s[1], 0), "900.00");
    assert!(!s[1].layers[1].applied && !s[1].layers[2].applied);
    assert!(codes(&s[1]).is_empty());
    // Level 2 has no ratio (`none`, not unknown): the layer applies and pays nothing; the whole
    // scope is beyond its bands.
    assert!(s[2].layers[0].applied);
    assert_eq!(pay(&s[2], 0), "0.00");
    assert_eq!(oop(&s[2]), ["0.00", "0.00", "1000.00", "0.00", "1000.00"]);
    assert!(codes(&s[2]).is_empty());
    assert_eq!(st.layer("basic").unwrap().claims, 2);
    assert_eq!(st.layer("fallback").unwrap().claims, 1);
}

/// Ratios written with different numbers of decimals in one layer, and the one rounding of the
/// layer's sum to the fen, half up.
#[test]
fn ratios_of_mixed_scale_and_rounding() {
    let run = |ratios: &[(&str, Option<&str>)], total: &str| {
        let mut p = P::new();
        let mut a = layer("basic");
        let bs = ratios
            .iter()
            .enumerate()
            .map(|(i, (r, upto))| {
                (
                    upto.map(|u| p.fig(&format!("basic.upto.{i}"), u)),
                    p.fig(&format!("basic.ratio.{i}"), r),
                )
            })
            .collect();
        a.bands = bands(false, bs);
        p.add(a);
        pay(&one(&p.build(), claim("2024-05-01", total)), 0)
    };
    // 10,000 × 90% + 10,000 × 85.5% = 9,000 + 8,550.
    assert_eq!(
        run(&[("0.9", Some("10000")), ("0.855", None)], "20000"),
        "17550.00"
    );
    assert_eq!(
        run(&[("0.855", Some("10000")), ("0.9", None)], "20000"),
        "17550.00"
    );
    assert_eq!(
        run(&[("0.80", Some("100")), ("0.9", None)], "200"),
        "170.00"
    );
    // 0.04 × 12.5% = 0.005 → 0.01; 0.03 × 12.5% = 0.00375 → 0.00; 100.04 × 12.5% = 12.505 → 12.51.
    assert_eq!(run(&[("0.125", None)], "0.04"), "0.01");
    assert_eq!(run(&[("0.125", None)], "0.03"), "0.00");
    assert_eq!(run(&[("0.125", None)], "100.04"), "12.51");
    assert_eq!(run(&[("0.125", None)], "100.03"), "12.50"); // 12.50375
                                                            // 12 decimals (planned) and 13 (settled by `run`): 1,234.56789012… → 1,234.57.
    assert_eq!(run(&[("0.123456789012", None)], "10000"), "1234.57");
    assert_eq!(run(&[("0.1234567890123", None)], "10000"), "1234.57");
    // 0.01 × 0.0000000000005 → 0.00; a scale-13 ratio in a band that rounds to the fen.
    assert_eq!(
        run(&[("0.000000000001", Some("1")), ("0.5", None)], "3"),
        "1.00"
    );
    // A product beyond 64 bits rounded half up: a 12-decimal ratio (on an empty band) puts the
    // layer's ratios over 10^12; 999,999,999,999.99 × 50% = 499,999,999,999.995 → …,000.00.
    assert_eq!(
        run(
            &[("0.000000000001", Some("0")), ("0.5", None)],
            "999999999999.99"
        ),
        "500000000000.00"
    );
    // Large amounts: 1,000,000,000,000 × 99.9999999999% = 10^12 − 1 = 999,999,999,999.
    assert_eq!(
        run(&[("0.999999999999", None)], "1000000000000"),
        "999999999999.00"
    );
}

/// A layer's conditions select on every dimension; an empty list selects everything.
#[test]
fn conditions_on_every_dimension() {
    let mut p = P::new();
    let mut a = layer("special");
    a.when = Selector {
        groups: vec![1],
        categories: vec![1],
        care: vec![1],
        levels: vec![1, 2],
        places: vec![1],
        diseases: vec![0],
        referral: Some(true),
    };
    a.bands = flat(p.fig("special.ratio", "0.5"));
    p.add(a);
    let policy = p.build();
    let full = with(claim("2024-05-01", "1000"), |c| {
        c.group = Some("retired".into());
        c.categories = vec!["destitute".into(), "min_allowance".into()];
        c.care = "outpatient".into();
        c.level = Some("3".into());
        c.place = Some("other".into());
        c.disease = Some("dialysis".into());
        c.referral = true;
    });
    let s = one(&policy, full.clone());
    assert_eq!(pay(&s, 0), "500.00");
    let names = |v: &[std::sync::Arc<str>]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let sit = &s.situation;
    assert_eq!(
        (
            &*sit.group,
            &*sit.care,
            &*sit.level,
            &*sit.place,
            sit.disease.as_deref()
        ),
        ("retired", "outpatient", "3", "other", Some("dialysis"))
    );
    assert_eq!(names(&sit.categories), ["destitute", "min_allowance"]);
    // Listed in any order and twice: the same set.
    let twice = with(full.clone(), |c| {
        c.categories = vec![
            "min_allowance".into(),
            "destitute".into(),
            "min_allowance".into(),
        ]
    });
    assert_eq!(
        names(&one(&policy, twice).situation.categories),
        ["destitute", "min_allowance"]
    );
    let off: Vec<Edit> = vec![
        Box::new(|c: &mut yibao_engine::Claim| c.group = Some("in_service".into())),
        Box::new(|c: &mut yibao_engine::Claim| c.categories = vec!["destitute".into()]),
        Box::new(|c: &mut yibao_engine::Claim| c.categories = vec![]),
        Box::new(|c: &mut yibao_engine::Claim| c.care = "inpatient".into()),
        Box::new(|c: &mut yibao_engine::Claim| c.level = Some("1".into())),
        Box::new(|c: &mut yibao_engine::Claim| c.place = Some("local".into())),
        Box::new(|c: &mut yibao_engine::Claim| c.disease = Some("cancer".into())),
        Box::new(|c: &mut yibao_engine::Claim| c.disease = None),
        Box::new(|c: &mut yibao_engine::Claim| c.referral = false),
    ];
    for f in &off {
        let c = with(full.clone(), |c| f(c));
        let s = one(&policy, c);
        assert!(!s.layers[0].applied, "{:?}", s.situation);
        assert_eq!(oop(&s)[3], "1000.00");
    }
    // Unknown names are refused with the field and the choices.
    let (r, _) = year_of(
        &policy,
        &[with(full.clone(), |c| c.categories = vec!["x".into()])],
    );
    let e = r.into_iter().next().unwrap().unwrap_err();
    assert_eq!(e.to_string(), "categories[0]: unknown category `x`");
}

/// An evaluation error leaves the year as it was: a later claim dated before the failed one is
/// still in order.
#[test]
fn an_error_leaves_the_year_as_it_was() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.8"));
    a.modifiers = vec![modifier(
        Selector {
            groups: vec![1],
            ..Selector::default()
        },
        vec![ModOp::Ratio {
            expr: Expr::Div(bx(Expr::Current), bx(k("0"))),
        }],
        &["ratio / 0"],
    )];
    p.add(a);
    let retired = with(claim("2024-06-01", "1000"), |c| {
        c.group = Some("retired".into())
    });
    let (r, st) = year_of(
        &p.build(),
        &[
            claim("2024-05-01", "1000"),
            retired,
            claim("2024-05-15", "1000"),
        ],
    );
    assert!(r[0].is_ok() && r[1].is_err());
    assert_eq!(pay(r[2].as_ref().unwrap(), 0), "800.00");
    assert_eq!(st.layer("basic").unwrap().claims, 2);
    assert_eq!(
        st.last_date.map(|d| d.to_string()),
        Some("2024-05-15".into())
    );
}
