//! Daily demand, reorder point and target of an item (ENGINE.md "Demand" and "Targets").
//!
//! Quantities are thousandths, norms millionths. Observed demand is smoothed exponentially
//! (alpha 0.3) in billionths with half-up rounding at each step, so the result is exact,
//! deterministic integer arithmetic; `D`, `R` and `T` are rounded half up to thousandths.

use crate::decimal::div_round_half_up;
use crate::inventory::{Basis, MovementKind};
use chrono::{Duration, NaiveDate};

/// Observed use needs at least this many dates in its window.
pub const MIN_WINDOW_DAYS: i64 = 7;
/// The window looks back at most this many days.
pub const MAX_WINDOW_DAYS: i64 = 28;
/// Billionths per thousandth: SES runs at this finer scale.
const FINE: i128 = 1_000_000;

/// The item settings demand depends on (quantities in thousandths, norm in millionths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemParams {
    pub basis: Basis,
    pub per_person: Option<i64>,
    pub reorder_days: i64,
    pub target_days: i64,
    pub min_quantity: i64,
    pub target_quantity: i64,
}

/// One ledger row as demand sees it: its local date, kind and signed change (thousandths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatedMovement {
    pub date: NaiveDate,
    pub kind: MovementKind,
    pub delta: i64,
}

/// Which estimate set the daily demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemandSource {
    /// `per_person × occupied beds`.
    Norm,
    /// Smoothed observed use.
    Observed,
    /// Neither is known.
    None,
}

/// Demand and the stock levels derived from it (thousandths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Levels {
    pub daily_demand: i64,
    pub source: DemandSource,
    pub norm_demand: Option<i64>,
    pub observed_demand: Option<i64>,
    pub reorder_point: i64,
    pub target: i64,
}

/// `p × O` in thousandths, rounded half up (`p` in millionths).
pub fn norm_demand(per_person: i64, occupied: i64) -> i64 {
    div_round_half_up(i128::from(per_person) * i128::from(occupied), 1000) as i64
}

/// Smoothed observed daily use (thousandths), or `None` with fewer than 7 dates of history.
///
/// `movements` are the item's ledger rows in recording order, from its first movement (or at
/// least from the latest count before the window; `anchor` is then that count's date).
/// `first_movement_on` is the local date of the item's first movement.
pub fn observed_demand(
    first_movement_on: NaiveDate,
    anchor: NaiveDate,
    today: NaiveDate,
    movements: &[DatedMovement],
) -> Option<i64> {
    let start = first_movement_on.max(today - Duration::days(MAX_WINDOW_DAYS));
    let end = today - Duration::days(1);
    let days = (end - start).num_days() + 1;
    if days < MIN_WINDOW_DAYS {
        return None;
    }
    let mut used = vec![0i128; usize::try_from(days).ok()?];
    let mut add = |date: NaiveDate, fine: i128| {
        let offset = (date - start).num_days();
        if (0..days).contains(&offset) {
            used[offset as usize] += fine;
        }
    };
    let mut last_count = anchor;
    for m in movements {
        match m.kind {
            MovementKind::Consumption | MovementKind::Waste => {
                add(m.date, i128::from(m.delta.abs()) * FINE)
            }
            MovementKind::Count => {
                if m.delta < 0 {
                    // A count that finds less stock is use, spread over the days since the last count.
                    let first = (last_count + Duration::days(1)).min(m.date);
                    let span = (m.date - first).num_days() + 1;
                    let per_day = div_round_half_up(i128::from(-m.delta) * FINE, i128::from(span));
                    for d in 0..span {
                        add(first + Duration::days(d), per_day);
                    }
                }
                last_count = m.date;
            }
            MovementKind::Receipt | MovementKind::Adjustment => {}
        }
    }
    let mut smoothed = used[0];
    for &c in &used[1..] {
        smoothed = div_round_half_up(3 * c + 7 * smoothed, 10);
    }
    Some(div_round_half_up(smoothed, FINE) as i64)
}

/// Daily demand, reorder point and target for an item with `occupied` beds in use.
pub fn levels(params: &ItemParams, occupied: i64, observed: Option<i64>) -> Levels {
    let norm = params.per_person.map(|p| norm_demand(p, occupied));
    match params.basis {
        Basis::Consumable => {
            let (daily_demand, source) = match (norm, observed) {
                (Some(n), Some(o)) if o > n => (o, DemandSource::Observed),
                (Some(n), _) => (n, DemandSource::Norm),
                (None, Some(o)) => (o, DemandSource::Observed),
                (None, None) => (0, DemandSource::None),
            };
            let reorder_point = params.min_quantity.max(daily_demand * params.reorder_days);
            let target = params
                .target_quantity
                .max(daily_demand * params.target_days)
                .max(reorder_point);
            Levels {
                daily_demand,
                source,
                norm_demand: norm,
                observed_demand: observed,
                reorder_point,
                target,
            }
        }
        Basis::Durable => {
            // Durable goods: p units per person, target 10% over, in whole units.
            let need = norm.unwrap_or(0);
            let reorder_point = params.min_quantity.max(need);
            // ceil(p × O × 1.1) whole units, from the exact norm (millionths × beds).
            let raw = i128::from(params.per_person.unwrap_or(0)) * i128::from(occupied) * 11;
            let with_margin = (raw + 9_999_999) / 10_000_000 * 1000;
            let target = params
                .target_quantity
                .max(with_margin as i64)
                .max(reorder_point);
            let source = if norm.is_some() {
                DemandSource::Norm
            } else {
                DemandSource::None
            };
            Levels {
                daily_demand: 0,
                source,
                norm_demand: norm,
                observed_demand: None,
                reorder_point,
                target,
            }
        }
    }
}

/// `H / D` in thousandths of a day, rounded half up; `None` when D is 0.
pub fn days_of_cover(on_hand: i64, daily_demand: i64) -> Option<i64> {
    (daily_demand > 0)
        .then(|| div_round_half_up(i128::from(on_hand) * 1000, i128::from(daily_demand)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rice() -> ItemParams {
        ItemParams {
            basis: Basis::Consumable,
            per_person: Some(400_000),
            reorder_days: 7,
            target_days: 14,
            min_quantity: 0,
            target_quantity: 0,
        }
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    #[test]
    fn worked_example_levels() {
        let l = levels(&rice(), 40, None);
        assert_eq!(
            (l.daily_demand, l.reorder_point, l.target),
            (16_000, 112_000, 224_000)
        );
        assert_eq!(l.source, DemandSource::Norm);
        assert_eq!(days_of_cover(50_000, l.daily_demand), Some(3_125));
        assert_eq!(days_of_cover(50_000, 0), None);
    }

    #[test]
    fn durable_target_is_ten_percent_over_rounded_up_to_whole_units() {
        let mats = ItemParams {
            basis: Basis::Durable,
            per_person: Some(1_000_000),
            ..rice()
        };
        let l = levels(&mats, 41, None);
        // 41 × 1.1 = 45.1 → 46 whole mats.
        assert_eq!(
            (l.daily_demand, l.reorder_point, l.target),
            (0, 41_000, 46_000)
        );
        let l = levels(&mats, 40, None);
        assert_eq!(l.target, 44_000);
    }

    #[test]
    fn minimums_raise_the_levels() {
        let p = ItemParams {
            per_person: None,
            min_quantity: 5_000,
            target_quantity: 9_000,
            ..rice()
        };
        let l = levels(&p, 40, None);
        assert_eq!(
            (l.daily_demand, l.reorder_point, l.target, l.source),
            (0, 5_000, 9_000, DemandSource::None)
        );
    }

    #[test]
    fn observed_use_needs_seven_days_of_history() {
        let today = date("2026-11-28");
        let m = [DatedMovement {
            date: date("2026-11-25"),
            kind: MovementKind::Consumption,
            delta: -10_000,
        }];
        assert_eq!(
            observed_demand(date("2026-11-22"), date("2026-11-22"), today, &m),
            None
        );
        assert!(observed_demand(date("2026-11-21"), date("2026-11-21"), today, &m).is_some());
    }

    #[test]
    fn ses_on_a_known_series() {
        // Seven days of use 10, 20, 10, 20, 10, 20, 10 (kg):
        // F = 10, 13, 12.1, 14.47, 13.129, 15.1903, 13.63321 → 13.633.
        let today = date("2026-11-28");
        let start = date("2026-11-21");
        let series: [i64; 7] = [10, 20, 10, 20, 10, 20, 10];
        let m: Vec<_> = series
            .iter()
            .enumerate()
            .map(|(i, kg)| DatedMovement {
                date: start + Duration::days(i as i64),
                kind: MovementKind::Consumption,
                delta: -kg * 1000,
            })
            .collect();
        assert_eq!(observed_demand(start, start, today, &m), Some(13_633));
    }

    #[test]
    fn a_weekly_count_is_spread_as_use_over_the_week() {
        let today = date("2026-11-29");
        let first = date("2026-11-21");
        let m = [
            DatedMovement {
                date: first,
                kind: MovementKind::Receipt,
                delta: 200_000,
            },
            DatedMovement {
                date: date("2026-11-28"),
                kind: MovementKind::Count,
                delta: -70_000,
            },
        ];
        // 70 kg over the 7 days after the first movement: 10 kg every day, day 1 had none.
        // F over [0, 10×7] = 0, 3, 5.1, 6.57, 7.599, 8.3193, 8.82351, 9.176457 → 9.176.
        assert_eq!(observed_demand(first, first, today, &m), Some(9_176));
    }

    #[test]
    fn observed_demand_wins_when_higher_than_the_norm() {
        let l = levels(&rice(), 40, Some(20_000));
        assert_eq!((l.daily_demand, l.source), (20_000, DemandSource::Observed));
        let l = levels(&rice(), 40, Some(10_000));
        assert_eq!((l.daily_demand, l.source), (16_000, DemandSource::Norm));
    }
}
