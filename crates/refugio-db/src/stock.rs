//! The stock ledger. `on_hand` changes only here, by an atomic `on_hand = on_hand + delta`
//! guarded so it never goes below zero, in the transaction that appends the ledger row; the
//! ledger is append-only (nothing here updates or deletes a movement).

use crate::schema::{items, stock_movements};
use crate::DbConnection;
use chrono::NaiveDateTime;
use diesel::dsl::max;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = stock_movements)]
pub struct MovementRow {
    pub id: String,
    pub shelter_id: String,
    pub item_id: String,
    pub kind: String,
    pub quantity: i64,
    pub delta: i64,
    pub on_hand_after: i64,
    pub occurred_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub recorded_by: String,
    pub note: Option<String>,
    pub donation_id: Option<String>,
    pub expense_id: Option<String>,
}

/// Adds `delta` to an item's stock unless that would make it negative; returns the new on
/// hand, or `None` (nothing changed) when it would go below zero. On PostgreSQL the update
/// row-locks the item until commit, so concurrent movements queue instead of losing updates.
pub fn apply_delta(conn: &mut DbConnection, item_id: &str, delta: i64) -> QueryResult<Option<i64>> {
    let changed = diesel::update(
        items::table
            .find(item_id)
            .filter((items::on_hand + delta).ge(0)),
    )
    .set(items::on_hand.eq(items::on_hand + delta))
    .execute(conn)?;
    if changed == 0 {
        return Ok(None);
    }
    items::table
        .find(item_id)
        .select(items::on_hand)
        .first(conn)
        .map(Some)
}

/// Locks an item's row for this transaction and returns its on hand (for counts, whose delta
/// depends on what is there).
pub fn lock_on_hand(conn: &mut DbConnection, item_id: &str) -> QueryResult<i64> {
    diesel::update(items::table.find(item_id))
        .set(items::on_hand.eq(items::on_hand))
        .execute(conn)?;
    items::table
        .find(item_id)
        .select(items::on_hand)
        .first(conn)
}

/// Marks the item tracked from its earliest movement (a backdated one moves it earlier).
pub fn mark_tracked(
    conn: &mut DbConnection,
    item_id: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        items::table.find(item_id).filter(
            items::first_movement_at
                .is_null()
                .or(items::first_movement_at.gt(at)),
        ),
    )
    .set(items::first_movement_at.eq(at))
    .execute(conn)
}

pub fn insert(conn: &mut DbConnection, row: &MovementRow) -> QueryResult<()> {
    diesel::insert_into(stock_movements::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Filters of the ledger listing (`from` inclusive, `to` exclusive, on `occurred_at`).
#[derive(Debug, Clone, Default)]
pub struct MovementFilter {
    pub item_id: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    /// Resume strictly before this (recorded_at, id).
    pub before: Option<(NaiveDateTime, String)>,
}

/// One page of a shelter's ledger, newest recorded first.
pub fn page(
    conn: &mut DbConnection,
    shelter_id: &str,
    f: &MovementFilter,
    limit: i64,
) -> QueryResult<Vec<MovementRow>> {
    let mut q = stock_movements::table
        .filter(stock_movements::shelter_id.eq(shelter_id))
        .order((
            stock_movements::recorded_at.desc(),
            stock_movements::id.desc(),
        ))
        .select(MovementRow::as_select())
        .into_boxed();
    if let Some(item) = &f.item_id {
        q = q.filter(stock_movements::item_id.eq(item.clone()));
    }
    if let Some(from) = f.from {
        q = q.filter(stock_movements::occurred_at.ge(from));
    }
    if let Some(to) = f.to {
        q = q.filter(stock_movements::occurred_at.lt(to));
    }
    if let Some((at, id)) = &f.before {
        q = q.filter(
            stock_movements::recorded_at
                .lt(*at)
                .or(stock_movements::recorded_at
                    .eq(*at)
                    .and(stock_movements::id.lt(id.clone()))),
        );
    }
    q.limit(limit).load(conn)
}

/// A shelter's movements (of one item, when given) that occurred since `since`, in
/// occurrence then recording order.
pub fn occurred_since(
    conn: &mut DbConnection,
    shelter_id: &str,
    item_id: Option<&str>,
    since: NaiveDateTime,
) -> QueryResult<Vec<MovementRow>> {
    let mut q = stock_movements::table
        .filter(stock_movements::shelter_id.eq(shelter_id))
        .filter(stock_movements::occurred_at.ge(since))
        .order((
            stock_movements::occurred_at,
            stock_movements::recorded_at,
            stock_movements::id,
        ))
        .select(MovementRow::as_select())
        .into_boxed();
    if let Some(item) = item_id {
        q = q.filter(stock_movements::item_id.eq(item));
    }
    q.load(conn)
}

/// Per item (or for one item), when its latest count before `before` occurred.
pub fn last_counts_before(
    conn: &mut DbConnection,
    shelter_id: &str,
    item_id: Option<&str>,
    before: NaiveDateTime,
) -> QueryResult<Vec<(String, Option<NaiveDateTime>)>> {
    let mut q = stock_movements::table
        .filter(stock_movements::shelter_id.eq(shelter_id))
        .filter(stock_movements::kind.eq("count"))
        .filter(stock_movements::occurred_at.lt(before))
        .group_by(stock_movements::item_id)
        .select((stock_movements::item_id, max(stock_movements::occurred_at)))
        .into_boxed();
    if let Some(item) = item_id {
        q = q.filter(stock_movements::item_id.eq(item));
    }
    q.load(conn)
}

/// The sum of an item's ledger deltas (what its on hand must equal).
pub fn ledger_sum(conn: &mut DbConnection, item_id: &str) -> QueryResult<i64> {
    let deltas: Vec<i64> = stock_movements::table
        .filter(stock_movements::item_id.eq(item_id))
        .select(stock_movements::delta)
        .load(conn)?;
    Ok(deltas.iter().sum())
}
