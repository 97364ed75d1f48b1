//! `/shelters/{sid}/expenses`: what a shelter spent, linked to the need or bill it paid for and
//! funded by the donations allocated there, oldest first.

use crate::auth::{Read, ShelterScope, Write};
use crate::body::Body;
use crate::db;
use crate::error::ApiResult;
use crate::i18n::FieldIssue;
use crate::idempotency::Idempotency;
use crate::money::MoneyJson;
use crate::pagination::{encode_cursor, parse_time_part, time_part, Page, PageQuery};
use crate::routes::needs::CATEGORIES;
use crate::services::expenses::{self, ExpenseView, NewExpense, DESCRIPTION_MAX, RECEIPT_REF_MAX};
use crate::state::AppState;
use crate::validate::{checked, Fields};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use refugio_core::engine::needs::NeedCategory;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ExpenseRequest {
    /// Above zero, in the shelter's currency.
    pub amount: MoneyJson,
    /// A need category; the linked need's (or bill's) when linked, required when not.
    pub category: Option<String>,
    /// 1 to 2000 characters.
    pub description: String,
    /// `YYYY-MM-DD`, shelter-local, not after the shelter's today.
    pub spent_on: String,
    /// The need paid for (a bill need's id means its bill). At most one of `need_id`/`bill_id`.
    pub need_id: Option<String>,
    pub bill_id: Option<String>,
    /// Item needs: the goods bought (required there, refused elsewhere).
    #[schema(value_type = Option<f64>)]
    pub quantity: Option<serde_json::Number>,
    /// Item needs: whether the goods arrived now (default true: a receipt is written); false
    /// counts them as incoming until receipts naming this expense arrive.
    pub received: Option<bool>,
    /// The invoice or receipt number.
    pub receipt_ref: Option<String>,
}

fn reference(f: &mut Fields, field: &str, value: Option<&str>) -> Option<String> {
    let v = value?.trim();
    if refugio_core::ids::is_well_formed(v) {
        Some(v.to_owned())
    } else {
        f.add(field, FieldIssue::UnknownReference);
        None
    }
}

/// Records an expense (coordinators, managers, admins); `funded_by` says which donations paid.
#[utoipa::path(tag = "expenses", params(("sid" = String, Path)), request_body = ExpenseRequest,
    responses((status = 201, body = ExpenseView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/shelters/{sid}/expenses")]
pub async fn create(
    state: web::Data<AppState>,
    scope: ShelterScope<Write>,
    idem: Idempotency,
    body: Body<ExpenseRequest>,
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
    let amount = crate::services::bills::amount(&mut f, "amount", &b.amount, &currency);
    let category = b
        .category
        .as_deref()
        .map(|c| f.one_of::<NeedCategory>("category", c, CATEGORIES));
    let description = f.name("description", &b.description, DESCRIPTION_MAX);
    let spent_on = f.date("spent_on", &b.spent_on);
    let need_id = reference(&mut f, "need_id", b.need_id.as_deref());
    let bill_id = reference(&mut f, "bill_id", b.bill_id.as_deref());
    if b.need_id.is_some() && b.bill_id.is_some() {
        f.add("bill_id", FieldIssue::Invalid);
    }
    let quantity = b
        .quantity
        .as_ref()
        .and_then(|q| f.positive_quantity("quantity", q));
    let receipt_ref = f.note("receipt_ref", b.receipt_ref.as_deref(), RECEIPT_REF_MAX);
    f.finish()?;
    let new = NewExpense {
        amount: checked(amount)?,
        category: category.map(checked).transpose()?,
        description: checked(description)?,
        spent_on: checked(spent_on)?,
        need_id,
        bill_id,
        quantity,
        received: b.received,
        receipt_ref,
    };
    db::write_reply(&state, idem.0, StatusCode::CREATED, move |c| {
        expenses::create(c, &actor, &sid, &currency, new)
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExpenseQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The shelter's expenses, newest first (its staff, admins, auditors).
#[utoipa::path(tag = "expenses", params(("sid" = String, Path), ExpenseQuery),
    responses((status = 200, body = Page<ExpenseView>), (status = 400, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/shelters/{sid}/expenses")]
pub async fn list(
    state: web::Data<AppState>,
    scope: ShelterScope<Read>,
    query: web::Query<ExpenseQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    let limit = page.limit()?;
    let before = match page.cursor::<2>()? {
        Some([at, id]) => Some((parse_time_part(&at)?, id)),
        None => None,
    };
    let sid = scope.shelter_id.clone();
    let page = db::read(&state, move |c| {
        let rows = refugio_db::expenses::page(
            c,
            &sid,
            before.as_ref().map(|(t, id)| (*t, id.as_str())),
            limit + 1,
        )?;
        let page = Page::from_rows(
            rows,
            limit,
            |r| encode_cursor(&[&time_part(r.recorded_at), &r.id]),
            |r| r,
        );
        Ok(Page {
            items: expenses::views(c, page.items)?,
            next_cursor: page.next_cursor,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}
