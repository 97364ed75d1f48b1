//! Stored responses for `Idempotency-Key` requests, scoped to the user.

use crate::schema::idempotency_keys;
use crate::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub user_id: String,
    pub idem_key: String,
    pub method: String,
    pub path: String,
    pub request_hash: String,
    /// `None` while the first request is still running.
    pub status: Option<i64>,
    pub response_body: Option<String>,
    pub locked_until: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

pub fn find(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
) -> QueryResult<Option<IdempotencyRow>> {
    idempotency_keys::table
        .find((user_id, key))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConnection, row: &IdempotencyRow) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Takes over a running claim whose lease ran out (its server died); 0 rows if someone else did.
pub fn take_over(
    conn: &mut DbConnection,
    row: &IdempotencyRow,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        idempotency_keys::table
            .find((&row.user_id, &row.idem_key))
            .filter(idempotency_keys::status.is_null())
            .filter(idempotency_keys::locked_until.lt(now)),
    )
    .set((
        idempotency_keys::method.eq(&row.method),
        idempotency_keys::path.eq(&row.path),
        idempotency_keys::request_hash.eq(&row.request_hash),
        idempotency_keys::locked_until.eq(row.locked_until),
    ))
    .execute(conn)
}

/// Stores the response of a running claim.
pub fn complete(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
    status: i64,
    body: &str,
) -> QueryResult<usize> {
    diesel::update(
        idempotency_keys::table
            .find((user_id, key))
            .filter(idempotency_keys::status.is_null()),
    )
    .set((
        idempotency_keys::status.eq(status),
        idempotency_keys::response_body.eq(body),
    ))
    .execute(conn)
}

/// Forgets a running claim whose response is not kept (401, 403, 429, or the server gave up).
pub fn release(conn: &mut DbConnection, user_id: &str, key: &str) -> QueryResult<usize> {
    diesel::delete(
        idempotency_keys::table
            .find((user_id, key))
            .filter(idempotency_keys::status.is_null()),
    )
    .execute(conn)
}

/// Drops completed keys created before `before` (they are kept at least 24 hours).
pub fn purge_before(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::created_at.lt(before))
            .filter(idempotency_keys::status.is_not_null()),
    )
    .execute(conn)
}
