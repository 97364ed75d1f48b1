//! Exact decimals: text like `"1250.50"` or a JSON number like `0.4` becomes an integer count of
//! `10^-scale` units, or is refused if it would need more digits. No floating point.

/// Why a decimal was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    /// Not a decimal number at all.
    Invalid,
    /// More fractional digits than the scale allows.
    TooPrecise,
    /// Outside the range this field can hold.
    OutOfRange,
}

/// Largest magnitude accepted, in whole units: far above any real stock or amount, far below
/// where integer arithmetic on thousandths or cents could overflow.
pub const MAX_WHOLE: i128 = 1_000_000_000_000;

/// Parses `text` (`-12.5`, `3`, `1e3`, `2.50E-1`) into units of `10^-scale`.
pub fn parse_scaled(text: &str, scale: u32) -> Result<i64, DecimalError> {
    let text = text.trim();
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (
            &body[..i],
            body[i + 1..]
                .parse::<i32>()
                .map_err(|_| DecimalError::Invalid)?,
        ),
        None => (body, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(DecimalError::Invalid);
    }
    // digits × 10^(exponent − frac_len) is the value; we need it × 10^scale as an integer.
    let digits = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    let frac_len = i32::try_from(frac_part.len()).map_err(|_| DecimalError::Invalid)?;
    let shift = exponent
        .checked_sub(frac_len)
        .and_then(|s| s.checked_add(scale as i32))
        .ok_or(DecimalError::OutOfRange)?;
    if digits.is_empty() {
        return Ok(0);
    }
    let (digits, shift) = if shift < 0 {
        // Dropping digits is only allowed when they are zeros.
        let drop = usize::try_from(-shift).map_err(|_| DecimalError::OutOfRange)?;
        if drop >= digits.len() {
            return Err(DecimalError::TooPrecise);
        }
        let (kept, dropped) = digits.split_at(digits.len() - drop);
        if dropped.bytes().any(|b| b != b'0') {
            return Err(DecimalError::TooPrecise);
        }
        (kept.to_owned(), 0)
    } else {
        (digits.to_owned(), shift)
    };
    if digits.len() + shift as usize > 30 {
        return Err(DecimalError::OutOfRange);
    }
    let mut value: i128 = digits.parse().map_err(|_| DecimalError::OutOfRange)?;
    value *= 10i128.pow(shift as u32);
    if value > MAX_WHOLE * 10i128.pow(scale) {
        return Err(DecimalError::OutOfRange);
    }
    let value = i64::try_from(value).map_err(|_| DecimalError::OutOfRange)?;
    Ok(if negative { -value } else { value })
}

/// Formats units of `10^-scale` with exactly `scale` fractional digits (`125050, 2` → `1250.50`).
pub fn format_scaled(units: i64, scale: u32) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs();
    if scale == 0 {
        return format!("{sign}{abs}");
    }
    let factor = 10u64.pow(scale);
    format!(
        "{sign}{}.{:0width$}",
        abs / factor,
        abs % factor,
        width = scale as usize
    )
}

/// Formats units of `10^-scale` as the shortest exact decimal (`16000, 3` → `16`, `3125, 3` → `3.125`).
pub fn format_trimmed(units: i64, scale: u32) -> String {
    let full = format_scaled(units, scale);
    if full.contains('.') {
        full.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        full
    }
}

/// `numerator / denominator` rounded half up (away from zero on ties), for any signs.
pub fn div_round_half_up(numerator: i128, denominator: i128) -> i128 {
    let q = numerator / denominator;
    let r = numerator % denominator;
    if 2 * r.abs() >= denominator.abs() {
        q + if (numerator < 0) == (denominator < 0) {
            1
        } else {
            -1
        }
    } else {
        q
    }
}

/// `numerator / denominator` rounded half to even (banker's rounding), for any signs.
pub fn div_round_half_even(numerator: i128, denominator: i128) -> i128 {
    let q = numerator / denominator;
    let r = numerator % denominator;
    let twice = 2 * r.abs();
    let away = if (numerator < 0) == (denominator < 0) {
        1
    } else {
        -1
    };
    match twice.cmp(&denominator.abs()) {
        std::cmp::Ordering::Greater => q + away,
        std::cmp::Ordering::Equal if q % 2 != 0 => q + away,
        _ => q,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_exactly_at_their_scale() {
        assert_eq!(parse_scaled("1250.50", 2), Ok(125_050));
        assert_eq!(parse_scaled("0.4", 3), Ok(400));
        assert_eq!(parse_scaled("-12", 3), Ok(-12_000));
        assert_eq!(parse_scaled("1e3", 3), Ok(1_000_000));
        assert_eq!(parse_scaled("2.50E-1", 2), Ok(25));
        assert_eq!(parse_scaled("1.2340", 3), Ok(1234));
        assert_eq!(parse_scaled("0.000", 3), Ok(0));
        assert_eq!(parse_scaled("1.0005", 3), Err(DecimalError::TooPrecise));
        assert_eq!(parse_scaled("0.001", 2), Err(DecimalError::TooPrecise));
        for bad in ["", ".", "abc", "1.2.3", "--1", "1e", "0x10", " 1 2"] {
            assert_eq!(parse_scaled(bad, 2), Err(DecimalError::Invalid), "{bad}");
        }
        assert_eq!(parse_scaled("1e40", 2), Err(DecimalError::OutOfRange));
        assert_eq!(
            parse_scaled("10000000000000", 2),
            Err(DecimalError::OutOfRange)
        );
    }

    #[test]
    fn formatting_is_exact() {
        assert_eq!(format_scaled(125_050, 2), "1250.50");
        assert_eq!(format_scaled(-5, 2), "-0.05");
        assert_eq!(format_trimmed(16_000, 3), "16");
        assert_eq!(format_trimmed(3_125, 3), "3.125");
        assert_eq!(format_trimmed(-500, 3), "-0.5");
    }

    #[test]
    fn rounding_modes() {
        assert_eq!(div_round_half_up(5, 2), 3);
        assert_eq!(div_round_half_up(-5, 2), -3);
        assert_eq!(div_round_half_up(4, 3), 1);
        assert_eq!(div_round_half_even(5, 2), 2);
        assert_eq!(div_round_half_even(7, 2), 4);
        assert_eq!(div_round_half_even(-5, 2), -2);
        assert_eq!(div_round_half_even(11, 4), 3);
    }
}
