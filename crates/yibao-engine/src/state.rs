//! Year-to-date state: what earlier claims of the same person and year used up.

use std::fmt;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::date::Date;
use crate::err::ClaimError;
use crate::ir::Policy;
use crate::money::Money;

/// Everything a later claim in the same year depends on. `settle` returns the next state; a
/// year of claims is a fold. The JSON form names layers and pools, so a state can be stored and
/// given back with the next claim.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct YtdState {
    /// The calendar year the state belongs to; a claim in a later year starts afresh.
    #[serde(default)]
    pub year: Option<i32>,
    /// The date of the last claim settled; claims must come in date order.
    #[serde(default)]
    pub last_date: Option<Date>,
    /// Per layer, by layer id.
    #[serde(default, serialize_with = "ser_named", deserialize_with = "de_named")]
    #[cfg_attr(feature = "openapi", schema(value_type = HashMap<String, LayerYtd>))]
    pub layers: Vec<(Arc<str>, LayerYtd)>,
    /// What each cap pool has paid this year, by pool name.
    #[serde(default, serialize_with = "ser_named", deserialize_with = "de_named")]
    #[cfg_attr(feature = "openapi", schema(value_type = HashMap<String, Money>))]
    pub pools: Vec<(Arc<str>, Money)>,
}

/// One layer's year so far.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LayerYtd {
    /// Claims this layer applied to (admissions, for an inpatient layer).
    #[serde(default)]
    pub claims: u32,
    /// The layer's base accumulated over the year.
    #[serde(default)]
    pub base: Money,
    /// The deductible paid so far this year.
    #[serde(default)]
    pub deductible_paid: Money,
    /// What the layer paid so far this year.
    #[serde(default)]
    pub paid: Money,
    /// The current referral chain (for 连续计算起付线).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<Chain>,
    /// For a layer with a monthly cap: the month (1–12) of its last payment, and what it paid
    /// in that month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<u8>,
    /// What the layer paid in that month.
    #[serde(default, skip_serializing_if = "Money::is_zero")]
    pub month_paid: Money,
}

/// A chain of admissions linked by referral.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Chain {
    /// The deductible paid so far in the chain.
    pub deductible_paid: Money,
    /// Whether the chain has already gone past the deductible into the fund.
    pub entered_fund: bool,
}

fn ser_named<S: Serializer, T: Serialize>(v: &[(Arc<str>, T)], s: S) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(v.len()))?;
    for (k, x) in v {
        m.serialize_entry(k, x)?;
    }
    m.end()
}

fn de_named<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<(Arc<str>, T)>, D::Error> {
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Vec<(Arc<str>, T)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map from names to values")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            let mut out: Vec<(Arc<str>, T)> = Vec::new();
            while let Some((k, v)) = a.next_entry::<String, T>()? {
                if out.iter().any(|(x, _)| **x == *k) {
                    return Err(serde::de::Error::custom(format!("duplicate key `{k}`")));
                }
                out.push((Arc::from(k), v));
            }
            Ok(out)
        }
    }
    d.deserialize_map(V(std::marker::PhantomData))
}

impl YtdState {
    /// A fresh state for `policy`, with an entry for every layer and pool.
    pub fn for_policy(policy: &Policy) -> YtdState {
        YtdState {
            year: None,
            last_date: None,
            layers: policy
                .layers
                .iter()
                .map(|l| (Arc::clone(&l.id), LayerYtd::default()))
                .collect(),
            pools: policy
                .pools
                .iter()
                .map(|p| (Arc::clone(p), Money::ZERO))
                .collect(),
        }
    }

    fn is_aligned(&self, policy: &Policy) -> bool {
        self.layers.len() == policy.layers.len()
            && self.pools.len() == policy.pools.len()
            && self
                .layers
                .iter()
                .zip(&policy.layers)
                .all(|((a, _), l)| Arc::ptr_eq(a, &l.id) || **a == *l.id)
            && self
                .pools
                .iter()
                .zip(&policy.pools)
                .all(|((a, _), p)| Arc::ptr_eq(a, p) || a == p)
    }

    /// Makes the state ready for a claim on `date` under `policy`: a new year starts afresh,
    /// a date earlier than the last claim is refused, and entries are put in the policy's order.
    pub(crate) fn prepare(&mut self, policy: &Policy, date: Date) -> Result<(), ClaimError> {
        if let Some(last) = self.last_date {
            if date < last {
                return Err(ClaimError::new(
                    "date",
                    format!("claims must be settled in date order: {date} comes after {last} in this sequence"),
                ));
            }
        }
        if let Some(y) = self.year {
            if date.year() != y {
                *self = YtdState::for_policy(policy);
            }
        }
        if !self.is_aligned(policy) {
            self.align(policy)?;
        }
        self.year = Some(date.year());
        self.last_date = Some(date);
        Ok(())
    }

    fn align(&mut self, policy: &Policy) -> Result<(), ClaimError> {
        for (k, _) in &self.layers {
            if !policy.layers.iter().any(|l| *l.id == **k) {
                let mut e = ClaimError::new(
                    format!("state.layers.{k}"),
                    format!("policy `{}` has no layer `{k}`", policy.id),
                );
                e.allowed = policy.layers.iter().map(|l| l.id.to_string()).collect();
                return Err(e);
            }
        }
        for (k, _) in &self.pools {
            if !policy.pools.iter().any(|p| p == k) {
                let mut e = ClaimError::new(
                    format!("state.pools.{k}"),
                    format!("policy `{}` has no cap pool `{k}`", policy.id),
                );
                e.allowed = policy.pools.iter().map(|p| p.to_string()).collect();
                return Err(e);
            }
        }
        let mut layers = Vec::with_capacity(policy.layers.len());
        for l in &policy.layers {
            let v = self
                .layers
                .iter()
                .find(|(k, _)| **k == *l.id)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            layers.push((Arc::clone(&l.id), v));
        }
        let mut pools = Vec::with_capacity(policy.pools.len());
        for p in &policy.pools {
            let v = self
                .pools
                .iter()
                .find(|(k, _)| k == p)
                .map(|(_, v)| *v)
                .unwrap_or_default();
            pools.push((Arc::clone(p), v));
        }
        self.layers = layers;
        self.pools = pools;
        Ok(())
    }

    /// Carries the state into `policy` when it holds a layer or pool the policy does not have (a
    /// person's year crossing into another version); a state that fits is left as it is.
    pub fn carry_if_foreign(&mut self, policy: &Policy) {
        let foreign = !self.is_aligned(policy)
            && (self
                .layers
                .iter()
                .any(|(l, _)| !policy.layers.iter().any(|x| *x.id == **l))
                || self.pools.iter().any(|(p, _)| !policy.pools.contains(p)));
        if foreign {
            *self = self.carry_to(policy);
        }
    }

    /// The state carried into another version of the same policy (a version that takes effect
    /// mid-year): entries of layers and pools the new version has are kept, others dropped.
    pub fn carry_to(&self, policy: &Policy) -> YtdState {
        let mut next = YtdState::for_policy(policy);
        next.year = self.year;
        next.last_date = self.last_date;
        for (k, v) in &mut next.layers {
            if let Some(old) = self.layer(k) {
                *v = old.clone();
            }
        }
        for (k, v) in &mut next.pools {
            if let Some((_, old)) = self.pools.iter().find(|(n, _)| n == k) {
                *v = *old;
            }
        }
        next
    }

    /// What a pool has paid this year.
    pub fn pool_paid(&self, pool: &str) -> Decimal {
        self.pools
            .iter()
            .find(|(k, _)| **k == *pool)
            .map(|(_, v)| v.0)
            .unwrap_or_default()
    }

    /// A layer's year so far.
    pub fn layer(&self, id: &str) -> Option<&LayerYtd> {
        self.layers.iter().find(|(k, _)| **k == *id).map(|(_, v)| v)
    }
}
