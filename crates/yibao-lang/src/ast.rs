//! The syntax tree of a policy file. Every node keeps its [`Span`]; equality ignores spans, so
//! two trees that say the same thing compare equal wherever they were written.

use rust_decimal::Decimal;
use yibao_engine::ir::{CareFact, CmpOp, Component, CostKind, Dim, LimitPer, Provenance};
use yibao_engine::Date;

use crate::source::Span;

/// A value with the place it was written. `PartialEq` compares the value only.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub node: T,
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
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PolicyFile {
    pub header: Header,
    pub items: Vec<Spanned<Item>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// `region.scheme`
    pub id: Spanned<String>,
    pub name: Spanned<String>,
    pub name_en: Option<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// The date a version takes effect, with the provenance of the date itself.
    Effective(Spanned<Date>, Option<Prov>),
    /// How long the version's (or some layers') figures are known to hold.
    Validity(ValidityDecl),
    Extends {
        id: Spanned<String>,
        date: Spanned<Date>,
    },
    Source(SourceDecl),
    Indicator {
        name: Spanned<String>,
        value: Expr,
        prov: Option<Prov>,
    },
    Dims(DimsDecl),
    Cases(Vec<Spanned<CaseEntry>>),
    Layer(LayerDecl),
    Amend {
        id: Spanned<String>,
        clauses: Vec<Spanned<Clause>>,
    },
    Remove(Spanned<String>),
}

/// `valid_until 2024-06-30 [prov]`, `confirmed 2023-05-27 layers [basic] [prov]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidityDecl {
    pub kind: Spanned<ValidityKind>,
    pub date: Spanned<Date>,
    /// The layers it covers; `None` for the whole version.
    pub layers: Option<Vec<Spanned<String>>>,
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

#[derive(Debug, Clone, PartialEq)]
pub struct SourceDecl {
    pub id: Spanned<String>,
    pub title: String,
    pub url: Option<String>,
}

/// Which dimension a `groups`/`care`/… declaration declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DimKw {
    Groups,
    Categories,
    Care,
    Levels,
    Places,
    Diseases,
}

impl DimKw {
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

#[derive(Debug, Clone, PartialEq)]
pub struct DimsDecl {
    pub kw: Spanned<DimKw>,
    /// `true` for the `[a, b]` list form, whose labels come from the national vocabulary.
    pub list_form: bool,
    pub entries: Vec<Spanned<DimEntry>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DimEntry {
    pub key: Spanned<String>,
    pub zh: Option<String>,
    pub en: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseEntry {
    pub code: Spanned<String>,
    pub name: String,
    pub standard: Value,
    pub prov: Option<Prov>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LayerDecl {
    pub id: Spanned<String>,
    pub label: String,
    pub label_en: Option<String>,
    pub kind: Option<Spanned<String>>,
    pub clauses: Vec<Spanned<Clause>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    pub dim: Spanned<Dim>,
    pub keys: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BaseSpec {
    InScope,
    Remaining {
        components: Option<Vec<Spanned<Component>>>,
        after: Option<Spanned<String>>,
    },
    /// Long-term care: the month's costs of these kinds.
    Cost(Vec<Spanned<CostKind>>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeasureKw {
    Claim,
    Year,
    YearCovered,
}

impl MeasureKw {
    pub fn keyword(self) -> &'static str {
        match self {
            MeasureKw::Claim => "claim",
            MeasureKw::Year => "year",
            MeasureKw::YearCovered => "year_covered",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeductiblePerKw {
    Admission,
    Year,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralKw {
    Continuous,
    Separate,
    Difference,
}

impl ReferralKw {
    pub fn keyword(self) -> &'static str {
        match self {
            ReferralKw::Continuous => "continuous",
            ReferralKw::Separate => "separate",
            ReferralKw::Difference => "difference",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    When(Vec<Cond>),
    Base(BaseSpec),
    Measure(MeasureKw),
    Deductible {
        per: DeductiblePerKw,
        value: Value,
        prov: Option<Prov>,
    },
    Later {
        from: Spanned<u32>,
        value: Value,
        prov: Option<Prov>,
    },
    Referral(ReferralKw),
    Ratio {
        value: Value,
        prov: Option<Prov>,
    },
    Bands {
        relative: bool,
        bands: Vec<Spanned<BandDecl>>,
    },
    Cap {
        per: CapPerDecl,
        prov: Option<Prov>,
    },
    For {
        /// `referred` (`true`) or `not referred` (`false`), as written (the checker allows one).
        referred: Vec<Spanned<bool>>,
        conds: Vec<Cond>,
        ops: Vec<Spanned<ModOpDecl>>,
    },
    PerCase {
        share: Value,
        prov: Option<Prov>,
    },
    Field(Spanned<String>),
    /// Long-term care: `limit per_day|per_month V`, a covered-cost limit.
    Limit {
        per: LimitPer,
        value: Value,
        prov: Option<Prov>,
    },
    /// Long-term care: `require <fact> <op> V`.
    Require {
        fact: Spanned<CareFact>,
        op: CmpOp,
        value: Value,
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

#[derive(Debug, Clone, PartialEq)]
pub struct BandDecl {
    /// `None` for `above:`.
    pub upto: Option<Value>,
    pub ratio: Value,
    pub prov: Option<Prov>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CapPerDecl {
    Year {
        value: Value,
        pool: Option<Spanned<String>>,
    },
    Claim {
        value: Value,
    },
    /// What the layer paid in the claim's calendar month; with a pool (care layers), what the
    /// pool's layers paid.
    Month {
        value: Value,
        pool: Option<Spanned<String>>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModTarget {
    Deductible,
    Ratio,
    Cap,
}

impl ModTarget {
    pub fn name(self) -> &'static str {
        match self {
            ModTarget::Deductible => "deductible",
            ModTarget::Ratio => "ratio",
            ModTarget::Cap => "cap",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModOperator {
    Set,
    Mul,
    Add,
    Sub,
}

impl ModOperator {
    pub fn symbol(self) -> &'static str {
        match self {
            ModOperator::Set => "=",
            ModOperator::Mul => "×",
            ModOperator::Add => "+",
            ModOperator::Sub => "-",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "a syntax tree node, built once per policy"
)]
pub enum ModOpDecl {
    NoCap,
    Op {
        target: ModTarget,
        op: ModOperator,
        expr: Expr,
        prov: Option<Prov>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Table(Table),
    Expr(Expr),
    /// `none`: no figure; its span and provenance.
    None {
        span: Loc,
        prov: Option<Prov>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub dim: Spanned<Dim>,
    pub entries: Vec<Spanned<TableEntry>>,
    pub prov: Option<Prov>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableEntry {
    /// `None` for `else:`.
    pub key: Option<Spanned<String>>,
    pub value: Value,
    pub prov: Option<Prov>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "×",
            BinOp::Div => "/",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Min,
    Max,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(Spanned<Number>),
    Name(Spanned<String>),
    Paren(Box<Spanned<Expr>>),
    Bin(BinOp, Box<Spanned<Expr>>, Box<Spanned<Expr>>),
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

#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    /// As written, e.g. `85%`.
    pub text: String,
    /// The value in base units (yuan, or a fraction for a ratio).
    pub value: Decimal,
    pub unit: Unit,
    pub prov: Option<Prov>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Prov {
    pub kind: Provenance,
    pub source: Option<Spanned<String>>,
    pub note: Option<String>,
    pub span: Loc,
}
