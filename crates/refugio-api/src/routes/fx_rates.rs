//! `/fx-rates`: directional exchange rates admins set; the allocator uses the latest rate with
//! `as_of ≤ received_on` and never guesses or inverts one.

use crate::auth::caller::Admins;
use crate::auth::{Caller, Only};
use crate::body::Body;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::i18n::FieldIssue;
use crate::pagination::{bad_cursor, encode_cursor, Page, PageQuery};
use crate::services::allocations::{self, Wait};
use crate::state::AppState;
use crate::validate::{checked, Fields};
use actix_web::{get, put, web, HttpResponse};
use chrono::NaiveDate;
use refugio_core::engine::allocation::Rate;
use refugio_db::fx_rates::FxRateRow;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct FxRateRequest {
    /// ISO 4217 code of the currency converted from (`USD`).
    pub base: String,
    /// ISO 4217 code of the currency converted to (`MXN`); not the base.
    pub quote: String,
    /// Units of `quote` per unit of `base`: a decimal string above zero, at most 6 decimals.
    pub rate: String,
    /// `YYYY-MM-DD` (UTC date) from which the rate applies; not in the future.
    pub as_of: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FxRateView {
    pub base: String,
    pub quote: String,
    pub rate: String,
    pub as_of: NaiveDate,
    pub set_by: String,
    pub set_at: chrono::DateTime<chrono::Utc>,
}

impl From<FxRateRow> for FxRateView {
    fn from(r: FxRateRow) -> FxRateView {
        FxRateView {
            rate: Rate::from_millionths(r.rate)
                .map(|r| r.as_decimal())
                .unwrap_or_default(),
            base: r.base,
            quote: r.quote,
            as_of: r.as_of,
            set_by: r.set_by,
            set_at: r.set_at.and_utc(),
        }
    }
}

/// Sets the rate for (base, quote, as_of), replacing one set before (admins). Money waiting
/// for a rate is allocated in the same transaction.
#[utoipa::path(tag = "donations", request_body = FxRateRequest,
    responses((status = 200, body = FxRateView), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[put("/fx-rates")]
pub async fn put(
    state: web::Data<AppState>,
    admin: Only<Admins>,
    body: Body<FxRateRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner()?;
    let mut f = Fields::new();
    let base = f.currency("base", &b.base);
    let quote = f.currency("quote", &b.quote);
    if base.is_some() && base == quote {
        f.add("quote", FieldIssue::Invalid);
    }
    let rate = match Rate::parse(b.rate.trim()) {
        Ok(r) => Some(r),
        Err(_) => {
            f.add("rate", FieldIssue::Invalid);
            None
        }
    };
    let as_of = f.date("as_of", &b.as_of);
    if as_of.is_some_and(|d| d > refugio_db::now().date()) {
        f.add("as_of", FieldIssue::InFuture);
    }
    f.finish()?;
    let row = FxRateRow {
        base: checked(base)?,
        quote: checked(quote)?,
        as_of: checked(as_of)?,
        rate: checked(rate)?.millionths(),
        set_by: admin.user_id.clone(),
        set_at: refugio_db::now(),
    };
    let view = db::write(&state, move |c| {
        if let Err(e) = refugio_db::fx_rates::upsert(c, &row) {
            // A concurrent PUT of the same new key inserted first.
            if refugio_db::is_unique_violation(&e) {
                return Err(ApiError::Conflict(crate::error::Conflict::ConcurrentChange));
            }
            return Err(e.into());
        }
        crate::audit_log::record(
            c,
            Some(&row.set_by),
            None,
            "fx_rate.set",
            (
                "fx_rate",
                &format!("{}/{}/{}", row.base, row.quote, row.as_of),
            ),
            json!({"base": row.base, "quote": row.quote, "as_of": row.as_of,
                "rate": Rate::from_millionths(row.rate).map(|r| r.as_decimal())}),
        )?;
        allocations::settle(c, Wait::Block, None)?;
        Ok(FxRateView::from(row))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FxRateQuery {
    /// Only this pair (both `base` and `quote` given).
    pub base: Option<String>,
    pub quote: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The rates on file by base, quote, then newest `as_of` first (any signed-in user).
#[utoipa::path(tag = "donations", params(FxRateQuery),
    responses((status = 200, body = Page<FxRateView>), (status = 400, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/fx-rates")]
pub async fn list(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<FxRateQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let pair = match (&q.base, &q.quote) {
        (Some(b), Some(qt)) => Some((
            b.trim().to_ascii_uppercase(),
            qt.trim().to_ascii_uppercase(),
        )),
        (None, None) => None,
        _ => {
            return Err(ApiError::BadQuery(
                "give both base and quote, or neither".into(),
            ))
        }
    };
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    let limit = page.limit()?;
    let after = match page.cursor::<3>()? {
        Some([base, quote, as_of]) => Some((
            base,
            quote,
            NaiveDate::parse_from_str(&as_of, "%Y-%m-%d").map_err(|_| bad_cursor())?,
        )),
        None => None,
    };
    let rows = db::read(&state, move |c| {
        Ok(refugio_db::fx_rates::page(
            c,
            pair.as_ref().map(|(b, q)| (b.as_str(), q.as_str())),
            after.as_ref().map(|(b, q, d)| (b.as_str(), q.as_str(), *d)),
            limit + 1,
        )?)
    })
    .await?;
    let page = Page::from_rows(
        rows,
        limit,
        |r| encode_cursor(&[&r.base, &r.quote, &r.as_of.format("%Y-%m-%d").to_string()]),
        FxRateView::from,
    );
    Ok(HttpResponse::Ok().json(page))
}
