//! Properties of the offline audit check over generated exports (several chains of random
//! lengths and data): an untouched export verifies with one summary per chain; a changed
//! amount, a deleted line (anywhere but a chain's end), two swapped lines and an edited hash
//! are each found, on the right line; a cut-off end is found only against a checkpoint, which
//! a consistently re-hashed rewrite at or before its seq fails too.

use proptest::prelude::*;
use refugio_core::audit::{AuditEvent, GENESIS_HASH, PLATFORM_CHAIN};
use refugio_core::audit_export::{
    export_line, verify_export, Checkpoint, FailureKind, SourcedCheckpoint,
};
use serde_json::json;

fn shelter(i: usize) -> String {
    format!("0190f5e2-0000-7000-8000-{i:012}")
}

/// The events of one chain with the given amounts, hashed as the database would.
fn chain(shelter_id: Option<String>, amounts: &[i64]) -> Vec<AuditEvent> {
    let mut prev = GENESIS_HASH.to_owned();
    let mut out = Vec::new();
    for (seq, amount) in (1..).zip(amounts) {
        let mut e = AuditEvent {
            seq,
            at: format!("2026-12-01T10:00:{:02}.000000Z", seq % 60),
            actor_id: None,
            shelter_id: shelter_id.clone(),
            action: "expense.recorded".into(),
            entity: "expense".into(),
            entity_id: format!("x{seq}"),
            data: json!({"amount": amount, "currency": "MXN"}),
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        e.hash = e.expected_hash();
        prev.clone_from(&e.hash);
        out.push(e);
    }
    out
}

/// A platform chain then shelter chains; each chain at least one event.
fn chains() -> impl Strategy<Value = Vec<Vec<AuditEvent>>> {
    prop::collection::vec(prop::collection::vec(1i64..1_000_000, 1..8), 1..5).prop_map(|all| {
        all.iter()
            .enumerate()
            .map(|(i, amounts)| {
                let id = (i > 0).then(|| shelter(i));
                chain(id, amounts)
            })
            .collect()
    })
}

fn text(lines: &[String]) -> String {
    lines.concat()
}

fn lines(chains: &[Vec<AuditEvent>]) -> Vec<String> {
    chains.iter().flatten().map(export_line).collect()
}

fn heads(chains: &[Vec<AuditEvent>]) -> Vec<SourcedCheckpoint> {
    chains
        .iter()
        .filter_map(|c| c.last())
        .map(|e| SourcedCheckpoint {
            checkpoint: Checkpoint {
                chain: e.chain().to_owned(),
                seq: e.seq,
                hash: e.hash.clone(),
            },
            source: "anchor line 1".into(),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn an_untouched_export_verifies_against_its_heads(chains in chains()) {
        let report = verify_export(&text(&lines(&chains)), heads(&chains)).expect("verifies");
        prop_assert_eq!(report.chains.len(), chains.len());
        prop_assert_eq!(report.chains[0].chain.as_str(), PLATFORM_CHAIN);
        prop_assert_eq!(report.events as usize, chains.iter().map(Vec::len).sum::<usize>());
        prop_assert_eq!(report.confirmed.len(), chains.len());
        for (summary, c) in report.chains.iter().zip(&chains) {
            let last = c.last().expect("events");
            prop_assert_eq!(summary.head_seq, last.seq);
            prop_assert_eq!(&summary.head_hash, &last.hash);
        }
    }

    #[test]
    fn a_changed_amount_is_found_on_its_line(chains in chains(), pick in any::<prop::sample::Index>(), delta in 1i64..1000) {
        let all: Vec<&AuditEvent> = chains.iter().flatten().collect();
        let i = pick.index(all.len());
        let mut edited = all[i].clone();
        let amount = edited.data["amount"].as_i64().expect("amount");
        edited.data["amount"] = json!(amount + delta);
        let mut l = lines(&chains);
        l[i] = export_line(&edited);
        let f = verify_export(&text(&l), Vec::new()).expect_err("found");
        prop_assert_eq!(f.line, Some(i + 1));
        prop_assert_eq!(f.seq, Some(edited.seq));
        prop_assert_eq!(f.kind, FailureKind::BadHash);
    }

    #[test]
    fn an_edited_hash_is_found_on_its_line(chains in chains(), pick in any::<prop::sample::Index>()) {
        let all: Vec<&AuditEvent> = chains.iter().flatten().collect();
        let i = pick.index(all.len());
        let mut edited = all[i].clone();
        edited.hash = if edited.hash.starts_with('0') { "1" } else { "0" }.repeat(64);
        let mut l = lines(&chains);
        l[i] = export_line(&edited);
        let f = verify_export(&text(&l), Vec::new()).expect_err("found");
        prop_assert_eq!(f.line, Some(i + 1));
        prop_assert_eq!(f.kind, FailureKind::BadHash);
    }

    #[test]
    fn a_deleted_line_is_a_missing_seq_unless_it_ends_a_chain(chains in chains(), pick in any::<prop::sample::Index>()) {
        let all: Vec<&AuditEvent> = chains.iter().flatten().collect();
        let i = pick.index(all.len());
        let victim = all[i].clone();
        let ends_chain = chains.iter().any(|c| c.last() == Some(&victim));
        let mut l = lines(&chains);
        l.remove(i);
        let result = verify_export(&text(&l), Vec::new());
        if ends_chain {
            prop_assert!(result.is_ok(), "a cut-off end is a valid, shorter chain");
            let f = verify_export(&text(&l), heads(&chains)).expect_err("against the heads");
            let is_missing = matches!(f.kind, FailureKind::CheckpointMissing { .. });
            prop_assert!(is_missing, "{}", f);
        } else {
            let f = result.expect_err("found");
            prop_assert_eq!(f.line, Some(i + 1));
            prop_assert_eq!(f.chain.as_deref(), Some(victim.chain()));
            prop_assert_eq!(f.seq, Some(victim.seq + 1));
            prop_assert_eq!(f.kind, FailureKind::MissingSeq { missing: victim.seq });
        }
    }

    #[test]
    fn two_swapped_lines_are_found(chains in chains(), a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let mut l = lines(&chains);
        let (a, b) = (a.index(l.len()), b.index(l.len()));
        prop_assume!(a != b);
        let (a, b) = (a.min(b), a.max(b));
        l.swap(a, b);
        let f = verify_export(&text(&l), Vec::new()).expect_err("found");
        let line = f.line.expect("a line");
        prop_assert!(line > a && line <= b + 1, "line {} for a swap of lines {} and {}: {}", line, a + 1, b + 1, f);
        let moved = matches!(
            f.kind,
            FailureKind::OutOfOrder { .. } | FailureKind::ChainSplit { .. } | FailureKind::ChainOrder { .. }
                | FailureKind::Repeated { .. }
        );
        prop_assert!(moved, "{}", f);
        let all: Vec<&AuditEvent> = chains.iter().flatten().collect();
        if all[a].chain() == all[b].chain() {
            prop_assert_eq!(f.line, Some(a + 1));
            prop_assert_eq!(f.kind, FailureKind::OutOfOrder { missing: all[a].seq, found_at: b + 1 });
        }
    }

    #[test]
    fn a_consistent_rewrite_fails_only_checkpoints_at_or_after_it(
        chains in chains(), pick in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(),
    ) {
        let c = pick.index(chains.len());
        let original = &chains[c];
        let from = at.index(original.len());
        let mut forged = original.clone();
        forged[from].data = json!({"amount": -1, "currency": "MXN"});
        for k in from..forged.len() {
            if k > 0 {
                forged[k].prev_hash = forged[k - 1].hash.clone();
            }
            forged[k].hash = forged[k].expected_hash();
        }
        let mut all = chains.clone();
        all[c] = forged;
        let forged_text = text(&lines(&all));
        prop_assert!(verify_export(&forged_text, Vec::new()).is_ok());
        for (k, event) in original.iter().enumerate() {
            let checkpoint = vec![SourcedCheckpoint {
                checkpoint: Checkpoint { chain: event.chain().to_owned(), seq: event.seq, hash: event.hash.clone() },
                source: "anchor line 1".into(),
            }];
            let result = verify_export(&forged_text, checkpoint);
            if k < from {
                prop_assert!(result.is_ok());
            } else {
                let f = result.expect_err("rewritten");
                let mismatch = matches!(f.kind, FailureKind::CheckpointMismatch { .. });
                prop_assert!(mismatch, "{}", f);
                prop_assert_eq!(f.seq, Some(event.seq));
            }
        }
    }
}
