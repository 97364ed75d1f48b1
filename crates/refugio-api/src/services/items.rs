//! Items: the default catalog a shelter starts with, and items as the API shows them.

use crate::audit_log::record;
use crate::error::ApiResult;
use crate::money::{money_json, MoneyJson};
use refugio_core::engine::catalog::DEFAULT_CATALOG;
use refugio_core::quantity::norm_to_json;
use refugio_core::Quantity;
use refugio_db::items::ItemRow;
use refugio_db::DbConnection;
use serde::Serialize;
use serde_json::json;

pub const DEFAULT_REORDER_DAYS: i64 = 7;
pub const DEFAULT_TARGET_DAYS: i64 = 14;
pub const DEFAULT_LEAD_DAYS: i64 = 3;

/// Gives a new shelter the editable default catalog (in its creating transaction).
pub fn seed_default_catalog(
    conn: &mut DbConnection,
    actor: &str,
    shelter_id: &str,
) -> ApiResult<()> {
    let now = refugio_db::now();
    let rows: Vec<ItemRow> = DEFAULT_CATALOG
        .iter()
        .map(|c| ItemRow {
            id: refugio_core::new_id(),
            shelter_id: shelter_id.into(),
            name: c.name.into(),
            category: c.category.as_str().into(),
            unit: c.unit.into(),
            criticality: c.criticality.as_str().into(),
            basis: c.basis.as_str().into(),
            per_person: c.per_person,
            unit_cost: None,
            reorder_days: DEFAULT_REORDER_DAYS,
            target_days: DEFAULT_TARGET_DAYS,
            lead_days: DEFAULT_LEAD_DAYS,
            min_quantity: 0,
            target_quantity: 0,
            on_hand: 0,
            first_movement_at: None,
            created_at: now,
            updated_at: now,
        })
        .collect();
    refugio_db::items::insert(conn, &rows)?;
    record(
        conn,
        Some(actor),
        Some(shelter_id),
        "catalog.seeded",
        ("shelter", shelter_id),
        json!({"items": rows.len()}),
    )
}

/// An item with all its settings.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    pub id: String,
    pub shelter_id: String,
    pub name: String,
    pub category: String,
    pub unit: String,
    pub criticality: String,
    pub basis: String,
    /// Per person per day (consumable) or units per person (durable); up to 6 decimals.
    #[schema(value_type = Option<f64>)]
    pub per_person: serde_json::Value,
    pub unit_cost: Option<MoneyJson>,
    pub reorder_days: i64,
    pub target_days: i64,
    pub lead_days: i64,
    #[schema(value_type = f64)]
    pub min_quantity: serde_json::Value,
    #[schema(value_type = f64)]
    pub target_quantity: serde_json::Value,
    #[schema(value_type = f64)]
    pub on_hand: serde_json::Value,
    /// False until the item's first movement: untracked items make no needs.
    pub tracked: bool,
}

pub fn view(row: ItemRow, currency: &str) -> ItemView {
    ItemView {
        per_person: row.per_person.map_or(serde_json::Value::Null, norm_to_json),
        unit_cost: row.unit_cost.map(|c| money_json(c, currency)),
        min_quantity: Quantity(row.min_quantity).to_json(),
        target_quantity: Quantity(row.target_quantity).to_json(),
        on_hand: Quantity(row.on_hand).to_json(),
        tracked: row.first_movement_at.is_some(),
        id: row.id,
        shelter_id: row.shelter_id,
        name: row.name,
        category: row.category,
        unit: row.unit,
        criticality: row.criticality,
        basis: row.basis,
        reorder_days: row.reorder_days,
        target_days: row.target_days,
        lead_days: row.lead_days,
    }
}
