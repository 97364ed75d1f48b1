//! When a message whose delivery failed is tried again, and when it is given up.

use std::time::Duration;

/// Exponential backoff between delivery attempts, with a cap and a last attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt; each later failure doubles it.
    pub initial_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
    /// After this many failed attempts the message is marked `failed` for good.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 30 s, 1 min, 2 min, … capped at 1 h; 8 attempts in all.
    fn default() -> RetryPolicy {
        RetryPolicy {
            initial_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(60 * 60),
            max_attempts: 8,
        }
    }
}

impl RetryPolicy {
    /// The wait before the next attempt after `attempts` failed ones, `None` to give up.
    pub fn delay_after(&self, attempts: u32) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let doublings = attempts.saturating_sub(1);
        let delay = 2u32
            .checked_pow(doublings)
            .and_then(|factor| self.initial_backoff.checked_mul(factor))
            .unwrap_or(self.max_backoff);
        Some(delay.min(self.max_backoff))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_backoff_doubles_from_30_seconds_and_gives_up_after_8_attempts() {
        let policy = RetryPolicy::default();
        let delays: Vec<u64> = (1..8)
            .map(|n| policy.delay_after(n).expect("a retry").as_secs())
            .collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920]);
        assert_eq!(policy.delay_after(8), None);
        assert_eq!(policy.delay_after(9), None);
    }

    #[test]
    fn backoff_is_capped() {
        let policy = RetryPolicy {
            max_attempts: u32::MAX,
            ..RetryPolicy::default()
        };
        assert_eq!(
            policy.delay_after(8),
            Some(Duration::from_secs(60 * 60)),
            "30 s × 2⁷ = 64 min, over the cap"
        );
        assert_eq!(policy.delay_after(200), Some(Duration::from_secs(60 * 60)));
    }
}
