//! The transactional email outbox: rows written with the change, claimed and sent by workers.
//!
//! A claim is a conditional update (`WHERE status = 'pending'`), so of two workers racing for
//! one message exactly one sees `1 row updated`; on PostgreSQL the loser waits on the row lock
//! and then finds the condition false. The same code serves both backends.

use crate::schema::outbox;
use crate::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub to_email: String,
    pub template: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<NaiveDateTime>,
    pub sent_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Queues a rendered message; call inside the transaction of the change that caused it.
pub fn enqueue(
    conn: &mut DbConnection,
    to: &str,
    template: &str,
    subject: &str,
    body: &str,
) -> QueryResult<String> {
    let now = crate::now();
    let id = refugio_core::new_id();
    let row = OutboxRow {
        id: id.clone(),
        to_email: to.to_owned(),
        template: template.to_owned(),
        subject: subject.to_owned(),
        body: body.to_owned(),
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: now,
        claimed_by: None,
        claimed_until: None,
        sent_at: None,
        last_error: None,
        created_at: now,
    };
    diesel::insert_into(outbox::table)
        .values(&row)
        .execute(conn)?;
    Ok(id)
}

/// Claims up to `limit` due messages for `worker` until `lease_until`.
pub fn claim_due(
    conn: &mut DbConnection,
    worker: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    let candidates: Vec<String> = outbox::table
        .filter(outbox::status.eq("pending"))
        .filter(outbox::next_attempt_at.le(now))
        .order((outbox::next_attempt_at, outbox::id))
        .limit(limit)
        .select(outbox::id)
        .load(conn)?;
    let mut claimed = Vec::new();
    for id in candidates {
        let won = diesel::update(outbox::table.find(&id).filter(outbox::status.eq("pending")))
            .set((
                outbox::status.eq("sending"),
                outbox::claimed_by.eq(worker),
                outbox::claimed_until.eq(lease_until),
                outbox::attempts.eq(outbox::attempts + 1),
            ))
            .execute(conn)?;
        if won == 1 {
            claimed.push(
                outbox::table
                    .find(&id)
                    .select(OutboxRow::as_select())
                    .first(conn)?,
            );
        }
    }
    Ok(claimed)
}

/// Records a delivery by the worker that holds the claim.
pub fn mark_sent(
    conn: &mut DbConnection,
    id: &str,
    worker: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .find(id)
            .filter(outbox::claimed_by.eq(worker))
            .filter(outbox::status.eq("sending")),
    )
    .set((
        outbox::status.eq("sent"),
        outbox::sent_at.eq(now),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// Gives a failed message back for a retry at `retry_at`, or marks it failed for good.
pub fn mark_failed(
    conn: &mut DbConnection,
    id: &str,
    worker: &str,
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    let target = outbox::table
        .find(id)
        .filter(outbox::claimed_by.eq(worker))
        .filter(outbox::status.eq("sending"));
    let status = if retry_at.is_some() {
        "pending"
    } else {
        "failed"
    };
    diesel::update(target)
        .set((
            outbox::status.eq(status),
            outbox::last_error.eq(error),
            outbox::next_attempt_at.eq(retry_at.unwrap_or_else(crate::now)),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
}

/// Hands back a claimed message its worker did not try to send (shutting down, or too little
/// lease left): pending again at once, without counting the claim as an attempt.
pub fn release(conn: &mut DbConnection, id: &str, worker: &str) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .find(id)
            .filter(outbox::claimed_by.eq(worker))
            .filter(outbox::status.eq("sending")),
    )
    .set((
        outbox::status.eq("pending"),
        outbox::attempts.eq(outbox::attempts - 1),
        outbox::claimed_by.eq(None::<String>),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// Returns to the queue messages whose worker died mid-claim (lease expired, never marked).
pub fn reclaim_expired(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .filter(outbox::status.eq("sending"))
            .filter(outbox::claimed_until.lt(now)),
    )
    .set((
        outbox::status.eq("pending"),
        outbox::claimed_by.eq(None::<String>),
    ))
    .execute(conn)
}

/// Every message, oldest first (operations and tests).
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .order((outbox::created_at, outbox::id))
        .select(OutboxRow::as_select())
        .load(conn)
}
