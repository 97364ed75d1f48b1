//! FX rates as admins set them: directional, one per (base, quote, as_of), never inverted here.

use crate::schema::fx_rates;
use crate::DbConnection;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = fx_rates)]
pub struct FxRateRow {
    pub base: String,
    pub quote: String,
    pub as_of: NaiveDate,
    /// Millionths.
    pub rate: i64,
    pub set_by: String,
    pub set_at: NaiveDateTime,
}

/// Inserts the rate, or replaces the one with the same (base, quote, as_of). Portable (no
/// `ON CONFLICT` through the multi-backend connection): update, else insert; an insert that
/// loses a race to a concurrent one reports a unique violation, which the caller retries.
pub fn upsert(conn: &mut DbConnection, row: &FxRateRow) -> QueryResult<()> {
    let changed = diesel::update(fx_rates::table.find((&row.base, &row.quote, row.as_of)))
        .set((
            fx_rates::rate.eq(row.rate),
            fx_rates::set_by.eq(&row.set_by),
            fx_rates::set_at.eq(row.set_at),
        ))
        .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(fx_rates::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// The rate in millionths from `base` to `quote` in force on `on`: the latest with `as_of ≤ on`.
pub fn in_force(
    conn: &mut DbConnection,
    base: &str,
    quote: &str,
    on: NaiveDate,
) -> QueryResult<Option<i64>> {
    fx_rates::table
        .filter(fx_rates::base.eq(base))
        .filter(fx_rates::quote.eq(quote))
        .filter(fx_rates::as_of.le(on))
        .order(fx_rates::as_of.desc())
        .select(fx_rates::rate)
        .first(conn)
        .optional()
}

/// One page of rates by (base, quote, as_of descending), after the given key.
pub fn page(
    conn: &mut DbConnection,
    pair: Option<(&str, &str)>,
    after: Option<(&str, &str, NaiveDate)>,
    limit: i64,
) -> QueryResult<Vec<FxRateRow>> {
    let mut q = fx_rates::table
        .order((fx_rates::base, fx_rates::quote, fx_rates::as_of.desc()))
        .select(FxRateRow::as_select())
        .into_boxed();
    if let Some((base, quote)) = pair {
        q = q
            .filter(fx_rates::base.eq(base.to_owned()))
            .filter(fx_rates::quote.eq(quote.to_owned()));
    }
    if let Some((base, quote, as_of)) = after {
        let (base, quote) = (base.to_owned(), quote.to_owned());
        q = q.filter(
            fx_rates::base
                .gt(base.clone())
                .or(fx_rates::base.eq(base.clone()).and(
                    fx_rates::quote
                        .gt(quote.clone())
                        .or(fx_rates::quote.eq(quote).and(fx_rates::as_of.lt(as_of))),
                )),
        );
    }
    q.limit(limit).load(conn)
}
