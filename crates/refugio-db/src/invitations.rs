//! Invitations to join a shelter's staff, redeemed with an emailed single-use token.

use crate::schema::invitations;
use crate::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub id: String,
    pub shelter_id: String,
    pub email: String,
    pub role: String,
    pub token_hash: String,
    pub invited_by: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub accepted_by: Option<String>,
}

pub fn insert(conn: &mut DbConnection, row: &InvitationRow) -> QueryResult<()> {
    diesel::insert_into(invitations::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find_by_token_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()
}

/// Marks an invitation accepted; 0 rows means it was already used.
pub fn mark_accepted(
    conn: &mut DbConnection,
    id: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        invitations::table
            .find(id)
            .filter(invitations::accepted_at.is_null()),
    )
    .set((
        invitations::accepted_at.eq(now),
        invitations::accepted_by.eq(user_id),
    ))
    .execute(conn)
}
