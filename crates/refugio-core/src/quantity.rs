//! Stock quantities (exact thousandths) and per-person norms (exact millionths).

use crate::decimal::{format_trimmed, parse_scaled, DecimalError};

/// A stock quantity in thousandths of its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity(pub i64);

impl Quantity {
    pub const SCALE: u32 = 3;
    pub const ZERO: Quantity = Quantity(0);

    /// From a JSON number with at most 3 decimals.
    pub fn from_json(n: &serde_json::Number) -> Result<Quantity, DecimalError> {
        parse_scaled(&n.to_string(), Self::SCALE).map(Quantity)
    }

    pub fn whole(units: i64) -> Quantity {
        Quantity(units * 1000)
    }

    /// Thousandths that may be absent, as a JSON number or null.
    pub fn optional_json(thousandths: Option<i64>) -> serde_json::Value {
        thousandths.map_or(serde_json::Value::Null, |q| Quantity(q).to_json())
    }

    /// As a JSON number, exact (`174`, `3.125`).
    pub fn to_json(self) -> serde_json::Value {
        if self.0 % 1000 == 0 {
            serde_json::Value::from(self.0 / 1000)
        } else {
            format_trimmed(self.0, Self::SCALE)
                .parse::<serde_json::Number>()
                .map_or(serde_json::Value::Null, serde_json::Value::Number)
        }
    }
}

impl std::fmt::Display for Quantity {
    /// The shortest exact decimal (`174`, `3.125`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_trimmed(self.0, Self::SCALE))
    }
}

/// A per-person norm in millionths (e.g. 8.333 g of soap per person per day).
pub fn norm_from_json(n: &serde_json::Number) -> Result<i64, DecimalError> {
    parse_scaled(&n.to_string(), 6)
}

/// A norm as a JSON number, exact.
pub fn norm_to_json(millionths: i64) -> serde_json::Value {
    format_trimmed(millionths, 6)
        .parse::<serde_json::Number>()
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> serde_json::Number {
        text.parse().expect("a JSON number")
    }

    #[test]
    fn quantities_round_trip_exactly() {
        assert_eq!(Quantity::from_json(&num("0.4")), Ok(Quantity(400)));
        assert_eq!(Quantity::from_json(&num("174")), Ok(Quantity(174_000)));
        assert_eq!(
            Quantity::from_json(&num("1.0005")),
            Err(DecimalError::TooPrecise)
        );
        assert_eq!(Quantity(3125).to_json(), serde_json::json!(3.125));
        assert_eq!(Quantity(174_000).to_json(), serde_json::json!(174));
        assert_eq!(norm_from_json(&num("8.333")), Ok(8_333_000));
        assert_eq!(norm_to_json(400_000), serde_json::json!(0.4));
    }
}
