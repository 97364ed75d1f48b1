//! The API's money object, `{"amount": "1250.50", "currency": "MXN"}`.

use refugio_core::Money;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MoneyJson {
    /// Decimal string with at most the currency's minor digits (2 for MXN, USD, GTQ, EUR).
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
}

impl From<Money> for MoneyJson {
    fn from(m: Money) -> MoneyJson {
        MoneyJson {
            amount: m.amount_string(),
            currency: m.currency.to_string(),
        }
    }
}

/// Money as people read it in emails and report details: `1725.00 MXN`.
pub fn money_text(minor: i64, currency: &str) -> String {
    let m = money_json(minor, currency);
    format!("{} {}", m.amount, m.currency)
}

/// Minor units of `currency` (as stored) as the API's money object.
pub fn money_json(minor: i64, currency: &str) -> MoneyJson {
    match currency.parse() {
        Ok(c) => Money::new(minor, c).into(),
        Err(_) => MoneyJson {
            amount: minor.to_string(),
            currency: currency.to_owned(),
        },
    }
}
