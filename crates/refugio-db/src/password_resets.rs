//! Single-use password reset tokens (stored as SHA-256 hashes).

use crate::schema::password_resets;
use crate::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub fn insert(
    conn: &mut DbConnection,
    token_hash: &str,
    user_id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::token_hash.eq(token_hash),
            password_resets::user_id.eq(user_id),
            password_resets::created_at.eq(now),
            password_resets::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(drop)
}

/// Uses a token that is neither used nor expired; returns its user, or `None`.
pub fn consume(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let used = diesel::update(
        password_resets::table
            .find(token_hash)
            .filter(password_resets::used_at.is_null())
            .filter(password_resets::expires_at.gt(now)),
    )
    .set(password_resets::used_at.eq(now))
    .execute(conn)?;
    if used != 1 {
        return Ok(None);
    }
    password_resets::table
        .find(token_hash)
        .select(password_resets::user_id)
        .first(conn)
        .map(Some)
}
