//! The closed-loop load runner: `concurrency` workers, each sending its next request as soon as
//! the previous one answered, for a warm-up and then the measured window. A request counts
//! when it started inside the window; its latency is send-to-last-byte.

use crate::cpu::{self, Watch};
use crate::report::{self, RunResult};
use crate::stats::{micros, percentiles};
use crate::Output;
use clap::Args;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Concurrent connections, each with one request in flight.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// The measured window.
    #[arg(long, default_value = "20s", value_parser = crate::parse_duration)]
    pub duration: Duration,
    /// Load before the window (connections open, caches and pools warm), not counted.
    #[arg(long, default_value = "2s", value_parser = crate::parse_duration)]
    pub warmup: Duration,
    /// Threads of the load generator (1 leaves the most CPU to the server on 2 cores).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// The server's pid, to report the CPU it used during the window.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// The server's PostgreSQL database, to tell its backends' CPU from other databases'.
    #[arg(long)]
    pub pg_db: Option<String>,
    #[command(flatten)]
    pub output: Output,
}

/// What one request came back with.
#[derive(Debug)]
pub struct Shot {
    pub status: u16,
    /// The body, kept only when the status was not the expected one.
    pub body: Option<String>,
}

/// Sends one request and drains its body (so the connection is reused).
pub async fn send(req: reqwest::RequestBuilder, expect: u16) -> Result<Shot, reqwest::Error> {
    let res = req.send().await?;
    let status = res.status().as_u16();
    let bytes = res.bytes().await?;
    let body = (status != expect).then(|| String::from_utf8_lossy(&bytes).into_owned());
    Ok(Shot { status, body })
}

#[derive(Debug, Default)]
struct Tally {
    latencies_us: Vec<u32>,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
    samples: Vec<String>,
    per_second: Vec<u64>,
}

const KEPT_SAMPLES: usize = 3;

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        for (s, n) in other.statuses {
            *self.statuses.entry(s).or_default() += n;
        }
        self.transport_errors += other.transport_errors;
        report::add_seconds(&mut self.per_second, &other.per_second);
        for s in other.samples {
            if self.samples.len() < KEPT_SAMPLES {
                self.samples.push(s);
            }
        }
    }
}

/// Runs `make(worker, n)` in a closed loop from every worker and summarizes the window.
pub async fn run<F, Fut>(
    args: &LoadArgs,
    scenario: &str,
    detail: String,
    expect: u16,
    make: F,
) -> anyhow::Result<RunResult>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Shot, reqwest::Error>> + Send + 'static,
{
    let make = Arc::new(make);
    let started = Instant::now();
    let window_start = started + args.warmup;
    let end = window_start + args.duration;
    let watch = Watch::new(
        args.server_pid
            .map(|p| vec![("refugio".to_owned(), p)])
            .unwrap_or_default(),
        args.pg_db.clone(),
    );
    let sampler = tokio::spawn(async move {
        tokio::time::sleep_until(window_start.into()).await;
        let first = cpu::snapshot(&watch);
        tokio::time::sleep_until(end.into()).await;
        cpu::split(&first, &cpu::snapshot(&watch))
    });
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..args.concurrency {
        let make = make.clone();
        workers.spawn(async move {
            let mut t = Tally::default();
            let mut n = 0u64;
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let shot = make(w, n).await;
                n += 1;
                if t0 < window_start {
                    continue;
                }
                t.latencies_us.push(micros(t0.elapsed()));
                report::count_second(&mut t.per_second, t0 - window_start);
                match shot {
                    Ok(s) => {
                        *t.statuses.entry(s.status).or_default() += 1;
                        if let Some(body) = s.body.filter(|_| t.samples.len() < KEPT_SAMPLES) {
                            t.samples.push(format!("{}: {body}", s.status));
                        }
                    }
                    Err(e) => {
                        t.transport_errors += 1;
                        if t.samples.len() < KEPT_SAMPLES {
                            t.samples.push(format!("transport: {e}"));
                        }
                    }
                }
            }
            t
        });
    }
    let mut all = Tally::default();
    while let Some(t) = workers.join_next().await {
        all.merge(t?);
    }
    let cpu = sampler.await?;
    let count = all.latencies_us.len() as u64;
    let seconds = args.duration.as_secs_f64();
    let count_where = |f: &dyn Fn(u16) -> bool| -> u64 {
        all.statuses
            .iter()
            .filter(|(s, _)| f(**s))
            .map(|(_, n)| n)
            .sum()
    };
    Ok(RunResult {
        label: args.output.label.clone(),
        scenario: scenario.to_owned(),
        detail,
        concurrency: args.concurrency,
        seconds,
        count,
        per_sec: count as f64 / seconds,
        unexpected: count_where(&|s| s != expect) + all.transport_errors,
        server_errors: count_where(&|s| s >= 500),
        transport_errors: all.transport_errors,
        latency: percentiles(&mut all.latencies_us),
        statuses: all
            .statuses
            .iter()
            .map(|(s, n)| (s.to_string(), *n))
            .collect(),
        cpu: Some(cpu),
        samples: all.samples,
        steps_us: BTreeMap::new(),
        per_second: all.per_second,
    })
}
