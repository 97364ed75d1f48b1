//! Occupancy: recording how many beds are taken, and the shelter's current figure and history.
//!
//! The history is append-only. The current figure is the record with the latest `as_of` (ties:
//! the latest recorded); the shelter's `occupied_beds`/`bed_capacity` columns are set from a new
//! record only when it becomes the current one, so a backdated record joins the history without
//! overriding a newer one.

use crate::audit_log::record;
use crate::error::{ApiError, ApiResult};
use crate::i18n::FieldIssue;
use chrono::{DateTime, NaiveDateTime, Utc};
use refugio_db::occupancy::{self as repo, OccupancyRow};
use refugio_db::DbConnection;
use serde::Serialize;
use serde_json::json;

/// The largest bed capacity accepted (as for shelters).
pub const MAX_BEDS: i64 = 100_000;
/// How many history entries the occupancy document carries (the newest ones).
pub const HISTORY_MAX: i64 = 500;

/// One recorded figure.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OccupancyEntry {
    pub occupied_beds: i64,
    pub bed_capacity: i64,
    /// When the figure was true (RFC 3339, UTC).
    pub as_of: DateTime<Utc>,
    /// The user who recorded it.
    pub recorded_by: String,
}

/// A shelter's current occupancy and its history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OccupancyView {
    /// The current figure (0 before the first record).
    pub occupied_beds: i64,
    /// The shelter's current bed capacity.
    pub bed_capacity: i64,
    /// `as_of` of the current record; null before the first record.
    pub as_of: Option<DateTime<Utc>>,
    /// Up to the 500 newest records, newest `as_of` first (ties: newest recorded first).
    pub history: Vec<OccupancyEntry>,
}

/// The occupancy document of a shelter.
pub fn view(conn: &mut DbConnection, shelter_id: &str) -> ApiResult<OccupancyView> {
    let shelter = refugio_db::shelters::find(conn, shelter_id)?.ok_or(ApiError::NotFound)?;
    let rows = repo::history(conn, shelter_id, HISTORY_MAX)?;
    Ok(OccupancyView {
        occupied_beds: shelter.occupied_beds,
        bed_capacity: shelter.bed_capacity,
        as_of: rows.first().map(|r| r.as_of.and_utc()),
        history: rows
            .into_iter()
            .map(|r| OccupancyEntry {
                occupied_beds: r.occupied_beds,
                bed_capacity: r.bed_capacity,
                as_of: r.as_of.and_utc(),
                recorded_by: r.recorded_by,
            })
            .collect(),
    })
}

/// A validated new record; `bed_capacity` `None` keeps the shelter's current capacity.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub occupied_beds: i64,
    pub bed_capacity: Option<i64>,
    pub as_of: NaiveDateTime,
}

/// Records a figure (inside the caller's write transaction) and returns the new document.
pub fn record_occupancy(
    conn: &mut DbConnection,
    actor: &str,
    shelter_id: &str,
    new: NewRecord,
) -> ApiResult<OccupancyView> {
    let (_, capacity_now) = repo::lock_shelter(conn, shelter_id)?.ok_or(ApiError::NotFound)?;
    let bed_capacity = new.bed_capacity.unwrap_or(capacity_now);
    if new.occupied_beds > bed_capacity {
        let issue = FieldIssue::Range {
            min: 0,
            max: bed_capacity,
        };
        return Err(ApiError::field("occupied_beds", issue));
    }
    let now = refugio_db::now();
    let row = OccupancyRow {
        id: refugio_core::new_id(),
        shelter_id: shelter_id.to_owned(),
        occupied_beds: new.occupied_beds,
        bed_capacity,
        as_of: new.as_of,
        recorded_by: actor.to_owned(),
        recorded_at: now,
    };
    repo::insert(conn, &row)?;
    let current = repo::current(conn, shelter_id)?.is_some_and(|c| c.id == row.id);
    if current {
        repo::set_shelter_current(conn, shelter_id, row.occupied_beds, row.bed_capacity, now)?;
    }
    record(
        conn,
        Some(actor),
        Some(shelter_id),
        "occupancy.recorded",
        ("occupancy", &row.id),
        json!({
            "occupied_beds": row.occupied_beds,
            "bed_capacity": row.bed_capacity,
            "as_of": row.as_of.and_utc(),
            "current": current,
        }),
    )?;
    if current {
        // Demand follows the people housed: every item's need moves with occupancy.
        crate::services::allocations::exclude_allocator(conn)?;
        let ctx = crate::services::stock::ShelterContext::load(conn, shelter_id)?;
        let items = refugio_db::items::all(conn, shelter_id)?;
        crate::services::needs::refresh_items(
            conn,
            &ctx,
            &items,
            None,
            crate::services::stock::Observed::Refresh,
        )?;
        crate::services::allocations::settle(
            conn,
            crate::services::allocations::Wait::Skip,
            Some(shelter_id),
        )?;
    }
    view(conn, shelter_id)
}
