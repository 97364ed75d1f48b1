//! `/shelters`: the public directory, and the admin's and managers' edits.

use crate::audit_log::record;
use crate::auth::{caller::Admins, Manage, MaybeCaller, Only, ShelterScope};
use crate::body::Body;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::i18n::FieldIssue;
use crate::idempotency::Idempotency;
use crate::pagination::{encode_cursor, Page, PageQuery};
use crate::services::shelters::{self, ShelterView};
use crate::state::AppState;
use crate::validate::{checked, Fields, NAME_MAX};
use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpResponse};
use refugio_db::shelters::ShelterRow;
use serde::Deserialize;
use serde_json::json;

const MAX_BEDS: i64 = 100_000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateShelterRequest {
    pub name: String,
    pub city: String,
    pub region: String,
    /// ISO 3166-1 alpha-2, e.g. `MX`.
    pub country: String,
    /// IANA time zone, e.g. `America/Mexico_City`.
    pub timezone: String,
    /// `MXN`, `USD`, `GTQ` or `EUR`; never changes once set.
    pub currency: String,
    pub bed_capacity: i64,
    /// Show city, region and beds publicly; default `false`.
    pub public_location: Option<bool>,
}

/// Creates a shelter (admin only); it starts its own audit chain.
#[utoipa::path(tag = "shelters", request_body = CreateShelterRequest,
    responses((status = 201, body = ShelterView), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/shelters")]
pub async fn create(
    state: web::Data<AppState>,
    admin: Only<Admins>,
    idem: Idempotency,
    body: Body<CreateShelterRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner()?;
    let mut f = Fields::new();
    let name = f.name("name", &b.name, NAME_MAX);
    let city = f.name("city", &b.city, NAME_MAX);
    let region = f.name("region", &b.region, NAME_MAX);
    let country = f.country("country", &b.country);
    let timezone = f.timezone("timezone", &b.timezone);
    let currency = f.currency("currency", &b.currency);
    let beds = f.range("bed_capacity", b.bed_capacity, 0, MAX_BEDS);
    f.finish()?;
    let now = refugio_db::now();
    let row = ShelterRow {
        id: refugio_core::new_id(),
        name: checked(name)?,
        city: checked(city)?,
        region: checked(region)?,
        country: checked(country)?,
        timezone: checked(timezone)?,
        currency: checked(currency)?,
        bed_capacity: checked(beds)?,
        occupied_beds: 0,
        public_location: b.public_location.unwrap_or(false),
        created_at: now,
        updated_at: now,
    };
    let actor = admin.user_id.clone();
    db::write_reply(&state, idem.0, StatusCode::CREATED, move |c| {
        refugio_db::shelters::insert(c, &row)?;
        refugio_db::audit::create_chain(c, &row.id)?;
        record(
            c,
            Some(&actor),
            Some(&row.id),
            "shelter.created",
            ("shelter", &row.id),
            json!({"currency": row.currency, "bed_capacity": row.bed_capacity, "public_location": row.public_location}),
        )?;
        crate::services::items::seed_default_catalog(c, &actor, &row.id)?;
        shelters::view(c, row, true)
    })
    .await
}

/// The public directory, by name.
#[utoipa::path(tag = "shelters", params(PageQuery), responses((status = 200, body = Page<ShelterView>)))]
#[get("/shelters")]
pub async fn list(
    state: web::Data<AppState>,
    caller: MaybeCaller,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let limit = query.limit()?;
    let after = query.cursor::<2>()?.map(|[name, id]| (name, id));
    let page = db::read(&state, move |c| {
        let rows = refugio_db::shelters::page_by_name(
            c,
            after.as_ref().map(|(n, i)| (n.as_str(), i.as_str())),
            limit + 1,
        )?;
        let mut views = Vec::with_capacity(rows.len());
        let more = rows.len() as i64 > limit;
        for row in rows.into_iter().take(usize::try_from(limit).unwrap_or(0)) {
            let full = shelters::sees_everything(c, caller.0.as_ref(), &row.id)?;
            let cursor = encode_cursor(&[&row.name, &row.id]);
            views.push((cursor, shelters::view(c, row, full)?));
        }
        let next_cursor = if more {
            views.last().map(|(cursor, _)| cursor.clone())
        } else {
            None
        };
        Ok(Page {
            items: views.into_iter().map(|(_, v)| v).collect(),
            next_cursor,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One shelter; its location and occupancy only if public or the caller works with it.
#[utoipa::path(tag = "shelters", params(("sid" = String, Path)),
    responses((status = 200, body = ShelterView), (status = 404, body = crate::error::Problem)))]
#[get("/shelters/{sid}")]
pub async fn get_one(
    state: web::Data<AppState>,
    caller: MaybeCaller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let sid = path.into_inner();
    if !refugio_core::ids::is_well_formed(&sid) {
        return Err(ApiError::NotFound);
    }
    let view = db::read(&state, move |c| {
        let row = refugio_db::shelters::find(c, &sid)?.ok_or(ApiError::NotFound)?;
        let full = shelters::sees_everything(c, caller.0.as_ref(), &sid)?;
        shelters::view(c, row, full)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UpdateShelterRequest {
    pub name: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub timezone: Option<String>,
    /// Accepted only if equal to the current currency.
    pub currency: Option<String>,
    pub bed_capacity: Option<i64>,
    pub public_location: Option<bool>,
}

/// Edits a shelter (its managers, admins).
#[utoipa::path(tag = "shelters", params(("sid" = String, Path)), request_body = UpdateShelterRequest,
    responses((status = 200, body = ShelterView), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[patch("/shelters/{sid}")]
pub async fn update(
    state: web::Data<AppState>,
    scope: ShelterScope<Manage>,
    body: Body<UpdateShelterRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner()?;
    let mut f = Fields::new();
    let name = b.name.as_deref().map(|v| f.name("name", v, NAME_MAX));
    let city = b.city.as_deref().map(|v| f.name("city", v, NAME_MAX));
    let region = b.region.as_deref().map(|v| f.name("region", v, NAME_MAX));
    let country = b.country.as_deref().map(|v| f.country("country", v));
    let timezone = b.timezone.as_deref().map(|v| f.timezone("timezone", v));
    let currency = b.currency.as_deref().map(|v| f.currency("currency", v));
    let beds = b
        .bed_capacity
        .map(|v| f.range("bed_capacity", v, 0, MAX_BEDS));
    f.finish()?;
    let sid = scope.shelter_id.clone();
    let actor = scope.caller.user_id.clone();
    db::write_reply(&state, None, StatusCode::OK, move |c| {
        let mut row = refugio_db::shelters::find(c, &sid)?.ok_or(ApiError::NotFound)?;
        let mut f = Fields::new();
        if currency.flatten().is_some_and(|cur| cur != row.currency) {
            f.add("currency", FieldIssue::Invalid);
        }
        if beds.flatten().is_some_and(|beds| beds < row.occupied_beds) {
            f.add("bed_capacity", FieldIssue::Range { min: row.occupied_beds, max: MAX_BEDS });
        }
        f.finish()?;
        let mut changed: Vec<&str> = Vec::new();
        macro_rules! apply {
            ($field:ident, $value:expr) => {
                if let Some(v) = $value {
                    if row.$field != v {
                        row.$field = v;
                        changed.push(stringify!($field));
                    }
                }
            };
        }
        apply!(name, name.flatten());
        apply!(city, city.flatten());
        apply!(region, region.flatten());
        apply!(country, country.flatten());
        apply!(timezone, timezone.flatten());
        apply!(bed_capacity, beds.flatten());
        apply!(public_location, b.public_location);
        if !changed.is_empty() {
            row.updated_at = refugio_db::now();
            refugio_db::shelters::update(c, &row)?;
            // Which fields changed, and the new values that are not free text.
            let data = json!({"changed": changed, "bed_capacity": row.bed_capacity, "public_location": row.public_location});
            record(c, Some(&actor), Some(&sid), "shelter.updated", ("shelter", &sid), data)?;
        }
        shelters::view(c, row, true)
    })
    .await
}
