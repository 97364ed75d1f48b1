//! Needs as stored: the engine's latest figures for each, and the board's queries.

use crate::schema::{bills, items, needs, shelters};
use crate::DbConnection;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// The statuses of needs that are not final.
pub const LIVE: [&str; 3] = ["open", "partially_funded", "funded"];

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = needs)]
pub struct NeedRow {
    pub id: String,
    pub shelter_id: String,
    pub kind: String,
    pub item_id: Option<String>,
    pub bill_id: Option<String>,
    pub category: String,
    pub title: String,
    pub unit: Option<String>,
    pub criticality: String,
    pub currency: String,
    pub quantity: Option<i64>,
    pub amount_needed: Option<i64>,
    pub amount_covered: Option<i64>,
    pub amount_open: Option<i64>,
    pub status: String,
    pub score: i64,
    pub band: String,
    pub band_rank: i64,
    pub days_left: Option<i64>,
    pub drivers: String,
    pub manual_amount: Option<i64>,
    pub spent: i64,
    pub needed_by: Option<NaiveDate>,
    pub alerted: bool,
    pub created_by: Option<String>,
    pub opened_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub computed_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
}

/// The figures the engine recomputes.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = needs, treat_none_as_null = true)]
pub struct NeedFigures {
    pub title: String,
    pub unit: Option<String>,
    pub category: String,
    pub criticality: String,
    pub quantity: Option<i64>,
    pub amount_needed: Option<i64>,
    pub amount_covered: Option<i64>,
    pub amount_open: Option<i64>,
    pub status: String,
    pub score: i64,
    pub band: String,
    pub band_rank: i64,
    pub days_left: Option<i64>,
    pub drivers: String,
    pub alerted: bool,
    pub updated_at: NaiveDateTime,
    pub computed_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, row: &NeedRow) -> QueryResult<()> {
    diesel::insert_into(needs::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn update_figures(
    conn: &mut DbConnection,
    id: &str,
    figures: &NeedFigures,
) -> QueryResult<usize> {
    diesel::update(needs::table.find(id))
        .set(figures)
        .execute(conn)
}

/// Stores new figures for many needs at once: on PostgreSQL one upsert statement (the rows
/// exist, so it only updates them), elsewhere one update each. `rows` carry the figures.
pub fn update_figures_many(conn: &mut DbConnection, rows: &[NeedRow]) -> QueryResult<()> {
    use diesel::upsert::excluded;
    match conn {
        DbConnection::Pg(pg) if !rows.is_empty() => diesel::insert_into(needs::table)
            .values(rows)
            .on_conflict(needs::id)
            .do_update()
            .set((
                needs::title.eq(excluded(needs::title)),
                needs::unit.eq(excluded(needs::unit)),
                needs::category.eq(excluded(needs::category)),
                needs::criticality.eq(excluded(needs::criticality)),
                needs::quantity.eq(excluded(needs::quantity)),
                needs::amount_needed.eq(excluded(needs::amount_needed)),
                needs::amount_covered.eq(excluded(needs::amount_covered)),
                needs::amount_open.eq(excluded(needs::amount_open)),
                needs::status.eq(excluded(needs::status)),
                needs::score.eq(excluded(needs::score)),
                needs::band.eq(excluded(needs::band)),
                needs::band_rank.eq(excluded(needs::band_rank)),
                needs::days_left.eq(excluded(needs::days_left)),
                needs::drivers.eq(excluded(needs::drivers)),
                needs::alerted.eq(excluded(needs::alerted)),
                (
                    needs::updated_at.eq(excluded(needs::updated_at)),
                    needs::computed_at.eq(excluded(needs::computed_at)),
                    needs::closed_at.eq(excluded(needs::closed_at)),
                ),
            ))
            .execute(pg)
            .map(drop),
        _ => rows
            .iter()
            .try_for_each(|row| update_figures(conn, &row.id, &NeedFigures::of(row)).map(drop)),
    }
}

impl NeedFigures {
    /// The recomputed figures a row carries.
    pub fn of(row: &NeedRow) -> NeedFigures {
        NeedFigures {
            title: row.title.clone(),
            unit: row.unit.clone(),
            category: row.category.clone(),
            criticality: row.criticality.clone(),
            quantity: row.quantity,
            amount_needed: row.amount_needed,
            amount_covered: row.amount_covered,
            amount_open: row.amount_open,
            status: row.status.clone(),
            score: row.score,
            band: row.band.clone(),
            band_rank: row.band_rank,
            days_left: row.days_left,
            drivers: row.drivers.clone(),
            alerted: row.alerted,
            updated_at: row.updated_at,
            computed_at: row.computed_at,
            closed_at: row.closed_at,
        }
    }

    /// The row with these figures in place of its own.
    pub fn apply(self, row: &NeedRow) -> NeedRow {
        NeedRow {
            title: self.title,
            unit: self.unit,
            category: self.category,
            criticality: self.criticality,
            quantity: self.quantity,
            amount_needed: self.amount_needed,
            amount_covered: self.amount_covered,
            amount_open: self.amount_open,
            status: self.status,
            score: self.score,
            band: self.band,
            band_rank: self.band_rank,
            days_left: self.days_left,
            drivers: self.drivers,
            alerted: self.alerted,
            updated_at: self.updated_at,
            computed_at: self.computed_at,
            closed_at: self.closed_at,
            ..row.clone()
        }
    }
}

/// A need of this shelter.
pub fn find(conn: &mut DbConnection, shelter_id: &str, id: &str) -> QueryResult<Option<NeedRow>> {
    needs::table
        .filter(needs::shelter_id.eq(shelter_id))
        .filter(needs::id.eq(id))
        .select(NeedRow::as_select())
        .first(conn)
        .optional()
}

/// The item's need that is not final, if any.
pub fn live_for_item(conn: &mut DbConnection, item_id: &str) -> QueryResult<Option<NeedRow>> {
    needs::table
        .filter(needs::item_id.eq(item_id))
        .filter(needs::status.eq_any(LIVE))
        .select(NeedRow::as_select())
        .first(conn)
        .optional()
}

/// The bill's need (one per bill, whatever its status).
pub fn for_bill(conn: &mut DbConnection, bill_id: &str) -> QueryResult<Option<NeedRow>> {
    needs::table
        .filter(needs::bill_id.eq(bill_id))
        .select(NeedRow::as_select())
        .first(conn)
        .optional()
}

/// A shelter's needs that are not final.
pub fn live_in_shelter(conn: &mut DbConnection, shelter_id: &str) -> QueryResult<Vec<NeedRow>> {
    needs::table
        .filter(needs::shelter_id.eq(shelter_id))
        .filter(needs::status.eq_any(LIVE))
        .select(NeedRow::as_select())
        .load(conn)
}

/// How many needs of a shelter still lack money or goods (`open` or `partially_funded`).
pub fn open_count(conn: &mut DbConnection, shelter_id: &str) -> QueryResult<i64> {
    needs::table
        .filter(needs::shelter_id.eq(shelter_id))
        .filter(needs::status.eq_any(["open", "partially_funded"]))
        .count()
        .get_result(conn)
}

/// Where the board resumes: strictly after this need in board order.
#[derive(Debug, Clone)]
pub struct BoardCursor {
    pub band_rank: i64,
    pub score: i64,
    pub opened_at: NaiveDateTime,
    pub id: String,
}

/// Board filters; empty lists mean "any".
#[derive(Debug, Clone, Default)]
pub struct BoardFilter {
    pub shelter_id: Option<String>,
    pub categories: Vec<String>,
    pub statuses: Vec<String>,
    pub bands: Vec<String>,
    pub after: Option<BoardCursor>,
}

/// A need on the board with its shelter's name and, for bill needs, the bill's category.
pub type BoardRow = (NeedRow, String, Option<String>);

/// One page of needs in board order: band, score descending, opened first, id.
pub fn board(conn: &mut DbConnection, f: &BoardFilter, limit: i64) -> QueryResult<Vec<BoardRow>> {
    let mut q = needs::table
        .inner_join(shelters::table)
        .left_join(bills::table)
        .select((
            NeedRow::as_select(),
            shelters::name,
            bills::category.nullable(),
        ))
        .order((
            needs::band_rank,
            needs::score.desc(),
            needs::opened_at,
            needs::id,
        ))
        .into_boxed();
    if let Some(s) = &f.shelter_id {
        q = q.filter(needs::shelter_id.eq(s.clone()));
    }
    if !f.categories.is_empty() {
        q = q.filter(needs::category.eq_any(f.categories.clone()));
    }
    if !f.statuses.is_empty() {
        q = q.filter(needs::status.eq_any(f.statuses.clone()));
    }
    if !f.bands.is_empty() {
        q = q.filter(needs::band.eq_any(f.bands.clone()));
    }
    if let Some(c) = &f.after {
        q = q.filter(
            needs::band_rank
                .gt(c.band_rank)
                .or(needs::band_rank.eq(c.band_rank).and(
                    needs::score.lt(c.score).or(needs::score.eq(c.score).and(
                        needs::opened_at.gt(c.opened_at).or(needs::opened_at
                            .eq(c.opened_at)
                            .and(needs::id.gt(c.id.clone()))),
                    )),
                )),
        );
    }
    q.limit(limit).load(conn)
}

/// Whether a cancelled need keeps the item from opening a new one.
pub fn item_suppressed(conn: &mut DbConnection, item_id: &str) -> QueryResult<bool> {
    items::table
        .find(item_id)
        .select(items::needs_suppressed)
        .first(conn)
}

pub fn set_item_suppressed(
    conn: &mut DbConnection,
    item_id: &str,
    suppressed: bool,
) -> QueryResult<usize> {
    diesel::update(items::table.find(item_id))
        .set(items::needs_suppressed.eq(suppressed))
        .execute(conn)
}

/// Claims today's recompute of a shelter: true for exactly one caller per shelter and day,
/// whichever server process it runs in.
pub fn claim_daily_recompute(
    conn: &mut DbConnection,
    shelter_id: &str,
    today: NaiveDate,
) -> QueryResult<bool> {
    let claimed = diesel::update(
        shelters::table.find(shelter_id).filter(
            shelters::needs_computed_on
                .is_null()
                .or(shelters::needs_computed_on.lt(today)),
        ),
    )
    .set(shelters::needs_computed_on.eq(today))
    .execute(conn)?;
    Ok(claimed == 1)
}

/// Every shelter with its time zone and last daily recompute date.
pub fn recompute_schedule(
    conn: &mut DbConnection,
) -> QueryResult<Vec<(String, String, Option<NaiveDate>)>> {
    shelters::table
        .select((
            shelters::id,
            shelters::timezone,
            shelters::needs_computed_on,
        ))
        .load(conn)
}

/// Ends a need with a final status.
pub fn set_status(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(needs::table.find(id))
        .set((
            needs::status.eq(status),
            needs::closed_at.eq(now),
            needs::updated_at.eq(now),
            needs::alerted.eq(false),
        ))
        .execute(conn)
}

/// Records what a manual need asks for.
pub fn set_manual_terms(
    conn: &mut DbConnection,
    id: &str,
    amount: i64,
    needed_by: Option<NaiveDate>,
) -> QueryResult<usize> {
    diesel::update(needs::table.find(id))
        .set((
            needs::manual_amount.eq(amount),
            needs::needed_by.eq(needed_by),
        ))
        .execute(conn)
}

/// Row-locks a need until commit (a no-op update: portable, and a plain write on SQLite, whose
/// write transactions are serialized anyway). Whoever reads a need's allocations to recompute
/// or spend them holds this lock first, so no writer works from a stale `A`.
pub fn lock(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(needs::table.find(id))
        .set(needs::spent.eq(needs::spent))
        .execute(conn)
        .map(drop)
}

/// A need, whichever shelter it belongs to.
pub fn by_id(conn: &mut DbConnection, id: &str) -> QueryResult<Option<NeedRow>> {
    needs::table
        .find(id)
        .select(NeedRow::as_select())
        .first(conn)
        .optional()
}

/// Several needs by id.
pub fn by_ids(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<NeedRow>> {
    needs::table
        .filter(needs::id.eq_any(ids))
        .select(NeedRow::as_select())
        .load(conn)
}

/// A live money need as the allocator sees it, with its shelter's occupied beds.
#[derive(Debug, Clone, Queryable)]
pub struct FundableNeed {
    pub id: String,
    pub shelter_id: String,
    pub category: String,
    pub band: String,
    pub score: i64,
    pub opened_at: NaiveDateTime,
    pub amount_open: Option<i64>,
    pub currency: String,
    pub occupied: i64,
}

/// Which live needs may receive money: the narrowest of a need, a shelter and a category, and
/// only in the given currencies (those the money has a rate to).
#[derive(Debug, Clone, Default)]
pub struct FundableFilter {
    pub need_id: Option<String>,
    pub shelter_id: Option<String>,
    pub category: Option<String>,
    pub currencies: Vec<String>,
    /// Only one band (0 critical … 3 low).
    pub band_rank: Option<i64>,
}

/// Live needs with something open, inside the filter.
pub fn fundable(conn: &mut DbConnection, f: &FundableFilter) -> QueryResult<Vec<FundableNeed>> {
    let mut q = needs::table
        .inner_join(shelters::table)
        .filter(needs::status.eq_any(LIVE))
        .filter(needs::amount_open.gt(0))
        .filter(needs::currency.eq_any(f.currencies.clone()))
        .select((
            needs::id,
            needs::shelter_id,
            needs::category,
            needs::band,
            needs::score,
            needs::opened_at,
            needs::amount_open,
            needs::currency,
            shelters::occupied_beds,
        ))
        .into_boxed();
    if let Some(id) = &f.need_id {
        q = q.filter(needs::id.eq(id.clone()));
    }
    if let Some(shelter) = &f.shelter_id {
        q = q.filter(needs::shelter_id.eq(shelter.clone()));
    }
    if let Some(category) = &f.category {
        q = q.filter(needs::category.eq(category.clone()));
    }
    if let Some(rank) = f.band_rank {
        q = q.filter(needs::band_rank.eq(rank));
    }
    q.load(conn)
}

/// Adds to what was spent on a manual need.
pub fn add_spent(conn: &mut DbConnection, id: &str, amount: i64) -> QueryResult<()> {
    diesel::update(needs::table.find(id))
        .set(needs::spent.eq(needs::spent + amount))
        .execute(conn)
        .map(drop)
}

/// Row-locks several needs until commit, in one statement (see [`lock`]).
pub fn lock_many(conn: &mut DbConnection, ids: &[String]) -> QueryResult<()> {
    diesel::update(needs::table.filter(needs::id.eq_any(ids)))
        .set(needs::spent.eq(needs::spent))
        .execute(conn)
        .map(drop)
}
