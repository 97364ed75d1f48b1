//! One raw worker: its own connection, the movement transaction in a loop.
//!
//! It is the server's own path: `record_movement` inside `write_transaction` (BEGIN IMMEDIATE on
//! SQLite). With `--breakdown`, every statement it runs is timed (see `timing`).

use super::seed::Seeded;
use super::timing;
use crate::rng::Rng;
use crate::stats::micros;
use refugio_api::services::stock::{record_movement, NewMovement};
use refugio_core::inventory::MovementKind;
use refugio_db::{DatabaseUrl, DbConnection};
use std::sync::{Barrier, Mutex, PoisonError};
use std::time::{Duration, Instant};

static WRITE_LOCK: Mutex<()> = Mutex::new(());

#[derive(Debug, Clone)]
pub struct Plan {
    pub url: DatabaseUrl,
    /// A pragma run on each connection after the server's own (e.g. synchronous = NORMAL).
    pub pragma: Option<String>,
    pub hot: bool,
    pub breakdown: bool,
    /// Take a process-wide mutex around each transaction (an in-process writer queue), to
    /// compare with SQLite's own busy handler, which sleeps 1-100 ms between retries.
    pub app_lock: bool,
    pub window_start: Instant,
    pub end: Instant,
}

#[derive(Debug, Default)]
pub struct WorkerTally {
    pub latencies_us: Vec<u32>,
    pub errors: u64,
    pub samples: Vec<String>,
    /// Per statement label: executions and time, inside the window (`--breakdown`).
    pub statements: Vec<(String, u64, Duration)>,
    pub total: Duration,
    pub per_second: Vec<u64>,
}

/// Opens a connection as the server does, retrying: the server's connect runs `journal_mode`
/// before `busy_timeout`, so it can fail at once with "database is locked" while another
/// connection is opening the WAL of a database nobody had open.
fn connect(plan: &Plan) -> anyhow::Result<DbConnection> {
    let mut attempt = 0;
    let mut conn = loop {
        match plan.url.connect() {
            Ok(c) => break c,
            Err(e) if attempt < 20 => {
                attempt += 1;
                eprintln!("raw: connect failed ({e}), retrying");
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(e.into()),
        }
    };
    if let Some(p) = &plan.pragma {
        use diesel::RunQueryDsl;
        diesel::sql_query(p).execute(&mut conn)?;
    }
    Ok(conn)
}

/// Connects, waits for every worker to be connected, then loops until the plan's end.
pub fn run(
    plan: &Plan,
    seeded: &Seeded,
    worker: usize,
    ready: &Barrier,
) -> anyhow::Result<WorkerTally> {
    let conn = connect(plan);
    ready.wait();
    let mut conn = conn?;
    let timings = plan.breakdown.then(|| timing::attach(&mut conn));
    let mut counting = false;
    let mut t = WorkerTally::default();
    let mut rng = Rng::new(worker as u64 + 1);
    for n in 0u64.. {
        let t0 = Instant::now();
        if t0 >= plan.end {
            break;
        }
        let (sid, items) = if plan.hot {
            &seeded.shelters[0]
        } else {
            &seeded.shelters[rng.below(seeded.shelters.len())]
        };
        let item = if plan.hot {
            &items[0]
        } else {
            &items[rng.below(items.len())]
        };
        // Alternating receipts and slightly smaller consumptions, as the HTTP runs send.
        let (kind, quantity) = if n % 2 == 0 {
            (MovementKind::Receipt, 1500)
        } else {
            (MovementKind::Consumption, 1250)
        };
        if !counting && t0 >= plan.window_start {
            // Statements of the warm-up do not count.
            counting = true;
            if let Some(t) = &timings {
                t.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .statements
                    .clear();
            }
        }
        let guard = plan
            .app_lock
            .then(|| WRITE_LOCK.lock().unwrap_or_else(PoisonError::into_inner));
        let result = refugio_db::write_transaction(&mut conn, |c| {
            let m = NewMovement {
                item_id: item.clone(),
                kind,
                quantity,
                occurred_at: refugio_db::now(),
                note: None,
                donation_id: None,
                expense_id: None,
            };
            record_movement(c, &seeded.actor, sid, m)
        });
        drop(guard);
        if t0 < plan.window_start {
            continue;
        }
        let took = t0.elapsed();
        t.latencies_us.push(micros(took));
        crate::report::count_second(&mut t.per_second, t0 - plan.window_start);
        t.total += took;
        if let Err(e) = result {
            t.errors += 1;
            if t.samples.len() < 3 {
                t.samples.push(format!("{e:?}"));
            }
        }
    }
    if let Some(timings) = timings {
        let taken = std::mem::take(
            &mut timings
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .statements,
        );
        t.statements = taken;
    }
    Ok(t)
}
