//! Where the CPU went during a measured window, from `/proc`: the whole machine, this process,
//! watched processes (the server, pgbench) and every `postgres` process. On a 2-core machine
//! shared with compilers this is what tells "the server is slow" from "the server got no CPU".

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

/// Clock ticks per second of `/proc` times: USER_HZ, 100 on every Linux build we run on
/// (reading it properly needs libc's sysconf, and the crate forbids unsafe code).
const TICKS_PER_SEC: f64 = 100.0;

/// CPU time counters at one instant.
#[derive(Debug, Clone)]
pub struct Snapshot {
    at: Instant,
    machine_busy: u64,
    steal: u64,
    by_name: BTreeMap<String, u64>,
    loadavg: String,
}

/// Cores used on average over a window, by who used them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CpuSplit {
    /// Busy cores of the whole machine (user+system+irq, steal excluded).
    pub machine: f64,
    /// Cores the hypervisor gave to other guests (time we wanted but did not get).
    pub steal: f64,
    /// Cores by process group; "other" is the machine's rest (compilers, other tests, …).
    pub by: BTreeMap<String, f64>,
    pub loadavg_start: String,
    pub loadavg_end: String,
}

/// Who to watch: names for pids, and PostgreSQL's processes split into the bench database's
/// backends ("pg"), background processes ("pg-bg": WAL writer, checkpointer, …, shared with
/// everyone) and other databases' backends ("pg-others": other people's tests).
#[derive(Debug, Clone, Default)]
pub struct Watch {
    pub pids: Vec<(String, u32)>,
    pub pg_db: Option<String>,
}

impl Watch {
    pub fn new(pids: Vec<(String, u32)>, pg_db: Option<String>) -> Watch {
        Watch { pids, pg_db }
    }
}

/// The database name at the end of a PostgreSQL URL.
pub fn db_of_url(url: &str) -> Option<String> {
    let path = url.split_once("://")?.1.split_once('/')?.1;
    let name = path.split(['?', '#']).next()?;
    (!name.is_empty()).then(|| name.to_owned())
}

/// Which PostgreSQL group a process with this title belongs to.
fn pg_group(title: &str, db: Option<&str>) -> &'static str {
    // Backends are titled "postgres: [cluster:] USER DB HOST(PORT) STATE".
    let is_backend = title.contains('(');
    match db {
        None => "pg",
        Some(d) if title.split_whitespace().any(|w| w == d) => "pg",
        Some(_) if is_backend => "pg-others",
        Some(_) => "pg-bg",
    }
}

fn proc_ticks(stat: &str) -> Option<u64> {
    // Fields after the ")" that closes comm: state is the first, utime the 12th, stime the 13th.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn pid_ticks(pid: u32) -> Option<u64> {
    proc_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Ticks of every `postgres` process, by group.
fn postgres_ticks(db: Option<&str>, into: &mut BTreeMap<String, u64>) {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return;
    };
    for pid in dir
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
    {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() != "postgres" {
            continue;
        }
        let title = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let title = title.replace('\0', " ");
        *into.entry(pg_group(&title, db).to_owned()).or_default() += pid_ticks(pid).unwrap_or(0);
    }
}

/// (busy, steal) ticks of the whole machine from the first line of /proc/stat.
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let nums: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|n| n.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal …
    let get = |i: usize| nums.get(i).copied().unwrap_or(0);
    (get(0) + get(1) + get(2) + get(5) + get(6), get(7))
}

pub fn snapshot(watch: &Watch) -> Snapshot {
    let mut by_name = BTreeMap::new();
    by_name.insert(
        "refugio-bench".to_owned(),
        pid_ticks(std::process::id()).unwrap_or(0),
    );
    for (name, pid) in &watch.pids {
        *by_name.entry(name.clone()).or_default() += pid_ticks(*pid).unwrap_or(0);
    }
    postgres_ticks(watch.pg_db.as_deref(), &mut by_name);
    let (machine_busy, steal) = machine_ticks();
    Snapshot {
        at: Instant::now(),
        machine_busy,
        steal,
        by_name,
        loadavg: std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default(),
    }
}

/// The average cores used between two snapshots.
pub fn split(start: &Snapshot, end: &Snapshot) -> CpuSplit {
    let secs = end.at.duration_since(start.at).as_secs_f64().max(1e-3);
    let cores = |a: u64, b: u64| b.saturating_sub(a) as f64 / TICKS_PER_SEC / secs;
    let mut by = BTreeMap::new();
    for (name, &t1) in &end.by_name {
        let t0 = start.by_name.get(name).copied().unwrap_or(t1);
        by.insert(name.clone(), cores(t0, t1));
    }
    let machine = cores(start.machine_busy, end.machine_busy);
    let ours: f64 = by.values().sum();
    by.insert("other".into(), (machine - ours).max(0.0));
    CpuSplit {
        machine,
        steal: cores(start.steal, end.steal),
        by,
        loadavg_start: start.loadavg.clone(),
        loadavg_end: end.loadavg.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_stat_with_spaces_in_comm() {
        let line = "42 (tokio (rt) x) S 1 42 42 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 3 0";
        assert_eq!(proc_ticks(line), Some(300));
    }

    #[test]
    fn postgres_processes_are_grouped() {
        let ours = "postgres: 15/main: postgres refugio_bench_1 127.0.0.1(5000) idle";
        let theirs = "postgres: 15/main: postgres refugio_t_9 127.0.0.1(5001) idle";
        let bg = "postgres: 15/main: walwriter ";
        let db = Some("refugio_bench_1");
        assert_eq!(
            [pg_group(ours, db), pg_group(theirs, db), pg_group(bg, db)],
            ["pg", "pg-others", "pg-bg"]
        );
        assert_eq!(pg_group(theirs, None), "pg");
        assert_eq!(
            db_of_url("postgres://u@h:5432/refugio_bench_1?sslmode=disable").as_deref(),
            Some("refugio_bench_1")
        );
    }

    #[test]
    fn this_process_is_seen() {
        let s = snapshot(&Watch::default());
        assert!(s.by_name.contains_key("refugio-bench"));
    }
}
