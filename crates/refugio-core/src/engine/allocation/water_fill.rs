//! Water-filling: the level that splits scarce money across shelters by weight, and the
//! largest-remainder rounding to whole minor units.

use super::keys::index_u32;
use super::MAX_WEIGHT;
use std::cmp::Ordering;

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
pub(super) struct Filler {
    /// Per shelter, in the order pushed: its claim (clamped by `run`) and its weight.
    pub(super) claims: Vec<i128>,
    pub(super) weights: Vec<i128>,
    /// Per shelter, after `run`: its share.
    pub(super) shares: Vec<i128>,
    by_ratio: Vec<u32>,
    /// (remainder, shelter, position in `by_ratio`) of the shelters left unfilled.
    remainders: Vec<(i128, u32, u32)>,
}

impl Filler {
    pub(super) fn clear(&mut self) {
        self.claims.clear();
        self.weights.clear();
    }

    pub(super) fn push(&mut self, claim: i128, weight: i64) {
        self.claims.push(claim);
        self.weights.push(i128::from(weight.clamp(1, MAX_WEIGHT)));
    }

    /// [`water_fill`] of `remaining` over the pushed shelters, `tie(a, b)` comparing the ids of
    /// shelters `a` and `b`. Leaves the shares in `self.shares` and returns the level.
    pub(super) fn run(
        &mut self,
        remaining: i128,
        tie: impl Fn(usize, usize) -> Ordering,
    ) -> Option<Level> {
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
    pub(super) fn run_distinct(
        &mut self,
        remaining: i128,
        tie: impl Fn(usize, usize) -> Ordering,
    ) -> Option<Level> {
        self.run_distinct_rounds(remaining, tie, 4)
    }

    /// [`Filler::run_distinct`], sorting by ratio after `rounds` rounds that still saturated
    /// some shelter.
    pub(super) fn run_distinct_rounds(
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
