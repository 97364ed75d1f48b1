//! Latency samples (microseconds) and their percentiles.

use serde::{Deserialize, Serialize};

/// Percentiles of one run, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// Nearest-rank percentiles of `samples_us` (sorted in place).
pub fn percentiles(samples_us: &mut [u32]) -> Percentiles {
    if samples_us.is_empty() {
        return Percentiles::default();
    }
    samples_us.sort_unstable();
    let at = |p: f64| {
        let rank = ((p / 100.0) * samples_us.len() as f64).ceil() as usize;
        f64::from(samples_us[rank.clamp(1, samples_us.len()) - 1]) / 1000.0
    };
    let sum: u64 = samples_us.iter().map(|&s| u64::from(s)).sum();
    Percentiles {
        p50_ms: at(50.0),
        p90_ms: at(90.0),
        p99_ms: at(99.0),
        max_ms: at(100.0),
        mean_ms: sum as f64 / samples_us.len() as f64 / 1000.0,
    }
}

/// Microseconds, saturating (a request longer than an hour is not a latency worth keeping).
pub fn micros(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let mut v: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        let p = percentiles(&mut v);
        assert_eq!(
            (p.p50_ms, p.p90_ms, p.p99_ms, p.max_ms),
            (50.0, 90.0, 99.0, 100.0)
        );
        assert!((p.mean_ms - 50.5).abs() < 1e-9);
        assert_eq!(percentiles(&mut []).max_ms, 0.0);
    }
}
