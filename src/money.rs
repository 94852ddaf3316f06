//! Exact money and percentages.
//!
//! Money is an integer count of minor units (fen for CNY) with checked arithmetic; it is
//! parsed from and shown as decimal yuan only at the edges. Percentages are basis points
//! (1% = 100) so "12.5%" is exact. Nothing here ever touches `f64` arithmetic: JSON numbers
//! are read through their decimal text.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a decimal amount could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("`{0}` is not a number")]
    NotANumber(String),
    #[error("`{0}` has more than two decimal places")]
    TooPrecise(String),
    #[error("`{0}` is negative")]
    Negative(String),
    #[error("`{0}` is too large")]
    TooLarge(String),
}

fn parse_scaled(text: &str, scale: u32, max_decimals: u32) -> Result<i64, AmountError> {
    let trimmed = text.trim().trim_start_matches(['¥', '￥']).trim();
    let trimmed = trimmed.strip_suffix("元").or_else(|| trimmed.strip_suffix('%')).unwrap_or(trimmed).trim();
    let value = Decimal::from_str(trimmed).map_err(|_| AmountError::NotANumber(text.into()))?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(AmountError::Negative(text.into()));
    }
    if value.normalize().scale() > max_decimals {
        return Err(AmountError::TooPrecise(text.into()));
    }
    let scaled =
        value.checked_mul(Decimal::from(10_i64.pow(scale))).ok_or_else(|| AmountError::TooLarge(text.into()))?;
    i64::try_from(scaled.normalize()).map_err(|_| AmountError::TooLarge(text.into()))
}

/// Text of a JSON number or string, read without passing through `f64` arithmetic.
fn decimal_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrText {
        Num(serde_json::Number),
        Text(String),
    }
    Ok(match NumOrText::deserialize(deserializer)? {
        NumOrText::Num(n) => n.to_string(),
        NumOrText::Text(t) => t,
    })
}

/// The sign written before an amount of a currency (ISO 4217 code): ¥ for yuan and yen, £, $,
/// € …; a currency without a common sign is written as its code and a space ("CHF 12").
pub fn currency_sign(code: &str) -> Cow<'static, str> {
    let code = code.trim().to_ascii_uppercase();
    Cow::Borrowed(match code.as_str() {
        "CNY" | "RMB" | "JPY" | "" => "¥",
        "GBP" => "£",
        "USD" => "$",
        "EUR" => "€",
        "HKD" => "HK$",
        "TWD" => "NT$",
        "SGD" => "S$",
        "AUD" => "A$",
        "CAD" => "C$",
        "KRW" => "₩",
        "INR" => "₹",
        _ => return Cow::Owned(format!("{code} ")),
    })
}

/// Text the crew wrote with ¥ as its money sign, in the shop's currency instead. Only the
/// crew's own sentences go through this (summaries, reasons, plans), never store content.
pub fn in_currency(text: &str, code: &str) -> String {
    let sign = currency_sign(code);
    if sign == "¥" { text.to_string() } else { text.replace('¥', &sign) }
}

/// An amount of the shop's currency in minor units (fen). Never negative in arguments;
/// differences may be negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_fen(fen: i64) -> Self {
        Money(fen)
    }

    pub const fn from_yuan(yuan: i64) -> Self {
        Money(yuan * 100)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Parses "19.9", "500", "¥20", "20元".
    pub fn parse(text: &str) -> Result<Self, AmountError> {
        parse_scaled(text, 2, 2).map(Money)
    }

    /// Like [`Money::parse`], but an amount finer than the fen ("0.001", as some exported price
    /// lists have) is rounded half up to the fen; the flag says it was, so the caller can tell.
    pub fn parse_rounding(text: &str) -> Result<(Self, bool), AmountError> {
        match Money::parse(text) {
            Err(AmountError::TooPrecise(_)) => {
                let trimmed = text.trim().trim_start_matches(['¥', '￥']).trim();
                let value = Decimal::from_str(trimmed).map_err(|_| AmountError::NotANumber(text.into()))?;
                let rounded = value.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
                Money::parse(&rounded.to_string()).map(|m| (m, true))
            }
            other => other.map(|m| (m, false)),
        }
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    pub fn checked_mul(self, n: i64) -> Option<Money> {
        self.0.checked_mul(n).map(Money)
    }

    /// The amount after taking `pct` off, rounded half up to the fen.
    pub fn less_pct(self, pct: Pct) -> Option<Money> {
        let keep = i128::from(10_000 - pct.bp());
        let scaled = i128::from(self.0).checked_mul(keep)?;
        i64::try_from((scaled + 5_000) / 10_000).ok().map(Money)
    }

    /// Decimal yuan text without the currency sign: "19.90".
    pub fn yuan_text(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// Compact form for prose: "500" for whole yuan, "19.90" otherwise.
    pub fn short_text(self) -> String {
        if self.0 % 100 == 0 { (self.0 / 100).to_string() } else { self.yuan_text() }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{}", self.yuan_text())
    }
}

impl Serialize for Money {
    /// Serialises as a decimal number of yuan (`19.9`), the unit merchants and plans use.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let number = serde_json::Number::from_str(&self.yuan_text()).map_err(serde::ser::Error::custom)?;
        number.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = decimal_text(deserializer)?;
        Money::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Money {
    fn schema_name() -> Cow<'static, str> {
        "Money".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "number",
            "minimum": 0,
            "multipleOf": 0.01,
            "description": "An amount in the shop's currency (yuan), at most two decimals, e.g. 19.9"
        })
    }
}

/// A percentage in basis points: 20% is 2000, 12.5% is 1250.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pct(i64);

impl Pct {
    pub const fn from_bp(bp: i64) -> Self {
        Pct(bp)
    }

    pub const fn whole(pct: i64) -> Self {
        Pct(pct * 100)
    }

    pub const fn bp(self) -> i64 {
        self.0
    }

    /// Parses "20", "12.5", "20%".
    pub fn parse(text: &str) -> Result<Self, AmountError> {
        parse_scaled(text, 2, 2).map(Pct)
    }

    /// The Chinese 折 reading of a discount: 20% off is "8折", 25% off "7.5折".
    pub fn zhe_text(self) -> String {
        let pay = 10_000 - self.0; // in basis points of the price paid
        let tenths = Decimal::new(pay, 3).normalize();
        format!("{tenths}折")
    }
}

impl fmt::Display for Pct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", Decimal::new(self.0, 2).normalize())
    }
}

impl Serialize for Pct {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = Decimal::new(self.0, 2).normalize().to_string();
        let number = serde_json::Number::from_str(&text).map_err(serde::ser::Error::custom)?;
        number.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Pct {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = decimal_text(deserializer)?;
        Pct::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Pct {
    fn schema_name() -> Cow<'static, str> {
        "Percent".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "description": "A percentage, whole or decimal: 20 means 20%"
        })
    }
}

/// Is `price` at or above the margin floor `cost × (1 + min_margin)`? Exact, in i128.
pub fn meets_margin_floor(price: Money, cost: Money, min_margin: Pct) -> bool {
    i128::from(price.fen()) * 10_000 >= i128::from(cost.fen()) * i128::from(10_000 + min_margin.bp())
}

/// The lowest price that meets the margin floor, rounded up to the fen.
pub fn margin_floor_price(cost: Money, min_margin: Pct) -> Money {
    let scaled = i128::from(cost.fen()) * i128::from(10_000 + min_margin.bp());
    let fen = (scaled + 9_999) / 10_000;
    Money(i64::try_from(fen).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finer_than_the_fen_is_refused_or_rounded_and_said_so() {
        assert!(Money::parse("0.001").is_err());
        assert_eq!(Money::parse_rounding("0.001").unwrap(), (Money::from_fen(0), true));
        assert_eq!(Money::parse_rounding("2.555").unwrap(), (Money::from_fen(256), true));
        assert_eq!(Money::parse_rounding("2.55").unwrap(), (Money::from_fen(255), false));
        assert!(Money::parse_rounding("-1.005").is_err());
    }

    #[test]
    fn yuan_text_round_trips_through_json_numbers() {
        let m: Money = serde_json::from_str("19.9").unwrap();
        assert_eq!(m.fen(), 1990);
        assert_eq!(serde_json::to_string(&m).unwrap(), "19.9");
        assert_eq!(Money::parse("¥500").unwrap(), Money::from_yuan(500));
        assert_eq!(Money::parse("0.1").unwrap().fen(), 10);
        assert!(matches!(Money::parse("1.234"), Err(AmountError::TooPrecise(_))));
        assert!(matches!(Money::parse("-3"), Err(AmountError::Negative(_))));
        assert!(matches!(Money::parse("abc"), Err(AmountError::NotANumber(_))));
        assert!(matches!(Money::parse("99999999999999999999"), Err(AmountError::TooLarge(_))));
    }

    #[test]
    fn percentages_are_exact_and_read_as_zhe() {
        assert_eq!(Pct::parse("12.5").unwrap().bp(), 1250);
        assert_eq!(Pct::whole(20).zhe_text(), "8折");
        assert_eq!(Pct::whole(25).zhe_text(), "7.5折");
        assert_eq!(Pct::whole(5).zhe_text(), "9.5折");
        assert_eq!(Pct::from_bp(1250).to_string(), "12.5%");
    }

    #[test]
    fn margin_floor_is_cost_plus_min_margin() {
        let cost = Money::from_yuan(100);
        assert!(meets_margin_floor(Money::from_yuan(110), cost, Pct::whole(10)));
        assert!(!meets_margin_floor(Money::from_fen(10_999), cost, Pct::whole(10)));
        assert_eq!(margin_floor_price(Money::from_fen(3333), Pct::whole(10)).fen(), 3667);
        assert_eq!(Money::from_yuan(88).less_pct(Pct::whole(20)).unwrap().fen(), 7040);
    }
}
