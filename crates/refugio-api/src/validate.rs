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

    /// `Ok(())` when no field failed, else the `422` listing them all.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

/// Unwraps values that `Fields::finish` has vouched for.
pub fn checked<T>(value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::internal("validated field missing"))
}

pub const ROLES: &[&str] = &["admin", "auditor", "staff", "donor"];
pub const MEMBERSHIP_ROLES: &[&str] = &["manager", "coordinator"];
pub const LOCALES: &[&str] = &["es", "en"];
