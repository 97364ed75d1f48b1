//! Criterion benchmarks of the needs engine (issue 4, "Benchmark"); results in docs/benchmarks.md.
//!
//! - `shelter_500_items_90d/recompute`: one shelter, 500 items with 90 days of ledger each
//!   (3–5 movements a day and a weekly count): `observed_demand`, `levels`, `evaluate_item` for
//!   every item. Target < 5 ms. The `only_*` benches time each step alone, to say where the
//!   time goes; `only_observed_demand_trimmed` passes only the ledger from the latest count
//!   before the window, as the service may.
//! - `platform_1000x200_30d/recompute`: 1,000 shelters × 200 items with 30 days of ledger each,
//!   on one core. Target < 1 s.
//! - `micro/*`: one item, one bill and one manual need.
//!
//! Inputs are generated once, outside the timed loops, from a fixed seed.
//! Run: `cargo bench -p refugio-core --bench engine`.

use chrono::{Duration, NaiveDate};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use refugio_core::engine::demand::{
    levels, observed_demand, DatedMovement, ItemParams, MAX_WINDOW_DAYS,
};
use refugio_core::engine::needs::{
    evaluate_bill, evaluate_item, evaluate_manual, item_opens_need, ItemInputs,
};
use refugio_core::inventory::{Basis, BillCategory, Criticality, MovementKind};
use std::hint::black_box;
use std::time::Duration as StdDuration;

/// SplitMix64: a small, fixed-seed generator so every run benches the same data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (`hi > lo`).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = u64::try_from(hi - lo).expect("a non-empty range");
        lo + i64::try_from(self.next_u64() % span).expect("the span fits in i64")
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: i64) -> bool {
        self.range(0, 100) < percent
    }
}

/// One item's settings, stock and ledger, as the service would load them.
struct ItemData {
    params: ItemParams,
    criticality: Criticality,
    lead_days: i64,
    unit_cost: Option<i64>,
    first_movement_on: NaiveDate,
    anchor: NaiveDate,
    movements: Vec<DatedMovement>,
    on_hand: i64,
    incoming: i64,
    pledged: i64,
    allocated: i64,
}

struct Shelter {
    occupied: i64,
    items: Vec<ItemData>,
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).expect("a valid date")
}

/// `days` of ledger ending yesterday: an opening receipt, 3–5 movements a day (mostly use, some
/// waste and restocking), and a count every 7th day that usually finds less than the books.
fn ledger(rng: &mut Rng, days: i64) -> (NaiveDate, Vec<DatedMovement>, i64) {
    let first = today() - Duration::days(days);
    let daily_use = rng.range(1_000, 50_000);
    let mut on_hand = daily_use * 20;
    let mut movements = Vec::with_capacity(usize::try_from(days * 5 + 1).expect("small"));
    movements.push(DatedMovement {
        date: first,
        kind: MovementKind::Receipt,
        delta: on_hand,
    });
    for d in 0..days {
        let date = first + Duration::days(d);
        for _ in 0..rng.range(3, 6) {
            let (kind, delta) = match rng.range(0, 10) {
                0 => (MovementKind::Receipt, rng.range(daily_use, daily_use * 10)),
                1 => (MovementKind::Waste, -rng.range(1, daily_use / 10 + 2)),
                2 => (MovementKind::Adjustment, rng.range(-500, 500)),
                _ => (MovementKind::Consumption, -rng.range(1, daily_use / 2 + 2)),
            };
            let delta = delta.max(-on_hand);
            on_hand += delta;
            movements.push(DatedMovement { date, kind, delta });
        }
        if d % 7 == 6 {
            let delta = if rng.chance(80) {
                -rng.range(0, on_hand / 10 + 1)
            } else {
                rng.range(0, 2_000)
            };
            on_hand += delta;
            movements.push(DatedMovement {
                date,
                kind: MovementKind::Count,
                delta,
            });
        }
    }
    (first, movements, on_hand)
}

fn item(rng: &mut Rng, days: i64) -> ItemData {
    let (first_movement_on, movements, on_hand) = ledger(rng, days);
    let basis = if rng.chance(80) {
        Basis::Consumable
    } else {
        Basis::Durable
    };
    let per_person = rng.chance(75).then(|| match basis {
        Basis::Consumable => rng.range(5_000, 15_000_000),
        Basis::Durable => rng.range(1, 3) * 1_000_000,
    });
    let criticality = match rng.range(0, 3) {
        0 => Criticality::Vital,
        1 => Criticality::Essential,
        _ => Criticality::Desirable,
    };
    ItemData {
        params: ItemParams {
            basis,
            per_person,
            reorder_days: 7,
            target_days: 14,
            min_quantity: if rng.chance(30) {
                rng.range(0, 100_000)
            } else {
                0
            },
            target_quantity: if rng.chance(30) {
                rng.range(0, 200_000)
            } else {
                0
            },
        },
        criticality,
        lead_days: rng.range(1, 8),
        unit_cost: rng.chance(70).then(|| rng.range(100, 100_000)),
        first_movement_on,
        anchor: first_movement_on,
        movements,
        on_hand,
        incoming: if rng.chance(20) {
            rng.range(0, 50_000)
        } else {
            0
        },
        pledged: if rng.chance(20) {
            rng.range(0, 50_000)
        } else {
            0
        },
        allocated: if rng.chance(30) {
            rng.range(0, 1_000_000)
        } else {
            0
        },
    }
}

fn shelter(rng: &mut Rng, items: usize, days: i64) -> Shelter {
    Shelter {
        occupied: rng.range(0, 400),
        items: (0..items).map(|_| item(rng, days)).collect(),
    }
}

fn inputs(s: &Shelter, i: &ItemData, observed: Option<i64>) -> ItemInputs {
    ItemInputs {
        criticality: i.criticality,
        basis: i.params.basis,
        lead_days: i.lead_days,
        occupied: s.occupied,
        per_person: i.params.per_person,
        levels: levels(&i.params, s.occupied, observed),
        on_hand: i.on_hand,
        incoming: i.incoming,
        pledged: i.pledged,
        allocated: i.allocated,
        unit_cost: i.unit_cost,
    }
}

/// The engine's share of a shelter recompute: demand, levels and the need of every item.
/// Returns a checksum so nothing can be optimized away.
fn recompute(s: &Shelter, today: NaiveDate) -> i64 {
    let mut sum = 0i64;
    for i in &s.items {
        let observed = observed_demand(i.first_movement_on, i.anchor, today, &i.movements);
        let inputs = inputs(s, i, observed);
        let opens = item_opens_need(&inputs);
        let e = evaluate_item(&inputs);
        sum += e.score + i64::from(opens) + e.quantity.unwrap_or(0) % 7;
    }
    sum
}

/// The item's ledger from its latest count before the observed-demand window, and that count's
/// date as the anchor (the whole ledger and the first movement's date when there is none).
fn trim_to_window(i: &ItemData, today: NaiveDate) -> (NaiveDate, &[DatedMovement]) {
    let start = i
        .first_movement_on
        .max(today - Duration::days(MAX_WINDOW_DAYS));
    i.movements
        .iter()
        .rposition(|m| m.kind == MovementKind::Count && m.date < start)
        .map_or((i.anchor, &i.movements[..]), |at| {
            (i.movements[at].date, &i.movements[at + 1..])
        })
}

fn shelter_bench(c: &mut Criterion) {
    let mut rng = Rng(0x5EED_0001);
    let s = shelter(&mut rng, 500, 90);
    let movements: usize = s.items.iter().map(|i| i.movements.len()).sum();
    eprintln!("shelter: 500 items, 90 days, {movements} movements");
    let today = today();
    let observed: Vec<Option<i64>> = s
        .items
        .iter()
        .map(|i| observed_demand(i.first_movement_on, i.anchor, today, &i.movements))
        .collect();
    let all_inputs: Vec<ItemInputs> = s
        .items
        .iter()
        .zip(&observed)
        .map(|(i, o)| inputs(&s, i, *o))
        .collect();

    let mut g = c.benchmark_group("shelter_500_items_90d");
    // ~2–3 ms an iteration: 50 samples fit in 10 s.
    g.sample_size(50);
    g.measurement_time(StdDuration::from_secs(10));
    g.bench_function("recompute", |b| {
        b.iter(|| recompute(black_box(&s), black_box(today)))
    });
    g.bench_function("only_observed_demand", |b| {
        b.iter(|| {
            black_box(&s)
                .items
                .iter()
                .map(|i| observed_demand(i.first_movement_on, i.anchor, today, &i.movements))
                .map(|o| o.unwrap_or(0))
                .sum::<i64>()
        })
    });
    // The same, given only the ledger from the latest count before the window on (what
    // `observed_demand` documents as enough): same results, a third of the rows to scan.
    let trimmed: Vec<(NaiveDate, &[DatedMovement])> =
        s.items.iter().map(|i| trim_to_window(i, today)).collect();
    for ((i, (anchor, rows)), full) in s.items.iter().zip(&trimmed).zip(&observed) {
        assert_eq!(
            observed_demand(i.first_movement_on, *anchor, today, rows),
            *full,
            "a trimmed ledger gives the same observed demand"
        );
    }
    g.bench_function("only_observed_demand_trimmed", |b| {
        b.iter(|| {
            black_box(&s)
                .items
                .iter()
                .zip(&trimmed)
                .map(|(i, (anchor, rows))| {
                    observed_demand(i.first_movement_on, *anchor, today, rows)
                })
                .map(|o| o.unwrap_or(0))
                .sum::<i64>()
        })
    });
    g.bench_function("only_levels", |b| {
        b.iter(|| {
            black_box(&s)
                .items
                .iter()
                .zip(&observed)
                .map(|(i, o)| levels(&i.params, s.occupied, *o).target)
                .sum::<i64>()
        })
    });
    g.bench_function("only_evaluate_item", |b| {
        b.iter(|| {
            black_box(&all_inputs)
                .iter()
                .map(|i| evaluate_item(i).score)
                .sum::<i64>()
        })
    });
    g.finish();
}

fn platform_bench(c: &mut Criterion) {
    let mut rng = Rng(0x5EED_0002);
    let shelters: Vec<Shelter> = (0..1000).map(|_| shelter(&mut rng, 200, 30)).collect();
    let movements: usize = shelters
        .iter()
        .flat_map(|s| &s.items)
        .map(|i| i.movements.len())
        .sum();
    eprintln!("platform: 1000 shelters × 200 items, 30 days, {movements} movements");
    let today = today();

    let mut g = c.benchmark_group("platform_1000x200_30d");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(StdDuration::from_secs(2));
    g.measurement_time(StdDuration::from_secs(15));
    g.bench_function("recompute", |b| {
        b.iter(|| {
            black_box(&shelters)
                .iter()
                .map(|s| recompute(s, today))
                .sum::<i64>()
        })
    });
    g.finish();
}

fn micro_bench(c: &mut Criterion) {
    let today = today();
    let mut g = c.benchmark_group("micro");
    g.measurement_time(StdDuration::from_secs(3));
    let rice = ItemParams {
        basis: Basis::Consumable,
        per_person: Some(400_000),
        reorder_days: 7,
        target_days: 14,
        min_quantity: 0,
        target_quantity: 0,
    };
    let worked_example = ItemInputs {
        criticality: Criticality::Essential,
        basis: Basis::Consumable,
        lead_days: 3,
        occupied: 40,
        per_person: Some(400_000),
        levels: levels(&rice, 40, None),
        on_hand: 50_000,
        incoming: 0,
        pledged: 0,
        allocated: 172_500,
        unit_cost: Some(2_500),
    };
    g.bench_function("evaluate_item", |b| {
        b.iter(|| evaluate_item(black_box(&worked_example)))
    });
    let due_on = today + Duration::days(5);
    g.bench_function("evaluate_bill", |b| {
        b.iter(|| {
            evaluate_bill(
                black_box(BillCategory::Electricity),
                black_box(120_000),
                black_box(20_000),
                black_box(30_000),
                black_box(due_on),
                black_box(today),
            )
        })
    });
    let needed_by = Some(today + Duration::days(10));
    g.bench_function("evaluate_manual", |b| {
        b.iter(|| {
            evaluate_manual(
                black_box(Criticality::Vital),
                black_box(500_000),
                black_box(200_000),
                black_box(100_000),
                black_box(needed_by),
                black_box(today),
            )
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(StdDuration::from_secs(2))
        .measurement_time(StdDuration::from_secs(5));
    targets = micro_bench, shelter_bench, platform_bench
}
criterion_main!(benches);
