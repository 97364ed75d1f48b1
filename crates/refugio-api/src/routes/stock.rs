//! `/shelters/{sid}/stock`: recording movements, the stock view and the ledger.

use crate::auth::{Read, ShelterScope, Write};
use crate::body::Body;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::i18n::FieldIssue;
use crate::idempotency::Idempotency;
use crate::pagination::{encode_cursor, parse_time_part, time_part, Page, PageQuery};
use crate::services::stock::{self, MovementView, NewMovement, StockLine};
use crate::state::AppState;
use crate::validate::{checked, Fields};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDateTime};
use refugio_core::inventory::MovementKind;
use refugio_db::stock::MovementFilter;
use serde::{Deserialize, Serialize};

const NOTE_MAX: usize = 1000;
pub const KINDS: &[&str] = &["receipt", "consumption", "waste", "adjustment", "count"];

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MovementRequest {
    pub item_id: String,
    /// receipt (+), consumption (−), waste (−), adjustment (signed, note required), count (sets on hand).
    pub kind: String,
    /// At most 3 decimals; > 0, except adjustment (≠ 0) and count (≥ 0).
    #[schema(value_type = f64)]
    pub quantity: serde_json::Number,
    /// RFC 3339; default now; at most 5 minutes ahead. Dates the use for demand only.
    pub occurred_at: Option<String>,
    pub note: Option<String>,
    /// Receipts only: the expense whose goods (bought with `received: false`) arrive now; at
    /// most what it bought and has not received yet.
    pub expense_id: Option<String>,
}

/// Records a stock movement; `409` if stock would go negative (nothing is written).
#[utoipa::path(tag = "stock", params(("sid" = String, Path)), request_body = MovementRequest,
    responses((status = 201, body = MovementView), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/shelters/{sid}/stock/movements")]
pub async fn record(
    state: web::Data<AppState>,
    scope: ShelterScope<Write>,
    idem: Idempotency,
    body: Body<MovementRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner()?;
    let mut f = Fields::new();
    let kind = f.one_of::<MovementKind>("kind", &b.kind, KINDS);
    let quantity = f.quantity("quantity", &b.quantity);
    if let (Some(kind), Some(q)) = (kind, quantity) {
        match kind {
            MovementKind::Adjustment if q == 0 => f.add("quantity", FieldIssue::NotZero),
            MovementKind::Count if q < 0 => f.add(
                "quantity",
                FieldIssue::Range {
                    min: 0,
                    max: 1_000_000_000_000,
                },
            ),
            MovementKind::Receipt | MovementKind::Consumption | MovementKind::Waste if q <= 0 => {
                f.add("quantity", FieldIssue::MustBePositive)
            }
            _ => {}
        }
    }
    let occurred_at = match &b.occurred_at {
        Some(t) => f.timestamp("occurred_at", t),
        None => Some(refugio_db::now()),
    };
    let note = f.note("note", b.note.as_deref(), NOTE_MAX);
    if kind == Some(MovementKind::Adjustment)
        && note.is_none()
        && b.note.as_deref().is_none_or(|n| n.trim().is_empty())
    {
        f.add("note", FieldIssue::Required);
    }
    if !refugio_core::ids::is_well_formed(&b.item_id) {
        f.add("item_id", FieldIssue::UnknownReference);
    }
    if let Some(expense) = &b.expense_id {
        if kind.is_some_and(|k| k != MovementKind::Receipt) {
            f.add("expense_id", FieldIssue::Invalid);
        } else if !refugio_core::ids::is_well_formed(expense) {
            f.add("expense_id", FieldIssue::UnknownReference);
        }
    }
    f.finish()?;
    let movement = NewMovement {
        item_id: b.item_id,
        kind: checked(kind)?,
        quantity: checked(quantity)?,
        occurred_at: checked(occurred_at)?,
        note,
        donation_id: None,
        expense_id: b.expense_id,
    };
    let (sid, actor) = (scope.shelter_id.clone(), scope.caller.user_id.clone());
    db::write_reply(&state, idem.0, StatusCode::CREATED, move |c| {
        if let Some(expense) = &movement.expense_id {
            crate::services::expenses::receive_against(
                c,
                &sid,
                expense,
                &movement.item_id,
                movement.quantity,
            )?;
        }
        stock::record_movement(c, &actor, &sid, movement).map(stock::movement_view)
    })
    .await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StockView {
    pub items: Vec<StockLine>,
    pub next_cursor: Option<String>,
}

/// Every item with on hand, daily demand, days of cover, reorder point and target, by name.
#[utoipa::path(tag = "stock", params(("sid" = String, Path)),
    responses((status = 200, body = StockView), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/shelters/{sid}/stock")]
pub async fn view(
    state: web::Data<AppState>,
    scope: ShelterScope<Read>,
) -> ApiResult<HttpResponse> {
    let sid = scope.shelter_id.clone();
    let items = db::read(&state, move |c| stock::stock_lines(c, &sid)).await?;
    Ok(HttpResponse::Ok().json(StockView {
        items,
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MovementQuery {
    pub item_id: Option<String>,
    /// RFC 3339, inclusive, on `occurred_at`.
    pub from: Option<String>,
    /// RFC 3339, exclusive, on `occurred_at`.
    pub to: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

fn time_param(name: &str, value: &Option<String>) -> ApiResult<Option<NaiveDateTime>> {
    value
        .as_deref()
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.naive_utc())
                .map_err(|_| ApiError::BadQuery(format!("{name} must be an RFC 3339 timestamp")))
        })
        .transpose()
}

/// The ledger, newest recorded first.
#[utoipa::path(tag = "stock", params(("sid" = String, Path), MovementQuery),
    responses((status = 200, body = Page<MovementView>), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/shelters/{sid}/stock/movements")]
pub async fn movements(
    state: web::Data<AppState>,
    scope: ShelterScope<Read>,
    query: web::Query<MovementQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor.clone(),
    };
    let limit = page.limit()?;
    let before = match page.cursor::<2>()? {
        Some([at, id]) => Some((parse_time_part(&at)?, id)),
        None => None,
    };
    let filter = MovementFilter {
        item_id: q.item_id.clone().filter(|i| !i.is_empty()),
        from: time_param("from", &q.from)?,
        to: time_param("to", &q.to)?,
        before,
    };
    let sid = scope.shelter_id.clone();
    let rows = db::read(&state, move |c| {
        Ok(refugio_db::stock::page(c, &sid, &filter, limit + 1)?)
    })
    .await?;
    let page = Page::from_rows(
        rows,
        limit,
        |m| encode_cursor(&[&time_part(m.recorded_at), &m.id]),
        stock::movement_view,
    );
    Ok(HttpResponse::Ok().json(page))
}
