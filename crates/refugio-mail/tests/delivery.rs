//! Outbox delivery on both backends, against a real SMTP server over TCP and into files.

mod support;

use chrono::{TimeDelta, TimeZone, Utc};
use diesel::prelude::*;
use refugio_core::{Locale, MembershipRole};
use refugio_db::outbox::{self, OutboxRow};
use refugio_db::test_support::{Backend, TestDatabase};
use refugio_db::{backend_tests, write_transaction};
use refugio_mail::{MailConfig, Message, Transport, Worker};
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::time::Duration;
use support::mime;
use support::smtp_sink::{Behaviour, SmtpSink};

backend_tests!(
    smtp_delivery_reaches_a_real_server,
    a_deferring_server_gets_retries_with_backoff_until_the_message_fails,
    an_unreachable_server_is_retried_later,
    file_transport_writes_one_eml_per_message,
    two_workers_deliver_each_message_exactly_once,
    run_delivers_until_shutdown,
    shutdown_finishes_the_message_in_hand_and_hands_back_the_rest,
);

const TOKEN: &str = "s3Yk1Xq0v8m2QeH7c9TzWb4LpNa6RfJd-_ugEoKiYhM";

fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(f)
}

fn password_reset() -> Message {
    Message::PasswordReset {
        token: TOKEN.into(),
        expires_in_minutes: 60,
    }
}

fn invitation() -> Message {
    Message::Invitation {
        shelter_name: "Albergue San José".into(),
        role: MembershipRole::Manager,
        token: TOKEN.into(),
        expires_at: Utc
            .with_ymd_and_hms(2026, 12, 5, 14, 30, 0)
            .single()
            .expect("a valid date"),
    }
}

fn enqueue(db: &TestDatabase, to: &str, locale: Locale, message: &Message) -> String {
    write_transaction(&mut db.connect(), |c| {
        refugio_mail::enqueue(c, to, locale, message)
    })
    .expect("enqueue")
}

fn row(db: &TestDatabase, id: &str) -> OutboxRow {
    outbox::all(&mut db.connect())
        .expect("outbox rows")
        .into_iter()
        .find(|r| r.id == id)
        .expect("the outbox row")
}

/// Makes a message due now, as if its backoff had elapsed.
fn make_due(db: &TestDatabase, id: &str) {
    use refugio_db::schema::outbox;
    diesel::update(outbox::table.find(id))
        .set(outbox::next_attempt_at.eq(refugio_db::now() - TimeDelta::seconds(1)))
        .execute(&mut db.connect())
        .expect("reschedule");
}

fn worker(db: &TestDatabase, transport: Transport) -> Worker {
    let pool = refugio_db::pool(&db.url, 2).expect("a pool");
    Worker::new(pool, MailConfig::new(transport)).expect("a worker")
}

fn smtp(sink: &SmtpSink) -> Transport {
    Transport::Smtp { url: sink.url() }
}

fn smtp_delivery_reaches_a_real_server(backend: Backend) {
    let db = TestDatabase::new(backend);
    block_on(async {
        let sink = SmtpSink::start(Behaviour::Accept).await;
        let reset = enqueue(&db, "ana@example.org", Locale::Es, &password_reset());
        let invite = enqueue(&db, "new@example.org", Locale::En, &invitation());
        let worker = worker(&db, smtp(&sink));

        assert_eq!(worker.deliver_due().await.expect("deliver"), 2);

        let received = sink.received();
        assert_eq!(received.len(), 2);
        let by_recipient: HashMap<&str, mime::Email> = received
            .iter()
            .map(|r| {
                assert_eq!(r.mail_from, "no-reply@refugio.local");
                assert_eq!(r.rcpt_to.len(), 1);
                (r.rcpt_to[0].as_str(), mime::parse(&r.data))
            })
            .collect();

        let mail = &by_recipient["ana@example.org"];
        assert_eq!(
            mail.header("Subject").as_deref(),
            Some("Restablece tu contraseña de Refugio")
        );
        assert_eq!(
            mail.header("Message-ID"),
            Some(format!("<{reset}@refugio.local>"))
        );
        assert_eq!(
            mail.header("From").as_deref(),
            Some("Refugio <no-reply@refugio.local>")
        );
        assert!(
            mail.body.contains(&format!("    {TOKEN}\n")),
            "{}",
            mail.body
        );
        assert!(mail
            .body
            .contains("POST /api/v1/auth/password-reset/confirm"));
        assert!(mail.body.contains("contraseña nueva"));

        let mail = &by_recipient["new@example.org"];
        assert_eq!(
            mail.header("Subject").as_deref(),
            Some(
                "Invitación al refugio «Albergue San José» en Refugio / \
                 Invitation to the shelter \"Albergue San José\" on Refugio"
            )
        );
        assert_eq!(
            mail.header("Message-ID"),
            Some(format!("<{invite}@refugio.local>"))
        );
        assert!(mail.body.contains("con el rol de responsable"));
        assert!(mail.body.contains("as manager"));
        assert_eq!(mail.body.matches(TOKEN).count(), 6, "{}", mail.body);

        for id in [&reset, &invite] {
            let r = row(&db, id);
            assert_eq!(r.status, "sent");
            assert_eq!(r.attempts, 1);
            assert!(r.sent_at.is_some());
            assert_eq!(r.last_error, None);
        }
        assert_eq!(worker.deliver_due().await.expect("deliver again"), 0);
        assert_eq!(sink.received().len(), 2, "nothing is sent twice");
    });
}

fn a_deferring_server_gets_retries_with_backoff_until_the_message_fails(backend: Backend) {
    let db = TestDatabase::new(backend);
    block_on(async {
        let sink = SmtpSink::start(Behaviour::Defer).await;
        let id = enqueue(&db, "ana@example.org", Locale::En, &password_reset());
        let worker = worker(&db, smtp(&sink));

        for attempt in 1..=8_i64 {
            if attempt > 1 {
                make_due(&db, &id);
            }
            let before = refugio_db::now();
            assert_eq!(worker.deliver_due().await.expect("deliver"), 0);
            let after = refugio_db::now();

            let r = row(&db, &id);
            assert_eq!(r.attempts, attempt);
            let error = r.last_error.expect("the error is kept");
            assert!(error.contains("451"), "{error}");
            assert_eq!(r.sent_at, None);
            if attempt < 8 {
                assert_eq!(r.status, "pending", "attempt {attempt}");
                let backoff = TimeDelta::seconds(30 << (attempt - 1));
                assert!(
                    before + backoff <= r.next_attempt_at && r.next_attempt_at <= after + backoff,
                    "attempt {attempt}: next at {} for a backoff of {backoff}",
                    r.next_attempt_at
                );
            } else {
                assert_eq!(r.status, "failed", "given up after 8 attempts");
            }
        }

        make_due(&db, &id);
        assert_eq!(worker.deliver_due().await.expect("deliver"), 0);
        let r = row(&db, &id);
        assert_eq!((r.status.as_str(), r.attempts), ("failed", 8));
        assert!(sink.received().is_empty());
    });
}

fn an_unreachable_server_is_retried_later(backend: Backend) {
    let db = TestDatabase::new(backend);
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    block_on(async {
        let id = enqueue(&db, "ana@example.org", Locale::Es, &password_reset());
        let worker = worker(
            &db,
            Transport::Smtp {
                url: format!("smtp://127.0.0.1:{closed_port}"),
            },
        );
        assert_eq!(worker.deliver_due().await.expect("deliver"), 0);
        let r = row(&db, &id);
        assert_eq!((r.status.as_str(), r.attempts), ("pending", 1));
        assert!(r.next_attempt_at > refugio_db::now() + TimeDelta::seconds(25));
        assert!(r.last_error.is_some_and(|e| !e.is_empty()));
        assert_eq!(r.claimed_until, None);
    });
}

fn file_transport_writes_one_eml_per_message(backend: Backend) {
    let db = TestDatabase::new(backend);
    let dir = db.dir().join("mail");
    block_on(async {
        let ids: BTreeSet<String> = [
            enqueue(&db, "ana@example.org", Locale::Es, &password_reset()),
            enqueue(&db, "bob@example.org", Locale::En, &password_reset()),
            enqueue(&db, "new@example.org", Locale::Es, &invitation()),
        ]
        .into();
        let worker = worker(&db, Transport::Files { dir: dir.clone() });

        assert_eq!(worker.deliver_due().await.expect("deliver"), 3);
        assert_eq!(worker.deliver_due().await.expect("deliver again"), 0);

        let files: BTreeSet<String> = std::fs::read_dir(&dir)
            .expect("the mail folder")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        let expected: BTreeSet<String> = ids.iter().map(|id| format!("{id}.eml")).collect();
        assert_eq!(
            files, expected,
            "exactly one file per message, nothing else"
        );

        for id in &ids {
            let raw = std::fs::read_to_string(dir.join(format!("{id}.eml"))).expect("read");
            let mail = mime::parse(&raw);
            let r = row(&db, id);
            assert_eq!(r.status, "sent");
            assert_eq!(mail.header("To"), Some(r.to_email.clone()));
            assert_eq!(mail.header("Subject"), Some(r.subject.clone()));
            assert_eq!(
                mail.header("Message-ID"),
                Some(format!("<{id}@refugio.local>"))
            );
            assert_eq!(mail.body.trim_end(), r.body.trim_end());
            assert!(mail.body.contains(TOKEN));
        }
    });
}

fn two_workers_deliver_each_message_exactly_once(backend: Backend) {
    let db = TestDatabase::new(backend);
    block_on(async {
        let sink = SmtpSink::start(Behaviour::Accept).await;
        let ids: BTreeSet<String> = write_transaction(&mut db.connect(), |c| {
            (0..50)
                .map(|i| {
                    refugio_mail::enqueue(
                        c,
                        &format!("user{i}@example.org"),
                        Locale::En,
                        &password_reset(),
                    )
                })
                .collect::<diesel::QueryResult<BTreeSet<String>>>()
        })
        .expect("enqueue 50");

        let drain = |worker: Worker| async move {
            let mut sent = 0;
            loop {
                match worker.deliver_due().await.expect("deliver") {
                    0 => return sent,
                    n => sent += n,
                }
            }
        };
        let first = tokio::spawn(drain(worker(&db, smtp(&sink))));
        let second = tokio::spawn(drain(worker(&db, smtp(&sink))));
        let (first, second) = (
            first.await.expect("first worker"),
            second.await.expect("second worker"),
        );
        assert_eq!(first + second, 50, "{first} + {second}");

        let mut deliveries: HashMap<String, usize> = HashMap::new();
        for received in sink.received() {
            let message_id = mime::parse(&received.data)
                .header("Message-ID")
                .expect("a Message-ID");
            *deliveries.entry(message_id).or_default() += 1;
        }
        let expected: HashMap<String, usize> = ids
            .iter()
            .map(|id| (format!("<{id}@refugio.local>"), 1))
            .collect();
        assert_eq!(deliveries, expected, "each message delivered exactly once");

        let rows = outbox::all(&mut db.connect()).expect("rows");
        assert_eq!(rows.len(), 50);
        assert!(rows.iter().all(|r| r.status == "sent" && r.attempts == 1));
    });
}

fn run_delivers_until_shutdown(backend: Backend) {
    let db = TestDatabase::new(backend);
    block_on(async {
        let sink = SmtpSink::start(Behaviour::Accept).await;
        let config = MailConfig {
            poll_interval: Duration::from_millis(20),
            ..MailConfig::new(smtp(&sink))
        };
        let pool = refugio_db::pool(&db.url, 2).expect("a pool");
        let worker = Worker::new(pool, config).expect("a worker");
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let running = tokio::spawn(worker.run(shutdown));

        let id = enqueue(&db, "ana@example.org", Locale::Es, &password_reset());
        tokio::time::timeout(Duration::from_secs(10), async {
            while sink.received().is_empty() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the running worker delivers a new message");

        stop.send(true).expect("the worker listens");
        tokio::time::timeout(Duration::from_secs(10), running)
            .await
            .expect("the worker stops on shutdown")
            .expect("the worker does not panic");
        assert_eq!(row(&db, &id).status, "sent");
        assert_eq!(sink.received().len(), 1);
    });
}

fn shutdown_finishes_the_message_in_hand_and_hands_back_the_rest(backend: Backend) {
    let db = TestDatabase::new(backend);
    block_on(async {
        let sink = SmtpSink::start(Behaviour::Slow(Duration::from_millis(500))).await;
        for i in 0..3 {
            enqueue(
                &db,
                &format!("user{i}@example.org"),
                Locale::Es,
                &password_reset(),
            );
        }
        let worker = worker(&db, smtp(&sink));
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let running = tokio::spawn(worker.run(shutdown));

        tokio::time::timeout(Duration::from_secs(10), async {
            while sink.data_started() == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the worker starts sending");
        stop.send(true).expect("the worker listens");
        tokio::time::timeout(Duration::from_secs(10), running)
            .await
            .expect("the worker stops on shutdown")
            .expect("the worker does not panic");

        assert_eq!(sink.received().len(), 1, "only the message in hand is sent");
        let rows = outbox::all(&mut db.connect()).expect("rows");
        let sent: Vec<&OutboxRow> = rows.iter().filter(|r| r.status == "sent").collect();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].to_email, sink.received()[0].rcpt_to[0]);
        for r in rows.iter().filter(|r| r.status != "sent") {
            assert_eq!(r.status, "pending");
            assert_eq!(r.attempts, 0, "a handed-back message was not attempted");
            assert_eq!((&r.claimed_by, &r.claimed_until), (&None, &None));
            assert!(r.next_attempt_at <= refugio_db::now(), "due again at once");
        }
    });
}
