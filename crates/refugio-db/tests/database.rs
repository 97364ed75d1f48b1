//! The database layer on both backends: migrations, write transactions, the audit chain.

use diesel::prelude::*;
use refugio_core::audit::{verify_chain, PLATFORM_CHAIN};
use refugio_db::audit::{self, NewEvent};
use refugio_db::test_support::{Backend, TestDatabase};
use refugio_db::{backend_tests, migrations, write_transaction};
use serde_json::json;

backend_tests!(
    migrations_run_up_down_and_up_again,
    a_failed_write_transaction_leaves_nothing,
    concurrent_audit_appends_keep_each_chain_gap_free,
);

fn migration_names(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(format!(
        "{}/../../migrations/{dir}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("migrations folder")
    .map(|e| {
        e.expect("dir entry")
            .file_name()
            .to_string_lossy()
            .into_owned()
    })
    .collect();
    names.sort();
    names
}

#[test]
fn both_backends_have_the_same_migration_names() {
    let sqlite = migration_names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, migration_names("postgres"));
}

fn migrations_run_up_down_and_up_again(backend: Backend) {
    let db = TestDatabase::new(backend);
    let mut conn = db.connect();
    let reverted = migrations::revert_all(&mut conn).expect("down");
    assert_eq!(reverted.len(), migration_names("sqlite").len());
    let applied = migrations::run_pending(&mut conn).expect("up again");
    assert_eq!(applied.len(), reverted.len());
    assert!(migrations::run_pending(&mut conn)
        .expect("nothing pending")
        .is_empty());
}

fn a_failed_write_transaction_leaves_nothing(backend: Backend) {
    use refugio_db::schema::rate_events;
    let db = TestDatabase::new(backend);
    let mut conn = db.connect();
    let result: Result<(), diesel::result::Error> = write_transaction(&mut conn, |c| {
        refugio_db::throttle::record_event(c, "test", refugio_db::now())?;
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(result.is_err());
    let count: i64 = rate_events::table
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert_eq!(count, 0);
    write_transaction(&mut conn, |c| {
        refugio_db::throttle::record_event(c, "test", refugio_db::now())
    })
    .expect("commit");
    let count: i64 = rate_events::table
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert_eq!(count, 1);
}

fn concurrent_audit_appends_keep_each_chain_gap_free(backend: Backend) {
    let db = TestDatabase::new(backend);
    let mut conn = db.connect();
    write_transaction(&mut conn, |c| audit::create_chain(c, "shelter-a")).expect("chain");
    let url = db.url.clone();
    let threads: Vec<_> = (0..20)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut conn = url.connect().expect("connect");
                let shelter = if i % 2 == 0 { None } else { Some("shelter-a") };
                write_transaction(&mut conn, |c| {
                    audit::append(
                        c,
                        NewEvent {
                            actor_id: Some("actor"),
                            shelter_id: shelter,
                            action: "test.append",
                            entity: "test",
                            entity_id: &i.to_string(),
                            data: json!({"i": i}),
                        },
                    )
                })
                .expect("append")
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    for chain in [PLATFORM_CHAIN, "shelter-a"] {
        let events = audit::chain_page(&mut conn, chain, 0, 1000).expect("events");
        assert_eq!(events.len(), 10, "{chain}");
        assert_eq!(verify_chain(chain, &events), Ok(10), "{chain}");
    }
}
