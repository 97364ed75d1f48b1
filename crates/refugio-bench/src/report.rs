//! One result per run (a JSON line), and the summary tables with the targets of issue 3.

use crate::cpu::CpuSplit;
use crate::stats::Percentiles;
use crate::Output;
use anyhow::Context;
use clap::Args;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    /// The backend (sqlite, postgres).
    pub label: String,
    /// spread, hot, reads, raw-spread-1t, raw-hot-pgbench, …
    pub scenario: String,
    pub detail: String,
    pub concurrency: usize,
    pub seconds: f64,
    /// Requests (or transactions) started in the window.
    pub count: u64,
    pub per_sec: f64,
    pub latency: Percentiles,
    /// Anything but the expected status, transport errors included.
    pub unexpected: u64,
    pub server_errors: u64,
    pub transport_errors: u64,
    pub statuses: BTreeMap<String, u64>,
    pub cpu: Option<CpuSplit>,
    /// The first few unexpected replies, for diagnosis.
    pub samples: Vec<String>,
    /// Raw runs with a breakdown: mean microseconds per step.
    pub steps_us: BTreeMap<String, f64>,
    /// Requests (transactions) started in each second of the window: shows a rate that decays
    /// as the run goes on (work that grows with the ledger).
    #[serde(default)]
    pub per_second: Vec<u64>,
}

/// Prints a one-line summary and appends the JSON line to `--out`.
pub fn emit(r: &RunResult, out: &Output) -> anyhow::Result<()> {
    let mut line = format!(
        "{:<9} {:<22} {:>9.1}/s  p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>8.2} ms  unexpected {} (5xx {})",
        r.label, r.scenario, r.per_sec, r.latency.p50_ms, r.latency.p90_ms, r.latency.p99_ms,
        r.latency.max_ms, r.unexpected, r.server_errors
    );
    if let Some(cpu) = &r.cpu {
        let _ = write!(line, "  cpu {}", cpu_text(cpu));
    }
    if r.per_second.len() > 1 {
        let _ = write!(line, "\n    per second: {}", timeline_text(&r.per_second));
    }
    for (step, us) in &r.steps_us {
        let _ = write!(line, "\n    {step:<28} {us:>9.1} µs");
    }
    for s in &r.samples {
        let _ = write!(
            line,
            "\n    sample: {}",
            s.chars().take(300).collect::<String>()
        );
    }
    writeln!(std::io::stdout().lock(), "{line}")?;
    if let Some(path) = &out.out {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot append to {}", path.display()))?;
        writeln!(f, "{}", serde_json::to_string(r)?)?;
    }
    Ok(())
}

/// First and last seconds of a timeline, e.g. "1404 1380 … 1299 1310".
fn timeline_text(t: &[u64]) -> String {
    let show = |xs: &[u64]| xs.iter().map(u64::to_string).collect::<Vec<_>>().join(" ");
    if t.len() <= 8 {
        show(t)
    } else {
        format!("{} … {}", show(&t[..3]), show(&t[t.len() - 3..]))
    }
}

/// Adds one to the bin of the second `offset` falls in.
pub fn count_second(bins: &mut Vec<u64>, offset: std::time::Duration) {
    let i = usize::try_from(offset.as_secs()).unwrap_or(usize::MAX);
    if i < 3600 {
        if bins.len() <= i {
            bins.resize(i + 1, 0);
        }
        bins[i] += 1;
    }
}

/// Element-wise sum of per-second bins.
pub fn add_seconds(into: &mut Vec<u64>, other: &[u64]) {
    if into.len() < other.len() {
        into.resize(other.len(), 0);
    }
    for (a, b) in into.iter_mut().zip(other) {
        *a += b;
    }
}

fn cpu_text(c: &CpuSplit) -> String {
    let mut s = format!("busy {:.2}:", c.machine);
    for (name, cores) in &c.by {
        let short = match name.as_str() {
            "refugio" => "server",
            "refugio-bench" => "bench",
            "postgres" => "pg",
            other => other,
        };
        if *cores >= 0.005 {
            let _ = write!(s, " {short} {cores:.2}");
        }
    }
    if c.steal >= 0.005 {
        let _ = write!(s, " steal {:.2}", c.steal);
    }
    let first = |l: &str| l.split_whitespace().next().unwrap_or("?").to_owned();
    let _ = write!(
        s,
        " (load {} → {})",
        first(&c.loadavg_start),
        first(&c.loadavg_end)
    );
    s
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// The JSON-lines file the runs appended to.
    results: PathBuf,
}

/// The targets of issue 3 on this 2-core machine.
const SPREAD_TARGET: f64 = 2000.0;
const HOT_TARGET: f64 = 700.0;
const READS_TARGET: f64 = 8000.0;
const P99_TARGET_MS: f64 = 40.0;

pub fn summary(a: SummaryArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&a.results)
        .with_context(|| format!("cannot read {}", a.results.display()))?;
    let results: Vec<RunResult> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .context("a results line is not a run result")?;
    let mut labels: Vec<&str> = Vec::new();
    for r in &results {
        if !labels.contains(&r.label.as_str()) {
            labels.push(&r.label);
        }
    }
    let mut out = String::new();
    for label in labels {
        let runs: Vec<&RunResult> = results.iter().filter(|r| r.label == label).collect();
        all_runs_table(&mut out, label, &runs);
        targets_table(&mut out, &runs);
    }
    write!(std::io::stdout().lock(), "{out}")?;
    Ok(())
}

fn all_runs_table(out: &mut String, label: &str, runs: &[&RunResult]) {
    let _ = writeln!(out, "\n### {label}\n");
    let _ = writeln!(
        out,
        "| run | what | conc. | per s | p50 ms | p99 ms | max ms | unexpected | 5xx | CPU cores used in the window |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for r in runs {
        let cpu = r.cpu.as_ref().map(cpu_text).unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
            r.scenario,
            r.detail,
            r.concurrency,
            r.per_sec,
            r.latency.p50_ms,
            r.latency.p99_ms,
            r.latency.max_ms,
            r.unexpected,
            r.server_errors,
            cpu
        );
    }
}

/// The raw reference of a kind (`raw-spread`, `raw-hot`): pgbench when there is one (the
/// spec's raw limit for PostgreSQL), else the best durable run of the server's own code path
/// (not `synchronous=NORMAL`, not the timed or the in-process-locked variants).
fn best_raw<'a>(runs: &[&'a RunResult], prefix: &str) -> Option<&'a RunResult> {
    let candidates: Vec<&RunResult> = runs
        .iter()
        .copied()
        .filter(|r| r.scenario.starts_with(prefix))
        .filter(|r| {
            !["normal", "steps", "applock"]
                .iter()
                .any(|v| r.scenario.contains(v))
        })
        .collect();
    let pgbench: Vec<&RunResult> = candidates
        .iter()
        .copied()
        .filter(|r| r.scenario.contains("pgbench"))
        .collect();
    let pool = if pgbench.is_empty() {
        candidates
    } else {
        pgbench
    };
    pool.into_iter()
        .max_by(|a, b| a.per_sec.total_cmp(&b.per_sec))
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

fn targets_table(out: &mut String, runs: &[&RunResult]) {
    let find = |s: &str| runs.iter().copied().find(|r| r.scenario == s);
    let _ = writeln!(
        out,
        "\n| figure | measured | target | |\n|---|---:|---:|---|"
    );
    let mut row = |name: &str, value: String, target: String, ok: bool| {
        let _ = writeln!(out, "| {name} | {value} | {target} | {} |", verdict(ok));
    };
    for (scenario, name, target) in [
        ("spread", "movements/s, spread", SPREAD_TARGET),
        ("hot", "movements/s, hot item", HOT_TARGET),
        ("reads", "stock reads/s (100 items)", READS_TARGET),
    ] {
        let Some(r) = find(scenario) else { continue };
        row(
            name,
            format!("{:.0}", r.per_sec),
            format!("≥ {target:.0}"),
            r.per_sec >= target,
        );
        row(
            &format!("{name}: p50 / p99"),
            format!("{:.1} / {:.1} ms", r.latency.p50_ms, r.latency.p99_ms),
            format!("p99 ≤ {P99_TARGET_MS:.0} ms"),
            r.latency.p99_ms <= P99_TARGET_MS,
        );
    }
    let http: Vec<&RunResult> = runs
        .iter()
        .copied()
        .filter(|r| !r.scenario.starts_with("raw"))
        .collect();
    let errors: u64 = http.iter().map(|r| r.server_errors).sum();
    row(
        "5xx, all HTTP runs",
        errors.to_string(),
        "0".into(),
        errors == 0,
    );
    for (http_s, raw_prefix) in [("spread", "raw-spread"), ("hot", "raw-hot")] {
        if let (Some(h), Some(raw)) = (find(http_s), best_raw(runs, raw_prefix)) {
            let _ = writeln!(
                out,
                "| raw DB tx/s, {http_s} ({}) | {:.0} | | HTTP/raw = {:.2} |",
                raw.scenario,
                raw.per_sec,
                h.per_sec / raw.per_sec.max(1e-9)
            );
        }
    }
}
