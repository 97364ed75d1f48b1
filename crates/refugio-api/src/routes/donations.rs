//! `/donations`: pledging money or goods, receiving them, cancelling pledges, and following
//! one's own money (`/me/donations`); `/shelters/{sid}/donations` lists what a shelter is to
//! receive.

use crate::auth::{Caller, Read, ShelterScope};
use crate::body::{Body, OptionalBody};
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::i18n::FieldIssue;
use crate::idempotency::Idempotency;
use crate::money::MoneyJson;
use crate::pagination::{encode_cursor, parse_time_part, time_part, Page, PageQuery};
use crate::routes::needs::CATEGORIES;
use crate::services::donations::{self, DonationView, NewInKind, NewMoney, Restriction};
use crate::state::AppState;
use crate::validate::{checked, Fields};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDateTime;
use refugio_core::engine::needs::NeedCategory;
use refugio_core::{Money, Role};
use refugio_db::donations::{DonationRow, Listing};
use serde::Deserialize;

const NOTE_MAX: usize = 1000;
const STATUSES: &[&str] = &["pledged", "received", "cancelled", "expired"];
const KINDS: &[&str] = &["money", "in_kind"];

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RestrictionRequest {
    /// One need (then nothing else).
    pub need_id: Option<String>,
    /// One shelter's needs (with `category`: that shelter's needs of that category).
    pub shelter_id: Option<String>,
    /// A need category (`food`, `water`, `medical`, `hygiene`, `bedding`, `clothing`, `housing`,
    /// `utilities`, `transport`, `other`).
    pub category: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DonationRequest {
    /// `money | in_kind`.
    pub kind: String,
    /// Money: above zero, any supported currency.
    pub amount: Option<MoneyJson>,
    /// Money: what it may pay for; absent means any need.
    pub restriction: Option<RestrictionRequest>,
    /// In kind: the item need the goods are for.
    pub need_id: Option<String>,
    /// In kind: how much, in the item's unit (at most 3 decimals), at most what is not yet pledged.
    #[schema(value_type = Option<f64>)]
    pub quantity: Option<serde_json::Number>,
    pub note: Option<String>,
}

fn pledges(caller: &Caller) -> ApiResult<()> {
    if matches!(caller.role, Role::Donor | Role::Admin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn restriction(f: &mut Fields, r: Option<&RestrictionRequest>) -> Option<Restriction> {
    let Some(r) = r else {
        return Some(Restriction::None);
    };
    match (
        nonempty(&r.need_id),
        nonempty(&r.shelter_id),
        nonempty(&r.category),
    ) {
        (Some(need), None, None) => {
            if refugio_core::ids::is_well_formed(need) {
                Some(Restriction::Need(need.to_owned()))
            } else {
                f.add("restriction.need_id", FieldIssue::UnknownReference);
                None
            }
        }
        (Some(_), _, _) => {
            f.add("restriction.need_id", FieldIssue::Invalid);
            None
        }
        (None, None, None) => Some(Restriction::None),
        (None, shelter, category) => {
            let category =
                category.map(|c| f.one_of::<NeedCategory>("restriction.category", c, CATEGORIES));
            if let Some(s) = shelter {
                if !refugio_core::ids::is_well_formed(s) {
                    f.add("restriction.shelter_id", FieldIssue::UnknownReference);
                    return None;
                }
            }
            Some(Restriction::Scope {
                shelter_id: shelter.map(str::to_owned),
                category: match category {
                    Some(Some(c)) => Some(c),
                    Some(None) => return None,
                    None => None,
                },
            })
        }
    }
}

enum Pledge {
    Money(NewMoney),
    Goods(NewInKind),
}

fn parse_pledge(b: DonationRequest) -> ApiResult<Pledge> {
    let mut f = Fields::new();
    let note = f.note("note", b.note.as_deref(), NOTE_MAX);
    match b.kind.trim() {
        "money" => {
            let amount = match &b.amount {
                Some(a) => match Money::parse(&a.amount, &a.currency) {
                    Ok(m) if m.minor > 0 => Some(m),
                    Ok(_) => {
                        f.add("amount.amount", FieldIssue::MustBePositive);
                        None
                    }
                    Err(_) => {
                        // The field validator words the reason (currency, precision).
                        f.money("amount", a, a.currency.trim());
                        None
                    }
                },
                None => {
                    f.add("amount", FieldIssue::Required);
                    None
                }
            };
            let restriction = restriction(&mut f, b.restriction.as_ref());
            for (field, given) in [
                ("need_id", b.need_id.is_some()),
                ("quantity", b.quantity.is_some()),
            ] {
                if given {
                    f.add(field, FieldIssue::UnknownField);
                }
            }
            f.finish()?;
            Ok(Pledge::Money(NewMoney {
                amount: checked(amount)?,
                restriction: checked(restriction)?,
                note,
            }))
        }
        "in_kind" => {
            let need_id = match b.need_id.as_deref().map(str::trim) {
                Some(id) if refugio_core::ids::is_well_formed(id) => Some(id.to_owned()),
                Some(_) => {
                    f.add("need_id", FieldIssue::UnknownReference);
                    None
                }
                None => {
                    f.add("need_id", FieldIssue::Required);
                    None
                }
            };
            let quantity = match &b.quantity {
                Some(q) => f.positive_quantity("quantity", q),
                None => {
                    f.add("quantity", FieldIssue::Required);
                    None
                }
            };
            for (field, given) in [
                ("amount", b.amount.is_some()),
                ("restriction", b.restriction.is_some()),
            ] {
                if given {
                    f.add(field, FieldIssue::UnknownField);
                }
            }
            f.finish()?;
            Ok(Pledge::Goods(NewInKind {
                need_id: checked(need_id)?,
                quantity: checked(quantity)?,
                note,
            }))
        }
        _ => {
            f.add("kind", FieldIssue::OneOf(KINDS));
            f.finish()?;
            Err(ApiError::internal("unreachable: kind was refused"))
        }
    }
}

/// Pledges money (optionally restricted) or goods for an item need (donors, admins).
#[utoipa::path(tag = "donations", request_body = DonationRequest,
    responses((status = 201, body = DonationView), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/donations")]
pub async fn pledge(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idempotency,
    body: Body<DonationRequest>,
) -> ApiResult<HttpResponse> {
    pledges(&caller)?;
    let pledge = parse_pledge(body.into_inner()?)?;
    let donor = caller.user_id.clone();
    let ttl = state.settings.pledge_ttl;
    db::write_reply(&state, idem.0, StatusCode::CREATED, move |c| match pledge {
        Pledge::Money(new) => donations::pledge_money(c, &donor, new),
        Pledge::Goods(new) => donations::pledge_goods(c, &donor, new, ttl),
    })
    .await
}

fn donation_id(raw: String) -> ApiResult<String> {
    if refugio_core::ids::is_well_formed(&raw) {
        Ok(raw)
    } else {
        Err(ApiError::NotFound)
    }
}

/// One donation with its allocations and what they paid for (its donor, admins, auditors; the
/// receiving shelter's staff for goods).
#[utoipa::path(tag = "donations", params(("did" = String, Path)),
    responses((status = 200, body = DonationView), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/donations/{did}")]
pub async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = donation_id(path.into_inner())?;
    let view = db::read(&state, move |c| {
        let d = donations::visible(c, &caller, &id)?;
        donations::view(c, d)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ReceiveRequest {
    /// Money: the UTC date the money arrived (default today); picks the FX rate.
    pub received_on: Option<String>,
    /// Goods: how much arrived (default the pledged quantity; less closes the pledge short).
    #[schema(value_type = Option<f64>)]
    pub quantity: Option<serde_json::Number>,
}

/// Confirms a donation arrived: money (admins) is allocated at once; goods (the shelter's
/// staff, admins) enter stock as a receipt naming the donation. Twice: `409`.
#[utoipa::path(tag = "donations", params(("did" = String, Path)), request_body(content = Option<ReceiveRequest>),
    responses((status = 200, body = DonationView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/donations/{did}/receive")]
pub async fn receive(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idempotency,
    path: web::Path<String>,
    body: OptionalBody<ReceiveRequest>,
) -> ApiResult<HttpResponse> {
    if matches!(caller.role, Role::Donor | Role::Auditor) {
        return Err(ApiError::Forbidden);
    }
    let id = donation_id(path.into_inner())?;
    let d = {
        let (caller, id) = (caller.clone(), id.clone());
        db::read(&state, move |c| {
            let d = refugio_db::donations::find(c, &id)?.ok_or(ApiError::NotFound)?;
            donations::may_receive(c, &caller, &d)?;
            Ok(d)
        })
        .await?
    };
    let b = body.into_inner()?.unwrap_or_default();
    let mut f = Fields::new();
    let actor = caller.user_id.clone();
    if d.kind == "money" {
        let received_on = match b.received_on.as_deref() {
            Some(s) => f.date("received_on", s),
            None => Some(refugio_db::now().date()),
        };
        if received_on.is_some_and(|r| r > refugio_db::now().date()) {
            f.add("received_on", FieldIssue::InFuture);
        }
        if b.quantity.is_some() {
            f.add("quantity", FieldIssue::UnknownField);
        }
        f.finish()?;
        let received_on = checked(received_on)?;
        db::write_reply(&state, idem.0, StatusCode::OK, move |c| {
            donations::receive_money(c, &actor, &id, received_on)
        })
        .await
    } else {
        let quantity = match &b.quantity {
            Some(q) => f.positive_quantity("quantity", q).map(Some),
            None => Some(None),
        };
        if b.received_on.is_some() {
            f.add("received_on", FieldIssue::UnknownField);
        }
        f.finish()?;
        let quantity = checked(quantity)?;
        db::write_reply(&state, idem.0, StatusCode::OK, move |c| {
            // Re-read in the transaction: the guarded update decides between concurrent receipts.
            let d: DonationRow = refugio_db::donations::find(c, &id)?.ok_or(ApiError::NotFound)?;
            donations::receive_goods(c, &actor, &d, quantity)
        })
        .await
    }
}

/// Cancels a pledge while it is still pledged (its donor; the shelter's staff for goods; admins).
#[utoipa::path(tag = "donations", params(("did" = String, Path)),
    responses((status = 200, body = DonationView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/donations/{did}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idempotency,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    if caller.role == Role::Auditor {
        return Err(ApiError::Forbidden);
    }
    let id = donation_id(path.into_inner())?;
    db::write_reply(&state, idem.0, StatusCode::OK, move |c| {
        donations::cancel(c, &caller, &id)
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DonationQuery {
    /// `money | in_kind` (shelter lists only).
    pub kind: Option<String>,
    /// Comma list of `pledged, received, cancelled, expired` (shelter lists only).
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

fn page_of(
    c: &mut refugio_db::DbConnection,
    rows: Vec<DonationRow>,
    limit: i64,
) -> ApiResult<Page<DonationView>> {
    let page = Page::from_rows(
        rows,
        limit,
        |r| encode_cursor(&[&time_part(r.pledged_at), &r.id]),
        |r| r,
    );
    let items = page
        .items
        .into_iter()
        .map(|r| donations::view(c, r))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

fn before(page: &PageQuery) -> ApiResult<Option<(NaiveDateTime, String)>> {
    Ok(match page.cursor::<2>()? {
        Some([at, id]) => Some((parse_time_part(&at)?, id)),
        None => None,
    })
}

/// The caller's own donations, newest first.
#[utoipa::path(tag = "donations", params(DonationQuery),
    responses((status = 200, body = Page<DonationView>), (status = 400, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/me/donations")]
pub async fn mine(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<DonationQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    let limit = page.limit()?;
    let before = before(&page)?;
    let page = db::read(&state, move |c| {
        let rows = refugio_db::donations::page(
            c,
            Listing::Donor(&caller.user_id),
            None,
            None,
            before.as_ref().map(|(t, id)| (*t, id.as_str())),
            limit + 1,
        )?;
        page_of(c, rows, limit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Donations for a shelter, newest first: the in-kind pledges it is to receive and, for admins
/// and auditors, money restricted to it. Staff see goods only, as with `GET /donations/{did}`.
#[utoipa::path(tag = "donations", params(("sid" = String, Path), DonationQuery),
    responses((status = 200, body = Page<DonationView>), (status = 400, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/shelters/{sid}/donations")]
pub async fn of_shelter(
    state: web::Data<AppState>,
    scope: ShelterScope<Read>,
    query: web::Query<DonationQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let kind = match q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) if KINDS.contains(&k) => Some(k.to_owned()),
        Some(_) => {
            return Err(ApiError::BadQuery(format!(
                "kind must be one of: {}",
                KINDS.join(", ")
            )))
        }
        None => None,
    };
    let statuses = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(list) => {
            let parts: Vec<String> = list.split(',').map(|s| s.trim().to_owned()).collect();
            if parts.iter().any(|p| !STATUSES.contains(&p.as_str())) {
                return Err(ApiError::BadQuery(format!(
                    "status must be a comma-separated list of: {}",
                    STATUSES.join(", ")
                )));
            }
            Some(parts)
        }
        None => None,
    };
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    let limit = page.limit()?;
    let before = before(&page)?;
    // Money gifts are the donor's business and the fund's, not the shelter staff's.
    let staff = scope.caller.is(Role::Staff);
    if staff && kind.as_deref().is_some_and(|k| k != "in_kind") {
        return Ok(HttpResponse::Ok().json(Page::<DonationView> {
            items: Vec::new(),
            next_cursor: None,
        }));
    }
    let kind = if staff {
        Some("in_kind".to_owned())
    } else {
        kind
    };
    let sid = scope.shelter_id.clone();
    let page = db::read(&state, move |c| {
        let rows = refugio_db::donations::page(
            c,
            Listing::Shelter(&sid),
            kind.as_deref(),
            statuses.as_deref(),
            before.as_ref().map(|(t, id)| (*t, id.as_str())),
            limit + 1,
        )?;
        page_of(c, rows, limit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}
