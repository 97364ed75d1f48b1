//! `/shelters/{sid}/items`: the shelter's catalog.

use crate::audit_log::record;
use crate::auth::{Read, ShelterScope, Write};
use crate::body::Body;
use crate::db;
use crate::error::{ApiError, ApiResult, Conflict};
use crate::i18n::FieldIssue;
use crate::idempotency::Idempotency;
use crate::money::MoneyJson;
use crate::pagination::{encode_cursor, Page, PageQuery};
use crate::services::items::{
    self, ItemView, DEFAULT_LEAD_DAYS, DEFAULT_REORDER_DAYS, DEFAULT_TARGET_DAYS,
};
use crate::state::AppState;
use crate::validate::{checked, Fields, NAME_MAX};
use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpResponse};
use refugio_core::inventory::{Basis, Criticality, ItemCategory};
use refugio_db::items::{ItemRow, ItemSettings};
use serde::{Deserialize, Deserializer};
use serde_json::json;

const UNIT_MAX: usize = 50;
const MAX_DAYS: i64 = 365;
pub const CATEGORIES: &[&str] = &[
    "food", "water", "medical", "hygiene", "bedding", "clothing", "other",
];
pub const CRITICALITIES: &[&str] = &["vital", "essential", "desirable"];
pub const BASES: &[&str] = &["consumable", "durable"];

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateItemRequest {
    pub name: String,
    /// food, water, medical, hygiene, bedding, clothing or other.
    pub category: String,
    pub unit: String,
    /// vital, essential or desirable.
    pub criticality: String,
    /// consumable or durable.
    pub basis: String,
    #[schema(value_type = Option<f64>)]
    pub per_person: Option<serde_json::Number>,
    pub unit_cost: Option<MoneyJson>,
    pub reorder_days: Option<i64>,
    pub target_days: Option<i64>,
    pub lead_days: Option<i64>,
    #[schema(value_type = Option<f64>)]
    pub min_quantity: Option<serde_json::Number>,
    #[schema(value_type = Option<f64>)]
    pub target_quantity: Option<serde_json::Number>,
}

fn unit_cost(f: &mut Fields, input: &MoneyJson, currency: &str) -> Option<i64> {
    let minor = f.money("unit_cost", input, currency)?;
    if minor <= 0 {
        f.add("unit_cost.amount", FieldIssue::MustBePositive);
        return None;
    }
    Some(minor)
}

fn non_negative(f: &mut Fields, field: &str, value: Option<i64>) -> Option<i64> {
    match value {
        Some(v) if v < 0 => {
            f.add(
                field,
                FieldIssue::Range {
                    min: 0,
                    max: 1_000_000_000_000,
                },
            );
            None
        }
        other => other,
    }
}

/// Adds an item to the shelter's catalog (coordinators, managers, admins).
#[utoipa::path(tag = "stock", params(("sid" = String, Path)), request_body = CreateItemRequest,
    responses((status = 201, body = ItemView), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/shelters/{sid}/items")]
pub async fn create(
    state: web::Data<AppState>,
    scope: ShelterScope<Write>,
    idem: Idempotency,
    body: Body<CreateItemRequest>,
) -> ApiResult<HttpResponse> {
    let (sid, actor) = (scope.shelter_id.clone(), scope.caller.user_id.clone());
    let currency = db::read(&state, {
        let sid = sid.clone();
        move |c| crate::services::shelters::currency(c, &sid)
    })
    .await?;
    let b = body.into_inner()?;
    let mut f = Fields::new();
    let name = f.name("name", &b.name, NAME_MAX);
    let unit = f.name("unit", &b.unit, UNIT_MAX);
    let category = f.one_of::<ItemCategory>("category", &b.category, CATEGORIES);
    let criticality = f.one_of::<Criticality>("criticality", &b.criticality, CRITICALITIES);
    let basis = f.one_of::<Basis>("basis", &b.basis, BASES);
    let per_person = b.per_person.as_ref().map(|n| f.norm("per_person", n));
    let per_person = per_person.map(|p| non_negative(&mut f, "per_person", p));
    let cost = b
        .unit_cost
        .as_ref()
        .map(|m| unit_cost(&mut f, m, &currency));
    let reorder_days = f.range(
        "reorder_days",
        b.reorder_days.unwrap_or(DEFAULT_REORDER_DAYS),
        0,
        MAX_DAYS,
    );
    let target_days = f.range(
        "target_days",
        b.target_days.unwrap_or(DEFAULT_TARGET_DAYS),
        0,
        MAX_DAYS,
    );
    let lead_days = f.range(
        "lead_days",
        b.lead_days.unwrap_or(DEFAULT_LEAD_DAYS),
        0,
        MAX_DAYS,
    );
    let min_quantity = b
        .min_quantity
        .as_ref()
        .map_or(Some(0), |n| f.quantity("min_quantity", n));
    let min_quantity = non_negative(&mut f, "min_quantity", min_quantity);
    let target_quantity = b
        .target_quantity
        .as_ref()
        .map_or(Some(0), |n| f.quantity("target_quantity", n));
    let target_quantity = non_negative(&mut f, "target_quantity", target_quantity);
    f.finish()?;
    let now = refugio_db::now();
    let row = ItemRow {
        id: refugio_core::new_id(),
        shelter_id: sid.clone(),
        name: checked(name)?,
        category: checked(category)?.as_str().into(),
        unit: checked(unit)?,
        criticality: checked(criticality)?.as_str().into(),
        basis: checked(basis)?.as_str().into(),
        per_person: per_person.map(checked).transpose()?,
        unit_cost: cost.map(checked).transpose()?,
        reorder_days: checked(reorder_days)?,
        target_days: checked(target_days)?,
        lead_days: checked(lead_days)?,
        min_quantity: checked(min_quantity)?,
        target_quantity: checked(target_quantity)?,
        on_hand: 0,
        first_movement_at: None,
        created_at: now,
        updated_at: now,
    };
    db::write_reply(&state, idem.0, StatusCode::CREATED, move |c| {
        if refugio_db::items::name_taken(c, &sid, &row.name, None)? {
            return Err(ApiError::Conflict(Conflict::DuplicateName));
        }
        refugio_db::items::insert(c, std::slice::from_ref(&row))?;
        let data = json!({"category": row.category, "criticality": row.criticality, "basis": row.basis,
            "per_person": row.per_person, "unit_cost": row.unit_cost});
        record(c, Some(&actor), Some(&sid), "item.created", ("item", &row.id), data)?;
        Ok(items::view(row, &currency))
    })
    .await
}

/// The shelter's items, by name.
#[utoipa::path(tag = "stock", params(("sid" = String, Path), PageQuery),
    responses((status = 200, body = Page<ItemView>), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/shelters/{sid}/items")]
pub async fn list(
    state: web::Data<AppState>,
    scope: ShelterScope<Read>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let limit = query.limit()?;
    let after = query.cursor::<2>()?.map(|[name, id]| (name, id));
    let sid = scope.shelter_id.clone();
    let page = db::read(&state, move |c| {
        let currency = crate::services::shelters::currency(c, &sid)?;
        let rows = refugio_db::items::page(
            c,
            &sid,
            after.as_ref().map(|(n, i)| (n.as_str(), i.as_str())),
            limit + 1,
        )?;
        Ok(Page::from_rows(
            rows,
            limit,
            |r| encode_cursor(&[&r.name, &r.id]),
            |r| items::view(r, &currency),
        ))
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `Some(None)` for an explicit `null`, `None` when the field is absent.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UpdateItemRequest {
    pub name: Option<String>,
    pub category: Option<String>,
    pub unit: Option<String>,
    pub criticality: Option<String>,
    pub basis: Option<String>,
    /// `null` clears the norm.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<f64>)]
    pub per_person: Option<Option<serde_json::Number>>,
    /// `null` clears the unit cost.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<MoneyJson>)]
    pub unit_cost: Option<Option<MoneyJson>>,
    pub reorder_days: Option<i64>,
    pub target_days: Option<i64>,
    pub lead_days: Option<i64>,
    #[schema(value_type = Option<f64>)]
    pub min_quantity: Option<serde_json::Number>,
    #[schema(value_type = Option<f64>)]
    pub target_quantity: Option<serde_json::Number>,
}

/// Edits an item's settings (not its stock: that changes only by movements).
#[utoipa::path(tag = "stock", params(("sid" = String, Path), ("iid" = String, Path)), request_body = UpdateItemRequest,
    responses((status = 200, body = ItemView), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[patch("/shelters/{sid}/items/{iid}")]
pub async fn update(
    state: web::Data<AppState>,
    scope: ShelterScope<Write>,
    path: web::Path<(String, String)>,
    body: Body<UpdateItemRequest>,
) -> ApiResult<HttpResponse> {
    let (_, iid) = path.into_inner();
    if !refugio_core::ids::is_well_formed(&iid) {
        return Err(ApiError::NotFound);
    }
    let (sid, actor) = (scope.shelter_id.clone(), scope.caller.user_id.clone());
    let b = body.into_inner()?;
    db::write_reply(&state, None, StatusCode::OK, move |c| {
        let currency = crate::services::shelters::currency(c, &sid)?;
        let item = refugio_db::items::find(c, &sid, &iid)?.ok_or(ApiError::NotFound)?;
        let mut f = Fields::new();
        let name = b.name.as_deref().and_then(|v| f.name("name", v, NAME_MAX)).unwrap_or(item.name.clone());
        let unit = b.unit.as_deref().and_then(|v| f.name("unit", v, UNIT_MAX)).unwrap_or(item.unit.clone());
        let category = b.category.as_deref().and_then(|v| f.one_of::<ItemCategory>("category", v, CATEGORIES)).map_or(item.category.clone(), |v| v.as_str().into());
        let criticality = b.criticality.as_deref().and_then(|v| f.one_of::<Criticality>("criticality", v, CRITICALITIES)).map_or(item.criticality.clone(), |v| v.as_str().into());
        let basis = b.basis.as_deref().and_then(|v| f.one_of::<Basis>("basis", v, BASES)).map_or(item.basis.clone(), |v| v.as_str().into());
        let per_person = match &b.per_person {
            None => item.per_person,
            Some(None) => None,
            Some(Some(n)) => {
                let norm = f.norm("per_person", n);
                non_negative(&mut f, "per_person", norm)
            }
        };
        let unit_cost = match &b.unit_cost {
            None => item.unit_cost,
            Some(None) => None,
            Some(Some(m)) => unit_cost(&mut f, m, &currency),
        };
        let days = |f: &mut Fields, field: &str, v: Option<i64>, current: i64| v.map_or(current, |v| f.range(field, v, 0, MAX_DAYS).unwrap_or(current));
        let reorder_days = days(&mut f, "reorder_days", b.reorder_days, item.reorder_days);
        let target_days = days(&mut f, "target_days", b.target_days, item.target_days);
        let lead_days = days(&mut f, "lead_days", b.lead_days, item.lead_days);
        let min_quantity = b.min_quantity.as_ref().map_or(Some(item.min_quantity), |n| f.quantity("min_quantity", n));
        let min_quantity = non_negative(&mut f, "min_quantity", min_quantity).unwrap_or(item.min_quantity);
        let target_quantity = b.target_quantity.as_ref().map_or(Some(item.target_quantity), |n| f.quantity("target_quantity", n));
        let target_quantity = non_negative(&mut f, "target_quantity", target_quantity).unwrap_or(item.target_quantity);
        f.finish()?;
        if name != item.name && refugio_db::items::name_taken(c, &sid, &name, Some(&iid))? {
            return Err(ApiError::Conflict(Conflict::DuplicateName));
        }
        let settings = ItemSettings {
            name, category, unit, criticality, basis, per_person, unit_cost, reorder_days, target_days, lead_days,
            min_quantity, target_quantity, updated_at: refugio_db::now(),
        };
        refugio_db::items::update_settings(c, &sid, &iid, &settings)?;
        let data = json!({"category": settings.category, "criticality": settings.criticality, "basis": settings.basis,
            "per_person": settings.per_person, "unit_cost": settings.unit_cost, "reorder_days": settings.reorder_days,
            "target_days": settings.target_days, "lead_days": settings.lead_days, "min_quantity": settings.min_quantity,
            "target_quantity": settings.target_quantity});
        record(c, Some(&actor), Some(&sid), "item.updated", ("item", &iid), data)?;
        // An edit lifts a cancel's suppression: the coordinator has looked at the item again.
        refugio_db::needs::set_item_suppressed(c, &iid, false)?;
        crate::services::needs::refresh_item_by_id(c, &sid, &iid, None)?;
        let item = refugio_db::items::find(c, &sid, &iid)?.ok_or(ApiError::NotFound)?;
        Ok(items::view(item, &currency))
    })
    .await
}
