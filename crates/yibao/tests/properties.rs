#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! Invariants of `settle` over random claims and random years of claims.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use rust_decimal::Decimal;
use yibao::engine::ir::Component;
use yibao::engine::{settle, settle_in_place, settle_outcome, Amounts, SettleOptions, Settler};
use yibao::{Claim, Date, Money, Policy, Registry, YtdState};

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = yibao::policies::bundled_files();
        // The fixtures (every construct; the settlement rules; unknown figures) and the
        // benchmark policy (year_covered bands, a payment under two caps).
        for dir in [
            "tests/vectors/fixture",
            "tests/vectors/semantics",
            "bench/policies",
        ] {
            let mut names: Vec<_> = std::fs::read_dir(root.join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "policy"))
                .collect();
            names.sort();
            for f in names {
                files.push((
                    f.display().to_string(),
                    std::fs::read_to_string(&f).unwrap(),
                ));
            }
        }
        let r = Registry::from_files(files);
        assert!(!r.has_errors(), "{:?}", r.diagnostics);
        r
    })
}

fn policies() -> Vec<Arc<Policy>> {
    let d = Date::new(2024, 6, 1).unwrap();
    vec![
        registry().policy("fixture.employee", d).unwrap(),
        registry().policy("tianjin.resident", d).unwrap(),
    ]
}

/// Every version of every policy: the bundled ones and the fixture.
fn all_versions() -> Vec<Arc<Policy>> {
    registry()
        .versions()
        .iter()
        .filter_map(|v| v.policy.clone())
        .collect()
}

fn cents(max: i64) -> impl Strategy<Value = Decimal> {
    prop_oneof![
        4 => (0..=max).prop_map(|c| Decimal::new(c, 2)),
        1 => (0..=max / 100).prop_map(|y| Decimal::from(y) * Decimal::ONE_HUNDRED),
    ]
}

/// A claim shape: indices into the policy's declarations, resolved per policy.
#[derive(Debug, Clone)]
struct Shape {
    care: usize,
    level: usize,
    group: usize,
    place: usize,
    cats: Vec<usize>,
    disease: bool,
    case: bool,
    referral: bool,
    total: Decimal,
    parts: [u8; 3],
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        (0usize..8, 0usize..3, 0usize..3, 0usize..3),
        proptest::collection::vec(0usize..6, 0..3),
        (any::<bool>(), prop::bool::weighted(0.15), any::<bool>()),
        cents(60_000_000),
        [0u8..50, 0u8..25, 0u8..20],
    )
        .prop_map(
            |((care, level, group, place), cats, (disease, case, referral), total, parts)| Shape {
                care,
                level,
                group,
                place,
                cats,
                disease,
                case,
                referral,
                total,
                parts,
            },
        )
}

fn claim_for(p: &Policy, s: &Shape, date: Date) -> Claim {
    let pick = |v: &[yibao::engine::ir::DimValue], i: usize| {
        v.get(i % v.len().max(1)).map(|x| x.id.to_string())
    };
    let d = &p.dims;
    let pct = |n: u8| {
        (s.total * Decimal::from(n) / Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero)
    };
    let out_of_list = pct(s.parts[0]);
    let pre = pct(s.parts[1]);
    let over = pct(s.parts[2]);
    let mut c = Claim::simple(date, &pick(&d.care, s.care).unwrap(), Money(s.total));
    c.level = pick(&d.levels, s.level);
    c.group = pick(&d.groups, s.group);
    c.place = pick(&d.places, s.place);
    c.categories = if d.categories.is_empty() {
        vec![]
    } else {
        s.cats
            .iter()
            .filter_map(|i| pick(&d.categories, *i))
            .collect()
    };
    c.disease = if s.disease {
        pick(&d.diseases, 0)
    } else {
        None
    };
    c.case_code = if s.case {
        p.cases.first().map(|x| x.code.clone())
    } else {
        None
    };
    c.referral = s.referral;
    c.amounts = Amounts {
        total: Money(s.total),
        out_of_list: Money(out_of_list),
        pre_self_pay: Money(pre),
        over_limit: Money(over),
        special_drugs: Money::ZERO,
    };
    c
}

fn check_one(s: &yibao::Settlement, total: Decimal) -> Result<(), TestCaseError> {
    let pay: Decimal = s.layers.iter().map(|l| l.payment.0).sum();
    let o = &s.out_of_pocket;
    prop_assert_eq!(pay + o.total.0, total, "conservation");
    prop_assert_eq!(pay, s.fund_total.0);
    let parts = [
        o.out_of_list,
        o.pre_self_pay,
        o.over_limit,
        o.deductible,
        o.co_pay,
        o.above_cap,
        o.not_covered,
    ];
    prop_assert_eq!(
        parts.iter().map(|m| m.0).sum::<Decimal>(),
        o.total.0,
        "split adds up"
    );
    for m in parts {
        prop_assert!(m.0 >= Decimal::ZERO, "negative part {:?}", o);
        prop_assert!(m.0.normalize().scale() <= 2);
    }
    for l in &s.layers {
        prop_assert!(l.payment.0 >= Decimal::ZERO);
        prop_assert!(
            l.payment.0 <= l.base.0,
            "layer {} pays {} above its base {}",
            l.id,
            l.payment,
            l.base
        );
        prop_assert!(l.payment.0.normalize().scale() <= 2);
        if let Some(c) = l.cap_remaining {
            prop_assert!(l.payment.0 <= c.0);
        }
    }
    prop_assert_eq!(
        s.platform.fund_pay_sumamt.0 + s.platform.psn_part_amt.0,
        total
    );
    Ok(())
}

/// One settler across a person's year gives what the interpreter gives, claim by claim.
fn planned_equals_interpreted(
    p: &Arc<Policy>,
    person: &Shape,
    shapes: &[Shape],
) -> Result<(), TestCaseError> {
    let mut settler = Settler::new(p.clone());
    let (mut a_state, mut b_state) = (YtdState::default(), YtdState::default());
    for (i, sh) in shapes.iter().enumerate() {
        let sh = Shape {
            group: person.group,
            cats: person.cats.clone(),
            ..sh.clone()
        };
        let date = Date::new(2024, 1 + (i as u8), 1).unwrap();
        let c = claim_for(p, &sh, date);
        let a = settle_outcome(p, &c, &mut a_state);
        let b = settler.settle_outcome(&c, &mut b_state);
        match (a, b) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
            (a, b) => prop_assert!(false, "interpreter {:?} vs plan {:?}", a, b),
        }
        prop_assert_eq!(&a_state, &b_state);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn one_claim_conserves_money_and_is_deterministic(sh in shape()) {
        for p in policies() {
            let c = claim_for(&p, &sh, Date::new(2024, 6, 1).unwrap());
            let opts = SettleOptions { trace: true };
            let (s, _) = settle(&p, &c, &YtdState::default(), &opts).unwrap();
            check_one(&s, sh.total)?;
            let (again, _) = settle(&p, &c, &YtdState::default(), &opts).unwrap();
            prop_assert_eq!(serde_json::to_string(&s).unwrap(), serde_json::to_string(&again).unwrap());
            // The trace changes nothing but the trace.
            let (brief, _) = settle(&p, &c, &YtdState::default(), &SettleOptions { trace: false }).unwrap();
            prop_assert_eq!(&brief.layers, &s.layers);
            prop_assert_eq!(&brief.out_of_pocket, &s.out_of_pocket);
        }
    }

    #[test]
    fn a_larger_bill_never_lowers_out_of_pocket(sh in shape(), extra in cents(5_000_000)) {
        for p in policies() {
            let date = Date::new(2024, 6, 1).unwrap();
            let c = claim_for(&p, &sh, date);
            let mut bigger = c.clone();
            bigger.amounts.total = Money(c.amounts.total.0 + extra);
            let (a, _) = settle(&p, &c, &YtdState::default(), &SettleOptions::default()).unwrap();
            let (b, _) = settle(&p, &bigger, &YtdState::default(), &SettleOptions::default()).unwrap();
            prop_assert!(b.out_of_pocket.total >= a.out_of_pocket.total,
                "bill +{} lowered out-of-pocket {} → {}", extra, a.out_of_pocket.total, b.out_of_pocket.total);
        }
    }

    #[test]
    fn a_year_never_exceeds_caps(person in shape(), shapes in proptest::collection::vec(shape(), 1..12)) {
        let p = registry().policy("fixture.employee", Date::new(2024, 1, 1).unwrap()).unwrap();
        let mut state = YtdState::default();
        let (mut pool, mut large, mut si, mut aid, mut commercial) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        for (i, sh) in shapes.iter().enumerate() {
            // One person: the same group and categories all year.
            let sh = Shape { group: person.group, cats: person.cats.clone(), ..sh.clone() };
            let date = Date::new(2024, 1 + (i as u8), 1).unwrap();
            let c = claim_for(&p, &sh, date);
            let s = settle_in_place(&p, &c, &mut state, &SettleOptions::default()).unwrap();
            check_one(&s, sh.total)?;
            let pay = |id: &str| s.layers.iter().find(|l| &*l.id == id).unwrap().payment.0;
            pool += pay("per_case") + pay("basic") + pay("special");
            large += pay("large");
            si += pay("serious_illness");
            aid += pay("medical_aid");
            commercial += pay("commercial");
            prop_assert!(pay("basic") <= Decimal::from(45_000));
        }
        prop_assert!(pool <= Decimal::from(50_000), "shared pool paid {}", pool);
        prop_assert!(large <= Decimal::from(200_000));
        prop_assert!(aid <= Decimal::from(30_000));
        let tilted = person.cats.iter().any(|c| c % 3 < 2); // destitute or min_allowance: no cap
        if !tilted {
            prop_assert!(si <= Decimal::from(100_000));
        }
        prop_assert_eq!(state.pool_paid("basic_pool"), pool);
        prop_assert!(commercial >= Decimal::ZERO);
    }

    /// A settler's plans (figures evaluated once per situation, integer arithmetic) give exactly
    /// what the interpreter gives — payments, split, flagged figures, warnings, errors and the
    /// next state — over every version of every policy, with one settler across a year whose
    /// claims change care type, level and place.
    #[test]
    fn planned_settlement_equals_the_interpreter(pi in any::<prop::sample::Index>(), person in shape(), shapes in proptest::collection::vec(shape(), 1..10)) {
        let ps = all_versions();
        planned_equals_interpreted(&ps[pi.index(ps.len())], &person, &shapes)?;
    }

    /// The same, under every policy with a figure that depends on the referral (`for referred`),
    /// whose claims there are few of above: the referral is part of the plan's situation.
    #[test]
    fn planned_settlement_equals_the_interpreter_where_the_referral_matters(pi in any::<prop::sample::Index>(), person in shape(), shapes in proptest::collection::vec(shape(), 1..10)) {
        let ps: Vec<_> = all_versions().into_iter().filter(|p| p.depends_on_referral()).collect();
        prop_assert!(!ps.is_empty());
        planned_equals_interpreted(&ps[pi.index(ps.len())], &person, &shapes)?;
    }

    /// A person's categories are a set: the order a claim lists them in never changes a result,
    /// under any version of any policy.
    #[test]
    fn permuting_categories_never_changes_a_result(pi in any::<prop::sample::Index>(), sh in shape(), rot in 1usize..3) {
        let ps = all_versions();
        let p = &ps[pi.index(ps.len())];
        let c = claim_for(p, &sh, Date::new(2024, 6, 1).unwrap());
        let mut permuted = c.clone();
        permuted.categories.reverse();
        let n = permuted.categories.len().max(1);
        permuted.categories.rotate_left(rot % n);
        let a = settle(p, &c, &YtdState::default(), &SettleOptions { trace: true });
        let b = settle(p, &permuted, &YtdState::default(), &SettleOptions { trace: true });
        match (a, b) {
            (Ok((a, sa)), Ok((b, sb))) => {
                // The situation echoes the categories in declaration order either way.
                prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
                prop_assert_eq!(sa, sb);
            }
            (Err(_), Err(_)) => {}
            (a, b) => prop_assert!(false, "{:?} vs {:?}", a.is_ok(), b.is_ok()),
        }
    }

    /// The numbers-only path (batch) is the same evaluation: over a year of claims under every
    /// bundled policy it gives the same payments, split and next state as the full settlement.
    #[test]
    fn the_numbers_only_path_matches_the_full_settlement(pi in any::<prop::sample::Index>(), person in shape(), shapes in proptest::collection::vec(shape(), 1..8)) {
        let ps = policies();
        let p = &ps[pi.index(ps.len())];
        let (mut full_state, mut lean_state) = (YtdState::default(), YtdState::default());
        for (i, sh) in shapes.iter().enumerate() {
            let sh = Shape { group: person.group, cats: person.cats.clone(), ..sh.clone() };
            let date = Date::new(2024, 1 + (i as u8), 1).unwrap();
            let c = claim_for(p, &sh, date);
            let full = settle_in_place(p, &c, &mut full_state, &SettleOptions::default());
            let lean = settle_outcome(p, &c, &mut lean_state);
            match (full, lean) {
                (Ok(s), Ok(o)) => {
                    prop_assert_eq!(o.layer_count(), s.layers.len());
                    for (li, l) in s.layers.iter().enumerate() {
                        prop_assert_eq!(o.payment(li), l.payment);
                        prop_assert_eq!(o.applied(li), l.applied);
                    }
                    prop_assert_eq!(o.fund_total(), s.fund_total);
                    prop_assert_eq!(o.in_scope(), s.amounts.in_scope);
                    prop_assert_eq!(o.out_of_pocket(), s.out_of_pocket.total);
                    prop_assert_eq!(o.out_of_pocket_part(Component::CoPay), s.out_of_pocket.co_pay);
                    prop_assert_eq!(o.out_of_pocket_part(Component::Deductible), s.out_of_pocket.deductible);
                    prop_assert_eq!(o.out_of_pocket_part(Component::AboveCap), s.out_of_pocket.above_cap);
                    prop_assert_eq!(o.relies_on_flagged(), !s.unverified.is_empty() || !s.overrides.is_empty());
                }
                (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                (a, b) => prop_assert!(false, "full {:?} vs lean {:?}", a.is_ok(), b.is_ok()),
            }
            prop_assert_eq!(&full_state, &lean_state);
        }
    }
}
