//! Allocating money (ENGINE.md "Allocating money"): donations are taken most-restricted first and
//! split over the bands critical → low; inside a band, scarce money is water-filled across
//! shelters weighted by occupancy, in exact integer minor units (largest remainder), and each
//! shelter's share fills its needs in board order. Pure: needs, donations and rates come in as
//! data; no clock, no I/O, no floating point.

mod keys;
mod many;
mod rates;
mod shelters;
mod single;
mod water_fill;

pub use many::allocate_many;
pub use rates::{claim, rate_between, to_local, Rate, RateTable, Rates, RATE_SCALE};
pub use single::allocate;
pub use water_fill::{water_fill, Level, ShelterClaim, WaterFill};

use super::board::BoardKey;
use super::needs::NeedCategory;
use super::priority::Band;
use crate::decimal::div_round_half_even;
use crate::money::Currency;
use std::cmp::Ordering;

/// Largest shelter weight used. Real occupancies are far below it; it keeps the water-filling
/// products (claim × Σ weights) comfortably inside `i128`.
pub const MAX_WEIGHT: i64 = 1_000_000_000;

/// What a donation may pay for, most restricted first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Restriction {
    /// One need (by id).
    Need(String),
    /// One shelter's needs of one category (shelter id, category).
    ShelterCategory(String, NeedCategory),
    /// One shelter's needs (by id).
    Shelter(String),
    /// Needs of one category in any shelter.
    Category(NeedCategory),
    /// Any need.
    None,
}

impl Restriction {
    /// The tier that orders donations: need 1, shelter + category 2, shelter 3, category 4, none 5.
    pub fn tier(&self) -> u8 {
        match self {
            Restriction::Need(_) => 1,
            Restriction::ShelterCategory(..) => 2,
            Restriction::Shelter(_) => 3,
            Restriction::Category(_) => 4,
            Restriction::None => 5,
        }
    }

    /// Whether money with this restriction may pay for `need`.
    pub fn admits(&self, need: &OpenNeed) -> bool {
        match self {
            Restriction::Need(id) => need.id == *id,
            Restriction::ShelterCategory(shelter, category) => {
                need.shelter_id == *shelter && need.category == *category
            }
            Restriction::Shelter(shelter) => need.shelter_id == *shelter,
            Restriction::Category(category) => need.category == *category,
            Restriction::None => true,
        }
    }
}

/// Received money waiting to be allocated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Donation {
    pub id: String,
    pub currency: Currency,
    /// What is still unallocated, in the donation currency's minor units.
    pub unallocated: i64,
    pub restriction: Restriction,
    /// When it was received; any totally ordered text (RFC 3339 UTC sorts correctly).
    pub received_at: String,
}

/// A money need that may receive money: not final, with an amount (not in-kind only).
///
/// `currency` and `occupied` belong to the shelter and should be the same on all of its needs.
/// If they are not, each need converts at its own currency's rate and the shelter's weight is the
/// largest occupancy among its needs in the band, so the result still does not depend on order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenNeed {
    pub id: String,
    pub shelter_id: String,
    pub category: NeedCategory,
    pub band: Band,
    /// Score in tenths, as on the board.
    pub score: i64,
    /// Any totally ordered timestamp text, as on the board.
    pub opened_at: String,
    /// What the need still lacks, in the shelter currency's minor units.
    pub amount_open: i64,
    /// The shelter's currency.
    pub currency: Currency,
    /// The shelter's occupied beds `O`.
    pub occupied: i64,
}

impl OpenNeed {
    /// The need's key on the public board.
    pub fn board_key(&self) -> BoardKey {
        BoardKey {
            band: self.band,
            score: self.score,
            opened_at: self.opened_at.clone(),
            id: self.id.clone(),
        }
    }

    /// The shelter's water-filling weight `w = max(1, O)` (capped at [`MAX_WEIGHT`]).
    pub fn weight(&self) -> i64 {
        self.occupied.clamp(1, MAX_WEIGHT)
    }
}

/// Board order ([`BoardKey`]) without cloning, then the remaining fields so that even needs with
/// equal keys have one order whatever order they came in.
fn need_order(a: &OpenNeed, b: &OpenNeed) -> Ordering {
    a.band
        .cmp(&b.band)
        .then(b.score.cmp(&a.score))
        .then_with(|| a.opened_at.cmp(&b.opened_at))
        .then_with(|| a.id.cmp(&b.id))
        .then_with(|| a.shelter_id.cmp(&b.shelter_id))
        .then(a.category.cmp(&b.category))
        .then(a.currency.cmp(&b.currency))
        .then(a.amount_open.cmp(&b.amount_open))
        .then(a.occupied.cmp(&b.occupied))
}

/// The order donations are allocated in: restriction tier, received time, id.
pub fn donation_order(a: &Donation, b: &Donation) -> Ordering {
    a.restriction
        .tier()
        .cmp(&b.restriction.tier())
        .then_with(|| a.received_at.cmp(&b.received_at))
        .then_with(|| a.id.cmp(&b.id))
}

/// Sorts donations into allocation order: most restricted first, then received time, then id.
pub fn order_donations(donations: &mut [Donation]) {
    donations.sort_by(donation_order);
}

/// Part of a donation allocated to one need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    pub need_id: String,
    pub shelter_id: String,
    /// In the donation currency's minor units; always > 0.
    pub amount: i64,
    /// In the shelter currency's minor units: `min(round_half_even(amount × rate), amount_open)`.
    pub amount_local: i64,
    /// The rate used (1 for the same currency).
    pub rate: Rate,
}

/// The result of allocating one donation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub donation_id: String,
    /// In the order the needs were paid: band by band, board order inside a band.
    pub slices: Vec<Slice>,
    /// What is left on the donation: `Σ slice amounts + unallocated = donation.unallocated`.
    pub unallocated: i64,
    /// Shelters with eligible needs but no rate from the donation's currency (sorted, unique):
    /// their needs were skipped; the report flags `missing_fx_rate`.
    pub skipped_shelters_missing_rate: Vec<String>,
}

/// A slice after part of it was released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Released {
    /// The slice's new amount (donation currency).
    pub amount: i64,
    /// What goes back to the donation's unallocated: old amount − new amount, never negative.
    pub returned: i64,
}

/// Releases part of a slice whose `amount_local` falls from `local_before` to `local_after`:
/// its amount becomes `round_half_even(amount × local_after / local_before)` (ENGINE.md). A
/// release never raises the amount: `local_after` is taken within `[0, local_before]`, and
/// releasing to 0 always returns everything.
pub fn release(amount: i64, local_before: i64, local_after: i64) -> Released {
    let amount = amount.max(0);
    let after = local_after.clamp(0, local_before.max(0));
    let new_amount = if after == 0 {
        0
    } else if after == local_before {
        amount
    } else {
        // `after < local_before`, so the result is at most `amount` and fits in i64.
        div_round_half_even(
            i128::from(amount) * i128::from(after),
            i128::from(local_before),
        ) as i64
    };
    Released {
        amount: new_amount,
        returned: amount - new_amount,
    }
}

#[cfg(test)]
mod tests;
