//! Login throttling with sliding windows, shared by every server through the database:
//! 1. 5 failures for one email from one address in 15 min: that pair waits (the right password
//!    included) until the window frees; a success clears this rule for the pair;
//! 2. once an email has 100 failures in an hour, only addresses with no failure for it in that
//!    hour may still try (so nobody can lock a colleague out from elsewhere);
//! 3. 50 failures from one address in 15 min: that address waits.

use crate::error::{ApiError, ApiResult};
use chrono::{Duration, NaiveDateTime};
use refugio_db::throttle;
use refugio_db::DbConnection;

const PAIR_LIMIT: i64 = 5;
const EMAIL_LIMIT: i64 = 100;
const ADDRESS_LIMIT: i64 = 50;

fn short_window() -> Duration {
    Duration::minutes(15)
}

fn long_window() -> Duration {
    Duration::hours(1)
}

fn wait_until(oldest: Option<NaiveDateTime>, window: Duration, now: NaiveDateTime) -> ApiError {
    let free_at = oldest.map_or(now, |t| t + window);
    let secs = (free_at - now).num_seconds().max(1);
    ApiError::Throttled {
        retry_after_secs: u64::try_from(secs).unwrap_or(1),
    }
}

/// `429` if this email and address may not try now.
pub fn check(
    conn: &mut DbConnection,
    email: &str,
    address: &str,
    now: NaiveDateTime,
) -> ApiResult<()> {
    let (pair, oldest) = throttle::pair_failures(conn, email, address, now - short_window())?;
    if pair >= PAIR_LIMIT {
        return Err(wait_until(oldest, short_window(), now));
    }
    let (by_address, oldest) = throttle::address_failures(conn, address, now - short_window())?;
    if by_address >= ADDRESS_LIMIT {
        return Err(wait_until(oldest, short_window(), now));
    }
    let since = now - long_window();
    let (by_email, oldest) = throttle::email_failures(conn, email, since)?;
    if by_email >= EMAIL_LIMIT && throttle::address_failed_for_email(conn, email, address, since)? {
        return Err(wait_until(oldest, long_window(), now));
    }
    Ok(())
}

pub fn record_failure(
    conn: &mut DbConnection,
    email: &str,
    address: &str,
    now: NaiveDateTime,
) -> ApiResult<()> {
    throttle::record_login_failure(conn, email, address, now)?;
    Ok(())
}

pub fn record_success(conn: &mut DbConnection, email: &str, address: &str) -> ApiResult<()> {
    throttle::clear_pair(conn, email, address)?;
    Ok(())
}
