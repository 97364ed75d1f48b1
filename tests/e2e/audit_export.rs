//! The audit export that auditors check offline, and the daily checkpoints that anchor it.
//!
//! `GET /audit/export` and `refugio audit export` give the same NDJSON file; the real binary's
//! `refugio audit verify` accepts it untouched and rejects, naming the line and the seq, a
//! changed amount, a deleted line, swapped lines, an edited hash and an export of a tampered
//! row. Once a day every auditor is emailed the chain heads (once, even when asked twice); the
//! saved email is a checkpoint that later exports must extend, which a consistently re-hashed
//! rewrite of history or a cut-off export does not.

use crate::support::{run, spawn_app, TestApp, PASSWORD};
use chrono::NaiveDate;
use diesel::prelude::*;
use refugio_core::audit::{event_hash, AuditEvent, PLATFORM_CHAIN};
use refugio_core::audit_export::export_line;
use refugio_db::backend_tests;
use refugio_db::schema::audit_events;
use refugio_db::test_support::Backend;
use reqwest::StatusCode;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

backend_tests!(
    an_untouched_export_verifies_and_each_tampering_is_located,
    daily_checkpoints_anchor_the_history,
);

const AUDITOR: &str = "auditor@example.org";
const AUDITORA: &str = "auditora@example.org";

/// What `activity` made.
struct World {
    admin: String,
    auditor: String,
    coord: String,
    sid: String,
    item: String,
}

/// An admin, two auditors (English and Spanish), a shelter with a coordinator, an item and
/// a few stock movements.
async fn activity(app: &TestApp) -> World {
    let admin = app.admin_token().await;
    app.create_user(AUDITOR, refugio_core::Role::Auditor);
    let auditor = app.login(AUDITOR, PASSWORD).await.str("access_token");
    let r = app
        .post(
            "/users",
            Some(&admin),
            json!({"email": AUDITORA, "password": PASSWORD, "name": "Auditora", "role": "auditor",
                   "locale": "es"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let sid = app.create_shelter(&admin, "Casa Cuentas Claras").await;
    let (_, coord) = app
        .staff(&admin, "coord@example.org", &sid, "coordinator")
        .await;
    let r = app
        .post(
            &format!("/shelters/{sid}/items"),
            Some(&coord),
            json!({"name": "Arroz", "category": "food", "unit": "kg", "criticality": "essential",
                   "basis": "consumable", "per_person": 0.4}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let w = World {
        admin,
        auditor,
        coord,
        sid,
        item: r.str("id"),
    };
    movements(app, &w, &[80.5, 12.0, 7.25]).await;
    w
}

/// Stock receipts of `quantities`.
async fn movements(app: &TestApp, w: &World, quantities: &[f64]) {
    for q in quantities {
        let r = app
            .post(
                &format!("/shelters/{}/stock/movements", w.sid),
                Some(&w.coord),
                json!({"item_id": w.item, "kind": "receipt", "quantity": q}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    }
}

/// `GET /audit/export{query}` as raw text, checked to be NDJSON.
async fn export(app: &TestApp, token: &str, query: &str) -> String {
    let (status, text) = export_reply(app, token, query).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    text
}

async fn export_reply(app: &TestApp, token: &str, query: &str) -> (StatusCode, String) {
    let r = app
        .http
        .get(format!("{}/api/v1/audit/export{query}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("request sent");
    let status = r.status();
    if status == StatusCode::OK {
        let kind = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert_eq!(kind, "application/x-ndjson");
    }
    (status, r.text().await.expect("body read"))
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

fn join(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn event(line: &str) -> AuditEvent {
    serde_json::from_str(line).expect("an audit event")
}

/// Writes `text` to `name` in the test's folder.
fn save(app: &TestApp, name: &str, text: &str) -> PathBuf {
    let path = app.db.dir().join(name);
    std::fs::write(&path, text).expect("write a test file");
    path
}

/// What a run of the real binary did.
#[derive(Debug)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn refugio(args: &[&str]) -> Outcome {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_refugio"))
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .output()
        .await
        .expect("run refugio");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `refugio audit verify --file FILE [--checkpoints C]...`.
async fn verify(file: &Path, checkpoints: &[&Path]) -> Outcome {
    let mut args = vec![
        "audit".to_owned(),
        "verify".to_owned(),
        "--file".to_owned(),
        file.display().to_string(),
    ];
    for c in checkpoints {
        args.push("--checkpoints".to_owned());
        args.push(c.display().to_string());
    }
    refugio(&args.iter().map(String::as_str).collect::<Vec<_>>()).await
}

fn assert_verifies(o: &Outcome) {
    assert_eq!(o.code, Some(0), "{o:#?}");
    assert!(o.stdout.contains("OK: "), "{o:#?}");
}

/// Exit 1, with `located` (`line N, chain C, seq S: kind`) in the message.
fn assert_rejected(o: &Outcome, located: &str) {
    assert_eq!(o.code, Some(1), "{o:#?}");
    assert!(o.stderr.contains(located), "wanted {located:?} in {o:#?}");
    assert!(!o.stdout.contains("OK: "), "{o:#?}");
}

/// The index of the first line that is a stock receipt of the shelter, not its chain's last.
fn receipt_line(lines: &[String], sid: &str) -> usize {
    let last_of_chain = lines.iter().rposition(|l| event(l).chain() == sid);
    lines
        .iter()
        .position(|l| {
            let e = event(l);
            e.chain() == sid && e.action == "stock.movement" && e.data["kind"] == "receipt"
        })
        .filter(|&i| Some(i) != last_of_chain)
        .expect("a receipt before the chain's last event")
}

fn an_untouched_export_verifies_and_each_tampering_is_located(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = activity(&app).await;
        let text = export(&app, &w.auditor, "").await;
        let all = lines(&text);

        // Every stored event once: the platform chain first, each chain by seq, exactly the
        // stored and hashed fields.
        let stored: i64 = {
            let mut conn = app.db.connect();
            audit_events::table
                .count()
                .get_result(&mut conn)
                .expect("count")
        };
        assert_eq!(all.len(), usize::try_from(stored).expect("a count"));
        let events: Vec<AuditEvent> = all.iter().map(|l| event(l)).collect();
        assert_eq!(events[0].chain(), PLATFORM_CHAIN);
        assert_eq!(events[0].seq, 1);
        for (line, e) in all.iter().zip(&events) {
            assert_eq!(format!("{line}\n"), export_line(e), "the stored form");
            assert_eq!(e.hash, e.expected_hash());
        }
        assert!(events.iter().any(|e| e.chain() == w.sid));
        assert_eq!(
            export(&app, &w.admin, "").await,
            text,
            "admins get the same"
        );

        // One chain, and who may read it.
        let shelter_only = export(&app, &w.auditor, &format!("?shelter_id={}", w.sid)).await;
        let expected: Vec<String> = all
            .iter()
            .filter(|l| event(l).chain() == w.sid)
            .cloned()
            .collect();
        assert_eq!(shelter_only, join(&expected));
        let platform_only = export(&app, &w.auditor, "?shelter_id=platform").await;
        assert!(platform_only
            .lines()
            .all(|l| event(l).chain() == PLATFORM_CHAIN));
        let unknown = "?shelter_id=0190f5e2-0000-7000-8000-000000000000";
        assert_eq!(
            export_reply(&app, &w.auditor, unknown).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            export_reply(&app, &w.coord, "").await.0,
            StatusCode::FORBIDDEN
        );

        // The operator's export, straight from the database, is the same file.
        let url = app.db.url_string();
        let out_file = app.db.dir().join("operator.ndjson");
        let o = refugio(&[
            "audit",
            "export",
            "--database-url",
            &url,
            "--out",
            &out_file.display().to_string(),
        ])
        .await;
        assert_eq!(o.code, Some(0), "{o:#?}");
        assert_eq!(
            std::fs::read_to_string(&out_file).expect("the export file"),
            text
        );
        let o = refugio(&[
            "audit",
            "export",
            "--database-url",
            &url,
            "--shelter-id",
            &w.sid,
        ])
        .await;
        assert_eq!(o.code, Some(0), "{o:#?}");
        assert_eq!(o.stdout, shelter_only);

        // Untouched, it verifies, chain by chain.
        let file = save(&app, "export.ndjson", &text);
        let o = verify(&file, &[]).await;
        assert_verifies(&o);
        assert!(o.stdout.contains("chain platform: "), "{}", o.stdout);
        assert!(
            o.stdout.contains(&format!("chain {}: ", w.sid)),
            "{}",
            o.stdout
        );
        assert!(
            o.stdout.contains(&format!("{} events verified", all.len())),
            "{}",
            o.stdout
        );

        // A changed amount.
        let i = receipt_line(&all, &w.sid);
        let victim = events[i].clone();
        let quantity = victim.data["quantity"].as_i64().expect("a quantity");
        let mut tampered = all.clone();
        // Edited in place, as someone with a text editor would.
        tampered[i] = all[i].replacen(
            &format!("\"quantity\":{quantity}"),
            &format!("\"quantity\":{}", quantity + 1000),
            1,
        );
        assert_ne!(tampered[i], all[i]);
        let o = verify(&save(&app, "amount.ndjson", &join(&tampered)), &[]).await;
        assert_rejected(
            &o,
            &format!(
                "line {}, chain {}, seq {}: bad hash",
                i + 1,
                w.sid,
                victim.seq
            ),
        );

        // A deleted line.
        let mut tampered = all.clone();
        tampered.remove(i);
        let o = verify(&save(&app, "deleted.ndjson", &join(&tampered)), &[]).await;
        assert_rejected(
            &o,
            &format!(
                "line {}, chain {}, seq {}: missing seq {}",
                i + 1,
                w.sid,
                victim.seq + 1,
                victim.seq
            ),
        );

        // Two lines swapped.
        let mut tampered = all.clone();
        tampered.swap(i, i + 1);
        let o = verify(&save(&app, "swapped.ndjson", &join(&tampered)), &[]).await;
        assert_rejected(
            &o,
            &format!(
                "line {}, chain {}, seq {}: out of order: seq {} should come before this line \
                 but is on line {}",
                i + 1,
                w.sid,
                victim.seq + 1,
                victim.seq,
                i + 2
            ),
        );

        // An edited hash.
        let mut tampered = all.clone();
        tampered[i] = all[i].replace(&victim.hash, &"0".repeat(64));
        let o = verify(&save(&app, "hash.ndjson", &join(&tampered)), &[]).await;
        assert_rejected(
            &o,
            &format!(
                "line {}, chain {}, seq {}: bad hash",
                i + 1,
                w.sid,
                victim.seq
            ),
        );

        // A row edited in the database: the server's verify and the offline check both find it.
        let mut data = victim.data.clone();
        data["quantity"] = json!(quantity * 10);
        {
            let mut conn = app.db.connect();
            let n = diesel::update(audit_events::table.find((w.sid.as_str(), victim.seq)))
                .set(audit_events::data.eq(refugio_core::canonical_json::to_string(&data)))
                .execute(&mut conn)
                .expect("edit an audit row");
            assert_eq!(n, 1);
        }
        let r = app
            .get(
                &format!("/audit/verify?shelter_id={}", w.sid),
                Some(&w.auditor),
            )
            .await;
        assert_eq!(r.body["first_bad_seq"], json!(victim.seq), "{r:?}");
        let edited = export(&app, &w.auditor, "").await;
        let o = verify(&save(&app, "edited-row.ndjson", &edited), &[]).await;
        assert_rejected(
            &o,
            &format!(
                "line {}, chain {}, seq {}: bad hash",
                i + 1,
                w.sid,
                victim.seq
            ),
        );
    });
}

/// The anchoring email of `day` to `to`, from the outbox.
fn checkpoint_email(app: &TestApp, to: &str, day: &str) -> Vec<refugio_db::outbox::OutboxRow> {
    let mut conn = app.db.connect();
    refugio_db::outbox::all(&mut conn)
        .expect("outbox")
        .into_iter()
        .filter(|m| {
            m.template == "audit_checkpoints" && m.to_email == to && m.subject.contains(day)
        })
        .collect()
}

fn anchor(app: &TestApp, day: NaiveDate) -> Option<refugio_api::services::audit_anchors::Anchored> {
    let mut conn = app.db.connect();
    refugio_api::services::audit_anchors::anchor(&mut conn, day).expect("anchor")
}

/// Waits for the worker to deliver outbox row `id` as `<data-dir>/outbox/<id>.eml`.
async fn delivered(app: &TestApp, id: &str) -> PathBuf {
    let path = app.db.dir().join("outbox").join(format!("{id}.eml"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never delivered",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    path
}

fn daily_checkpoints_anchor_the_history(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;

        // With no auditor yet there is nobody to send the heads to: the day stays unclaimed
        // until the first minute an auditor exists.
        let day = NaiveDate::from_ymd_opt(2026, 1, 15).expect("a date");
        assert_eq!(anchor(&app, day), None);
        {
            let mut conn = app.db.connect();
            let found = refugio_db::audit_anchors::find(&mut conn, day).expect("read anchors");
            assert!(found.is_none(), "{found:?}");
        }

        let w = activity(&app).await;
        let anchored = anchor(&app, day).expect("the day was free");
        assert_eq!(anchored.recipients, 2);
        let chains: Vec<&str> = anchored.heads.iter().map(|h| h.chain.as_str()).collect();
        assert_eq!(chains, vec![PLATFORM_CHAIN, w.sid.as_str()]);
        {
            let mut conn = app.db.connect();
            let record = refugio_db::audit_anchors::find(&mut conn, day)
                .expect("read anchors")
                .expect("recorded");
            assert_eq!(record.heads, anchored.heads);
            assert_eq!(record.recipients, 2);
        }
        // Each auditor in their language, with every head as a line of its own.
        let en = checkpoint_email(&app, AUDITOR, "2026-01-15");
        let es = checkpoint_email(&app, AUDITORA, "2026-01-15");
        assert_eq!((en.len(), es.len()), (1, 1));
        assert_eq!(en[0].subject, "Audit checkpoints for 2026-01-15");
        assert_eq!(
            es[0].subject,
            "Puntos de control de auditoría del 2026-01-15"
        );
        for head in &anchored.heads {
            assert!(
                en[0].body.contains(&format!("\n{head}\n")),
                "{}",
                en[0].body
            );
            assert!(
                es[0].body.contains(&format!("\n{head}\n")),
                "{}",
                es[0].body
            );
        }
        assert!(
            en[0].body.contains("refugio audit verify"),
            "{}",
            en[0].body
        );

        // Asked again the same day, nothing more is sent.
        assert_eq!(anchor(&app, day), None);
        assert_eq!(checkpoint_email(&app, AUDITOR, "2026-01-15").len(), 1);
        assert_eq!(checkpoint_email(&app, AUDITORA, "2026-01-15").len(), 1);

        // The saved email, as text or as the delivered .eml file, is a checkpoint file.
        let email = save(&app, "checkpoints-2026-01-15.txt", &en[0].body);
        let eml = delivered(&app, &en[0].id).await;
        let first = export(&app, &w.auditor, "").await;
        let first_file = save(&app, "first.ndjson", &first);
        let o = verify(&first_file, &[&email, &eml]).await;
        assert_verifies(&o);
        for head in &anchored.heads {
            assert!(
                o.stdout.contains(&format!("checkpoint {head} (")),
                "{}",
                o.stdout
            );
        }
        assert!(o.stdout.contains("confirmed at line"), "{}", o.stdout);
        assert!(
            o.stdout
                .contains("the export extends every checkpoint (4 checkpoints)"),
            "{}",
            o.stdout
        );

        // After more activity, a new export still extends the old checkpoints.
        movements(&app, &w, &[3.0, 4.5]).await;
        let r = app
            .post(
                "/users",
                Some(&w.admin),
                json!({"email": "donante@example.org", "password": PASSWORD, "name": "Donante",
                       "role": "donor"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let later = export(&app, &w.auditor, "").await;
        let later_file = save(&app, "later.ndjson", &later);
        assert_verifies(&verify(&later_file, &[&email]).await);

        // The next day's checkpoint: the later export extends both; the first export stops
        // before it (as an export cut short would).
        let next = NaiveDate::from_ymd_opt(2026, 1, 16).expect("a date");
        let next_heads = anchor(&app, next).expect("a new day").heads;
        let next_email = save(
            &app,
            "checkpoints-2026-01-16.txt",
            &checkpoint_email(&app, AUDITORA, "2026-01-16")[0].body,
        );
        assert_verifies(&verify(&later_file, &[&email, &next_email]).await);
        let platform_head = &next_heads[0];
        let o = verify(&first_file, &[&next_email]).await;
        assert_rejected(
            &o,
            &format!("checkpoint missing: {} line", next_email.display()),
        );
        assert!(
            o.stderr.contains(&format!("says \"{platform_head}\"")),
            "{o:#?}"
        );

        // History rewritten from the checkpoint's event on, every hash recomputed so the
        // chain is consistent: alone it verifies, against the checkpoint it does not.
        let old_head = anchored
            .heads
            .iter()
            .find(|h| h.chain == w.sid)
            .expect("the shelter's head")
            .clone();
        let mut forged = lines(&later);
        let mut prev: Option<String> = None;
        let mut at_checkpoint = None;
        for (n, line) in forged.iter_mut().enumerate() {
            let mut e = event(line);
            if e.chain() != w.sid || e.seq < old_head.seq {
                continue;
            }
            if e.seq == old_head.seq {
                e.data["rewritten"] = json!(true);
                at_checkpoint = Some(n + 1);
            }
            if let Some(p) = &prev {
                e.prev_hash.clone_from(p);
            }
            e.hash = event_hash(
                e.seq,
                &e.at,
                e.actor_id.as_deref(),
                e.shelter_id.as_deref(),
                &e.action,
                &e.entity,
                &e.entity_id,
                &e.data,
                &e.prev_hash,
            );
            prev = Some(e.hash.clone());
            *line = export_line(&e).trim_end().to_owned();
        }
        let forged_file = save(&app, "forged.ndjson", &join(&forged));
        assert_verifies(&verify(&forged_file, &[]).await);
        let o = verify(&forged_file, &[&email]).await;
        assert_rejected(
            &o,
            &format!(
                "line {}, chain {}, seq {}: checkpoint mismatch: {} line",
                at_checkpoint.expect("the checkpoint's event"),
                w.sid,
                old_head.seq,
                email.display()
            ),
        );
    });
}
