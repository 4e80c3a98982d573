//! Referral chains: `separate`, `continuous` and `difference`; the chain after an admission with
//! nothing in scope; a chain does not cross the year.

use yibao_engine::ir::*;
use yibao_engine::settlement::{Settlement, StepKind};

use crate::common::*;

pub(crate) fn policy(mode: Referral, per: DeductiblePer) -> std::sync::Arc<Policy> {
    let mut p = P::new();
    let mut a = layer("basic");
    let by_level = table(
        Dim::Level,
        vec![
            Some(p.fig("basic.deductible.1", "500")),
            Some(p.fig("basic.deductible.2", "800")),
            Some(p.fig("basic.deductible.3", "1300")),
        ],
        None,
    );
    a.deductible = ded(per, by_level);
    a.bands = flat(p.fig("basic.ratio", "0.9"));
    a.referral = mode;
    p.add(a);
    p.build()
}

pub(crate) fn adm(date: &str, level: &str, total: &str, referral: bool) -> yibao_engine::Claim {
    with(claim(date, total), |c| {
        c.level = Some(level.into());
        c.referral = referral;
    })
}

fn pays(s: &[Settlement]) -> Vec<String> {
    s.iter().map(|x| pay(x, 0)).collect()
}

fn why(s: &Settlement) -> String {
    s.trace
        .iter()
        .find(|t| t.kind == StepKind::Deductible)
        .map(|t| t.zh.clone())
        .unwrap_or_default()
}

fn chain(st: &yibao_engine::YtdState) -> Option<(String, bool)> {
    st.layer("basic")
        .unwrap()
        .chain
        .as_ref()
        .map(|c| (y(c.deductible_paid), c.entered_fund))
}

#[test]
fn continuous_counts_what_the_chain_paid_and_stops_once_it_entered_the_fund() {
    let policy = policy(Referral::Continuous, DeductiblePer::Admission);
    let claims = [
        adm("2024-01-01", "3", "800", false),
        adm("2024-01-10", "3", "3000", true),
        adm("2024-01-20", "3", "3000", true),
        adm("2024-02-01", "3", "3000", false),
        adm("2024-02-10", "2", "1000", true),
    ];
    let (s, st) = all(&policy, &claims);
    // 800 all deductible (chain 800, not in the fund); referred: 1,300 − 800 = 500 due,
    // (3,000 − 500) × 90% = 2,250 (chain 1,300, in the fund); referred again: nothing due, 2,700;
    // a new admission: 1,300 afresh, 1,530; referred at level 2: nothing due, 900.
    assert_eq!(
        pays(&s),
        ["0.00", "2250.00", "2700.00", "1530.00", "900.00"]
    );
    let deds: Vec<String> = s.iter().map(|x| y(x.layers[0].deductible)).collect();
    assert_eq!(deds, ["800.00", "500.00", "0.00", "1300.00", "0.00"]);
    assert!(
        why(&s[1]).contains("转诊连续计算起付线，已付 800.00"),
        "{}",
        why(&s[1])
    );
    assert!(
        why(&s[2]).contains("前次住院已超过起付线"),
        "{}",
        why(&s[2])
    );
    assert!(why(&s[3]).contains("本年第 4 次"), "{}", why(&s[3]));
    assert_eq!(chain(&st), Some(("1300.00".into(), true)));
    // The threshold shown is the admission's own figure, not what was due.
    assert_eq!(s[2].layers[0].threshold.map(y), Some("1300.00".into()));
    assert!(s.iter().all(|x| codes(x).is_empty()));

    // After each claim: the chain's deductible and whether it reached the fund.
    let mut chains = vec![];
    for n in 1..=claims.len() {
        chains.push(chain(&year_of(&policy, &claims[..n]).1));
    }
    assert_eq!(
        chains,
        [
            Some(("800.00".into(), false)),
            Some(("1300.00".into(), true)),
            Some(("1300.00".into(), true)),
            Some(("1300.00".into(), true)),
            Some(("1300.00".into(), true)),
        ]
    );
}

/// A chain that paid more than the receiving hospital's deductible owes nothing (not less than
/// nothing); so does a year that paid more than a smaller later figure.
#[test]
fn paid_more_than_is_due_is_nothing_due() {
    let (s, _) = all(
        &policy(Referral::Continuous, DeductiblePer::Admission),
        &[
            adm("2024-01-01", "3", "1000", false),
            adm("2024-01-10", "1", "2000", true),
        ],
    );
    // 1,000 paid of 1,300 (not in the fund); level 1's 500 is covered: 2,000 × 90% = 1,800.
    assert_eq!(pays(&s), ["0.00", "1800.00"]);
    assert_eq!(y(s[1].layers[0].deductible), "0.00");
    let (s, _) = all(
        &policy(Referral::Continuous, DeductiblePer::Year),
        &[
            adm("2024-01-01", "3", "1300", false),
            adm("2024-01-10", "1", "2000", false),
        ],
    );
    // Per year: 1,300 paid at level 3; level 1's 500 is covered: 1,800.
    assert_eq!(pays(&s), ["0.00", "1800.00"]);
}

/// An admission whose base is exactly its deductible has not entered the fund.
#[test]
fn a_base_equal_to_the_deductible_has_not_entered_the_fund() {
    let policy = policy(Referral::Continuous, DeductiblePer::Admission);
    let (s, st) = all(
        &policy,
        &[
            adm("2024-01-01", "1", "500", false),
            adm("2024-01-10", "3", "3000", true),
        ],
    );
    // 500 = the deductible: chain 500, not in the fund; referred to level 3: 1,300 − 500 = 800
    // due, (3,000 − 800) × 90% = 1,980.
    assert_eq!(pays(&s), ["0.00", "1980.00"]);
    assert_eq!(chain(&st), Some(("1300.00".into(), true)));
}

#[test]
fn difference_charges_the_rest_even_after_the_fund() {
    let claims = [
        adm("2024-01-01", "1", "3000", false),
        adm("2024-01-10", "3", "3000", true),
        adm("2024-01-20", "3", "600", true),
    ];
    let (s, st) = all(
        &policy(Referral::Difference, DeductiblePer::Admission),
        &claims,
    );
    // 500 paid at level 1 (in the fund, 2,250); referred to level 3: 1,300 − 500 = 800 due,
    // (3,000 − 800) × 90% = 1,980 (chain 1,300); referred again: nothing due, 540.
    assert_eq!(pays(&s), ["2250.00", "1980.00", "540.00"]);
    assert!(
        why(&s[1]).contains("转诊按差额计算起付线，转诊链已付 500.00"),
        "{}",
        why(&s[1])
    );
    assert_eq!(chain(&st), Some(("1300.00".into(), true)));
    // The chain stays in the fund after an admission that paid only deductible.
    let claims = [
        adm("2024-01-01", "1", "3000", false),
        adm("2024-01-10", "3", "600", true),
    ];
    let (s, st) = all(
        &policy(Referral::Difference, DeductiblePer::Admission),
        &claims,
    );
    // 800 due of a 600 base: all of it deductible; the chain 500 + 600 = 1,100, still in the fund.
    assert_eq!(pays(&s), ["2250.00", "0.00"]);
    assert_eq!(chain(&st), Some(("1100.00".into(), true)));

    // Continuous: nothing once the chain entered the fund.
    let claims = [
        adm("2024-01-01", "1", "3000", false),
        adm("2024-01-10", "3", "3000", true),
    ];
    let (s, _) = all(
        &policy(Referral::Continuous, DeductiblePer::Admission),
        &claims,
    );
    assert_eq!(pays(&s), ["2250.00", "2700.00"]);
    // Separate: afresh.
    let (s, st) = all(
        &policy(Referral::Separate, DeductiblePer::Admission),
        &claims,
    );
    assert_eq!(pays(&s), ["2250.00", "1530.00"]);
    assert_eq!(chain(&st), Some(("1300.00".into(), true)));
    assert!(codes(&s[1]).is_empty());
}

/// An admission with nothing in scope keeps the chain it continues, and starts a new one when
/// it is not referred.
#[test]
fn an_empty_admission_and_the_chain() {
    let cont = policy(Referral::Continuous, DeductiblePer::Admission);
    let empty = |referral: bool| {
        with(adm("2024-01-10", "3", "400", referral), |c| {
            c.amounts.out_of_list = m("400");
        })
    };
    let (s, st) = all(
        &cont,
        &[
            adm("2024-01-01", "3", "3000", false),
            empty(true),
            adm("2024-01-20", "3", "3000", true),
        ],
    );
    // The empty referred admission applies (it counts) and keeps the chain: nothing due, 2,700.
    assert!(s[1].layers[0].applied);
    assert_eq!(y(s[1].layers[0].base), "0.00");
    assert_eq!(oop(&s[1])[4], "400.00");
    assert_eq!(pays(&s), ["1530.00", "0.00", "2700.00"]);
    assert_eq!(st.layer("basic").unwrap().claims, 3);
    let (s, st) = all(
        &cont,
        &[adm("2024-01-01", "3", "3000", false), empty(false)],
    );
    assert_eq!(pays(&s), ["1530.00", "0.00"]);
    assert_eq!(chain(&st), Some(("0.00".into(), false)));
    let (s, _) = all(
        &cont,
        &[
            adm("2024-01-01", "3", "3000", false),
            empty(false),
            adm("2024-01-20", "3", "3000", true),
        ],
    );
    // A new chain with nothing paid: the whole 1,300.
    assert_eq!(pays(&s), ["1530.00", "0.00", "1530.00"]);

    // Separate: an empty referred admission starts a new chain too.
    let (_, st) = all(
        &policy_sep(),
        &[adm("2024-01-01", "3", "3000", false), empty(true)],
    );
    assert_eq!(chain(&st), Some(("0.00".into(), false)));
    // A deductible per year keeps no chain.
    let (_, st) = all(
        &policy(Referral::Continuous, DeductiblePer::Year),
        &[adm("2024-01-01", "3", "3000", false), empty(true)],
    );
    assert_eq!(chain(&st), None);
}

fn policy_sep() -> std::sync::Arc<Policy> {
    policy(Referral::Separate, DeductiblePer::Admission)
}

/// A referral with no chain this year is charged afresh and said; not for `separate` or a
/// deductible per year.
#[test]
fn a_referral_without_a_chain() {
    let first = [adm("2024-03-01", "3", "3000", true)];
    let (s, _) = all(
        &policy(Referral::Continuous, DeductiblePer::Admission),
        &first,
    );
    assert_eq!(pays(&s), ["1530.00"]);
    assert_eq!(codes(&s[0]), ["referral_without_chain"]);
    assert_eq!(s[0].warnings[0].layer.as_deref(), Some("basic"));
    let (s, _) = all(
        &policy(Referral::Difference, DeductiblePer::Admission),
        &first,
    );
    assert_eq!(codes(&s[0]), ["referral_without_chain"]);
    let (s, _) = all(&policy_sep(), &first);
    assert!(codes(&s[0]).is_empty());
    let (s, _) = all(&policy(Referral::Continuous, DeductiblePer::Year), &first);
    assert!(codes(&s[0]).is_empty());
    // Not referred: nothing to say.
    let (s, _) = all(
        &policy(Referral::Continuous, DeductiblePer::Admission),
        &[adm("2024-03-01", "3", "3000", false)],
    );
    assert!(codes(&s[0]).is_empty());
    // The chain does not cross 1 January.
    let (s, st) = all(
        &policy(Referral::Continuous, DeductiblePer::Admission),
        &[
            adm("2024-12-20", "3", "3000", false),
            adm("2025-01-05", "3", "3000", true),
        ],
    );
    assert_eq!(pays(&s), ["1530.00", "1530.00"]);
    assert_eq!(codes(&s[1]), ["referral_without_chain"]);
    assert_eq!(st.year, Some(2025));
    assert_eq!(st.layer("basic").unwrap().claims, 1);
}

/// `for referred` / `for not referred`: figures that depend on whether the claim was referred.
/// A referred admission pays half the deductible; one at level 3 without a referral is paid 10
/// points less. `year_of` also settles with one `Settler` across the claims, which differ only
/// in the referral: each must get its own situation, not the previous claim's plan.
#[test]
fn a_for_block_can_select_referred_claims() {
    let policy = {
        let mut p = P::new();
        let mut a = layer("basic");
        let by_level = table(
            Dim::Level,
            vec![
                Some(p.fig("basic.deductible.1", "500")),
                Some(p.fig("basic.deductible.2", "800")),
                Some(p.fig("basic.deductible.3", "1300")),
            ],
            None,
        );
        a.deductible = ded(DeductiblePer::Admission, by_level);
        a.bands = flat(p.fig("basic.ratio", "0.9"));
        let half = p.fig("basic.for[referred].deductible", "0.5");
        let less = p.fig("basic.for[not_referred,level=3].ratio", "0.1");
        a.modifiers = vec![
            modifier(
                Selector {
                    referral: Some(true),
                    ..Selector::default()
                },
                vec![ModOp::Deductible {
                    expr: Expr::Mul(Box::new(Expr::Current), Box::new(ev(half))),
                }],
                &["deductible × 50%"],
            ),
            modifier(
                Selector {
                    referral: Some(false),
                    levels: vec![2],
                    ..Selector::default()
                },
                vec![ModOp::Ratio {
                    expr: Expr::Sub(Box::new(Expr::Current), Box::new(ev(less))),
                }],
                &["ratio - 10%"],
            ),
        ];
        p.add(a);
        p.build()
    };
    assert!(policy.depends_on_referral());
    assert!(!policy_sep().depends_on_referral());
    let claims = [
        adm("2024-01-01", "3", "3000", false),
        adm("2024-01-10", "3", "3000", true),
        adm("2024-01-20", "3", "3000", false),
        adm("2024-02-01", "1", "3000", true),
        adm("2024-02-10", "1", "3000", false),
    ];
    let (s, _) = all(&policy, &claims);
    // Not referred at level 3: 1,300; 90% − 10% = 80%: 1,700 × 80% = 1,360.
    // Referred at level 3: 1,300 × 50% = 650; 90%: 2,350 × 90% = 2,115.
    // Not referred again: 1,360. Referred at level 1: 500 × 50% = 250; 2,750 × 90% = 2,475.
    // Not referred at level 1 (the 10 points are for level 3): 500; 2,500 × 90% = 2,250.
    assert_eq!(
        pays(&s),
        ["1360.00", "2115.00", "1360.00", "2475.00", "2250.00"]
    );
    let deds: Vec<String> = s.iter().map(|x| y(x.layers[0].deductible)).collect();
    assert_eq!(deds, ["1300.00", "650.00", "1300.00", "250.00", "500.00"]);
    // The explanation cites the block that changed the figure.
    let steps: Vec<&str> = s[1]
        .trace
        .iter()
        .filter(|t| t.kind == StepKind::Modifier)
        .map(|t| t.en.as_str())
        .collect();
    assert!(
        steps.len() == 1 && steps[0].contains("deductible × 50%"),
        "{steps:?}"
    );
}
