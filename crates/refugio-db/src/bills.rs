//! Bills a shelter owes. Every query names the shelter, so another shelter's bill is simply not
//! found. Edits and voids are guarded updates (`WHERE status = 'unpaid' AND paid = 0`), so a
//! payment committed meanwhile makes them change nothing instead of being overwritten.

use crate::schema::bills;
use crate::DbConnection;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// The only status in which a bill may be edited or voided (and only while `paid` is 0).
pub const EDITABLE_STATUS: &str = "unpaid";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bills)]
pub struct BillRow {
    pub id: String,
    pub shelter_id: String,
    pub payee: String,
    pub category: String,
    pub amount: i64,
    pub currency: String,
    pub due_on: NaiveDate,
    pub description: Option<String>,
    pub paid: i64,
    pub status: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The fields an edit may change.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = bills, treat_none_as_null = true)]
pub struct BillEdit {
    pub payee: String,
    pub category: String,
    pub amount: i64,
    pub due_on: NaiveDate,
    pub description: Option<String>,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &BillRow) -> QueryResult<()> {
    diesel::insert_into(bills::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// One bill of one shelter.
pub fn find(conn: &mut DbConnection, shelter_id: &str, id: &str) -> QueryResult<Option<BillRow>> {
    bills::table
        .filter(bills::shelter_id.eq(shelter_id))
        .filter(bills::id.eq(id))
        .select(BillRow::as_select())
        .first(conn)
        .optional()
}

/// One page of a shelter's bills by (due_on, id), strictly after `after` when given; only
/// those whose status is in `statuses` when it is given.
pub fn page(
    conn: &mut DbConnection,
    shelter_id: &str,
    statuses: Option<&[String]>,
    after: Option<(NaiveDate, &str)>,
    limit: i64,
) -> QueryResult<Vec<BillRow>> {
    let mut q = bills::table
        .filter(bills::shelter_id.eq(shelter_id))
        .order((bills::due_on, bills::id))
        .select(BillRow::as_select())
        .into_boxed();
    if let Some(statuses) = statuses {
        q = q.filter(bills::status.eq_any(statuses.to_vec()));
    }
    if let Some((due_on, id)) = after {
        q = q.filter(
            bills::due_on
                .gt(due_on)
                .or(bills::due_on.eq(due_on).and(bills::id.gt(id.to_owned()))),
        );
    }
    q.limit(limit).load(conn)
}

/// Applies an edit if the bill is still unpaid with nothing paid; returns the rows changed
/// (0: no such bill in this shelter, or no longer editable).
pub fn update_unpaid(
    conn: &mut DbConnection,
    shelter_id: &str,
    id: &str,
    edit: &BillEdit,
) -> QueryResult<usize> {
    diesel::update(
        bills::table
            .filter(bills::shelter_id.eq(shelter_id))
            .filter(bills::id.eq(id))
            .filter(bills::status.eq(EDITABLE_STATUS))
            .filter(bills::paid.eq(0)),
    )
    .set(edit)
    .execute(conn)
}

/// Voids the bill if it is still unpaid with nothing paid; returns the rows changed.
pub fn void_unpaid(
    conn: &mut DbConnection,
    shelter_id: &str,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        bills::table
            .filter(bills::shelter_id.eq(shelter_id))
            .filter(bills::id.eq(id))
            .filter(bills::status.eq(EDITABLE_STATUS))
            .filter(bills::paid.eq(0)),
    )
    .set((bills::status.eq("void"), bills::updated_at.eq(now)))
    .execute(conn)
}

/// Pays `amount` of a bill that is not void, unless it would pay more than is owed; sets its
/// status. Returns whether it changed.
pub fn pay(
    conn: &mut DbConnection,
    shelter_id: &str,
    id: &str,
    amount: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = diesel::update(
        bills::table
            .filter(bills::shelter_id.eq(shelter_id))
            .filter(bills::id.eq(id))
            .filter(bills::status.ne("void"))
            .filter((bills::paid + amount).le(bills::amount)),
    )
    .set((
        bills::paid.eq(bills::paid + amount),
        bills::updated_at.eq(now),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Ok(false);
    }
    diesel::update(bills::table.find(id))
        .set(
            bills::status.eq(diesel::dsl::sql::<diesel::sql_types::Text>(
                "CASE WHEN paid >= amount THEN 'paid' ELSE 'partially_paid' END",
            )),
        )
        .execute(conn)?;
    Ok(true)
}
