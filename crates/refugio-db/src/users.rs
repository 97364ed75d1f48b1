//! Users and their shelter memberships.

use crate::schema::{memberships, users};
use crate::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub locale: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = memberships)]
pub struct MembershipRow {
    pub user_id: String,
    pub shelter_id: String,
    pub role: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, user: &UserRow) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// The active users of a platform role (`auditor`, …), oldest first.
pub fn active_with_role(conn: &mut DbConnection, role: &str) -> QueryResult<Vec<UserRow>> {
    users::table
        .filter(users::role.eq(role))
        .filter(users::active.eq(true))
        .order((users::created_at, users::id))
        .select(UserRow::as_select())
        .load(conn)
}

pub fn email_taken(conn: &mut DbConnection, email: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::email.eq(email)),
    ))
    .get_result(conn)
}

pub fn set_active(conn: &mut DbConnection, id: &str, active: bool) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((users::active.eq(active), users::updated_at.eq(crate::now())))
        .execute(conn)
}

pub fn set_password_hash(conn: &mut DbConnection, id: &str, hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::updated_at.eq(crate::now()),
        ))
        .execute(conn)
}

pub fn memberships_of(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<MembershipRow>> {
    memberships::table
        .filter(memberships::user_id.eq(user_id))
        .order(memberships::shelter_id)
        .select(MembershipRow::as_select())
        .load(conn)
}

pub fn membership(
    conn: &mut DbConnection,
    user_id: &str,
    shelter_id: &str,
) -> QueryResult<Option<MembershipRow>> {
    memberships::table
        .find((user_id, shelter_id))
        .select(MembershipRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_membership(conn: &mut DbConnection, row: &MembershipRow) -> QueryResult<()> {
    diesel::insert_into(memberships::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn delete_membership(
    conn: &mut DbConnection,
    user_id: &str,
    shelter_id: &str,
) -> QueryResult<usize> {
    diesel::delete(memberships::table.find((user_id, shelter_id))).execute(conn)
}

/// A shelter's members with their accounts, by name then id.
pub fn members_of(
    conn: &mut DbConnection,
    shelter_id: &str,
) -> QueryResult<Vec<(MembershipRow, UserRow)>> {
    memberships::table
        .inner_join(users::table)
        .filter(memberships::shelter_id.eq(shelter_id))
        .order((users::name, users::id))
        .select((MembershipRow::as_select(), UserRow::as_select()))
        .load(conn)
}
