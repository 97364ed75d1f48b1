//! Read-only queries behind the spending report and a donation's trace: what was allocated,
//! spent and received in a period, what the auditors' flags look for, and the stock movements
//! that close the chain donation → allocation → need → expense → receipt.
//!
//! Periods of timestamps are half-open UTC windows (`from` inclusive, `to` exclusive) that the
//! caller makes wide enough and then narrows to shelter-local dates; periods of dates are
//! inclusive.

use crate::bills::BillRow;
use crate::donations::{AllocationRow, DonationRow};
use crate::expenses::ExpenseRow;
use crate::schema::{
    allocations, bills, donations, expense_funding, expenses, needs, shelters, stock_movements,
};
use crate::shelters::ShelterRow;
use crate::stock::MovementRow;
use crate::DbConnection;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// The movement kinds that take stock away without consuming it for people.
pub const CORRECTION_KINDS: [&str; 3] = ["adjustment", "waste", "count"];

/// Every shelter, by name then id.
pub fn shelters_by_name(conn: &mut DbConnection) -> QueryResult<Vec<ShelterRow>> {
    shelters::table
        .order((shelters::name, shelters::id))
        .select(ShelterRow::as_select())
        .load(conn)
}

/// A shelter's allocations created in `[from, to)`, each with its need's category, oldest first.
pub fn allocations_created(
    conn: &mut DbConnection,
    shelter_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<(AllocationRow, String)>> {
    allocations::table
        .inner_join(needs::table)
        .filter(allocations::shelter_id.eq(shelter_id))
        .filter(allocations::created_at.ge(from))
        .filter(allocations::created_at.lt(to))
        .order((allocations::created_at, allocations::id))
        .select((AllocationRow::as_select(), needs::category))
        .load(conn)
}

/// A shelter's expenses spent on the dates `from..=to`, oldest first.
pub fn expenses_spent(
    conn: &mut DbConnection,
    shelter_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<ExpenseRow>> {
    expenses::table
        .filter(expenses::shelter_id.eq(shelter_id))
        .filter(expenses::spent_on.ge(from))
        .filter(expenses::spent_on.le(to))
        .order((expenses::spent_on, expenses::recorded_at, expenses::id))
        .select(ExpenseRow::as_select())
        .load(conn)
}

/// The funding slices of a shelter's expenses spent on the dates `from..=to`:
/// `(expense id, amount)` in the shelter's currency.
pub fn funding_of_expenses_spent(
    conn: &mut DbConnection,
    shelter_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<(String, i64)>> {
    expense_funding::table
        .inner_join(expenses::table)
        .filter(expenses::shelter_id.eq(shelter_id))
        .filter(expenses::spent_on.ge(from))
        .filter(expenses::spent_on.le(to))
        .select((expense_funding::expense_id, expense_funding::amount))
        .load(conn)
}

/// Money donations received on the (UTC) dates `from..=to`, oldest first.
pub fn money_received(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<DonationRow>> {
    donations::table
        .filter(donations::kind.eq("money"))
        .filter(donations::status.eq("received"))
        .filter(donations::received_on.ge(from))
        .filter(donations::received_on.le(to))
        .order((donations::received_on, donations::id))
        .select(DonationRow::as_select())
        .load(conn)
}

/// What the allocations of money received on the dates `from..=to` hold now:
/// `(donation currency, amount)`.
pub fn allocations_of_money_received(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<(String, i64)>> {
    allocations::table
        .inner_join(donations::table)
        .filter(donations::kind.eq("money"))
        .filter(donations::status.eq("received"))
        .filter(donations::received_on.ge(from))
        .filter(donations::received_on.le(to))
        .select((allocations::currency, allocations::amount))
        .load(conn)
}

/// Allocations created at or before `before` that still hold money not spent (of one shelter
/// when given), oldest first.
pub fn unspent_allocations_made_by(
    conn: &mut DbConnection,
    shelter_id: Option<&str>,
    before: NaiveDateTime,
) -> QueryResult<Vec<AllocationRow>> {
    let mut q = allocations::table
        .filter(allocations::created_at.le(before))
        .filter(allocations::amount_local.gt(allocations::spent))
        .order((allocations::created_at, allocations::id))
        .select(AllocationRow::as_select())
        .into_boxed();
    if let Some(s) = shelter_id {
        q = q.filter(allocations::shelter_id.eq(s.to_owned()));
    }
    q.load(conn)
}

/// A shelter's adjustments, waste and counts that lowered stock and occurred in `[from, to)`,
/// in occurrence then recording order.
pub fn stock_reductions(
    conn: &mut DbConnection,
    shelter_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<MovementRow>> {
    stock_movements::table
        .filter(stock_movements::shelter_id.eq(shelter_id))
        .filter(stock_movements::kind.eq_any(CORRECTION_KINDS))
        .filter(stock_movements::delta.lt(0))
        .filter(stock_movements::occurred_at.ge(from))
        .filter(stock_movements::occurred_at.lt(to))
        .order((
            stock_movements::occurred_at,
            stock_movements::recorded_at,
            stock_movements::id,
        ))
        .select(MovementRow::as_select())
        .load(conn)
}

/// A shelter's bills that are not void, not paid in full, and due before `today`, by due date.
pub fn overdue_bills(
    conn: &mut DbConnection,
    shelter_id: &str,
    today: NaiveDate,
) -> QueryResult<Vec<BillRow>> {
    bills::table
        .filter(bills::shelter_id.eq(shelter_id))
        .filter(bills::status.ne("void"))
        .filter(bills::paid.lt(bills::amount))
        .filter(bills::due_on.lt(today))
        .order((bills::due_on, bills::id))
        .select(BillRow::as_select())
        .load(conn)
}

/// A live need that still lacks money, as far as a restriction and a currency care.
#[derive(Debug, Clone, Queryable)]
pub struct OpenMoneyNeed {
    pub id: String,
    pub shelter_id: String,
    pub category: String,
    pub currency: String,
}

/// Every live need with `amount_open > 0`.
pub fn open_money_needs(conn: &mut DbConnection) -> QueryResult<Vec<OpenMoneyNeed>> {
    needs::table
        .filter(needs::status.eq_any(crate::needs::LIVE))
        .filter(needs::amount_open.gt(0))
        .order(needs::id)
        .select((
            needs::id,
            needs::shelter_id,
            needs::category,
            needs::currency,
        ))
        .load(conn)
}

/// Stock movements that name any of these expenses (receipts of what they bought), in
/// recording order.
pub fn movements_of_expenses(
    conn: &mut DbConnection,
    expense_ids: &[String],
) -> QueryResult<Vec<MovementRow>> {
    if expense_ids.is_empty() {
        return Ok(Vec::new());
    }
    stock_movements::table
        .filter(stock_movements::expense_id.eq_any(expense_ids))
        .order((stock_movements::recorded_at, stock_movements::id))
        .select(MovementRow::as_select())
        .load(conn)
}

/// Stock movements that name this donation (receipts of goods given in kind), in recording
/// order.
pub fn movements_of_donation(
    conn: &mut DbConnection,
    donation_id: &str,
) -> QueryResult<Vec<MovementRow>> {
    stock_movements::table
        .filter(stock_movements::donation_id.eq(donation_id))
        .order((stock_movements::recorded_at, stock_movements::id))
        .select(MovementRow::as_select())
        .load(conn)
}
