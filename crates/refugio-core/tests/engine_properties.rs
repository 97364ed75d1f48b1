//! Properties of the needs engine (ENGINE.md "Demand", "Targets", "Needs", "Priority") over
//! generated inputs: scores stay in range, the board order is a total order, amounts stay
//! between 0 and what is needed, more stock never asks for more, observed demand behaves, the
//! critical band means what it says, and the same inputs always give the same answer.

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use refugio_core::engine::board::BoardKey;
use refugio_core::engine::demand::{levels, observed_demand, DatedMovement, ItemParams, Levels};
use refugio_core::engine::needs::{
    evaluate_bill, evaluate_item, evaluate_manual, Evaluation, ItemInputs, NeedStatus,
    MONEY_NEED_LEAD_DAYS,
};
use refugio_core::engine::priority::{bill_criticality, Band};
use refugio_core::inventory::{Basis, BillCategory, Criticality, MovementKind};
use std::cmp::Ordering;

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

fn base_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).expect("a valid date")
}

/// A "today" somewhere in two years, so month and year ends are crossed.
fn today() -> impl Strategy<Value = NaiveDate> {
    (0i64..730).prop_map(|d| base_date() + Duration::days(d))
}

fn criticality() -> impl Strategy<Value = Criticality> {
    prop::sample::select(Criticality::ALL)
}

fn basis() -> impl Strategy<Value = Basis> {
    prop::sample::select(Basis::ALL)
}

fn bill_category() -> impl Strategy<Value = BillCategory> {
    prop::sample::select(BillCategory::ALL)
}

/// Per-person norm in millionths (up to 20 units per person), or unset.
fn per_person() -> impl Strategy<Value = Option<i64>> {
    prop::option::of(0i64..20_000_000)
}

/// Minimum and target quantities: often 0 (the default), sometimes large.
fn min_or_target_quantity() -> impl Strategy<Value = i64> {
    prop_oneof![2 => Just(0i64), 3 => 0i64..1_000_000_000]
}

fn item_params() -> impl Strategy<Value = ItemParams> {
    (
        basis(),
        per_person(),
        0i64..60,
        0i64..60,
        min_or_target_quantity(),
        min_or_target_quantity(),
    )
        .prop_map(
            |(basis, per_person, reorder_days, target_days, min_quantity, target_quantity)| {
                ItemParams {
                    basis,
                    per_person,
                    reorder_days,
                    target_days,
                    min_quantity,
                    target_quantity,
                }
            },
        )
}

/// Observed daily use in thousandths, or unset.
fn observed() -> impl Strategy<Value = Option<i64>> {
    prop::option::of(0i64..100_000_000)
}

/// Stock quantities in thousandths: often 0, otherwise anywhere up to 10^6 units.
fn stock() -> impl Strategy<Value = i64> {
    prop_oneof![1 => Just(0i64), 4 => 0i64..1_000_000_000]
}

/// Unit cost in minor units, or unset (in-kind only).
fn unit_cost() -> impl Strategy<Value = Option<i64>> {
    prop::option::of(1i64..10_000_000)
}

fn allocated() -> impl Strategy<Value = i64> {
    prop_oneof![1 => Just(0i64), 3 => 0i64..10_000_000_000]
}

/// Everything `evaluate_item` reads, with `levels` computed the way the service does.
#[derive(Debug, Clone)]
struct ItemCase {
    params: ItemParams,
    observed: Option<i64>,
    inputs: ItemInputs,
}

fn item_case() -> impl Strategy<Value = ItemCase> {
    (
        item_params(),
        observed(),
        0i64..2000,
        criticality(),
        0i64..30,
        (stock(), stock(), stock()),
        allocated(),
        unit_cost(),
    )
        .prop_map(
            |(params, observed, occupied, criticality, lead_days, (h, p, k), a, u)| {
                let levels = levels(&params, occupied, observed);
                ItemCase {
                    params,
                    observed,
                    inputs: ItemInputs {
                        criticality,
                        basis: params.basis,
                        lead_days,
                        occupied,
                        per_person: params.per_person,
                        levels,
                        on_hand: h,
                        incoming: p,
                        pledged: k,
                        allocated: a,
                        unit_cost: u,
                    },
                }
            },
        )
}

/// A random ledger for one item: `(first movement date, today, movements in recording order)`.
///
/// Each day from the first movement to today has 0–5 movements of every kind; counts carry a
/// signed difference (a count that finds less stock is use). `recorded_in_date_order` false
/// shuffles the rows, as back-dated entries would.
#[derive(Debug, Clone)]
struct History {
    first: NaiveDate,
    today: NaiveDate,
    movements: Vec<DatedMovement>,
}

fn movement_kind() -> impl Strategy<Value = MovementKind> {
    prop_oneof![
        1 => Just(MovementKind::Receipt),
        4 => Just(MovementKind::Consumption),
        1 => Just(MovementKind::Waste),
        1 => Just(MovementKind::Adjustment),
        2 => Just(MovementKind::Count),
    ]
}

fn history() -> impl Strategy<Value = History> {
    (
        today(),
        // First movement from 60 days ago to 2 days in the future (a clock skew or back-dating).
        -2i64..60,
        prop::collection::vec(
            (0i64..62, movement_kind(), -100_000_000i64..100_000_000),
            0..150,
        ),
        any::<bool>(),
    )
        .prop_map(|(today, age, rows, date_order)| {
            let first = today - Duration::days(age);
            let span = age.max(0) + 1;
            let mut movements: Vec<DatedMovement> = rows
                .into_iter()
                .map(|(offset, kind, magnitude)| {
                    let delta = match kind {
                        MovementKind::Receipt => magnitude.abs(),
                        MovementKind::Consumption | MovementKind::Waste => -magnitude.abs(),
                        MovementKind::Adjustment | MovementKind::Count => magnitude,
                    };
                    DatedMovement {
                        date: first + Duration::days(offset % span),
                        kind,
                        delta,
                    }
                })
                .collect();
            if date_order {
                movements.sort_by_key(|m| m.date);
            }
            History {
                first,
                today,
                movements,
            }
        })
}

/// Dates in the observed-demand window, counted independently of the engine.
fn window_dates(first: NaiveDate, today: NaiveDate) -> i64 {
    let start = first.max(today - Duration::days(28));
    let yesterday = today - Duration::days(1);
    (yesterday - start).num_days() + 1
}

// ---------------------------------------------------------------------------------------------
// Independent checks
// ---------------------------------------------------------------------------------------------

/// `C` in tenths, from ENGINE.md.
fn c_tenths(c: Criticality) -> i64 {
    match c {
        Criticality::Vital => 10,
        Criticality::Essential => 6,
        Criticality::Desirable => 2,
    }
}

/// The score is in [0, 100.0] and, since U and G are in [0, 1], between `50 C` and `50 C + 50`.
fn assert_score_in_range(e: &Evaluation) -> Result<(), TestCaseError> {
    prop_assert!(
        (0..=1000).contains(&e.score),
        "score {} out of [0, 1000]",
        e.score
    );
    let floor = 50 * c_tenths(e.criticality);
    prop_assert!(
        (floor..=floor + 500).contains(&e.score),
        "score {} outside [{}, {}] for {:?}",
        e.score,
        floor,
        floor + 500,
        e.criticality
    );
    Ok(())
}

/// `0 ≤ amount_open ≤ amount_needed`, `amount_covered ≥ 0`, all set together.
fn assert_money_amounts(e: &Evaluation) -> Result<(), TestCaseError> {
    let (Some(needed), Some(covered), Some(open)) =
        (e.amount_needed, e.amount_covered, e.amount_open)
    else {
        return Err(TestCaseError::fail(format!(
            "a money need has all three amounts: {e:?}"
        )));
    };
    prop_assert!(needed >= 0, "amount_needed {needed} < 0");
    prop_assert!(covered >= 0, "amount_covered {covered} < 0");
    prop_assert!(open >= 0, "amount_open {open} < 0");
    prop_assert!(
        open <= needed,
        "amount_open {open} > amount_needed {needed}"
    );
    Ok(())
}

/// Something is still open on an item need: not fulfilled, and money or goods still missing.
fn item_something_open(i: &ItemInputs, e: &Evaluation) -> bool {
    let quantity = e.quantity.unwrap_or(0);
    let missing = match i.unit_cost {
        Some(_) => e.amount_open.unwrap_or(0) > 0,
        None => quantity - i.pledged > 0,
    };
    i.on_hand < i.levels.target && missing
}

/// Whether the item's days left are within its lead time, from the inputs (ENGINE.md "Priority").
fn item_due(i: &ItemInputs) -> bool {
    match i.basis {
        Basis::Consumable => {
            let d = i.levels.daily_demand;
            // H / D ≤ L  ⇔  H ≤ L·D (D > 0); no days left when D = 0.
            d > 0 && i128::from(i.on_hand) <= i128::from(i.lead_days) * i128::from(d)
        }
        // Durable: 0 days left when short of p × O, else none; 0 ≤ L always.
        Basis::Durable => i.on_hand < i.levels.norm_demand.unwrap_or(0),
    }
}

fn board_key() -> impl Strategy<Value = BoardKey> {
    // Small domains so that ties on every key happen often.
    (
        prop::sample::select(Band::ALL.to_vec()),
        prop_oneof![
            prop::sample::select(vec![0i64, 100, 400, 700, 799, 1000]),
            0i64..=1000
        ],
        prop::sample::select(vec![
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:01Z",
            "2026-03-15T12:00:00Z",
            "2027-01-01T00:00:00Z",
        ]),
        prop::sample::select(vec!["a", "b", "c", "01J0000000", "01J0000001", "z"]),
    )
        .prop_map(|(band, score, opened_at, id)| BoardKey {
            band,
            score,
            opened_at: opened_at.to_owned(),
            id: id.to_owned(),
        })
}

/// The board order written out as a tuple, independently of `BoardKey::cmp`.
fn reference_order(k: &BoardKey) -> (i64, i64, String, String) {
    let band = match k.band {
        Band::Critical => 0,
        Band::High => 1,
        Band::Medium => 2,
        Band::Low => 3,
    };
    (band, -k.score, k.opened_at.clone(), k.id.clone())
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    // --- score in [0, 100.0] -----------------------------------------------------------------

    #[test]
    fn item_score_is_between_0_and_100(case in item_case()) {
        let e = evaluate_item(&case.inputs);
        assert_score_in_range(&e)?;
    }

    #[test]
    fn bill_score_is_between_0_and_100(
        category in bill_category(),
        amount in 0i64..10_000_000_000,
        paid in 0i64..10_000_000_000,
        allocated in allocated(),
        due in -400i64..400,
        today in today(),
    ) {
        let e = evaluate_bill(category, amount, paid, allocated, today + Duration::days(due), today);
        prop_assert_eq!(e.criticality, bill_criticality(category));
        assert_score_in_range(&e)?;
    }

    #[test]
    fn manual_score_is_between_0_and_100(
        criticality in criticality(),
        amount in 0i64..10_000_000_000,
        spent in 0i64..10_000_000_000,
        allocated in allocated(),
        needed_by in prop::option::of(-400i64..400),
        today in today(),
    ) {
        let by = needed_by.map(|d| today + Duration::days(d));
        let e = evaluate_manual(criticality, amount, spent, allocated, by, today);
        assert_score_in_range(&e)?;
    }

    // --- board order is total and deterministic ---------------------------------------------

    #[test]
    fn board_order_is_the_same_from_any_permutation(
        (keys, shuffled) in prop::collection::vec(board_key(), 0..40)
            .prop_flat_map(|keys| (Just(keys.clone()), Just(keys).prop_shuffle())),
    ) {
        let mut a = keys;
        let mut b = shuffled;
        a.sort();
        b.sort();
        prop_assert_eq!(&a, &b);
        // …and it is the documented order: band, score descending, opened_at, id.
        let mut c = a.clone();
        c.sort_by_key(reference_order);
        prop_assert_eq!(&a, &c);
        // Unstable sorts agree too (there are no distinct-but-equal keys to reorder).
        b.sort_unstable();
        prop_assert_eq!(&a, &b);
    }

    #[test]
    fn board_order_is_a_total_order(a in board_key(), b in board_key(), c in board_key()) {
        // Antisymmetry, and equality means the same key.
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        prop_assert_eq!(a.cmp(&b) == Ordering::Equal, a == b);
        prop_assert_eq!(a.partial_cmp(&b), Some(a.cmp(&b)));
        prop_assert_eq!(a.cmp(&a), Ordering::Equal);
        // Agrees with the reference tuple order.
        prop_assert_eq!(a.cmp(&b), reference_order(&a).cmp(&reference_order(&b)));
        // Transitivity on every arrangement of the triple.
        for (x, y, z) in [(&a, &b, &c), (&a, &c, &b), (&b, &a, &c), (&b, &c, &a), (&c, &a, &b), (&c, &b, &a)] {
            if x <= y && y <= z {
                prop_assert!(x <= z, "{x:?} <= {y:?} <= {z:?} but not {x:?} <= {z:?}");
            }
            if x < y && y < z {
                prop_assert!(x < z);
            }
        }
    }

    // --- amounts stay between 0 and what is needed -------------------------------------------

    #[test]
    fn item_amounts_stay_between_zero_and_needed(case in item_case()) {
        let i = &case.inputs;
        let e = evaluate_item(i);
        let quantity = e.quantity.expect("item needs have a quantity");
        prop_assert!(quantity >= 0);
        match i.unit_cost {
            Some(_) => assert_money_amounts(&e)?,
            None => {
                prop_assert_eq!(
                    (e.amount_needed, e.amount_covered, e.amount_open),
                    (None, None, None),
                    "in-kind-only needs have no amounts"
                );
            }
        }
    }

    #[test]
    fn bill_amounts_stay_between_zero_and_needed(
        category in bill_category(),
        amount in 0i64..10_000_000_000,
        paid in 0i64..10_000_000_000,
        allocated in allocated(),
        due in -60i64..60,
        today in today(),
    ) {
        let e = evaluate_bill(category, amount, paid, allocated, today + Duration::days(due), today);
        assert_money_amounts(&e)?;
        prop_assert_eq!(e.quantity, None);
    }

    #[test]
    fn manual_amounts_stay_between_zero_and_needed(
        criticality in criticality(),
        amount in 0i64..10_000_000_000,
        spent in 0i64..10_000_000_000,
        allocated in allocated(),
        needed_by in prop::option::of(-60i64..60),
        today in today(),
    ) {
        let by = needed_by.map(|d| today + Duration::days(d));
        let e = evaluate_manual(criticality, amount, spent, allocated, by, today);
        assert_money_amounts(&e)?;
        prop_assert_eq!(e.quantity, None);
    }

    #[test]
    fn item_quantity_and_amounts_follow_the_formulas(case in item_case()) {
        // quantity = max(0, T − H − P); amount_needed = quantity × u rounded half up to the
        // minor unit; amount_covered = A + K × u (ENGINE.md "Needs").
        let i = &case.inputs;
        let e = evaluate_item(i);
        let quantity = (i.levels.target - i.on_hand - i.incoming).max(0);
        prop_assert_eq!(e.quantity, Some(quantity));
        if let Some(u) = i.unit_cost {
            let cost = |q: i64| (i128::from(q) * i128::from(u) + 500).div_euclid(1000);
            let needed = cost(quantity);
            let covered = i128::from(i.allocated) + cost(i.pledged);
            prop_assert_eq!(e.amount_needed.map(i128::from), Some(needed));
            prop_assert_eq!(e.amount_covered.map(i128::from), Some(covered));
            prop_assert_eq!(e.amount_open.map(i128::from), Some((needed - covered).max(0)));
        }
    }

    // --- more stock never raises the quantity; target never below the reorder point ----------

    #[test]
    fn more_stock_on_hand_never_raises_the_quantity(
        case in item_case(),
        extra in 0i64..1_000_000_000,
    ) {
        let less = evaluate_item(&case.inputs);
        let more_inputs = ItemInputs { on_hand: case.inputs.on_hand + extra, ..case.inputs };
        let more = evaluate_item(&more_inputs);
        prop_assert!(
            more.quantity <= less.quantity,
            "on hand {} → {}: quantity {:?} → {:?}",
            case.inputs.on_hand, more_inputs.on_hand, less.quantity, more.quantity
        );
        // Stronger, and implied by ENGINE.md: neither the money still open nor the score rise.
        prop_assert!(more.amount_open <= less.amount_open);
        prop_assert!(more.score <= less.score, "score {} → {}", less.score, more.score);
    }

    #[test]
    fn more_stock_incoming_never_raises_the_quantity(
        case in item_case(),
        extra in 0i64..1_000_000_000,
    ) {
        let less = evaluate_item(&case.inputs);
        let more_inputs = ItemInputs { incoming: case.inputs.incoming + extra, ..case.inputs };
        let more = evaluate_item(&more_inputs);
        prop_assert!(
            more.quantity <= less.quantity,
            "incoming {} → {}: quantity {:?} → {:?}",
            case.inputs.incoming, more_inputs.incoming, less.quantity, more.quantity
        );
        prop_assert!(more.amount_open <= less.amount_open);
        prop_assert!(more.score <= less.score, "score {} → {}", less.score, more.score);
    }

    #[test]
    fn target_is_never_below_the_reorder_point(
        params in item_params(),
        occupied in 0i64..2000,
        observed in observed(),
    ) {
        let l: Levels = levels(&params, occupied, observed);
        prop_assert!(l.target >= l.reorder_point, "{l:?}");
        prop_assert!(l.reorder_point >= params.min_quantity);
        prop_assert!(l.target >= params.target_quantity);
        prop_assert!(l.daily_demand >= 0);
    }

    // --- observed demand ---------------------------------------------------------------------

    #[test]
    fn observed_demand_needs_seven_window_dates_and_is_never_negative(h in history()) {
        let d = observed_demand(h.first, h.first, h.today, &h.movements);
        let dates = window_dates(h.first, h.today);
        prop_assert_eq!(d.is_none(), dates < 7, "window of {} dates gave {:?}", dates, d);
        if let Some(d) = d {
            prop_assert!(d >= 0, "observed demand {d} < 0");
        }
    }

    #[test]
    fn observed_demand_scales_with_use(h in history(), factor in 1i64..50) {
        let scaled: Vec<DatedMovement> = h
            .movements
            .iter()
            .map(|m| DatedMovement { delta: m.delta * factor, ..*m })
            .collect();
        let one = observed_demand(h.first, h.first, h.today, &h.movements);
        let many = observed_demand(h.first, h.first, h.today, &scaled);
        match (one, many) {
            (None, None) => {}
            (Some(one), Some(many)) => {
                let diff = (many - one * factor).abs();
                prop_assert!(
                    diff <= factor,
                    "D_obs = {} × {} = {}, but scaled use gives {} (off by {})",
                    one, factor, one * factor, many, diff
                );
            }
            other => prop_assert!(false, "set-ness differs after scaling: {:?}", other),
        }
    }

    #[test]
    fn observed_demand_is_zero_without_use(h in history()) {
        // Receipts, adjustments and counts that find more add no use.
        let no_use: Vec<DatedMovement> = h
            .movements
            .iter()
            .filter(|m| {
                matches!(m.kind, MovementKind::Receipt | MovementKind::Adjustment)
                    || (m.kind == MovementKind::Count && m.delta >= 0)
            })
            .copied()
            .collect();
        if let Some(d) = observed_demand(h.first, h.first, h.today, &no_use) {
            prop_assert_eq!(d, 0);
        }
    }

    // --- the critical band --------------------------------------------------------------------

    #[test]
    fn item_band_is_critical_exactly_when_vital_due_and_open(case in item_case()) {
        let i = &case.inputs;
        let e = evaluate_item(i);
        let expected = i.criticality == Criticality::Vital && item_due(i) && item_something_open(i, &e);
        if e.band == Band::Critical {
            prop_assert_eq!(i.criticality, Criticality::Vital, "critical but not vital");
            prop_assert!(item_due(i), "critical but days left beyond the lead time: {:?}", e.days_left);
            prop_assert!(item_something_open(i, &e), "critical with nothing open: {:?}", e);
        }
        prop_assert_eq!(e.band == Band::Critical, expected, "{:?}", e);
        if e.band != Band::Critical {
            let by_score = if e.score >= 700 { Band::High } else if e.score >= 400 { Band::Medium } else { Band::Low };
            prop_assert_eq!(e.band, by_score);
        }
    }

    #[test]
    fn bill_band_is_critical_exactly_when_vital_due_and_open(
        category in bill_category(),
        amount in 0i64..10_000_000,
        paid in 0i64..10_000_000,
        allocated in prop_oneof![Just(0i64), 0i64..10_000_000],
        due in -60i64..60,
        today in today(),
    ) {
        let e = evaluate_bill(category, amount, paid, allocated, today + Duration::days(due), today);
        let open = e.amount_open.unwrap_or(0) > 0;
        let expected = bill_criticality(category) == Criticality::Vital && due <= MONEY_NEED_LEAD_DAYS && open;
        prop_assert_eq!(e.band == Band::Critical, expected, "{:?}", e);
    }

    #[test]
    fn manual_band_is_critical_exactly_when_vital_due_and_open(
        criticality in criticality(),
        amount in 0i64..10_000_000,
        spent in 0i64..10_000_000,
        allocated in prop_oneof![Just(0i64), 0i64..10_000_000],
        needed_by in prop::option::of(-60i64..60),
        today in today(),
    ) {
        let by = needed_by.map(|d| today + Duration::days(d));
        let e = evaluate_manual(criticality, amount, spent, allocated, by, today);
        let open = e.amount_open.unwrap_or(0) > 0;
        let due = needed_by.is_some_and(|d| d <= MONEY_NEED_LEAD_DAYS);
        let expected = criticality == Criticality::Vital && due && open;
        prop_assert_eq!(e.band == Band::Critical, expected, "{:?}", e);
    }

    // --- status follows the amounts ------------------------------------------------------------

    #[test]
    fn item_status_follows_coverage(case in item_case()) {
        let i = &case.inputs;
        let e = evaluate_item(i);
        let expected = if i.on_hand >= i.levels.target {
            NeedStatus::Fulfilled
        } else {
            let (covered, open) = match (e.amount_covered, e.amount_open) {
                (Some(c), Some(o)) => (c, o),
                _ => (i.pledged, (e.quantity.unwrap_or(0) - i.pledged).max(0)),
            };
            if open == 0 {
                NeedStatus::Funded
            } else if covered > 0 {
                NeedStatus::PartiallyFunded
            } else {
                NeedStatus::Open
            }
        };
        prop_assert_eq!(e.status, expected);
    }

    // --- determinism --------------------------------------------------------------------------

    #[test]
    fn the_whole_pipeline_is_deterministic(
        h in history(),
        case in item_case(),
    ) {
        let run = || {
            let d = observed_demand(h.first, h.first, h.today, &h.movements);
            let l = levels(&case.params, case.inputs.occupied, d);
            let e = evaluate_item(&ItemInputs { levels: l, ..case.inputs });
            (d, l, e)
        };
        let first = run();
        let second = run();
        prop_assert_eq!(&first, &second);
        // The pipeline's result obeys the same invariants as any item.
        let (_, l, e) = first;
        prop_assert!(l.target >= l.reorder_point);
        assert_score_in_range(&e)?;
        if case.inputs.unit_cost.is_some() {
            assert_money_amounts(&e)?;
        }
    }

    #[test]
    fn evaluations_are_deterministic(
        case in item_case(),
        category in bill_category(),
        criticality in criticality(),
        amount in 0i64..10_000_000_000,
        paid in 0i64..10_000_000_000,
        allocated in allocated(),
        due in prop::option::of(-60i64..60),
        today in today(),
    ) {
        prop_assert_eq!(evaluate_item(&case.inputs), evaluate_item(&case.inputs));
        let by = due.map(|d| today + Duration::days(d));
        let due_on = by.unwrap_or(today);
        prop_assert_eq!(
            evaluate_bill(category, amount, paid, allocated, due_on, today),
            evaluate_bill(category, amount, paid, allocated, due_on, today)
        );
        prop_assert_eq!(
            evaluate_manual(criticality, amount, paid, allocated, by, today),
            evaluate_manual(criticality, amount, paid, allocated, by, today)
        );
        // Levels are a function of their inputs alone.
        prop_assert_eq!(
            levels(&case.params, case.inputs.occupied, case.observed),
            case.inputs.levels
        );
    }
}

/// The ENGINE.md worked example, through the same path the properties take.
#[test]
fn worked_example_through_the_pipeline() {
    let params = ItemParams {
        basis: Basis::Consumable,
        per_person: Some(400_000),
        reorder_days: 7,
        target_days: 14,
        min_quantity: 0,
        target_quantity: 0,
    };
    let l = levels(&params, 40, None);
    let e = evaluate_item(&ItemInputs {
        criticality: Criticality::Essential,
        basis: Basis::Consumable,
        lead_days: 3,
        occupied: 40,
        per_person: Some(400_000),
        levels: l,
        on_hand: 50_000,
        incoming: 0,
        pledged: 0,
        allocated: 0,
        unit_cost: Some(2_500),
    });
    assert_eq!(
        (l.daily_demand, l.reorder_point, l.target),
        (16_000, 112_000, 224_000)
    );
    assert_eq!(e.quantity, Some(174_000));
    assert_eq!(e.amount_needed, Some(435_000));
    assert_eq!((e.score, e.band), (799, Band::High));
}
