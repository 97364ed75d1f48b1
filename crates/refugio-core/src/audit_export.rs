//! The audit export and its offline check.
//!
//! An export is NDJSON: one event per line, exactly as stored and hashed (`seq, at, actor_id,
//! shelter_id, action, entity, entity_id, data, prev_hash, hash`, `data` as its canonical JSON),
//! chain by chain (the platform's first, then the shelters' by id), each chain in `seq` order.
//! [`ExportVerifier`] checks such a file line by line without the database: each chain must be
//! one run of lines, in that order of chains, whose seqs go 1, 2, 3… without gaps, whose hashes
//! match their content and whose `prev_hash` links to the line before. So any changed, deleted,
//! inserted or moved line is found, and located.
//!
//! A chain cut short at its end is still a valid chain, so truncation is found only against
//! [`Checkpoint`]s: `<chain> <seq> <hash>` lines, as in the daily anchoring email. The export
//! must hold every checkpoint's chain with that very hash at that seq; as each later event
//! links to the one before, the export then provably extends the checkpoint.

use crate::audit::{AuditEvent, GENESIS_HASH, PLATFORM_CHAIN};
use crate::canonical_json;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;

/// One line of an export: the event's JSON, with `data` in its stored canonical form, and `\n`.
pub fn export_line(event: &AuditEvent) -> String {
    let text = |s: &str| Value::from(s).to_string();
    let optional = |s: &Option<String>| s.as_deref().map_or_else(|| "null".to_owned(), text);
    format!(
        "{{\"seq\":{},\"at\":{},\"actor_id\":{},\"shelter_id\":{},\"action\":{},\"entity\":{},\
         \"entity_id\":{},\"data\":{},\"prev_hash\":{},\"hash\":{}}}\n",
        event.seq,
        text(&event.at),
        optional(&event.actor_id),
        optional(&event.shelter_id),
        text(&event.action),
        text(&event.entity),
        text(&event.entity_id),
        canonical_json::to_string(&event.data),
        text(&event.prev_hash),
        text(&event.hash),
    )
}

/// Appends the export lines of `events` to `out`.
pub fn write_export(out: &mut String, events: &[AuditEvent]) {
    for event in events {
        out.push_str(&export_line(event));
    }
}

/// A chain's head at some moment: its last `seq` and that event's `hash`. Written and read as
/// one line, `<chain> <seq> <hash>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// `platform` or a shelter id.
    pub chain: String,
    pub seq: i64,
    /// 64 lowercase hex digits.
    pub hash: String,
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.chain, self.seq, self.hash)
    }
}

impl Checkpoint {
    /// Reads one `<chain> <seq> <hash>` line; leading blanks and `>` quote marks are allowed,
    /// anything else on the line is not.
    pub fn parse_line(line: &str) -> Option<Checkpoint> {
        let line = line.trim_start_matches(|c: char| c.is_whitespace() || c == '>');
        let mut words = line.split_whitespace();
        let (chain, seq, hash) = (words.next()?, words.next()?, words.next()?);
        if words.next().is_some() || !is_chain_name(chain) || !is_hash(hash) {
            return None;
        }
        if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Checkpoint {
            chain: chain.to_owned(),
            seq: seq.parse().ok()?,
            hash: hash.to_owned(),
        })
    }
}

fn is_chain_name(s: &str) -> bool {
    s == PLATFORM_CHAIN
        || (s.len() == 36
            && s.bytes()
                .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && crate::ids::is_well_formed(s))
}

fn is_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Every checkpoint line in `text`, with its line number (from 1), wherever it appears: a saved
/// anchoring email can be read as it is. Quoted-printable soft line breaks (a line ending in
/// `=`, as in a raw `.eml` file) are joined first, since they split long lines.
pub fn parse_checkpoints(text: &str) -> Vec<(usize, Checkpoint)> {
    let mut found = Vec::new();
    let mut joined = String::new();
    let mut start = 0;
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if joined.is_empty() {
            start = i + 1;
        }
        if let Some(head) = line.strip_suffix('=') {
            joined.push_str(head);
            continue;
        }
        joined.push_str(line);
        if let Some(checkpoint) = Checkpoint::parse_line(&joined) {
            found.push((start, checkpoint));
        }
        joined.clear();
    }
    if let Some(checkpoint) = Checkpoint::parse_line(&joined) {
        found.push((start, checkpoint));
    }
    found
}

/// A checkpoint and where it was read, e.g. `checkpoints-2026-12-03.eml line 14`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedCheckpoint {
    pub checkpoint: Checkpoint,
    pub source: String,
}

/// The checkpoints of one file, each named `<name> line <n>`.
pub fn sourced_checkpoints(name: &str, text: &str) -> Vec<SourcedCheckpoint> {
    parse_checkpoints(text)
        .into_iter()
        .map(|(line, checkpoint)| SourcedCheckpoint {
            checkpoint,
            source: format!("{name} line {line}"),
        })
        .collect()
}

/// One chain of a verified export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSummary {
    /// `platform` or a shelter id.
    pub chain: String,
    pub events: u64,
    /// The last event's seq and hash (0 and 64 zeros never occur: a chain in a file has events).
    pub head_seq: i64,
    pub head_hash: String,
    /// The chain's first and last line in the file.
    pub first_line: usize,
    pub last_line: usize,
}

/// A verified export: its chains in file order, and the checkpoints it extends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    pub chains: Vec<ChainSummary>,
    pub events: u64,
    /// Each checkpoint with the line of the event it matched (none for a seq-0 checkpoint).
    pub confirmed: Vec<(SourcedCheckpoint, Option<usize>)>,
}

/// Where and why an export fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFailure {
    /// The line of the export (from 1); none for a checkpoint the export stops before.
    pub line: Option<usize>,
    pub chain: Option<String>,
    /// The seq on that line.
    pub seq: Option<i64>,
    pub kind: FailureKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// Not UTF-8, not JSON, or not exactly an audit event's fields.
    Unparseable { reason: String },
    /// The line's chain already ended on `previous_line`, and other chains came after it.
    ChainSplit { previous_line: usize },
    /// The line starts a chain that belongs before `previous` (which ends on `previous_line`):
    /// an export lists the platform chain first, then the shelters' by id.
    ChainOrder {
        previous: String,
        previous_line: usize,
    },
    /// Seq `missing` is nowhere after the previous event of the chain.
    MissingSeq { missing: i64 },
    /// Seq `missing` should come before this line but is later, on `found_at`.
    OutOfOrder { missing: i64, found_at: usize },
    /// This seq is not above the chain's previous one, `after_seq` on `after_line`.
    Repeated { after_seq: i64, after_line: usize },
    /// The hash does not match the event's content.
    BadHash,
    /// `prev_hash` is not the previous event's hash (on `previous_line`), or not 64 zeros for
    /// a chain's first event.
    BrokenLink { previous_line: Option<usize> },
    /// The event at the checkpoint's seq has another hash: history was rewritten.
    CheckpointMismatch {
        checkpoint: Box<SourcedCheckpoint>,
        found: String,
    },
    /// The export stops before the checkpoint's seq (`head`: the chain's last seq and line in
    /// the export), or lacks its chain.
    CheckpointMissing {
        checkpoint: Box<SourcedCheckpoint>,
        head: Option<(i64, usize)>,
    },
}

impl fmt::Display for ExportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}")?;
            if let Some(chain) = &self.chain {
                write!(f, ", chain {chain}")?;
            }
            if let Some(seq) = self.seq {
                write!(f, ", seq {seq}")?;
            }
            f.write_str(": ")?;
        }
        let seq = self.seq.unwrap_or_default();
        let chain = self.chain.as_deref().unwrap_or_default();
        match &self.kind {
            FailureKind::Unparseable { reason } => write!(f, "not an audit event: {reason}"),
            FailureKind::ChainSplit { previous_line } => write!(
                f,
                "out of order: chain {chain} already ended on line {previous_line} and other \
                 chains followed (lines were moved)"
            ),
            FailureKind::ChainOrder {
                previous,
                previous_line,
            } => write!(
                f,
                "out of order: chain {chain} comes after chain {previous} (line \
                 {previous_line}), but an export lists the platform chain first, then shelters by \
                 id (lines were moved)"
            ),
            FailureKind::MissingSeq { missing } => write!(
                f,
                "missing seq {missing}: this line has seq {seq} (seq {missing} was deleted)"
            ),
            FailureKind::OutOfOrder { missing, found_at } => write!(
                f,
                "out of order: seq {missing} should come before this line but is on line \
                 {found_at} (lines were moved)"
            ),
            FailureKind::Repeated {
                after_seq,
                after_line,
            } => write!(
                f,
                "out of order: seq {seq} comes after seq {after_seq} on line {after_line} (a \
                 moved or repeated line)"
            ),
            FailureKind::BadHash => f.write_str(
                "bad hash: the event's content does not match its hash (the event or its hash \
                 was changed)",
            ),
            FailureKind::BrokenLink {
                previous_line: Some(previous),
            } => write!(
                f,
                "broken link: prev_hash is not the hash of seq {} on line {previous} (an event \
                 was changed and re-hashed, or replaced)",
                seq - 1
            ),
            FailureKind::BrokenLink {
                previous_line: None,
            } => f.write_str(
                "broken link: the prev_hash of a chain's first event must be 64 zeros (the chain \
                 does not start here)",
            ),
            FailureKind::CheckpointMismatch { checkpoint, found } => write!(
                f,
                "checkpoint mismatch: {} says \"{}\", but the export's event has hash {found} \
                 (history up to seq {} was rewritten after that checkpoint)",
                checkpoint.source, checkpoint.checkpoint, checkpoint.checkpoint.seq
            ),
            FailureKind::CheckpointMissing {
                checkpoint,
                head: Some((head_seq, head_line)),
            } => write!(
                f,
                "checkpoint missing: {} says \"{}\", but the export's chain {} stops at seq \
                 {head_seq} on line {head_line} (events were cut off, or the export is older)",
                checkpoint.source, checkpoint.checkpoint, checkpoint.checkpoint.chain
            ),
            FailureKind::CheckpointMissing {
                checkpoint,
                head: None,
            } => write!(
                f,
                "checkpoint missing: {} says \"{}\", but the export has no chain {}",
                checkpoint.source, checkpoint.checkpoint, checkpoint.checkpoint.chain
            ),
        }
    }
}

impl std::error::Error for ExportFailure {}

/// Parses a line and insists it is byte for byte the line the export writes for that event: a
/// JSON parser forgives repeated keys (the last wins), over-long numbers, extra spaces and
/// unknown fields, so a line could show a reader one amount while the hash covers another.
fn parse_event(text: &str) -> Result<AuditEvent, String> {
    if text.trim().is_empty() {
        return Err("an empty line".into());
    }
    let event: AuditEvent = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if export_line(&event).strip_suffix('\n') != Some(text) {
        return Err(
            "not exactly as exported (repeated keys, spacing, number forms or fields \
                    differ from the canonical line)"
                .into(),
        );
    }
    Ok(event)
}

/// The export's order of chains: the platform's, then the shelters' by id.
pub fn chain_order(chain: &str) -> (bool, &str) {
    (chain != PLATFORM_CHAIN, chain)
}

/// A seq missing where a higher one came: deleted, or moved further down? Decided by whether
/// it turns up later in the file.
#[derive(Debug)]
struct Gap {
    line: usize,
    chain: String,
    missing: i64,
    found: i64,
}

/// Checks an export line by line, keeping only a summary per chain and the checkpoints.
#[derive(Debug)]
pub struct ExportVerifier {
    line: usize,
    chains: Vec<ChainSummary>,
    index: HashMap<String, usize>,
    checkpoints: Vec<(SourcedCheckpoint, Option<Option<usize>>)>,
    at_position: HashMap<(String, i64), Vec<usize>>,
    gap: Option<Gap>,
    failed: Option<ExportFailure>,
}

impl ExportVerifier {
    /// A verifier that also requires the export to extend every checkpoint.
    pub fn new(checkpoints: Vec<SourcedCheckpoint>) -> ExportVerifier {
        let mut at_position: HashMap<(String, i64), Vec<usize>> = HashMap::new();
        let mut states = Vec::with_capacity(checkpoints.len());
        for (i, c) in checkpoints.into_iter().enumerate() {
            // A seq-0 checkpoint is a chain's start, which every chain extends.
            let confirmed =
                (c.checkpoint.seq == 0 && c.checkpoint.hash == GENESIS_HASH).then_some(None);
            if c.checkpoint.seq > 0 {
                at_position
                    .entry((c.checkpoint.chain.clone(), c.checkpoint.seq))
                    .or_default()
                    .push(i);
            }
            states.push((c, confirmed));
        }
        ExportVerifier {
            line: 0,
            chains: Vec::new(),
            index: HashMap::new(),
            checkpoints: states,
            at_position,
            gap: None,
            failed: None,
        }
    }

    fn fail(
        &mut self,
        line: usize,
        event: Option<&AuditEvent>,
        kind: FailureKind,
    ) -> Result<(), ExportFailure> {
        let failure = ExportFailure {
            line: Some(line),
            chain: event.map(|e| e.chain().to_owned()),
            seq: event.map(|e| e.seq),
            kind,
        };
        self.failed = Some(failure.clone());
        Err(failure)
    }

    /// Checks the next line (its `\n` or `\r\n` may be included). After a failure, every call
    /// returns that failure.
    pub fn push_line(&mut self, raw: &[u8]) -> Result<(), ExportFailure> {
        if let Some(failure) = &self.failed {
            return Err(failure.clone());
        }
        self.line += 1;
        let line = self.line;
        let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let parsed = std::str::from_utf8(raw)
            .map_err(|_| "not UTF-8 text".to_owned())
            .and_then(parse_event);
        if let Some(gap) = &self.gap {
            // Only looking for the missing seq now: the first problem is already found.
            if let Ok(e) = &parsed {
                if e.chain() == gap.chain && e.seq == gap.missing {
                    let (at, missing) = (gap.line, gap.missing);
                    let failure = ExportFailure {
                        line: Some(at),
                        chain: Some(gap.chain.clone()),
                        seq: Some(gap.found),
                        kind: FailureKind::OutOfOrder {
                            missing,
                            found_at: line,
                        },
                    };
                    self.failed = Some(failure.clone());
                    return Err(failure);
                }
            }
            return Ok(());
        }
        let event = match parsed {
            Ok(e) => e,
            Err(reason) => return self.fail(line, None, FailureKind::Unparseable { reason }),
        };
        let chain = event.chain().to_owned();
        let current = match self.index.get(&chain) {
            Some(&i) if i + 1 != self.chains.len() => {
                let previous_line = self.chains[i].last_line;
                return self.fail(
                    line,
                    Some(&event),
                    FailureKind::ChainSplit { previous_line },
                );
            }
            Some(&i) => i,
            None => {
                if let Some(last) = self.chains.last() {
                    if chain_order(&chain) <= chain_order(&last.chain) {
                        let kind = FailureKind::ChainOrder {
                            previous: last.chain.clone(),
                            previous_line: last.last_line,
                        };
                        return self.fail(line, Some(&event), kind);
                    }
                }
                self.index.insert(chain.clone(), self.chains.len());
                self.chains.push(ChainSummary {
                    chain: chain.clone(),
                    events: 0,
                    head_seq: 0,
                    head_hash: GENESIS_HASH.to_owned(),
                    first_line: line,
                    last_line: line,
                });
                self.chains.len() - 1
            }
        };
        let head = &self.chains[current];
        let expected = head.head_seq + 1;
        if event.seq > expected {
            self.gap = Some(Gap {
                line,
                chain,
                missing: expected,
                found: event.seq,
            });
            return Ok(());
        }
        if event.seq < expected {
            let kind = FailureKind::Repeated {
                after_seq: head.head_seq,
                after_line: head.last_line,
            };
            return self.fail(line, Some(&event), kind);
        }
        if event.hash != event.expected_hash() {
            return self.fail(line, Some(&event), FailureKind::BadHash);
        }
        if event.prev_hash != head.head_hash {
            let previous_line = (head.events > 0).then_some(head.last_line);
            return self.fail(
                line,
                Some(&event),
                FailureKind::BrokenLink { previous_line },
            );
        }
        let matching = self
            .at_position
            .get(&(chain, event.seq))
            .cloned()
            .unwrap_or_default();
        for i in matching {
            let (checkpoint, confirmed) = &mut self.checkpoints[i];
            if checkpoint.checkpoint.hash == event.hash {
                *confirmed = Some(Some(line));
            } else {
                let kind = FailureKind::CheckpointMismatch {
                    checkpoint: Box::new(checkpoint.clone()),
                    found: event.hash.clone(),
                };
                return self.fail(line, Some(&event), kind);
            }
        }
        let head = &mut self.chains[current];
        head.events += 1;
        head.head_seq = event.seq;
        head.head_hash = event.hash;
        head.last_line = line;
        Ok(())
    }

    /// The verdict once every line was pushed.
    pub fn finish(self) -> Result<ExportReport, ExportFailure> {
        if let Some(failure) = self.failed {
            return Err(failure);
        }
        if let Some(gap) = self.gap {
            return Err(ExportFailure {
                line: Some(gap.line),
                chain: Some(gap.chain),
                seq: Some(gap.found),
                kind: FailureKind::MissingSeq {
                    missing: gap.missing,
                },
            });
        }
        let mut confirmed = Vec::with_capacity(self.checkpoints.len());
        for (checkpoint, state) in self.checkpoints {
            match state {
                Some(line) => confirmed.push((checkpoint, line)),
                None => {
                    let head = self
                        .index
                        .get(&checkpoint.checkpoint.chain)
                        .map(|&i| (self.chains[i].head_seq, self.chains[i].last_line));
                    let chain = Some(checkpoint.checkpoint.chain.clone());
                    let seq = checkpoint.checkpoint.seq;
                    let checkpoint = Box::new(checkpoint);
                    let kind = if seq == 0 {
                        FailureKind::CheckpointMismatch {
                            checkpoint,
                            found: GENESIS_HASH.to_owned(),
                        }
                    } else {
                        FailureKind::CheckpointMissing { checkpoint, head }
                    };
                    return Err(ExportFailure {
                        line: None,
                        chain,
                        seq: None,
                        kind,
                    });
                }
            }
        }
        Ok(ExportReport {
            events: self.chains.iter().map(|c| c.events).sum(),
            chains: self.chains,
            confirmed,
        })
    }
}

/// Checks a whole export held in memory (tests, small files).
pub fn verify_export(
    text: &str,
    checkpoints: Vec<SourcedCheckpoint>,
) -> Result<ExportReport, ExportFailure> {
    let mut verifier = ExportVerifier::new(checkpoints);
    let body = text.strip_suffix('\n').unwrap_or(text);
    if !text.is_empty() {
        for line in body.split('\n') {
            if verifier.push_line(line.as_bytes()).is_err() {
                break;
            }
        }
    }
    verifier.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SHELTER: &str = "0190f5e2-0000-7000-8000-000000000001";

    /// A chain of `n` events, hashed as the database would.
    fn chain(shelter: Option<&str>, n: i64) -> Vec<AuditEvent> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let mut e = AuditEvent {
                    seq,
                    at: format!("2026-11-28T15:04:{seq:02}.000000Z"),
                    actor_id: Some("0190f5e2-0000-7000-8000-00000000000a".into()),
                    shelter_id: shelter.map(str::to_owned),
                    action: "stock.movement".into(),
                    entity: "item".into(),
                    entity_id: format!("e{seq}"),
                    data: json!({"quantity": seq * 1000, "kind": "receipt", "note": "ñ \"q\""}),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.expected_hash();
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    /// Platform (4 events) then one shelter (5 events).
    fn export() -> String {
        let mut out = String::new();
        write_export(&mut out, &chain(None, 4));
        write_export(&mut out, &chain(Some(SHELTER), 5));
        out
    }

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    fn join(lines: &[String]) -> String {
        lines.iter().map(|l| format!("{l}\n")).collect()
    }

    fn failure(text: &str) -> ExportFailure {
        verify_export(text, Vec::new()).expect_err("a tampered export")
    }

    fn checkpoint(chain: &str, seq: i64, hash: &str) -> SourcedCheckpoint {
        SourcedCheckpoint {
            checkpoint: Checkpoint {
                chain: chain.into(),
                seq,
                hash: hash.into(),
            },
            source: "mail line 1".into(),
        }
    }

    #[test]
    fn a_line_is_the_stored_event_in_field_order() {
        let e = &chain(None, 1)[0];
        let line = export_line(e);
        assert!(line.ends_with("}\n") && !line[..line.len() - 1].contains('\n'));
        assert!(line.starts_with("{\"seq\":1,\"at\":\"2026-11-28T15:04:01.000000Z\",\"actor_id\":"));
        assert!(line.contains(
            "\"data\":{\"kind\":\"receipt\",\"note\":\"ñ \\\"q\\\"\",\"quantity\":1000},\"prev_hash\":"
        ));
        let back: AuditEvent = serde_json::from_str(&line).expect("an event");
        assert_eq!(&back, e);
    }

    #[test]
    fn an_untouched_export_verifies() {
        let report = verify_export(&export(), Vec::new()).expect("verifies");
        assert_eq!(report.events, 9);
        let shelter = chain(Some(SHELTER), 5);
        assert_eq!(
            report.chains[1],
            ChainSummary {
                chain: SHELTER.into(),
                events: 5,
                head_seq: 5,
                head_hash: shelter[4].hash.clone(),
                first_line: 5,
                last_line: 9,
            }
        );
        assert_eq!(report.chains[0].chain, PLATFORM_CHAIN);
        assert_eq!(verify_export("", Vec::new()).expect("empty").events, 0);
        // Without the final newline, and with CRLF line ends, too.
        let text = export();
        assert!(verify_export(text.trim_end(), Vec::new()).is_ok());
        assert!(verify_export(&text.replace('\n', "\r\n"), Vec::new()).is_ok());
    }

    #[test]
    fn a_changed_amount_is_a_bad_hash_on_its_line() {
        let text = export().replacen("\"quantity\":3000", "\"quantity\":3500", 1);
        let f = failure(&text);
        assert_eq!(
            (f.line, f.chain.as_deref(), f.seq, &f.kind),
            (
                Some(3),
                Some(PLATFORM_CHAIN),
                Some(3),
                &FailureKind::BadHash
            )
        );
        assert!(f
            .to_string()
            .starts_with("line 3, chain platform, seq 3: bad hash"));
    }

    #[test]
    fn an_edited_hash_is_found_on_its_line() {
        let events = chain(Some(SHELTER), 5);
        let text = export().replace(&events[1].hash, &"a".repeat(64));
        // Line 6 carries the hash; line 7 links to it, but line 6 is found first.
        let f = failure(&text);
        assert_eq!(
            (f.line, f.seq, &f.kind),
            (Some(6), Some(2), &FailureKind::BadHash)
        );
    }

    #[test]
    fn a_deleted_line_is_a_missing_seq() {
        let mut l = lines(&export());
        l.remove(6); // the shelter's seq 3
        let f = failure(&join(&l));
        assert_eq!(
            (f.line, f.chain.as_deref(), f.seq, &f.kind),
            (
                Some(7),
                Some(SHELTER),
                Some(4),
                &FailureKind::MissingSeq { missing: 3 }
            )
        );
        assert!(f.to_string().contains("missing seq 3"), "{f}");

        // A chain's first event.
        let mut l = lines(&export());
        l.remove(0);
        let f = failure(&join(&l));
        assert_eq!(
            (f.line, f.kind),
            (Some(1), FailureKind::MissingSeq { missing: 1 })
        );
    }

    #[test]
    fn swapped_lines_are_out_of_order() {
        let mut l = lines(&export());
        l.swap(1, 2); // platform seqs 2 and 3
        let f = failure(&join(&l));
        assert_eq!(
            (f.line, f.seq, &f.kind),
            (
                Some(2),
                Some(3),
                &FailureKind::OutOfOrder {
                    missing: 2,
                    found_at: 3
                }
            )
        );
        assert!(
            f.to_string()
                .starts_with("line 2, chain platform, seq 3: out of order"),
            "{f}"
        );

        // Across chains: the platform's last line and the shelter's first.
        let mut l = lines(&export());
        l.swap(3, 4);
        let f = failure(&join(&l));
        assert_eq!(f.line, Some(5));
        assert_eq!(f.kind, FailureKind::ChainSplit { previous_line: 3 });

        // Whole chains in another order.
        let mut text = String::new();
        write_export(&mut text, &chain(Some(SHELTER), 2));
        write_export(&mut text, &chain(None, 2));
        let f = failure(&text);
        assert_eq!(
            (f.line, f.chain.as_deref()),
            (Some(3), Some(PLATFORM_CHAIN))
        );
        assert!(
            matches!(&f.kind, FailureKind::ChainOrder { previous, previous_line: 2 } if previous == SHELTER),
            "{f}"
        );
    }

    #[test]
    fn a_repeated_line_is_out_of_order() {
        let mut l = lines(&export());
        let copy = l[1].clone();
        l.insert(2, copy);
        let f = failure(&join(&l));
        assert_eq!(
            (f.line, f.seq, f.kind),
            (
                Some(3),
                Some(2),
                FailureKind::Repeated {
                    after_seq: 2,
                    after_line: 2
                }
            )
        );
    }

    #[test]
    fn a_rehashed_edit_breaks_the_next_link() {
        let mut events = chain(None, 4);
        events[1].data = json!({"quantity": 1});
        events[1].hash = events[1].expected_hash();
        let mut text = String::new();
        write_export(&mut text, &events);
        let f = failure(&text);
        assert_eq!(
            (f.line, f.seq, &f.kind),
            (
                Some(3),
                Some(3),
                &FailureKind::BrokenLink {
                    previous_line: Some(2)
                }
            )
        );
        assert!(
            f.to_string().contains("not the hash of seq 2 on line 2"),
            "{f}"
        );
    }

    #[test]
    fn unparseable_lines_are_located() {
        for (bad, why) in [
            ("not json", "expected"),
            ("", "empty"),
            ("{\"seq\":1}", "missing field"),
        ] {
            let mut l = lines(&export());
            l.insert(2, bad.to_owned());
            let f = failure(&join(&l));
            assert_eq!(f.line, Some(3), "{bad}");
            assert!(
                matches!(&f.kind, FailureKind::Unparseable { reason } if reason.contains(why)),
                "{bad}: {f}"
            );
        }
        // An extra field is not part of the hashed form.
        let text = export().replacen("{\"seq\":2,", "{\"seq\":2,\"note\":\"x\",", 1);
        assert!(matches!(
            failure(&text).kind,
            FailureKind::Unparseable { .. }
        ));
        // What a parser forgives but a reader would be misled by: a repeated key (the reader
        // sees 9000, the hash covers 3000), a number written another way, extra spaces.
        for (from, to) in [
            ("\"quantity\":3000", "\"quantity\":9000,\"quantity\":3000"),
            ("\"quantity\":3000", "\"quantity\":3000.0000000000001"),
            ("\"quantity\":3000", "\"quantity\": 3000"),
        ] {
            let f = failure(&export().replacen(from, to, 1));
            assert_eq!(f.line, Some(3), "{to}");
            assert!(
                matches!(&f.kind, FailureKind::Unparseable { reason } if reason.contains("not exactly as exported")),
                "{to}: {f}"
            );
        }
        let mut v = ExportVerifier::new(Vec::new());
        let f = v
            .push_line(b"{\"seq\":1,\"at\":\"\xff\"}\n")
            .expect_err("not UTF-8");
        assert_eq!(f.to_string(), "line 1: not an audit event: not UTF-8 text");
        assert_eq!(v.push_line(b"{}").expect_err("still failed"), f);
    }

    #[test]
    fn checkpoints_prove_the_export_extends_them() {
        let platform = chain(None, 4);
        let shelter = chain(Some(SHELTER), 5);
        let text = export();
        let cps = vec![
            checkpoint(PLATFORM_CHAIN, 4, &platform[3].hash),
            checkpoint(SHELTER, 2, &shelter[1].hash),
            checkpoint(PLATFORM_CHAIN, 0, GENESIS_HASH),
        ];
        let report = verify_export(&text, cps.clone()).expect("extends them");
        let lines: Vec<Option<usize>> = report.confirmed.iter().map(|(_, l)| *l).collect();
        assert_eq!(lines, vec![Some(4), Some(6), None]);

        // Truncated: the shelter's chain stops before its checkpoint.
        let mut l = self::lines(&text);
        l.truncate(5);
        let cut = join(&l);
        assert!(
            verify_export(&cut, Vec::new()).is_ok(),
            "undetectable alone"
        );
        let f = verify_export(&cut, cps.clone()).expect_err("cut");
        assert_eq!(f.line, None);
        assert!(
            matches!(&f.kind, FailureKind::CheckpointMissing { head: Some((1, 5)), checkpoint }
                if checkpoint.checkpoint.seq == 2),
            "{f}"
        );
        assert!(f.to_string().contains("stops at seq 1 on line 5"), "{f}");

        // A chain dropped altogether.
        l.truncate(4);
        let f = verify_export(&join(&l), cps.clone()).expect_err("no chain");
        assert!(
            f.to_string().ends_with(&format!("has no chain {SHELTER}")),
            "{f}"
        );

        // Rewritten from seq 2 on, consistently re-hashed: only the checkpoint tells.
        let mut rewritten = shelter.clone();
        rewritten[1].data = json!({"quantity": 1});
        let mut prev = rewritten[0].hash.clone();
        for e in &mut rewritten[1..] {
            e.prev_hash.clone_from(&prev);
            e.hash = e.expected_hash();
            prev.clone_from(&e.hash);
        }
        let mut forged = String::new();
        write_export(&mut forged, &platform);
        write_export(&mut forged, &rewritten);
        assert!(verify_export(&forged, Vec::new()).is_ok());
        let f = verify_export(&forged, cps.clone()).expect_err("rewritten");
        assert_eq!((f.line, f.seq), (Some(6), Some(2)));
        assert!(matches!(f.kind, FailureKind::CheckpointMismatch { .. }));
        assert!(
            f.to_string().contains("checkpoint mismatch: mail line 1"),
            "{f}"
        );
        // A rewrite after the checkpoint's seq is not the checkpoint's business.
        let only_platform = vec![checkpoint(PLATFORM_CHAIN, 4, &platform[3].hash)];
        assert!(verify_export(&forged, only_platform).is_ok());

        let wrong_genesis = vec![checkpoint(PLATFORM_CHAIN, 0, &"1".repeat(64))];
        assert!(verify_export(&text, wrong_genesis).is_err());
    }

    #[test]
    fn checkpoints_are_read_from_an_email_as_it_is() {
        let hash = "ab".repeat(32);
        let mail = format!(
            "Subject: Audit checkpoints for 2026-12-03\r\n\r\nHello,\r\n\r\nplatform 12 {hash}\r\n\
             \x20   {SHELTER} 7 {hash}\r\n> {SHELTER} 8 {hash}\r\nsee 3 {}\r\nplatform 1 {}\r\n\
             platform x {hash}\r\nplatform 1 {hash} extra\r\n{} 1 {hash}\r\n",
            "c".repeat(63),
            hash.to_uppercase(),
            SHELTER.to_uppercase(),
        );
        let found = parse_checkpoints(&mail);
        let seqs: Vec<(usize, &str, i64)> = found
            .iter()
            .map(|(l, c)| (*l, c.chain.as_str(), c.seq))
            .collect();
        assert_eq!(
            seqs,
            vec![(5, PLATFORM_CHAIN, 12), (6, SHELTER, 7), (7, SHELTER, 8)]
        );
        assert_eq!(found[0].1.to_string(), format!("platform 12 {hash}"));

        // Quoted-printable soft line breaks, as in a raw .eml file.
        let line = format!("{SHELTER} 42 {hash}");
        let qp = format!(
            "Hola:\r\n{}=\r\n{}\r\nfin=C3=A9\r\n",
            &line[..75],
            &line[75..]
        );
        let found = parse_checkpoints(&qp);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 2);
        assert_eq!(found[0].1.to_string(), line);
        let sourced = sourced_checkpoints("mail.eml", &qp);
        assert_eq!(sourced[0].source, "mail.eml line 2");
    }
}
