//! `/shelters/{sid}/bills`: bills a shelter owes — recording, listing by due date, editing while
//! nothing is paid, voiding (managers, admins).

use crate::auth::{Manage, Read, ShelterScope, Write};
use crate::body::Body;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::Idempotency;
use crate::money::MoneyJson;
use crate::pagination::{bad_cursor, encode_cursor, Page, PageQuery};
use crate::services::bills::{
    self, BillChanges, BillView, NewBill, CATEGORIES, DESCRIPTION_MAX, PAYEE_MAX,
};
use crate::state::AppState;
use crate::validate::{checked, Fields};
use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpResponse};
use chrono::NaiveDate;
use refugio_core::inventory::BillCategory;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateBillRequest {
    /// Who is owed: 1 to 200 characters, no control characters.
    pub payee: String,
    /// `rent | electricity | water | gas | internet | phone | medical | transport | other`.
    pub category: String,
    /// Above zero, in the shelter's currency, at most 2 decimals.
    pub amount: MoneyJson,
    /// `YYYY-MM-DD`, in the shelter's time zone.
    pub due_on: String,
    /// Up to 2000 characters.
    pub description: Option<String>,
}

/// Records a bill (coordinators, managers, admins); it starts `unpaid`.
#[utoipa::path(tag = "bills", params(("sid" = String, Path)), request_body = CreateBillRequest,
    responses((status = 201, body = BillView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/shelters/{sid}/bills")]
pub async fn create(
    state: web::Data<AppState>,
    scope: ShelterScope<Write>,
    idem: Idempotency,
    body: Body<CreateBillRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner()?;
    let (sid, actor) = (scope.shelter_id.clone(), scope.caller.user_id.clone());
    let currency = {
        let sid = sid.clone();
        db::read(&state, move |c| {
            crate::services::shelters::currency(c, &sid)
        })
        .await?
    };
    let mut f = Fields::new();
    let payee = f.name("payee", &b.payee, PAYEE_MAX);
    let category = f.one_of::<BillCategory>("category", &b.category, CATEGORIES);
    let amount = bills::amount(&mut f, "amount", &b.amount, &currency);
    let due_on = bills::due_on(&mut f, "due_on", &b.due_on);
    let description = f.note("description", b.description.as_deref(), DESCRIPTION_MAX);
    f.finish()?;
    let new = NewBill {
        payee: checked(payee)?,
        category: checked(category)?,
        amount: checked(amount)?,
        due_on: checked(due_on)?,
        description,
    };
    db::write_reply(&state, idem.0, StatusCode::CREATED, move |c| {
        bills::create(c, &actor, &sid, &currency, new)
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct BillQuery {
    /// Comma-separated statuses (`unpaid`, `partially_paid`, `paid`, `void`); default all.
    /// Any other value: `400 bad_query`.
    pub status: Option<String>,
    /// Page size: default 50, above 500 is clamped to 500.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The shelter's bills by due date, then id (its staff, admins, auditors).
#[utoipa::path(tag = "bills", params(("sid" = String, Path), BillQuery),
    responses((status = 200, body = Page<BillView>), (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/shelters/{sid}/bills")]
pub async fn list(
    state: web::Data<AppState>,
    scope: ShelterScope<Read>,
    query: web::Query<BillQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let statuses = bills::parse_statuses(q.status.as_deref())?;
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    let limit = page.limit()?;
    let after = match page.cursor::<2>()? {
        Some([due_on, id]) => {
            let due_on =
                NaiveDate::parse_from_str(&due_on, "%Y-%m-%d").map_err(|_| bad_cursor())?;
            Some((due_on, id))
        }
        None => None,
    };
    let sid = scope.shelter_id.clone();
    let rows = db::read(&state, move |c| {
        Ok(refugio_db::bills::page(
            c,
            &sid,
            statuses.as_deref(),
            after.as_ref().map(|(d, id)| (*d, id.as_str())),
            limit + 1,
        )?)
    })
    .await?;
    let page = Page::from_rows(
        rows,
        limit,
        |r| encode_cursor(&[&r.due_on.format("%Y-%m-%d").to_string(), &r.id]),
        BillView::from,
    );
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UpdateBillRequest {
    pub payee: Option<String>,
    pub category: Option<String>,
    pub amount: Option<MoneyJson>,
    pub due_on: Option<String>,
    /// A blank string clears it; absent or null leaves it as it is.
    pub description: Option<String>,
}

/// Edits a bill while nothing is paid (coordinators, managers, admins).
///
/// Only an `unpaid` bill with nothing paid can be edited; otherwise `409 invalid_transition`.
/// Absent fields stay as they are.
#[utoipa::path(tag = "bills", params(("sid" = String, Path), ("bid" = String, Path)), request_body = UpdateBillRequest,
    responses((status = 200, body = BillView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[patch("/shelters/{sid}/bills/{bid}")]
pub async fn update(
    state: web::Data<AppState>,
    scope: ShelterScope<Write>,
    path: web::Path<(String, String)>,
    body: Body<UpdateBillRequest>,
) -> ApiResult<HttpResponse> {
    let (_, bid) = path.into_inner();
    if !refugio_core::ids::is_well_formed(&bid) {
        return Err(ApiError::NotFound);
    }
    let (sid, actor) = (scope.shelter_id.clone(), scope.caller.user_id.clone());
    // An unknown bill is a 404 before the body is judged; the currency judges the amount.
    let currency = {
        let (sid, bid) = (sid.clone(), bid.clone());
        db::read(&state, move |c| {
            refugio_db::bills::find(c, &sid, &bid)?.ok_or(ApiError::NotFound)?;
            crate::services::shelters::currency(c, &sid)
        })
        .await?
    };
    let b = body.into_inner()?;
    let mut f = Fields::new();
    let payee = b.payee.as_deref().map(|v| f.name("payee", v, PAYEE_MAX));
    let category = b
        .category
        .as_deref()
        .map(|v| f.one_of::<BillCategory>("category", v, CATEGORIES));
    let amount = b
        .amount
        .as_ref()
        .map(|v| bills::amount(&mut f, "amount", v, &currency));
    let due_on = b
        .due_on
        .as_deref()
        .map(|v| bills::due_on(&mut f, "due_on", v));
    let description = b
        .description
        .as_deref()
        .map(|v| f.note("description", Some(v), DESCRIPTION_MAX));
    f.finish()?;
    let changes = BillChanges {
        payee: payee.map(checked).transpose()?,
        category: category.map(checked).transpose()?,
        amount: amount.map(checked).transpose()?,
        due_on: due_on.map(checked).transpose()?,
        description,
    };
    db::write_reply(&state, None, StatusCode::OK, move |c| {
        bills::update(c, &actor, &sid, &bid, changes)
    })
    .await
}

/// Voids a bill (managers, admins). No body.
///
/// Only an `unpaid` bill with nothing paid can be voided; a void or (partially) paid bill:
/// `409 invalid_transition`.
#[utoipa::path(tag = "bills", params(("sid" = String, Path), ("bid" = String, Path)),
    responses((status = 200, body = BillView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/shelters/{sid}/bills/{bid}/void")]
pub async fn void(
    state: web::Data<AppState>,
    scope: ShelterScope<Manage>,
    idem: Idempotency,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (_, bid) = path.into_inner();
    if !refugio_core::ids::is_well_formed(&bid) {
        return Err(ApiError::NotFound);
    }
    let (sid, actor) = (scope.shelter_id.clone(), scope.caller.user_id.clone());
    db::write_reply(&state, idem.0, StatusCode::OK, move |c| {
        bills::void(c, &actor, &sid, &bid)
    })
    .await
}
