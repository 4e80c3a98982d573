//! The syntax tree of a policy file. Every node keeps its [`Span`]; equality ignores spans, so
//! two trees that say the same thing compare equal wherever they were written.

use rust_decimal::Decimal;
use yibao_engine::ir::{CareFact, CmpOp, Component, CostKind, Dim, LimitPer, Provenance};
use yibao_engine::Date;

use crate::source::Span;

/// A value with the place it was written. `PartialEq` compares the value only.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    /// The node.
    pub node: T,
    /// Where it was written.
    pub span: Span,
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

/// A span that equality ignores, for nodes that carry one beside their fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct Loc(pub Span);

impl PartialEq for Loc {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Spanned<T> {
    /// Wraps `node` with the span it was written at.
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

/// A parsed policy file: one version of one scheme of one region.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyFile {
    /// The `policy region.scheme "中文" "English"` line.
    pub header: Header,
    /// The statements after the header, in the order written.
    pub items: Vec<Spanned<Item>>,
}

/// The header: `policy region.scheme "中文名" "English name"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// `region.scheme`
    pub id: Spanned<String>,
    /// The policy's name in Chinese.
    pub name: Spanned<String>,
    /// Its name in English, when written.
    pub name_en: Option<Spanned<String>>,
}

/// A top-level statement of a policy file.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// The date a version takes effect, with the provenance of the date itself.
    Effective(Spanned<Date>, Option<Prov>),
    /// How long the version's (or some layers') figures are known to hold.
    Validity(ValidityDecl),
    /// `extends region.scheme@DATE`: this version states its changes over that one.
    Extends {
        /// The parent's id, `region.scheme`.
        id: Spanned<String>,
        /// The parent version's effective date.
        date: Spanned<Date>,
    },
    /// `source ID "title" url "..."`: a document the figures cite.
    Source(SourceDecl),
    /// `indicator name = expr [prov]`: a published figure (the average wage, say) formulas may name.
    Indicator {
        /// The indicator's name.
        name: Spanned<String>,
        /// Its formula; the compiler folds it to a constant.
        value: Expr,
        /// The provenance written after the formula.
        prov: Option<Prov>,
    },
    /// `groups`/`categories`/`care`/`levels`/`places`/`diseases`: a dimension's values.
    Dims(DimsDecl),
    /// `cases { ... }`: the per-case (按病种) standard fees.
    Cases(Vec<Spanned<CaseEntry>>),
    /// `layer id "中文" "English" { ... }`: one layer of payment (a fund).
    Layer(LayerDecl),
    /// `amend layer id { ... }`: in a version that `extends` another, replaces the parent layer's
    /// clauses of the same key (see `Clause::key`).
    Amend {
        /// The layer amended.
        id: Spanned<String>,
        /// The replacing clauses.
        clauses: Vec<Spanned<Clause>>,
    },
    /// `remove layer id`: in a version that `extends` another, drops the parent's layer.
    Remove(Spanned<String>),
}

/// `valid_until 2024-06-30 [prov]`, `confirmed 2023-05-27 layers [basic] [prov]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidityDecl {
    /// `valid_until` or `confirmed`.
    pub kind: Spanned<ValidityKind>,
    /// The date: the last day the figures are known to hold.
    pub date: Spanned<Date>,
    /// The layers it covers; `None` for the whole version.
    pub layers: Option<Vec<Spanned<String>>>,
    /// The provenance of the date.
    pub prov: Option<Prov>,
}

impl ValidityDecl {
    /// Whether two statements say the same kind of thing about the same figures (a later one
    /// replaces an earlier one).
    pub fn same_scope(&self, other: &ValidityDecl) -> bool {
        let names = |d: &ValidityDecl| {
            d.layers.as_ref().map(|ls| {
                let mut v: Vec<String> = ls.iter().map(|l| l.node.clone()).collect();
                v.sort();
                v
            })
        };
        self.kind.node == other.kind.node && names(self) == names(other)
    }
}

pub use yibao_engine::ir::ValidityKind;

/// `source ID "title" url "..."`: a document the policy's provenance tags cite.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceDecl {
    /// The id provenance tags cite it by (`TJ-a`).
    pub id: Spanned<String>,
    /// The document's title, unescaped.
    pub title: String,
    /// Its address, when `url "..."` is written.
    pub url: Option<String>,
}

/// Which dimension a `groups`/`care`/… declaration declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DimKw {
    /// `groups`: insured groups.
    Groups,
    /// `categories`: special categories of person (medical-aid categories).
    Categories,
    /// `care`: types of care.
    Care,
    /// `levels`: hospital levels.
    Levels,
    /// `places`: places of care.
    Places,
    /// `diseases`: diseases.
    Diseases,
}

impl DimKw {
    /// The claim dimension the keyword declares.
    pub fn dim(self) -> Dim {
        match self {
            DimKw::Groups => Dim::Group,
            DimKw::Categories => Dim::Category,
            DimKw::Care => Dim::Care,
            DimKw::Levels => Dim::Level,
            DimKw::Places => Dim::Place,
            DimKw::Diseases => Dim::Disease,
        }
    }
    /// The keyword as written.
    pub fn keyword(self) -> &'static str {
        match self {
            DimKw::Groups => "groups",
            DimKw::Categories => "categories",
            DimKw::Care => "care",
            DimKw::Levels => "levels",
            DimKw::Places => "places",
            DimKw::Diseases => "diseases",
        }
    }
}

/// A dimension declaration: `care [inpatient, ...]` or `groups { in_service "在职" "in service" }`.
#[derive(Debug, Clone, PartialEq)]
pub struct DimsDecl {
    /// The keyword, which says the dimension.
    pub kw: Spanned<DimKw>,
    /// `true` for the `[a, b]` list form, whose labels come from the national vocabulary.
    pub list_form: bool,
    /// The declared values, in order.
    pub entries: Vec<Spanned<DimEntry>>,
}

/// One declared dimension value.
#[derive(Debug, Clone, PartialEq)]
pub struct DimEntry {
    /// The value's key (`inpatient`, `3`).
    pub key: Spanned<String>,
    /// Its Chinese label; `None` in the list form (the national vocabulary's is used).
    pub zh: Option<String>,
    /// Its English label; `None` in the list form or when the block gives only the Chinese one.
    pub en: Option<String>,
}

/// One per-case (按病种) standard in `cases { ... }`: `C01 "阑尾切除术" 10000 [prov]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseEntry {
    /// The case code.
    pub code: Spanned<String>,
    /// The case's name.
    pub name: String,
    /// The standard fee in yuan (may be a table).
    pub standard: Value,
    /// The provenance written after the fee.
    pub prov: Option<Prov>,
}

/// `layer id "中文" "English" kind K { clauses }`: one layer of payment (a fund).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerDecl {
    /// The layer's id (`basic`).
    pub id: Spanned<String>,
    /// Its name in Chinese.
    pub label: String,
    /// Its name in English, when written.
    pub label_en: Option<String>,
    /// The `kind K` written; `None` when omitted, and then the id must name a kind
    /// (`serious_illness`, `medical_aid`, ...).
    pub kind: Option<Spanned<String>>,
    /// Its clauses, in the order written.
    pub clauses: Vec<Spanned<Clause>>,
}

/// `dim in [keys]`: a claim's value along a dimension is one of the keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    /// The dimension tested.
    pub dim: Spanned<Dim>,
    /// The keys that select.
    pub keys: Vec<Spanned<String>>,
}

/// `base ...`: what a layer works on.
#[derive(Debug, Clone, PartialEq)]
pub enum BaseSpec {
    /// `base in_scope`: the claim's policy-scope amount.
    InScope,
    /// `base remaining ... after L`: what earlier layers left the patient.
    Remaining {
        /// The components paid from, in order (`remaining [above_cap, co_pay]`); `None` for
        /// `remaining in_scope`, the in-scope components in their usual order.
        components: Option<Vec<Spanned<Component>>>,
        /// The earlier layer it builds on (`after basic`), checked to come before this one; `None` when
        /// not written.
        after: Option<Spanned<String>>,
        /// `plus special_drugs`: also the claim's items on the provincial 大病 special-drug,
        /// consumables and services lists; the span of the words.
        special_drugs: Option<Spanned<()>>,
    },
    /// Long-term care: the month's costs of these kinds.
    Cost(Vec<Spanned<CostKind>>),
}

/// `measure ...`: what a layer's bands are placed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeasureKw {
    /// `claim`: this claim's base (the default).
    Claim,
    /// `year`: the year's accumulated base, deductibles included.
    Year,
    /// `year_covered`: the year's accumulated base above each claim's deductible.
    YearCovered,
}

impl MeasureKw {
    /// The keyword as written.
    pub fn keyword(self) -> &'static str {
        match self {
            MeasureKw::Claim => "claim",
            MeasureKw::Year => "year",
            MeasureKw::YearCovered => "year_covered",
        }
    }
}

/// When a `deductible` clause charges: `per_admission` or `per_year`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeductiblePerKw {
    /// `per_admission`: on each claim (admission).
    Admission,
    /// `per_year`: once per year.
    Year,
}

/// `referral ...`: how a referred admission's deductible counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralKw {
    /// `continuous`: only what the referral chain has not yet paid of its deductible.
    Continuous,
    /// `separate`: a referral starts afresh (the default).
    Separate,
    /// `difference`: its deductible less what the chain has already paid.
    Difference,
}

impl ReferralKw {
    /// The keyword as written.
    pub fn keyword(self) -> &'static str {
        match self {
            ReferralKw::Continuous => "continuous",
            ReferralKw::Separate => "separate",
            ReferralKw::Difference => "difference",
        }
    }
}

/// A clause of a `layer` or `amend` block. A `prov` field is the provenance written at the end
/// of the clause, covering its numbers that carry none of their own.
#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    /// `when cond and cond ...`: the claims the layer applies to.
    When(Vec<Cond>),
    /// `base ...`: what the layer works on.
    Base(BaseSpec),
    /// `measure ...`: what the bands are placed over.
    Measure(MeasureKw),
    /// `deductible per_admission|per_year V`: the layer's deductible (起付线), in yuan.
    Deductible {
        /// When it is charged.
        per: DeductiblePerKw,
        /// How much, in yuan (may be a table).
        value: Value,
        /// The clause's provenance.
        prov: Option<Prov>,
    },
    /// `deductible from_admission N V`: from the N-th claim of the layer in the year on, the
    /// deductible is `V`, in which `deductible` names the first deductible.
    Later {
        /// N, the first admission it applies to.
        from: Spanned<u32>,
        /// The deductible from then on, in yuan.
        value: Value,
        /// The clause's provenance.
        prov: Option<Prov>,
    },
    /// `deductible every V days`: a stay of more than V days pays the per-admission deductible
    /// once for each period of V days begun.
    Every {
        /// V, the period in days (may be a table).
        value: Value,
        /// The clause's provenance.
        prov: Option<Prov>,
    },
    /// `referral continuous|separate|difference`.
    Referral(ReferralKw),
    /// `ratio V`: the share of the base the fund pays, as one open-ended band.
    Ratio {
        /// The ratio, a fraction (`85%`), possibly a table.
        value: Value,
        /// The clause's provenance.
        prov: Option<Prov>,
    },
    /// `bands relative? { to X: R ... above: R }`: the ratio paid in each band of the measure.
    Bands {
        /// `relative`: edges are measured from the deductible rather than from zero.
        relative: bool,
        /// The bands, lowest first.
        bands: Vec<Spanned<BandDecl>>,
    },
    /// `cap per_year|per_claim|per_month V`: a cap (封顶线) on what the layer pays, in yuan.
    Cap {
        /// What the cap limits, with its figure.
        per: CapPerDecl,
        /// The clause's provenance.
        prov: Option<Prov>,
    },
    /// `for cond and ... { ops }`: changes figures for the claims the conditions select.
    For {
        /// `referred` (`true`) or `not referred` (`false`), as written (the checker allows one).
        referred: Vec<Spanned<bool>>,
        /// The dimension conditions, all of which must hold.
        conds: Vec<Cond>,
        /// The changes, applied in order.
        ops: Vec<Spanned<ModOpDecl>>,
    },
    /// `per_case share V`: per-case (按病种) settlement; the patient pays `V` of the case's standard
    /// fee and the layer the rest of the in-scope amount.
    PerCase {
        /// The patient's share of the standard fee, a fraction.
        share: Value,
        /// The clause's provenance.
        prov: Option<Prov>,
    },
    /// `field name`: the national platform field the layer pays into, instead of its kind's default.
    Field(Spanned<String>),
    /// Long-term care: `limit per_day|per_month V`, a covered-cost limit.
    Limit {
        /// Whether the limit is per day of care or per month.
        per: LimitPer,
        /// The limit in yuan.
        value: Value,
        /// The clause's provenance.
        prov: Option<Prov>,
    },
    /// Long-term care: `require <fact> <op> V`.
    Require {
        /// The fact of the month tested.
        fact: Spanned<CareFact>,
        /// The comparison.
        op: CmpOp,
        /// The figure compared with.
        value: Value,
        /// The clause's provenance.
        prov: Option<Prov>,
    },
}

impl Clause {
    /// The key an `amend` replaces by: one clause of each key per layer (modifiers by selector).
    pub fn key(&self) -> String {
        match self {
            Clause::When(_) => "when".into(),
            Clause::Base(_) => "base".into(),
            Clause::Measure(_) => "measure".into(),
            Clause::Deductible { .. } => "deductible".into(),
            Clause::Later { .. } => "deductible from_admission".into(),
            Clause::Every { .. } => "deductible every".into(),
            Clause::Referral(_) => "referral".into(),
            Clause::Ratio { .. } | Clause::Bands { .. } => "rates".into(),
            // A payment may count toward several year caps, one per pool.
            Clause::Cap {
                per: CapPerDecl::Year { pool: Some(p), .. },
                ..
            } => format!("cap per_year pool {}", p.node),
            Clause::Cap {
                per: CapPerDecl::Year { .. },
                ..
            } => "cap per_year".into(),
            Clause::Cap {
                per: CapPerDecl::Claim { .. },
                ..
            } => "cap per_claim".into(),
            Clause::Cap {
                per: CapPerDecl::Month { pool: Some(p), .. },
                ..
            } => format!("cap per_month pool {}", p.node),
            Clause::Cap {
                per: CapPerDecl::Month { .. },
                ..
            } => "cap per_month".into(),
            Clause::For {
                referred, conds, ..
            } => {
                let mut s = String::from("for");
                for r in referred {
                    s.push_str(if r.node { " referred" } else { " not referred" });
                }
                for c in conds {
                    s.push(' ');
                    s.push_str(c.dim.node.name());
                    s.push_str(" in [");
                    s.push_str(
                        &c.keys
                            .iter()
                            .map(|k| k.node.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                    );
                    s.push(']');
                }
                s
            }
            Clause::PerCase { .. } => "per_case".into(),
            Clause::Field(_) => "field".into(),
            Clause::Limit { .. } => "limit".into(),
            Clause::Require { fact, .. } => format!("require {}", fact.node.name()),
        }
    }
}

/// One band of a `bands` clause: `to X: R [prov]` or `above: R [prov]`.
#[derive(Debug, Clone, PartialEq)]
pub struct BandDecl {
    /// `None` for `above:`.
    pub upto: Option<Value>,
    /// The ratio the fund pays in the band, a fraction.
    pub ratio: Value,
    /// The provenance written after the band.
    pub prov: Option<Prov>,
}

/// What a `cap` limits, with its figure in yuan.
#[derive(Debug, Clone, PartialEq)]
pub enum CapPerDecl {
    /// `per_year V pool P`: a year-to-date limit on what the pool has paid.
    Year {
        /// The cap.
        value: Value,
        /// The pool, shared by every layer naming it; `None` for the layer's own pool.
        pool: Option<Spanned<String>>,
    },
    /// `per_claim V`: a limit on what the layer pays on one claim.
    Claim {
        /// The cap.
        value: Value,
    },
    /// What the layer paid in the claim's calendar month; with a pool (care layers), what the
    /// pool's layers paid.
    Month {
        /// The cap.
        value: Value,
        /// The pool; `None` for the layer's own payments.
        pool: Option<Spanned<String>>,
    },
}

/// What a `for` op changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModTarget {
    /// The layer's deductible.
    Deductible,
    /// The ratio of each of the layer's bands.
    Ratio,
    /// Each of the layer's caps.
    Cap,
}

impl ModTarget {
    /// The target's keyword, which also names its current value in the op's expression.
    pub fn name(self) -> &'static str {
        match self {
            ModTarget::Deductible => "deductible",
            ModTarget::Ratio => "ratio",
            ModTarget::Cap => "cap",
        }
    }
}

/// How a `for` op changes its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModOperator {
    /// `=`: sets it to the expression.
    Set,
    /// `×` or `*`: multiplies it by the expression.
    Mul,
    /// `+`: adds the expression to it.
    Add,
    /// `-`: subtracts the expression from it.
    Sub,
}

impl ModOperator {
    /// The operator in canonical form (`×` for both `×` and `*`).
    pub fn symbol(self) -> &'static str {
        match self {
            ModOperator::Set => "=",
            ModOperator::Mul => "×",
            ModOperator::Add => "+",
            ModOperator::Sub => "-",
        }
    }
}

/// One change in a `for` block.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "a syntax tree node, built once per policy"
)]
pub enum ModOpDecl {
    /// `no cap`: the layer's caps do not apply.
    NoCap,
    /// `target operator expr [prov]`, e.g. `ratio + 5%` or `deductible × 50%`.
    Op {
        /// What it changes.
        target: ModTarget,
        /// How.
        op: ModOperator,
        /// The operand; it may name the target for its current value (`ratio = 1 - 60% × (1 - ratio)`).
        expr: Expr,
        /// The provenance written after the op.
        prov: Option<Prov>,
    },
}

/// A figure as written: a table, arithmetic or `none`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `by dim { ... }`: a figure keyed by a claim dimension.
    Table(Table),
    /// Arithmetic: a number, a name or a formula.
    Expr(Expr),
    /// `none`: no figure; its span and provenance.
    None {
        /// Where `none` was written.
        span: Loc,
        /// The provenance written after `none` (`[placeholder]` marks an unknown figure).
        prov: Option<Prov>,
    },
}

/// `by dim { key: V ... else: V } [prov]`: a figure that depends on the claim's value along `dim`.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The dimension it is keyed by.
    pub dim: Spanned<Dim>,
    /// Its entries, in the order written.
    pub entries: Vec<Spanned<TableEntry>>,
    /// The provenance written after the closing brace.
    pub prov: Option<Prov>,
}

/// One entry of a table: `key: V [prov]` or `else: V [prov]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TableEntry {
    /// `None` for `else:`.
    pub key: Option<Spanned<String>>,
    /// The entry's figure (a nested table is allowed).
    pub value: Value,
    /// The provenance written after the entry.
    pub prov: Option<Prov>,
}

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `×` or `*`.
    Mul,
    /// `/` or `÷`.
    Div,
}

impl BinOp {
    /// The operator in canonical form (`×` for multiplication, `/` for division).
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "×",
            BinOp::Div => "/",
        }
    }
}

/// A function of two arguments an expression may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `min(a, b)`: the smaller.
    Min,
    /// `max(a, b)`: the larger.
    Max,
}

/// Arithmetic as written (the grammar's `expr`).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number, with its unit and provenance.
    Num(Spanned<Number>),
    /// A name: an indicator, or the value being modified (`ratio`, `deductible` or `cap` in a
    /// `for` op, `deductible` in a `from_admission` clause).
    Name(Spanned<String>),
    /// `( ... )`: a parenthesised expression, kept so the canonical text keeps it.
    Paren(Box<Spanned<Expr>>),
    /// `a op b`.
    Bin(BinOp, Box<Spanned<Expr>>, Box<Spanned<Expr>>),
    /// `min(a, b)` or `max(a, b)`.
    Call(Func, Box<Spanned<Expr>>, Box<Spanned<Expr>>),
}

/// The written unit of a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A bare number: money where money is expected, a count where a count is.
    None,
    /// `85%`: a ratio (0.85).
    Percent,
    /// `30万`: 300000 yuan.
    Wan,
    /// `800元`: yuan.
    Yuan,
}

/// A number literal.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    /// As written, e.g. `85%`.
    pub text: String,
    /// The value in base units (yuan, or a fraction for a ratio).
    pub value: Decimal,
    /// The unit written.
    pub unit: Unit,
    /// The provenance written right after the number; `None` when it has none of its own.
    pub prov: Option<Prov>,
}

/// A provenance tag: `[official SRC]`, `[derived "formula"]`, `[placeholder "why"]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Prov {
    /// How sure the figures are.
    pub kind: Provenance,
    /// The cited source's id (declared by `source`), when written.
    pub source: Option<Spanned<String>>,
    /// The note in quotes (why a placeholder, how derived), when written.
    pub note: Option<String>,
    /// Where the tag was written.
    pub span: Loc,
}
