//! `refugio demo` (the real binary): it loads into an empty database, refuses one that has
//! shelters or its accounts without writing anything, and leaves every screen something to show.

use crate::support::{assert_chains_verify, create_user_in, run, serve_args, spawn_with};
use chrono::TimeZone;
use refugio_db::backend_tests;
use refugio_db::test_support::{Backend, TestDatabase};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::{Command, Output};

const PASSWORD: &str = "refugio-demo-2026";

backend_tests!(
    the_demo_loads_once_and_every_screen_has_something,
    the_demo_refuses_a_database_that_has_its_accounts
);

fn demo(db: &TestDatabase) -> Output {
    Command::new(env!("CARGO_BIN_EXE_refugio"))
        .arg("demo")
        .args(["--database-url", &db.url_string()])
        .arg("--data-dir")
        .arg(db.dir())
        .env_remove("DATABASE_URL")
        .env_remove("REFUGIO_DATA_DIR")
        .env_remove("REFUGIO_SMTP_URL")
        .output()
        .expect("run refugio demo")
}

/// What a refused run must leave as it was: every audit chain's head (seq, hash) and the outbox.
#[derive(Debug, PartialEq)]
struct Footprint {
    heads: Vec<(String, Option<(i64, String)>)>,
    outbox: usize,
}

fn footprint(db: &TestDatabase) -> Footprint {
    let mut conn = db.connect();
    let heads = refugio_db::audit::chains(&mut conn)
        .expect("chains")
        .into_iter()
        .map(|chain| {
            let head = refugio_db::audit::head(&mut conn, &chain).expect("head");
            (chain, head)
        })
        .collect();
    let outbox = refugio_db::outbox::all(&mut conn).expect("outbox").len();
    Footprint { heads, outbox }
}

fn amount(v: &Value) -> f64 {
    v["amount"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .expect("a money amount")
}

fn the_demo_loads_once_and_every_screen_has_something(backend: Backend) {
    run(async move {
        let db = TestDatabase::new(backend);
        let first = demo(&db);
        let stdout = String::from_utf8_lossy(&first.stdout);
        assert!(
            first.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&first.stderr)
        );
        for login in [
            "fondo@example.org",
            "auditoria@example.org",
            "rosa.tlatelolco@example.org",
            "hna.teresa@example.org",
            "pedro.sancristobal@example.org",
            "sarah.whitfield@example.org",
            "lucia.hernandez@example.org",
            PASSWORD,
            "refugio serve --data-dir",
        ] {
            assert!(stdout.contains(login), "{login} not in:\n{stdout}");
        }
        assert!(
            std::fs::read_dir(db.dir().join("outbox"))
                .expect("the emails are .eml files")
                .next()
                .is_some(),
            "no email written"
        );

        let before = footprint(&db);
        let second = demo(&db);
        assert_eq!(second.status.code(), Some(1), "{second:?}");
        let stderr = String::from_utf8_lossy(&second.stderr);
        assert!(stderr.contains("already has shelters"), "{stderr}");
        assert_eq!(footprint(&db), before, "a refused demo wrote something");

        let args = serve_args(&db);
        let app = spawn_with(db, &args);
        let shelters = app.get("/shelters", None).await;
        assert_eq!(shelters.body["items"].as_array().map(Vec::len), Some(3));

        let login = app.login("fondo@example.org", PASSWORD).await;
        assert_eq!(login.status, StatusCode::OK, "{login:?}");
        let admin = login.str("access_token");
        let me = app.get("/me", Some(&admin)).await;
        assert_eq!(me.str("role"), "admin");
        assert_chains_verify(&app, &admin).await;

        let auditor = app
            .login("auditoria@example.org", PASSWORD)
            .await
            .str("access_token");
        let today = chrono_tz::America::Mexico_City
            .from_utc_datetime(&chrono::Utc::now().naive_utc())
            .date_naive();
        let from = today - chrono::Duration::days(60);
        let report = app
            .get(
                &format!("/reports/spending?from={from}&to={today}"),
                Some(&auditor),
            )
            .await;
        assert_eq!(report.status, StatusCode::OK, "{report:?}");
        let shelters = report.body["shelters"].as_array().expect("shelters");
        assert_eq!(shelters.len(), 3);
        for s in shelters {
            let totals = &s["totals"];
            assert!(amount(&totals["allocated"]) > 0.0, "{s}");
            assert!(amount(&totals["spent_from_donations"]) > 0.0, "{s}");
            assert!(amount(&totals["spent_own_funds"]) > 0.0, "{s}");
        }
        let currencies: BTreeSet<&str> = report.body["donations"]
            .as_array()
            .expect("donations")
            .iter()
            .filter_map(|d| d["currency"].as_str())
            .collect();
        assert_eq!(currencies, BTreeSet::from(["MXN", "USD"]));

        let board = app.get("/needs?limit=500", None).await;
        let needs = board.body["items"].as_array().expect("needs");
        let bands: BTreeSet<&str> = needs
            .iter()
            .filter_map(|n| n["priority"]["band"].as_str())
            .collect();
        assert!(bands.len() >= 3, "bands on the board: {bands:?}");
        let kinds: BTreeSet<&str> = needs.iter().filter_map(|n| n["kind"].as_str()).collect();
        assert_eq!(kinds, BTreeSet::from(["bill", "item", "manual"]));

        let sarah = app
            .login("sarah.whitfield@example.org", PASSWORD)
            .await
            .str("access_token");
        let gifts = app.get("/me/donations", Some(&sarah)).await;
        let gifts = gifts.body["items"].as_array().expect("donations");
        assert!(gifts.iter().any(
            |d| d["status"] == "received" && !d["spent"].as_array().expect("spent").is_empty()
        ));
        assert!(gifts.iter().any(|d| d["status"] == "pledged"));
    });
}

fn the_demo_refuses_a_database_that_has_its_accounts(backend: Backend) {
    let db = TestDatabase::new(backend);
    create_user_in(&db, "fondo@example.org", refugio_core::Role::Admin);
    let before = footprint(&db);
    let refused = demo(&db);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("fondo@example.org"), "{stderr}");
    assert_eq!(footprint(&db), before, "a refused demo wrote something");
}
