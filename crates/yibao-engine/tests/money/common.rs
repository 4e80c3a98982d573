//! Building policies as IR, claims, and settling each claim through every entry point.
//!
//! Every case goes through `settle` traced and untraced, `settle_in_place`, `settle_outcome` and
//! one `Settler` kept across the case's claims: they must agree on every number, warning and
//! state, and the money must add up (payments plus out-of-pocket equal the total).

use std::sync::Arc;

use rust_decimal::Decimal;
use yibao_engine::ir::*;
use yibao_engine::settlement::Settlement;
use yibao_engine::{
    settle, settle_in_place, settle_outcome, Claim, Date, Money, Outcome, SettleError,
    SettleOptions, Settler, YtdState,
};

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub fn m(s: &str) -> Money {
    s.parse().unwrap()
}

pub fn cite(text: &str) -> Cite {
    Cite {
        file: "money.policy".into(),
        line: 1,
        column: 1,
        text: text.into(),
    }
}

fn dim(ids: &[&str]) -> Vec<DimValue> {
    ids.iter()
        .map(|i| DimValue {
            id: (*i).into(),
            zh: format!("{i}组"),
            en: (*i).into(),
        })
        .collect()
}

/// A policy under construction: its dimensions, parameters, pools and layers.
pub struct P {
    pub policy: Policy,
}

impl Default for P {
    fn default() -> P {
        P::new()
    }
}

impl P {
    pub fn new() -> P {
        let mut policy = Policy::example_flat("money", Decimal::ZERO, Decimal::ONE);
        policy.effective_provenance.provenance = Provenance::Official;
        policy.dims = Dims {
            groups: dim(&["in_service", "retired"]),
            categories: dim(&["destitute", "min_allowance"]),
            care: dim(&["inpatient", "outpatient"]),
            levels: dim(&["1", "2", "3"]),
            places: dim(&["local", "other"]),
            diseases: dim(&["dialysis", "cancer"]),
        };
        policy.layers.clear();
        policy.params.clear();
        P { policy }
    }

    fn param(&mut self, path: &str, v: &str, provenance: Provenance) -> ParamId {
        let id = self.policy.params.len() as ParamId;
        self.policy.params.push(Arc::new(ParamInfo {
            path: path.into(),
            text: v.into(),
            value: if v.is_empty() { Decimal::ZERO } else { d(v) },
            provenance,
            source: Some("test".into()),
            note: None,
            cite: cite(path),
            overridden: None,
        }));
        id
    }

    /// An official figure.
    pub fn fig(&mut self, path: &str, v: &str) -> Value {
        let id = self.param(path, v, Provenance::Official);
        Value::Const {
            value: d(v),
            params: vec![id],
            flagged: false,
        }
    }

    /// A placeholder figure (flagged: results must name it).
    pub fn ph(&mut self, path: &str, v: &str) -> Value {
        let id = self.param(path, v, Provenance::Placeholder);
        Value::Const {
            value: d(v),
            params: vec![id],
            flagged: true,
        }
    }

    /// An official figure the caller overrode with `v` (the policy said `own`).
    pub fn overridden(&mut self, path: &str, v: &str, own: &str) -> Value {
        let id = self.param(path, v, Provenance::Official);
        let mut info = (*self.policy.params[id as usize]).clone();
        info.overridden = Some(d(own));
        self.policy.params[id as usize] = Arc::new(info);
        Value::Const {
            value: d(v),
            params: vec![id],
            flagged: true,
        }
    }

    /// `none [placeholder]`: a figure not known here.
    pub fn unknown(&mut self, path: &str) -> Value {
        let id = self.param(path, "", Provenance::Placeholder);
        Value::None {
            params: vec![id],
            unknown: true,
        }
    }

    /// `none`: the policy has no such figure.
    pub fn none(&mut self, path: &str) -> Value {
        let id = self.param(path, "", Provenance::Official);
        Value::None {
            params: vec![id],
            unknown: false,
        }
    }

    pub fn pool(&mut self, name: &str) -> u32 {
        self.policy.pools.push(name.into());
        (self.policy.pools.len() - 1) as u32
    }

    pub fn add(&mut self, mut l: Layer) -> &mut P {
        l.ratio_may_be_unknown = l
            .bands
            .as_ref()
            .is_some_and(|b| b.bands.iter().any(|x| x.ratio.may_be_unknown()));
        self.policy.layers.push(l);
        self
    }

    pub fn build(&self) -> Arc<Policy> {
        Arc::new(self.policy.clone())
    }
}

/// A constant inside a formula (no parameter).
pub fn k(v: &str) -> Expr {
    Expr::Value(Value::Const {
        value: d(v),
        params: vec![],
        flagged: false,
    })
}

pub fn ev(v: Value) -> Expr {
    Expr::Value(v)
}

pub fn table(dim: Dim, entries: Vec<Option<Value>>, default: Option<Value>) -> Value {
    Value::Table {
        dim,
        entries,
        default: default.map(Box::new),
    }
}

/// A layer on the policy-scope amount, paying nothing until bands are given.
pub fn layer(id: &str) -> Layer {
    Layer {
        id: id.into(),
        kind: LayerKind::Basic,
        label: format!("{id}层").into(),
        label_en: Some(format!("{id} layer").into()),
        platform_field: "hifp_pay".into(),
        when: Selector::default(),
        base: Base::InScope,
        plus_special_drugs: false,
        measure: Measure::Claim,
        deductible: None,
        bands: None,
        caps: vec![],
        modifiers: vec![],
        per_case: None,
        referral: Referral::Separate,
        cite: cite(id),
        ratio_may_be_unknown: false,
        care: None,
    }
}

pub fn flat(ratio: Value) -> Option<Bands> {
    bands(false, vec![(None, ratio)])
}

pub fn bands(relative: bool, bs: Vec<(Option<Value>, Value)>) -> Option<Bands> {
    Some(Bands {
        relative,
        bands: bs
            .into_iter()
            .map(|(upto, ratio)| Band {
                upto,
                ratio,
                cite: cite("band"),
            })
            .collect(),
    })
}

pub fn ded(per: DeductiblePer, value: Value) -> Option<Deductible> {
    Some(Deductible {
        per,
        value,
        later: None,
        every: None,
        cite: cite("deductible"),
    })
}

pub fn cap(per: CapPer, value: Value) -> Cap {
    Cap {
        per,
        value,
        cite: cite("cap"),
    }
}

pub fn year(pool: u32) -> CapPer {
    CapPer::Year { pool }
}

pub fn remaining(cs: &[Component]) -> Base {
    Base::Remaining(cs.to_vec())
}

pub fn modifier(selector: Selector, ops: Vec<ModOp>, texts: &[&str]) -> Modifier {
    Modifier {
        selector,
        ops,
        op_texts: texts.iter().map(|t| t.to_string()).collect(),
        cite: cite("for"),
    }
}

/// An inpatient claim at a level-1 hospital on `date` for `total` yuan, all of it in the policy
/// scope.
pub fn claim(date: &str, total: &str) -> Claim {
    let date: Date = date.parse().unwrap();
    let mut c = Claim::simple(date, "inpatient", m(total));
    c.level = Some("1".into());
    c
}

/// A change to a claim.
pub type Edit = Box<dyn Fn(&mut Claim)>;

pub fn with(mut c: Claim, f: impl FnOnce(&mut Claim)) -> Claim {
    f(&mut c);
    c
}

/// The parts of the patient's share an outcome names, in `Component::ALL` order.
fn parts(s: &Settlement) -> [Money; 7] {
    let o = &s.out_of_pocket;
    [
        o.out_of_list,
        o.pre_self_pay,
        o.over_limit,
        o.deductible,
        o.co_pay,
        o.above_cap,
        o.not_covered,
    ]
}

/// Settles `claims` in order from a fresh state through every entry point, checks that they
/// agree and that the money adds up, and returns each claim's traced settlement (or its error)
/// and the final state.
pub fn year_of(
    policy: &Arc<Policy>,
    claims: &[Claim],
) -> (Vec<Result<Settlement, SettleError>>, YtdState) {
    year_from(policy, claims, YtdState::default())
}

pub fn year_from(
    policy: &Arc<Policy>,
    claims: &[Claim],
    start: YtdState,
) -> (Vec<Result<Settlement, SettleError>>, YtdState) {
    let traced = SettleOptions { trace: true };
    let plain = SettleOptions { trace: false };
    let mut settler = Settler::new(policy.clone());
    let (mut st_t, mut st_p, mut st_o, mut st_q) =
        (start.clone(), start.clone(), start.clone(), start);
    let mut results = Vec::new();
    for c in claims {
        let a = settle(policy, c, &st_t, &traced);
        let b = settle_in_place(policy, c, &mut st_p, &plain);
        let o = settle_outcome(policy, c, &mut st_o);
        let q = settler.settle_outcome(c, &mut st_q);
        match (a, b, o, q) {
            (Ok((a, next)), Ok(b), Ok(o), Ok(q)) => {
                let mut untraced = a.clone();
                untraced.trace.clear();
                assert_eq!(untraced, b, "traced and untraced settlements differ");
                assert!(b.trace.is_empty());
                assert_eq!(o, q, "settle_outcome and the Settler differ for {c:?}");
                agrees(policy, &a, &o);
                conserves(&a);
                st_t = next;
                results.push(Ok(a));
            }
            (Err(a), Err(b), Err(o), Err(q)) => {
                assert_eq!(a, b);
                assert_eq!(a, o);
                assert_eq!(a, q);
                results.push(Err(a));
            }
            (a, b, o, q) => panic!(
                "entry points disagree on success: settle {:?}, in place {:?}, outcome {:?}, settler {:?}",
                a.map(|_| ()),
                b.map(|_| ()),
                o.map(|_| ()),
                q.map(|_| ())
            ),
        }
        assert_eq!(
            st_p, st_o,
            "states differ: settle_in_place vs settle_outcome"
        );
        assert_eq!(st_p, st_q, "states differ: settle_in_place vs Settler");
        if results.last().is_some_and(|r| r.is_ok()) {
            assert_eq!(st_t, st_p, "states differ: settle vs settle_in_place");
        }
    }
    (results, st_p)
}

/// The numbers-only outcome says what the named settlement says.
fn agrees(policy: &Policy, s: &Settlement, o: &Outcome) {
    assert_eq!(o.layer_count(), s.layers.len());
    for (i, l) in s.layers.iter().enumerate() {
        assert_eq!(o.payment(i), l.payment, "layer {i} payment");
        assert_eq!(o.applied(i), l.applied, "layer {i} applied");
    }
    assert_eq!(o.payment(s.layers.len()), Money::ZERO);
    assert!(!o.applied(s.layers.len()));
    assert_eq!(o.in_scope(), s.amounts.in_scope);
    assert_eq!(o.fund_total(), s.fund_total);
    assert_eq!(o.out_of_pocket(), s.out_of_pocket.total);
    for (c, want) in Component::ALL.iter().zip(parts(s)) {
        assert_eq!(o.out_of_pocket_part(*c), want, "part {}", c.name());
    }
    let left = s.out_of_pocket.above_cap.0
        + s.out_of_pocket.co_pay.0
        + s.out_of_pocket.deductible.0
        + s.out_of_pocket.not_covered.0;
    assert_eq!(o.in_scope_paid().0, s.amounts.in_scope.0 - left);
    assert_eq!(
        o.relies_on_flagged(),
        !(s.unverified.is_empty() && s.overrides.is_empty())
    );
    let named: Vec<_> = s
        .warnings
        .iter()
        .filter(|w| w.code != "unverified" && w.code != "unverified_version_date")
        .cloned()
        .collect();
    assert_eq!(o.warnings(policy), named);
}

/// Payments and the patient's parts add up to the bill.
fn conserves(s: &Settlement) {
    let paid: Decimal = s.layers.iter().map(|l| l.payment.0).sum();
    assert_eq!(paid, s.fund_total.0);
    let p: Decimal = parts(s).iter().map(|x| x.0).sum();
    assert_eq!(p, s.out_of_pocket.total.0);
    assert_eq!(s.fund_total.0 + s.out_of_pocket.total.0, s.amounts.total.0);
    assert_eq!(s.platform.fund_pay_sumamt, s.fund_total);
    assert_eq!(s.platform.psn_part_amt, s.out_of_pocket.total);
    assert_eq!(s.platform.inscp_scp_amt, s.amounts.in_scope);
    assert_eq!(s.platform.medfee_sumamt, s.amounts.total);
}

/// One claim from a fresh state, which must settle.
pub fn one(policy: &Arc<Policy>, c: Claim) -> Settlement {
    let (mut r, _) = year_of(policy, &[c]);
    r.remove(0).unwrap()
}

/// Each claim must settle; their settlements and the final state.
pub fn all(policy: &Arc<Policy>, claims: &[Claim]) -> (Vec<Settlement>, YtdState) {
    let (r, st) = year_of(policy, claims);
    (r.into_iter().map(Result::unwrap).collect(), st)
}

/// A money amount as text with two decimals.
pub fn y(x: Money) -> String {
    x.to_string()
}

/// A layer's payment, as text.
pub fn pay(s: &Settlement, i: usize) -> String {
    y(s.layers[i].payment)
}

/// The out-of-pocket parts as text: deductible, co-pay, above-cap, not covered, total.
pub fn oop(s: &Settlement) -> [String; 5] {
    let o = &s.out_of_pocket;
    [
        y(o.deductible),
        y(o.co_pay),
        y(o.above_cap),
        y(o.not_covered),
        y(o.total),
    ]
}

pub fn codes(s: &Settlement) -> Vec<&str> {
    s.warnings.iter().map(|w| &*w.code).collect()
}

/// A 50% layer with a per-claim cap of `v`; one claim of 5,000 (50% = 2,500 before the cap).
pub fn capped(v: &str) -> Result<Settlement, SettleError> {
    let mut p = P::new();
    let mut a = layer("basic");
    a.bands = flat(p.fig("basic.ratio", "0.5"));
    a.caps = vec![cap(CapPer::Claim, p.fig("basic.cap", v))];
    p.add(a);
    let (r, _) = year_of(&p.build(), &[claim("2024-05-01", "5000")]);
    r.into_iter().next().unwrap()
}
