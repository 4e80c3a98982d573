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
    /// Length of the stay the claim covers, in days (住院天数; alias `act_ipt_days`, 实际住院天数 in
    /// the national platform's 医保结算清单 `setlinfo`). A policy whose deductible repeats every
    /// N days of a stay (`deductible every N days`) charges it once per N days begun; without
    /// it, once, with a warning.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "act_ipt_days"
    )]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 36525))]
    pub stay_days: Option<u32>,
    /// The bill: its total and the parts the policy does not cover.
    pub amounts: Amounts,
    /// A month of long-term care (长期护理保险): only for a care policy, which needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<CareMonth>,
}

/// One month of long-term care for one person: the facts a care policy's conditions test and
/// the costs by kind. `amounts.total` must equal the sum of `costs`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CareMonth {
    /// Days of care in the month (a per-day limit counts them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// Days of the month spent in hospital (住院) or emergency observation (急诊留观): care is
    /// not paid on them, so a per-day limit counts `days - hospital_days`.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub hospital_days: u32,
    /// Home-care visits in the month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visits: Option<u32>,
    /// Hours of home care in the month (at most two decimals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<Money>,
    /// The person's age in years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<u32>,
    /// Months of this care setting's benefit already used in the validity period before the
    /// year's state (the state adds the months paid this year).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub months_used: u32,
    /// The month's care costs by kind.
    pub costs: CareCosts,
}

/// A month's care costs by kind (yuan).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CareCosts {
    /// 生活照料.
    #[serde(default, skip_serializing_if = "Money::is_zero")]
    pub personal_care: Money,
    /// 医疗护理, without its consumables.
    #[serde(default, skip_serializing_if = "Money::is_zero")]
    pub nursing: Money,
    /// 耗材: the consumables of 医疗护理.
    #[serde(default, skip_serializing_if = "Money::is_zero")]
    pub supplies: Money,
    /// 设备使用.
    #[serde(default, skip_serializing_if = "Money::is_zero")]
    pub equipment: Money,
    /// 评估费.
    #[serde(default, skip_serializing_if = "Money::is_zero")]
    pub assessment: Money,
    /// 亲情照护: what the family carer is paid for the month.
    #[serde(default, skip_serializing_if = "Money::is_zero")]
    pub family_care: Money,
}

impl CareCosts {
    /// The costs in `CostKind` order.
    pub fn by_kind(&self) -> [Money; 6] {
        [
            self.personal_care,
            self.nursing,
            self.supplies,
            self.equipment,
            self.assessment,
            self.family_care,
        ]
    }
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
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

/// Reads a stay's length (`stay_days`) from text, as every text surface does (CSV, Arrow text
/// and integer columns, `yibao estimate --stay-days`): a whole number of days, 0 or more. The
/// upper bound is checked when the claim is settled, as for JSON.
pub fn parse_stay_days(s: &str) -> Result<u32, String> {
    let t = s.trim();
    t.parse::<u32>()
        .map_err(|_| format!("`{t}` is not a whole number of days, 0 or more"))
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
    /// The part of `out_of_list` on the provincial 大病保险 special-drug, consumables and services
    /// lists (Zhejiang, ZJ-REG art. 34): a layer whose base says `plus special_drugs` counts it.
    /// At most `out_of_list`.
    #[serde(default, skip_serializing_if = "Money::is_zero")]
    pub special_drugs: Money,
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
            stay_days: None,
            amounts: Amounts {
                total,
                out_of_list: Money::ZERO,
                pre_self_pay: Money::ZERO,
                over_limit: Money::ZERO,
                special_drugs: Money::ZERO,
            },
            month: None,
        }
    }
}
