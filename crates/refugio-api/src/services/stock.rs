//! Recording stock movements, and the stock view with demand and targets.

use crate::audit_log::record;
use crate::error::{ApiError, ApiResult, Conflict};
use crate::i18n::FieldIssue;
use chrono::{Duration, NaiveDate, NaiveDateTime, TimeZone};
use refugio_core::engine::demand::{self, DatedMovement, ItemParams, Levels};
use refugio_core::inventory::{Basis, MovementKind};
use refugio_core::Quantity;
use refugio_db::items::ItemRow;
use refugio_db::shelters::ShelterRow;
use refugio_db::stock::MovementRow;
use refugio_db::DbConnection;
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;

/// A validated movement to record.
pub struct NewMovement {
    pub item_id: String,
    pub kind: MovementKind,
    /// As sent (thousandths; signed for adjustments).
    pub quantity: i64,
    pub occurred_at: NaiveDateTime,
    pub note: Option<String>,
    pub donation_id: Option<String>,
    pub expense_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MovementView {
    pub id: String,
    pub item_id: String,
    pub kind: String,
    #[schema(value_type = f64)]
    pub quantity: serde_json::Value,
    /// The signed change to on hand.
    #[schema(value_type = f64)]
    pub delta: serde_json::Value,
    #[schema(value_type = f64)]
    pub on_hand_after: serde_json::Value,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    pub recorded_by: String,
    pub note: Option<String>,
    pub donation_id: Option<String>,
    pub expense_id: Option<String>,
}

pub fn movement_view(m: MovementRow) -> MovementView {
    MovementView {
        quantity: Quantity(m.quantity).to_json(),
        delta: Quantity(m.delta).to_json(),
        on_hand_after: Quantity(m.on_hand_after).to_json(),
        occurred_at: m.occurred_at.and_utc(),
        recorded_at: m.recorded_at.and_utc(),
        id: m.id,
        item_id: m.item_id,
        kind: m.kind,
        recorded_by: m.recorded_by,
        note: m.note,
        donation_id: m.donation_id,
        expense_id: m.expense_id,
    }
}

/// Records one movement in the caller's transaction: the ledger row, the atomic change to on
/// hand, and its audit event. Stock that would go negative is a `409` and nothing is written.
pub fn record_movement(
    conn: &mut DbConnection,
    actor: &str,
    shelter_id: &str,
    m: NewMovement,
) -> ApiResult<MovementRow> {
    if refugio_db::items::find(conn, shelter_id, &m.item_id)?.is_none() {
        return Err(ApiError::field("item_id", FieldIssue::UnknownReference));
    }
    let delta = match m.kind {
        MovementKind::Receipt => m.quantity,
        MovementKind::Consumption | MovementKind::Waste => -m.quantity,
        MovementKind::Adjustment => m.quantity,
        MovementKind::Count => m.quantity - refugio_db::stock::lock_on_hand(conn, &m.item_id)?,
    };
    let on_hand_after = refugio_db::stock::apply_delta(conn, &m.item_id, delta)?
        .ok_or(ApiError::Conflict(Conflict::InsufficientStock))?;
    let now = refugio_db::now();
    refugio_db::stock::mark_tracked(conn, &m.item_id, m.occurred_at.min(now))?;
    let row = MovementRow {
        id: refugio_core::new_id(),
        shelter_id: shelter_id.into(),
        item_id: m.item_id,
        kind: m.kind.as_str().into(),
        quantity: m.quantity,
        delta,
        on_hand_after,
        occurred_at: m.occurred_at,
        recorded_at: now,
        recorded_by: actor.into(),
        note: m.note,
        donation_id: m.donation_id,
        expense_id: m.expense_id,
    };
    refugio_db::stock::insert(conn, &row)?;
    record(
        conn,
        Some(actor),
        Some(shelter_id),
        "stock.movement",
        ("stock_movement", &row.id),
        json!({"item_id": row.item_id, "kind": row.kind, "quantity": row.quantity, "delta": delta, "on_hand_after": on_hand_after}),
    )?;
    crate::services::needs::refresh_item_by_id(conn, shelter_id, &row.item_id, Some(&row))?;
    Ok(row)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StockLine {
    pub item_id: String,
    pub name: String,
    pub category: String,
    pub unit: String,
    pub tracked: bool,
    #[schema(value_type = f64)]
    pub on_hand: serde_json::Value,
    #[schema(value_type = f64)]
    pub daily_demand: serde_json::Value,
    /// `on_hand / daily_demand`, null when demand is 0.
    #[schema(value_type = Option<f64>)]
    pub days_of_cover: serde_json::Value,
    #[schema(value_type = f64)]
    pub reorder_point: serde_json::Value,
    #[schema(value_type = f64)]
    pub target: serde_json::Value,
}

/// The local date of a UTC timestamp in `tz`.
pub fn local_date(tz: &chrono_tz::Tz, at: NaiveDateTime) -> NaiveDate {
    tz.from_utc_datetime(&at).date_naive()
}

/// A shelter as the engine sees it: its clock, beds and currency.
#[derive(Debug, Clone)]
pub struct ShelterContext {
    pub id: String,
    pub name: String,
    pub currency: String,
    pub tz: chrono_tz::Tz,
    pub occupied: i64,
    pub now: NaiveDateTime,
    pub today: NaiveDate,
}

impl ShelterContext {
    pub fn load(conn: &mut DbConnection, shelter_id: &str) -> ApiResult<ShelterContext> {
        let shelter = refugio_db::shelters::find(conn, shelter_id)?.ok_or(ApiError::NotFound)?;
        ShelterContext::of(shelter, refugio_db::now())
    }

    /// The contexts of several shelters, read in one query, by shelter id.
    pub fn load_many(
        conn: &mut DbConnection,
        shelter_ids: &[String],
    ) -> ApiResult<HashMap<String, ShelterContext>> {
        let now = refugio_db::now();
        refugio_db::shelters::find_many(conn, shelter_ids)?
            .into_iter()
            .map(|s| Ok((s.id.clone(), ShelterContext::of(s, now)?)))
            .collect()
    }

    fn of(shelter: ShelterRow, now: NaiveDateTime) -> ApiResult<ShelterContext> {
        let tz: chrono_tz::Tz = shelter.timezone.parse().map_err(ApiError::internal)?;
        Ok(ShelterContext {
            today: local_date(&tz, now),
            id: shelter.id,
            name: shelter.name,
            currency: shelter.currency,
            tz,
            occupied: shelter.occupied_beds,
            now,
        })
    }
}

/// How `item_levels` uses each item's cached observed demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// Use what was cached today; compute what is stale without storing it (reads).
    Read,
    /// Use what was cached today; compute and store what is stale.
    Refresh,
    /// Compute and store anew: a count or a backdated movement rewrote past days.
    Recompute,
}

/// Demand and levels of `items` (all of one shelter); `only` narrows the queries to one item
/// when that is all that changed. Observed demand covers the days up to yesterday, so it is
/// computed at most once per shelter-day unless past days change.
pub fn item_levels(
    conn: &mut DbConnection,
    ctx: &ShelterContext,
    items: &[ItemRow],
    only: Option<&str>,
    mode: Observed,
) -> ApiResult<Vec<Levels>> {
    let mut observed: HashMap<String, Option<i64>> = HashMap::new();
    if mode != Observed::Recompute {
        for (id, demand, on) in refugio_db::items::observed_cache(conn, &ctx.id, only)? {
            if on == Some(ctx.today) {
                observed.insert(id, demand);
            }
        }
    }
    let stale: Vec<&ItemRow> = items
        .iter()
        .filter(|i| i.first_movement_at.is_some() && !observed.contains_key(&i.id))
        .collect();
    if !stale.is_empty() {
        let computed = observe(conn, ctx, &stale, only)?;
        for (item, demand) in stale.into_iter().zip(computed) {
            if mode != Observed::Read {
                refugio_db::items::set_observed(conn, &item.id, demand, ctx.today)?;
            }
            observed.insert(item.id.clone(), demand);
        }
    }
    Ok(items
        .iter()
        .map(|item| {
            let demand = observed.get(&item.id).copied().flatten();
            demand::levels(&item_params(item), ctx.occupied, demand)
        })
        .collect())
}

/// Observed demand of tracked `items` from their movement history.
fn observe(
    conn: &mut DbConnection,
    ctx: &ShelterContext,
    items: &[&ItemRow],
    only: Option<&str>,
) -> ApiResult<Vec<Option<i64>>> {
    // Enough history for the 28-day window in any time zone.
    let cutoff = ctx.now - Duration::days(demand::MAX_WINDOW_DAYS + 2);
    let mut history: HashMap<String, Vec<DatedMovement>> = HashMap::new();
    for m in refugio_db::stock::occurred_since(conn, &ctx.id, only, cutoff)? {
        let Ok(kind) = m.kind.parse() else { continue };
        history.entry(m.item_id).or_default().push(DatedMovement {
            date: local_date(&ctx.tz, m.occurred_at),
            kind,
            delta: m.delta,
        });
    }
    let anchors: HashMap<String, NaiveDateTime> =
        refugio_db::stock::last_counts_before(conn, &ctx.id, only, cutoff)?
            .into_iter()
            .filter_map(|(item, at)| at.map(|at| (item, at)))
            .collect();
    Ok(items
        .iter()
        .map(|item| {
            item.first_movement_at.and_then(|first| {
                let first_on = local_date(&ctx.tz, first);
                let anchor = anchors
                    .get(&item.id)
                    .map_or(first_on, |at| local_date(&ctx.tz, *at).max(first_on));
                let movements = history.get(&item.id).map_or(&[][..], Vec::as_slice);
                demand::observed_demand(first_on, anchor, ctx.today, movements)
            })
        })
        .collect())
}

pub fn item_params(item: &ItemRow) -> ItemParams {
    ItemParams {
        basis: item.basis.parse().unwrap_or(Basis::Consumable),
        per_person: item.per_person,
        reorder_days: item.reorder_days,
        target_days: item.target_days,
        min_quantity: item.min_quantity,
        target_quantity: item.target_quantity,
    }
}

/// Every item of a shelter with its on hand, demand, cover, reorder point and target.
pub fn stock_lines(conn: &mut DbConnection, shelter_id: &str) -> ApiResult<Vec<StockLine>> {
    let ctx = ShelterContext::load(conn, shelter_id)?;
    let items = refugio_db::items::all(conn, shelter_id)?;
    let levels = item_levels(conn, &ctx, &items, None, Observed::Read)?;
    Ok(items
        .into_iter()
        .zip(levels)
        .map(|(item, l)| stock_line(item, &l))
        .collect())
}

fn stock_line(item: ItemRow, levels: &Levels) -> StockLine {
    StockLine {
        tracked: item.first_movement_at.is_some(),
        on_hand: Quantity(item.on_hand).to_json(),
        daily_demand: Quantity(levels.daily_demand).to_json(),
        days_of_cover: demand::days_of_cover(item.on_hand, levels.daily_demand)
            .map_or(serde_json::Value::Null, |d| Quantity(d).to_json()),
        reorder_point: Quantity(levels.reorder_point).to_json(),
        target: Quantity(levels.target).to_json(),
        item_id: item.id,
        name: item.name,
        category: item.category,
        unit: item.unit,
    }
}
