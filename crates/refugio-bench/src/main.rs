//! `refugio-bench`: a small closed-loop load generator for Refugio's stock routes, the same
//! movement transaction run raw against the database, and a summary of the results.
//! See `docs/benchmarks.md` and `bench/run.sh`.

mod api;
mod cpu;
mod fixture;
mod http_runs;
mod load;
mod pgbench;
mod raw;
mod report;
mod rng;
mod setup;
mod stats;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "refugio-bench",
    about = "Load benchmark of Refugio's stock routes."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create shelters, coordinators, items and opening stock through the API; write a fixture.
    Setup(setup::SetupArgs),
    /// POST stock movements from concurrent writers (spread, or on one item with --hot).
    Movements(http_runs::MovementArgs),
    /// GET the stock view of the fixture's 100-item shelter from concurrent readers.
    StockReads(http_runs::ReadArgs),
    /// The movement transaction in a loop on SQLite, without HTTP (1 and 4 threads).
    RawSqlite(raw::RawSqliteArgs),
    /// The movement transaction in a loop on PostgreSQL through diesel, without HTTP.
    RawPg(raw::RawPgArgs),
    /// Run pgbench with a custom script and record its throughput like the other runs.
    Pgbench(pgbench::PgbenchArgs),
    /// Print the results file as markdown tables, compared with the targets.
    Summary(report::SummaryArgs),
}

/// Where a run's result goes and how it is labelled.
#[derive(Debug, Clone, Args)]
pub struct Output {
    /// Backend label of this run in the results (e.g. sqlite, postgres).
    #[arg(long, default_value = "unlabelled")]
    pub label: String,
    /// Append the result as one JSON line to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `20s`, `500ms`, `2m` or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 20s, 500ms or 2m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("unknown unit {unit:?} in {s:?} (use ms, s or m)")),
    };
    Ok(Duration::from_secs_f64(secs))
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Setup(a) => runtime(2)?.block_on(setup::run(a)),
        Command::Movements(a) => {
            let threads = a.load.threads;
            runtime(threads)?.block_on(http_runs::movements(a))
        }
        Command::StockReads(a) => {
            let threads = a.load.threads;
            runtime(threads)?.block_on(http_runs::stock_reads(a))
        }
        Command::RawSqlite(a) => raw::sqlite(a),
        Command::RawPg(a) => raw::postgres(a),
        Command::Pgbench(a) => pgbench::run(a),
        Command::Summary(a) => report::summary(a),
    }
}

fn runtime(threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut b = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    Ok(b.enable_all().build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("3h").is_err());
        assert!(parse_duration("fast").is_err());
    }
}
