//! The tamper-evident audit chain: how an event is hashed and how a chain is checked.
//!
//! `hash = hex(SHA-256(prev_hash + "\n" + JCS({seq, at, actor_id, shelter_id, action, entity,
//! entity_id, data, prev_hash})))`; a chain starts with `prev_hash` = 64 zeros and `seq` = 1.

use crate::canonical_json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The `prev_hash` of every chain's first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain name of events that concern no single shelter.
pub const PLATFORM_CHAIN: &str = "platform";

/// One audit event, exactly as it is stored, exported and hashed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub seq: i64,
    /// RFC 3339 UTC timestamp, kept as the exact text that was hashed.
    pub at: String,
    pub actor_id: Option<String>,
    pub shelter_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub data: Value,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent {
    /// The chain this event belongs to: its shelter's, or the platform's.
    pub fn chain(&self) -> &str {
        self.shelter_id.as_deref().unwrap_or(PLATFORM_CHAIN)
    }

    /// The hash this event must carry, recomputed from its other fields.
    pub fn expected_hash(&self) -> String {
        event_hash(
            self.seq,
            &self.at,
            self.actor_id.as_deref(),
            self.shelter_id.as_deref(),
            &self.action,
            &self.entity,
            &self.entity_id,
            &self.data,
            &self.prev_hash,
        )
    }
}

/// The hash of an event from its nine hashed fields.
#[allow(clippy::too_many_arguments)]
pub fn event_hash(
    seq: i64,
    at: &str,
    actor_id: Option<&str>,
    shelter_id: Option<&str>,
    action: &str,
    entity: &str,
    entity_id: &str,
    data: &Value,
    prev_hash: &str,
) -> String {
    let body = json!({
        "seq": seq, "at": at, "actor_id": actor_id, "shelter_id": shelter_id, "action": action,
        "entity": entity, "entity_id": entity_id, "data": data, "prev_hash": prev_hash,
    });
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_json::to_string(&body).as_bytes());
    hex::encode(hasher.finalize())
}

/// Where a chain stops being valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub chain: String,
    pub first_bad_seq: i64,
}

/// Checks one chain's events, given in `seq` order: seqs run 1, 2, 3… without gaps, each
/// `prev_hash` is the previous event's `hash`, and each `hash` matches its content.
/// Returns how many events were checked, or the first one that is wrong.
pub fn verify_chain<'a>(
    chain: &str,
    events: impl IntoIterator<Item = &'a AuditEvent>,
) -> Result<u64, ChainBreak> {
    let mut prev = GENESIS_HASH.to_owned();
    let mut checked = 0;
    for (expected_seq, event) in (1..).zip(events) {
        let bad = event.seq != expected_seq
            || event.chain() != chain
            || event.prev_hash != prev
            || event.hash != event.expected_hash();
        if bad {
            return Err(ChainBreak {
                chain: chain.to_owned(),
                first_bad_seq: expected_seq.min(event.seq),
            });
        }
        prev.clone_from(&event.hash);
        checked += 1;
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let mut e = AuditEvent {
                    seq,
                    at: format!("2026-11-28T15:04:{seq:02}Z"),
                    actor_id: Some("u1".into()),
                    shelter_id: None,
                    action: "user.created".into(),
                    entity: "user".into(),
                    entity_id: format!("e{seq}"),
                    data: json!({"role": "donor", "n": seq}),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.expected_hash();
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    #[test]
    fn hash_follows_the_published_recipe() {
        let e = &chain(1)[0];
        let text = format!(
            "{GENESIS_HASH}\n{{\"action\":\"user.created\",\"actor_id\":\"u1\",\"at\":\"2026-11-28T15:04:01Z\",\
             \"data\":{{\"n\":1,\"role\":\"donor\"}},\"entity\":\"user\",\"entity_id\":\"e1\",\
             \"prev_hash\":\"{GENESIS_HASH}\",\"seq\":1,\"shelter_id\":null}}"
        );
        assert_eq!(e.hash, hex::encode(Sha256::digest(text.as_bytes())));
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_chain(PLATFORM_CHAIN, &chain(5)), Ok(5));
        assert_eq!(verify_chain(PLATFORM_CHAIN, &[]), Ok(0));
    }

    #[test]
    fn tampering_is_located() {
        let mut edited = chain(5);
        edited[2].data = json!({"role": "admin", "n": 3});
        assert_eq!(
            verify_chain(PLATFORM_CHAIN, &edited).map_err(|b| b.first_bad_seq),
            Err(3)
        );

        let mut deleted = chain(5);
        deleted.remove(1);
        assert_eq!(
            verify_chain(PLATFORM_CHAIN, &deleted).map_err(|b| b.first_bad_seq),
            Err(2)
        );

        let mut reordered = chain(5);
        reordered.swap(3, 4);
        assert_eq!(
            verify_chain(PLATFORM_CHAIN, &reordered).map_err(|b| b.first_bad_seq),
            Err(4)
        );
    }
}
