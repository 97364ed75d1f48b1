//! A shelter's item catalog. `on_hand` is never written here: only `stock` changes it.

use crate::schema::items;
use crate::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = items)]
pub struct ItemRow {
    pub id: String,
    pub shelter_id: String,
    pub name: String,
    pub category: String,
    pub unit: String,
    pub criticality: String,
    pub basis: String,
    pub per_person: Option<i64>,
    pub unit_cost: Option<i64>,
    pub reorder_days: i64,
    pub target_days: i64,
    pub lead_days: i64,
    pub min_quantity: i64,
    pub target_quantity: i64,
    pub on_hand: i64,
    pub first_movement_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The editable settings of an item (everything but stock and timestamps of movements).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = items, treat_none_as_null = true)]
pub struct ItemSettings {
    pub name: String,
    pub category: String,
    pub unit: String,
    pub criticality: String,
    pub basis: String,
    pub per_person: Option<i64>,
    pub unit_cost: Option<i64>,
    pub reorder_days: i64,
    pub target_days: i64,
    pub lead_days: i64,
    pub min_quantity: i64,
    pub target_quantity: i64,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, rows: &[ItemRow]) -> QueryResult<()> {
    // One statement per row: the multi-backend connection has no batch insert.
    for row in rows {
        diesel::insert_into(items::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// An item of this shelter (another shelter's item is `None`).
pub fn find(conn: &mut DbConnection, shelter_id: &str, id: &str) -> QueryResult<Option<ItemRow>> {
    items::table
        .filter(items::shelter_id.eq(shelter_id))
        .filter(items::id.eq(id))
        .select(ItemRow::as_select())
        .first(conn)
        .optional()
}

/// One page of a shelter's items by (name, id), strictly after `after`.
pub fn page(
    conn: &mut DbConnection,
    shelter_id: &str,
    after: Option<(&str, &str)>,
    limit: i64,
) -> QueryResult<Vec<ItemRow>> {
    let mut q = items::table
        .filter(items::shelter_id.eq(shelter_id))
        .order((items::name, items::id))
        .select(ItemRow::as_select())
        .into_boxed();
    if let Some((name, id)) = after {
        q = q.filter(
            items::name
                .gt(name)
                .or(items::name.eq(name).and(items::id.gt(id))),
        );
    }
    q.limit(limit).load(conn)
}

/// Every item of a shelter, by name.
pub fn all(conn: &mut DbConnection, shelter_id: &str) -> QueryResult<Vec<ItemRow>> {
    items::table
        .filter(items::shelter_id.eq(shelter_id))
        .order((items::name, items::id))
        .select(ItemRow::as_select())
        .load(conn)
}

pub fn name_taken(
    conn: &mut DbConnection,
    shelter_id: &str,
    name: &str,
    except_id: Option<&str>,
) -> QueryResult<bool> {
    let mut q = items::table
        .filter(items::shelter_id.eq(shelter_id))
        .filter(items::name.eq(name))
        .select(items::id)
        .into_boxed();
    if let Some(id) = except_id {
        q = q.filter(items::id.ne(id));
    }
    Ok(q.first::<String>(conn).optional()?.is_some())
}

pub fn update_settings(
    conn: &mut DbConnection,
    shelter_id: &str,
    id: &str,
    settings: &ItemSettings,
) -> QueryResult<usize> {
    diesel::update(
        items::table
            .filter(items::shelter_id.eq(shelter_id))
            .filter(items::id.eq(id)),
    )
    .set(settings)
    .execute(conn)
}

/// An item id, its cached observed demand, and the local date it was computed for.
pub type ObservedCache = (String, Option<i64>, Option<chrono::NaiveDate>);

/// Each item's cached observed demand (of one item, when given).
pub fn observed_cache(
    conn: &mut DbConnection,
    shelter_id: &str,
    only: Option<&str>,
) -> QueryResult<Vec<ObservedCache>> {
    let mut q = items::table
        .filter(items::shelter_id.eq(shelter_id))
        .select((items::id, items::observed_demand, items::observed_on))
        .into_boxed();
    if let Some(id) = only {
        q = q.filter(items::id.eq(id));
    }
    q.load(conn)
}

/// Caches an item's observed demand for the local date `on`.
pub fn set_observed(
    conn: &mut DbConnection,
    item_id: &str,
    demand: Option<i64>,
    on: chrono::NaiveDate,
) -> QueryResult<usize> {
    diesel::update(items::table.find(item_id))
        .set((items::observed_demand.eq(demand), items::observed_on.eq(on)))
        .execute(conn)
}
