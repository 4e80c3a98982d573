//! Money as text: what callers write and what results show.

use rust_decimal::Decimal;
use yibao_engine::money::{fmt_decimal, fmt_money, round_cents, MoneyError, MAX_AMOUNT};
use yibao_engine::Money;

use crate::common::*;

#[test]
fn money_is_shown_with_two_decimals() {
    assert_eq!(Money::new(d("5")).to_string(), "5.00");
    assert_eq!(Money::new(d("5.1")).to_string(), "5.10");
    assert_eq!(Money::new(d("5.10")).to_string(), "5.10");
    assert_eq!(fmt_money(d("5.100")), "5.10");
    assert_eq!(fmt_money(d("5.125")), "5.125");
    assert_eq!(fmt_money(d("0.000")), "0.00");
    assert_eq!(fmt_money(d("-0.5")), "-0.50");
    assert_eq!(fmt_decimal(d("0.850")), "0.85");
    assert_eq!(fmt_decimal(d("0.000")), "0");
    assert_eq!(fmt_decimal(d("100")), "100");
    assert_eq!(round_cents(d("-0.005")), d("-0.01"));
    assert!(Money::ZERO.is_zero() && !m("0.01").is_zero());
    assert_eq!(m("12.5").get(), d("12.5"));
}

#[test]
fn money_is_read_exactly_as_the_pattern_says() {
    assert_eq!(m("0").get(), d("0"));
    assert_eq!(m("0.5").get(), d("0.5"));
    assert_eq!(m("10.05").get(), d("10.05"));
    assert_eq!(m("1000000000000").get(), d("1000000000000"));
    for (bad, kind) in [
        ("01", "syntax"),
        ("0.", "syntax"),
        ("-0", "syntax"),
        ("-5", "negative"),
        ("-5.5", "negative"),
        ("5.555", "precision"),
        ("1000000000000.01", "too large"),
        ("10000000000000", "too large"),
        ("1".repeat(41).as_str(), "syntax"),
    ] {
        let e = bad.parse::<Money>().unwrap_err();
        let got = match e {
            MoneyError::Syntax(_) => "syntax",
            MoneyError::Negative(_) => "negative",
            MoneyError::Precision(_) => "precision",
            MoneyError::TooLarge(_) => "too large",
        };
        assert_eq!(got, kind, "{bad}");
    }
    // 28 digits are read, and refused as too large.
    assert!(matches!(
        "1".repeat(28).parse::<Money>(),
        Err(MoneyError::TooLarge(_))
    ));
    assert_eq!(serde_json::from_str::<Money>("7").unwrap(), m("7"));
    assert_eq!(
        serde_json::from_str::<Money>("\"7.25\"").unwrap(),
        m("7.25")
    );
    assert!(serde_json::from_str::<Money>("-7").is_err());
    assert!(serde_json::from_str::<Money>("true").is_err());
    assert_eq!(serde_json::to_string(&m("7.5")).unwrap(), "\"7.50\"");
}

// Moved from money.rs's unit tests, so that the money test binary alone pins money.rs.

#[test]
fn max_amount_is_one_trillion() {
    assert_eq!(MAX_AMOUNT, Decimal::from(1_000_000_000_000_i64));
}

#[test]
fn rounds_half_up() {
    assert_eq!(round_cents(Decimal::new(12345, 3)).to_string(), "12.35");
    assert_eq!(round_cents(Decimal::new(12344, 3)).to_string(), "12.34");
    assert_eq!(round_cents(Decimal::new(5, 3)).to_string(), "0.01");
}

#[test]
fn formats_two_decimals() {
    assert_eq!(fmt_money(Decimal::new(12, 0)), "12.00");
    assert_eq!(fmt_money(Decimal::new(125, 1)), "12.50");
    assert_eq!(fmt_money(-Decimal::ZERO), "0.00");
    assert_eq!(fmt_money(Decimal::new(123400, 4)), "12.34");
}

#[test]
fn parses_strings_and_integers_only() {
    assert_eq!(
        serde_json::from_str::<Money>("\"12.5\"")
            .unwrap()
            .to_string(),
        "12.50"
    );
    assert_eq!(
        serde_json::from_str::<Money>("12").unwrap().to_string(),
        "12.00"
    );
    let e = serde_json::from_str::<Money>("12.5")
        .unwrap_err()
        .to_string();
    assert!(e.contains("as a string"), "{e}");
    assert!(matches!(
        "1.005".parse::<Money>(),
        Err(MoneyError::Precision(_))
    ));
    assert!(matches!(
        "-1".parse::<Money>(),
        Err(MoneyError::Negative(_))
    ));
    assert!(matches!("1e5".parse::<Money>(), Err(MoneyError::Syntax(_))));
    assert!(matches!("".parse::<Money>(), Err(MoneyError::Syntax(_))));
    assert!(matches!(
        "1000000000000.01".parse::<Money>(),
        Err(MoneyError::TooLarge(_))
    ));
    assert_eq!(
        "1.50".parse::<Money>().unwrap(),
        "1.5".parse::<Money>().unwrap()
    );
}

#[test]
fn refuses_every_form_the_documented_pattern_forbids() {
    for bad in [
        " 100 ",
        " 100",
        "100 ",
        "+100",
        "30000.",
        ".5",
        "-0",
        "-0.00",
        "00030000",
        "01",
        "00",
        "1.500",
        "1,000",
        "1_000",
        "１００",
        "0x10",
        "1e2",
        "NaN",
        "inf",
        "1..2",
        "1.2.3",
        "-",
        ".",
        "",
    ] {
        assert!(bad.parse::<Money>().is_err(), "`{bad}` was accepted");
        let json = serde_json::to_string(bad).unwrap();
        assert!(
            serde_json::from_str::<Money>(&json).is_err(),
            "`{bad}` was accepted from JSON"
        );
    }
    for good in [
        "0",
        "0.5",
        "0.05",
        "10",
        "30000",
        "30000.5",
        "30000.50",
        "1000000000000",
    ] {
        assert!(good.parse::<Money>().is_ok(), "`{good}` was refused");
    }
    // Whole numbers as JSON integers are declared in the schema and accepted.
    assert_eq!(serde_json::from_str::<Money>("0").unwrap(), Money::ZERO);
    assert!(serde_json::from_str::<Money>("-5").is_err());
    assert!(serde_json::from_str::<Money>("1000000000001").is_err());
}
