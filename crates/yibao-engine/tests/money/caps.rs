//! Caps: per claim, per month, per year in pools that several layers share; the cap line.

use yibao_engine::ir::*;

use crate::common::*;

/// Several layers of one claim draw on the same year pool: what an earlier layer of the claim
/// paid counts against a later one's cap, a layer on another pool does not.
#[test]
fn layers_of_one_claim_share_a_year_pool() {
    let mut p = P::new();
    let fund = p.pool("fund");
    let other = p.pool("other");
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.8"));
    a.caps = vec![cap(year(fund), p.fig("basic.cap", "10000"))];
    let mut x = layer("extra");
    x.base = remaining(&[Component::CoPay]);
    x.bands = flat(p.fig("extra.ratio", "0.1"));
    x.caps = vec![cap(year(other), p.fig("extra.cap", "100000"))];
    x.platform_field = "hifmi_pay".into();
    let mut b = layer("top");
    b.base = remaining(&[Component::CoPay]);
    b.bands = flat(p.fig("top.ratio", "1"));
    b.caps = vec![cap(year(fund), p.fig("top.cap", "10000"))];
    b.platform_field = "hifob_pay".into();
    p.add(a).add(x).add(b);
    let policy = p.build();

    let (s, st) = all(
        &policy,
        &[claim("2024-03-01", "11000"), claim("2024-04-01", "1000")],
    );
    // Claim 1: basic 11,000 × 80% = 8,800 (pool fund 0 → 10,000 left); co-pay 2,200.
    // extra: 2,200 × 10% = 220 (its own pool); co-pay 1,980.
    // top: 1,980 × 100% = 1,980, but the fund pool has paid 8,800 in this claim → 1,200 left.
    // Patient: co-pay 1,980 − 1,200 = 780. Funds 8,800 + 220 + 1,200 = 10,220; 10,220 + 780 = 11,000.
    assert_eq!(pay(&s[0], 0), "8800.00");
    assert_eq!(pay(&s[0], 1), "220.00");
    assert_eq!(pay(&s[0], 2), "1200.00");
    assert!(s[0].layers[2].capped);
    assert_eq!(y(s[0].layers[2].cap_remaining.unwrap()), "1200.00");
    assert_eq!(oop(&s[0]), ["0.00", "780.00", "0.00", "0.00", "780.00"]);
    assert_eq!(y(s[0].platform.hifp_pay), "8800.00");
    assert_eq!(y(s[0].platform.hifmi_pay), "220.00");
    assert_eq!(y(s[0].platform.hifob_pay), "1200.00");
    // Claim 2: the fund pool is spent (8,800 + 1,200 = 10,000): basic pays nothing and the
    // whole 1,000 is above the cap (the cap line is at 0); extra and top have no co-pay to pay.
    assert_eq!(pay(&s[1], 0), "0.00");
    assert!(s[1].layers[0].capped);
    assert_eq!(y(s[1].layers[0].cap_remaining.unwrap()), "0.00");
    assert_eq!(oop(&s[1]), ["0.00", "0.00", "1000.00", "0.00", "1000.00"]);
    assert_eq!(y(st.pools[fund as usize].1), "10000.00");
    assert_eq!(y(st.pools[other as usize].1), "220.00");
    assert_eq!(st.pool_paid("fund"), d("10000"));
    assert_eq!(st.pool_paid("nope"), d("0"));
}

/// A layer whose caps name one pool twice adds its payment to the pool once; a second pool
/// gets it too.
#[test]
fn a_pool_named_twice_is_paid_into_once() {
    let mut p = P::new();
    let p0 = p.pool("p0");
    let p1 = p.pool("p1");
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.5"));
    a.caps = vec![
        cap(year(p0), p.fig("basic.cap", "5000")),
        cap(year(p0), p.fig("basic.cap2", "8000")),
        cap(year(p1), p.fig("basic.cap3", "9000")),
    ];
    p.add(a);
    let policy = p.build();
    let (s, st) = all(
        &policy,
        &[claim("2024-01-05", "10000"), claim("2024-02-05", "2000")],
    );
    // Claim 1: 10,000 × 50% = 5,000; the tightest cap leaves exactly 5,000: not capped.
    assert_eq!(pay(&s[0], 0), "5000.00");
    assert!(!s[0].layers[0].capped);
    assert_eq!(y(s[0].layers[0].cap_remaining.unwrap()), "5000.00");
    // Claim 2: 2,000 × 50% = 1,000; p0 has 5,000 of 5,000 (and of 8,000) spent → 0 left.
    assert_eq!(pay(&s[1], 0), "0.00");
    assert!(s[1].layers[0].capped);
    assert_eq!(oop(&s[1]), ["0.00", "0.00", "2000.00", "0.00", "2000.00"]);
    assert_eq!(y(st.pools[0].1), "5000.00");
    assert_eq!(y(st.pools[1].1), "5000.00");
    let l = st.layer("basic").unwrap();
    assert_eq!(
        (l.claims, y(l.base), y(l.paid)),
        (2, "12000.00".into(), "5000.00".into())
    );
}

/// The example: basic 80% with a fund cap of 10,000 and 20,000 in scope.
#[test]
fn the_layer_above_the_cap_pays_on_the_cost_above_the_line() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.deductible = ded(DeductiblePer::Admission, p.fig("basic.deductible", "1000"));
    a.bands = flat(p.fig("basic.ratio", "0.8"));
    a.caps = vec![cap(CapPer::Claim, p.fig("basic.cap", "10000"))];
    let mut b = layer("large");
    b.kind = LayerKind::Supplementary;
    b.platform_field = "hifob_pay".into();
    b.base = remaining(&[Component::AboveCap]);
    b.bands = flat(p.fig("large.ratio", "0.85"));
    p.add(a).add(b);
    let policy = p.build();
    let s = one(&policy, claim("2024-05-01", "20000"));
    // Deductible 1,000; 19,000 × 80% = 15,200 → capped at 10,000, reached at 10,000 ÷ 0.8 =
    // 12,500 of cost: co-pay 12,500 − 10,000 = 2,500; above the line 19,000 − 12,500 = 6,500.
    // large: 6,500 × 85% = 5,525; left above the cap 975.
    // Patient: 1,000 + 2,500 + 975 = 4,475; funds 10,000 + 5,525 = 15,525.
    assert_eq!(pay(&s, 0), "10000.00");
    assert_eq!(pay(&s, 1), "5525.00");
    assert_eq!(y(s.layers[1].base), "6500.00");
    assert_eq!(oop(&s), ["1000.00", "2500.00", "975.00", "0.00", "4475.00"]);
    assert_eq!(y(s.platform.act_pay_dedc), "1000.00");
    let line = s
        .trace
        .iter()
        .find(|t| t.zh.starts_with("封顶线"))
        .expect("a cap line step");
    assert!(line.zh.contains("13500.00"), "{}", line.zh);
    assert!(line.zh.contains("6500.00"), "{}", line.zh);
    assert_eq!(y(line.value), "6500.00");
}

/// The cap line crosses bands: the first band's payment counts, the point inside the second is
/// found by division, rounded to the fen.
#[test]
fn the_cap_line_across_bands_and_rounded() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = bands(
        false,
        vec![
            (Some(p.fig("basic.band1", "5000")), p.fig("basic.r1", "0.9")),
            (None, p.fig("basic.r2", "0.8")),
        ],
    );
    a.caps = vec![cap(CapPer::Claim, p.fig("basic.cap", "10000"))];
    p.add(a);
    let policy = p.build();
    let s = one(&policy, claim("2024-05-01", "20000"));
    // 5,000 × 90% = 4,500; 15,000 × 80% = 12,000; 16,500 → capped 10,000.
    // Line: 5,000 + (10,000 − 4,500) ÷ 0.8 = 5,000 + 6,875 = 11,875.
    // Co-pay 11,875 − 10,000 = 1,875; above the cap 20,000 − 11,875 = 8,125.
    assert_eq!(pay(&s, 0), "10000.00");
    assert_eq!(oop(&s), ["0.00", "1875.00", "8125.00", "0.00", "10000.00"]);
    let l = &s.layers[0].bands;
    assert_eq!(l.len(), 2);
    assert_eq!(
        (y(l[0].from), l[0].to.map(y)),
        ("0.00".into(), Some("5000.00".into()))
    );
    assert_eq!((y(l[1].from), l[1].to), ("5000.00".into(), None));
    assert_eq!(l[1].product, d("12000.00"));

    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.7"));
    a.caps = vec![cap(CapPer::Claim, p.fig("basic.cap", "1000"))];
    p.add(a);
    let s = one(&p.build(), claim("2024-05-01", "5000"));
    // 5,000 × 70% = 3,500 → 1,000; line 1,000 ÷ 0.7 = 1,428.5714… → 1,428.57.
    assert_eq!(oop(&s), ["0.00", "428.57", "3571.43", "0.00", "4000.00"]);
}

/// A monthly cap counts what the layer paid earlier in the same month, and starts again in the
/// next month.
#[test]
fn a_monthly_cap_counts_the_month() {
    let mut p = P::new();
    let mut a = layer("special");
    a.bands = flat(p.fig("special.ratio", "0.5"));
    a.caps = vec![cap(CapPer::Month, p.fig("special.cap", "200"))];
    p.add(a);
    let policy = p.build();
    let claims = [
        claim("2024-03-01", "300"),
        claim("2024-03-20", "300"),
        claim("2024-04-02", "300"),
        claim("2024-04-03", "500"),
        claim("2024-05-03", "0"),
        claim("2024-06-03", "100"),
    ];
    // After May's claim, which paid nothing, the state still holds April's payments.
    let (_, st) = all(&policy, &claims[..5]);
    let l = st.layer("special").unwrap();
    assert_eq!((l.month, y(l.month_paid)), (Some(4), "200.00".into()));
    let (s, st) = all(
        &policy,
        &[
            claim("2024-03-01", "300"),
            claim("2024-03-20", "300"),
            claim("2024-04-02", "300"),
            claim("2024-04-03", "500"),
            claim("2024-05-03", "0"),
            claim("2024-06-03", "100"),
        ],
    );
    // March: 150, then 150 against 200 − 150 = 50 left → 50 (capped).
    // April: 150 (a new month), then 250 against 50 left → 50. May: nothing paid.
    // June: 50 (the month kept is April's: a new month).
    let pays: Vec<String> = s.iter().map(|x| pay(x, 0)).collect();
    assert_eq!(
        pays,
        ["150.00", "50.00", "150.00", "50.00", "0.00", "50.00"]
    );
    assert!(s[1].layers[0].capped && !s[2].layers[0].capped);
    assert_eq!(y(s[1].layers[0].cap_remaining.unwrap()), "50.00");
    let l = st.layer("special").unwrap();
    assert_eq!(l.month, Some(6));
    assert_eq!(y(l.month_paid), "50.00");
    assert_eq!(l.claims, 6);
    assert_eq!(y(l.paid), "450.00");
}

/// A layer without a monthly cap keeps no month in its state.
#[test]
fn no_month_kept_without_a_monthly_cap() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.5"));
    a.caps = vec![cap(CapPer::Claim, p.fig("basic.cap", "200"))];
    p.add(a);
    let (s, st) = all(
        &p.build(),
        &[claim("2024-03-01", "300"), claim("2024-03-02", "300")],
    );
    assert_eq!(pay(&s[1], 0), "150.00");
    let l = st.layer("basic").unwrap();
    assert_eq!((l.month, l.month_paid.is_zero()), (None, true));
}

/// `for` blocks on caps: a formula and `no cap`; an unknown cap is taken as none and said only
/// where the layer paid.
#[test]
fn cap_modifiers_and_unknown_caps() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "1"));
    a.caps = vec![cap(CapPer::Claim, p.fig("basic.cap", "1000"))];
    a.modifiers = vec![
        modifier(
            Selector {
                groups: vec![1],
                ..Selector::default()
            },
            vec![ModOp::Cap {
                expr: Some(Expr::Mul(Box::new(Expr::Current), Box::new(k("2")))),
            }],
            &["cap × 2"],
        ),
        modifier(
            Selector {
                categories: vec![0],
                ..Selector::default()
            },
            vec![ModOp::Cap { expr: None }],
            &["no cap"],
        ),
    ];
    p.add(a);
    let policy = p.build();
    let c = |g: &str, cats: &[&str]| {
        with(claim("2024-05-01", "5000"), |c| {
            c.group = Some(g.into());
            c.categories = cats.iter().map(|x| x.to_string()).collect();
        })
    };
    let (s, _) = all(
        &policy,
        &[
            c("in_service", &[]),
            c("retired", &[]),
            c("in_service", &["destitute"]),
            c("retired", &["min_allowance"]),
        ],
    );
    let pays: Vec<String> = s.iter().map(|x| pay(x, 0)).collect();
    // 1,000; 1,000 × 2; no cap → 5,000; retired again (min_allowance has no block) → 2,000.
    assert_eq!(pays, ["1000.00", "2000.00", "5000.00", "2000.00"]);
    assert_eq!(s[2].layers[0].cap_remaining, None);
    let step = |s: &yibao_engine::settlement::Settlement| {
        s.trace
            .iter()
            .filter(|t| t.kind == yibao_engine::settlement::StepKind::Cap)
            .filter(|t| t.zh.starts_with("最高支付限额"))
            .map(|t| t.zh.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(step(&s[1]), ["最高支付限额 2000.00，本次可支付 2000.00"]);
    assert!(step(&s[2]).is_empty());

    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.5"));
    a.caps = vec![cap(CapPer::Claim, p.unknown("basic.cap"))];
    p.add(a);
    let policy = p.build();
    let (s, _) = all(
        &policy,
        &[claim("2024-05-01", "5000"), claim("2024-05-02", "0")],
    );
    assert_eq!(pay(&s[0], 0), "2500.00");
    assert_eq!(codes(&s[0]), ["unverified", "unknown_cap"]);
    assert_eq!(s[0].unverified[0].path(), "basic.cap");
    assert_eq!(s[0].warnings[1].effect, Some("fund_overstated"));
    // Nothing in scope: no figure of the layer affects the result, none is named.
    assert!(codes(&s[1]).is_empty());
}

/// Money figures are whole cents within the bound claims have: exactly 10^12 yuan is a cap,
/// a cent more or a fraction of a cent is an evaluation error naming the clause.
#[test]
fn money_figures_are_bounded_whole_cents() {
    let run = capped;
    let s = run("1000000000000").unwrap();
    assert_eq!(pay(&s, 0), "2500.00");
    assert_eq!(y(s.layers[0].cap_remaining.unwrap()), "1000000000000.00");
    assert_eq!(pay(&run("1000.0000").unwrap(), 0), "1000.00");
    assert_eq!(pay(&run("1000.5").unwrap(), 0), "1000.50");
    let e = run("1000000000000.01").unwrap_err().to_string();
    assert!(e.contains("beyond the 1,000,000,000,000"), "{e}");
    let e = run("0.001").unwrap_err().to_string();
    assert!(
        e.contains("more than two decimal places") && e.contains("`cap`"),
        "{e}"
    );
    let e = run("100000000000000000000000").unwrap_err().to_string();
    assert!(e.contains("overflow") || e.contains("beyond"), "{e}");
}

/// Two caps leaving the same amount: the first one written is the one that applied.
#[test]
fn of_equal_caps_the_first_applies() {
    let mut p = P::new();
    let pool = p.pool("fund");
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.5"));
    let mut second = cap(year(pool), p.fig("basic.cap.year", "1000"));
    second.cite = cite("cap per year");
    a.caps = vec![cap(CapPer::Claim, p.fig("basic.cap", "1000")), second];
    p.add(a);
    let s = one(&p.build(), claim("2024-05-01", "5000"));
    // 5,000 × 50% = 2,500 → 1,000 by either cap.
    assert_eq!(pay(&s, 0), "1000.00");
    let caps: Vec<_> = s
        .trace
        .iter()
        .filter(|t| t.kind == yibao_engine::settlement::StepKind::Cap)
        .filter(|t| t.zh.starts_with("最高支付限额"))
        .collect();
    assert_eq!(caps.len(), 1);
    assert_eq!(caps[0].cite.as_ref().unwrap().text, "cap");
    let paid = s
        .trace
        .iter()
        .find(|t| t.kind == yibao_engine::settlement::StepKind::Payment)
        .unwrap();
    assert_eq!(paid.cite.as_ref().unwrap().text, "cap");
}

/// The tightest cap applies, whichever is written first.
#[test]
fn the_tightest_cap_applies() {
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
        let mut p = P::new();
        let pool = p.pool("fund");
        let mut a = layer("basic");
        a.bands = flat(p.fig("basic.ratio", "0.5"));
        let all_caps = [
            cap(CapPer::Claim, p.fig("basic.cap.claim", "1000")),
            cap(CapPer::Month, p.fig("basic.cap.month", "300")),
            cap(year(pool), p.fig("basic.cap.year", "700")),
        ];
        a.caps = order.iter().map(|i| all_caps[*i].clone()).collect();
        p.add(a);
        let s = one(&p.build(), claim("2024-05-01", "5000"));
        // 5,000 × 50% = 2,500; the caps leave 1,000, 300 and 700: 300.
        assert_eq!(pay(&s, 0), "300.00", "{order:?}");
        assert_eq!(y(s.layers[0].cap_remaining.unwrap()), "300.00");
    }
}

/// An unknown cap matters only where the layer paid: a claim within the deductible says nothing
/// of it (its figure is still named as relied on).
#[test]
fn an_unknown_cap_on_a_claim_that_pays_nothing() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.deductible = ded(DeductiblePer::Admission, p.fig("basic.deductible", "1000"));
    a.bands = flat(p.fig("basic.ratio", "0.5"));
    a.caps = vec![cap(CapPer::Claim, p.unknown("basic.cap"))];
    p.add(a);
    let s = one(&p.build(), claim("2024-05-01", "500"));
    // 500, all of it deductible: nothing paid.
    assert_eq!(pay(&s, 0), "0.00");
    assert_eq!(codes(&s), ["unverified"]);
    assert_eq!(s.unverified[0].path(), "basic.cap");
}
