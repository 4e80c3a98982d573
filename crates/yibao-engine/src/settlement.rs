//! The result of settling one claim.
//!
//! Field order is the JSON order: the JSON of a settlement is canonical (money as strings with two
//! decimals, exact ratios as strings, no floats) and the same bytes on every target.

use std::borrow::Cow;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;

use crate::date::Date;
use crate::ir::{Cite, LayerKind, ParamInfo, Provenance};
use crate::money::{fmt_decimal, Money};

fn ser_dec<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&fmt_decimal(*d))
}

/// An exact decimal written as a string (`"0.855"`), as [`ser_dec`] writes it.
fn de_dec<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let text = String::deserialize(d)?;
    Decimal::from_str_exact(&text).map_err(|e| serde::de::Error::custom(format!("`{text}`: {e}")))
}

/// The effects a warning may name ([`Warning::effect`]).
pub const EFFECTS: [&str; 2] = ["fund_overstated", "fund_understated"];

/// Reads the JSON a [`Warning`] writes; `effect` must be one of [`EFFECTS`].
impl<'de> Deserialize<'de> for Warning {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Shape {
            code: String,
            message: String,
            #[serde(default)]
            layer: Option<String>,
            #[serde(default)]
            effect: Option<String>,
        }
        let s = Shape::deserialize(d)?;
        let effect = match s.effect {
            None => None,
            Some(e) => Some(
                EFFECTS
                    .iter()
                    .find(|k| **k == e)
                    .copied()
                    .ok_or_else(|| serde::de::Error::unknown_variant(&e, &EFFECTS))?,
            ),
        };
        Ok(Warning {
            code: Cow::Owned(s.code),
            message: Cow::Owned(s.message),
            layer: s.layer.map(Arc::from),
            effect,
        })
    }
}

/// The settlement of one claim: the bill's split, each layer's payment and why, the patient's share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settlement {
    /// The claim's `id`, when given.
    pub claim_id: Option<String>,
    /// The policy version it was settled under.
    pub policy: PolicyRef,
    /// The claim's date.
    pub date: Date,
    /// The claim's situation as the policy understood it (defaults filled in).
    pub situation: Situation,
    /// The bill split into what the policy covers and the parts it does not.
    pub amounts: BillSplit,
    /// Each layer's result, in the policy's order.
    pub layers: Vec<LayerResult>,
    /// What all layers paid together.
    pub fund_total: Money,
    /// The patient's share, by where it comes from.
    pub out_of_pocket: OutOfPocket,
    /// The same numbers under the national platform's settlement field names.
    pub platform: Platform,
    /// Placeholder (unverified) figures this result relied on.
    pub unverified: Vec<ParamUse>,
    /// Policy figures the caller replaced for this estimate.
    pub overrides: Vec<ParamUse>,
    /// Warnings: unverified figures, unknown figures, clamped ratios, notices.
    pub warnings: Vec<Warning>,
    /// Every step of the computation, when asked for.
    pub trace: Vec<Step>,
}

/// A policy version, as a settlement names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyRef {
    /// `region.scheme`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: Arc<str>,
    /// The policy's name in Chinese.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub name: Arc<str>,
    /// The version's effective date.
    pub version: Date,
    /// The SHA-256 of the version's text.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub content_hash: Arc<str>,
}

/// The claim's situation as the policy understood it, defaults filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Situation {
    /// The insured group (`resident`, `employee_active`, …).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub group: Arc<str>,
    /// Special categories (`min_allowance`, …).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub categories: Vec<Arc<str>>,
    /// The care type.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub care: Arc<str>,
    /// The hospital level.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub level: Arc<str>,
    /// Where the care was given (`local`, `referred_out`, …).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub place: Arc<str>,
    /// Whether the admission follows a referral.
    pub referral: bool,
    /// The disease, when the policy declares the one given.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub disease: Option<Arc<str>>,
    /// The case code, when given.
    pub case_code: Option<String>,
}

/// The bill: its total, the parts outside the policy's scope, and what is left in scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BillSplit {
    /// The bill's total (医疗费总额).
    pub total: Money,
    /// Outside the drug and service lists (全自费).
    pub out_of_list: Money,
    /// The patient's own part of partly covered items (先行自付).
    pub pre_self_pay: Money,
    /// Above the payment standard (超限价自付).
    pub over_limit: Money,
    /// What is left in the policy's scope (符合政策范围).
    pub in_scope: Money,
}

/// One layer's result for a claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LayerResult {
    /// The layer's id in the policy (`basic`, `serious_illness`, …).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: Arc<str>,
    /// What kind of fund it is.
    pub kind: LayerKind,
    /// Its name in Chinese.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub label: Arc<str>,
    /// Its name in English, when given.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub label_en: Option<Arc<str>>,
    /// The national platform field its payment goes to (`hifp_pay`, …).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub platform_field: Arc<str>,
    /// Whether the layer applies to this claim.
    pub applied: bool,
    /// What this layer worked on for this claim.
    pub base: Money,
    /// The deductible (threshold) that applied to this claim — after the n-th admission's rule and
    /// the `for` blocks — or `None` where the layer has none or it is unknown.
    pub threshold: Option<Money>,
    /// The part of the base charged as deductible (threshold) in this claim.
    pub deductible: Money,
    /// The bands of the base and the ratio paid in each.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<BandLine>))]
    pub bands: SmallVec<[BandLine; 2]>,
    /// The tightest cap that applied: what was left of it before this claim.
    pub cap_remaining: Option<Money>,
    /// Whether a cap cut the payment.
    pub capped: bool,
    /// What the layer pays, rounded to the fen (half up) once.
    pub payment: Money,
}

/// One band of a layer: the part of the base in it and the ratio paid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BandLine {
    /// Lower and upper edge on the layer's measure (the claim, or the year so far).
    pub from: Money,
    /// The upper edge (`None`: no upper edge).
    pub to: Option<Money>,
    /// The part of this claim's base that falls in the band.
    pub amount: Money,
    /// The ratio paid in the band, exact (`0.85`).
    #[serde(serialize_with = "ser_dec", deserialize_with = "de_dec")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub ratio: Decimal,
    /// `amount × ratio`, exact (the layer's payment is rounded once, after the cap).
    #[serde(serialize_with = "ser_dec", deserialize_with = "de_dec")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub product: Decimal,
}

/// The patient's share, by where it comes from. The parts add up to `total` exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutOfPocket {
    /// The patient's whole share.
    pub total: Money,
    /// Outside the lists (全自费).
    pub out_of_list: Money,
    /// The own part of partly covered items (先行自付).
    pub pre_self_pay: Money,
    /// Above the payment standard (超限价).
    pub over_limit: Money,
    /// Deductibles (起付线).
    pub deductible: Money,
    /// The patient's co-payment inside the bands (自付比例部分).
    pub co_pay: Money,
    /// Above the caps (超封顶线).
    pub above_cap: Money,
    /// Policy-scope costs no layer covered (e.g. a care type the policy does not pay for).
    pub not_covered: Money,
}

/// National platform names (国家医疗保障信息平台 `setlinfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Platform {
    /// 医疗费总额: the bill's total.
    pub medfee_sumamt: Money,
    /// 全自费金额: outside the lists.
    pub fulamt_ownpay_amt: Money,
    /// 超限价自费费用: above the payment standard.
    pub overlmt_selfpay: Money,
    /// 先行自付金额: the own part of partly covered items.
    pub preselfpay_amt: Money,
    /// 符合政策范围金额: in the policy's scope.
    pub inscp_scp_amt: Money,
    /// 实际支付起付线: the deductible paid.
    pub act_pay_dedc: Money,
    /// 基本医疗保险统筹基金支出: the basic fund.
    pub hifp_pay: Money,
    /// 公务员医疗补助资金支出: the civil servants' subsidy.
    pub cvlserv_pay: Money,
    /// 补充医疗保险基金支出: supplementary insurance.
    pub hifes_pay: Money,
    /// 居民大病保险资金支出: serious-illness insurance.
    pub hifmi_pay: Money,
    /// 职工大额医疗费用补助基金支出: the employees' large-expense fund.
    pub hifob_pay: Money,
    /// 医疗救助基金支出: medical aid.
    pub maf_pay: Money,
    /// 其他支出: other funds.
    pub oth_pay: Money,
    /// 基金支付总额: all funds together.
    pub fund_pay_sumamt: Money,
    /// 个人负担总金额: the patient's share.
    pub psn_part_amt: Money,
}

impl Platform {
    /// The fund fields a layer may name.
    pub const FUND_FIELDS: [&'static str; 7] = [
        "hifp_pay",
        "cvlserv_pay",
        "hifes_pay",
        "hifmi_pay",
        "hifob_pay",
        "maf_pay",
        "oth_pay",
    ];

    pub(crate) fn fund_field_mut(&mut self, name: &str) -> Option<&mut Money> {
        Some(match name {
            "hifp_pay" => &mut self.hifp_pay,
            "cvlserv_pay" => &mut self.cvlserv_pay,
            "hifes_pay" => &mut self.hifes_pay,
            "hifmi_pay" => &mut self.hifmi_pay,
            "hifob_pay" => &mut self.hifob_pay,
            "maf_pay" => &mut self.maf_pay,
            "oth_pay" => &mut self.oth_pay,
            _ => return None,
        })
    }
}

/// A policy number used by a result: shared with the policy, serialized as
/// `{path, text, provenance, source, note, overridden_with}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamUse(pub Arc<ParamInfo>);

impl ParamUse {
    /// The figure's path (`basic.deductible.level.3`).
    pub fn path(&self) -> &str {
        &self.0.path
    }
    /// How sure the figure is.
    pub fn provenance(&self) -> Provenance {
        self.0.provenance
    }
    /// The value used, when the caller overrode the policy's.
    pub fn overridden_with(&self) -> Option<Money> {
        self.0.overridden.map(|_| Money(self.0.value))
    }
}

/// The JSON shape of [`ParamUse`], for the OpenAPI description.
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[schema(as = ParamUse)]
#[allow(dead_code, reason = "describes the serialized form only")]
struct ParamUseShape {
    path: String,
    text: String,
    provenance: Provenance,
    source: Option<String>,
    note: Option<String>,
    /// The value used instead of the policy's: an amount in yuan or a ratio as a fraction
    /// (`0.855`), so an exact decimal string, not money.
    #[schema(value_type = Option<String>, pattern = r"^(0|[1-9][0-9]*)(\.[0-9]+)?$", examples("0.855", "800.00"))]
    overridden_with: Option<Money>,
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ParamUse {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <ParamUseShape as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ParamUse {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("ParamUse")
    }
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        // The types the shape refers to (Provenance, Money).
        <ParamUseShape as utoipa::ToSchema>::schemas(schemas);
    }
}

/// Reads the JSON [`ParamUse`] writes. The JSON carries no clause position (`cite` is left
/// empty) and the figure's value only when it was overridden (otherwise `value` is read from
/// `text` where that is a plain number, else zero).
impl<'de> Deserialize<'de> for ParamUse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Shape {
            path: String,
            text: String,
            provenance: Provenance,
            source: Option<String>,
            note: Option<String>,
            #[serde(default, deserialize_with = "de_opt_dec")]
            overridden_with: Option<Decimal>,
        }
        let s = Shape::deserialize(d)?;
        let value = s
            .overridden_with
            .or_else(|| Decimal::from_str_exact(s.text.trim()).ok())
            .unwrap_or_default();
        Ok(ParamUse(Arc::new(ParamInfo {
            path: s.path,
            text: s.text,
            value,
            provenance: s.provenance,
            source: s.source,
            note: s.note,
            cite: Cite::default(),
            overridden: s.overridden_with.map(|_| value),
        })))
    }
}

fn de_opt_dec<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(t) => Decimal::from_str_exact(&t)
            .map(Some)
            .map_err(|e| serde::de::Error::custom(format!("`{t}`: {e}"))),
    }
}

impl Serialize for ParamUse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = &self.0;
        let mut st = s.serialize_struct("ParamUse", 6)?;
        st.serialize_field("path", &p.path)?;
        st.serialize_field("text", &p.text)?;
        st.serialize_field("provenance", &p.provenance)?;
        st.serialize_field("source", &p.source)?;
        st.serialize_field("note", &p.note)?;
        st.serialize_field("overridden_with", &self.overridden_with())?;
        st.end()
    }
}

/// Something the reader of a result should know: an unverified or unknown figure, a clamped ratio, a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Warning {
    /// Stable code: `unverified`, `unknown_deductible`, `unknown_ratio`, `unknown_cap`,
    /// `ratio_clamped`, `case_code_ignored`, `unverified_version_date`, …
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub code: Cow<'static, str>,
    /// What it means, in Chinese and English.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub message: Cow<'static, str>,
    /// The layer the warning is about, when it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub layer: Option<Arc<str>>,
    /// Which way the estimate may be off because of it: `fund_overstated` (the layers may pay
    /// less than shown, so the patient more) or `fund_understated` (the reverse).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub effect: Option<&'static str>,
}

impl Warning {
    /// A warning about the whole result.
    pub fn new(code: &'static str, message: impl Into<Cow<'static, str>>) -> Warning {
        Warning {
            code: Cow::Borrowed(code),
            message: message.into(),
            layer: None,
            effect: None,
        }
    }
}

/// What a trace step computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StepKind {
    /// How the bill splits: out-of-list, pre-self-pay, over-limit and the policy-scope amount
    /// (for a month of care, the costs by kind).
    Split,
    /// A layer does not apply to the claim, or could not be computed (an unknown ratio); says why.
    NotApplicable,
    /// The base a layer works on.
    Base,
    /// The deductible (起付线) a layer charges on this claim.
    Deductible,
    /// What a layer pays in one band: the amount in the band times its ratio.
    Band,
    /// The part of the base beyond the highest band, which the layer does not pay.
    Uncovered,
    /// A cap (封顶线) or covered-cost limit that reduced what the layer pays or what counts.
    Cap,
    /// A per-case (按病种) settlement: the standard fee times the patient's share.
    PerCase,
    /// What a layer pays on the claim.
    Payment,
    /// What the funds pay in all and what is left to the patient.
    OutOfPocket,
    /// A `for` block changed a figure for this claim.
    Modifier,
}

/// One step of the explanation, in Chinese and English, citing the clause it applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Step {
    /// The layer the step is about (`None`: the whole claim).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub layer: Option<Arc<str>>,
    /// What the step computed.
    pub kind: StepKind,
    /// The step in Chinese.
    pub zh: String,
    /// The step in English.
    pub en: String,
    /// The amount the step arrived at.
    pub value: Money,
    /// The clause it applies, when it applies one.
    pub cite: Option<Cite>,
    /// The policy figures it used.
    pub params: Vec<ParamUse>,
}
