//! Needs (ENGINE.md "Needs"): when an item opens one, how much it asks for, how much is
//! covered, its status and priority, and the drivers that explain it.

use super::demand::{DemandSource, Levels};
use super::drivers::Driver;
use super::priority::{band, bill_criticality, score_tenths, urgency, Band, DaysLeft, Ratio};
use crate::decimal::div_round_half_up;
use crate::inventory::{Basis, BillCategory, Criticality};
use crate::roles::api_enum;
use chrono::NaiveDate;

api_enum! {
    /// Where a need stands; `fulfilled` and `cancelled` are final.
    NeedStatus { Open => "open", PartiallyFunded => "partially_funded", Funded => "funded",
        Fulfilled => "fulfilled", Cancelled => "cancelled" }
}

impl NeedStatus {
    pub fn is_final(self) -> bool {
        matches!(self, NeedStatus::Fulfilled | NeedStatus::Cancelled)
    }
}

api_enum! {
    /// Where a need comes from.
    NeedKind { Item => "item", Bill => "bill", Manual => "manual" }
}

api_enum! {
    /// What a need is for, on the public board.
    NeedCategory { Food => "food", Water => "water", Medical => "medical", Hygiene => "hygiene",
        Bedding => "bedding", Clothing => "clothing", Housing => "housing", Utilities => "utilities",
        Transport => "transport", Other => "other" }
}

/// The need category of a bill.
pub fn bill_need_category(category: BillCategory) -> NeedCategory {
    match category {
        BillCategory::Rent => NeedCategory::Housing,
        BillCategory::Electricity
        | BillCategory::Water
        | BillCategory::Gas
        | BillCategory::Internet
        | BillCategory::Phone => NeedCategory::Utilities,
        BillCategory::Medical => NeedCategory::Medical,
        BillCategory::Transport => NeedCategory::Transport,
        BillCategory::Other => NeedCategory::Other,
    }
}

/// Lead time of bill and manual needs.
pub const MONEY_NEED_LEAD_DAYS: i64 = 3;

/// Everything a need shows, computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// Goods still to get (thousandths), item needs only.
    pub quantity: Option<i64>,
    /// Money amounts in minor units; `None` for in-kind-only needs.
    pub amount_needed: Option<i64>,
    pub amount_covered: Option<i64>,
    pub amount_open: Option<i64>,
    pub status: NeedStatus,
    pub criticality: Criticality,
    pub days_left: Option<DaysLeft>,
    /// Score in tenths (0..=1000).
    pub score: i64,
    pub band: Band,
    pub drivers: Vec<Driver>,
}

/// `quantity × unit cost`, rounded half up to the minor unit.
pub fn cost_of(quantity: i64, unit_cost: i64) -> i64 {
    div_round_half_up(i128::from(quantity) * i128::from(unit_cost), 1000) as i64
}

/// What the engine knows of an item and its stock (quantities in thousandths, money minor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemInputs {
    pub criticality: Criticality,
    pub basis: Basis,
    pub lead_days: i64,
    pub occupied: i64,
    pub per_person: Option<i64>,
    pub levels: Levels,
    /// On hand `H`.
    pub on_hand: i64,
    /// Bought and not yet received `P`.
    pub incoming: i64,
    /// Pledged in kind, not yet received `K`.
    pub pledged: i64,
    /// Money allocated to the need and not yet spent `A`.
    pub allocated: i64,
    pub unit_cost: Option<i64>,
}

/// Whether a tracked item should open a need now (it has no live need and is not suppressed).
pub fn item_opens_need(i: &ItemInputs) -> bool {
    i.on_hand + i.incoming + i.pledged < i.levels.reorder_point
}

/// Days left for an item: consumable `H / D`; durable 0 when short of `p × O`.
fn item_days_left(i: &ItemInputs) -> Option<DaysLeft> {
    match i.basis {
        Basis::Consumable => (i.levels.daily_demand > 0).then(|| DaysLeft {
            num: i128::from(i.on_hand),
            den: i128::from(i.levels.daily_demand),
        }),
        Basis::Durable => {
            let needed = i.levels.norm_demand.unwrap_or(0);
            (i.on_hand < needed).then(|| DaysLeft::whole(0))
        }
    }
}

/// Status from what is covered: money needs by amount, in-kind-only needs by quantity.
fn coverage_status(covered: i64, open: i64) -> NeedStatus {
    if open == 0 {
        NeedStatus::Funded
    } else if covered > 0 {
        NeedStatus::PartiallyFunded
    } else {
        NeedStatus::Open
    }
}

/// The current figures of an item need.
pub fn evaluate_item(i: &ItemInputs) -> Evaluation {
    let quantity = (i.levels.target - i.on_hand - i.incoming).max(0);
    let days_left = item_days_left(i);
    let fulfilled = i.on_hand >= i.levels.target;
    let (amount_needed, amount_covered, amount_open, gap, mut status) = match i.unit_cost {
        Some(u) => {
            let needed = cost_of(quantity, u);
            let covered = i.allocated + cost_of(i.pledged, u);
            let open = (needed - covered).max(0);
            (
                Some(needed),
                Some(covered),
                Some(open),
                Ratio::clamped(i128::from(open), i128::from(needed)),
                coverage_status(covered, open),
            )
        }
        None => {
            let short = (quantity - i.pledged).max(0);
            let status = coverage_status(i.pledged, short);
            (
                None,
                None,
                None,
                Ratio::clamped(i128::from(short), i128::from(quantity)),
                status,
            )
        }
    };
    if fulfilled {
        status = NeedStatus::Fulfilled;
    }
    let still_open = !fulfilled && gap.num > 0;
    let u = urgency(days_left, i.lead_days);
    let score = score_tenths(i.criticality, u, gap);
    let mut drivers = Vec::new();
    match i.levels.source {
        DemandSource::Norm if i.basis == Basis::Consumable => drivers.push(Driver::NormDemand {
            people: i.occupied,
            per_person: i.per_person.unwrap_or(0),
            daily: i.levels.daily_demand,
        }),
        DemandSource::Observed => drivers.push(Driver::ObservedDemand {
            daily: i.levels.daily_demand,
        }),
        _ => {}
    }
    if i.basis == Basis::Durable {
        drivers.push(Driver::PerPersonStock {
            people: i.occupied,
            needed: i.levels.norm_demand.unwrap_or(0),
            on_hand: i.on_hand,
        });
    }
    if let Some(d) = days_left.filter(|_| i.basis == Basis::Consumable) {
        drivers.push(Driver::DaysLeft {
            thousandths: d.thousandths(),
        });
    }
    drivers.push(Driver::LeadTime { days: i.lead_days });
    drivers.push(Driver::BelowReorderPoint {
        on_hand: i.on_hand,
        reorder_point: i.levels.reorder_point,
        target: i.levels.target,
    });
    if i.unit_cost.is_none() {
        drivers.push(Driver::InKindOnly);
    }
    drivers.push(Driver::Criticality(i.criticality));
    Evaluation {
        quantity: Some(quantity),
        amount_needed,
        amount_covered,
        amount_open,
        status,
        criticality: i.criticality,
        days_left,
        score,
        band: band(i.criticality, days_left, i.lead_days, still_open, score),
        drivers,
    }
}

/// A money need (bill or manual): what is still needed, covered by allocations.
fn evaluate_money(
    criticality: Criticality,
    needed: i64,
    allocated: i64,
    days_left: Option<DaysLeft>,
    mut drivers: Vec<Driver>,
) -> Evaluation {
    let needed = needed.max(0);
    let open = (needed - allocated).max(0);
    let status = if needed == 0 {
        NeedStatus::Fulfilled
    } else {
        coverage_status(allocated, open)
    };
    let gap = Ratio::clamped(i128::from(open), i128::from(needed));
    let u = urgency(days_left, MONEY_NEED_LEAD_DAYS);
    let score = score_tenths(criticality, u, gap);
    drivers.push(Driver::Criticality(criticality));
    Evaluation {
        quantity: None,
        amount_needed: Some(needed),
        amount_covered: Some(allocated),
        amount_open: Some(open),
        status,
        criticality,
        days_left,
        score,
        band: band(
            criticality,
            days_left,
            MONEY_NEED_LEAD_DAYS,
            open > 0,
            score,
        ),
        drivers,
    }
}

/// A bill's need: the unpaid amount, due on `due_on`.
pub fn evaluate_bill(
    category: BillCategory,
    amount: i64,
    paid: i64,
    allocated: i64,
    due_on: NaiveDate,
    today: NaiveDate,
) -> Evaluation {
    let days = (due_on - today).num_days();
    let driver = if days < 0 {
        Driver::Overdue { days: -days }
    } else {
        Driver::DueIn { days }
    };
    evaluate_money(
        bill_criticality(category),
        amount - paid,
        allocated,
        Some(DaysLeft::whole(days)),
        vec![driver],
    )
}

/// A manual need: the amount entered less what was spent on it.
pub fn evaluate_manual(
    criticality: Criticality,
    amount: i64,
    spent: i64,
    allocated: i64,
    needed_by: Option<NaiveDate>,
    today: NaiveDate,
) -> Evaluation {
    let days = needed_by.map(|d| (d - today).num_days());
    let drivers = days
        .map(|days| vec![Driver::NeededBy { days }])
        .unwrap_or_default();
    evaluate_money(
        criticality,
        amount - spent,
        allocated,
        days.map(DaysLeft::whole),
        drivers,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::demand::{levels, ItemParams};

    fn rice(on_hand: i64, unit_cost: Option<i64>) -> ItemInputs {
        let params = ItemParams {
            basis: Basis::Consumable,
            per_person: Some(400_000),
            reorder_days: 7,
            target_days: 14,
            min_quantity: 0,
            target_quantity: 0,
        };
        ItemInputs {
            criticality: Criticality::Essential,
            basis: Basis::Consumable,
            lead_days: 3,
            occupied: 40,
            per_person: Some(400_000),
            levels: levels(&params, 40, None),
            on_hand,
            incoming: 0,
            pledged: 0,
            allocated: 0,
            unit_cost,
        }
    }

    #[test]
    fn worked_example_need() {
        let i = rice(50_000, Some(2_500));
        assert!(item_opens_need(&i));
        let e = evaluate_item(&i);
        assert_eq!(e.quantity, Some(174_000));
        assert_eq!(
            (e.amount_needed, e.amount_covered, e.amount_open),
            (Some(435_000), Some(0), Some(435_000))
        );
        assert_eq!(e.days_left.map(DaysLeft::thousandths), Some(3_125));
        assert_eq!(
            (e.score, e.band, e.status),
            (799, Band::High, NeedStatus::Open)
        );
    }

    #[test]
    fn worked_example_after_the_donation_and_the_expense() {
        // 100.00 USD at 17.25 = 1725.00 MXN allocated: 2625.00 open, partially funded.
        let mut i = rice(50_000, Some(2_500));
        i.allocated = 172_500;
        let e = evaluate_item(&i);
        assert_eq!(
            (e.amount_open, e.status),
            (Some(262_500), NeedStatus::PartiallyFunded)
        );
        // 1000.00 MXN spent on 40 kg received: H = 90, A = 725.00.
        i.on_hand = 90_000;
        i.allocated = 72_500;
        let e = evaluate_item(&i);
        assert_eq!(
            (e.quantity, e.amount_needed, e.amount_open),
            (Some(134_000), Some(335_000), Some(262_500))
        );
    }

    #[test]
    fn an_item_without_cost_is_covered_in_kind_only() {
        let mut i = rice(50_000, None);
        let e = evaluate_item(&i);
        assert_eq!(
            (e.amount_needed, e.amount_open, e.status),
            (None, None, NeedStatus::Open)
        );
        i.pledged = 100_000;
        assert_eq!(evaluate_item(&i).status, NeedStatus::PartiallyFunded);
        i.pledged = 174_000;
        let e = evaluate_item(&i);
        assert_eq!(e.status, NeedStatus::Funded);
        assert!(e.drivers.contains(&Driver::InKindOnly));
    }

    #[test]
    fn reaching_the_target_fulfils_and_stock_above_reorder_opens_nothing() {
        assert_eq!(
            evaluate_item(&rice(224_000, Some(2_500))).status,
            NeedStatus::Fulfilled
        );
        assert!(!item_opens_need(&rice(112_000, Some(2_500))));
        assert!(item_opens_need(&rice(111_999, Some(2_500))));
    }

    #[test]
    fn bills_overdue_and_due_soon() {
        let today: NaiveDate = "2026-11-28".parse().expect("date");
        let overdue = evaluate_bill(
            BillCategory::Electricity,
            120_000,
            0,
            0,
            "2026-11-25".parse().expect("date"),
            today,
        );
        assert_eq!(
            (overdue.band, overdue.status, overdue.amount_open),
            (Band::Critical, NeedStatus::Open, Some(120_000))
        );
        assert_eq!(overdue.days_left, Some(DaysLeft::whole(-3)));
        assert_eq!(overdue.score, 1000);
        let soon = evaluate_bill(
            BillCategory::Internet,
            50_000,
            10_000,
            0,
            "2026-12-08".parse().expect("date"),
            today,
        );
        // essential 0.6, U = 1 − 7/30, G = 1: 30 + 23 + 20 = 73.0 → high.
        assert_eq!(
            (soon.amount_needed, soon.score, soon.band),
            (Some(40_000), 730, Band::High)
        );
        let paid = evaluate_bill(BillCategory::Rent, 900_000, 900_000, 0, today, today);
        assert_eq!(paid.status, NeedStatus::Fulfilled);
    }

    #[test]
    fn manual_needs_count_down_what_was_spent() {
        let today: NaiveDate = "2026-11-28".parse().expect("date");
        let e = evaluate_manual(
            Criticality::Essential,
            500_000,
            200_000,
            100_000,
            None,
            today,
        );
        assert_eq!(
            (e.amount_needed, e.amount_open, e.status),
            (Some(300_000), Some(200_000), NeedStatus::PartiallyFunded)
        );
        assert_eq!(
            evaluate_manual(Criticality::Essential, 500_000, 500_000, 0, None, today).status,
            NeedStatus::Fulfilled
        );
    }

    #[test]
    fn durable_items_are_due_now_when_short_of_one_per_person() {
        let params = ItemParams {
            basis: Basis::Durable,
            per_person: Some(1_000_000),
            reorder_days: 7,
            target_days: 14,
            min_quantity: 0,
            target_quantity: 0,
        };
        let mats = ItemInputs {
            criticality: Criticality::Vital,
            basis: Basis::Durable,
            per_person: Some(1_000_000),
            levels: levels(&params, 41, None),
            occupied: 41,
            on_hand: 30_000,
            ..rice(0, Some(15_000))
        };
        let e = evaluate_item(&mats);
        // T = ceil(41 × 1.1) = 46: 16 mats to buy; none left per person: critical.
        assert_eq!((e.quantity, e.band), (Some(16_000), Band::Critical));
        assert_eq!(e.days_left, Some(DaysLeft::whole(0)));
    }
}
