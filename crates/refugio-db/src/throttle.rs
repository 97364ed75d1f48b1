//! Sliding-window counters for login throttling and other rate limits, shared by every server.

use crate::schema::{login_failures, password_resets, rate_events};
use crate::DbConnection;
use chrono::NaiveDateTime;
use diesel::dsl::{count_star, min};
use diesel::prelude::*;

pub fn record_login_failure(
    conn: &mut DbConnection,
    email: &str,
    address: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::id.eq(refugio_core::new_id()),
            login_failures::email.eq(email),
            login_failures::address.eq(address),
            login_failures::at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// Count and oldest time of the pair's uncleared failures since `since`.
pub fn pair_failures(
    conn: &mut DbConnection,
    email: &str,
    address: &str,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    login_failures::table
        .filter(login_failures::email.eq(email))
        .filter(login_failures::address.eq(address))
        .filter(login_failures::cleared.eq(false))
        .filter(login_failures::at.ge(since))
        .select((count_star(), min(login_failures::at)))
        .first(conn)
}

/// Count and oldest time of an email's failures since `since`, from any address.
pub fn email_failures(
    conn: &mut DbConnection,
    email: &str,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    login_failures::table
        .filter(login_failures::email.eq(email))
        .filter(login_failures::at.ge(since))
        .select((count_star(), min(login_failures::at)))
        .first(conn)
}

/// Whether `address` failed for `email` since `since`.
pub fn address_failed_for_email(
    conn: &mut DbConnection,
    email: &str,
    address: &str,
    since: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        login_failures::table
            .filter(login_failures::email.eq(email))
            .filter(login_failures::address.eq(address))
            .filter(login_failures::at.ge(since)),
    ))
    .get_result(conn)
}

/// Count and oldest time of an address's failures since `since`, for any email.
pub fn address_failures(
    conn: &mut DbConnection,
    address: &str,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    login_failures::table
        .filter(login_failures::address.eq(address))
        .filter(login_failures::at.ge(since))
        .select((count_star(), min(login_failures::at)))
        .first(conn)
}

/// A success forgives the pair's failures for the per-pair rule only.
pub fn clear_pair(conn: &mut DbConnection, email: &str, address: &str) -> QueryResult<usize> {
    diesel::update(
        login_failures::table
            .filter(login_failures::email.eq(email))
            .filter(login_failures::address.eq(address))
            .filter(login_failures::cleared.eq(false)),
    )
    .set(login_failures::cleared.eq(true))
    .execute(conn)
}

pub fn record_event(conn: &mut DbConnection, bucket: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(rate_events::table)
        .values((
            rate_events::id.eq(refugio_core::new_id()),
            rate_events::bucket.eq(bucket),
            rate_events::at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// Count and oldest time of a bucket's events since `since`.
pub fn events_since(
    conn: &mut DbConnection,
    bucket: &str,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    rate_events::table
        .filter(rate_events::bucket.eq(bucket))
        .filter(rate_events::at.ge(since))
        .select((count_star(), min(rate_events::at)))
        .first(conn)
}

/// Drops counters older than `before`: nothing reads past the longest window.
pub fn purge_before(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    let a = diesel::delete(login_failures::table.filter(login_failures::at.lt(before)))
        .execute(conn)?;
    let b = diesel::delete(rate_events::table.filter(rate_events::at.lt(before))).execute(conn)?;
    let c = diesel::delete(password_resets::table.filter(password_resets::expires_at.lt(before)))
        .execute(conn)?;
    Ok(a + b + c)
}
