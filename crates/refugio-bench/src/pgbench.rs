//! `pgbench` with a custom script, recorded like every other run: its tps, latency percentiles
//! from its per-transaction log, and the CPU that pgbench and PostgreSQL used meanwhile.

use crate::cpu::{self, Watch};
use crate::report::{self, RunResult};
use crate::stats::percentiles;
use crate::Output;
use anyhow::{bail, Context};
use clap::Args;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

#[derive(Debug, Args)]
pub struct PgbenchArgs {
    /// The bench database (pgbench takes the URI as its dbname).
    #[arg(long)]
    database_url: String,
    #[arg(long)]
    script: PathBuf,
    /// Scenario name in the results (raw-spread-pgbench, raw-hot-pgbench).
    #[arg(long)]
    name: String,
    #[arg(long, default_value_t = 32)]
    clients: usize,
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    #[arg(long, default_value = "20s", value_parser = crate::parse_duration)]
    duration: Duration,
    /// Query protocol: prepared matches diesel, which prepares and caches its statements.
    #[arg(long, default_value = "prepared")]
    protocol: String,
    /// Script variables, `-D name=value` (e.g. shelters=20).
    #[arg(short = 'D', long = "define")]
    defines: Vec<String>,
    #[command(flatten)]
    output: Output,
}

pub fn run(a: PgbenchArgs) -> anyhow::Result<()> {
    let logs = std::env::temp_dir().join(format!("refugio-pgbench-{}", std::process::id()));
    std::fs::create_dir_all(&logs)?;
    let script = std::fs::canonicalize(&a.script)
        .with_context(|| format!("no script {}", a.script.display()))?;
    let secs = a.duration.as_secs().max(1);
    let mut cmd = Command::new("pgbench");
    cmd.current_dir(&logs)
        .args(["-n", "-l", "-M", &a.protocol])
        .arg("-f")
        .arg(&script)
        .args(["-c", &a.clients.to_string(), "-j", &a.jobs.to_string()])
        .args(["-T", &secs.to_string()]);
    for d in &a.defines {
        cmd.args(["-D", d]);
    }
    cmd.arg(&a.database_url).stdout(Stdio::piped());
    let child = cmd.spawn().context("cannot start pgbench")?;
    let watch = Watch::new(
        vec![("pgbench".to_owned(), child.id())],
        cpu::db_of_url(&a.database_url),
    );
    // pgbench connects first; skip a moment so the window is the steady state.
    std::thread::sleep(Duration::from_millis(500));
    let first = cpu::snapshot(&watch);
    std::thread::sleep(Duration::from_secs(secs).saturating_sub(Duration::from_millis(1000)));
    let cpu = cpu::split(&first, &cpu::snapshot(&watch));
    let out = child.wait_with_output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("pgbench failed ({}): {stdout}", out.status);
    }
    let tps = stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .context("no tps line in pgbench's output")?;
    let failed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("number of failed transactions: "))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0);
    let mut latencies = read_logs(&logs)?;
    let _ = std::fs::remove_dir_all(&logs);
    let count = latencies.len() as u64;
    let result = RunResult {
        label: a.output.label.clone(),
        scenario: a.name.clone(),
        detail: format!(
            "pgbench -M {} -c {} -j {} -T {secs}, {}",
            a.protocol,
            a.clients,
            a.jobs,
            a.script
                .file_name()
                .map(|f| f.to_string_lossy())
                .unwrap_or_default()
        ),
        concurrency: a.clients,
        seconds: secs as f64,
        count,
        per_sec: tps,
        latency: percentiles(&mut latencies),
        unexpected: failed,
        server_errors: 0,
        transport_errors: 0,
        statuses: BTreeMap::from([("committed".to_owned(), count)]),
        cpu: Some(cpu),
        samples: Vec::new(),
        steps_us: BTreeMap::new(),
        per_second: Vec::new(),
    };
    report::emit(&result, &a.output)
}

/// Latencies (µs, third field) of every transaction in pgbench's `-l` logs.
fn read_logs(dir: &std::path::Path) -> anyhow::Result<Vec<u32>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let text = std::fs::read_to_string(entry?.path())?;
        out.extend(
            text.lines()
                .filter_map(|l| l.split_whitespace().nth(2)?.parse::<u32>().ok()),
        );
    }
    Ok(out)
}
