//! The year so far: bands on the year's base and on its covered amount, what the state keeps,
//! a new year, claims out of date order.

use yibao_engine::ir::*;
use yibao_engine::state::LayerYtd;
use yibao_engine::YtdState;

use crate::common::*;

/// A 大病 layer on what the basic layer left, with a deductible per year and bands relative to
/// it, placed on the year's accumulated base.
#[test]
fn bands_on_the_year() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.5"));
    let mut b = layer("serious");
    b.kind = LayerKind::SeriousIllness;
    b.platform_field = "hifmi_pay".into();
    b.base = remaining(&[Component::CoPay]);
    b.measure = Measure::Year;
    b.deductible = ded(DeductiblePer::Year, p.fig("serious.deductible", "10000"));
    b.bands = bands(
        true,
        vec![
            (
                Some(p.fig("serious.band1", "40000")),
                p.fig("serious.r1", "0.6"),
            ),
            (None, p.fig("serious.r2", "0.7")),
        ],
    );
    p.add(a).add(b);
    let (s, st) = all(
        &p.build(),
        &[claim("2024-02-01", "30000"), claim("2024-06-01", "80000")],
    );
    // Claim 1: basic 15,000; serious base 15,000, deductible 10,000, 10,000–15,000 in the
    // first band (up to 10,000 + 40,000): 5,000 × 60% = 3,000. Patient 15,000 − 3,000 = 12,000.
    assert_eq!(
        (pay(&s[0], 0), pay(&s[0], 1)),
        ("15000.00".into(), "3000.00".into())
    );
    assert_eq!(oop(&s[0]), ["0.00", "12000.00", "0.00", "0.00", "12000.00"]);
    // Claim 2: basic 40,000; serious base 40,000 at 15,000–55,000 of the year, no deductible
    // left: 35,000 × 60% = 21,000 and 5,000 × 70% = 3,500 → 24,500.
    assert_eq!(
        (pay(&s[1], 0), pay(&s[1], 1)),
        ("40000.00".into(), "24500.00".into())
    );
    let l = &s[1].layers[1].bands;
    assert_eq!(l.len(), 2);
    assert_eq!(
        (y(l[0].from), l[0].to.map(y), y(l[0].amount)),
        ("0.00".into(), Some("50000.00".into()), "35000.00".into())
    );
    assert_eq!(l[0].ratio, d("0.6"));
    assert_eq!(
        (y(l[1].from), l[1].to, y(l[1].amount)),
        ("50000.00".into(), None, "5000.00".into())
    );
    assert_eq!(l[1].product, d("3500.0"));
    assert_eq!(y(s[1].platform.hifmi_pay), "24500.00");
    let ser = st.layer("serious").unwrap();
    assert_eq!(
        (ser.claims, y(ser.base), y(ser.deductible_paid), y(ser.paid)),
        (2, "55000.00".into(), "10000.00".into(), "27500.00".into())
    );
    // The basic layer classified: its deductible part is zero, so nothing was charged as such.
    assert_eq!(y(s[1].platform.act_pay_dedc), "0.00");
}

/// Bands on the year's covered amount: each admission's deductible is not counted.
#[test]
fn bands_on_the_year_covered_amount() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.deductible = ded(DeductiblePer::Admission, p.fig("basic.deductible", "1000"));
    a.measure = Measure::YearCovered;
    a.bands = bands(
        false,
        vec![
            (
                Some(p.fig("basic.band1", "10000")),
                p.fig("basic.r1", "0.8"),
            ),
            (None, p.fig("basic.r2", "0.9")),
        ],
    );
    p.add(a);
    let policy = p.build();
    let (s, st) = all(
        &policy,
        &[claim("2024-02-01", "6000"), claim("2024-06-01", "12000")],
    );
    // Claim 1: 5,000 covered at 80% = 4,000. Claim 2: covered so far 6,000 − 1,000 = 5,000;
    // 11,000 more: 5,000–10,000 at 80% = 4,000, 10,000–16,000 at 90% = 5,400 → 9,400.
    assert_eq!(
        (pay(&s[0], 0), pay(&s[1], 0)),
        ("4000.00".into(), "9400.00".into())
    );
    let l = st.layer("basic").unwrap();
    assert_eq!(
        (y(l.base), y(l.deductible_paid)),
        ("18000.00".into(), "2000.00".into())
    );

    // A state given with more deductible than base counts nothing covered.
    let mut start = YtdState::for_policy(&policy);
    start.layers[0].1 = LayerYtd {
        claims: 1,
        base: m("500"),
        deductible_paid: m("900"),
        ..LayerYtd::default()
    };
    let (r, _) = year_from(&policy, &[claim("2024-06-01", "12000")], start);
    // 11,000 covered from 0: 10,000 × 80% + 1,000 × 90% = 8,900.
    assert_eq!(pay(r[0].as_ref().unwrap(), 0), "8900.00");
}

/// The state a year of claims leaves, a state given back, a new year, date order.
#[test]
fn the_state_of_the_year() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.deductible = ded(DeductiblePer::Year, p.fig("basic.deductible", "1000"));
    a.bands = flat(p.fig("basic.ratio", "0.5"));
    p.add(a);
    let policy = p.build();
    let mut start = YtdState::for_policy(&policy);
    start.layers[0].1 = LayerYtd {
        claims: 3,
        base: m("700"),
        deductible_paid: m("700"),
        paid: m("0"),
        ..LayerYtd::default()
    };
    start.year = Some(2024);
    let (r, st) = year_from(&policy, &[claim("2024-06-01", "2000")], start.clone());
    // 300 of the deductible left: (2,000 − 300) × 50% = 850.
    assert_eq!(pay(r[0].as_ref().unwrap(), 0), "850.00");
    let l = st.layer("basic").unwrap();
    assert_eq!(
        (l.claims, y(l.base), y(l.deductible_paid), y(l.paid)),
        (4, "2700.00".into(), "1000.00".into(), "850.00".into())
    );
    assert_eq!(
        st.last_date.map(|d| d.to_string()),
        Some("2024-06-01".into())
    );
    // The same state in 2025: a new year starts afresh.
    let (r, st) = year_from(&policy, &[claim("2025-01-02", "2000")], start.clone());
    assert_eq!(pay(r[0].as_ref().unwrap(), 0), "500.00");
    assert_eq!(st.layer("basic").unwrap().claims, 1);
    // Out of date order: refused with the path, the state keeps its last date.
    let (r, st) = year_of(
        &policy,
        &[claim("2024-06-01", "2000"), claim("2024-05-01", "2000")],
    );
    let e = r[1].as_ref().unwrap_err();
    assert!(
        e.to_string()
            .starts_with("date: claims must be settled in date order"),
        "{e}"
    );
    assert_eq!(
        st.last_date.map(|d| d.to_string()),
        Some("2024-06-01".into())
    );
    assert_eq!(st.layer("basic").unwrap().claims, 1);
    // A state that grew beyond what yibao settles is refused, naming the field.
    let mut big = YtdState::for_policy(&policy);
    big.layers[0].1.base = yibao_engine::Money(d("100000000000000.01"));
    let (r, _) = year_from(&policy, &[claim("2024-06-01", "2000")], big);
    let e = r[0].as_ref().unwrap_err().to_string();
    assert!(e.starts_with("state.layers.basic.base:"), "{e}");
    let mut edge = YtdState::for_policy(&policy);
    edge.layers[0].1.base = yibao_engine::Money(d("100000000000000"));
    let (r, _) = year_from(&policy, &[claim("2024-06-01", "2000")], edge);
    assert!(r[0].is_ok());
    // A state naming a layer the policy lacks.
    let mut foreign = YtdState::default();
    foreign.layers.push(("nope".into(), LayerYtd::default()));
    let (r, _) = year_from(&policy, &[claim("2024-06-01", "2000")], foreign);
    assert!(r[0]
        .as_ref()
        .unwrap_err()
        .to_string()
        .starts_with("state.layers.nope"));
}
