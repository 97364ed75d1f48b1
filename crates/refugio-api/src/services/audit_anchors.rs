//! Daily external anchoring: once per UTC day, every chain's head (seq, hash) is emailed to
//! every active auditor, so the operator cannot quietly rewrite history: an auditor's saved
//! email is a checkpoint that any later export must extend (`refugio audit verify
//! --checkpoints`).
//!
//! The day is claimed by a conditional insert, and the heads and emails are written in that
//! same transaction (transactional outbox): several servers never send a day twice, and a
//! claimed day always has its emails queued. With no active auditor the day is left unclaimed
//! (a record nobody outside received proves nothing) and anchored the first minute one exists.

use crate::error::ApiResult;
use chrono::NaiveDate;
use refugio_core::audit_export::Checkpoint;
use refugio_core::{Locale, Role};
use refugio_db::DbConnection;

/// What one call anchored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchored {
    pub day: NaiveDate,
    pub heads: Vec<Checkpoint>,
    /// Auditors emailed.
    pub recipients: usize,
}

/// Anchors `day` unless some server already did; `None` when it was done before or there is no
/// active auditor to send it to.
pub fn anchor(conn: &mut DbConnection, day: NaiveDate) -> ApiResult<Option<Anchored>> {
    if refugio_db::audit_anchors::exists(conn, day)? {
        return Ok(None);
    }
    refugio_db::write_transaction(conn, |c| {
        let auditors = refugio_db::users::active_with_role(c, Role::Auditor.as_str())?;
        if auditors.is_empty() {
            return Ok(None);
        }
        let recipients = i64::try_from(auditors.len()).unwrap_or(i64::MAX);
        if !refugio_db::audit_anchors::claim(c, day, refugio_db::now(), recipients)? {
            return Ok(None);
        }
        let heads = refugio_db::audit_anchors::current_heads(c)?;
        refugio_db::audit_anchors::record_heads(c, day, &heads)?;
        let message = refugio_mail::Message::AuditCheckpoints {
            day,
            heads: heads.clone(),
        };
        for auditor in &auditors {
            let locale = auditor.locale.parse().unwrap_or(Locale::Es);
            refugio_mail::enqueue(c, &auditor.email, locale, &message)?;
        }
        Ok(Some(Anchored {
            day,
            heads,
            recipients: auditors.len(),
        }))
    })
}

/// Anchors today (UTC), as the minute loop does.
pub fn anchor_today(pool: &refugio_db::Pool) -> ApiResult<Option<Anchored>> {
    let today = refugio_db::now().date();
    anchor(&mut *pool.get()?, today)
}
