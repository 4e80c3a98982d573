//! The compiled policy: plain data, produced by `yibao-lang`'s compiler and read by [`settle`].
//!
//! Everything that can be done once per policy is done at compile time: `extends` is resolved,
//! indicator formulas are folded to constants and dimension names are turned into indices. What
//! remains for `settle` are table look-ups, the category/group modifiers and the arithmetic.
//!
//! [`settle`]: crate::settle

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::date::Date;

/// Index of a parameter in [`Policy::params`].
pub type ParamId = u32;

/// A compiled policy version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    /// `region.scheme`, e.g. `tianjin.resident`.
    pub id: Arc<str>,
    /// The region (`tianjin`).
    pub region: String,
    /// The scheme (`resident`, `employee`, `ltc`).
    pub scheme: String,
    /// The policy's name in Chinese.
    pub name: Arc<str>,
    /// Its name in English, when given.
    pub name_en: Option<String>,
    /// The date this version takes effect; it is also the version's name.
    pub effective: Date,
    /// How sure we are of that date (a placeholder when only the year or period is known).
    pub effective_provenance: DateProvenance,
    /// How long the figures are known to hold: the whole version's statements first (at most one
    /// of each kind), then those that cover named layers.
    pub validity: Vec<Validity>,
    /// SHA-256 of the source texts this version was compiled from (its own and its parents').
    pub content_hash: Arc<str>,
    /// The values a claim may take along each dimension.
    pub dims: Dims,
    /// The layers, in the order they pay.
    pub layers: Vec<Layer>,
    /// Year-to-date cap pools; layers refer to them by index.
    pub pools: Vec<Arc<str>>,
    /// Every figure written in the policy, with its provenance.
    pub params: Vec<Arc<ParamInfo>>,
    /// The sources the figures cite.
    pub sources: Vec<Source>,
    /// The per-case (按病种) standards.
    pub cases: Vec<Case>,
}

/// The values a claim may take along each dimension, in declaration order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dims {
    /// Insured groups.
    pub groups: Vec<DimValue>,
    /// Special categories.
    pub categories: Vec<DimValue>,
    /// Care types.
    pub care: Vec<DimValue>,
    /// Hospital levels.
    pub levels: Vec<DimValue>,
    /// Places of care.
    pub places: Vec<DimValue>,
    /// Diseases.
    pub diseases: Vec<DimValue>,
}

impl Dims {
    /// The values declared along `dim`.
    pub fn get(&self, dim: Dim) -> &[DimValue] {
        match dim {
            Dim::Group => &self.groups,
            Dim::Category => &self.categories,
            Dim::Care => &self.care,
            Dim::Level => &self.levels,
            Dim::Place => &self.places,
            Dim::Disease => &self.diseases,
        }
    }
}

/// One declared value of a dimension, with its labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DimValue {
    /// The value's id (`inpatient`).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: Arc<str>,
    /// Its label in Chinese.
    pub zh: String,
    /// Its label in English.
    pub en: String,
}

/// A claim dimension a table can be keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    /// The insured group (`group`), e.g. employees in service or retired.
    Group,
    /// The person's special categories (`category`), e.g. destitute or low-income (medical aid).
    ///
    /// Keyed by the first of the person's categories in declaration order that has an entry.
    Category,
    /// The type of care (`care`), e.g. inpatient or general outpatient.
    Care,
    /// The hospital level (`level`).
    Level,
    /// Where care was given (`place`), e.g. local or out of the city.
    Place,
    /// The disease treated (`disease`).
    Disease,
}

impl Dim {
    /// Every dimension.
    pub const ALL: [Dim; 6] = [
        Dim::Group,
        Dim::Category,
        Dim::Care,
        Dim::Level,
        Dim::Place,
        Dim::Disease,
    ];
    /// The dimension's name in the policy language.
    pub fn name(self) -> &'static str {
        match self {
            Dim::Group => "group",
            Dim::Category => "category",
            Dim::Care => "care",
            Dim::Level => "level",
            Dim::Place => "place",
            Dim::Disease => "disease",
        }
    }
}

/// A value that may depend on the claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Value {
    /// A constant; `params` are the parameters it was computed from (one for a literal);
    /// `flagged` when one of them is a placeholder or overridden, so results must name it.
    Const {
        /// The value: yuan for money, a fraction for a ratio.
        value: Decimal,
        /// Indices into `Policy::params` of the figures it was computed from.
        params: Vec<ParamId>,
        /// Set when one of `params` is a placeholder or was overridden by the caller.
        #[serde(skip)]
        flagged: bool,
    },
    /// One entry per value of `dim`, in declaration order; `None` falls back to `default`
    /// (`else:`); with neither, the clause does not apply to such a claim.
    Table {
        /// The dimension the table is keyed by.
        dim: Dim,
        /// One entry per declared value of `dim`, in declaration order; `None` where the table
        /// has no entry for that value.
        entries: Vec<Option<Value>>,
        /// The `else:` entry, if the table has one.
        default: Option<Box<Value>>,
    },
    /// Arithmetic that refers to the value being modified (`ratio + 5%`) or to a table.
    Expr(Box<Expr>),
    /// No figure (`none`): no deductible, no cap, no ratio. Its parameter records why (often a
    /// placeholder for a figure not yet found), so results can say it was relied on.
    /// `unknown`: the policy does not *lack* the figure, it is not known here (`none
    /// [placeholder]`, not overridden); settle applies the rule for unknown figures
    /// (ARCHITECTURE.md, "Unknown figures").
    None {
        /// Indices into `Policy::params` of the parameter that records the `none` and its provenance.
        params: Vec<ParamId>,
        /// Set when the figure is unknown (`none [placeholder]`, not overridden) rather than absent.
        #[serde(default)]
        unknown: bool,
    },
}

/// Arithmetic over values; `Current` is the value a modifier is modifying.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "op", content = "args")]
pub enum Expr {
    /// A value: a constant, `none`, a table or nested arithmetic.
    Value(Value),
    /// The value being modified: the target's name in a `for` op (`ratio` in `ratio + 5%`), or
    /// `deductible` (the first deductible) in a `deductible from_admission` clause.
    Current,
    /// The sum of the two operands.
    Add(Box<Expr>, Box<Expr>),
    /// The first operand less the second.
    Sub(Box<Expr>, Box<Expr>),
    /// The product of the two operands.
    Mul(Box<Expr>, Box<Expr>),
    /// The first operand divided by the second (division by zero is an `EvalError`).
    Div(Box<Expr>, Box<Expr>),
    /// The smaller of the two operands (`min(a, b)`).
    Min(Box<Expr>, Box<Expr>),
    /// The larger of the two operands (`max(a, b)`).
    Max(Box<Expr>, Box<Expr>),
}

/// What kind of fund a layer is: decides its national platform field and its colour on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LayerKind {
    /// The basic medical insurance fund (统筹基金); pays into `hifp_pay`.
    Basic,
    /// Serious-illness insurance (大病保险); pays into `hifmi_pay`.
    SeriousIllness,
    /// A supplementary fund such as employees' large-amount mutual aid (大额互助); pays into
    /// `hifob_pay`.
    Supplementary,
    /// Medical aid (医疗救助) for people in special categories; pays into `maf_pay`.
    MedicalAid,
    /// A commercial or city-sponsored insurance (e.g. 惠民保); pays into `oth_pay`.
    Commercial,
}

impl LayerKind {
    /// Every kind.
    pub const ALL: [LayerKind; 5] = [
        LayerKind::Basic,
        LayerKind::SeriousIllness,
        LayerKind::Supplementary,
        LayerKind::MedicalAid,
        LayerKind::Commercial,
    ];
    /// The kind's name in the policy language.
    pub fn name(self) -> &'static str {
        match self {
            LayerKind::Basic => "basic",
            LayerKind::SeriousIllness => "serious_illness",
            LayerKind::Supplementary => "supplementary",
            LayerKind::MedicalAid => "medical_aid",
            LayerKind::Commercial => "commercial",
        }
    }
    /// The national platform's settlement field for this kind of fund (see national-rules.md §3).
    pub fn default_platform_field(self) -> &'static str {
        match self {
            LayerKind::Basic => "hifp_pay",
            LayerKind::SeriousIllness => "hifmi_pay",
            LayerKind::Supplementary => "hifob_pay",
            LayerKind::MedicalAid => "maf_pay",
            LayerKind::Commercial => "oth_pay",
        }
    }
}

/// Where in the source a clause stands, for citing it in a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cite {
    /// The file.
    pub file: String,
    /// The line (1-based).
    pub line: u32,
    /// The column (1-based).
    pub column: u32,
    /// The clause's source text (first line).
    pub text: String,
}

/// A part of the patient's burden that a later layer can pay from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// Items outside the reimbursement list, paid wholly by the patient (全自费).
    OutOfList,
    /// The share the patient pays first on partly covered items (先行自付).
    PreSelfPay,
    /// What is billed above an item's price limit (超限价自付).
    OverLimit,
    /// The in-scope amount below the deductible (起付线).
    Deductible,
    /// The in-scope amount the fund's ratio leaves to the patient (co-pay).
    CoPay,
    /// The in-scope amount above the layer's cap (封顶线) or beyond its highest band.
    AboveCap,
    /// The policy-scope amount that no layer on `in_scope` classified (none applied to the claim).
    NotCovered,
}

impl Component {
    /// Every component, in index order.
    pub const ALL: [Component; 7] = [
        Component::OutOfList,
        Component::PreSelfPay,
        Component::OverLimit,
        Component::Deductible,
        Component::CoPay,
        Component::AboveCap,
        Component::NotCovered,
    ];
    /// The in-scope components, in the order a `remaining in_scope` base pays them.
    pub const IN_SCOPE: [Component; 4] = [
        Component::AboveCap,
        Component::CoPay,
        Component::Deductible,
        Component::NotCovered,
    ];
    /// The component's name in the policy language.
    pub fn name(self) -> &'static str {
        match self {
            Component::OutOfList => "out_of_list",
            Component::PreSelfPay => "pre_self_pay",
            Component::OverLimit => "over_limit",
            Component::Deductible => "deductible",
            Component::CoPay => "co_pay",
            Component::AboveCap => "above_cap",
            Component::NotCovered => "not_covered",
        }
    }
    /// The component's index in burden arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What a layer works on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "components")]
pub enum Base {
    /// The claim's policy-scope amount not yet classified by an earlier layer. The layer that
    /// takes it classifies it into deductible, co-pay and above-cap for the patient's split.
    InScope,
    /// What earlier layers left the patient, of these components, paid in this order.
    Remaining(Vec<Component>),
}

/// Whether bands are placed over this claim's base or over the year's accumulated base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// This claim's base alone (`measure claim`).
    Claim,
    /// The year's accumulated base, deductibles included (a 大病 threshold over the year).
    Year,
    /// The year's covered amount: the accumulated base above each claim's deductible, the
    /// deductibles not included (`measure year_covered`).
    YearCovered,
}

/// When a deductible is charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeductiblePer {
    /// Charged on each claim (admission); see `later` for the n-th admission.
    Admission,
    /// Charged once per year: what was paid earlier in the year counts.
    Year,
}

/// A layer's deductible (起付线).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deductible {
    /// When it is charged.
    pub per: DeductiblePer,
    /// How much.
    pub value: Value,
    /// From the n-th claim of this layer in the year on, this value replaces `value`.
    /// Its formula may name the first value as `deductible` (`deductible × 50%`).
    pub later: Option<(u32, Value, Cite)>,
    /// `deductible every N days`: a stay (`Claim::stay_days`) longer than N days pays the
    /// per-admission figure once for each period of N days begun; without the stay's length,
    /// once (and the result says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<(Value, Cite)>,
    /// The clause.
    pub cite: Cite,
}

/// How a referred admission's deductible counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Referral {
    /// A referral starts afresh.
    Separate,
    /// 连续计算起付线: the receiving admission charges only what the chain has not yet paid of
    /// its deductible, and nothing once the chain has reached the fund.
    Continuous,
    /// The receiving admission charges the difference: its deductible less what the chain has
    /// already paid, whether or not the chain reached the fund (`referral difference`).
    Difference,
}

/// One band of a layer: the ratio paid up to an edge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    /// Upper edge on the measure (added to the deductible when the bands are relative);
    /// `None` is open-ended.
    pub upto: Option<Value>,
    /// The ratio paid in the band.
    pub ratio: Value,
    /// The clause.
    pub cite: Cite,
}

/// A layer's bands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bands {
    /// Edges are measured from the deductible (threshold) rather than from zero.
    pub relative: bool,
    /// The bands, lowest first.
    pub bands: Vec<Band>,
}

/// What a cap limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "per")]
pub enum CapPer {
    /// A year-to-date limit on what the pool has paid.
    Year {
        /// Index into `Policy::pools` of the pool whose payments count toward the cap.
        pool: u32,
    },
    /// A limit on what the layer pays on this claim alone (`cap per_claim`).
    Claim,
    /// A limit on what the layer paid in the claim's calendar month (`cap per_month`).
    Month,
}

/// A cap (封顶线) on what a layer pays.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cap {
    /// What it limits.
    pub per: CapPer,
    /// How much.
    pub value: Value,
    /// The clause.
    pub cite: Cite,
}

/// Which claims a modifier or a `when` condition selects. An empty list selects everything.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Selector {
    /// Selected insured groups (indices into `Dims::groups`).
    pub groups: Vec<u16>,
    /// Selected when the person has any of these categories.
    pub categories: Vec<u16>,
    /// Selected care types.
    pub care: Vec<u16>,
    /// Selected hospital levels.
    pub levels: Vec<u16>,
    /// Selected places.
    pub places: Vec<u16>,
    /// Selected diseases.
    pub diseases: Vec<u16>,
    /// `Some(true)`: only a referred claim (转诊, `for referred`); `Some(false)`: only one that was
    /// not (`for not referred`); `None`: either.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referral: Option<bool>,
}

/// What a modifier changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "target")]
pub enum ModOp {
    /// Replaces the layer's deductible with `expr`.
    Deductible {
        /// The new deductible; `Expr::Current` is the deductible before the op.
        expr: Expr,
    },
    /// Changes the ratio in each of the layer's bands to `expr`.
    Ratio {
        /// The new ratio; `Expr::Current` is the band's ratio before the op.
        expr: Expr,
    },
    /// Changes each of the layer's caps to `expr`; `None` (`no cap`) lifts them.
    Cap {
        /// The new cap, or `None` for `no cap`; `Expr::Current` is the cap before the op.
        expr: Option<Expr>,
    },
}

/// `for category [..] { deductible × 50%  ratio + 5%  no cap }`: applied, in order, to every
/// claim the selector selects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Modifier {
    /// The claims it applies to.
    pub selector: Selector,
    /// What it changes, in order.
    pub ops: Vec<ModOp>,
    /// Each op's source text (`ratio = 1 - 60% × (1 - ratio)`), for the explanation.
    #[serde(default)]
    pub op_texts: Vec<String>,
    /// The clause.
    pub cite: Cite,
}

/// 按病种: the patient pays `share` of the case's standard fee; the layer pays the rest of the
/// in-scope amount (up to its caps).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerCase {
    /// The patient's share of the standard fee.
    pub share: Value,
    /// The clause.
    pub cite: Cite,
}

/// A per-case (按病种) standard fee.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    /// The case code.
    pub code: String,
    /// The case's name.
    pub name: String,
    /// The standard fee.
    pub standard: Value,
}

/// One layer of payment (a fund), as compiled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layer {
    /// The layer's id (`basic`).
    pub id: Arc<str>,
    /// What kind of fund it is.
    pub kind: LayerKind,
    /// Its name in Chinese.
    pub label: Arc<str>,
    /// Its name in English, when given.
    pub label_en: Option<Arc<str>>,
    /// The national platform field it pays into.
    pub platform_field: Arc<str>,
    /// The claims it applies to.
    pub when: Selector,
    /// What it works on.
    pub base: Base,
    /// `plus special_drugs`: a `remaining` base also counts what is left of the claim's items on
    /// the provincial 大病 special-drug, consumables and services lists (`amounts.special_drugs`,
    /// a part of `out_of_list`), paid after the base's components.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub plus_special_drugs: bool,
    /// What its bands are placed over.
    pub measure: Measure,
    /// Its deductible, if any.
    pub deductible: Option<Deductible>,
    /// `None`: the layer pays nothing beyond what `per_case` decides (or nothing at all).
    pub bands: Option<Bands>,
    /// Its caps.
    pub caps: Vec<Cap>,
    /// Its `for` blocks, in order.
    pub modifiers: Vec<Modifier>,
    /// Its per-case rule (按病种), if any.
    pub per_case: Option<PerCase>,
    /// How a referred admission's deductible counts.
    pub referral: Referral,
    /// The clause that declares it.
    pub cite: Cite,
    /// Whether one of its band ratios can be an unknown figure (settle checks only such layers).
    #[serde(default)]
    pub ratio_may_be_unknown: bool,
    /// A long-term care layer (`base cost [..]`): settled by `settle/care.rs` on a month of care.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub care: Option<Box<CareRule>>,
}

impl Layer {
    /// Its English name, or its id when the policy gives none.
    pub fn name_en(&self) -> &str {
        self.label_en.as_deref().unwrap_or(&self.id)
    }
}

/// A kind of long-term care cost, as a month-of-care claim gives it (`month.costs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CostKind {
    /// 生活照料.
    PersonalCare,
    /// 医疗护理 without its consumables.
    Nursing,
    /// 耗材: the consumables inside 医疗护理.
    Supplies,
    /// 设备使用.
    Equipment,
    /// 评估费: the disability assessment.
    Assessment,
    /// 亲情照护: care by a family carer.
    FamilyCare,
}

impl CostKind {
    /// Every cost kind, in index order.
    pub const ALL: [CostKind; 6] = [
        CostKind::PersonalCare,
        CostKind::Nursing,
        CostKind::Supplies,
        CostKind::Equipment,
        CostKind::Assessment,
        CostKind::FamilyCare,
    ];
    /// The cost kind's name in the policy language and in a claim's `month.costs`.
    pub fn name(self) -> &'static str {
        match self {
            CostKind::PersonalCare => "personal_care",
            CostKind::Nursing => "nursing",
            CostKind::Supplies => "supplies",
            CostKind::Equipment => "equipment",
            CostKind::Assessment => "assessment",
            CostKind::FamilyCare => "family_care",
        }
    }
    /// The cost kind's index in per-kind cost arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Whether a covered-cost limit is per day of care or per month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitPer {
    /// `per_day`: the limit is multiplied by the month's days of care.
    Day,
    /// `per_month`: the limit applies to the month as a whole.
    Month,
}

/// A fact of a month of care that a condition can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CareFact {
    /// Days of care in the month.
    Days,
    /// Home-care visits in the month.
    Visits,
    /// Hours of home care in the month.
    Hours,
    /// The person's age.
    Age,
    /// Months of this layer's benefit already used in the validity period.
    MonthsUsed,
}

impl CareFact {
    /// Every fact.
    pub const ALL: [CareFact; 5] = [
        CareFact::Days,
        CareFact::Visits,
        CareFact::Hours,
        CareFact::Age,
        CareFact::MonthsUsed,
    ];
    /// The fact's name in the policy language (`require <fact> ...`).
    pub fn name(self) -> &'static str {
        match self {
            CareFact::Days => "days",
            CareFact::Visits => "visits",
            CareFact::Hours => "hours",
            CareFact::Age => "age",
            CareFact::MonthsUsed => "months_used",
        }
    }
}

/// How a condition compares a fact with its figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    /// `>=`: the fact is at least the figure.
    Ge,
    /// `>`: the fact is above the figure.
    Gt,
    /// `<=`: the fact is at most the figure.
    Le,
    /// `<`: the fact is below the figure.
    Lt,
}

impl CmpOp {
    /// The operator as written in the policy language (`>=`, `>`, `<=`, `<`).
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Ge => ">=",
            CmpOp::Gt => ">",
            CmpOp::Le => "<=",
            CmpOp::Lt => "<",
        }
    }
    /// Whether `fact <op> figure` is true.
    pub fn holds(self, fact: Decimal, figure: Decimal) -> bool {
        match self {
            CmpOp::Ge => fact >= figure,
            CmpOp::Gt => fact > figure,
            CmpOp::Le => fact <= figure,
            CmpOp::Lt => fact < figure,
        }
    }
}

/// `limit per_day|per_month V`: caps the cost that counts, before the ratio.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Limit {
    /// Whether the limit is per day of care or per month.
    pub per: LimitPer,
    /// The limit in yuan.
    pub value: Value,
    /// The clause.
    pub cite: Cite,
}

/// `require <fact> <op> V`: unmet, the layer pays nothing this month. A table without an entry
/// for the claim sets no condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Require {
    /// The fact of the month it tests.
    pub fact: CareFact,
    /// How the fact is compared with the figure.
    pub op: CmpOp,
    /// The figure the fact is compared with.
    pub value: Value,
    /// The clause.
    pub cite: Cite,
}

/// `cap per_month V [pool P]` on a care layer: caps what the fund pays in the month, the layer's
/// own payments or (with a pool) those of every layer naming the pool.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CareCap {
    /// The pool whose layers' payments in the month count; `None` for the layer's own.
    pub pool: Option<Arc<str>>,
    /// The cap in yuan.
    pub value: Value,
    /// The clause.
    pub cite: Cite,
}

/// What makes a layer a long-term care layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CareRule {
    /// The cost kinds the layer pays from (`base cost [..]`).
    pub costs: Vec<CostKind>,
    /// The covered-cost limit (`limit ...`), if any.
    pub limit: Option<Limit>,
    /// The conditions the month must meet (`require ...`), in order.
    pub requires: Vec<Require>,
    /// The monthly caps on what the fund pays (`cap per_month ...`).
    pub caps: Vec<CareCap>,
}

impl Policy {
    /// Whether this is a long-term care policy (its layers settle months of care).
    pub fn is_care(&self) -> bool {
        self.layers.iter().any(|l| l.care.is_some())
    }

    /// Whether a figure or a layer depends on the claim's referral (`for referred`): only then
    /// is the referral part of a claim's situation, so other policies plan no more situations.
    pub fn depends_on_referral(&self) -> bool {
        self.layers.iter().any(|l| {
            l.when.referral.is_some() || l.modifiers.iter().any(|m| m.selector.referral.is_some())
        })
    }
}

/// A leaf of a value: a constant or `none`, or `current` (the value a modifier modifies).
#[derive(Debug, Clone, Copy)]
pub enum Leaf<'a> {
    /// A `Value::Const` or `Value::None`.
    Value(&'a Value),
    /// `Expr::Current`: the value a modifier modifies.
    Current,
}

impl Value {
    /// Whether some leaf of the value — in any table entry or formula — satisfies `f`.
    pub fn any_leaf(&self, f: &impl Fn(Leaf) -> bool) -> bool {
        fn expr(e: &Expr, f: &impl Fn(Leaf) -> bool) -> bool {
            match e {
                Expr::Current => f(Leaf::Current),
                Expr::Value(v) => v.any_leaf(f),
                Expr::Add(a, b)
                | Expr::Sub(a, b)
                | Expr::Mul(a, b)
                | Expr::Div(a, b)
                | Expr::Min(a, b)
                | Expr::Max(a, b) => expr(a, f) || expr(b, f),
            }
        }
        match self {
            Value::Const { .. } | Value::None { .. } => f(Leaf::Value(self)),
            Value::Table {
                entries, default, ..
            } => {
                entries.iter().flatten().any(|v| v.any_leaf(f))
                    || default.as_deref().is_some_and(|v| v.any_leaf(f))
            }
            Value::Expr(e) => expr(e, f),
        }
    }

    /// Whether the value can evaluate to an unknown figure (`none [placeholder]`).
    pub fn may_be_unknown(&self) -> bool {
        self.any_leaf(&|l| matches!(l, Leaf::Value(Value::None { unknown: true, .. })))
    }
}

/// How sure we are of a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Provenance {
    /// Stated by an official document (`[official SRC]`).
    Official,
    /// Stated by a secondary source (not the issuing authority's own document) that names the
    /// figure (`[secondary SRC]`).
    Secondary,
    /// Stated as a rule of the scheme by one of the project's seed documents (`[seed SRC]`).
    Seed,
    /// Computed from sourced figures by the formula given in the note (`[derived "formula"]`).
    Derived,
    /// A guess or stand-in, not verified; results list it as unverified (`[placeholder "why"]`).
    Placeholder,
    /// The policy gave none (the checker warns).
    Unspecified,
}

impl Provenance {
    /// Every provenance, surest first.
    pub const ALL: [Provenance; 6] = [
        Provenance::Official,
        Provenance::Secondary,
        Provenance::Seed,
        Provenance::Derived,
        Provenance::Placeholder,
        Provenance::Unspecified,
    ];
    /// The provenance's name in the policy language.
    pub fn name(self) -> &'static str {
        match self {
            Provenance::Official => "official",
            Provenance::Secondary => "secondary",
            Provenance::Seed => "seed",
            Provenance::Derived => "derived",
            Provenance::Placeholder => "placeholder",
            Provenance::Unspecified => "unspecified",
        }
    }
    /// Whether a result that used such a number must be shown as unverified.
    pub fn is_unverified(self) -> bool {
        matches!(self, Provenance::Placeholder | Provenance::Unspecified)
    }
}

/// The provenance of a version's effective date.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DateProvenance {
    /// How sure the date is.
    pub provenance: Provenance,
    /// Its source, when known.
    pub source: Option<String>,
    /// A note on it.
    pub note: Option<String>,
}

/// What a validity statement says about its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ValidityKind {
    /// `valid_until`: the document itself states that its figures hold up to this date.
    ValidUntil,
    /// `confirmed`: no end is stated; a source confirmed the figures as still current up to
    /// this date, and nothing is known after it.
    Confirmed,
}

impl ValidityKind {
    /// The keyword in the policy language.
    pub fn keyword(self) -> &'static str {
        match self {
            ValidityKind::ValidUntil => "valid_until",
            ValidityKind::Confirmed => "confirmed",
        }
    }
}

/// How long some of a version's figures are known to hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Validity {
    /// What the date says.
    pub kind: ValidityKind,
    /// Inclusive: the last day the figures are known to hold.
    pub until: Date,
    /// How sure the date is.
    pub provenance: DateProvenance,
    /// The layers it covers; empty for the whole version.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub layers: Vec<Arc<str>>,
}

impl Policy {
    /// The whole version's statement of `kind`, if any.
    pub fn validity_of(&self, kind: ValidityKind) -> Option<&Validity> {
        self.validity
            .iter()
            .find(|v| v.kind == kind && v.layers.is_empty())
    }
}

/// One number written in the policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamInfo {
    /// Stable path, e.g. `basic.deductible.level.3` or `serious_illness.bands.2.ratio`.
    pub path: String,
    /// The number as written (`85%`, `20000`).
    pub text: String,
    /// The exact value (a ratio as a fraction).
    pub value: Decimal,
    /// How sure it is.
    pub provenance: Provenance,
    /// Its source, when known.
    pub source: Option<String>,
    /// A note (why a placeholder, how derived).
    pub note: Option<String>,
    /// The clause it is written in.
    pub cite: Cite,
    /// The policy's own value, when the caller overrode it with `value`.
    pub overridden: Option<Decimal>,
}

/// A source the figures cite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    /// Its id in the policy.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its address, when it has one.
    pub url: Option<String>,
}

impl Policy {
    /// A one-layer policy for examples and tests: a per-admission deductible and one ratio.
    pub fn example_flat(id: &str, deductible: Decimal, ratio: Decimal) -> Policy {
        let p = |value: Decimal, id: ParamId| Value::Const {
            value,
            params: vec![id],
            flagged: true,
        };
        let cite = Cite::default();
        let info = |path: &str, value: Decimal| ParamInfo {
            path: path.into(),
            text: value.to_string(),
            value,
            provenance: Provenance::Placeholder,
            source: None,
            note: None,
            cite: Cite::default(),
            overridden: None,
        };
        Policy {
            id: id.into(),
            region: id.to_string(),
            scheme: "resident".into(),
            name: id.into(),
            name_en: None,
            effective: Date::new(2000, 1, 1).unwrap_or(Date::MIN),
            effective_provenance: DateProvenance {
                provenance: Provenance::Placeholder,
                source: None,
                note: None,
            },
            validity: vec![],
            content_hash: "".into(),
            dims: Dims {
                groups: vec![DimValue {
                    id: "all".into(),
                    zh: "参保人".into(),
                    en: "insured".into(),
                }],
                care: vec![DimValue {
                    id: "inpatient".into(),
                    zh: "住院".into(),
                    en: "inpatient".into(),
                }],
                levels: ["1", "2", "3"]
                    .iter()
                    .map(|l| DimValue {
                        id: (*l).into(),
                        zh: format!("{l}级"),
                        en: format!("level {l}"),
                    })
                    .collect(),
                places: vec![DimValue {
                    id: "local".into(),
                    zh: "本地".into(),
                    en: "local".into(),
                }],
                ..Dims::default()
            },
            layers: vec![Layer {
                id: "basic".into(),
                kind: LayerKind::Basic,
                label: "统筹基金".into(),
                label_en: Some("basic fund".into()),
                platform_field: "hifp_pay".into(),
                when: Selector::default(),
                base: Base::InScope,
                plus_special_drugs: false,
                measure: Measure::Claim,
                deductible: Some(Deductible {
                    per: DeductiblePer::Admission,
                    value: p(deductible, 0),
                    later: None,
                    every: None,
                    cite: cite.clone(),
                }),
                bands: Some(Bands {
                    relative: false,
                    bands: vec![Band {
                        upto: None,
                        ratio: p(ratio, 1),
                        cite: cite.clone(),
                    }],
                }),
                caps: vec![],
                modifiers: vec![],
                per_case: None,
                referral: Referral::Separate,
                cite,
                ratio_may_be_unknown: false,
                care: None,
            }],
            pools: vec![],
            params: vec![
                Arc::new(info("basic.deductible", deductible)),
                Arc::new(info("basic.ratio", ratio)),
            ],
            sources: vec![],
            cases: vec![],
        }
    }
}
