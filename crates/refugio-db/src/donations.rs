//! Donations (money and in kind) and the allocations of received money to needs.
//! State changes are guarded updates (`WHERE status = 'pledged'`), so of two concurrent
//! receipts of one donation exactly one changes a row.

use crate::schema::{allocations, donations};
use crate::DbConnection;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = donations)]
pub struct DonationRow {
    pub id: String,
    pub donor_id: String,
    pub kind: String,
    pub status: String,
    pub currency: Option<String>,
    pub amount: Option<i64>,
    pub unallocated: Option<i64>,
    pub restriction_need_id: Option<String>,
    pub restriction_shelter_id: Option<String>,
    pub restriction_category: Option<String>,
    pub shelter_id: Option<String>,
    pub need_id: Option<String>,
    pub item_id: Option<String>,
    pub quantity: Option<i64>,
    pub received_quantity: Option<i64>,
    pub note: Option<String>,
    pub pledged_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub received_on: Option<NaiveDate>,
    pub received_at: Option<NaiveDateTime>,
    pub received_by: Option<String>,
    pub closed_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = allocations)]
pub struct AllocationRow {
    pub id: String,
    pub donation_id: String,
    pub need_id: String,
    pub shelter_id: String,
    pub amount: i64,
    pub currency: String,
    pub amount_local: i64,
    pub local_currency: String,
    pub fx_rate: i64,
    pub released: i64,
    pub spent: i64,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &DonationRow) -> QueryResult<()> {
    diesel::insert_into(donations::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<DonationRow>> {
    donations::table
        .find(id)
        .select(DonationRow::as_select())
        .first(conn)
        .optional()
}

/// Whose donations a page lists.
#[derive(Debug, Clone, Copy)]
pub enum Listing<'a> {
    /// One donor's own.
    Donor(&'a str),
    /// Those for one shelter (in kind, or money restricted to it).
    Shelter(&'a str),
}

/// One page of donations, newest first, strictly before `before` (pledged_at, id); optionally
/// of one kind and some statuses.
pub fn page(
    conn: &mut DbConnection,
    listing: Listing<'_>,
    kind: Option<&str>,
    statuses: Option<&[String]>,
    before: Option<(NaiveDateTime, &str)>,
    limit: i64,
) -> QueryResult<Vec<DonationRow>> {
    let mut q = donations::table
        .order((donations::pledged_at.desc(), donations::id.desc()))
        .select(DonationRow::as_select())
        .into_boxed();
    q = match listing {
        Listing::Donor(id) => q.filter(donations::donor_id.eq(id.to_owned())),
        Listing::Shelter(id) => q.filter(donations::shelter_id.eq(id.to_owned())),
    };
    if let Some(kind) = kind {
        q = q.filter(donations::kind.eq(kind.to_owned()));
    }
    if let Some(statuses) = statuses {
        q = q.filter(donations::status.eq_any(statuses.to_vec()));
    }
    if let Some((at, id)) = before {
        q = q.filter(
            donations::pledged_at.lt(at).or(donations::pledged_at
                .eq(at)
                .and(donations::id.lt(id.to_owned()))),
        );
    }
    q.limit(limit).load(conn)
}

/// Marks money received if it is still pledged; returns whether it changed (false: it was not
/// pledged any more, e.g. a concurrent receipt won).
pub fn receive_money(
    conn: &mut DbConnection,
    id: &str,
    received_on: NaiveDate,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        donations::table
            .find(id)
            .filter(donations::status.eq("pledged")),
    )
    .set((
        donations::status.eq("received"),
        donations::unallocated.eq(donations::amount),
        donations::received_on.eq(received_on),
        donations::received_at.eq(now),
        donations::received_by.eq(by),
        donations::updated_at.eq(now),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Marks goods received (all or part of the pledge) if still pledged; returns whether it changed.
pub fn receive_goods(
    conn: &mut DbConnection,
    id: &str,
    quantity: i64,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        donations::table
            .find(id)
            .filter(donations::status.eq("pledged")),
    )
    .set((
        donations::status.eq("received"),
        donations::received_quantity.eq(quantity),
        donations::received_on.eq(now.date()),
        donations::received_at.eq(now),
        donations::received_by.eq(by),
        donations::closed_at.eq(now),
        donations::updated_at.eq(now),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Ends a pledge (`cancelled` or `expired`) if still pledged; returns whether it changed.
pub fn close_pledge(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        donations::table
            .find(id)
            .filter(donations::status.eq("pledged")),
    )
    .set((
        donations::status.eq(status),
        donations::closed_at.eq(now),
        donations::updated_at.eq(now),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Sets what is unallocated of received money.
pub fn set_unallocated(
    conn: &mut DbConnection,
    id: &str,
    unallocated: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(donations::table.find(id))
        .set((
            donations::unallocated.eq(unallocated),
            donations::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Widens a need restriction to that need's shelter and category (the need ended).
pub fn widen_restriction(
    conn: &mut DbConnection,
    id: &str,
    shelter_id: &str,
    category: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(donations::table.find(id))
        .set((
            donations::restriction_need_id.eq(None::<String>),
            donations::restriction_shelter_id.eq(shelter_id),
            donations::restriction_category.eq(category),
            donations::shelter_id.eq(shelter_id),
            donations::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Money donations (pledged or received) restricted to this need.
pub fn restricted_to_need(conn: &mut DbConnection, need_id: &str) -> QueryResult<Vec<DonationRow>> {
    donations::table
        .filter(donations::restriction_need_id.eq(need_id))
        .filter(donations::status.eq_any(["pledged", "received"]))
        .select(DonationRow::as_select())
        .load(conn)
}

/// Received money with something still unallocated, in no particular order.
pub fn waiting(conn: &mut DbConnection) -> QueryResult<Vec<DonationRow>> {
    donations::table
        .filter(donations::unallocated.gt(0))
        .filter(donations::status.eq("received"))
        .select(DonationRow::as_select())
        .load(conn)
}

/// In-kind quantity pledged for an item and not yet received, cancelled or expired (`K`).
pub fn pledged_for_item(conn: &mut DbConnection, item_id: &str) -> QueryResult<i64> {
    let open: Vec<Option<i64>> = donations::table
        .filter(donations::item_id.eq(item_id))
        .filter(donations::status.eq("pledged"))
        .select(donations::quantity)
        .load(conn)?;
    Ok(open.into_iter().flatten().sum())
}

/// In-kind pledges past their expiry that are still pledged.
pub fn expired_pledges(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<DonationRow>> {
    donations::table
        .filter(donations::status.eq("pledged"))
        .filter(donations::kind.eq("in_kind"))
        .filter(donations::expires_at.lt(now))
        .select(DonationRow::as_select())
        .limit(limit)
        .load(conn)
}

pub fn insert_allocation(conn: &mut DbConnection, row: &AllocationRow) -> QueryResult<()> {
    diesel::insert_into(allocations::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// A donation's allocations, oldest first.
pub fn allocations_of_donation(
    conn: &mut DbConnection,
    donation_id: &str,
) -> QueryResult<Vec<AllocationRow>> {
    allocations::table
        .filter(allocations::donation_id.eq(donation_id))
        .order((allocations::created_at, allocations::id))
        .select(AllocationRow::as_select())
        .load(conn)
}

/// A need's allocations that still hold money, oldest first.
pub fn allocations_of_need(
    conn: &mut DbConnection,
    need_id: &str,
) -> QueryResult<Vec<AllocationRow>> {
    allocations::table
        .filter(allocations::need_id.eq(need_id))
        .filter(allocations::amount_local.gt(0))
        .order((allocations::created_at, allocations::id))
        .select(AllocationRow::as_select())
        .load(conn)
}

/// Money allocated and not yet spent (`A`) of each of these needs, in their currencies; needs
/// without any are absent. Summed in the database: a need can hold hundreds of small slices.
pub fn unspent_by_need(
    conn: &mut DbConnection,
    need_ids: &[String],
) -> QueryResult<std::collections::HashMap<String, i64>> {
    // PostgreSQL sums BIGINT as NUMERIC; the cast keeps one integer type on both backends.
    let unspent = diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "CAST(SUM(allocations.amount_local - allocations.spent) AS BIGINT)",
    );
    let rows: Vec<(String, i64)> = allocations::table
        .filter(allocations::need_id.eq_any(need_ids))
        .filter(allocations::amount_local.gt(0))
        .group_by(allocations::need_id)
        .select((allocations::need_id, unspent))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Sets an allocation's amounts after a release.
pub fn set_allocation_amounts(
    conn: &mut DbConnection,
    id: &str,
    amount: i64,
    amount_local: i64,
    released: i64,
) -> QueryResult<()> {
    diesel::update(allocations::table.find(id))
        .set((
            allocations::amount.eq(amount),
            allocations::amount_local.eq(amount_local),
            allocations::released.eq(released),
        ))
        .execute(conn)
        .map(drop)
}

/// Records `amount` (shelter currency) of an allocation as spent.
pub fn add_spent(conn: &mut DbConnection, id: &str, amount: i64) -> QueryResult<()> {
    diesel::update(allocations::table.find(id))
        .set(allocations::spent.eq(allocations::spent + amount))
        .execute(conn)
        .map(drop)
}

/// All of a need's allocations, released ones included, oldest first.
pub fn allocations_of_need_all(
    conn: &mut DbConnection,
    need_id: &str,
) -> QueryResult<Vec<AllocationRow>> {
    allocations::table
        .filter(allocations::need_id.eq(need_id))
        .order((allocations::created_at, allocations::id))
        .select(AllocationRow::as_select())
        .load(conn)
}

/// Key of the PostgreSQL advisory lock that serializes allocator runs.
const ALLOCATOR_LOCK: i64 = 0x5265_6675_6769_6f01;

/// Takes the allocator's transaction-scoped lock on PostgreSQL, waiting when `wait`, else only
/// if free; returns whether it is held. SQLite serializes write transactions: always true.
pub fn lock_allocator(conn: &mut DbConnection, wait: bool) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    if !matches!(conn, DbConnection::Pg(_)) {
        return Ok(true);
    }
    let sql = if wait {
        "SELECT TRUE AS locked FROM (SELECT pg_advisory_xact_lock($1)) AS l"
    } else {
        "SELECT pg_try_advisory_xact_lock($1) AS locked"
    };
    let row: Locked = diesel::sql_query(sql)
        .bind::<diesel::sql_types::BigInt, _>(ALLOCATOR_LOCK)
        .get_result(conn)?;
    Ok(row.locked)
}

/// Inserts several allocations: one statement on PostgreSQL (a round trip each would add up
/// when money is spread over many shelters); in-process SQLite takes them one by one.
pub fn insert_allocations(conn: &mut DbConnection, rows: &[AllocationRow]) -> QueryResult<()> {
    match conn {
        DbConnection::Pg(pg) if !rows.is_empty() => diesel::insert_into(allocations::table)
            .values(rows)
            .execute(pg)
            .map(drop),
        _ => rows.iter().try_for_each(|row| insert_allocation(conn, row)),
    }
}
