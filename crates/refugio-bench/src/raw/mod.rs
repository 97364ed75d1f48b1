//! The database limit without HTTP: the movement transaction in a loop, 1 and N threads, each
//! thread with its own connection opened exactly as the server opens them (same pragmas).

mod seed;
mod timing;
mod worker;

use crate::cpu::{self, Watch};
use crate::report::{self, RunResult};
use crate::stats::percentiles;
use crate::Output;
use anyhow::{bail, Context};
use clap::Args;
use refugio_db::DatabaseUrl;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct RawSqliteArgs {
    /// A SQLite file to create (it must not exist unless --fresh, which deletes it first).
    #[arg(long)]
    db: PathBuf,
    #[arg(long)]
    fresh: bool,
    /// `synchronous` for the runs (the server uses FULL); NORMAL shows what the fsyncs cost.
    #[arg(long, default_value = "FULL", value_parser = ["FULL", "NORMAL", "OFF"])]
    synchronous: String,
    #[command(flatten)]
    common: RawCommon,
}

#[derive(Debug, Args)]
pub struct RawPgArgs {
    /// An existing, empty (or earlier raw-pg) PostgreSQL database; migrations are applied.
    #[arg(long)]
    database_url: String,
    #[command(flatten)]
    common: RawCommon,
}

#[derive(Debug, Args)]
struct RawCommon {
    /// Measured window of each run.
    #[arg(long, default_value = "10s", value_parser = crate::parse_duration)]
    duration: Duration,
    #[arg(long, default_value = "1s", value_parser = crate::parse_duration)]
    warmup: Duration,
    /// Thread counts to run, one run each.
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    threads: Vec<usize>,
    /// Which runs: spread (all shelters × items) and/or hot (one item).
    #[arg(long, value_delimiter = ',', default_value = "spread,hot")]
    scenarios: Vec<String>,
    #[arg(long, default_value_t = 20)]
    shelters: usize,
    #[arg(long, default_value_t = 50)]
    items: usize,
    /// Time every statement the transaction runs (diesel instrumentation; adds a little overhead).
    #[arg(long)]
    breakdown: bool,
    /// Queue the threads' transactions on an in-process mutex (what an application-side
    /// writer queue would do) instead of leaving them to the database's locking.
    #[arg(long)]
    app_lock: bool,
    #[command(flatten)]
    output: Output,
}

pub fn sqlite(a: RawSqliteArgs) -> anyhow::Result<()> {
    if a.db.exists() {
        if !a.fresh {
            bail!("{} exists; pass --fresh to replace it", a.db.display());
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut p = a.db.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
    let (pragma, suffix) = match a.synchronous.as_str() {
        "FULL" => (None, String::new()),
        other => (
            Some(format!("PRAGMA synchronous = {other}")),
            format!("-{}", other.to_lowercase()),
        ),
    };
    let detail = format!(
        "record_movement in BEGIN IMMEDIATE, synchronous={}",
        a.synchronous
    );
    run(
        &DatabaseUrl::Sqlite(a.db),
        pragma,
        &suffix,
        &detail,
        &a.common,
    )
}

pub fn postgres(a: RawPgArgs) -> anyhow::Result<()> {
    let url = DatabaseUrl::parse(&a.database_url).map_err(anyhow::Error::msg)?;
    if !url.is_postgres() {
        bail!("raw-pg needs a postgres:// URL");
    }
    run(
        &url,
        None,
        "-diesel",
        "record_movement in a transaction (diesel)",
        &a.common,
    )
}

fn run(
    url: &DatabaseUrl,
    pragma: Option<String>,
    suffix: &str,
    detail: &str,
    c: &RawCommon,
) -> anyhow::Result<()> {
    let mut conn = url.connect().context("connect")?;
    refugio_db::migrations::run_pending(&mut conn)
        .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    let seeded = seed::seed(&mut conn, c.shelters, c.items)?;
    drop(conn);
    for scenario in &c.scenarios {
        let hot = match scenario.as_str() {
            "spread" => false,
            "hot" => true,
            other => bail!("unknown scenario {other:?} (spread or hot)"),
        };
        for &threads in &c.threads {
            let window_start = Instant::now() + c.warmup;
            let plan = worker::Plan {
                url: url.clone(),
                pragma: pragma.clone(),
                hot,
                breakdown: c.breakdown,
                app_lock: c.app_lock,
                window_start,
                end: window_start + c.duration,
            };
            let steps = if c.breakdown { "-steps" } else { "" };
            let lock = if c.app_lock { "-applock" } else { "" };
            let name = format!("raw-{scenario}-{threads}t{suffix}{steps}{lock}");
            let mut result = measure(&plan, &seeded, threads, c)?;
            result.scenario = name;
            result.detail = format!(
                "{detail}, {threads} thread(s), {}",
                if hot { "one item" } else { "spread" }
            );
            report::emit(&result, &c.output)?;
        }
    }
    Ok(())
}

/// Runs `threads` workers over the plan's window and merges what they measured.
fn measure(
    plan: &worker::Plan,
    seeded: &seed::Seeded,
    threads: usize,
    c: &RawCommon,
) -> anyhow::Result<RunResult> {
    let pg_db = match &plan.url {
        DatabaseUrl::Postgres(u) => cpu::db_of_url(u),
        DatabaseUrl::Sqlite(_) => None,
    };
    let watch = Watch::new(Vec::new(), pg_db);
    let ready = &std::sync::Barrier::new(threads);
    let tallies = std::thread::scope(|s| {
        let sampler = s.spawn(|| {
            std::thread::sleep(plan.window_start.saturating_duration_since(Instant::now()));
            let first = cpu::snapshot(&watch);
            std::thread::sleep(plan.end.saturating_duration_since(Instant::now()));
            cpu::split(&first, &cpu::snapshot(&watch))
        });
        let handles: Vec<_> = (0..threads)
            .map(|w| s.spawn(move || worker::run(plan, seeded, w, ready)))
            .collect();
        let tallies: Vec<anyhow::Result<worker::WorkerTally>> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a worker panicked")))
            })
            .collect();
        let cpu = sampler.join().ok();
        (tallies, cpu)
    });
    let (tallies, cpu) = tallies;
    let mut latencies = Vec::new();
    let (mut errors, mut samples) = (0u64, Vec::new());
    let mut statements = timing::Timings::default();
    let mut total = Duration::ZERO;
    let mut per_second = Vec::new();
    for t in tallies {
        let t = t?;
        report::add_seconds(&mut per_second, &t.per_second);
        latencies.extend(t.latencies_us);
        errors += t.errors;
        samples.extend(t.samples);
        total += t.total;
        statements.merge(&t.statements);
    }
    let count = latencies.len() as u64;
    let mut steps_us = BTreeMap::new();
    if c.breakdown && count > 0 {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / count as f64;
        let mut inside = Duration::ZERO;
        for (i, (label, n, d)) in statements.statements.iter().enumerate() {
            let times = *n as f64 / count as f64;
            steps_us.insert(format!("{:02} {label} (x{times:.1})", i + 1), per(*d));
            inside += *d;
        }
        steps_us.insert(
            "98 between statements (Rust)".into(),
            per(total.saturating_sub(inside)),
        );
        steps_us.insert("99 = whole transaction".into(), per(total));
    }
    samples.truncate(3);
    let seconds = c.duration.as_secs_f64();
    Ok(RunResult {
        label: c.output.label.clone(),
        scenario: String::new(),
        detail: String::new(),
        concurrency: threads,
        seconds,
        count,
        per_sec: count as f64 / seconds,
        latency: percentiles(&mut latencies),
        unexpected: errors,
        server_errors: 0,
        transport_errors: 0,
        statuses: BTreeMap::from([
            ("ok".to_owned(), count - errors),
            ("error".to_owned(), errors),
        ]),
        cpu,
        samples,
        steps_us,
        per_second,
    })
}
