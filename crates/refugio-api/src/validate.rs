//! Parsing request fields into domain values, collecting every field error of a request so the
//! client sees them all in one `422`.

use crate::error::{ApiError, FieldError};
use crate::i18n::FieldIssue;
use refugio_core::text::{clean_name, TextError};
use refugio_core::Email;
use std::str::FromStr;

pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 128;
pub const NAME_MAX: usize = 200;
pub const CURRENCIES: &[&str] = &["MXN", "USD", "GTQ", "EUR"];

#[derive(Debug, Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    pub fn new() -> Fields {
        Fields::default()
    }

    pub fn add(&mut self, field: impl Into<String>, issue: FieldIssue) {
        self.errors.push(FieldError::new(field, issue));
    }

    /// A trimmed name or title of at most `max` characters.
    pub fn name(&mut self, field: &str, input: &str, max: usize) -> Option<String> {
        match clean_name(input, max) {
            Ok(s) => Some(s),
            Err(e) => {
                let issue = match e {
                    TextError::Empty => FieldIssue::Empty,
                    TextError::TooLong => FieldIssue::TooLong(max),
                    TextError::ControlCharacter => FieldIssue::ControlCharacters,
                };
                self.add(field, issue);
                None
            }
        }
    }

    pub fn email(&mut self, field: &str, input: &str) -> Option<Email> {
        Email::parse(input)
            .map_err(|_| self.add(field, FieldIssue::InvalidEmail))
            .ok()
    }

    /// A new password: 10 to 128 characters (not trimmed: spaces are allowed in passphrases).
    pub fn password(&mut self, field: &str, input: &str) -> Option<String> {
        let n = input.chars().count();
        if n < PASSWORD_MIN {
            self.add(field, FieldIssue::TooShort(PASSWORD_MIN));
            None
        } else if n > PASSWORD_MAX {
            self.add(field, FieldIssue::TooLong(PASSWORD_MAX));
            None
        } else {
            Some(input.to_owned())
        }
    }

    /// One of an enum's API spellings; `allowed` lists them for the message.
    pub fn one_of<T: FromStr>(
        &mut self,
        field: &str,
        input: &str,
        allowed: &'static [&'static str],
    ) -> Option<T> {
        input
            .parse()
            .map_err(|_| self.add(field, FieldIssue::OneOf(allowed)))
            .ok()
    }

    pub fn range(&mut self, field: &str, value: i64, min: i64, max: i64) -> Option<i64> {
        if (min..=max).contains(&value) {
            Some(value)
        } else {
            self.add(field, FieldIssue::Range { min, max });
            None
        }
    }

    pub fn timezone(&mut self, field: &str, input: &str) -> Option<String> {
        let tz = input.trim();
        tz.parse::<chrono_tz::Tz>()
            .map(|_| tz.to_owned())
            .map_err(|_| self.add(field, FieldIssue::InvalidTimezone))
            .ok()
    }

    pub fn currency(&mut self, field: &str, input: &str) -> Option<String> {
        let c = input.trim().to_ascii_uppercase();
        if CURRENCIES.contains(&c.as_str()) {
            Some(c)
        } else {
            self.add(field, FieldIssue::InvalidCurrency);
            None
        }
    }

    /// An ISO 3166-1 alpha-2 country code, uppercased.
    pub fn country(&mut self, field: &str, input: &str) -> Option<String> {
        let c = input.trim().to_ascii_uppercase();
        if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
            Some(c)
        } else {
            self.add(field, FieldIssue::Invalid);
            None
        }
    }

    /// Money in exactly `currency` with at most its minor digits; returns minor units.
    pub fn money(
        &mut self,
        field: &str,
        input: &crate::money::MoneyJson,
        currency: &str,
    ) -> Option<i64> {
        match refugio_core::Money::parse(&input.amount, &input.currency) {
            Err(refugio_core::money::MoneyError::Currency) => {
                self.add(format!("{field}.currency"), FieldIssue::InvalidCurrency);
                None
            }
            Err(refugio_core::money::MoneyError::Amount(e)) => {
                self.add(format!("{field}.amount"), decimal_issue(e, 2));
                None
            }
            Ok(m) if m.currency.as_str() != currency => {
                self.add(
                    format!("{field}.currency"),
                    FieldIssue::CurrencyMustBe(currency.to_owned()),
                );
                None
            }
            Ok(m) => Some(m.minor),
        }
    }

    /// A stock quantity with at most 3 decimals, in thousandths.
    pub fn quantity(&mut self, field: &str, input: &serde_json::Number) -> Option<i64> {
        refugio_core::Quantity::from_json(input)
            .map(|q| q.0)
            .map_err(|e| self.add(field, decimal_issue(e, 3)))
            .ok()
    }

    /// A stock quantity above zero (goods pledged, received, bought), in thousandths.
    pub fn positive_quantity(&mut self, field: &str, input: &serde_json::Number) -> Option<i64> {
        match self.quantity(field, input) {
            Some(q) if q <= 0 => {
                self.add(field, FieldIssue::MustBePositive);
                None
            }
            other => other,
        }
    }

    /// A per-person norm with at most 6 decimals, in millionths.
    pub fn norm(&mut self, field: &str, input: &serde_json::Number) -> Option<i64> {
        refugio_core::quantity::norm_from_json(input)
            .map_err(|e| self.add(field, decimal_issue(e, 6)))
            .ok()
    }

    /// An RFC 3339 timestamp (any offset), at most 5 minutes in the future; as UTC.
    pub fn timestamp(&mut self, field: &str, input: &str) -> Option<chrono::NaiveDateTime> {
        match chrono::DateTime::parse_from_rfc3339(input.trim()) {
            Err(_) => {
                self.add(field, FieldIssue::InvalidDate);
                None
            }
            Ok(t) if t.naive_utc() > refugio_db::now() + chrono::Duration::minutes(5) => {
                self.add(field, FieldIssue::InFuture);
                None
            }
            Ok(t) => Some(chrono::SubsecRound::trunc_subsecs(t.naive_utc(), 6)),
        }
    }

    /// A `YYYY-MM-DD` date with a four-digit year (a signed or five-digit year is no real date
    /// here, and PostgreSQL would refuse some of them).
    pub fn date(&mut self, field: &str, input: &str) -> Option<chrono::NaiveDate> {
        let date = parse_date(input);
        if date.is_none() {
            self.add(field, FieldIssue::InvalidDate);
        }
        date
    }

    /// Free text (notes, descriptions): trimmed, at most `max` characters, no NUL; empty is none.
    pub fn note(&mut self, field: &str, input: Option<&str>, max: usize) -> Option<String> {
        let text = input?.trim();
        if text.is_empty() {
            return None;
        }
        if text.chars().count() > max {
            self.add(field, FieldIssue::TooLong(max));
            return None;
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            self.add(field, FieldIssue::ControlCharacters);
            return None;
        }
        Some(text.to_owned())
    }

    /// `Ok(())` when no field failed, else the `422` listing them all.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

fn decimal_issue(e: refugio_core::decimal::DecimalError, scale: u32) -> FieldIssue {
    use refugio_core::decimal::DecimalError;
    match e {
        DecimalError::TooPrecise => FieldIssue::TooPrecise(scale),
        DecimalError::Invalid => FieldIssue::WrongType("number"),
        DecimalError::OutOfRange => FieldIssue::Range {
            min: -1_000_000_000_000,
            max: 1_000_000_000_000,
        },
    }
}

/// Today's date in a shelter's time zone (dates that belong to a shelter are local).
pub fn shelter_today(timezone: &str) -> chrono::NaiveDate {
    let now = chrono::Utc::now();
    timezone.parse::<chrono_tz::Tz>().map_or_else(
        |_| now.date_naive(),
        |tz| now.with_timezone(&tz).date_naive(),
    )
}

/// Unwraps values that `Fields::finish` has vouched for.
pub fn checked<T>(value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::internal("validated field missing"))
}

pub const ROLES: &[&str] = &["admin", "auditor", "staff", "donor"];
pub const MEMBERSHIP_ROLES: &[&str] = &["manager", "coordinator"];
pub const LOCALES: &[&str] = &["es", "en"];

/// `YYYY-MM-DD` with a year from 1000 to 9999, else `None`.
pub fn parse_date(input: &str) -> Option<chrono::NaiveDate> {
    use chrono::Datelike;
    chrono::NaiveDate::parse_from_str(input.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| (1000..=9999).contains(&d.year()))
}
