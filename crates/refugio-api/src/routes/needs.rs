//! Needs: the public board, a shelter's needs, manual needs and cancelling.

use crate::auth::{Manage, MaybeCaller, Read, ShelterScope, Write};
use crate::body::Body;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::i18n::FieldIssue;
use crate::idempotency::Idempotency;
use crate::localize::lang_of;
use crate::money::{money_json, MoneyJson};
use crate::pagination::{bad_cursor, encode_cursor, parse_time_part, time_part, Page, PageQuery};
use crate::services::needs::{self, NewManualNeed};
use crate::services::shelters::sees_everything;
use crate::state::AppState;
use crate::validate::{checked, Fields, NAME_MAX};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use refugio_core::engine::needs::{NeedCategory, NeedStatus};
use refugio_core::engine::priority::Band;
use refugio_core::inventory::Criticality;
use refugio_core::{Locale, Quantity};
use refugio_db::needs::{BoardCursor, BoardFilter, BoardRow};
use serde::{Deserialize, Serialize};

pub const CATEGORIES: &[&str] = &[
    "food",
    "water",
    "medical",
    "hygiene",
    "bedding",
    "clothing",
    "housing",
    "utilities",
    "transport",
    "other",
];
const DEFAULT_STATUSES: [&str; 2] = ["open", "partially_funded"];

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DriverView {
    pub code: String,
    pub text: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PriorityView {
    /// 0 to 100, one decimal.
    pub score: f64,
    /// critical, high, medium or low.
    pub band: String,
    pub criticality: String,
    /// Days until the need bites (3 decimals); negative when overdue; null when unknown.
    pub days_left: Option<f64>,
    pub drivers: Vec<DriverView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NeedView {
    pub id: String,
    pub shelter_id: String,
    pub shelter_name: String,
    /// item, bill or manual.
    pub kind: String,
    pub item_id: Option<String>,
    pub bill_id: Option<String>,
    pub category: String,
    pub title: String,
    #[schema(value_type = Option<f64>)]
    pub quantity: serde_json::Value,
    pub unit: Option<String>,
    pub amount_needed: Option<MoneyJson>,
    pub amount_covered: Option<MoneyJson>,
    pub amount_open: Option<MoneyJson>,
    pub status: String,
    pub priority: PriorityView,
    pub opened_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub computed_at: chrono::DateTime<chrono::Utc>,
}

/// The API view of a need; `privileged` callers (the shelter's staff, admins, auditors) see bills' payees.
pub fn view(
    (n, shelter_name, bill_category): BoardRow,
    lang: Locale,
    privileged: bool,
) -> NeedView {
    let title = match (&bill_category, privileged) {
        (Some(category), false) => crate::services::needs::bill_title(category, lang).to_owned(),
        (Some(category), true) => format!(
            "{} ({})",
            crate::services::needs::bill_title(category, lang),
            n.title
        ),
        (None, _) => n.title.clone(),
    };
    let drivers: Vec<serde_json::Value> = serde_json::from_str(&n.drivers).unwrap_or_default();
    let key = if lang == Locale::Es { "es" } else { "en" };
    let drivers = drivers
        .iter()
        .map(|d| DriverView {
            code: d["code"].as_str().unwrap_or_default().to_owned(),
            text: d[key].as_str().unwrap_or_default().to_owned(),
        })
        .collect();
    let money = |v: Option<i64>| v.map(|m| money_json(m, &n.currency));
    NeedView {
        priority: PriorityView {
            score: n.score as f64 / 10.0,
            band: n.band.clone(),
            criticality: n.criticality.clone(),
            days_left: n.days_left.map(|d| d as f64 / 1000.0),
            drivers,
        },
        quantity: Quantity::optional_json(n.quantity),
        amount_needed: money(n.amount_needed),
        amount_covered: money(n.amount_covered),
        amount_open: money(n.amount_open),
        opened_at: n.opened_at.and_utc(),
        updated_at: n.updated_at.and_utc(),
        computed_at: n.computed_at.and_utc(),
        id: n.id,
        shelter_id: n.shelter_id,
        shelter_name,
        kind: n.kind,
        item_id: n.item_id,
        bill_id: n.bill_id,
        category: n.category,
        title,
        unit: n.unit,
        status: n.status,
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct BoardQuery {
    pub shelter_id: Option<String>,
    /// One need category, or a comma list.
    pub category: Option<String>,
    /// Comma list of statuses, or `all`; default `open,partially_funded`.
    pub status: Option<String>,
    /// Comma list of bands.
    pub band: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

fn comma_list(
    name: &str,
    value: Option<&str>,
    valid: impl Fn(&str) -> bool,
) -> ApiResult<Vec<String>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .map(|v| {
            let v = v.trim();
            if valid(v) {
                Ok(v.to_owned())
            } else {
                Err(ApiError::BadQuery(format!(
                    "{name} has an unknown value {v:?}"
                )))
            }
        })
        .collect()
}

fn board_filter(q: &BoardQuery, shelter_id: Option<String>) -> ApiResult<(BoardFilter, i64)> {
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor.clone(),
    };
    let limit = page.limit()?;
    let statuses = match q.status.as_deref() {
        Some("all") => Vec::new(),
        None => DEFAULT_STATUSES.iter().map(|s| (*s).to_owned()).collect(),
        other => comma_list("status", other, |s| s.parse::<NeedStatus>().is_ok())?,
    };
    let after = match page.cursor::<4>()? {
        Some([band_rank, score, opened_at, id]) => Some(BoardCursor {
            band_rank: band_rank.parse().map_err(|_| bad_cursor())?,
            score: score.parse().map_err(|_| bad_cursor())?,
            opened_at: parse_time_part(&opened_at)?,
            id,
        }),
        None => None,
    };
    let filter = BoardFilter {
        shelter_id,
        categories: comma_list("category", q.category.as_deref(), |c| {
            c.parse::<NeedCategory>().is_ok()
        })?,
        statuses,
        bands: comma_list("band", q.band.as_deref(), |b| Band::parse(b).is_some())?,
        after,
    };
    Ok((filter, limit))
}

fn cursor_of(row: &BoardRow) -> String {
    let n = &row.0;
    encode_cursor(&[
        &n.band_rank.to_string(),
        &n.score.to_string(),
        &time_part(n.opened_at),
        &n.id,
    ])
}

/// The public needs board: what still lacks money or goods, most urgent first.
#[utoipa::path(tag = "needs", params(BoardQuery), responses((status = 200, body = Page<NeedView>), (status = 400, body = crate::error::Problem)))]
#[get("/needs")]
pub async fn board(
    state: web::Data<AppState>,
    caller: MaybeCaller,
    req: HttpRequest,
    query: web::Query<BoardQuery>,
) -> ApiResult<HttpResponse> {
    let shelter_id = query.shelter_id.clone().filter(|s| !s.is_empty());
    let (filter, limit) = board_filter(&query, shelter_id)?;
    let lang = lang_of(&req);
    let page = db::read(&state, move |c| {
        let rows = refugio_db::needs::board(c, &filter, limit + 1)?;
        let more = rows.len() as i64 > limit;
        let mut items = Vec::new();
        let mut next_cursor = None;
        let mut seen: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
        for row in rows.into_iter().take(usize::try_from(limit).unwrap_or(0)) {
            let sid = row.0.shelter_id.clone();
            let privileged = match seen.get(&sid) {
                Some(p) => *p,
                None => {
                    let p = sees_everything(c, caller.0.as_ref(), &sid)?;
                    seen.insert(sid, p);
                    p
                }
            };
            next_cursor = more.then(|| cursor_of(&row));
            items.push(view(row, lang, privileged));
        }
        Ok(Page { items, next_cursor })
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A shelter's needs (its staff, admins, auditors), with the same filters and order.
#[utoipa::path(tag = "needs", params(("sid" = String, Path), BoardQuery),
    responses((status = 200, body = Page<NeedView>), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/shelters/{sid}/needs")]
pub async fn of_shelter(
    state: web::Data<AppState>,
    scope: ShelterScope<Read>,
    req: HttpRequest,
    query: web::Query<BoardQuery>,
) -> ApiResult<HttpResponse> {
    let (filter, limit) = board_filter(&query, Some(scope.shelter_id.clone()))?;
    let lang = lang_of(&req);
    let page = db::read(&state, move |c| {
        let rows = refugio_db::needs::board(c, &filter, limit + 1)?;
        Ok(Page::from_rows(rows, limit, cursor_of, |r| {
            view(r, lang, true)
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ManualNeedRequest {
    pub title: String,
    /// A need category.
    pub category: String,
    pub amount_needed: MoneyJson,
    pub criticality: String,
    /// `YYYY-MM-DD`, shelter-local.
    pub needed_by: Option<String>,
}

/// Opens a need the engine cannot see (a repair, a trip to the hospital).
#[utoipa::path(tag = "needs", params(("sid" = String, Path)), request_body = ManualNeedRequest,
    responses((status = 201, body = NeedView), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
#[post("/shelters/{sid}/needs")]
pub async fn create_manual(
    state: web::Data<AppState>,
    scope: ShelterScope<Write>,
    idem: Idempotency,
    req: HttpRequest,
    body: Body<ManualNeedRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner()?;
    let (sid, actor) = (scope.shelter_id.clone(), scope.caller.user_id.clone());
    let currency = db::read(&state, {
        let sid = sid.clone();
        move |c| crate::services::shelters::currency(c, &sid)
    })
    .await?;
    let mut f = Fields::new();
    let title = f.name("title", &b.title, NAME_MAX);
    let category = f.one_of::<NeedCategory>("category", &b.category, CATEGORIES);
    let criticality = f.one_of::<Criticality>(
        "criticality",
        &b.criticality,
        crate::routes::items::CRITICALITIES,
    );
    let amount = f.money("amount_needed", &b.amount_needed, &currency);
    if amount.is_some_and(|a| a <= 0) {
        f.add("amount_needed.amount", FieldIssue::MustBePositive);
    }
    let needed_by = b.needed_by.as_deref().map(|d| f.date("needed_by", d));
    f.finish()?;
    let new = NewManualNeed {
        title: checked(title)?,
        category: checked(category)?,
        amount: checked(amount)?,
        criticality: checked(criticality)?,
        needed_by: needed_by.map(checked).transpose()?,
    };
    let lang = lang_of(&req);
    db::write_reply(&state, idem.0, StatusCode::CREATED, move |c| {
        let row = needs::create_manual(c, &actor, &sid, new)?;
        let name = refugio_db::shelters::find(c, &sid)?
            .ok_or(ApiError::NotFound)?
            .name;
        Ok(view((row, name, None), lang, true))
    })
    .await
}

/// Cancels a need (managers, admins): a manual need ends, an item need ends and its item stays
/// quiet until restocked or edited, a bill need voids its bill.
#[utoipa::path(tag = "needs", params(("sid" = String, Path), ("nid" = String, Path)),
    responses((status = 200, body = NeedView), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/shelters/{sid}/needs/{nid}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    scope: ShelterScope<Manage>,
    idem: Idempotency,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (_, nid) = path.into_inner();
    if !refugio_core::ids::is_well_formed(&nid) {
        return Err(ApiError::NotFound);
    }
    let (sid, actor) = (scope.shelter_id.clone(), scope.caller.user_id.clone());
    let lang = lang_of(&req);
    db::write_reply(&state, idem.0, StatusCode::OK, move |c| {
        let row = needs::cancel(c, &actor, &sid, &nid)?;
        let name = refugio_db::shelters::find(c, &sid)?
            .ok_or(ApiError::NotFound)?
            .name;
        let bill_category = match &row.bill_id {
            Some(b) => refugio_db::bills::find(c, &sid, b)?.map(|b| b.category),
            None => None,
        };
        Ok(view((row, name, bill_category), lang, true))
    })
    .await
}
