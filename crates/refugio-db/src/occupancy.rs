//! Occupancy: how many beds are taken, as an append-only history of records. The shelter's own
//! `occupied_beds`/`bed_capacity` columns mirror the current record (latest `as_of`, ties broken
//! by the latest `recorded_at`), so the public directory reads them without a join.

use crate::schema::{occupancy_records, shelters};
use crate::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = occupancy_records)]
pub struct OccupancyRow {
    pub id: String,
    pub shelter_id: String,
    pub occupied_beds: i64,
    pub bed_capacity: i64,
    pub as_of: NaiveDateTime,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

/// Row-locks the shelter for this transaction (a no-op update) and returns its current
/// `(occupied_beds, bed_capacity)`, or `None` when there is no such shelter. On PostgreSQL this
/// queues concurrent recordings for one shelter, so each sees the records committed before it.
pub fn lock_shelter(conn: &mut DbConnection, shelter_id: &str) -> QueryResult<Option<(i64, i64)>> {
    let n = diesel::update(shelters::table.find(shelter_id))
        .set(shelters::occupied_beds.eq(shelters::occupied_beds))
        .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    shelters::table
        .find(shelter_id)
        .select((shelters::occupied_beds, shelters::bed_capacity))
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConnection, row: &OccupancyRow) -> QueryResult<()> {
    diesel::insert_into(occupancy_records::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The shelter's current record: latest `as_of`, then latest `recorded_at`, then highest id.
pub fn current(conn: &mut DbConnection, shelter_id: &str) -> QueryResult<Option<OccupancyRow>> {
    history(conn, shelter_id, 1).map(|rows| rows.into_iter().next())
}

/// Up to `limit` of the shelter's records, newest `as_of` first (ties: newest recorded first).
pub fn history(
    conn: &mut DbConnection,
    shelter_id: &str,
    limit: i64,
) -> QueryResult<Vec<OccupancyRow>> {
    occupancy_records::table
        .filter(occupancy_records::shelter_id.eq(shelter_id))
        .order((
            occupancy_records::as_of.desc(),
            occupancy_records::recorded_at.desc(),
            occupancy_records::id.desc(),
        ))
        .select(OccupancyRow::as_select())
        .limit(limit)
        .load(conn)
}

/// Sets the shelter's mirrored current occupancy (call with the current record's values).
pub fn set_shelter_current(
    conn: &mut DbConnection,
    shelter_id: &str,
    occupied_beds: i64,
    bed_capacity: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(shelters::table.find(shelter_id))
        .set((
            shelters::occupied_beds.eq(occupied_beds),
            shelters::bed_capacity.eq(bed_capacity),
            shelters::updated_at.eq(now),
        ))
        .execute(conn)
}
