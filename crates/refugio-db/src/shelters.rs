//! Shelters: the tenants.

use crate::schema::shelters;
use crate::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = shelters)]
pub struct ShelterRow {
    pub id: String,
    pub name: String,
    pub city: String,
    pub region: String,
    pub country: String,
    pub timezone: String,
    pub currency: String,
    pub bed_capacity: i64,
    pub occupied_beds: i64,
    pub public_location: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &ShelterRow) -> QueryResult<()> {
    diesel::insert_into(shelters::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<ShelterRow>> {
    shelters::table
        .find(id)
        .select(ShelterRow::as_select())
        .first(conn)
        .optional()
}

/// Several shelters by id, in no particular order.
pub fn find_many(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<ShelterRow>> {
    shelters::table
        .filter(shelters::id.eq_any(ids))
        .select(ShelterRow::as_select())
        .load(conn)
}

pub fn exists(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(shelters::table.find(id))).get_result(conn)
}

/// Writes every column of an existing shelter (the caller changed what it may change).
pub fn update(conn: &mut DbConnection, row: &ShelterRow) -> QueryResult<usize> {
    diesel::update(shelters::table.find(&row.id))
        .set(row)
        .execute(conn)
}

/// One page of shelters by (name, id), strictly after `after` when given.
pub fn page_by_name(
    conn: &mut DbConnection,
    after: Option<(&str, &str)>,
    limit: i64,
) -> QueryResult<Vec<ShelterRow>> {
    let mut query = shelters::table
        .select(ShelterRow::as_select())
        .order((shelters::name, shelters::id))
        .into_boxed();
    if let Some((name, id)) = after {
        query = query.filter(
            shelters::name
                .gt(name)
                .or(shelters::name.eq(name).and(shelters::id.gt(id))),
        );
    }
    query.limit(limit).load(conn)
}
