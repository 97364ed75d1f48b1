//! Conversion rates between currencies and the exact conversions the allocator makes with them.

use crate::decimal::{div_round_half_even, format_trimmed, parse_scaled, DecimalError};
use crate::money::Currency;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Millionths in one whole unit of a rate: rates are exact decimals with up to 6 digits.
pub const RATE_SCALE: i64 = 1_000_000;

/// A conversion rate from a donation's currency to a shelter's currency: how many units of the
/// shelter's currency one unit of the donation's currency buys, as exact millionths (17.25 is
/// `17_250_000`). Always positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rate(pub(super) i64);

impl Rate {
    /// The rate between a currency and itself.
    pub const ONE: Rate = Rate(RATE_SCALE);

    /// Largest rate accepted (1,000,000 per unit), in millionths.
    pub const MAX_MILLIONTHS: i64 = 1_000_000 * RATE_SCALE;

    /// A rate of `millionths / 10^6`; `None` unless `1 ≤ millionths ≤ MAX_MILLIONTHS`.
    pub fn from_millionths(millionths: i64) -> Option<Rate> {
        (1..=Rate::MAX_MILLIONTHS)
            .contains(&millionths)
            .then_some(Rate(millionths))
    }

    /// Parses decimal text (`"17.25"`) with at most 6 fractional digits.
    pub fn parse(text: &str) -> Result<Rate, DecimalError> {
        let millionths = parse_scaled(text, 6)?;
        Rate::from_millionths(millionths).ok_or(DecimalError::OutOfRange)
    }

    /// The rate in millionths.
    pub fn millionths(self) -> i64 {
        self.0
    }

    /// The shortest exact decimal text (`17.25`).
    pub fn as_decimal(self) -> String {
        format_trimmed(self.0, 6)
    }
}

/// Where rates come from: the latest rate on file for the donation's date, looked up by the
/// caller. Implemented by closures `Fn(from, to) -> Option<Rate>` and by [`RateTable`].
pub trait Rates {
    /// The rate from `from` to `to`, if one is on file. Never guessed or inverted.
    fn rate(&self, from: Currency, to: Currency) -> Option<Rate>;
}

impl<F: Fn(Currency, Currency) -> Option<Rate>> Rates for F {
    fn rate(&self, from: Currency, to: Currency) -> Option<Rate> {
        self(from, to)
    }
}

/// Directional rates held in memory: `USD → MXN` says nothing about `MXN → USD`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateTable {
    rates: BTreeMap<(Currency, Currency), Rate>,
}

impl RateTable {
    /// An empty table (only same-currency conversions succeed).
    pub fn new() -> RateTable {
        RateTable::default()
    }

    /// Sets the rate from `from` to `to`, replacing any earlier one.
    pub fn insert(&mut self, from: Currency, to: Currency, rate: Rate) -> &mut RateTable {
        self.rates.insert((from, to), rate);
        self
    }
}

impl Rates for RateTable {
    fn rate(&self, from: Currency, to: Currency) -> Option<Rate> {
        self.rates.get(&(from, to)).copied()
    }
}

/// The rate the allocator uses: 1 for the same currency, else whatever `rates` has on file.
pub fn rate_between(rates: &impl Rates, from: Currency, to: Currency) -> Option<Rate> {
    if from == to {
        Some(Rate::ONE)
    } else {
        rates.rate(from, to)
    }
}

/// `amount` (donation currency, minor units) in the shelter's currency:
/// `round_half_even(amount × rate)`. Exact; may exceed `i64` only for absurd inputs.
pub fn to_local(amount: i64, rate: Rate) -> i128 {
    // In 64 bits when the product fits (the same rounding as `div_round_half_even`).
    if let (Ok(amount), Ok(millionths)) = (u64::try_from(amount), u64::try_from(rate.0)) {
        if let Some(product) = amount.checked_mul(millionths) {
            let scale = RATE_SCALE as u64;
            let (q, r) = (product / scale, product % scale);
            let up = match (2 * r).cmp(&scale) {
                Ordering::Greater => true,
                Ordering::Equal => q % 2 != 0,
                Ordering::Less => false,
            };
            return i128::from(q + u64::from(up));
        }
    }
    div_round_half_even(
        i128::from(amount) * i128::from(rate.0),
        i128::from(RATE_SCALE),
    )
}

/// The claim of a need: `open_local` (shelter currency) in the donation's currency, rounded up to
/// the minor unit, `ceil(open_local × 10^6 / rate)`; 0 when nothing is open. Paying the claim
/// always covers the need: `to_local(claim(x, r), r) ≥ x`.
pub fn claim(open_local: i64, rate: Rate) -> i128 {
    if open_local <= 0 {
        return 0;
    }
    // In 64 bits when `open_local × 10^6 + rate` fits (rates are at most 10^12 millionths).
    if let (Ok(open), Ok(millionths)) = (u64::try_from(open_local), u64::try_from(rate.0)) {
        if let Some(ceiling) = open
            .checked_mul(RATE_SCALE as u64)
            .and_then(|n| n.checked_add(millionths))
            .and_then(|n| (n - 1).checked_div(millionths))
        {
            return i128::from(ceiling);
        }
    }
    let numerator = i128::from(open_local) * i128::from(RATE_SCALE);
    let rate = i128::from(rate.0);
    (numerator + rate - 1) / rate
}
