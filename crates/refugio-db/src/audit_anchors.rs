//! The daily anchors: which UTC days' chain heads were emailed to the auditors, and the heads.
//!
//! A day is claimed by a conditional insert (`ON CONFLICT DO NOTHING` on PostgreSQL, `INSERT OR
//! IGNORE` on SQLite) of its row: of several servers claiming the same day, exactly one inserts
//! it; on PostgreSQL the others wait for its transaction and then insert nothing.

use crate::schema::{audit_anchor_heads, audit_anchors, audit_heads};
use crate::DbConnection;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use refugio_core::audit_export::Checkpoint;

/// Claims `day`'s anchor: true for exactly one caller per day, whichever server it runs in.
pub fn claim(
    conn: &mut DbConnection,
    day: NaiveDate,
    sent_at: NaiveDateTime,
    recipients: i64,
) -> QueryResult<bool> {
    let row = (
        audit_anchors::day.eq(day),
        audit_anchors::sent_at.eq(sent_at),
        audit_anchors::recipients.eq(recipients),
    );
    let inserted = match conn {
        DbConnection::Pg(pg) => diesel::insert_into(audit_anchors::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(pg)?,
        DbConnection::Sqlite(sqlite) => diesel::insert_or_ignore_into(audit_anchors::table)
            .values(row)
            .execute(sqlite)?,
    };
    Ok(inserted == 1)
}

/// Whether `day` was anchored already (a cheap look before trying to claim it).
pub fn exists(conn: &mut DbConnection, day: NaiveDate) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(audit_anchors::table.find(day))).get_result(conn)
}

/// Every chain's head that has events, platform first then shelters by id.
pub fn current_heads(conn: &mut DbConnection) -> QueryResult<Vec<Checkpoint>> {
    let rows: Vec<(String, i64, String)> = audit_heads::table
        .filter(audit_heads::seq.gt(0))
        .select((audit_heads::chain, audit_heads::seq, audit_heads::hash))
        .load(conn)?;
    Ok(in_chain_order(rows))
}

/// (chain, seq, hash) rows as checkpoints, platform first then shelters by id.
fn in_chain_order(rows: Vec<(String, i64, String)>) -> Vec<Checkpoint> {
    let mut heads: Vec<Checkpoint> = rows
        .into_iter()
        .map(|(chain, seq, hash)| Checkpoint { chain, seq, hash })
        .collect();
    heads.sort_by(|a, b| {
        refugio_core::audit_export::chain_order(&a.chain)
            .cmp(&refugio_core::audit_export::chain_order(&b.chain))
    });
    heads
}

/// Records the heads sent with `day`'s anchor.
pub fn record_heads(
    conn: &mut DbConnection,
    day: NaiveDate,
    heads: &[Checkpoint],
) -> QueryResult<()> {
    let rows: Vec<_> = heads
        .iter()
        .map(|h| {
            (
                audit_anchor_heads::day.eq(day),
                audit_anchor_heads::chain.eq(&h.chain),
                audit_anchor_heads::seq.eq(h.seq),
                audit_anchor_heads::hash.eq(&h.hash),
            )
        })
        .collect();
    match conn {
        DbConnection::Pg(pg) => {
            // PostgreSQL takes at most 65535 parameters a statement; 4 per row.
            for chunk in rows.chunks(10_000) {
                diesel::insert_into(audit_anchor_heads::table)
                    .values(chunk)
                    .execute(pg)?;
            }
        }
        DbConnection::Sqlite(sqlite) => {
            for row in rows {
                diesel::insert_into(audit_anchor_heads::table)
                    .values(row)
                    .execute(sqlite)?;
            }
        }
    }
    Ok(())
}

/// One day's anchor as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorRecord {
    pub day: NaiveDate,
    pub sent_at: NaiveDateTime,
    pub recipients: i64,
    pub heads: Vec<Checkpoint>,
}

/// `day`'s anchor, if it was claimed.
pub fn find(conn: &mut DbConnection, day: NaiveDate) -> QueryResult<Option<AnchorRecord>> {
    let Some((sent_at, recipients)) = audit_anchors::table
        .find(day)
        .select((audit_anchors::sent_at, audit_anchors::recipients))
        .first::<(NaiveDateTime, i64)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let rows: Vec<(String, i64, String)> = audit_anchor_heads::table
        .filter(audit_anchor_heads::day.eq(day))
        .select((
            audit_anchor_heads::chain,
            audit_anchor_heads::seq,
            audit_anchor_heads::hash,
        ))
        .load(conn)?;
    Ok(Some(AnchorRecord {
        day,
        sent_at,
        recipients,
        heads: in_chain_order(rows),
    }))
}
