//! The result of settling one claim.
//!
//! Field order is the JSON order: the JSON of a settlement is canonical (money as strings with two
//! decimals, exact ratios as strings, no floats) and the same bytes on every target.

use std::borrow::Cow;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use smallvec::SmallVec;

use crate::date::Date;
use crate::ir::{Cite, LayerKind, ParamInfo, Provenance};
use crate::money::{fmt_decimal, Money};

fn ser_dec<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&fmt_decimal(*d))
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settlement {
    pub claim_id: Option<String>,
    pub policy: PolicyRef,
    pub date: Date,
    /// The claim's situation as the policy understood it (defaults filled in).
    pub situation: Situation,
    pub amounts: BillSplit,
    pub layers: Vec<LayerResult>,
    pub fund_total: Money,
    pub out_of_pocket: OutOfPocket,
    /// The same numbers under the national platform's settlement field names.
    pub platform: Platform,
    /// Placeholder (unverified) figures this result relied on.
    pub unverified: Vec<ParamUse>,
    /// Policy figures the caller replaced for this estimate.
    pub overrides: Vec<ParamUse>,
    pub warnings: Vec<Warning>,
    /// Every step of the computation, when asked for.
    pub trace: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyRef {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: Arc<str>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub name: Arc<str>,
    pub version: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub content_hash: Arc<str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Situation {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub group: Arc<str>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub categories: Vec<Arc<str>>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub care: Arc<str>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub level: Arc<str>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub place: Arc<str>,
    pub referral: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub disease: Option<Arc<str>>,
    pub case_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BillSplit {
    pub total: Money,
    pub out_of_list: Money,
    pub pre_self_pay: Money,
    pub over_limit: Money,
    pub in_scope: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LayerResult {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: Arc<str>,
    pub kind: LayerKind,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub label: Arc<str>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub label_en: Option<Arc<str>>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub platform_field: Arc<str>,
    pub applied: bool,
    /// What this layer worked on for this claim.
    pub base: Money,
    /// The deductible (threshold) that applied to this claim — after the n-th admission's rule and
    /// the `for` blocks — or `None` where the layer has none or it is unknown.
    pub threshold: Option<Money>,
    /// The part of the base charged as deductible (threshold) in this claim.
    pub deductible: Money,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<BandLine>))]
    pub bands: SmallVec<[BandLine; 2]>,
    /// The tightest cap that applied: what was left of it before this claim.
    pub cap_remaining: Option<Money>,
    pub capped: bool,
    pub payment: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BandLine {
    /// Lower and upper edge on the layer's measure (the claim, or the year so far).
    pub from: Money,
    pub to: Option<Money>,
    /// The part of this claim's base that falls in the band.
    pub amount: Money,
    #[serde(serialize_with = "ser_dec")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub ratio: Decimal,
    /// `amount × ratio`, exact (the layer's payment is rounded once, after the cap).
    #[serde(serialize_with = "ser_dec")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub product: Decimal,
}

/// The patient's share, by where it comes from. The parts add up to `total` exactly.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutOfPocket {
    pub total: Money,
    pub out_of_list: Money,
    pub pre_self_pay: Money,
    pub over_limit: Money,
    pub deductible: Money,
    pub co_pay: Money,
    pub above_cap: Money,
    /// Policy-scope costs no layer covered (e.g. a care type the policy does not pay for).
    pub not_covered: Money,
}

/// National platform names (国家医疗保障信息平台 `setlinfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Platform {
    pub medfee_sumamt: Money,
    pub fulamt_ownpay_amt: Money,
    pub overlmt_selfpay: Money,
    pub preselfpay_amt: Money,
    pub inscp_scp_amt: Money,
    pub act_pay_dedc: Money,
    pub hifp_pay: Money,
    pub cvlserv_pay: Money,
    pub hifes_pay: Money,
    pub hifmi_pay: Money,
    pub hifob_pay: Money,
    pub maf_pay: Money,
    pub oth_pay: Money,
    pub fund_pay_sumamt: Money,
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
    pub fn path(&self) -> &str {
        &self.0.path
    }
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Warning {
    /// Stable code: `unverified`, `unknown_deductible`, `unknown_ratio`, `unknown_cap`,
    /// `ratio_clamped`, `case_code_ignored`, `unverified_version_date`, …
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub code: Cow<'static, str>,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StepKind {
    Split,
    NotApplicable,
    Base,
    Deductible,
    Band,
    Uncovered,
    Cap,
    PerCase,
    Payment,
    OutOfPocket,
    /// A `for` block changed a figure for this claim.
    Modifier,
}

/// One step of the explanation, in Chinese and English, citing the clause it applies.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Step {
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub layer: Option<Arc<str>>,
    pub kind: StepKind,
    pub zh: String,
    pub en: String,
    pub value: Money,
    pub cite: Option<Cite>,
    pub params: Vec<ParamUse>,
}
