//! Money: integer minor units and an ISO 4217 currency. No floating point anywhere.

use crate::decimal::{format_scaled, parse_scaled, DecimalError};

crate::roles::api_enum! {
    /// The currencies Refugio handles; all have 2 minor digits.
    Currency { Mxn => "MXN", Usd => "USD", Gtq => "GTQ", Eur => "EUR" }
}

impl Currency {
    pub fn minor_digits(self) -> u32 {
        2
    }
}

/// An exact amount of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

/// Why a money object was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyError {
    Amount(DecimalError),
    Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// From the API's `{amount: "1250.50", currency: "MXN"}` parts.
    pub fn parse(amount: &str, currency: &str) -> Result<Money, MoneyError> {
        let currency: Currency = currency.trim().parse().map_err(|_| MoneyError::Currency)?;
        let minor = parse_scaled(amount, currency.minor_digits()).map_err(MoneyError::Amount)?;
        Ok(Money { minor, currency })
    }

    /// The amount as a decimal string with exactly the currency's minor digits.
    pub fn amount_string(self) -> String {
        format_scaled(self.minor, self.currency.minor_digits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_exactly_and_formats_with_minor_digits() {
        let m = Money::parse("1250.5", "MXN").expect("valid");
        assert_eq!(m, Money::new(125_050, Currency::Mxn));
        assert_eq!(m.amount_string(), "1250.50");
        assert_eq!(
            Money::parse("1.005", "USD"),
            Err(MoneyError::Amount(DecimalError::TooPrecise))
        );
        assert_eq!(Money::parse("1", "XXX"), Err(MoneyError::Currency));
    }
}
