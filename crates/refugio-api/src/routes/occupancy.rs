//! `/shelters/{sid}/occupancy`: recording how many beds are taken, and reading the figure and
//! its history.

use crate::auth::{Read, ShelterScope, Write};
use crate::body::Body;
use crate::db;
use crate::error::ApiResult;
use crate::i18n::FieldIssue;
use crate::services::occupancy::{self, NewRecord, OccupancyView, MAX_BEDS};
use crate::state::AppState;
use crate::validate::{checked, Fields};
use actix_web::http::StatusCode;
use actix_web::{get, put, web, HttpResponse};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OccupancyRequest {
    /// Beds taken: 0 to `bed_capacity`.
    pub occupied_beds: i64,
    /// The shelter's capacity from now on; default its current one.
    pub bed_capacity: Option<i64>,
    /// When the figure was true (RFC 3339, any offset); default now, at most 5 minutes ahead.
    pub as_of: Option<String>,
}

/// Records how many beds are occupied (coordinators, managers, admins).
///
/// Appends a record to the history. The shelter's current figure (and its `bed_capacity`, when
/// given) follows the record with the latest `as_of`, ties going to the latest recorded: a
/// backdated record joins the history without overriding a newer one. Answers the occupancy
/// document, as `GET` does.
#[utoipa::path(tag = "occupancy", params(("sid" = String, Path)), request_body = OccupancyRequest,
    responses((status = 200, body = OccupancyView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[put("/shelters/{sid}/occupancy")]
pub async fn record(
    state: web::Data<AppState>,
    scope: ShelterScope<Write>,
    body: Body<OccupancyRequest>,
) -> ApiResult<HttpResponse> {
    // Judged here, after the scope: actix polls extractors together (see routes::bills).
    let b = body.into_inner()?;
    let mut f = Fields::new();
    let capacity = b
        .bed_capacity
        .map(|v| f.range("bed_capacity", v, 0, MAX_BEDS));
    let occupied = f.range("occupied_beds", b.occupied_beds, 0, MAX_BEDS);
    if let (Some(occupied), Some(Some(capacity))) = (occupied, capacity) {
        if occupied > capacity {
            let issue = FieldIssue::Range {
                min: 0,
                max: capacity,
            };
            f.add("occupied_beds", issue);
        }
    }
    let as_of = b.as_of.as_deref().map(|v| f.timestamp("as_of", v));
    f.finish()?;
    let new = NewRecord {
        occupied_beds: checked(occupied)?,
        bed_capacity: capacity.map(checked).transpose()?,
        as_of: match as_of {
            Some(t) => checked(t)?,
            None => refugio_db::now(),
        },
    };
    let (sid, actor) = (scope.shelter_id.clone(), scope.caller.user_id.clone());
    db::write_reply(&state, None, StatusCode::OK, move |c| {
        occupancy::record_occupancy(c, &actor, &sid, new)
    })
    .await
}

/// The shelter's current occupancy and its history (its staff, admins, auditors).
///
/// `occupied_beds` and `bed_capacity` are the shelter's current figures (0 and its capacity
/// before any record); `as_of` is the current record's, null before any. `history` holds the
/// 500 newest records by `as_of` (newest first; ties: newest recorded first) and is not
/// paginated: older records are kept but not listed here.
#[utoipa::path(tag = "occupancy", params(("sid" = String, Path)),
    responses((status = 200, body = OccupancyView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/shelters/{sid}/occupancy")]
pub async fn show(
    state: web::Data<AppState>,
    scope: ShelterScope<Read>,
) -> ApiResult<HttpResponse> {
    let sid = scope.shelter_id.clone();
    let view = db::read(&state, move |c| occupancy::view(c, &sid)).await?;
    Ok(HttpResponse::Ok().json(view))
}
