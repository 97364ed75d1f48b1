//! Allocating money (ENGINE.md "Allocating money"): donations are taken most-restricted first and
//! split over the bands critical → low; inside a band, scarce money is water-filled across
//! shelters weighted by occupancy, in exact integer minor units (largest remainder), and each
//! shelter's share fills its needs in board order. Pure: needs, donations and rates come in as
//! data; no clock, no I/O, no floating point.

use super::board::BoardKey;
use super::needs::NeedCategory;
use super::priority::Band;
use crate::decimal::{div_round_half_even, format_trimmed, parse_scaled, DecimalError};
use crate::money::Currency;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

/// Millionths in one whole unit of a rate: rates are exact decimals with up to 6 digits.
pub const RATE_SCALE: i64 = 1_000_000;

/// Largest shelter weight used. Real occupancies are far below it; it keeps the water-filling
/// products (claim × Σ weights) comfortably inside `i128`.
pub const MAX_WEIGHT: i64 = 1_000_000_000;

/// A conversion rate from a donation's currency to a shelter's currency: how many units of the
/// shelter's currency one unit of the donation's currency buys, as exact millionths (17.25 is
/// `17_250_000`). Always positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rate(i64);

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

/// One shelter's claim in a band, for [`water_fill`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShelterClaim<'a> {
    pub shelter_id: &'a str,
    /// In the donation currency's minor units (negative counts as 0).
    pub claim: i128,
    /// `w = max(1, O)`; values below 1 count as 1, above [`MAX_WEIGHT`] as `MAX_WEIGHT`.
    pub weight: i64,
}

/// The water level `λ = num / den` (money per unit of weight), `den > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub num: i128,
    pub den: i128,
}

/// How [`water_fill`] split the money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaterFill {
    /// Per shelter, in the order given; `Σ shares = min(remaining, Σ claims)`.
    pub shares: Vec<i128>,
    /// `λ` when the money did not cover every claim; `None` when every claim was paid in full.
    pub level: Option<Level>,
}

/// Splits `remaining` across shelters: every claim in full when it covers them all; otherwise
/// finds `λ` with `Σ min(claim, λ·w) = remaining` exactly and gives each shelter
/// `min(claim, λ·w)`, rounded to minor units by largest remainder (ties: lower shelter id), so the
/// shares add up to `remaining` exactly. The result does not depend on the order of `shelters`
/// (given distinct ids).
pub fn water_fill(remaining: i128, shelters: &[ShelterClaim<'_>]) -> WaterFill {
    let mut filler = Filler::default();
    for s in shelters {
        filler.push(s.claim, s.weight);
    }
    let level = filler.run(remaining, |a, b| {
        shelters[a].shelter_id.cmp(shelters[b].shelter_id)
    });
    WaterFill {
        shares: filler.shares,
        level,
    }
}

/// The working memory of [`water_fill`], kept between calls by the allocator.
#[derive(Debug, Default)]
struct Filler {
    /// Per shelter, in the order pushed: its claim (clamped by `run`) and its weight.
    claims: Vec<i128>,
    weights: Vec<i128>,
    /// Per shelter, after `run`: its share.
    shares: Vec<i128>,
    by_ratio: Vec<u32>,
    /// (remainder, shelter, position in `by_ratio`) of the shelters left unfilled.
    remainders: Vec<(i128, u32, u32)>,
}

impl Filler {
    fn clear(&mut self) {
        self.claims.clear();
        self.weights.clear();
    }

    fn push(&mut self, claim: i128, weight: i64) {
        self.claims.push(claim);
        self.weights.push(i128::from(weight.clamp(1, MAX_WEIGHT)));
    }

    /// [`water_fill`] of `remaining` over the pushed shelters, `tie(a, b)` comparing the ids of
    /// shelters `a` and `b`. Leaves the shares in `self.shares` and returns the level.
    fn run(&mut self, remaining: i128, tie: impl Fn(usize, usize) -> Ordering) -> Option<Level> {
        let remaining = remaining.max(0);
        // A claim above `remaining` behaves exactly like `remaining + 1`: `λ·w ≤ remaining` for
        // every shelter, so `min(claim, λ·w)` is the same. Capping keeps the products below small.
        let cap = remaining + 1;
        let mut total: i128 = 0;
        for c in &mut self.claims {
            *c = (*c).clamp(0, cap);
            total += *c;
        }
        self.shares.clear();
        if total <= remaining {
            self.shares.extend_from_slice(&self.claims);
            return None;
        }
        let (claims, weights) = (&self.claims, &self.weights);
        let count = claims.len();
        // Shelters by claim / w ascending (cross-multiplied, exact); the smallest fill up first.
        // Ties by id, then by position (what a stable sort would keep).
        self.by_ratio.clear();
        self.by_ratio.extend((0..count).map(index_u32));
        self.by_ratio.sort_unstable_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            (claims[a] * weights[b])
                .cmp(&(claims[b] * weights[a]))
                .then_with(|| tie(a, b))
                .then(a.cmp(&b))
        });
        self.shares.resize(count, 0);
        let mut left = remaining;
        let mut weight_left: i128 = weights.iter().sum();
        let mut first_unfilled = count;
        for (k, &s) in self.by_ratio.iter().enumerate() {
            let s = s as usize;
            // Saturated when claim / w ≤ λ, i.e. when the level with it still unfilled would
            // pass it.
            if claims[s] * weight_left <= left * weights[s] {
                self.shares[s] = claims[s];
                left -= claims[s];
                weight_left -= weights[s];
            } else {
                first_unfilled = k;
                break;
            }
        }
        // Not every claim fits, so some shelter is left unfilled and `weight_left > 0`:
        // λ = left / W.
        self.remainders.clear();
        let mut handed_out: i128 = 0;
        for (k, &s) in self.by_ratio.iter().enumerate().skip(first_unfilled) {
            let (share, remainder) = div_rem(left * weights[s as usize], weight_left);
            self.shares[s as usize] = share;
            handed_out += share;
            self.remainders.push((remainder, s, index_u32(k)));
        }
        let extra = usize::try_from(left - handed_out).unwrap_or(0);
        // The `extra` largest remainders (ties: lower id, then earlier in `by_ratio`) get one
        // more minor unit; only which ones matters, not their order.
        let larger_first = |a: &(i128, u32, u32), b: &(i128, u32, u32)| {
            b.0.cmp(&a.0)
                .then_with(|| tie(a.1 as usize, b.1 as usize))
                .then(a.2.cmp(&b.2))
        };
        if extra > 0 && extra < self.remainders.len() {
            self.remainders
                .select_nth_unstable_by(extra - 1, larger_first);
        }
        // Each unfilled shelter has λ·w < claim, so one more minor unit never exceeds its claim.
        for &(_, s, _) in self.remainders.iter().take(extra) {
            self.shares[s as usize] += 1;
        }
        Some(Level {
            num: left,
            den: weight_left.max(1),
        })
    }

    /// The same shares and level as [`Filler::run`] when `tie` never finds two shelters equal
    /// (distinct ids), in linear time on usual inputs.
    fn run_distinct(
        &mut self,
        remaining: i128,
        tie: impl Fn(usize, usize) -> Ordering,
    ) -> Option<Level> {
        self.run_distinct_rounds(remaining, tie, 4)
    }

    /// [`Filler::run_distinct`], sorting by ratio after `rounds` rounds that still saturated
    /// some shelter.
    fn run_distinct_rounds(
        &mut self,
        remaining: i128,
        tie: impl Fn(usize, usize) -> Ordering,
        rounds: usize,
    ) -> Option<Level> {
        let remaining = remaining.max(0);
        let cap = remaining + 1;
        let mut total: i128 = 0;
        for c in &mut self.claims {
            *c = (*c).clamp(0, cap);
            total += *c;
        }
        self.shares.clear();
        if total <= remaining {
            self.shares.extend_from_slice(&self.claims);
            return None;
        }
        let (claims, weights, shares) = (&self.claims, &self.weights, &mut self.shares);
        let count = claims.len();
        // The shelters `run` saturates are exactly those with claim / w ≤ λ, for the one λ with
        // Σ min(claim, λ·w) = remaining (the level it returns). Starting from
        // λ = remaining / Σ w, saturating every shelter at or below the level only raises it, and
        // never past that λ; repeating until none is added reaches that set. A share of -1 marks
        // a shelter not saturated.
        shares.resize(count, -1);
        let mut left = remaining;
        let mut weight_left: i128 = weights.iter().sum();
        for round in 0.. {
            if round == rounds {
                // Slow to settle: finish in ratio order, as `run` does.
                self.by_ratio.clear();
                self.by_ratio
                    .extend((0..count).filter(|&s| shares[s] < 0).map(index_u32));
                self.by_ratio.sort_unstable_by(|&a, &b| {
                    let (a, b) = (a as usize, b as usize);
                    (claims[a] * weights[b])
                        .cmp(&(claims[b] * weights[a]))
                        .then_with(|| tie(a, b))
                });
                for &s in &self.by_ratio {
                    let s = s as usize;
                    if claims[s] * weight_left > left * weights[s] {
                        break;
                    }
                    shares[s] = claims[s];
                    left -= claims[s];
                    weight_left -= weights[s];
                }
                break;
            }
            let (mut claimed, mut weighed) = (0i128, 0i128);
            for s in 0..count {
                if shares[s] < 0 && claims[s] * weight_left <= left * weights[s] {
                    shares[s] = claims[s];
                    claimed += claims[s];
                    weighed += weights[s];
                }
            }
            if weighed == 0 {
                break;
            }
            left -= claimed;
            weight_left -= weighed;
        }
        // Some shelter is left unfilled, so `weight_left > 0`: λ = left / W.
        self.remainders.clear();
        let mut handed_out: i128 = 0;
        for s in 0..count {
            if shares[s] < 0 {
                let (share, remainder) = div_rem(left * weights[s], weight_left);
                shares[s] = share;
                handed_out += share;
                self.remainders.push((remainder, index_u32(s), 0));
            }
        }
        let extra = usize::try_from(left - handed_out).unwrap_or(0);
        let larger_first = |a: &(i128, u32, u32), b: &(i128, u32, u32)| {
            b.0.cmp(&a.0).then_with(|| tie(a.1 as usize, b.1 as usize))
        };
        if extra > 0 && extra < self.remainders.len() {
            self.remainders
                .select_nth_unstable_by(extra - 1, larger_first);
        }
        for &(_, s, _) in self.remainders.iter().take(extra) {
            shares[s as usize] += 1;
        }
        Some(Level {
            num: left,
            den: weight_left.max(1),
        })
    }
}

/// `(a / b, a % b)`, in 64 bits when both fit.
fn div_rem(a: i128, b: i128) -> (i128, i128) {
    match (u64::try_from(a), u64::try_from(b)) {
        (Ok(x), Ok(y)) if y > 0 => (i128::from(x / y), i128::from(x % y)),
        _ => (a / b, a % b),
    }
}

/// An index as `u32`: the allocator numbers needs and shelters in 32 bits.
fn index_u32(index: usize) -> u32 {
    u32::try_from(index).expect("fewer than 2^32 needs")
}

/// Marks a free slot.
const NONE: u32 = u32::MAX;

/// How many currencies there are (indexable by `currency as usize`).
const CURRENCIES: usize = Currency::ALL.len();

/// How many need categories there are (indexable by `category as usize`).
const CATEGORIES: usize = NeedCategory::ALL.len();

/// How many bands there are (indexable by `band.rank()`).
const BANDS: usize = Band::ALL.len();

fn band_index(band: Band) -> usize {
    usize::try_from(band.rank()).unwrap_or(0)
}

/// A key that sorts scores descending: `score_key(a) < score_key(b)` iff `a > b`.
fn score_key(score: i64) -> u64 {
    !((score as u64) ^ (1 << 63))
}

/// The length of the longest prefix all `texts` share.
fn common_prefix_len<'t>(mut texts: impl Iterator<Item = &'t str>) -> usize {
    let Some(first) = texts.next() else {
        return 0;
    };
    let first = first.as_bytes();
    let mut len = first.len();
    for text in texts {
        len = first[..len]
            .iter()
            .zip(text.as_bytes())
            .take_while(|(a, b)| a == b)
            .count();
        if len == 0 {
            break;
        }
    }
    len
}

/// Sixteen bytes of `text` after the first `skip` (padded with zeros), as a big-endian number.
/// For texts sharing their first `skip` bytes, `text_key(a) < text_key(b)` implies `a < b`; equal
/// keys say nothing.
fn text_key(text: &str, skip: usize) -> u128 {
    let rest = text.as_bytes().get(skip..).unwrap_or_default();
    let mut bytes = [0u8; 16];
    let n = rest.len().min(16);
    bytes[..n].copy_from_slice(&rest[..n]);
    u128::from_be_bytes(bytes)
}

/// A small fast hasher (FxHash) for interning shelter ids; the ids are not attacker-chosen keys
/// of a long-lived table.
#[derive(Default)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Numbers shelter ids as they come, then in id order.
#[derive(Default)]
struct Interner<'a> {
    ids: Vec<&'a str>,
    number: HashMap<&'a str, u32, BuildHasherDefault<FxHasher>>,
    last: Option<(&'a str, u32)>,
}

impl<'a> Interner<'a> {
    /// The id's number, in order of first appearance.
    fn number(&mut self, id: &'a str) -> u32 {
        // Needs usually come shelter by shelter: most look-ups are the previous shelter again.
        if let Some((last, n)) = self.last {
            if last == id {
                return n;
            }
        }
        let ids = &mut self.ids;
        let n = *self.number.entry(id).or_insert_with(|| {
            ids.push(id);
            index_u32(ids.len() - 1)
        });
        self.last = Some((id, n));
        n
    }

    /// The ids in id order, and per number of first appearance its place there.
    fn finish(self) -> (Vec<&'a str>, Vec<u32>) {
        let ids = self.ids;
        let mut by_id: Vec<u32> = (0..ids.len()).map(index_u32).collect();
        by_id.sort_unstable_by(|&a, &b| ids[a as usize].cmp(ids[b as usize]));
        let mut position = vec![0u32; ids.len()];
        for (k, &n) in by_id.iter().enumerate() {
            position[n as usize] = index_u32(k);
        }
        (by_id.iter().map(|&n| ids[n as usize]).collect(), position)
    }
}

/// The shelters' ids by number, as a split sees them.
enum Shelters<'s, 'a> {
    /// Every shelter numbered in id order: the ids, and each need's shelter number.
    Sorted(&'s [&'a str], &'s [u32]),
    /// Numbered as the split meets them.
    Met(&'s mut Interner<'a>),
}

impl<'a> Shelters<'_, 'a> {
    /// The number of the shelter of `need` (`needs[i]`).
    fn number(&mut self, need: &'a OpenNeed, i: u32) -> u32 {
        match self {
            Shelters::Sorted(_, shelter_of) => shelter_of[i as usize],
            Shelters::Met(interner) => interner.number(&need.shelter_id),
        }
    }

    fn ids(&self) -> &[&'a str] {
        match self {
            Shelters::Sorted(ids, _) => ids,
            Shelters::Met(interner) => &interner.ids,
        }
    }

    /// Shelter `a`'s id against shelter `b`'s.
    fn cmp(&self, a: u32, b: u32) -> Ordering {
        match self {
            Shelters::Sorted(..) => a.cmp(&b),
            Shelters::Met(interner) => interner.ids[a as usize].cmp(interner.ids[b as usize]),
        }
    }

    /// The ids of the shelters `numbers`, sorted and unique.
    fn ids_of(&self, numbers: &mut Vec<u32>) -> Vec<String> {
        numbers.sort_unstable_by(|&a, &b| self.cmp(a, b));
        numbers.dedup();
        let ids = self.ids();
        numbers
            .iter()
            .map(|&s| ids[s as usize].to_owned())
            .collect()
    }
}

/// Numbers the shelters of all `needs` densely in id order (0 is the lowest id). Returns the ids
/// in that order and each need's number.
fn intern_shelters(needs: &[OpenNeed]) -> (Vec<&str>, Vec<u32>) {
    let mut interner = Interner::default();
    let mut shelter_of: Vec<u32> = needs
        .iter()
        .map(|n| interner.number(&n.shelter_id))
        .collect();
    let (ids, position) = interner.finish();
    for s in &mut shelter_of {
        *s = position[*s as usize];
    }
    (ids, shelter_of)
}

/// Where the split reads needs' open amounts and board order from.
#[derive(Debug, Clone, Copy)]
enum Order<'a> {
    /// `state[i]`: the open amount and position in board order of each need.
    Ranked { state: &'a [Tracked] },
    /// The needs' own `amount_open`; board order from their fields ([`need_order`], then
    /// input position).
    Board,
}

impl Order<'_> {
    fn open(self, needs: &[OpenNeed], i: u32) -> i64 {
        match self {
            Order::Ranked { state } => state[i as usize].open,
            Order::Board => needs[i as usize].amount_open,
        }
    }

    /// Board order of needs `a` and `b` once their keys are equal.
    fn tie(self, needs: &[OpenNeed], a: u32, b: u32) -> Ordering {
        match self {
            // The keys are the ranks: equal only for the same need.
            Order::Ranked { .. } => a.cmp(&b),
            Order::Board => need_order(&needs[a as usize], &needs[b as usize]).then(a.cmp(&b)),
        }
    }
}

/// One payable need of the band being split, with what the split needs of it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Board order inside the band: `(score, opened)`, then [`Order::tie`].
    score: u64,
    opened: [u64; 2],
    /// Its claim, capped at what remains + 1 (≤ 2^63) as in [`water_fill`].
    claim: u64,
    open: i64,
    rate: Rate,
    need: u32,
    /// Its shelter's slot in the band's water-filling.
    slot: u32,
}

/// A decided payment: `amount` (donation currency) to `need` of shelter number `shelter`.
#[derive(Debug, Clone, Copy)]
struct Payment {
    need: u32,
    shelter: u32,
    amount: i64,
    open: i64,
    rate: Rate,
}

/// How many needs the allocator warms up at a time (see [`warm_needs`]).
const WARM_CHUNK: usize = 256;

/// Reads a little of each need, in a loop light enough for the processor to overlap the memory
/// loads: needs met at random are otherwise read one cache miss at a time by the heavier loops
/// that use them.
fn warm_needs<'n>(needs: impl Iterator<Item = &'n OpenNeed>) {
    let mut touched = 0i64;
    for n in needs {
        touched ^= n.amount_open ^ n.score ^ n.occupied ^ n.currency as i64;
        touched ^= (n.opened_at.len() ^ n.id.len() ^ n.shelter_id.len()) as i64;
    }
    std::hint::black_box(touched);
}

/// [`warm_needs`] for texts: their first and last bytes.
fn warm_texts<'t>(texts: impl Iterator<Item = [&'t str; 2]>) {
    let mut touched = 0u8;
    for pair in texts {
        for t in pair.map(str::as_bytes) {
            touched ^= t.first().copied().unwrap_or(0) ^ t.last().copied().unwrap_or(0);
        }
    }
    std::hint::black_box(touched);
}

/// The slices of `payments` (in order), warming up the ids they copy a chunk at a time; records
/// (need, amount_local) per slice in `paid`.
fn make_slices(
    payments: &[Payment],
    needs: &[OpenNeed],
    shelter_ids: &[&str],
    paid: &mut Vec<(u32, i64)>,
) -> Vec<Slice> {
    let mut slices = Vec::with_capacity(payments.len());
    for chunk in payments.chunks(WARM_CHUNK) {
        warm_texts(
            chunk
                .iter()
                .map(|p| [needs[p.need as usize].id.as_str(), ""]),
        );
        for p in chunk {
            let amount_local = to_local(p.amount, p.rate).min(i128::from(p.open)) as i64;
            paid.push((p.need, amount_local));
            slices.push(Slice {
                need_id: needs[p.need as usize].id.clone(),
                shelter_id: shelter_ids[p.shelter as usize].to_owned(),
                amount: p.amount,
                amount_local,
                rate: p.rate,
            });
        }
    }
    slices
}

/// Working memory of the allocator, kept between donations.
#[derive(Debug, Default)]
struct Scratch {
    /// The payable needs of the donation being split, per band.
    bands: [Vec<u32>; BANDS],
    /// Numbers of the shelters with needs skipped for lack of a rate.
    skipped: Vec<u32>,
    /// Per shelter number: its slot in the band being split, or [`NONE`].
    slot_of: Vec<u32>,
    /// Per slot: the shelter number (grouped path: and its range of groups).
    slots: Vec<(u32, u32, u32)>,
    fill: Filler,
    /// The band's entries, the same (indices) in board order, and counts for sorting them.
    entries: Vec<Entry>,
    in_order: Vec<(u64, u32)>,
    counts: Vec<u32>,
    /// The donation's payments so far, in the order of its slices.
    payments: Vec<Payment>,
    /// Grouped path: a band's payments and their keys (rank, position), before sorting.
    band_payments: Vec<Payment>,
    ranks: Vec<u64>,
    merged: Vec<(u32, u32, Rate)>,
    /// Per slice of the last allocation: (need, amount_local).
    paid: Vec<(u32, i64)>,
}

impl Scratch {
    /// Ready for a new donation.
    fn clear(&mut self) {
        for band in &mut self.bands {
            band.clear();
        }
        self.skipped.clear();
        self.payments.clear();
        self.paid.clear();
    }
}

/// Splits a donation over its payable needs, given per band in `sc.bands` (indices into
/// `needs`, any order), reporting the shelters in `sc.skipped`. `rates` holds the donation's rate
/// to each payable need's currency. Leaves (need, amount_local) per slice in `sc.paid`.
fn split<'a>(
    donation: &Donation,
    needs: &'a [OpenNeed],
    mut shelters: Shelters<'_, 'a>,
    order: Order<'_>,
    rates: &[Option<Rate>; CURRENCIES],
    sc: &mut Scratch,
) -> Allocation {
    let mut allocation = Allocation {
        donation_id: donation.id.clone(),
        slices: Vec::new(),
        unallocated: donation.unallocated,
        skipped_shelters_missing_rate: Vec::new(),
    };
    if donation.unallocated <= 0 {
        return allocation;
    }
    allocation.skipped_shelters_missing_rate = shelters.ids_of(&mut sc.skipped);
    sc.payments.clear();
    let mut remaining = i128::from(donation.unallocated);
    for b in 0..BANDS {
        if remaining == 0 {
            break;
        }
        let band = std::mem::take(&mut sc.bands[b]);
        if !band.is_empty() {
            remaining = pay_band(needs, &mut shelters, order, rates, &band, remaining, sc);
        }
        sc.bands[b] = band;
    }
    allocation.unallocated = remaining as i64;
    allocation.slices = make_slices(&sc.payments, needs, shelters.ids(), &mut sc.paid);
    allocation
}

/// Splits `remaining` over one band's payable needs (ENGINE.md): water-filled across shelters,
/// each shelter's share filling its needs in board order. Adds the payments to `sc.payments`, in
/// board order, and returns what remains.
fn pay_band<'a>(
    needs: &'a [OpenNeed],
    shelters: &mut Shelters<'_, 'a>,
    order: Order<'_>,
    rates: &[Option<Rate>; CURRENCIES],
    band: &[u32],
    mut remaining: i128,
    sc: &mut Scratch,
) -> i128 {
    // Claims, grouped by shelter. Capped like in `water_fill`: no share can exceed
    // `remaining`, so `min` is unchanged.
    let cap = remaining + 1;
    make_room(&mut sc.entries, band.len());
    make_room(&mut sc.in_order, band.len());
    sc.payments.reserve(band.len());
    sc.fill.clear();
    sc.slots.clear();
    let (board, met) = (
        matches!(order, Order::Board),
        matches!(shelters, Shelters::Met(_)),
    );
    for (k, &i) in band.iter().enumerate() {
        if k % WARM_CHUNK == 0 {
            let chunk = &band[k..band.len().min(k + WARM_CHUNK)];
            warm_needs(chunk.iter().map(|&i| &needs[i as usize]));
            if board || met {
                warm_texts(chunk.iter().map(|&i| {
                    let n = &needs[i as usize];
                    [
                        if board { n.opened_at.as_str() } else { "" },
                        if met { n.shelter_id.as_str() } else { "" },
                    ]
                }));
            }
        }
        let need = &needs[i as usize];
        let open = order.open(needs, i);
        // Payable needs have a rate.
        let rate = rates[need.currency as usize].unwrap_or(Rate::ONE);
        let (score, opened) = match order {
            Order::Ranked { state } => (0, [0, u64::from(state[i as usize].rank)]),
            Order::Board => {
                let key = text_key(&need.opened_at, 0);
                (score_key(need.score), [(key >> 64) as u64, key as u64])
            }
        };
        let c = claim(open, rate).min(cap);
        let shelter = shelters.number(need, i);
        if shelter as usize >= sc.slot_of.len() {
            sc.slot_of.resize(shelter as usize + 1, NONE);
        }
        let mut slot = sc.slot_of[shelter as usize];
        if slot == NONE {
            slot = index_u32(sc.slots.len());
            sc.slot_of[shelter as usize] = slot;
            sc.slots.push((shelter, 0, 0));
            sc.fill.push(0, 1);
        }
        let s = slot as usize;
        sc.fill.claims[s] = (sc.fill.claims[s] + c).min(cap);
        sc.fill.weights[s] = sc.fill.weights[s].max(i128::from(need.weight()));
        sc.entries.push(Entry {
            score,
            opened,
            claim: u64::try_from(c).unwrap_or(u64::MAX),
            open,
            rate,
            need: i,
            slot,
        });
    }
    for &(shelter, _, _) in &sc.slots {
        sc.slot_of[shelter as usize] = NONE;
    }
    let slots = &sc.slots;
    let level = sc
        .fill
        .run_distinct(remaining, |a, b| shelters.cmp(slots[a].0, slots[b].0));
    // The band in board order; every claim in full, or each shelter's share filling its needs
    // in that order. (When every claim is paid, each is below `cap`, so uncapped.)
    board_order(&sc.entries, needs, order, &mut sc.in_order, &mut sc.counts);
    let full = level.is_none();
    let shares = &mut sc.fill.shares;
    for &(_, k) in &sc.in_order {
        let e = &sc.entries[k as usize];
        let paid = if full {
            i128::from(e.claim)
        } else {
            let share = &mut shares[e.slot as usize];
            if *share <= 0 {
                continue;
            }
            let paid = i128::from(e.claim).min(*share);
            *share -= paid;
            paid
        };
        remaining -= paid;
        sc.payments.push(Payment {
            need: e.need,
            shelter: sc.slots[e.slot as usize].0,
            // Paid ≤ remaining: it fits.
            amount: paid as i64,
            open: e.open,
            rate: e.rate,
        });
    }
    remaining
}

/// Empties `buffer` with room for `len` items; when it must grow, frees the old memory first, so
/// the allocator may hand it back instead of fresh pages.
fn make_room<T>(buffer: &mut Vec<T>, len: usize) {
    buffer.clear();
    if buffer.capacity() < len {
        *buffer = Vec::new();
        buffer.reserve_exact(len);
    }
}

/// Puts `entries` in board order into `out`, as (key, entry index). Scores usually span a small
/// range: a counting sort by score leaves small runs to sort by the opening keys (eight bytes
/// after what all the band's keys share), then by [`Order::tie`] on equal keys.
fn board_order(
    entries: &[Entry],
    needs: &[OpenNeed],
    order: Order<'_>,
    out: &mut Vec<(u64, u32)>,
    counts: &mut Vec<u32>,
) {
    out.clear();
    let Some(first) = entries.first() else {
        return;
    };
    let key = |e: &Entry| u128::from(e.opened[0]) << 64 | u128::from(e.opened[1]);
    // Bits on which some key differs from the first: the shared leading bytes carry no order.
    let differ = entries
        .iter()
        .fold(0u128, |bits, e| bits | (key(e) ^ key(first)));
    let shared_bits = (differ.leading_zeros() / 8 * 8).min(64);
    let short = |e: &Entry| ((key(e) << shared_bits) >> 64) as u64;
    let cmp = |a: &(u64, u32), b: &(u64, u32)| {
        let (ea, eb) = (&entries[a.1 as usize], &entries[b.1 as usize]);
        (ea.score, a.0)
            .cmp(&(eb.score, b.0))
            .then_with(|| order.tie(needs, ea.need, eb.need))
    };
    let lowest = entries.iter().map(|e| e.score).min().unwrap_or(0);
    let highest = entries.iter().map(|e| e.score).max().unwrap_or(0);
    let span = highest - lowest;
    if span > 2 * entries.len() as u64 + 1024 {
        out.extend(
            entries
                .iter()
                .enumerate()
                .map(|(k, e)| (short(e), index_u32(k))),
        );
        out.sort_unstable_by(cmp);
        return;
    }
    let span = span as usize;
    counts.clear();
    counts.resize(span + 2, 0);
    for e in entries {
        counts[(e.score - lowest) as usize + 1] += 1;
    }
    for k in 0..=span {
        counts[k + 1] += counts[k];
    }
    out.resize(entries.len(), (0, 0));
    for (k, e) in entries.iter().enumerate() {
        let next = &mut counts[(e.score - lowest) as usize];
        out[*next as usize] = (short(e), index_u32(k));
        *next += 1;
    }
    // `counts[k]` is now where score `k + 1` starts: sort each score's run by the keys.
    let mut start = 0;
    for &end in &counts[..=span] {
        let run = &mut out[start..end as usize];
        if run.len() > 1 {
            run.sort_unstable_by(|a, b| {
                a.0.cmp(&b.0).then_with(|| {
                    let (ea, eb) = (&entries[a.1 as usize], &entries[b.1 as usize]);
                    order.tie(needs, ea.need, eb.need)
                })
            });
        }
        start = end as usize;
    }
}

/// Allocates one donation's unallocated money to `needs` (ENGINE.md "Allocating money").
///
/// Eligible needs have `amount_open > 0` and are inside the restriction; needs of shelters with no
/// rate from the donation's currency are skipped and their shelters reported. The order of
/// `needs` does not matter. `needs` are not changed: subtract each slice's `amount_local` from its
/// need's `amount_open` (or use [`allocate_many`]).
pub fn allocate(donation: &Donation, needs: &[OpenNeed], rates: &impl Rates) -> Allocation {
    let mut sc = Scratch::default();
    let mut known: [Option<Option<Rate>>; CURRENCIES] = [None; CURRENCIES];
    let mut interner = Interner::default();
    if donation.unallocated > 0 {
        // The payable needs by band; their shelters are numbered only if the money reaches them.
        for (i, need) in needs.iter().enumerate() {
            if need.amount_open <= 0 || !donation.restriction.admits(need) {
                continue;
            }
            let rate = *known[need.currency as usize]
                .get_or_insert_with(|| rate_between(rates, donation.currency, need.currency));
            match rate {
                Some(_) => sc.bands[band_index(need.band)].push(index_u32(i)),
                None => sc.skipped.push(interner.number(&need.shelter_id)),
            }
        }
    }
    let rates = known.map(Option::flatten);
    split(
        donation,
        needs,
        Shelters::Met(&mut interner),
        Order::Board,
        &rates,
        &mut sc,
    )
}

/// One group of needs in [`Groups`]: the open needs of one band, shelter and currency (and
/// category, for the category-restricted groups).
#[derive(Debug, Clone, Copy)]
struct Group {
    shelter: u32,
    currency: Currency,
    /// Its needs are `members[cursor..end]` (in board order); those before `cursor` are covered.
    cursor: u32,
    end: u32,
    /// How many of its needs are open.
    open: u32,
    /// The largest weight among its open needs, and how many open needs have it.
    max_weight: i64,
    max_count: u32,
}

/// Needs grouped for the unrestricted or the category-restricted donations of [`allocate_many`],
/// with the claim sums kept up to date as needs get paid.
#[derive(Debug, Default)]
struct Groups {
    groups: Vec<Group>,
    members: Vec<u32>,
    /// Segment `k` (a band, or a band and a category) is `segment[k]..segment[k + 1]` of
    /// `groups`, by shelter number then currency.
    segment: Vec<u32>,
    /// Per claim key ([`Pool::keys`]), per group: Σ claims of its needs.
    sums: Vec<Vec<i128>>,
}

impl Groups {
    /// Groups `needs` (`in_order`: in board order) by (segment, shelter, currency), telling
    /// `group_of(i, group)` each need's group. The counts are left to [`Groups::recount`].
    fn new(
        needs: &[OpenNeed],
        shelter_of: &[u32],
        in_order: &[u32],
        segments: usize,
        segment_of: impl Fn(&OpenNeed) -> usize,
        mut group_of: impl FnMut(usize, u32),
    ) -> Groups {
        let mut keyed: Vec<(u32, u32, u8, u32, u32)> = in_order
            .iter()
            .enumerate()
            .map(|(rank, &i)| {
                let need = &needs[i as usize];
                (
                    index_u32(segment_of(need)),
                    shelter_of[i as usize],
                    need.currency as u8,
                    index_u32(rank),
                    i,
                )
            })
            .collect();
        keyed.sort_unstable();
        let mut g = Groups {
            segment: vec![0; segments + 1],
            ..Groups::default()
        };
        let mut previous: Option<(u32, u32, u8)> = None;
        for &(segment, shelter, _, _, i) in &keyed {
            let need = &needs[i as usize];
            let key = (segment, shelter, need.currency as u8);
            if previous != Some(key) {
                previous = Some(key);
                g.segment[segment as usize + 1] += 1;
                let at = index_u32(g.members.len());
                g.groups.push(Group {
                    shelter,
                    currency: need.currency,
                    cursor: at,
                    end: at,
                    open: 0,
                    max_weight: 1,
                    max_count: 0,
                });
            }
            let group = g.groups.len() - 1;
            group_of(i as usize, index_u32(group));
            g.members.push(i);
            g.groups[group].end += 1;
        }
        for k in 0..segments {
            g.segment[k + 1] += g.segment[k];
        }
        g
    }

    /// Recomputes a group's open count and largest weight.
    fn recount(&mut self, group: usize, state: &[Tracked]) {
        let gr = &mut self.groups[group];
        let (mut count, mut max_weight, mut max_count) = (0, 1, 0);
        for &i in &self.members[gr.cursor as usize..gr.end as usize] {
            let t = &state[i as usize];
            if t.open > 0 {
                count += 1;
                let w = i64::from(t.weight);
                if w > max_weight || max_count == 0 {
                    max_weight = w;
                    max_count = 1;
                } else if w == max_weight {
                    max_count += 1;
                }
            }
        }
        gr.open = count;
        gr.max_weight = max_weight;
        gr.max_count = max_count;
    }

    /// A need of `group` (of weight `weight`) was just covered.
    fn close(&mut self, group: usize, weight: i64, state: &[Tracked]) {
        let gr = &mut self.groups[group];
        gr.open -= 1;
        if weight == gr.max_weight {
            gr.max_count -= 1;
            if gr.max_count == 0 && gr.open > 0 {
                self.recount(group, state);
            }
        }
    }

    fn range(&self, segment: usize) -> std::ops::Range<usize> {
        self.segment[segment] as usize..self.segment[segment + 1] as usize
    }
}

/// What [`allocate_many`] keeps of one need, together so that a payment reads one cache line.
#[derive(Debug, Clone, Copy)]
struct Tracked {
    /// What it still lacks, as the earlier donations left it.
    open: i64,
    /// Its position in board order.
    rank: u32,
    /// Its groups in [`Pool::shelter_groups`] and [`Pool::category_groups`].
    shelter_group: u32,
    category_group: u32,
    /// [`OpenNeed::weight`] (at most [`MAX_WEIGHT`]).
    weight: u32,
    currency: Currency,
}

/// The state of [`allocate_many`]: the needs' open amounts and indexes over them.
struct Pool<'a> {
    needs: &'a [OpenNeed],
    state: Vec<Tracked>,
    /// Shelter ids in id order, and each need's shelter number (its place there).
    shelter_ids: Vec<&'a str>,
    shelter_of: Vec<u32>,
    /// Needs by (shelter, board order), with each shelter's start.
    by_shelter: Vec<u32>,
    shelter_start: Vec<u32>,
    /// Needs by (shelter, category, board order), with each (shelter, category)'s start.
    by_shelter_category: Vec<u32>,
    shelter_category_start: Vec<u32>,
    /// Needs by (id, board order), when some donation is need-restricted.
    by_id: Option<Vec<u32>>,
    /// Groups by (band, shelter, currency) and by (band, category, shelter, currency).
    shelter_groups: Groups,
    category_groups: Groups,
    /// Claim keys: (need currency, rate). `Groups::sums[k]` holds the claims at `keys[k]`.
    keys: Vec<(Currency, Rate)>,
    /// Currencies some need has.
    present: [bool; CURRENCIES],
    /// Rates asked so far, [from][to].
    rates: [[Option<Option<Rate>>; CURRENCIES]; CURRENCIES],
}

impl<'a> Pool<'a> {
    fn new(needs: &'a [OpenNeed]) -> Pool<'a> {
        let (shelter_ids, shelter_of) = intern_shelters(needs);

        // Board order: integer keys first, the texts only on ties.
        let skip = common_prefix_len(needs.iter().map(|n| n.opened_at.as_str()));
        let mut keyed: Vec<(u8, u64, u128, u32)> = needs
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (
                    n.band.rank() as u8,
                    score_key(n.score),
                    text_key(&n.opened_at, skip),
                    index_u32(i),
                )
            })
            .collect();
        keyed.sort_unstable_by(|a, b| {
            (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)).then_with(|| {
                need_order(&needs[a.3 as usize], &needs[b.3 as usize]).then(a.3.cmp(&b.3))
            })
        });
        let in_order: Vec<u32> = keyed.iter().map(|k| k.3).collect();
        let mut state: Vec<Tracked> = needs
            .iter()
            .map(|n| Tracked {
                open: n.amount_open,
                rank: 0,
                shelter_group: 0,
                category_group: 0,
                weight: u32::try_from(n.weight()).unwrap_or(u32::MAX),
                currency: n.currency,
            })
            .collect();
        for (r, &i) in in_order.iter().enumerate() {
            state[i as usize].rank = index_u32(r);
        }

        let shelters = shelter_ids.len();
        let (by_shelter, shelter_start) =
            bucket(&in_order, shelters, |i| shelter_of[i as usize] as usize);
        let (by_shelter_category, shelter_category_start) =
            bucket(&in_order, shelters * CATEGORIES, |i| {
                shelter_of[i as usize] as usize * CATEGORIES + needs[i as usize].category as usize
            });
        let mut shelter_groups = Groups::new(
            needs,
            &shelter_of,
            &in_order,
            BANDS,
            |n| band_index(n.band),
            |i, g| state[i].shelter_group = g,
        );
        let mut category_groups = Groups::new(
            needs,
            &shelter_of,
            &in_order,
            BANDS * CATEGORIES,
            |n| band_index(n.band) * CATEGORIES + n.category as usize,
            |i, g| state[i].category_group = g,
        );
        for g in 0..shelter_groups.groups.len() {
            shelter_groups.recount(g, &state);
        }
        for g in 0..category_groups.groups.len() {
            category_groups.recount(g, &state);
        }
        let mut present = [false; CURRENCIES];
        for n in needs {
            present[n.currency as usize] = true;
        }
        Pool {
            needs,
            state,
            shelter_ids,
            shelter_of,
            by_shelter,
            shelter_start,
            by_shelter_category,
            shelter_category_start,
            by_id: None,
            shelter_groups,
            category_groups,
            keys: Vec::new(),
            present,
            rates: [[None; CURRENCIES]; CURRENCIES],
        }
    }

    fn shelter_number(&self, id: &str) -> Option<usize> {
        self.shelter_ids.binary_search(&id).ok()
    }

    /// Indexes the needs by id, for need-restricted donations.
    fn index_ids(&mut self) {
        let (needs, state) = (self.needs, &self.state);
        let mut by_id: Vec<u32> = (0..needs.len()).map(index_u32).collect();
        by_id.sort_unstable_by(|&a, &b| {
            needs[a as usize]
                .id
                .cmp(&needs[b as usize].id)
                .then(state[a as usize].rank.cmp(&state[b as usize].rank))
        });
        self.by_id = Some(by_id);
    }

    /// The needs a need- or shelter-restricted donation may pay for, in board order.
    fn candidates(&self, restriction: &Restriction) -> &[u32] {
        match restriction {
            Restriction::Need(id) => {
                let Some(by_id) = &self.by_id else {
                    return &[];
                };
                let needs = self.needs;
                let start = by_id.partition_point(|&i| needs[i as usize].id < *id);
                let end = by_id.partition_point(|&i| needs[i as usize].id <= *id);
                &by_id[start..end]
            }
            Restriction::Shelter(s) => match self.shelter_number(s) {
                Some(k) => {
                    &self.by_shelter
                        [self.shelter_start[k] as usize..self.shelter_start[k + 1] as usize]
                }
                None => &[],
            },
            Restriction::ShelterCategory(s, c) => match self.shelter_number(s) {
                Some(k) => {
                    let k = k * CATEGORIES + *c as usize;
                    &self.by_shelter_category[self.shelter_category_start[k] as usize
                        ..self.shelter_category_start[k + 1] as usize]
                }
                None => &[],
            },
            Restriction::Category(_) | Restriction::None => &[],
        }
    }

    /// The rates from `from` to each currency some need has.
    fn rates_from(&mut self, from: Currency, rates: &impl Rates) -> [Option<Rate>; CURRENCIES] {
        let mut out = [None; CURRENCIES];
        for (k, to) in Currency::ALL.iter().enumerate() {
            if self.present[k] {
                out[k] = *self.rates[from as usize][k]
                    .get_or_insert_with(|| rate_between(rates, from, *to));
            }
        }
        out
    }

    /// The claim key of (`currency`, `rate`), adding its sums on first use.
    fn key(&mut self, currency: Currency, rate: Rate) -> usize {
        if let Some(k) = self.keys.iter().position(|&k| k == (currency, rate)) {
            return k;
        }
        let mut by_shelter = vec![0i128; self.shelter_groups.groups.len()];
        let mut by_category = vec![0i128; self.category_groups.groups.len()];
        for t in &self.state {
            if t.currency == currency && t.open > 0 {
                let c = claim(t.open, rate);
                by_shelter[t.shelter_group as usize] += c;
                by_category[t.category_group as usize] += c;
            }
        }
        self.shelter_groups.sums.push(by_shelter);
        self.category_groups.sums.push(by_category);
        self.keys.push((currency, rate));
        self.keys.len() - 1
    }

    /// Takes `local` off need `i`'s open amount, keeping the groups' sums and counts.
    fn pay(&mut self, i: usize, local: i64) {
        let t = &mut self.state[i];
        let old = t.open;
        let new = old - local;
        if new == old {
            return;
        }
        t.open = new;
        let t = *t;
        for (k, &(currency, rate)) in self.keys.iter().enumerate() {
            if currency == t.currency {
                let change = claim(new, rate) - claim(old, rate);
                self.shelter_groups.sums[k][t.shelter_group as usize] += change;
                self.category_groups.sums[k][t.category_group as usize] += change;
            }
        }
        if old > 0 && new <= 0 {
            let weight = i64::from(t.weight);
            self.shelter_groups
                .close(t.shelter_group as usize, weight, &self.state);
            self.category_groups
                .close(t.category_group as usize, weight, &self.state);
        }
    }

    /// One donation, after the earlier ones.
    fn allocate(
        &mut self,
        donation: &Donation,
        rates: &impl Rates,
        sc: &mut Scratch,
    ) -> Allocation {
        let allocation = match &donation.restriction {
            Restriction::None => self.allocate_grouped(donation, None, rates, sc),
            Restriction::Category(c) => self.allocate_grouped(donation, Some(*c), rates, sc),
            restriction => {
                let known = self.rates_from(donation.currency, rates);
                sc.clear();
                if donation.unallocated > 0 {
                    for &i in self.candidates(restriction) {
                        let (open, need) = (self.state[i as usize].open, &self.needs[i as usize]);
                        if open <= 0 {
                            continue;
                        }
                        let shelter = self.shelter_of[i as usize];
                        match known[need.currency as usize] {
                            Some(_) => sc.bands[band_index(need.band)].push(i),
                            None => sc.skipped.push(shelter),
                        }
                    }
                }
                let order = Order::Ranked { state: &self.state };
                split(
                    donation,
                    self.needs,
                    Shelters::Sorted(&self.shelter_ids, &self.shelter_of),
                    order,
                    &known,
                    sc,
                )
            }
        };
        for k in 0..sc.paid.len() {
            let (i, local) = sc.paid[k];
            self.pay(i as usize, local);
        }
        allocation
    }

    /// An unrestricted (`category` `None`) or category-restricted donation, over the groups.
    /// Gives exactly what [`split`] would on the same needs.
    fn allocate_grouped(
        &mut self,
        donation: &Donation,
        category: Option<NeedCategory>,
        rates: &impl Rates,
        sc: &mut Scratch,
    ) -> Allocation {
        let mut allocation = Allocation {
            donation_id: donation.id.clone(),
            slices: Vec::new(),
            unallocated: donation.unallocated,
            skipped_shelters_missing_rate: Vec::new(),
        };
        sc.clear();
        if donation.unallocated <= 0 {
            return allocation;
        }
        let known = self.rates_from(donation.currency, rates);
        let mut key_of: [Option<usize>; CURRENCIES] = [None; CURRENCIES];
        for (k, (&currency, rate)) in Currency::ALL.iter().zip(known).enumerate() {
            if let Some(rate) = rate {
                key_of[k] = Some(self.key(currency, rate));
            }
        }
        let Pool {
            needs,
            state,
            shelter_ids,
            shelter_groups,
            category_groups,
            ..
        } = self;
        let needs: &[OpenNeed] = needs;
        let state: &[Tracked] = state;
        let groups = match category {
            Some(_) => category_groups,
            None => shelter_groups,
        };
        let segment = |band: usize| match category {
            Some(c) => band * CATEGORIES + c as usize,
            None => band,
        };

        // Shelters with open needs in a currency without a rate, in any band.
        for band in 0..BANDS {
            for gr in &groups.groups[groups.range(segment(band))] {
                if gr.open > 0 && known[gr.currency as usize].is_none() {
                    sc.skipped.push(gr.shelter);
                }
            }
        }
        allocation.skipped_shelters_missing_rate =
            Shelters::Sorted(shelter_ids, &[]).ids_of(&mut sc.skipped);

        let mut remaining = i128::from(donation.unallocated);
        for band in 0..BANDS {
            if remaining == 0 {
                break;
            }
            // Per shelter: the claims of its open needs with a rate, from the kept sums.
            let range = groups.range(segment(band));
            let cap = remaining + 1;
            sc.fill.clear();
            sc.slots.clear();
            let mut g = range.start;
            while g < range.end {
                let shelter = groups.groups[g].shelter;
                let first = g;
                let (mut sum, mut weight, mut payable) = (0i128, 1i64, false);
                while g < range.end && groups.groups[g].shelter == shelter {
                    let gr = &groups.groups[g];
                    if let (true, Some(k)) = (gr.open > 0, key_of[gr.currency as usize]) {
                        sum += groups.sums[k][g];
                        weight = weight.max(gr.max_weight);
                        payable = true;
                    }
                    g += 1;
                }
                if payable {
                    sc.fill.push(sum.min(cap), weight);
                    sc.slots.push((shelter, index_u32(first), index_u32(g)));
                }
            }
            if sc.slots.is_empty() {
                continue;
            }
            let slots = &sc.slots;
            sc.fill
                .run_distinct(remaining, |a, b| slots[a].0.cmp(&slots[b].0));

            // Each share fills its shelter's open needs in board order.
            sc.band_payments.clear();
            sc.ranks.clear();
            for (s, &(_, first, last)) in sc.slots.iter().enumerate() {
                let mut share = sc.fill.shares[s];
                if share <= 0 {
                    continue;
                }
                let is_payable = |gr: &Group| gr.open > 0 && key_of[gr.currency as usize].is_some();
                let mut payable = (first..last).filter(|&g| is_payable(&groups.groups[g as usize]));
                let single = match (payable.next(), payable.next()) {
                    (Some(g), None) => Some(g as usize),
                    _ => None,
                };
                if let Some(g) = single {
                    let gr = &mut groups.groups[g];
                    let rate = known[gr.currency as usize].unwrap_or(Rate::ONE);
                    while gr.cursor < gr.end
                        && state[groups.members[gr.cursor as usize] as usize].open <= 0
                    {
                        gr.cursor += 1;
                    }
                    for &i in &groups.members[gr.cursor as usize..gr.end as usize] {
                        if share == 0 {
                            break;
                        }
                        let t = &state[i as usize];
                        let o = t.open;
                        if o > 0 {
                            let paid = claim(o, rate).min(share);
                            share -= paid;
                            let k = sc.band_payments.len() as u64;
                            sc.ranks.push(u64::from(t.rank) << 32 | k);
                            sc.band_payments.push(Payment {
                                need: i,
                                shelter: gr.shelter,
                                amount: paid as i64,
                                open: o,
                                rate,
                            });
                        }
                    }
                } else {
                    // Needs in several currencies: merge them into board order.
                    sc.merged.clear();
                    for gr in &groups.groups[first as usize..last as usize] {
                        if let (true, Some(rate)) = (gr.open > 0, known[gr.currency as usize]) {
                            for &i in &groups.members[gr.cursor as usize..gr.end as usize] {
                                let t = &state[i as usize];
                                if t.open > 0 {
                                    sc.merged.push((t.rank, i, rate));
                                }
                            }
                        }
                    }
                    sc.merged.sort_unstable();
                    for &(r, i, rate) in &sc.merged {
                        if share == 0 {
                            break;
                        }
                        let o = state[i as usize].open;
                        let paid = claim(o, rate).min(share);
                        share -= paid;
                        let k = sc.band_payments.len() as u64;
                        sc.ranks.push(u64::from(r) << 32 | k);
                        sc.band_payments.push(Payment {
                            need: i,
                            shelter: groups.groups[first as usize].shelter,
                            amount: paid as i64,
                            open: o,
                            rate,
                        });
                    }
                }
            }
            // In board order: by rank, sorted as small keys.
            sc.ranks.sort_unstable();
            for &k in &sc.ranks {
                let p = sc.band_payments[(k & 0xFFFF_FFFF) as usize];
                remaining -= i128::from(p.amount);
                sc.payments.push(p);
            }
        }
        allocation.unallocated = remaining as i64;
        allocation.slices = make_slices(&sc.payments, needs, shelter_ids, &mut sc.paid);
        allocation
    }
}

/// `items` (in order) bucketed stably by `key(item) < buckets`; returns them and where each
/// bucket starts (`buckets + 1` entries).
fn bucket(items: &[u32], buckets: usize, key: impl Fn(u32) -> usize) -> (Vec<u32>, Vec<u32>) {
    let mut start = vec![0u32; buckets + 1];
    for &i in items {
        start[key(i) + 1] += 1;
    }
    for b in 0..buckets {
        start[b + 1] += start[b];
    }
    let mut next = start.clone();
    let mut out = vec![0u32; items.len()];
    for &i in items {
        let b = key(i);
        out[next[b] as usize] = i;
        next[b] += 1;
    }
    (out, start)
}

/// Allocates several donations in [`donation_order`], each seeing what the earlier ones left:
/// every slice's `amount_local` is taken off its need's `amount_open` in `needs`. Returns one
/// allocation per donation, in the order they were processed. Bands and scores are used as given
/// (the caller recomputes them afterwards). Each result equals [`allocate`] on the needs as the
/// earlier donations left them. `rates` is asked at most once per pair of currencies.
pub fn allocate_many(
    donations: &[Donation],
    needs: &mut [OpenNeed],
    rates: &impl Rates,
) -> Vec<Allocation> {
    if donations.is_empty() {
        return Vec::new();
    }
    let (allocations, state) = {
        let needs: &[OpenNeed] = needs;
        let mut pool = Pool::new(needs);
        if donations
            .iter()
            .any(|d| matches!(d.restriction, Restriction::Need(_)))
        {
            pool.index_ids();
        }
        let mut sc = Scratch {
            slot_of: vec![NONE; pool.shelter_ids.len()],
            ..Scratch::default()
        };
        let mut order: Vec<usize> = (0..donations.len()).collect();
        order.sort_by(|&a, &b| donation_order(&donations[a], &donations[b]));
        let allocations: Vec<Allocation> = order
            .into_iter()
            .map(|d| pool.allocate(&donations[d], rates, &mut sc))
            .collect();
        (allocations, pool.state)
    };
    for (need, t) in needs.iter_mut().zip(state) {
        need.amount_open = t.open;
    }
    allocations
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
mod tests {
    use super::*;

    fn need(id: &str, shelter: &str, band: Band, score: i64, open: i64) -> OpenNeed {
        OpenNeed {
            id: id.into(),
            shelter_id: shelter.into(),
            category: NeedCategory::Food,
            band,
            score,
            opened_at: "2026-01-01T00:00:00Z".into(),
            amount_open: open,
            currency: Currency::Mxn,
            occupied: 10,
        }
    }

    fn with(mut n: OpenNeed, f: impl FnOnce(&mut OpenNeed)) -> OpenNeed {
        f(&mut n);
        n
    }

    fn donation(id: &str, currency: Currency, amount: i64, restriction: Restriction) -> Donation {
        Donation {
            id: id.into(),
            currency,
            unallocated: amount,
            restriction,
            received_at: "2026-02-01T00:00:00Z".into(),
        }
    }

    fn usd_mxn() -> RateTable {
        let mut rates = RateTable::new();
        rates.insert(
            Currency::Usd,
            Currency::Mxn,
            Rate::parse("17.25").expect("a valid rate"),
        );
        rates
    }

    /// Total amount per shelter id.
    fn per_shelter(a: &Allocation) -> BTreeMap<String, i64> {
        let mut totals = BTreeMap::new();
        for s in &a.slices {
            *totals.entry(s.shelter_id.clone()).or_insert(0) += s.amount;
        }
        totals
    }

    fn assert_conserved(d: &Donation, a: &Allocation) {
        let paid: i64 = a.slices.iter().map(|s| s.amount).sum();
        assert_eq!(paid + a.unallocated, d.unallocated);
    }

    #[test]
    fn rates_and_conversions_are_exact() {
        let r = Rate::parse("17.25").expect("a valid rate");
        assert_eq!(r.millionths(), 17_250_000);
        assert_eq!(r.as_decimal(), "17.25");
        assert_eq!(Rate::parse("0"), Err(DecimalError::OutOfRange));
        assert_eq!(Rate::parse("-1"), Err(DecimalError::OutOfRange));
        assert_eq!(Rate::parse("0.0000001"), Err(DecimalError::TooPrecise));
        assert_eq!(
            Rate::from_millionths(1).map(Rate::as_decimal),
            Some("0.000001".into())
        );
        // 4350.00 MXN at 17.25 is 252.1739… USD: the claim rounds up to 252.18.
        assert_eq!(claim(435_000, r), 25_218);
        assert_eq!(claim(0, r), 0);
        assert_eq!(claim(-5, r), 0);
        // Back again it is 4350.105 MXN, above what is open (the allocator caps it).
        assert_eq!(to_local(25_218, r), 435_010);
        // Half to even: 0.5 → 0, 1.5 → 2, 2.5 → 2.
        let half = Rate::from_millionths(500_000).expect("a valid rate");
        assert_eq!(
            [to_local(1, half), to_local(3, half), to_local(5, half)],
            [0, 2, 2]
        );
        assert_eq!(
            rate_between(&RateTable::new(), Currency::Gtq, Currency::Gtq),
            Some(Rate::ONE)
        );
        // Directional: USD → MXN on file says nothing about MXN → USD.
        assert_eq!(rate_between(&usd_mxn(), Currency::Mxn, Currency::Usd), None);
        let closure = |from, to| (from == Currency::Eur && to == Currency::Mxn).then_some(r);
        assert_eq!(
            rate_between(&closure, Currency::Eur, Currency::Mxn),
            Some(r)
        );
    }

    #[test]
    fn engine_md_worked_example() {
        // 100.00 USD restricted to the rice need (4350.00 MXN open, high, 79.9), at 17.25.
        let rice = with(need("rice", "s1", Band::High, 799, 435_000), |n| {
            n.occupied = 40
        });
        let other = need("beans", "s1", Band::Critical, 900, 100_000);
        let d = donation(
            "d1",
            Currency::Usd,
            10_000,
            Restriction::Need("rice".into()),
        );
        let mut needs = vec![other, rice];
        let a = allocate(&d, &needs, &usd_mxn());
        assert_eq!(
            a.slices,
            [Slice {
                need_id: "rice".into(),
                shelter_id: "s1".into(),
                amount: 10_000,
                amount_local: 172_500,
                rate: Rate::from_millionths(17_250_000).expect("a valid rate"),
            }]
        );
        assert_eq!(a.unallocated, 0);
        assert!(a.skipped_shelters_missing_rate.is_empty());
        let many = allocate_many(std::slice::from_ref(&d), &mut needs, &usd_mxn());
        assert_eq!(many, [a]);
        assert_eq!(needs[1].amount_open, 262_500);
        assert_eq!(needs[0].amount_open, 100_000);
    }

    #[test]
    fn a_donation_larger_than_all_needs_pays_every_claim_and_keeps_the_rest() {
        let needs = vec![
            need("a1", "a", Band::Critical, 900, 100_000),
            need("a2", "a", Band::Low, 100, 33_333),
            need("b1", "b", Band::High, 750, 250_001),
            need("b2", "b", Band::Medium, 500, 1),
        ];
        let d = donation("d", Currency::Usd, 5_000_000, Restriction::None);
        let rates = usd_mxn();
        let a = allocate(&d, &needs, &rates);
        assert_conserved(&d, &a);
        assert_eq!(a.slices.len(), 4);
        let r = Rate::from_millionths(17_250_000).expect("a valid rate");
        let claims: i64 = needs.iter().map(|n| claim(n.amount_open, r) as i64).sum();
        assert_eq!(a.unallocated, 5_000_000 - claims);
        for s in &a.slices {
            let n = needs.iter().find(|n| n.id == s.need_id).expect("a need");
            assert_eq!(s.amount as i128, claim(n.amount_open, r));
            // Covered exactly, never beyond what is open.
            assert_eq!(s.amount_local, n.amount_open);
        }
        // Band by band: critical, high, medium, low.
        let order: Vec<&str> = a.slices.iter().map(|s| s.need_id.as_str()).collect();
        assert_eq!(order, ["a1", "b1", "b2", "a2"]);
    }

    #[test]
    fn three_shelters_short_of_money_share_by_weight() {
        let needs: Vec<OpenNeed> = [("s10", 10), ("s20", 20), ("s30", 30)]
            .into_iter()
            .map(|(s, o)| {
                with(
                    need(&format!("{s}-n"), s, Band::High, 800, 1_000_000),
                    |n| n.occupied = o,
                )
            })
            .collect();
        let d = donation("d", Currency::Mxn, 60_000, Restriction::None);
        let a = allocate(&d, &needs, &RateTable::new());
        assert_conserved(&d, &a);
        assert_eq!(a.unallocated, 0);
        let shares = per_shelter(&a);
        assert_eq!(shares["s10"], 10_000);
        assert_eq!(shares["s20"], 20_000);
        assert_eq!(shares["s30"], 30_000);
        // Same-currency slices keep their amount.
        assert!(a
            .slices
            .iter()
            .all(|s| s.amount == s.amount_local && s.rate == Rate::ONE));
    }

    #[test]
    fn a_small_claim_is_paid_in_full_and_the_rest_water_filled() {
        // Equal shares would be 650 / 40 per bed: 162.5 for A, above its claim of 50.
        let needs = vec![
            with(need("a", "A", Band::High, 800, 50), |n| n.occupied = 10),
            with(need("b", "B", Band::High, 800, 10_000), |n| n.occupied = 10),
            with(need("c", "C", Band::High, 800, 10_000), |n| n.occupied = 20),
        ];
        let d = donation("d", Currency::Mxn, 650, Restriction::None);
        let a = allocate(&d, &needs, &RateTable::new());
        let shares = per_shelter(&a);
        assert_eq!((shares["A"], shares["B"], shares["C"]), (50, 200, 400));
        let fill = water_fill(
            650,
            &[
                ShelterClaim {
                    shelter_id: "A",
                    claim: 50,
                    weight: 10,
                },
                ShelterClaim {
                    shelter_id: "B",
                    claim: 10_000,
                    weight: 10,
                },
                ShelterClaim {
                    shelter_id: "C",
                    claim: 10_000,
                    weight: 20,
                },
            ],
        );
        assert_eq!(fill.shares, [50, 200, 400]);
        // λ = 600 / 30 = 20 per bed.
        assert_eq!(fill.level, Some(Level { num: 600, den: 30 }));
    }

    #[test]
    fn largest_remainder_breaks_ties_by_lower_shelter_id() {
        // 100 over three equal weights: 33.33 each, the extra unit to the lowest id.
        let needs = vec![
            need("n1", "s-b", Band::Medium, 500, 1_000),
            need("n2", "s-c", Band::Medium, 500, 1_000),
            need("n3", "s-a", Band::Medium, 500, 1_000),
        ];
        let d = donation("d", Currency::Mxn, 100, Restriction::None);
        let a = allocate(&d, &needs, &RateTable::new());
        let shares = per_shelter(&a);
        assert_eq!((shares["s-a"], shares["s-b"], shares["s-c"]), (34, 33, 33));
        // Unequal remainders: 100 over weights 1 and 2 is 33.33 and 66.67 → 33 and 67.
        let fill = water_fill(
            100,
            &[
                ShelterClaim {
                    shelter_id: "a",
                    claim: 1_000,
                    weight: 1,
                },
                ShelterClaim {
                    shelter_id: "b",
                    claim: 1_000,
                    weight: 2,
                },
            ],
        );
        assert_eq!(fill.shares, [33, 67]);
    }

    #[test]
    fn critical_needs_are_paid_before_high_ones() {
        let needs = vec![
            with(need("high", "big", Band::High, 990, 5_000), |n| {
                n.occupied = 500
            }),
            with(need("crit", "small", Band::Critical, 700, 5_000), |n| {
                n.occupied = 1
            }),
        ];
        let rates = RateTable::new();
        let a = allocate(
            &donation("d", Currency::Mxn, 6_000, Restriction::None),
            &needs,
            &rates,
        );
        let paid: Vec<(&str, i64)> = a
            .slices
            .iter()
            .map(|s| (s.need_id.as_str(), s.amount))
            .collect();
        assert_eq!(paid, [("crit", 5_000), ("high", 1_000)]);
        // Too little for the critical band: the high need, however heavy its shelter, gets nothing.
        let a = allocate(
            &donation("d", Currency::Mxn, 3_000, Restriction::None),
            &needs,
            &rates,
        );
        let paid: Vec<(&str, i64)> = a
            .slices
            .iter()
            .map(|s| (s.need_id.as_str(), s.amount))
            .collect();
        assert_eq!(paid, [("crit", 3_000)]);
    }

    #[test]
    fn inside_a_shelter_its_share_fills_needs_in_board_order() {
        let needs = vec![
            need("late", "s", Band::High, 800, 300),
            with(need("early", "s", Band::High, 800, 300), |n| {
                n.opened_at = "2025-12-01".into()
            }),
            need("top", "s", Band::High, 950, 300),
        ];
        let a = allocate(
            &donation("d", Currency::Mxn, 500, Restriction::None),
            &needs,
            &RateTable::new(),
        );
        let paid: Vec<(&str, i64)> = a
            .slices
            .iter()
            .map(|s| (s.need_id.as_str(), s.amount))
            .collect();
        assert_eq!(paid, [("top", 300), ("early", 200)]);
    }

    #[test]
    fn a_shelter_without_a_rate_is_skipped_and_reported() {
        let needs = vec![
            need("mx", "mexico", Band::High, 800, 100_000),
            with(need("gt", "guatemala", Band::Critical, 900, 100_000), |n| {
                n.currency = Currency::Gtq
            }),
        ];
        let d = donation("d", Currency::Usd, 1_000, Restriction::None);
        let a = allocate(&d, &needs, &usd_mxn());
        assert_conserved(&d, &a);
        assert_eq!(a.skipped_shelters_missing_rate, ["guatemala"]);
        assert!(a.slices.iter().all(|s| s.shelter_id == "mexico"));
        assert_eq!(a.unallocated, 0);
        // With nothing else to pay for, the money waits for the rate.
        let d = donation(
            "d",
            Currency::Usd,
            1_000,
            Restriction::Shelter("guatemala".into()),
        );
        let a = allocate(&d, &needs, &usd_mxn());
        assert!(a.slices.is_empty());
        assert_eq!(a.unallocated, 1_000);
        assert_eq!(a.skipped_shelters_missing_rate, ["guatemala"]);
    }

    #[test]
    fn a_need_restricted_donation_touches_only_that_need() {
        let needs = vec![
            need("urgent", "s", Band::Critical, 1000, 100_000),
            need("target", "s", Band::Low, 100, 700),
            need("elsewhere", "t", Band::Critical, 1000, 100_000),
        ];
        let d = donation(
            "d",
            Currency::Mxn,
            1_000,
            Restriction::Need("target".into()),
        );
        let a = allocate(&d, &needs, &RateTable::new());
        let paid: Vec<(&str, i64)> = a
            .slices
            .iter()
            .map(|s| (s.need_id.as_str(), s.amount))
            .collect();
        assert_eq!(paid, [("target", 700)]);
        assert_eq!(a.unallocated, 300);
        // A need that is already covered takes nothing.
        let covered = [with(needs[1].clone(), |n| n.amount_open = 0)];
        let a = allocate(&d, &covered, &RateTable::new());
        assert!(a.slices.is_empty());
        assert_eq!(a.unallocated, 1_000);
    }

    #[test]
    fn category_and_shelter_restrictions_stay_inside() {
        let needs = vec![
            need("food-a", "a", Band::High, 800, 1_000),
            with(need("med-a", "a", Band::Critical, 1000, 1_000), |n| {
                n.category = NeedCategory::Medical
            }),
            need("food-b", "b", Band::High, 800, 1_000),
            with(need("med-b", "b", Band::Critical, 1000, 1_000), |n| {
                n.category = NeedCategory::Medical
            }),
        ];
        let rates = RateTable::new();
        let ids = |a: &Allocation| {
            a.slices
                .iter()
                .map(|s| s.need_id.clone())
                .collect::<Vec<_>>()
        };
        let d = donation(
            "d",
            Currency::Mxn,
            10_000,
            Restriction::Category(NeedCategory::Food),
        );
        let a = allocate(&d, &needs, &rates);
        assert_eq!(ids(&a), ["food-a", "food-b"]);
        assert_eq!(a.unallocated, 8_000);
        let d = donation("d", Currency::Mxn, 10_000, Restriction::Shelter("b".into()));
        assert_eq!(ids(&allocate(&d, &needs, &rates)), ["med-b", "food-b"]);
        let d = donation(
            "d",
            Currency::Mxn,
            10_000,
            Restriction::ShelterCategory("a".into(), NeedCategory::Medical),
        );
        assert_eq!(ids(&allocate(&d, &needs, &rates)), ["med-a"]);
    }

    #[test]
    fn donations_go_most_restricted_first_then_by_time_then_id() {
        let at = |id: &str, r: Restriction, t: &str| Donation {
            received_at: t.into(),
            ..donation(id, Currency::Mxn, 100, r)
        };
        let mut ds = vec![
            at("none", Restriction::None, "2026-01-01"),
            at(
                "cat",
                Restriction::Category(NeedCategory::Food),
                "2026-01-01",
            ),
            at("shelter", Restriction::Shelter("s".into()), "2026-01-03"),
            at(
                "sc",
                Restriction::ShelterCategory("s".into(), NeedCategory::Food),
                "2026-01-04",
            ),
            at("need-late", Restriction::Need("n".into()), "2026-01-05"),
            at("need-b", Restriction::Need("n".into()), "2026-01-02"),
            at("need-a", Restriction::Need("n".into()), "2026-01-02"),
        ];
        order_donations(&mut ds);
        let ids: Vec<&str> = ds.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "need-a",
                "need-b",
                "need-late",
                "sc",
                "shelter",
                "cat",
                "none"
            ]
        );
    }

    #[test]
    fn later_donations_see_what_earlier_ones_left() {
        let mut needs = vec![need("n", "s", Band::High, 800, 1_000)];
        let ds = vec![
            // Received first, but unrestricted: taken after the need-restricted one.
            Donation {
                received_at: "2026-01-01".into(),
                ..donation("open", Currency::Mxn, 900, Restriction::None)
            },
            donation("gift", Currency::Mxn, 600, Restriction::Need("n".into())),
        ];
        let out = allocate_many(&ds, &mut needs, &RateTable::new());
        let summary: Vec<(&str, i64, i64)> = out
            .iter()
            .map(|a| {
                (
                    a.donation_id.as_str(),
                    a.slices.iter().map(|s| s.amount).sum(),
                    a.unallocated,
                )
            })
            .collect();
        assert_eq!(summary, [("gift", 600, 0), ("open", 400, 500)]);
        assert_eq!(needs[0].amount_open, 0);
    }

    #[test]
    fn releasing_converts_back_in_proportion() {
        // 100.00 USD = 1725.00 MXN; the need shrinks so only 1000.00 MXN stays allocated.
        assert_eq!(
            release(10_000, 172_500, 100_000),
            Released {
                amount: 5_797,
                returned: 4_203
            }
        );
        // The need ended: everything goes back.
        assert_eq!(
            release(10_000, 172_500, 0),
            Released {
                amount: 0,
                returned: 10_000
            }
        );
        assert_eq!(
            release(10_000, 172_500, 172_500),
            Released {
                amount: 10_000,
                returned: 0
            }
        );
        // Never upwards, and a slice that covered nothing locally can still be released.
        assert_eq!(release(10_000, 172_500, 200_000).amount, 10_000);
        assert_eq!(
            release(3, 0, 0),
            Released {
                amount: 0,
                returned: 3
            }
        );
        // Half to even: 5 × 1/2 = 2.5 → 2; 7 × 1/2 = 3.5 → 4.
        assert_eq!(release(5, 2, 1).amount, 2);
        assert_eq!(release(7, 2, 1).amount, 4);
    }

    #[test]
    fn nothing_to_allocate_gives_nothing() {
        let needs = vec![need("n", "s", Band::High, 800, 1_000)];
        let a = allocate(
            &donation("d", Currency::Mxn, 0, Restriction::None),
            &needs,
            &RateTable::new(),
        );
        assert!(a.slices.is_empty());
        assert_eq!(a.unallocated, 0);
        let a = allocate(
            &donation("d", Currency::Mxn, 500, Restriction::None),
            &[],
            &RateTable::new(),
        );
        assert_eq!(a.unallocated, 500);
    }

    /// The allocator as first written: straightforward and slow (it sorts every candidate by
    /// string keys and groups with a hash map per band). The fast paths must give exactly what
    /// it gives.
    mod reference {
        use super::super::*;
        use std::collections::BTreeSet;

        fn ref_need_order(a: &OpenNeed, b: &OpenNeed) -> Ordering {
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

        pub(super) fn ref_to_local(amount: i64, rate: Rate) -> i128 {
            div_round_half_even(
                i128::from(amount) * i128::from(rate.0),
                i128::from(RATE_SCALE),
            )
        }

        pub(super) fn ref_claim(open_local: i64, rate: Rate) -> i128 {
            if open_local <= 0 {
                return 0;
            }
            let numerator = i128::from(open_local) * i128::from(RATE_SCALE);
            let rate = i128::from(rate.0);
            (numerator + rate - 1) / rate
        }

        pub(super) fn ref_water_fill(remaining: i128, shelters: &[ShelterClaim<'_>]) -> WaterFill {
            let remaining = remaining.max(0);
            // A claim above `remaining` behaves exactly like `remaining + 1`: `λ·w ≤ remaining` for every
            // shelter, so `min(claim, λ·w)` is the same. Capping keeps the products below small.
            let cap = remaining + 1;
            let claims: Vec<i128> = shelters.iter().map(|s| s.claim.clamp(0, cap)).collect();
            let weights: Vec<i128> = shelters
                .iter()
                .map(|s| i128::from(s.weight.clamp(1, MAX_WEIGHT)))
                .collect();
            let total: i128 = claims.iter().sum();
            if total <= remaining {
                return WaterFill {
                    shares: claims,
                    level: None,
                };
            }
            // Shelters by claim / w ascending (cross-multiplied, exact); the smallest fill up first.
            let mut by_ratio: Vec<usize> = (0..shelters.len()).collect();
            by_ratio.sort_by(|&a, &b| {
                (claims[a] * weights[b])
                    .cmp(&(claims[b] * weights[a]))
                    .then_with(|| shelters[a].shelter_id.cmp(shelters[b].shelter_id))
            });
            let mut shares = vec![0i128; shelters.len()];
            let mut left = remaining;
            let mut weight_left: i128 = weights.iter().sum();
            let mut first_unfilled = by_ratio.len();
            for (k, &s) in by_ratio.iter().enumerate() {
                // Saturated when claim / w ≤ λ, i.e. when the level with it still unfilled would pass it.
                if claims[s] * weight_left <= left * weights[s] {
                    shares[s] = claims[s];
                    left -= claims[s];
                    weight_left -= weights[s];
                } else {
                    first_unfilled = k;
                    break;
                }
            }
            // Not every claim fits, so some shelter is left unfilled and `weight_left > 0`: λ = left / W.
            let unfilled = &by_ratio[first_unfilled..];
            let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(unfilled.len());
            let mut handed_out: i128 = 0;
            for &s in unfilled {
                let exact = left * weights[s];
                shares[s] = exact / weight_left;
                handed_out += shares[s];
                remainders.push((exact % weight_left, s));
            }
            remainders.sort_by(|a, b| {
                b.0.cmp(&a.0)
                    .then_with(|| shelters[a.1].shelter_id.cmp(shelters[b.1].shelter_id))
            });
            let extra = usize::try_from(left - handed_out).unwrap_or(0);
            // Each unfilled shelter has λ·w < claim, so one more minor unit never exceeds its claim.
            for &(_, s) in remainders.iter().take(extra) {
                shares[s] += 1;
            }
            WaterFill {
                shares,
                level: Some(Level {
                    num: left,
                    den: weight_left.max(1),
                }),
            }
        }

        /// Pays one donation out of the candidates (the original, in need order).
        fn ref_allocate_ordered(
            donation: &Donation,
            needs: &[OpenNeed],
            open: &[i64],
            candidates: &[usize],
            rates: &impl Rates,
        ) -> (Allocation, Vec<usize>) {
            let mut allocation = Allocation {
                donation_id: donation.id.clone(),
                slices: Vec::new(),
                unallocated: donation.unallocated,
                skipped_shelters_missing_rate: Vec::new(),
            };
            let mut paid_needs = Vec::new();
            if donation.unallocated <= 0 {
                return (allocation, paid_needs);
            }
            let mut rate_cache: Vec<(Currency, Option<Rate>)> = Vec::new();
            let mut skipped: BTreeSet<&str> = BTreeSet::new();
            let mut bands: [Vec<(usize, Rate)>; 4] = Default::default();
            for &i in candidates {
                let need = &needs[i];
                if open[i] <= 0 || !donation.restriction.admits(need) {
                    continue;
                }
                let rate = match rate_cache.iter().find(|(c, _)| *c == need.currency) {
                    Some(&(_, rate)) => rate,
                    None => {
                        let rate = rate_between(rates, donation.currency, need.currency);
                        rate_cache.push((need.currency, rate));
                        rate
                    }
                };
                match rate {
                    Some(rate) => bands[need.band.rank() as usize].push((i, rate)),
                    None => {
                        skipped.insert(need.shelter_id.as_str());
                    }
                }
            }
            allocation.skipped_shelters_missing_rate =
                skipped.into_iter().map(str::to_owned).collect();

            let mut remaining = i128::from(donation.unallocated);
            for band in &bands {
                if remaining == 0 {
                    break;
                }
                if band.is_empty() {
                    continue;
                }
                // Group the band's needs by shelter, shelters in order of first appearance.
                let cap = remaining + 1;
                let mut slot_of: HashMap<&str, usize> = HashMap::new();
                let mut shelters: Vec<ShelterClaim<'_>> = Vec::new();
                let mut need_claims: Vec<(usize, Rate, i128, usize)> =
                    Vec::with_capacity(band.len());
                for &(i, rate) in band {
                    let need = &needs[i];
                    // Capped like in `ref_water_fill`: no share can exceed `remaining`, so `min` is unchanged.
                    let c = ref_claim(open[i], rate).min(cap);
                    let slot = *slot_of.entry(need.shelter_id.as_str()).or_insert_with(|| {
                        shelters.push(ShelterClaim {
                            shelter_id: need.shelter_id.as_str(),
                            claim: 0,
                            weight: 1,
                        });
                        shelters.len() - 1
                    });
                    let shelter = &mut shelters[slot];
                    shelter.claim = (shelter.claim + c).min(cap);
                    shelter.weight = shelter.weight.max(need.weight());
                    need_claims.push((i, rate, c, slot));
                }
                let mut share_left = ref_water_fill(remaining, &shelters).shares;
                // Each shelter's share fills its needs in board order.
                for (i, rate, c, slot) in need_claims {
                    let paid = c.min(share_left[slot]);
                    if paid <= 0 {
                        continue;
                    }
                    share_left[slot] -= paid;
                    remaining -= paid;
                    // `paid ≤ remaining ≤ donation.unallocated`, so it fits in i64.
                    let amount = paid as i64;
                    let amount_local = ref_to_local(amount, rate).min(i128::from(open[i])) as i64;
                    allocation.slices.push(Slice {
                        need_id: needs[i].id.clone(),
                        shelter_id: needs[i].shelter_id.clone(),
                        amount,
                        amount_local,
                        rate,
                    });
                    paid_needs.push(i);
                }
            }
            allocation.unallocated = remaining as i64;
            (allocation, paid_needs)
        }

        /// Allocates one donation's unallocated money to `needs` (ENGINE.md "Allocating money").
        ///
        /// Eligible needs have `amount_open > 0` and are inside the restriction; needs of shelters with no
        /// rate from the donation's currency are skipped and their shelters reported. The order of
        /// `needs` does not matter. `needs` are not changed: subtract each slice's `amount_local` from its
        /// need's `amount_open` (or use [`ref_allocate_many`]).
        pub(super) fn ref_allocate(
            donation: &Donation,
            needs: &[OpenNeed],
            rates: &impl Rates,
        ) -> Allocation {
            let open: Vec<i64> = needs.iter().map(|n| n.amount_open).collect();
            let mut candidates: Vec<usize> = (0..needs.len())
                .filter(|&i| needs[i].amount_open > 0 && donation.restriction.admits(&needs[i]))
                .collect();
            candidates.sort_by(|&a, &b| ref_need_order(&needs[a], &needs[b]));
            ref_allocate_ordered(donation, needs, &open, &candidates, rates).0
        }

        /// Allocates several donations in [`donation_order`], each seeing what the earlier ones left:
        /// every slice's `amount_local` is taken off its need's `amount_open` in `needs`. Returns one
        /// allocation per donation, in the order they were processed. Bands and scores are used as given
        /// (the caller recomputes them afterwards). Each result equals [`allocate`] on the needs as the
        /// earlier donations left them.
        pub(super) fn ref_allocate_many(
            donations: &[Donation],
            needs: &mut [OpenNeed],
            rates: &impl Rates,
        ) -> Vec<Allocation> {
            let mut open: Vec<i64> = needs.iter().map(|n| n.amount_open).collect();
            let allocations = {
                let needs: &[OpenNeed] = needs;
                let mut order: Vec<usize> = (0..needs.len()).collect();
                order.sort_by(|&a, &b| ref_need_order(&needs[a], &needs[b]));
                // Candidate lists per restriction, each in need order, so a restricted donation only
                // looks at the needs it may pay for.
                let mut by_need: HashMap<&str, Vec<usize>> = HashMap::new();
                let mut by_shelter: HashMap<&str, Vec<usize>> = HashMap::new();
                let mut by_category: HashMap<NeedCategory, Vec<usize>> = HashMap::new();
                let mut by_shelter_category: HashMap<(&str, NeedCategory), Vec<usize>> =
                    HashMap::new();
                for &i in &order {
                    let n = &needs[i];
                    by_need.entry(n.id.as_str()).or_default().push(i);
                    by_shelter.entry(n.shelter_id.as_str()).or_default().push(i);
                    by_category.entry(n.category).or_default().push(i);
                    by_shelter_category
                        .entry((n.shelter_id.as_str(), n.category))
                        .or_default()
                        .push(i);
                }
                let mut donation_indices: Vec<usize> = (0..donations.len()).collect();
                donation_indices.sort_by(|&a, &b| donation_order(&donations[a], &donations[b]));
                let none: Vec<usize> = Vec::new();
                donation_indices
                    .into_iter()
                    .map(|d| {
                        let donation = &donations[d];
                        let candidates = match &donation.restriction {
                            Restriction::Need(id) => by_need.get(id.as_str()),
                            Restriction::ShelterCategory(s, c) => {
                                by_shelter_category.get(&(s.as_str(), *c))
                            }
                            Restriction::Shelter(s) => by_shelter.get(s.as_str()),
                            Restriction::Category(c) => by_category.get(c),
                            Restriction::None => Some(&order),
                        }
                        .unwrap_or(&none);
                        let (allocation, paid) =
                            ref_allocate_ordered(donation, needs, &open, candidates, rates);
                        for (slice, i) in allocation.slices.iter().zip(paid) {
                            open[i] -= slice.amount_local;
                        }
                        allocation
                    })
                    .collect()
            };
            for (need, open) in needs.iter_mut().zip(open) {
                need.amount_open = open;
            }
            allocations
        }
    }

    mod same_as_reference {
        use super::super::*;
        use super::reference::*;
        use proptest::prelude::*;

        const SHELTER_IDS: [&str; 8] = ["a", "ab", "b", "ba", "s-1", "s-10", "s-2", "shelter"];
        const CATEGORIES: [NeedCategory; 3] = [
            NeedCategory::Food,
            NeedCategory::Medical,
            NeedCategory::Utilities,
        ];
        /// Opening times sharing long prefixes (beyond the 16 bytes the fast keys look at), of
        /// different lengths, one with a NUL byte where shorter texts are padded with zeros.
        const OPENED: [&str; 10] = [
            "",
            "a",
            "a\0",
            "2026-11-01",
            "2026-11-01T00:00:00Z",
            "2026-11-01T00:01:00Z",
            "2026-11-02T00:00:00Z",
            "2026-11-01T00:00:00.000000001Z",
            "2026-11-01T00:00:00.000000002Z",
            "2026-11-01T00:00:00.0000000010Z",
        ];

        fn rate() -> impl Strategy<Value = Rate> {
            prop_oneof![
                1 => Just(1_000_000i64),
                1 => 1i64..100,
                3 => 1_000i64..100_000_000,
                1 => 1i64..=Rate::MAX_MILLIONTHS,
            ]
            .prop_map(|m| Rate::from_millionths(m).expect("in range"))
        }

        fn rates() -> impl Strategy<Value = RateTable> {
            prop::collection::vec(prop::option::weighted(0.7, rate()), 16).prop_map(|rates| {
                let mut table = RateTable::new();
                for (k, r) in rates.into_iter().enumerate() {
                    if let Some(r) = r {
                        table.insert(Currency::ALL[k / 4], Currency::ALL[k % 4], r);
                    }
                }
                table
            })
        }

        fn amount() -> impl Strategy<Value = i64> {
            prop_oneof![
                1 => Just(0i64),
                1 => -1_000i64..0,
                3 => 1i64..1_000,
                3 => 1i64..1_000_000_000,
                1 => 1i64..100_000_000_000_000_000,
            ]
        }

        fn score() -> impl Strategy<Value = i64> {
            prop_oneof![4 => 0i64..=1000, 2 => Just(500i64), 1 => any::<i64>()]
        }

        fn occupied() -> impl Strategy<Value = i64> {
            prop_oneof![4 => 0i64..300, 1 => -5i64..0, 1 => Just(MAX_WEIGHT + 7)]
        }

        /// (shelter, own currency?, own occupancy?, id, category, band, score, opened, open)
        type NeedParts = (
            usize,
            Option<Currency>,
            Option<i64>,
            Option<usize>,
            usize,
            Band,
            i64,
            usize,
            i64,
        );

        fn need_parts() -> impl Strategy<Value = NeedParts> {
            (
                0..SHELTER_IDS.len(),
                prop::option::weighted(0.1, prop::sample::select(Currency::ALL)),
                prop::option::weighted(0.1, occupied()),
                prop::option::weighted(0.1, 0usize..8),
                0..CATEGORIES.len(),
                prop::sample::select(Band::ALL.to_vec()),
                score(),
                0..OPENED.len(),
                amount(),
            )
        }

        fn needs() -> impl Strategy<Value = Vec<OpenNeed>> {
            (
                prop::collection::vec(
                    (prop::sample::select(Currency::ALL), occupied()),
                    SHELTER_IDS.len(),
                ),
                prop::collection::vec(need_parts(), 0..40),
                // Needs made exact copies of others: (copy, of).
                prop::collection::vec(
                    (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
                    0..3,
                ),
            )
                .prop_map(|(shelters, parts, copies)| {
                    let mut needs: Vec<OpenNeed> = parts
                        .into_iter()
                        .enumerate()
                        .map(|(k, parts)| {
                            let (s, currency, occupied, id, c, band, score, opened, open) = parts;
                            OpenNeed {
                                // Sometimes the same id as another need.
                                id: format!("n{}", id.unwrap_or(k)),
                                shelter_id: SHELTER_IDS[s].into(),
                                category: CATEGORIES[c],
                                band,
                                score,
                                opened_at: OPENED[opened].into(),
                                amount_open: open,
                                currency: currency.unwrap_or(shelters[s].0),
                                occupied: occupied.unwrap_or(shelters[s].1),
                            }
                        })
                        .collect();
                    if !needs.is_empty() {
                        for (copy, of) in copies {
                            let (copy, of) = (copy.index(needs.len()), of.index(needs.len()));
                            needs[copy] = needs[of].clone();
                        }
                    }
                    needs
                })
        }

        fn restriction() -> impl Strategy<Value = Restriction> {
            (
                0u8..5,
                0usize..45,
                0..SHELTER_IDS.len() + 1,
                0..CATEGORIES.len(),
            )
                .prop_map(|(kind, n, s, c)| {
                    let shelter = SHELTER_IDS.get(s).copied().unwrap_or("nowhere").to_owned();
                    match kind {
                        0 => Restriction::Need(format!("n{n}")),
                        1 => Restriction::ShelterCategory(shelter, CATEGORIES[c]),
                        2 => Restriction::Shelter(shelter),
                        3 => Restriction::Category(CATEGORIES[c]),
                        _ => Restriction::None,
                    }
                })
        }

        fn donations() -> impl Strategy<Value = Vec<Donation>> {
            prop::collection::vec(
                (
                    0u8..6,
                    prop::sample::select(Currency::ALL),
                    prop_oneof![
                        6 => amount(),
                        1 => Just(i64::MAX),
                    ],
                    restriction(),
                    0u8..3,
                ),
                1..8,
            )
            .prop_map(|ds| {
                ds.into_iter()
                    .map(|(id, currency, unallocated, restriction, day)| Donation {
                        id: format!("d{id}"),
                        currency,
                        unallocated,
                        restriction,
                        received_at: format!("2026-02-0{day}"),
                    })
                    .collect()
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1024))]

            #[test]
            fn allocate_gives_what_the_reference_gives(
                needs in needs(),
                rates in rates(),
                donations in donations(),
            ) {
                let mut reversed = needs.clone();
                reversed.reverse();
                for d in &donations {
                    let expected = ref_allocate(d, &needs, &rates);
                    prop_assert_eq!(&allocate(d, &needs, &rates), &expected);
                    prop_assert_eq!(&allocate(d, &reversed, &rates), &expected);
                }
            }

            #[test]
            fn allocate_many_gives_what_the_reference_gives(
                needs in needs(),
                rates in rates(),
                donations in donations(),
            ) {
                let (mut fast, mut slow) = (needs.clone(), needs);
                let got = allocate_many(&donations, &mut fast, &rates);
                let expected = ref_allocate_many(&donations, &mut slow, &rates);
                prop_assert_eq!(got, expected);
                prop_assert_eq!(fast, slow);
            }

            #[test]
            fn water_fill_gives_what_the_reference_gives(
                remaining in prop_oneof![-5i128..0, 0i128..1_000, 0i128..1_000_000_000_000],
                shelters in prop::collection::vec(
                    (
                        0usize..6,
                        prop_oneof![-5i128..0, 0i128..1_000, 0i128..1_000_000_000_000],
                        prop_oneof![-3i64..50, Just(MAX_WEIGHT + 1)],
                    ),
                    0..14,
                ),
            ) {
                // Ids repeat: ties fall back to the order given, as the stable sorts did.
                let claims: Vec<ShelterClaim> = shelters
                    .iter()
                    .map(|&(id, claim, weight)| ShelterClaim {
                        shelter_id: SHELTER_IDS[id],
                        claim,
                        weight,
                    })
                    .collect();
                prop_assert_eq!(water_fill(remaining, &claims), ref_water_fill(remaining, &claims));
            }

            #[test]
            fn linear_water_fill_gives_what_the_sorted_one_gives(
                // Small numbers make claim / w = λ exactly, and equal remainders, common.
                remaining in prop_oneof![0i128..40, 0i128..1_000, 0i128..1_000_000_000_000],
                shelters in prop::collection::vec(
                    (
                        prop_oneof![
                            0i128..12,
                            0i128..1_000,
                            (0u32..40).prop_map(|k| 1i128 << k),
                            0i128..1_000_000_000_000,
                        ],
                        prop_oneof![1i64..4, 1i64..50, 1i64..MAX_WEIGHT],
                    ),
                    0..40,
                ),
            ) {
                let mut sorted = Filler::default();
                for &(claim, weight) in &shelters {
                    sorted.push(claim, weight);
                }
                let level = sorted.run(remaining, |a, b| a.cmp(&b));
                // Every number of rounds before the sorted finish, including none.
                for rounds in [0, 1, 2, 4, 64] {
                    let mut linear = Filler::default();
                    for &(claim, weight) in &shelters {
                        linear.push(claim, weight);
                    }
                    let got = linear.run_distinct_rounds(remaining, |a, b| a.cmp(&b), rounds);
                    prop_assert_eq!(got, level);
                    prop_assert_eq!(&linear.shares, &sorted.shares);
                }
            }

            #[test]
            fn conversions_give_what_the_reference_gives(
                amount in prop_oneof![any::<i64>(), -1_000i64..1_000, 0i64..10_000_000_000_000],
                rate in rate(),
            ) {
                prop_assert_eq!(claim(amount, rate), ref_claim(amount, rate));
                prop_assert_eq!(to_local(amount, rate), ref_to_local(amount, rate));
            }
        }
    }
}
