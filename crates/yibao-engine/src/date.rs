//! A calendar date (proleptic Gregorian), enough for effective dates and claim dates.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A date `YYYY-MM-DD`. Ordered chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    /// The earliest representable date.
    pub const MIN: Date = Date {
        year: 1,
        month: 1,
        day: 1,
    };

    /// Builds a date, or `None` when it does not exist (e.g. 2023-02-29).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }
    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }
    /// The day of the month, 1–31.
    pub fn day(self) -> u8 {
        self.day
    }
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Why a date string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// The text is not of the form `YYYY-MM-DD`.
    #[error("expected a date as YYYY-MM-DD, found `{0}`")]
    Format(String),
    /// The text has the right form but names no calendar day (e.g. `2023-02-29`).
    #[error("`{0}` is not a day of the calendar")]
    NoSuchDay(String),
}

impl FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        let digits =
            |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        if b.len() != 10
            || b[4] != b'-'
            || b[7] != b'-'
            || !digits(0..4)
            || !digits(5..7)
            || !digits(8..10)
        {
            return Err(DateError::Format(s.to_string()));
        }
        let num =
            |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<i32>().ok()).unwrap_or(0);
        let (y, m, d) = (num(0..4), num(5..7), num(8..10));
        let m = u8::try_from(m).unwrap_or(0);
        let d = u8::try_from(d).unwrap_or(0);
        Date::new(y, m, d).ok_or_else(|| DateError::NoSuchDay(s.to_string()))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Date {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Date,
            )))
            .examples(["2024-05-01"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Date {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        let a: Date = "2024-02-29".parse().unwrap();
        let b: Date = "2024-03-01".parse().unwrap();
        assert!(a < b);
        assert_eq!(a.to_string(), "2024-02-29");
    }

    #[test]
    fn rejects_bad_dates() {
        assert_eq!(
            "2023-02-29".parse::<Date>(),
            Err(DateError::NoSuchDay("2023-02-29".into()))
        );
        assert!(matches!(
            "2023-2-1".parse::<Date>(),
            Err(DateError::Format(_))
        ));
        assert!(matches!(
            "abcd-ef-gh".parse::<Date>(),
            Err(DateError::Format(_))
        ));
        assert!(matches!(
            "2023-13-01".parse::<Date>(),
            Err(DateError::NoSuchDay(_))
        ));
        assert!(matches!(
            "２０２３-01-01".parse::<Date>(),
            Err(DateError::Format(_))
        ));
    }
}
