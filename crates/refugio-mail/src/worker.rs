//! The delivery loop: claim due outbox rows, send each, record the outcome.
//!
//! A claim is a lease. Before each send the worker checks that the lease outlives the longest
//! a delivery may take, and hands the message back untried otherwise, so a message is never
//! sent by one worker while another may have reclaimed it. The only way to send twice is a
//! crash (or a lost database) between the server's acceptance and `mark_sent`; both copies
//! then carry the same `Message-ID`, so readers and operators can tell it is one message.

use crate::retry::RetryPolicy;
use crate::transport::{self, Outlet, Transport, SMTP_TIMEOUT};
use anyhow::Context;
use chrono::{NaiveDateTime, TimeDelta};
use lettre::message::Mailbox;
use refugio_db::outbox::{self, OutboxRow};
use refugio_db::{write_transaction, DbConnection, Pool};
use std::time::Duration;
use tokio::sync::watch;

/// Messages claimed at once.
const BATCH_SIZE: usize = 10;
/// How long a claim lasts before another worker may take the message over.
const LEASE: TimeDelta = TimeDelta::minutes(5);
/// The longest one delivery may take, all SMTP round trips included.
const SEND_DEADLINE: Duration = Duration::from_secs(3 * SMTP_TIMEOUT.as_secs());
/// `SEND_DEADLINE` for date arithmetic.
const SEND_DEADLINE_DELTA: TimeDelta = TimeDelta::seconds(SEND_DEADLINE.as_secs() as i64);
/// The longest backoff accepted, so that retry times stay representable in the database.
const MAX_BACKOFF_LIMIT: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// The longest `last_error` kept.
const MAX_ERROR_CHARS: usize = 1000;

/// How the worker delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// Where messages go.
    pub transport: Transport,
    /// The `From` mailbox; its domain also names the `Message-ID`s.
    pub from: String,
    /// How long `run` waits between looks at an empty queue.
    pub poll_interval: Duration,
    /// When failed deliveries are tried again.
    pub retry: RetryPolicy,
}

impl MailConfig {
    /// `transport` with the defaults: from `Refugio <no-reply@refugio.local>`, a poll each
    /// second, the default retry policy.
    pub fn new(transport: Transport) -> MailConfig {
        MailConfig {
            transport,
            from: "Refugio <no-reply@refugio.local>".to_owned(),
            poll_interval: Duration::from_secs(1),
            retry: RetryPolicy::default(),
        }
    }
}

/// One delivery worker; several (in one process or many) may share a database.
pub struct Worker {
    id: String,
    pool: Pool,
    outlet: Outlet,
    from: Mailbox,
    poll_interval: Duration,
    retry: RetryPolicy,
}

/// What one round did.
struct Round {
    claimed: usize,
    sent: usize,
}

impl Worker {
    /// A worker with a fresh unique id; checks the configuration but contacts no server.
    pub fn new(pool: Pool, config: MailConfig) -> anyhow::Result<Worker> {
        let from: Mailbox = config
            .from
            .parse()
            .with_context(|| format!("invalid sender address {:?}", config.from))?;
        anyhow::ensure!(
            !config.poll_interval.is_zero(),
            "the mail poll interval must be positive"
        );
        anyhow::ensure!(
            config.retry.max_attempts >= 1,
            "the mail retry policy must allow at least one attempt"
        );
        anyhow::ensure!(
            config.retry.max_backoff <= MAX_BACKOFF_LIMIT,
            "the mail retry backoff may be at most {} days",
            MAX_BACKOFF_LIMIT.as_secs() / 86_400
        );
        Ok(Worker {
            id: refugio_core::new_id(),
            pool,
            outlet: Outlet::open(&config.transport)?,
            from,
            poll_interval: config.poll_interval,
            retry: config.retry,
        })
    }

    /// Sends one batch of due messages (after returning expired claims to the queue);
    /// returns how many were sent. Failed sends are scheduled for a retry, not returned as
    /// errors; an error means the database could not record something.
    pub async fn deliver_due(&self) -> anyhow::Result<usize> {
        Ok(self.round(None).await?.sent)
    }

    /// Delivers until `shutdown` turns true (or its sender is dropped), finishing the message
    /// in hand and handing back the rest of its batch untried. Errors are logged, not raised.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, "mail worker started");
        while !*shutdown.borrow() {
            let busy = match self.round(Some(&shutdown)).await {
                Ok(round) => round.claimed == BATCH_SIZE,
                Err(e) => {
                    tracing::error!(
                        worker = %self.id,
                        error = %format!("{e:#}"),
                        "mail delivery round failed"
                    );
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(self.poll_interval) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        tracing::info!(worker = %self.id, "mail worker stopped");
    }

    /// Claims a batch and delivers it, stopping early when `shutdown` turns true.
    async fn round(&self, shutdown: Option<&watch::Receiver<bool>>) -> anyhow::Result<Round> {
        let now = refugio_db::now();
        let lease_until = now + LEASE;
        let worker = self.id.clone();
        let rows = self
            .db(move |c| {
                let reclaimed = outbox::reclaim_expired(c, now)?;
                if reclaimed > 0 {
                    tracing::warn!(reclaimed, "mail claims expired; messages back in the queue");
                }
                write_transaction(c, |c| {
                    outbox::claim_due(c, &worker, now, lease_until, BATCH_SIZE as i64)
                })
            })
            .await
            .context("cannot claim due mail")?;
        let mut round = Round {
            claimed: rows.len(),
            sent: 0,
        };
        let mut first_error = None;
        for row in rows {
            let stopping = shutdown.is_some_and(|s| *s.borrow());
            let result = if stopping || !lease_outlives_delivery(lease_until) {
                self.release(row).await
            } else {
                self.deliver(row).await.map(|sent| {
                    if sent {
                        round.sent += 1;
                    }
                })
            };
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(round),
        }
    }

    /// Sends one claimed message and records the outcome; `true` when it was sent.
    async fn deliver(&self, row: OutboxRow) -> anyhow::Result<bool> {
        let outcome = match transport::compose(&row, &self.from) {
            Ok(message) => {
                match tokio::time::timeout(SEND_DEADLINE, self.outlet.deliver(&row.id, &message))
                    .await
                {
                    Ok(sent) => sent.map_err(Failure::Retry),
                    Err(_) => Err(Failure::Retry(anyhow::anyhow!(
                        "delivery took longer than {} s",
                        SEND_DEADLINE.as_secs()
                    ))),
                }
            }
            Err(e) => Err(Failure::Permanent(e)),
        };
        let worker = self.id.clone();
        match outcome {
            Ok(()) => {
                let id = row.id.clone();
                let marked = self
                    .db(move |c| outbox::mark_sent(c, &id, &worker, refugio_db::now()))
                    .await
                    .with_context(|| format!("mail {} was sent but not marked sent", row.id))?;
                if marked == 0 {
                    tracing::warn!(
                        id = %row.id,
                        "mail sent after its claim was lost; it may be sent twice"
                    );
                }
                tracing::info!(id = %row.id, template = %row.template, "mail sent");
                Ok(true)
            }
            Err(failure) => {
                let (retry_at, error) = match failure {
                    Failure::Retry(e) => (self.retry_at(row.attempts), e),
                    Failure::Permanent(e) => (None, e),
                };
                let error: String = format!("{error:#}").chars().take(MAX_ERROR_CHARS).collect();
                match retry_at {
                    Some(at) => tracing::warn!(
                        id = %row.id,
                        attempts = row.attempts,
                        retry_at = %at,
                        error = %error,
                        "mail delivery failed; will retry"
                    ),
                    None => tracing::error!(
                        id = %row.id,
                        attempts = row.attempts,
                        error = %error,
                        "mail delivery failed; giving up"
                    ),
                }
                let id = row.id.clone();
                self.db(move |c| outbox::mark_failed(c, &id, &worker, &error, retry_at))
                    .await
                    .with_context(|| format!("cannot record the failure of mail {}", row.id))?;
                Ok(false)
            }
        }
    }

    /// Hands a claimed message back untried.
    async fn release(&self, row: OutboxRow) -> anyhow::Result<()> {
        let worker = self.id.clone();
        let id = row.id.clone();
        self.db(move |c| outbox::release(c, &id, &worker))
            .await
            .with_context(|| format!("cannot hand mail {} back to the queue", row.id))?;
        Ok(())
    }

    /// When to try again after `attempts` failed attempts, `None` to give up.
    fn retry_at(&self, attempts: i64) -> Option<NaiveDateTime> {
        let delay = self
            .retry
            .delay_after(u32::try_from(attempts).unwrap_or(u32::MAX))?;
        // `new` bounds the backoff, so the conversion cannot fail.
        let delay = TimeDelta::from_std(delay).unwrap_or(TimeDelta::MAX);
        refugio_db::now().checked_add_signed(delay)
    }

    /// Runs blocking database work on a pooled connection, off the async threads.
    async fn db<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> diesel::QueryResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            Ok(f(&mut conn)?)
        })
        .await?
    }
}

/// Why a delivery failed: worth trying again, or never going to work.
enum Failure {
    Retry(anyhow::Error),
    Permanent(anyhow::Error),
}

/// Whether a delivery started now would end before the lease does.
fn lease_outlives_delivery(lease_until: NaiveDateTime) -> bool {
    refugio_db::now() + SEND_DEADLINE_DELTA < lease_until
}
