//! Reading the audit chains for an export, a batch at a time, in the export's order: the
//! platform chain first, then the shelters' by id, each by seq.
//!
//! Appends to a chain commit in seq order (each one holds the chain's head row until it
//! commits), so every chain read this way is a gap-free prefix of the chain, even while
//! changes go on; batches never hold more than one chain's `limit` events.

use crate::audit::{chain_page, chains, head};
use crate::DbConnection;
use diesel::QueryResult;
use refugio_core::audit::AuditEvent;
use std::collections::VecDeque;

/// How many events an export reads at once.
pub const EXPORT_BATCH: i64 = 1000;

/// Where an export has got to.
#[derive(Debug, Clone)]
pub struct ExportCursor {
    chains: VecDeque<String>,
    after_seq: i64,
}

impl ExportCursor {
    /// Every chain, or only `chain` (`platform` or a shelter id); `None` for an unknown chain.
    pub fn new(conn: &mut DbConnection, chain: Option<&str>) -> QueryResult<Option<ExportCursor>> {
        let names = match chain {
            Some(name) => match head(conn, name)? {
                Some(_) => vec![name.to_owned()],
                None => return Ok(None),
            },
            None => chains(conn)?,
        };
        Ok(Some(ExportCursor {
            chains: names.into(),
            after_seq: 0,
        }))
    }

    /// The next events, at most `limit` of one chain; empty once the export is complete.
    pub fn next_batch(
        &mut self,
        conn: &mut DbConnection,
        limit: i64,
    ) -> QueryResult<Vec<AuditEvent>> {
        while let Some(chain) = self.chains.front() {
            let batch = chain_page(conn, chain, self.after_seq, limit)?;
            match batch.last() {
                // A full batch: this chain may have more.
                Some(last) if i64::try_from(batch.len()).unwrap_or(i64::MAX) >= limit => {
                    self.after_seq = last.seq;
                }
                // A short or empty one: the end of this chain as of now.
                _ => {
                    self.chains.pop_front();
                    self.after_seq = 0;
                }
            }
            if !batch.is_empty() {
                return Ok(batch);
            }
        }
        Ok(Vec::new())
    }
}
