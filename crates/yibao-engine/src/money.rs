//! Money: exact decimal yuan, shown with two decimals.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest amount of money a claim may carry: one trillion yuan. Bounding inputs keeps every
/// product in `settle` far inside `Decimal`'s range.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(0xD4A5_1000, 0xE8, 0, false, 0); // 1e12

/// An amount in yuan. Serialized as a string with exactly two decimals (`"1234.50"`).
///
/// Deserialized from a string (`"1234.5"`) or an integer (`1234`); a JSON/YAML float is refused
/// because binary floating point cannot carry money exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(pub Decimal);

impl Money {
    /// Zero yuan.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// An amount from an exact decimal.
    pub fn new(d: Decimal) -> Money {
        Money(d)
    }
    /// Whether the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }
    /// The exact decimal.
    pub fn get(self) -> Decimal {
        self.0
    }
}

/// Rounds to 0.01 yuan, half away from zero (half up for the non-negative amounts we pay).
pub fn round_cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Formats a money amount with exactly two decimals; never prints `-0.00`.
pub fn fmt_money(d: Decimal) -> String {
    if d.is_zero() {
        return "0.00".to_string();
    }
    let mut x = d;
    if x.scale() < 2 {
        x.rescale(2);
        x.to_string()
    } else {
        // More than two decimals only appears for intermediate values; show them exactly.
        let n = x.normalize();
        if n.scale() <= 2 {
            let mut n = n;
            n.rescale(2);
            n.to_string()
        } else {
            n.to_string()
        }
    }
}

/// Formats a ratio or other exact decimal in its shortest exact form (`0.85`, `1`).
pub fn fmt_decimal(d: Decimal) -> String {
    if d.is_zero() {
        return "0".to_string();
    }
    d.normalize().to_string()
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&fmt_money(self.0))
    }
}

/// Why a money string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The text is not an amount as the pattern allows (sign, spaces, leading zeros, ...).
    #[error("expected an amount in yuan such as \"1234.50\", found `{0}`")]
    Syntax(String),
    /// The amount has more than two decimal places.
    #[error("amount `{0}` has more than two decimal places (money is settled to 0.01 yuan)")]
    Precision(String),
    /// The amount is negative.
    #[error("amount `{0}` is negative")]
    Negative(String),
    /// The amount is above 1,000,000,000,000 yuan.
    #[error("amount `{0}` is above the largest supported amount (1000000000000 yuan)")]
    TooLarge(String),
}

/// The one rule for money written by a caller, as the documented pattern
/// `^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$` says: digits without sign, spaces or leading zeros, and at
/// most two decimals after a point that has digits on both sides.
impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let syntax = || MoneyError::Syntax(s.to_string());
        if s.len() > 40 {
            return Err(syntax());
        }
        let (negative, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (body, None),
        };
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        let int_ok = digits(int) && (int == "0" || !int.starts_with('0'));
        let frac_ok = frac.is_none_or(digits);
        if !int_ok || !frac_ok {
            return Err(syntax());
        }
        let d = Decimal::from_str_exact(body).map_err(|_| syntax())?;
        if negative {
            return Err(if d.is_zero() {
                syntax()
            } else {
                MoneyError::Negative(s.to_string())
            });
        }
        if frac.is_some_and(|f| f.len() > 2) {
            return Err(MoneyError::Precision(s.to_string()));
        }
        if d > MAX_AMOUNT {
            return Err(MoneyError::TooLarge(s.to_string()));
        }
        Ok(Money(d))
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&fmt_money(self.0))
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an amount in yuan as a string such as \"1234.50\", or a whole number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
                v.to_string().parse().map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
                v.to_string().parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// The pattern every money string matches (requests and answers).
pub const MONEY_PATTERN: &str = r"^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$";

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        let text = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(MONEY_PATTERN))
            .max_length(Some(16))
            .examples(["1234.50"]);
        let whole = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
            .maximum(Some(1_000_000_000_000_i64))
            .examples([1234]);
        OneOfBuilder::new()
            .item(text)
            .item(whole)
            .description(Some("yuan: a string of digits with at most two decimals, no sign, spaces or leading zeros (answers always carry exactly two: \"1234.50\"); requests may also give a whole number of yuan as a JSON integer. At most 1000000000000."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Money {}
