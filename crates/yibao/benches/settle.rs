#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! `settle` against a hand-written rust_decimal function for the same three-layer policy, and
//! parse + check + compile of every bundled policy.
//!
//! Run: `cargo bench -p yibao --bench settle`. After criterion's groups, a paired run times the
//! planned path and the yardstick in alternating rounds and prints their ratio: on a shared
//! machine, load that comes and goes hits both sides of a pair alike, where criterion's
//! separate windows can each catch a different load.

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, Criterion};
use rust_decimal::{Decimal, RoundingStrategy};
use yibao::engine::{settle_in_place, settle_outcome, SettleOptions, Settler};
use yibao::{Claim, Date, Registry, YtdState};

/// Tianjin residents, 2014 version, for a 低保 member: basic 70% + 5 points (no deductible, no
/// cap: both `none` placeholders), 大病 over the year's burden (threshold 20,000; 50/60/70% to
/// 100,000/200,000/300,000), then aid 70% of what is left (no deductible, no cap).
#[derive(Default, Clone, Copy)]
struct HandState {
    si_base: Decimal,
    si_ded: Decimal,
}

struct HandOut {
    basic: Decimal,
    si: Decimal,
    aid: Decimal,
    oop: Decimal,
}

fn round(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn hand(total: Decimal, out_of_list: Decimal, st: &mut HandState) -> HandOut {
    let in_scope = total - out_of_list;
    let basic = round(in_scope * Decimal::new(75, 2));
    let burden = in_scope - basic;
    // 大病: threshold 20,000 over the year's burden.
    let threshold = Decimal::from(20_000);
    let ded = (threshold - st.si_ded).max(Decimal::ZERO).min(burden);
    let start = st.si_base + ded;
    let end = st.si_base + burden;
    let bands = [
        (Decimal::from(100_000), Decimal::new(50, 2)),
        (Decimal::from(200_000), Decimal::new(60, 2)),
        (Decimal::from(300_000), Decimal::new(70, 2)),
    ];
    let mut lo = Decimal::ZERO;
    let mut raw = Decimal::ZERO;
    for (hi, r) in bands {
        let a = lo.max(start);
        let b = hi.min(end);
        if b > a {
            raw += (b - a) * r;
        }
        lo = hi;
    }
    let si = round(raw);
    st.si_base += burden;
    st.si_ded += ded;
    let left = burden - si;
    let aid = round(left * Decimal::new(70, 2));
    HandOut {
        basic,
        si,
        aid,
        oop: total - basic - si - aid,
    }
}

/// The yardstick over a year of claims.
fn hand_year(year: &[Claim]) {
    let mut hs = HandState::default();
    for c in year {
        black_box(hand(
            black_box(c.amounts.total.0),
            c.amounts.out_of_list.0,
            &mut hs,
        ));
    }
}

/// The planned evaluator over a year of claims.
fn planned_year(settler: &mut Settler, year: &[Claim]) {
    let mut st = YtdState::default();
    for c in year {
        black_box(settler.settle_outcome(black_box(c), &mut st).unwrap());
    }
}

fn claims() -> Vec<Claim> {
    // A year of admissions with varied amounts (deterministic).
    let mut out = vec![];
    let mut x: u64 = 12345;
    for m in 1..=12u8 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let total = Decimal::new(((x >> 33) % 40_000_000) as i64 + 100_000, 2);
        let ool = (total * Decimal::new(5, 2)).round_dp(2);
        let c: Claim = serde_json::from_str(&format!(
            r#"{{"date":"2015-{m:02}-10","care":"inpatient","level":"3","categories":["min_allowance"],"amounts":{{"total":"{total}","out_of_list":"{ool}"}}}}"#
        ))
        .unwrap();
        out.push(c);
    }
    out
}

fn bench(c: &mut Criterion) {
    let reg = Registry::bundled();
    let policy = reg
        // The 2014-07-01 version, which the yardstick implements (later versions changed 大病
        // and aid: issue 14's figures).
        .policy("tianjin.resident", Date::new(2015, 1, 1).unwrap())
        .unwrap();
    let year = claims();

    // The yardstick must compute the same numbers.
    let mut st = YtdState::default();
    let mut hs = HandState::default();
    let mut st2 = YtdState::default();
    for c in &year {
        let s = settle_in_place(&policy, c, &mut st, &SettleOptions::default()).unwrap();
        let h = hand(c.amounts.total.0, c.amounts.out_of_list.0, &mut hs);
        let o = settle_outcome(&policy, c, &mut st2).unwrap();
        assert_eq!(
            (
                o.payment(0).0,
                o.payment(1).0,
                o.payment(2).0,
                o.out_of_pocket().0
            ),
            (h.basic, h.si, h.aid, h.oop)
        );
        assert_eq!(
            (
                s.layers[0].payment.0,
                s.layers[1].payment.0,
                s.layers[2].payment.0,
                s.out_of_pocket.total.0
            ),
            (h.basic, h.si, h.aid, h.oop)
        );
    }

    let mut g = c.benchmark_group("settle_three_layer_inpatient_year_of_12");
    g.bench_function("yibao_settle", |b| {
        b.iter(|| {
            let mut st = YtdState::default();
            for c in &year {
                black_box(
                    settle_in_place(&policy, black_box(c), &mut st, &SettleOptions::default())
                        .unwrap(),
                );
            }
        })
    });
    g.bench_function("yibao_settle_outcome", |b| {
        b.iter(|| {
            let mut st = YtdState::default();
            for c in &year {
                black_box(settle_outcome(&policy, black_box(c), &mut st).unwrap());
            }
        })
    });
    let mut settler = Settler::new(policy.clone());
    g.bench_function("yibao_settler_planned", |b| {
        b.iter(|| planned_year(&mut settler, &year))
    });
    g.bench_function("yibao_settle_with_trace", |b| {
        b.iter(|| {
            let mut st = YtdState::default();
            for c in &year {
                black_box(
                    settle_in_place(
                        &policy,
                        black_box(c),
                        &mut st,
                        &SettleOptions { trace: true },
                    )
                    .unwrap(),
                );
            }
        })
    });
    g.bench_function("hand_written_decimal", |b| b.iter(|| hand_year(&year)));
    g.finish();

    // Each city's current inpatient policy, numbers-only path: one admission of 30,000 with
    // 2,000 out of the catalogue at the top hospital level, for a resident (or employee) insured.
    let mut g = c.benchmark_group("settle_outcome_inpatient_by_city");
    for id in [
        "tianjin.resident",
        "beijing.employee",
        "guangzhou.employee",
        "huzhou.employee",
        "ziyang.resident",
    ] {
        let p = reg.policy(id, Date::new(2024, 6, 1).unwrap()).unwrap();
        let level = p.dims.levels.last().map(|l| l.id.to_string());
        let claim: Claim = serde_json::from_value(serde_json::json!({
            "date": "2024-06-01", "care": "inpatient", "level": level,
            "amounts": {"total": "30000", "out_of_list": "2000"}
        }))
        .unwrap();
        g.bench_function(id, |b| {
            b.iter(|| {
                let mut st = YtdState::default();
                black_box(settle_outcome(&p, black_box(&claim), &mut st).unwrap())
            })
        });
        let mut settler = Settler::new(p.clone());
        g.bench_function(format!("{id}/settler_planned"), |b| {
            b.iter(|| {
                let mut st = YtdState::default();
                black_box(settler.settle_outcome(black_box(&claim), &mut st).unwrap())
            })
        });
    }
    g.finish();

    let files = yibao::policies::bundled_files();
    c.bench_function("parse_check_compile_all_bundled_policies", |b| {
        b.iter(|| black_box(Registry::from_files(black_box(files.clone()))))
    });
}

/// Nanoseconds for `reps` passes of `f`.
fn timed(reps: u32, mut f: impl FnMut()) -> u128 {
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    t.elapsed().as_nanos()
}

/// Planned settle vs the hand-written function, in alternating rounds (ABBA, so a trend in the
/// machine's load cancels); prints the ratio's median and range over the rounds, in thousandths
/// (integers: no floating point).
fn paired() {
    let reg = Registry::bundled();
    let policy = reg
        // The 2014-07-01 version, which the yardstick implements (later versions changed 大病
        // and aid: issue 14's figures).
        .policy("tianjin.resident", Date::new(2015, 1, 1).unwrap())
        .unwrap();
    let year = claims();
    let mut settler = Settler::new(policy.clone());
    let mut planned = || planned_year(&mut settler, &year);
    let hand_year = || hand_year(&year);
    let reps = 20_000;
    timed(reps, &mut planned);
    timed(reps, hand_year);
    let mut ratios: Vec<u128> = (0..40)
        .map(|round| {
            let (p, h) = if round % 2 == 0 {
                let p = timed(reps, &mut planned);
                (p, timed(reps, hand_year))
            } else {
                let h = timed(reps, hand_year);
                (timed(reps, &mut planned), h)
            };
            p * 1000 / h.max(1)
        })
        .collect();
    ratios.sort_unstable();
    let thousandths = |r: u128| format!("{}.{:03}", r / 1000, r % 1000);
    println!(
        "paired: planned settle ÷ hand-written, 40 alternating rounds of {reps} years of 12 claims: median {}× (min {}×, max {}×)",
        thousandths(ratios[ratios.len() / 2]),
        thousandths(ratios[0]),
        thousandths(ratios[ratios.len() - 1]),
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    if !std::env::args().any(|a| a == "--list") {
        paired();
    }
    Criterion::default().configure_from_args().final_summary();
}
