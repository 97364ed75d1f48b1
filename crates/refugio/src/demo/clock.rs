//! Days counted back from today in the shelters' time zone, and the fixed "noise" that makes
//! the history look lived-in while every run draws the same figures.

use anyhow::Context;
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;

pub struct Clock {
    tz: Tz,
    today: NaiveDate,
}

impl Clock {
    pub fn new(timezone: &str) -> anyhow::Result<Clock> {
        let tz: Tz = timezone
            .parse()
            .map_err(|e| anyhow::anyhow!("unknown time zone {timezone}: {e}"))?;
        let today = tz.from_utc_datetime(&refugio_db::now()).date_naive();
        Ok(Clock { tz, today })
    }

    /// The shelter-local date `days_ago` days before today.
    pub fn date(&self, days_ago: i64) -> NaiveDate {
        self.today - chrono::Duration::days(days_ago)
    }

    /// RFC 3339 for `hour`:00 local time, `days_ago` days before today.
    pub fn at(&self, days_ago: i64, hour: u32) -> anyhow::Result<String> {
        let local = self
            .date(days_ago)
            .and_hms_opt(hour, 0, 0)
            .context("a valid hour")?;
        let at = self
            .tz
            .from_local_datetime(&local)
            .earliest()
            .with_context(|| format!("{local} does not exist in {}", self.tz))?;
        Ok(at.to_rfc3339())
    }
}

/// A fixed draw in 0..1000 for a name and a day (SplitMix64 over an FNV-1a hash).
pub fn draw(name: &str, day: i64) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = h ^ (day as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 31)) % 1000) as i64
}

/// `value` scaled by a factor between `1 - spread` and `1 + spread` (per mille).
pub fn wobble(value: i64, spread: i64, name: &str, day: i64) -> i64 {
    let factor = 1000 - spread + draw(name, day) * 2 * spread / 999;
    value * factor / 1000
}

/// `value` rounded half up to a multiple of `step`.
pub fn round_to(value: i64, step: i64) -> i64 {
    (value + step / 2) / step * step
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_fixed_and_in_range() {
        assert_eq!(draw("Agua", 3), draw("Agua", 3));
        assert_ne!(draw("Agua", 3), draw("Agua", 4));
        for day in 0..200 {
            assert!((0..1000).contains(&draw("Frijol", day)));
            let w = wobble(1000, 150, "Frijol", day);
            assert!((850..=1150).contains(&w), "{w}");
        }
        assert_eq!(round_to(1249, 500), 1000);
        assert_eq!(round_to(1250, 500), 1500);
    }
}
