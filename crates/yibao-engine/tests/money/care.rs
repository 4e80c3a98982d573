//! Long-term care (`settle/care.rs`), which the mutation run of 2026-12-07 found unpinned: a
//! month of care paid at its layer's ratio, the split of the rest into co-pay, above-cap and not
//! covered, the covered-cost limit per day of care, the monthly caps (the layer's own and a
//! pool's, across claims of the month and layers of the claim), the conditions (`require`), the
//! months already used, unknown caps and limits, and the checks on the month itself.

use rust_decimal::Decimal;
use yibao_engine::claim::CareMonth;
use yibao_engine::ir::*;
use yibao_engine::settlement::{Settlement, StepKind};
use yibao_engine::Money;

use crate::common::*;

/// A care layer paying `ratio` of the costs of `costs`, with no limit, condition or cap.
fn care(p: &mut P, id: &str, costs: &[CostKind], ratio: &str) -> Layer {
    let mut l = layer(id);
    l.bands = flat(p.fig(&format!("{id}.ratio"), ratio));
    l.care = Some(Box::new(CareRule {
        costs: costs.to_vec(),
        limit: None,
        requires: vec![],
        caps: vec![],
    }));
    l
}

/// `m`, under a name the closures' month (`m`) does not shadow.
fn m_(s: &str) -> Money {
    m(s)
}

fn rule(l: &mut Layer) -> &mut CareRule {
    l.care.as_mut().unwrap()
}

fn care_cap(pool: Option<&str>, value: Value) -> CareCap {
    CareCap {
        pool: pool.map(Into::into),
        value,
        cite: cite("care cap"),
    }
}

/// A month of care on `date` (30 days of care unless `f` says otherwise); the claim's total is
/// the sum of the month's costs.
fn month(date: &str, f: impl FnOnce(&mut CareMonth)) -> yibao_engine::Claim {
    let mut mo = CareMonth {
        days: Some(30),
        ..CareMonth::default()
    };
    f(&mut mo);
    let total: Decimal = mo.costs.by_kind().iter().map(|c| c.0).sum();
    let mut c = claim(date, "0");
    c.amounts.total = Money(total);
    c.month = Some(mo);
    c
}

fn err(r: &Result<Settlement, yibao_engine::SettleError>) -> String {
    r.as_ref().unwrap_err().to_string()
}

/// One layer at 70% on personal care and nursing; equipment is no layer's.
#[test]
fn a_month_is_paid_at_the_ratio_and_the_rest_split() {
    let mut p = P::new();
    let a = care(
        &mut p,
        "care",
        &[CostKind::PersonalCare, CostKind::Nursing],
        "0.7",
    );
    p.add(a);
    let policy = p.build();
    let (s, st) = all(
        &policy,
        &[
            month("2024-05-31", |m| {
                m.costs.personal_care = m_("400");
                m.costs.nursing = m_("600");
                m.costs.equipment = m_("100");
            }),
            month("2024-06-30", |m| {
                m.costs.personal_care = m_("400");
                m.costs.nursing = m_("600");
            }),
        ],
    );
    // May: the base is 400 + 600 = 1,000, paid at 70% = 700.00; co-pay 1,000 − 700 = 300;
    // the equipment's 100 is not covered; out of pocket 300 + 100 = 400; 700 + 400 = 1,100.
    let may = &s[0];
    assert_eq!(pay(may, 0), "700.00");
    assert_eq!(y(may.fund_total), "700.00");
    assert!(may.layers[0].applied);
    assert_eq!(y(may.layers[0].base), "1000.00");
    assert_eq!(oop(may), ["0.00", "300.00", "0.00", "100.00", "400.00"]);
    assert_eq!(codes(may), ["care_not_covered"]);
    assert_eq!(
        may.warnings[0].message,
        "本月的失能等级与护理方式不享受这些费用的待遇：equipment / this level and care setting carry no benefit for: equipment"
    );
    // The trace's first step names the costs of the month, the zero ones left out.
    assert_eq!(may.trace[0].kind, StepKind::Split);
    assert_eq!(
        may.trace[0].en,
        "care costs this month 1100.00: personal_care 400.00, nursing 600.00, equipment 100.00"
    );
    // June: the same without equipment: 700.00 paid, co-pay 300, nothing uncovered, no warning.
    assert_eq!(pay(&s[1], 0), "700.00");
    assert_eq!(oop(&s[1]), ["0.00", "300.00", "0.00", "0.00", "300.00"]);
    assert!(codes(&s[1]).is_empty(), "{:?}", codes(&s[1]));
    // Two months the layer paid.
    assert_eq!(st.layers[0].1.claims, 2);
}

/// 50% of personal care, counted up to 100 a day of care outside hospital, and at most 1,200 a
/// month from the fund; three months of care in May.
#[test]
fn the_covered_cost_limit_per_day_and_the_monthly_cap() {
    let mut p = P::new();
    let mut a = care(&mut p, "care", &[CostKind::PersonalCare], "0.5");
    rule(&mut a).limit = Some(Limit {
        per: LimitPer::Day,
        value: p.fig("care.limit", "100"),
        cite: cite("limit"),
    });
    rule(&mut a).caps = vec![care_cap(None, p.fig("care.cap", "1200"))];
    p.add(a);
    let policy = p.build();
    let (s, st) = all(
        &policy,
        &[
            month("2024-05-10", |m| {
                m.hospital_days = 10;
                m.costs.personal_care = m_("3000");
            }),
            month("2024-05-20", |m| m.costs.personal_care = m_("1000")),
            month("2024-05-31", |m| m.costs.personal_care = m_("500")),
        ],
    );
    // First: 30 − 10 = 20 days outside hospital: 100 × 20 = 2,000 counted of the 3,000; 50% =
    // 1,000, under the cap of 1,200. Co-pay 2,000 − 1,000 = 1,000; above the limit 3,000 − 2,000
    // = 1,000; 1,000 + 1,000 + 1,000 = 3,000.
    assert_eq!(pay(&s[0], 0), "1000.00");
    assert!(!s[0].layers[0].capped);
    assert_eq!(
        oop(&s[0]),
        ["0.00", "1000.00", "1000.00", "0.00", "2000.00"]
    );
    assert_eq!(codes(&s[0]), ["care_in_hospital"]);
    // Second: 100 × 30 = 3,000 ≥ 1,000: all 1,000 counted; 50% = 500; the cap has 1,200 − 1,000
    // = 200 left this month: 200.00 paid. Co-pay 1,000 − 500 = 500; above the cap 500 − 200 =
    // 300; 200 + 500 + 300 = 1,000.
    assert_eq!(pay(&s[1], 0), "200.00");
    assert!(s[1].layers[0].capped);
    assert_eq!(s[1].layers[0].cap_remaining, Some(m_("200")));
    assert_eq!(oop(&s[1]), ["0.00", "500.00", "300.00", "0.00", "800.00"]);
    assert!(codes(&s[1]).is_empty(), "{:?}", codes(&s[1]));
    // Third: 50% of 500 = 250, nothing left of the cap: 0 paid; co-pay 250, above the cap 250.
    assert_eq!(pay(&s[2], 0), "0.00");
    assert_eq!(oop(&s[2]), ["0.00", "250.00", "250.00", "0.00", "500.00"]);
    // A month the layer paid nothing in is not a month used: two, and 1,000 + 200 paid in May.
    assert_eq!(st.layers[0].1.claims, 2);
    assert_eq!(st.layers[0].1.month, Some(5));
    assert_eq!(st.layers[0].1.month_paid, m_("1200"));
}

/// Home care with its own cap of 900 a month and a shared one of 1,000 (pool `ltc`); nursing
/// under the shared one only; both at 100%.
#[test]
fn a_pool_cap_counts_earlier_claims_and_earlier_layers() {
    let mut p = P::new();
    let mut a = care(&mut p, "home", &[CostKind::PersonalCare], "1");
    rule(&mut a).caps = vec![
        care_cap(None, p.fig("home.cap", "900")),
        care_cap(Some("ltc"), p.fig("ltc.cap", "1000")),
    ];
    let mut b = care(&mut p, "nurse", &[CostKind::Nursing], "1");
    rule(&mut b).caps = vec![care_cap(Some("ltc"), p.fig("ltc.cap2", "1000"))];
    p.add(a).add(b);
    let policy = p.build();
    let (s, st) = all(
        &policy,
        &[
            month("2024-06-10", |m| {
                m.costs.personal_care = m_("600");
                m.costs.nursing = m_("300");
            }),
            month("2024-06-20", |m| {
                m.costs.personal_care = m_("500");
                m.costs.nursing = m_("500");
            }),
        ],
    );
    // First: home pays 600 (its own cap leaves 900, the pool 1,000); nursing's pool has
    // 1,000 − 600 (home, this claim) = 400 left: it pays all 300.
    assert_eq!([pay(&s[0], 0), pay(&s[0], 1)], ["600.00", "300.00"]);
    // Second: home's own cap leaves 900 − 600 = 300, the pool 1,000 − (600 + 300) = 100: the
    // tighter, 100, is paid. Nursing's pool: 1,000 − (900 in the month before + 100 this claim)
    // = 0: nothing. Above the caps (500 − 100) + (500 − 0) = 900.
    assert_eq!([pay(&s[1], 0), pay(&s[1], 1)], ["100.00", "0.00"]);
    assert_eq!(s[1].layers[0].cap_remaining, Some(m_("100")));
    assert_eq!(oop(&s[1]), ["0.00", "0.00", "900.00", "0.00", "900.00"]);
    assert_eq!(st.layers[0].1.month_paid, m_("700"));
    assert_eq!(st.layers[1].1.month_paid, m_("300"));
}

/// Two caps that leave the same amount: the first is the one said; the second is not (the
/// trace names one cap).
#[test]
fn of_equal_care_caps_the_first_is_said() {
    let mut p = P::new();
    let mut a = care(&mut p, "home", &[CostKind::PersonalCare], "1");
    rule(&mut a).caps = vec![
        care_cap(None, p.fig("home.cap", "500")),
        care_cap(Some("ltc"), p.fig("ltc.cap", "500")),
    ];
    p.add(a);
    let s = one(
        &p.build(),
        month("2024-06-10", |m| m.costs.personal_care = m_("800")),
    );
    // 800 at 100%, held to 500; above the cap 300.
    assert_eq!(pay(&s, 0), "500.00");
    assert_eq!(oop(&s), ["0.00", "0.00", "300.00", "0.00", "300.00"]);
    let caps: Vec<&str> = s
        .trace
        .iter()
        .filter(|t| t.kind == StepKind::Cap)
        .map(|t| &*t.en)
        .collect();
    assert_eq!(
        caps,
        ["the fund pays at most 500.00 a month; left this month: 500.00"]
    );
}

/// `require age >= 60`: met, the layer pays; unmet, it pays nothing, all its base is not covered
/// and a warning on the layer says why.
#[test]
fn an_unmet_condition_pays_nothing_and_says_why() {
    let mut p = P::new();
    let mut a = care(&mut p, "care", &[CostKind::PersonalCare], "0.5");
    rule(&mut a).requires = vec![Require {
        fact: CareFact::Age,
        op: CmpOp::Ge,
        value: p.fig("care.age", "60"),
        cite: cite("require"),
    }];
    p.add(a);
    let policy = p.build();
    let (s, _) = all(
        &policy,
        &[
            month("2024-05-31", |m| {
                m.age = Some(70);
                m.costs.personal_care = m_("1000");
            }),
            month("2024-06-30", |m| {
                m.age = Some(50);
                m.costs.personal_care = m_("1000");
            }),
        ],
    );
    // 70 ≥ 60: 1,000 × 50% = 500.
    assert_eq!(pay(&s[0], 0), "500.00");
    assert!(codes(&s[0]).is_empty(), "{:?}", codes(&s[0]));
    // 50 < 60: nothing paid, the 1,000 not covered.
    let june = &s[1];
    assert_eq!(pay(june, 0), "0.00");
    assert_eq!(oop(june), ["0.00", "0.00", "0.00", "1000.00", "1000.00"]);
    assert_eq!(codes(june), ["care_condition_unmet"]);
    let w = &june.warnings[0];
    assert_eq!(w.layer.as_deref(), Some("care"));
    assert_eq!(
        w.message,
        "care层：本月 age = 50，不满足 age >= 60，本层不予支付 / care layer: this month's age is 50, not >= 60; the layer pays nothing"
    );
}

/// `require months_used <= 2`: the months the claim says were used before the year's state,
/// plus the months the layer paid this year.
#[test]
fn months_used_adds_the_months_paid_this_year() {
    let mut p = P::new();
    let mut a = care(&mut p, "care", &[CostKind::PersonalCare], "0.5");
    rule(&mut a).requires = vec![Require {
        fact: CareFact::MonthsUsed,
        op: CmpOp::Le,
        value: p.fig("care.months", "2"),
        cite: cite("require"),
    }];
    p.add(a);
    let policy = p.build();
    let used2 = |date: &str| {
        month(date, |m| {
            m.months_used = 2;
            m.costs.personal_care = m_("1000");
        })
    };
    let (s, _) = all(&policy, &[used2("2024-01-31"), used2("2024-02-29")]);
    // January: 2 + 0 paid this year = 2 ≤ 2: 500 paid. February: 2 + 1 = 3 > 2: nothing.
    assert_eq!(pay(&s[0], 0), "500.00");
    assert_eq!(pay(&s[1], 0), "0.00");
    assert_eq!(codes(&s[1]), ["care_condition_unmet"]);
}

/// An unknown cap or covered-cost limit is taken as none, and said when the layer pays.
#[test]
fn an_unknown_care_cap_or_limit_is_said() {
    for limit in [false, true] {
        let mut p = P::new();
        let mut a = care(&mut p, "care", &[CostKind::PersonalCare], "0.5");
        if limit {
            rule(&mut a).limit = Some(Limit {
                per: LimitPer::Month,
                value: p.unknown("care.limit"),
                cite: cite("limit"),
            });
        } else {
            rule(&mut a).caps = vec![care_cap(None, p.unknown("care.cap"))];
        }
        p.add(a);
        let s = one(
            &p.build(),
            month("2024-05-31", |m| m.costs.personal_care = m_("1000")),
        );
        // No limit, no cap: 1,000 × 50% = 500.
        assert_eq!(pay(&s, 0), "500.00");
        assert!(
            codes(&s).contains(&"unknown_cap"),
            "{limit}: {:?}",
            codes(&s)
        );
    }
}

/// The month's checks: at most 31 days of care, hospital days within them (or within 31 when
/// the days are not given), and the total the sum of the costs.
#[test]
fn the_month_is_checked() {
    let mut p = P::new();
    let a = care(&mut p, "care", &[CostKind::PersonalCare], "0.5");
    p.add(a);
    let policy = p.build();
    let cost = |m: &mut CareMonth| m.costs.personal_care = m_("100");
    let (r, _) = year_of(
        &policy,
        &[
            month("2024-05-01", |m| {
                cost(m);
                m.days = Some(31);
            }),
            month("2024-05-02", |m| {
                cost(m);
                m.days = Some(32);
            }),
            month("2024-05-03", |m| {
                cost(m);
                m.days = Some(10);
                m.hospital_days = 10;
            }),
            month("2024-05-04", |m| {
                cost(m);
                m.days = Some(10);
                m.hospital_days = 11;
            }),
            month("2024-05-05", |m| {
                cost(m);
                m.days = None;
                m.hospital_days = 31;
            }),
            month("2024-05-06", |m| {
                cost(m);
                m.days = None;
                m.hospital_days = 32;
            }),
            month("2024-05-07", |m| {
                cost(m);
                m.days = None;
                m.hospital_days = 5;
            }),
            with(month("2024-05-08", cost), |c| {
                c.amounts.total = m_("100.01")
            }),
        ],
    );
    // Settled (each pays 100 × 50% = 50): 31 days; 10 of 10 in hospital; 31 or 5 in hospital
    // with the days not given.
    for i in [0, 2, 4, 6] {
        assert_eq!(pay(r[i].as_ref().unwrap(), 0), "50.00", "claim {i}");
    }
    assert!(
        err(&r[1]).starts_with("month.days: 32 days"),
        "{}",
        err(&r[1])
    );
    assert!(
        err(&r[3]).starts_with("month.hospital_days: 11 days"),
        "{}",
        err(&r[3])
    );
    assert!(
        err(&r[5]).starts_with("month.hospital_days: more than 31"),
        "{}",
        err(&r[5])
    );
    assert!(
        err(&r[7]).starts_with("amounts.total: the total 100.01"),
        "{}",
        err(&r[7])
    );
}
