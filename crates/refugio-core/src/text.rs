//! Free-text fields: trimmed, bounded, and free of control characters.

/// Why a text field was refused; the API translates the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    Empty,
    TooLong,
    ControlCharacter,
}

/// Trims `input` and checks it is 1..=`max` characters with no control characters (NUL included).
pub fn clean_name(input: &str, max: usize) -> Result<String, TextError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(TextError::Empty);
    }
    if s.chars().count() > max {
        return Err(TextError::TooLong);
    }
    if s.chars().any(char::is_control) {
        return Err(TextError::ControlCharacter);
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(clean_name("  Casa  ", 10), Ok("Casa".into()));
        assert_eq!(clean_name("   ", 10), Err(TextError::Empty));
        assert_eq!(clean_name("abcdefghijk", 10), Err(TextError::TooLong));
        assert_eq!(clean_name("a\0b", 10), Err(TextError::ControlCharacter));
        assert_eq!(clean_name("a\nb", 10), Err(TextError::ControlCharacter));
    }
}
