//! Appending to and reading the audit chains.
//!
//! `append` must run inside the transaction of the change it records. It first bumps the chain's
//! head row (`seq = seq + 1`), which on PostgreSQL row-locks that one chain until commit and on
//! SQLite happens under the write lock: either way seqs stay gap-free and ordered, and writers to
//! different shelters never wait on each other's chain.

use crate::schema::{audit_events, audit_heads};
use crate::DbConnection;
use diesel::prelude::*;
use refugio_core::audit::{event_hash, AuditEvent, GENESIS_HASH};
use refugio_core::canonical_json;
use serde_json::Value;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
struct EventRow {
    chain: String,
    seq: i64,
    at: String,
    actor_id: Option<String>,
    shelter_id: Option<String>,
    action: String,
    entity: String,
    entity_id: String,
    data: String,
    prev_hash: String,
    hash: String,
}

impl EventRow {
    fn into_event(self) -> AuditEvent {
        // A row whose data is not JSON was edited behind our back: keep the text so the hash
        // check fails on it rather than hiding the row.
        let data = serde_json::from_str(&self.data).unwrap_or(Value::String(self.data));
        AuditEvent {
            seq: self.seq,
            at: self.at,
            actor_id: self.actor_id,
            shelter_id: self.shelter_id,
            action: self.action,
            entity: self.entity,
            entity_id: self.entity_id,
            data,
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}

/// What happened, by whom, to what; `shelter_id` picks the chain.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub actor_id: Option<&'a str>,
    pub shelter_id: Option<&'a str>,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub data: Value,
}

/// Starts a shelter's chain (in the transaction that creates the shelter).
pub fn create_chain(conn: &mut DbConnection, shelter_id: &str) -> QueryResult<()> {
    diesel::insert_into(audit_heads::table)
        .values((
            audit_heads::chain.eq(shelter_id),
            audit_heads::seq.eq(0),
            audit_heads::hash.eq(GENESIS_HASH),
        ))
        .execute(conn)
        .map(drop)
}

/// Appends one event to its chain and returns it as stored.
pub fn append(conn: &mut DbConnection, event: NewEvent<'_>) -> QueryResult<AuditEvent> {
    let chain = event
        .shelter_id
        .unwrap_or(refugio_core::audit::PLATFORM_CHAIN);
    let bumped = diesel::update(audit_heads::table.find(chain))
        .set(audit_heads::seq.eq(audit_heads::seq + 1))
        .execute(conn)?;
    if bumped != 1 {
        return Err(diesel::result::Error::NotFound);
    }
    let (seq, prev_hash): (i64, String) = audit_heads::table
        .find(chain)
        .select((audit_heads::seq, audit_heads::hash))
        .first(conn)?;
    let at = crate::now()
        .and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let hash = event_hash(
        seq,
        &at,
        event.actor_id,
        event.shelter_id,
        event.action,
        event.entity,
        event.entity_id,
        &event.data,
        &prev_hash,
    );
    let row = EventRow {
        chain: chain.to_owned(),
        seq,
        at,
        actor_id: event.actor_id.map(str::to_owned),
        shelter_id: event.shelter_id.map(str::to_owned),
        action: event.action.to_owned(),
        entity: event.entity.to_owned(),
        entity_id: event.entity_id.to_owned(),
        data: canonical_json::to_string(&event.data),
        prev_hash,
        hash: hash.clone(),
    };
    diesel::insert_into(audit_events::table)
        .values(&row)
        .execute(conn)?;
    diesel::update(audit_heads::table.find(chain))
        .set(audit_heads::hash.eq(&hash))
        .execute(conn)?;
    Ok(row.into_event())
}

/// Appends several events in order, as [`append`] would one by one, in a few statements: the
/// heads of the chains involved are locked and read together, every event is hashed in memory,
/// the events are inserted (in one statement on PostgreSQL) and each head is moved once.
/// For an allocation run that writes one event to each of many shelters' chains.
pub fn append_many(conn: &mut DbConnection, events: &[NewEvent<'_>]) -> QueryResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let chain_of = |e: &NewEvent<'_>| {
        e.shelter_id
            .unwrap_or(refugio_core::audit::PLATFORM_CHAIN)
            .to_owned()
    };
    let mut chains: Vec<String> = events.iter().map(chain_of).collect();
    chains.sort();
    chains.dedup();
    diesel::update(audit_heads::table.filter(audit_heads::chain.eq_any(&chains)))
        .set(audit_heads::seq.eq(audit_heads::seq))
        .execute(conn)?;
    let heads: Vec<(String, i64, String)> = audit_heads::table
        .filter(audit_heads::chain.eq_any(&chains))
        .select((audit_heads::chain, audit_heads::seq, audit_heads::hash))
        .load(conn)?;
    if heads.len() != chains.len() {
        return Err(diesel::result::Error::NotFound);
    }
    let mut state: std::collections::HashMap<String, (i64, String)> = heads
        .into_iter()
        .map(|(chain, seq, hash)| (chain, (seq, hash)))
        .collect();
    let at = crate::now()
        .and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        let chain = chain_of(event);
        let (seq, prev_hash) = state
            .get(&chain)
            .cloned()
            .ok_or(diesel::result::Error::NotFound)?;
        let seq = seq + 1;
        let hash = event_hash(
            seq,
            &at,
            event.actor_id,
            event.shelter_id,
            event.action,
            event.entity,
            event.entity_id,
            &event.data,
            &prev_hash,
        );
        state.insert(chain.clone(), (seq, hash.clone()));
        rows.push(EventRow {
            chain,
            seq,
            at: at.clone(),
            actor_id: event.actor_id.map(str::to_owned),
            shelter_id: event.shelter_id.map(str::to_owned),
            action: event.action.to_owned(),
            entity: event.entity.to_owned(),
            entity_id: event.entity_id.to_owned(),
            data: canonical_json::to_string(&event.data),
            prev_hash,
            hash,
        });
    }
    match conn {
        DbConnection::Pg(pg) => diesel::insert_into(audit_events::table)
            .values(&rows)
            .execute(pg)
            .map(drop)?,
        _ => {
            for row in &rows {
                diesel::insert_into(audit_events::table)
                    .values(row)
                    .execute(conn)?;
            }
        }
    }
    move_heads(conn, state)
}

/// Moves chain heads (already locked) to their new `(seq, hash)`: one upsert on PostgreSQL.
fn move_heads(
    conn: &mut DbConnection,
    heads: std::collections::HashMap<String, (i64, String)>,
) -> QueryResult<()> {
    match conn {
        DbConnection::Pg(pg) => {
            use diesel::upsert::excluded;
            let rows: Vec<_> = heads
                .into_iter()
                .map(|(chain, (seq, hash))| {
                    (
                        audit_heads::chain.eq(chain),
                        audit_heads::seq.eq(seq),
                        audit_heads::hash.eq(hash),
                    )
                })
                .collect();
            diesel::insert_into(audit_heads::table)
                .values(rows)
                .on_conflict(audit_heads::chain)
                .do_update()
                .set((
                    audit_heads::seq.eq(excluded(audit_heads::seq)),
                    audit_heads::hash.eq(excluded(audit_heads::hash)),
                ))
                .execute(pg)
                .map(drop)
        }
        _ => {
            for (chain, (seq, hash)) in heads {
                diesel::update(audit_heads::table.find(&chain))
                    .set((audit_heads::seq.eq(seq), audit_heads::hash.eq(&hash)))
                    .execute(conn)?;
            }
            Ok(())
        }
    }
}

/// Every chain name, platform first then shelters by id.
pub fn chains(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    let mut names: Vec<String> = audit_heads::table
        .select(audit_heads::chain)
        .order(audit_heads::chain)
        .load(conn)?;
    names.sort_by_key(|c| (c != refugio_core::audit::PLATFORM_CHAIN, c.clone()));
    Ok(names)
}

/// A chain's events with `seq` > `after_seq`, in seq order, at most `limit`.
pub fn chain_page(
    conn: &mut DbConnection,
    chain: &str,
    after_seq: i64,
    limit: i64,
) -> QueryResult<Vec<AuditEvent>> {
    let rows: Vec<EventRow> = audit_events::table
        .filter(audit_events::chain.eq(chain))
        .filter(audit_events::seq.gt(after_seq))
        .order(audit_events::seq)
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(EventRow::into_event).collect())
}

/// Filters of the audit log listing.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub chain: Option<String>,
    pub actor_id: Option<String>,
    pub entity: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Resume strictly after this (chain, seq).
    pub after: Option<(String, i64)>,
}

/// One page of events, by chain then seq.
pub fn list(
    conn: &mut DbConnection,
    filter: &EventFilter,
    limit: i64,
) -> QueryResult<Vec<AuditEvent>> {
    let mut q = audit_events::table
        .select(EventRow::as_select())
        .order((audit_events::chain, audit_events::seq))
        .into_boxed();
    if let Some(chain) = &filter.chain {
        q = q.filter(audit_events::chain.eq(chain.clone()));
    }
    if let Some(actor) = &filter.actor_id {
        q = q.filter(audit_events::actor_id.eq(actor.clone()));
    }
    if let Some(entity) = &filter.entity {
        q = q.filter(audit_events::entity.eq(entity.clone()));
    }
    // `at` is fixed-width RFC 3339 UTC text, so text order is time order.
    if let Some(from) = &filter.from {
        q = q.filter(audit_events::at.ge(from.clone()));
    }
    if let Some(to) = &filter.to {
        q = q.filter(audit_events::at.lt(to.clone()));
    }
    if let Some((chain, seq)) = &filter.after {
        q = q.filter(
            audit_events::chain.gt(chain.clone()).or(audit_events::chain
                .eq(chain.clone())
                .and(audit_events::seq.gt(*seq))),
        );
    }
    let rows: Vec<EventRow> = q.limit(limit).load(conn)?;
    Ok(rows.into_iter().map(EventRow::into_event).collect())
}

/// A chain's head: the last seq and hash written, or `None` for an unknown chain.
pub fn head(conn: &mut DbConnection, chain: &str) -> QueryResult<Option<(i64, String)>> {
    audit_heads::table
        .find(chain)
        .select((audit_heads::seq, audit_heads::hash))
        .first(conn)
        .optional()
}
