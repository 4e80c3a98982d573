//! The cascade: which layers apply, the already-classified skip, the patient's split, the
//! national platform's fields, the claim's amounts, the plan cache across situations, flagged
//! figures and the explanation.

use yibao_engine::ir::*;
use yibao_engine::settlement::StepKind;

use crate::common::*;

/// A layer on the policy scope after another one classified it does not apply and does not
/// count the claim; with nothing in scope at all, both apply and both count it.
#[test]
fn an_already_classified_scope_skips_the_layer() {
    let mut p = P::new();
    let mut a = layer("retired_basic");
    a.when = Selector {
        groups: vec![1],
        ..Selector::default()
    };
    a.bands = flat(p.fig("retired_basic.ratio", "0.9"));
    let mut b = layer("basic");
    b.bands = flat(p.fig("basic.ratio", "0.8"));
    p.add(a).add(b);
    let policy = p.build();
    let retired = |total: &str, out: &str| {
        with(claim("2024-05-01", total), |c| {
            c.group = Some("retired".into());
            c.amounts.out_of_list = m(out);
        })
    };
    let (s, st) = all(&policy, &[retired("10000", "0")]);
    assert_eq!(
        (pay(&s[0], 0), pay(&s[0], 1)),
        ("9000.00".into(), "0.00".into())
    );
    assert!(s[0].layers[0].applied && !s[0].layers[1].applied);
    assert_eq!(st.layer("retired_basic").unwrap().claims, 1);
    assert_eq!(st.layer("basic").unwrap().claims, 0);
    let skip = s[0]
        .trace
        .iter()
        .find(|t| t.kind == StepKind::NotApplicable)
        .unwrap();
    assert_eq!(skip.layer.as_deref(), Some("basic"));
    assert!(
        skip.en.contains("already settled by `retired_basic`"),
        "{}",
        skip.en
    );

    let (s, st) = all(&policy, &[claim("2024-05-01", "10000")]);
    assert_eq!(
        (pay(&s[0], 0), pay(&s[0], 1)),
        ("0.00".into(), "8000.00".into())
    );
    assert_eq!(st.layer("retired_basic").unwrap().claims, 0);
    let skip = s[0]
        .trace
        .iter()
        .find(|t| t.kind == StepKind::NotApplicable)
        .unwrap();
    assert!(skip.zh.contains("不符合本层的适用条件"), "{}", skip.zh);

    // Nothing in scope: both apply with a base of 0, both count the admission.
    let (s, st) = all(&policy, &[retired("500", "500")]);
    assert!(s[0].layers[0].applied && s[0].layers[1].applied);
    assert_eq!(st.layer("retired_basic").unwrap().claims, 1);
    assert_eq!(st.layer("basic").unwrap().claims, 1);
    assert_eq!(y(s[0].out_of_pocket.out_of_list), "500.00");
}

/// Nothing classifies the policy scope (no layer selects the care): all of it is not covered.
#[test]
fn a_scope_no_layer_takes_is_not_covered() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.when = Selector {
        care: vec![1],
        ..Selector::default()
    };
    a.bands = flat(p.fig("basic.ratio", "0.8"));
    p.add(a);
    let s = one(
        &p.build(),
        with(claim("2024-05-01", "1000"), |c| {
            c.amounts.pre_self_pay = m("100");
            c.amounts.over_limit = m("50");
        }),
    );
    assert_eq!(oop(&s), ["0.00", "0.00", "0.00", "850.00", "1000.00"]);
    assert_eq!(y(s.out_of_pocket.pre_self_pay), "100.00");
    assert_eq!(y(s.out_of_pocket.over_limit), "50.00");
    assert_eq!(y(s.amounts.in_scope), "850.00");
    assert_eq!(y(s.platform.preselfpay_amt), "100.00");
    assert_eq!(y(s.platform.overlmt_selfpay), "50.00");
}

/// The part beyond the last band is above the cap for the patient, and the explanation says
/// the layer does not pay it.
#[test]
fn beyond_the_last_band() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = bands(
        false,
        vec![(Some(p.fig("basic.upto", "10000")), p.fig("basic.r", "0.8"))],
    );
    p.add(a);
    let s = one(&p.build(), claim("2024-05-01", "15000"));
    // 10,000 × 80% = 8,000; co-pay 2,000; 5,000 beyond the band.
    assert_eq!(pay(&s, 0), "8000.00");
    assert_eq!(oop(&s), ["0.00", "2000.00", "5000.00", "0.00", "7000.00"]);
    let u = s
        .trace
        .iter()
        .find(|t| t.kind == StepKind::Uncovered)
        .unwrap();
    assert_eq!(u.zh, "超出最高分段的 5000.00 本层不予支付");
    assert_eq!(y(u.value), "5000.00");
    let b = s.trace.iter().find(|t| t.kind == StepKind::Band).unwrap();
    assert_eq!(b.zh, "0.00–10000.00 段：10000.00 × 80% = 8000.00");
    // Within the band: nothing beyond.
    let s = one(&p.build(), claim("2024-05-01", "5000"));
    assert!(!s.trace.iter().any(|t| t.kind == StepKind::Uncovered));
}

/// A claim that ends exactly at a band's edge does not reach the next band: no line for it, and
/// its (placeholder) ratio is not relied on.
#[test]
fn a_claim_at_a_band_edge() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = bands(
        false,
        vec![
            (Some(p.fig("basic.upto", "1000")), p.fig("basic.r1", "0.9")),
            (None, p.ph("basic.r2", "0.5")),
        ],
    );
    p.add(a);
    let policy = p.build();
    let (s, _) = all(
        &policy,
        &[claim("2024-05-01", "1000"), claim("2024-05-02", "1000.01")],
    );
    assert_eq!(pay(&s[0], 0), "900.00");
    assert_eq!(s[0].layers[0].bands.len(), 1);
    assert!(s[0].unverified.is_empty() && codes(&s[0]).is_empty());
    assert_eq!(
        s[0].trace
            .iter()
            .filter(|t| t.kind == StepKind::Band)
            .count(),
        1
    );
    // A cent more: 900 + 0.01 × 50% = 900.005 → 900.01, and the placeholder is named.
    assert_eq!(pay(&s[1], 0), "900.01");
    assert_eq!(s[1].layers[0].bands.len(), 2);
    assert_eq!(s[1].unverified[0].path(), "basic.r2");
}

/// Each layer's payment goes to its national platform field; two layers on one field add up; a
/// field the platform does not have is left out.
#[test]
fn the_platform_fund_fields() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.deductible = ded(DeductiblePer::Admission, p.fig("basic.deductible", "100"));
    a.bands = flat(p.fig("basic.ratio", "0.5"));
    p.add(a);
    for (id, field, ratio) in [
        ("civil", "cvlserv_pay", "0.1"),
        ("employer", "hifes_pay", "0.1"),
        ("serious", "hifmi_pay", "0.1"),
        ("large", "hifob_pay", "0.1"),
        ("aid", "maf_pay", "0.1"),
        ("other", "oth_pay", "0.1"),
        ("basic2", "hifp_pay", "0.1"),
        ("nowhere", "xyz_pay", "0.1"),
    ] {
        let mut l = layer(id);
        l.base = remaining(&[Component::CoPay, Component::Deductible]);
        l.bands = flat(p.fig(&format!("{id}.ratio"), ratio));
        l.platform_field = field.into();
        p.add(l);
    }
    let s = one(&p.build(), claim("2024-05-01", "10100"));
    // basic: 100 deductible, 10,000 × 50% = 5,000; left 5,100 (co-pay 5,000 + deductible 100).
    // Each next layer pays 10% of what is left (co-pay first), rounded half up:
    // 5,100 → 510; 4,590 → 459; 4,131 → 413.10; 3,717.90 → 371.79; 3,346.11 → 334.611 = 334.61;
    // 3,011.50 → 301.15; 2,710.35 → 271.035 = 271.04; 2,439.31 → 243.931 = 243.93.
    let want = [
        "5000.00", "510.00", "459.00", "413.10", "371.79", "334.61", "301.15", "271.04", "243.93",
    ];
    let pays: Vec<String> = (0..9).map(|i| pay(&s, i)).collect();
    assert_eq!(pays, want);
    let pf = &s.platform;
    assert_eq!(y(pf.hifp_pay), "5271.04"); // 5,000 + 271.04
    assert_eq!(y(pf.cvlserv_pay), "510.00");
    assert_eq!(y(pf.hifes_pay), "459.00");
    assert_eq!(y(pf.hifmi_pay), "413.10");
    assert_eq!(y(pf.hifob_pay), "371.79");
    assert_eq!(y(pf.maf_pay), "334.61");
    assert_eq!(y(pf.oth_pay), "301.15");
    assert_eq!(y(pf.act_pay_dedc), "100.00");
    assert_eq!(y(pf.fulamt_ownpay_amt), "0.00");
    // 10,100 − 7,904.62 paid = 2,195.38 left (the co-pay paid off before the deductible).
    assert_eq!(y(s.fund_total), "7904.62");
    assert_eq!(oop(&s), ["100.00", "2095.38", "0.00", "0.00", "2195.38"]);
}

/// The parts outside the scope may add up to the bill, not more: refused with the path on every
/// entry point, also when the Settler reuses the previous claim's situation.
#[test]
fn parts_above_the_total_are_refused() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.5"));
    p.add(a);
    let policy = p.build();
    let part = |total: &str, out: &str, pre: &str, over: &str| {
        with(claim("2024-05-01", total), |c| {
            c.amounts.out_of_list = m(out);
            c.amounts.pre_self_pay = m(pre);
            c.amounts.over_limit = m(over);
        })
    };
    let (r, _) = year_of(
        &policy,
        &[
            part("1000", "500", "300", "200"),
            part("1000", "500", "300", "200.01"),
            part("1000", "0", "0", "1000"),
            part("1000", "1000.01", "0", "0"),
        ],
    );
    let s = r[0].as_ref().unwrap();
    assert_eq!(y(s.amounts.in_scope), "0.00");
    assert_eq!(oop(s)[4], "1000.00");
    let e = r[1].as_ref().unwrap_err().to_string();
    assert_eq!(
        e,
        "amounts: out_of_list + pre_self_pay + over_limit = 1000.01 is more than the total 1000.00"
    );
    assert!(r[2].is_ok());
    assert!(r[3].is_err());
}

/// The Settler plans each situation once: claims that differ in one dimension each get their
/// own figures, and a situation seen before gets its plan back.
#[test]
fn the_settler_tells_every_situation_apart() {
    let mut p = P::new();
    let mut a = layer("basic");
    let v = |p: &mut P, name: &str, vals: &[&str]| -> Vec<Option<Value>> {
        vals.iter()
            .enumerate()
            .map(|(i, x)| Some(p.fig(&format!("{name}.{i}"), x)))
            .collect()
    };
    // The deductible is the sum of one figure per dimension.
    let sum = [
        (Dim::Group, v(&mut p, "g", &["0", "1"])),
        (Dim::Care, v(&mut p, "c", &["0", "10"])),
        (Dim::Level, v(&mut p, "l", &["0", "100", "200"])),
        (Dim::Place, v(&mut p, "p", &["0", "1000"])),
        (Dim::Category, v(&mut p, "k", &["10000", "20000"])),
        (Dim::Disease, v(&mut p, "d", &["100000", "200000"])),
    ]
    .into_iter()
    .map(|(dim, entries)| ev(table(dim, entries, Some(p_zero()))))
    .reduce(|x, y| Expr::Add(Box::new(x), Box::new(y)))
    .unwrap();
    a.deductible = ded(DeductiblePer::Admission, Value::Expr(Box::new(sum)));
    a.bands = flat(p.fig("basic.ratio", "1"));
    p.add(a);
    let policy = p.build();
    let base = claim("2024-05-01", "1000000");
    let vary: Vec<Edit> = vec![
        Box::new(|_: &mut yibao_engine::Claim| {}),
        Box::new(|c: &mut yibao_engine::Claim| c.group = Some("retired".into())),
        Box::new(|c: &mut yibao_engine::Claim| c.care = "outpatient".into()),
        Box::new(|c: &mut yibao_engine::Claim| c.level = Some("3".into())),
        Box::new(|c: &mut yibao_engine::Claim| c.place = Some("other".into())),
        Box::new(|c: &mut yibao_engine::Claim| c.categories = vec!["min_allowance".into()]),
        Box::new(|c: &mut yibao_engine::Claim| {
            c.categories = vec!["min_allowance".into(), "destitute".into()]
        }),
        Box::new(|c: &mut yibao_engine::Claim| c.disease = Some("cancer".into())),
        Box::new(|_: &mut yibao_engine::Claim| {}),
    ];
    // Each claim differs from the one before in one dimension only: the base claim between
    // every two changes.
    let claims: Vec<_> = vary
        .iter()
        .flat_map(|f| [base.clone(), with(base.clone(), |c| f(c))])
        .collect();
    let (s, _) = all(&policy, &claims);
    let deds: Vec<String> = s
        .iter()
        .skip(1)
        .step_by(2)
        .map(|x| y(x.layers[0].deductible))
        .collect();
    // No category: the table's default 0; min_allowance 20,000; with destitute (declared
    // first) 10,000 whatever the order listed.
    assert_eq!(
        deds,
        [
            "0.00",
            "1.00",
            "10.00",
            "200.00",
            "1000.00",
            "20000.00",
            "10000.00",
            "200000.00",
            "0.00"
        ]
    );
    assert!(s
        .iter()
        .step_by(2)
        .all(|x| y(x.layers[0].deductible) == "0.00"));
    // The same claims one by one, each from a fresh settler, give the same.
    for (c, want) in claims.iter().zip(&s) {
        let alone = one(&policy, c.clone());
        assert_eq!(alone.layers, want.layers);
        assert_eq!(alone.out_of_pocket, want.out_of_pocket);
        assert_eq!(alone.warnings, want.warnings);
    }
    // A case code is part of the situation too.
    let with_case = with(base.clone(), |c| c.case_code = Some("X".into()));
    let (s, _) = all(&policy, &[base.clone(), with_case, base]);
    assert_eq!(codes(&s[1]), ["case_code_ignored"]);
    assert!(codes(&s[2]).is_empty());
}

fn p_zero() -> Value {
    Value::Const {
        value: d("0"),
        params: vec![],
        flagged: false,
    }
}

/// Figures a result relied on are named once, sorted, however many parameters the policy has:
/// placeholders under `unverified`, the caller's values under `overrides`.
#[test]
fn flagged_figures_past_the_first_word() {
    let mut p = P::new();
    for i in 0..70 {
        p.ph(&format!("filler.{i}"), "1");
    }
    let mut a = layer("basic");
    a.deductible = ded(DeductiblePer::Admission, p.ph("basic.deductible", "100"));
    a.bands = flat(p.overridden("basic.ratio", "0.6", "0.5"));
    let cap_v = p.ph("basic.cap", "100000");
    a.caps = vec![cap(CapPer::Claim, cap_v)];
    let mut b = layer("late");
    b.base = remaining(&[Component::CoPay]);
    b.bands = flat(p.fig("late.ratio", "0.5"));
    p.add(a).add(b);
    // 200 more placeholders nobody uses.
    for i in 0..200 {
        p.ph(&format!("tail.{i}"), "1");
    }
    let policy = p.build();
    let s = one(&policy, claim("2024-05-01", "1100"));
    // (1,100 − 100) × 60% = 600; late: 400 × 50% = 200.
    assert_eq!((pay(&s, 0), pay(&s, 1)), ("600.00".into(), "200.00".into()));
    let names: Vec<&str> = s.unverified.iter().map(|u| u.path()).collect();
    assert_eq!(names, ["basic.deductible", "basic.cap"]);
    let over: Vec<&str> = s.overrides.iter().map(|u| u.path()).collect();
    assert_eq!(over, ["basic.ratio"]);
    assert_eq!(s.overrides[0].overridden_with().map(y), Some("0.60".into()));
    assert_eq!(codes(&s), ["unverified"]);

    // Nothing flagged: nothing named.
    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.6"));
    p.add(a);
    let s = one(&p.build(), claim("2024-05-01", "1000"));
    assert!(s.unverified.is_empty() && s.overrides.is_empty() && s.warnings.is_empty());
    // A version whose date is a placeholder says so.
    let mut p2 = P::new();
    let mut a = layer("basic");
    a.bands = flat(p2.fig("basic.ratio", "0.6"));
    p2.add(a);
    p2.policy.effective_provenance.provenance = Provenance::Placeholder;
    let s = one(&p2.build(), claim("2024-05-01", "1000"));
    assert_eq!(codes(&s), ["unverified_version_date"]);
}

/// A layer on what others left pays the parts off in the order its base names them.
#[test]
fn remaining_parts_are_paid_in_order() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.deductible = ded(DeductiblePer::Admission, p.fig("basic.deductible", "1000"));
    a.bands = flat(p.fig("basic.ratio", "0.8"));
    let mut b = layer("aid");
    b.base = remaining(&[Component::CoPay, Component::Deductible]);
    b.bands = flat(p.fig("aid.ratio", "0.75"));
    p.add(a).add(b);
    let s = one(&p.build(), claim("2024-05-01", "6000"));
    // basic: 5,000 × 80% = 4,000; co-pay 1,000, deductible 1,000. aid: 2,000 × 75% = 1,500:
    // all 1,000 of the co-pay, then 500 of the deductible.
    assert_eq!(pay(&s, 1), "1500.00");
    assert_eq!(oop(&s), ["500.00", "0.00", "0.00", "0.00", "500.00"]);
}

/// The explanation of a plain claim, step by step.
#[test]
fn the_explanation_of_one_claim() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.deductible = ded(DeductiblePer::Admission, p.fig("basic.deductible", "1000"));
    a.bands = flat(p.fig("basic.ratio", "0.85"));
    a.caps = vec![cap(CapPer::Claim, p.fig("basic.cap", "100000"))];
    let mut b = layer("aid");
    b.kind = LayerKind::MedicalAid;
    b.platform_field = "maf_pay".into();
    b.base = remaining(&[Component::CoPay, Component::Deductible]);
    b.bands = flat(p.fig("aid.ratio", "0.5"));
    p.add(a).add(b);
    let s = one(
        &p.build(),
        with(claim("2024-05-01", "11000"), |c| {
            c.amounts.out_of_list = m("1000")
        }),
    );
    // Scope 10,000; deductible 1,000; 9,000 × 85% = 7,650; aid: (1,350 + 1,000) × 50% = 1,175,
    // paid off the co-pay first (1,350 − 1,175 = 175 left). Patient 1,000 + 175 + 1,000 out of
    // the list = 2,175; funds 8,825.
    assert_eq!(
        (pay(&s, 0), pay(&s, 1)),
        ("7650.00".into(), "1175.00".into())
    );
    assert_eq!(oop(&s), ["1000.00", "175.00", "0.00", "0.00", "2175.00"]);
    let steps: Vec<(StepKind, Option<&str>, String)> = s
        .trace
        .iter()
        .map(|t| (t.kind, t.layer.as_deref(), y(t.value)))
        .collect();
    let want: Vec<(StepKind, Option<&str>, String)> = vec![
        (StepKind::Split, None, "10000.00".into()),
        (StepKind::Base, Some("basic"), "10000.00".into()),
        (StepKind::Deductible, Some("basic"), "1000.00".into()),
        (StepKind::Band, Some("basic"), "9000.00".into()),
        (StepKind::Cap, Some("basic"), "100000.00".into()),
        (StepKind::Payment, Some("basic"), "7650.00".into()),
        (StepKind::Base, Some("aid"), "2350.00".into()),
        (StepKind::Band, Some("aid"), "2350.00".into()),
        (StepKind::Payment, Some("aid"), "1175.00".into()),
        (StepKind::OutOfPocket, None, "2175.00".into()),
    ];
    assert_eq!(steps, want);
    let t = &s.trace;
    assert_eq!(
        t[0].zh,
        "医疗费总额 11000.00：全自费 1000.00，先行自付 0.00，超限价自付 0.00，政策范围内费用 10000.00"
    );
    assert_eq!(t[1].zh, "basic层：计算基数 政策范围内费用 = 10000.00");
    assert_eq!(
        t[2].zh,
        "起付标准 1000.00（本年第 1 次），本次计入起付线 1000.00"
    );
    assert_eq!(t[3].zh, "按比例支付：9000.00 × 85% = 7650.00");
    assert_eq!(t[4].zh, "最高支付限额 100000.00，本次可支付 100000.00");
    assert_eq!(t[5].zh, "basic层支付 7650.00（7650.00 四舍五入到分）");
    assert_eq!(
        t[5].en,
        "basic layer pays 7650.00 (7650.00 rounded to the cent)"
    );
    assert_eq!(
        t[6].en,
        "aid layer: base = what earlier layers left the patient: co_pay + deductible = 2350.00"
    );
    assert_eq!(t[9].zh, "基金合计支付 8825.00，个人负担 2175.00");
    assert_eq!(t[2].params.len(), 1);
    assert_eq!(t[2].params[0].path(), "basic.deductible");
    assert_eq!(t[2].cite.as_ref().unwrap().text, "deductible");
    let line = &s.layers[0].bands[0];
    assert_eq!(
        (y(line.from), line.to, y(line.amount)),
        ("0.00".into(), None, "9000.00".into())
    );
    assert_eq!(line.ratio, d("0.85"));
    // A capped payment says so.
    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.5"));
    a.caps = vec![cap(CapPer::Claim, p.fig("basic.cap", "100"))];
    p.add(a);
    let s = one(&p.build(), claim("2024-05-01", "1000"));
    let pay_step = s
        .trace
        .iter()
        .find(|t| t.kind == StepKind::Payment)
        .unwrap();
    assert_eq!(
        pay_step.zh,
        "basic层支付 100.00（按比例应付 500.00，受最高支付限额限制）"
    );
    assert_eq!(pay_step.cite.as_ref().unwrap().text, "cap");
}

/// `plus special_drugs`: a later layer's base adds the claim's special drugs (a part of 全自费),
/// and pays them after the components it names.
#[test]
fn a_base_plus_special_drugs() {
    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.7"));
    p.add(a);
    let mut b = layer("big");
    b.base = remaining(&Component::IN_SCOPE);
    b.plus_special_drugs = true;
    b.bands = flat(p.fig("big.ratio", "0.5"));
    p.add(b);
    let policy = p.build();
    let c = with(claim("2024-03-01", "10000"), |c| {
        c.amounts.out_of_list = m("4000");
        c.amounts.special_drugs = m("3000");
    });
    // basic: 6,000 × 70% = 4,200, co-pay 1,800; big: (1,800 + 3,000) × 50% = 2,400 — the co-pay
    // 1,800 first, then 600 of the special drugs: 全自费 4,000 → 3,400.
    let s = one(&policy, c.clone());
    assert_eq!(
        (pay(&s, 0), pay(&s, 1)),
        ("4200.00".into(), "2400.00".into())
    );
    assert_eq!(y(s.layers[1].base), "4800.00");
    assert_eq!(y(s.out_of_pocket.out_of_list), "3400.00");
    assert_eq!(y(s.out_of_pocket.co_pay), "0.00");
    // Without the flag the drugs are not counted: 1,800 × 50% = 900.
    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.7"));
    p.add(a);
    let mut b = layer("big");
    b.base = remaining(&Component::IN_SCOPE);
    b.bands = flat(p.fig("big.ratio", "0.5"));
    p.add(b);
    assert_eq!(pay(&one(&p.build(), c.clone()), 1), "900.00");
    // More special drugs than 全自费 is a bad claim.
    let bad = with(c, |c| c.amounts.special_drugs = m("5000"));
    let (r, _) = year_of(&policy, &[bad]);
    let e = r[0].as_ref().unwrap_err().to_string();
    assert!(
        e.contains("special_drugs 5000.00 is more than out_of_list 4000.00"),
        "{e}"
    );
}
