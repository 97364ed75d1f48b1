//! Email addresses, compared case-insensitively and stored lowercased.

use std::fmt;

/// A syntactically plausible email address, trimmed and lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses user input; the message is a stable reason code for the caller to translate.
    pub fn parse(input: &str) -> Result<Email, &'static str> {
        let s = input.trim().to_lowercase();
        if s.len() > 254 {
            return Err("too_long");
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err("invalid_email");
        };
        let ok_chars = |p: &str| {
            !p.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '@')
        };
        if local.is_empty()
            || local.len() > 64
            || domain.len() < 3
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || !ok_chars(local)
            || !ok_chars(domain)
        {
            return Err("invalid_email");
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(
            Email::parse("  Ana@Example.ORG ").map(Email::into_inner),
            Ok("ana@example.org".into())
        );
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.org",
            "ana@org",
            "a na@example.org",
            "ana@example.org.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
