//! Expenses a shelter recorded and the allocations that paid for them.

use crate::schema::{expense_funding, expenses};
use crate::DbConnection;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = expenses)]
pub struct ExpenseRow {
    pub id: String,
    pub shelter_id: String,
    pub amount: i64,
    pub currency: String,
    pub category: String,
    pub description: String,
    pub spent_on: NaiveDate,
    pub need_id: Option<String>,
    pub bill_id: Option<String>,
    pub item_id: Option<String>,
    pub quantity: Option<i64>,
    pub received: Option<bool>,
    pub received_quantity: i64,
    pub receipt_ref: Option<String>,
    pub own_funds: i64,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = expense_funding)]
pub struct FundingRow {
    pub id: String,
    pub expense_id: String,
    pub allocation_id: String,
    pub donation_id: String,
    pub amount: i64,
}

pub fn insert(conn: &mut DbConnection, row: &ExpenseRow) -> QueryResult<()> {
    diesel::insert_into(expenses::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn insert_funding(conn: &mut DbConnection, row: &FundingRow) -> QueryResult<()> {
    diesel::insert_into(expense_funding::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find(
    conn: &mut DbConnection,
    shelter_id: &str,
    id: &str,
) -> QueryResult<Option<ExpenseRow>> {
    expenses::table
        .filter(expenses::shelter_id.eq(shelter_id))
        .filter(expenses::id.eq(id))
        .select(ExpenseRow::as_select())
        .first(conn)
        .optional()
}

/// One page of a shelter's expenses, newest first, strictly before `before` (recorded_at, id).
pub fn page(
    conn: &mut DbConnection,
    shelter_id: &str,
    before: Option<(NaiveDateTime, &str)>,
    limit: i64,
) -> QueryResult<Vec<ExpenseRow>> {
    let mut q = expenses::table
        .filter(expenses::shelter_id.eq(shelter_id))
        .order((expenses::recorded_at.desc(), expenses::id.desc()))
        .select(ExpenseRow::as_select())
        .into_boxed();
    if let Some((at, id)) = before {
        q = q.filter(
            expenses::recorded_at.lt(at).or(expenses::recorded_at
                .eq(at)
                .and(expenses::id.lt(id.to_owned()))),
        );
    }
    q.limit(limit).load(conn)
}

/// The funding slices of these expenses.
pub fn funding_of(conn: &mut DbConnection, expense_ids: &[String]) -> QueryResult<Vec<FundingRow>> {
    expense_funding::table
        .filter(expense_funding::expense_id.eq_any(expense_ids))
        .order(expense_funding::id)
        .select(FundingRow::as_select())
        .load(conn)
}

/// What a donation paid for: each funding slice with its expense, oldest first.
pub fn spent_from_donation(
    conn: &mut DbConnection,
    donation_id: &str,
) -> QueryResult<Vec<(FundingRow, ExpenseRow)>> {
    expense_funding::table
        .inner_join(expenses::table)
        .filter(expense_funding::donation_id.eq(donation_id))
        .order((expenses::recorded_at, expenses::id, expense_funding::id))
        .select((FundingRow::as_select(), ExpenseRow::as_select()))
        .load(conn)
}

/// Goods bought for an item and not received yet (`P`): Σ (quantity − received) of its
/// expenses marked not received.
pub fn incoming_for_item(conn: &mut DbConnection, item_id: &str) -> QueryResult<i64> {
    let rows: Vec<(Option<i64>, i64)> = expenses::table
        .filter(expenses::item_id.eq(item_id))
        .filter(expenses::received.eq(false))
        .select((expenses::quantity, expenses::received_quantity))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(q, r)| (q.unwrap_or(0) - r).max(0))
        .sum())
}

/// Counts `quantity` more of an incoming expense as received, unless that would exceed what
/// was bought; returns whether it changed.
pub fn add_received(conn: &mut DbConnection, id: &str, quantity: i64) -> QueryResult<bool> {
    diesel::update(
        expenses::table
            .find(id)
            .filter(expenses::received.eq(false))
            .filter(
                (expenses::received_quantity + quantity).le(expenses::quantity.assume_not_null()),
            ),
    )
    .set(expenses::received_quantity.eq(expenses::received_quantity + quantity))
    .execute(conn)
    .map(|n| n == 1)
}

/// Sets what the shelter paid from its own money (after the allocations were drawn).
pub fn set_own_funds(conn: &mut DbConnection, id: &str, own_funds: i64) -> QueryResult<()> {
    diesel::update(expenses::table.find(id))
        .set(expenses::own_funds.eq(own_funds))
        .execute(conn)
        .map(drop)
}
