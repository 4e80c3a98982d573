//! A claim: one settlement's worth of care, as a citizen or a hospital system describes it.

use serde::{Deserialize, Deserializer, Serialize};

use crate::date::Date;
use crate::money::Money;

/// One bill to settle. Field names follow `domain.md`; the national platform's names are
/// accepted as aliases (`medfee_sumamt`, `fulamt_ownpay_amt`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Claim {
    /// The caller's identifier, echoed in the settlement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A person identifier, used by batch runs to group claims; not used by `settle`.
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "psn_no")]
    pub person: Option<String>,
    /// Region and scheme select the policy when the caller does not name one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The scheme (`resident`, `employee`); with `region`, names the policy when the request does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Settlement (discharge) date: picks the version in force and the year.
    #[serde(alias = "setl_time")]
    pub date: Date,
    /// Member group (`in_service`, `retired`, `adult`, …); defaults to the policy's first group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Special statuses (`destitute`, `min_allowance`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Care type (`inpatient`, `outpatient_special`, …).
    #[serde(alias = "med_type")]
    pub care: String,
    /// Hospital level (`1`, `2`, `3`, or a named level such as `designated`); defaults to the
    /// policy's first level. A whole number may be given as a JSON integer.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_opt_label"
    )]
    #[cfg_attr(feature = "openapi", schema(schema_with = level_schema))]
    pub level: Option<String>,
    /// `local` (default), or an out-of-city place the policy declares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// Referred from the previous admission (转诊).
    #[serde(default, skip_serializing_if = "is_false")]
    pub referral: bool,
    /// Disease, for outpatient special-disease policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disease: Option<String>,
    /// Per-case (按病种) code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_code: Option<String>,
    /// The bill: its total and the parts the policy does not cover.
    pub amounts: Amounts,
}

/// A level: a string, or a non-negative JSON integer (read as its digits).
#[cfg(feature = "openapi")]
fn level_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    let one_of = OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        )
        .description(Some(
            "hospital level: `1`, `2`, `3` or a named level; a whole number may be a JSON integer",
        ))
        .build();
    Schema::OneOf(one_of)
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Accepts `3` or `"3"`.
fn de_opt_label<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Label {
        S(String),
        N(u64),
    }
    Ok(Option::<Label>::deserialize(d)?.map(|l| match l {
        Label::S(s) => s,
        Label::N(n) => n.to_string(),
    }))
}

/// The bill and how it splits before any fund pays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Amounts {
    /// 医疗费总额.
    #[serde(alias = "medfee_sumamt")]
    pub total: Money,
    /// 全自费: items outside the catalogue.
    #[serde(default, alias = "fulamt_ownpay_amt")]
    pub out_of_list: Money,
    /// 先行自付: the 乙类 first share.
    #[serde(default, alias = "preselfpay_amt")]
    pub pre_self_pay: Money,
    /// 超限价自付: the part of prices above the payment standard.
    #[serde(default, alias = "overlmt_selfpay")]
    pub over_limit: Money,
}

impl Claim {
    /// A minimal claim, for tests and examples.
    pub fn simple(date: Date, care: &str, total: Money) -> Claim {
        Claim {
            id: None,
            person: None,
            region: None,
            scheme: None,
            date,
            group: None,
            categories: vec![],
            care: care.to_string(),
            level: None,
            place: None,
            referral: false,
            disease: None,
            case_code: None,
            amounts: Amounts {
                total,
                out_of_list: Money::ZERO,
                pre_self_pay: Money::ZERO,
                over_limit: Money::ZERO,
            },
        }
    }
}
