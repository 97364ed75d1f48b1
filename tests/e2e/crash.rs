//! Crash safety: the real binary is killed with SIGKILL while movements stream in, then
//! restarted on the same database. Every movement that was answered `201` is there, nothing is
//! half-written, and on hand still equals the ledger.

use crate::process::Server;
use crate::support::{create_user_in, run, shelter_body, PASSWORD};
use diesel::prelude::*;
use refugio_db::backend_tests;
use refugio_db::schema::{audit_events, stock_movements};
use refugio_db::test_support::{Backend, TestDatabase};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

backend_tests!(acknowledged_movements_survive_sigkill);

async fn post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: &str,
    body: Value,
) -> Result<(StatusCode, Value), reqwest::Error> {
    let res = http
        .post(format!("{base}/api/v1{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = res.status();
    Ok((status, res.json().await.unwrap_or(Value::Null)))
}

fn acknowledged_movements_survive_sigkill(backend: Backend) {
    run(async {
        let db = TestDatabase::new(backend);
        create_user_in(&db, "admin@example.org", refugio_core::Role::Admin);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let mut server = Server::start(&db.url_string());
        server.wait_healthy(&http).await;
        let base = server.base.clone();

        let login = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": "admin@example.org", "password": PASSWORD}))
            .send()
            .await
            .expect("login");
        let token = login.json::<Value>().await.expect("tokens")["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let (_, shelter) = post(
            &http,
            &base,
            "/shelters",
            &token,
            shelter_body("Casa Crash"),
        )
        .await
        .expect("shelter");
        let sid = shelter["id"].as_str().unwrap_or_default().to_owned();
        let item = json!({"name": "Arroz", "category": "food", "unit": "kg", "criticality": "essential", "basis": "consumable"});
        let (_, item) = post(
            &http,
            &base,
            &format!("/shelters/{sid}/items"),
            &token,
            item,
        )
        .await
        .expect("item");
        let iid = item["id"].as_str().unwrap_or_default().to_owned();
        let path = format!("/shelters/{sid}/stock/movements");
        let (status, _) = post(
            &http,
            &base,
            &path,
            &token,
            json!({"item_id": iid, "kind": "receipt", "quantity": 100_000}),
        )
        .await
        .expect("receipt");
        assert_eq!(status, StatusCode::CREATED);

        // Four writers stream movements until the server dies under them.
        let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (http, base, path, token, iid, acked) = (
                    http.clone(),
                    base.clone(),
                    path.clone(),
                    token.clone(),
                    iid.clone(),
                    acknowledged.clone(),
                );
                tokio::spawn(async move {
                    for i in 0.. {
                        let kind = if (i + w) % 3 == 0 {
                            "receipt"
                        } else {
                            "consumption"
                        };
                        match post(
                            &http,
                            &base,
                            &path,
                            &token,
                            json!({"item_id": iid, "kind": kind, "quantity": 1.5}),
                        )
                        .await
                        {
                            Ok((StatusCode::CREATED, body)) => {
                                acked
                                    .lock()
                                    .expect("lock")
                                    .push(body["id"].as_str().unwrap_or_default().to_owned());
                            }
                            Ok((status, body)) => panic!("unexpected {status}: {body}"),
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        server.kill();
        for w in writers {
            w.await.expect("writer");
        }
        let acknowledged: Vec<String> = acknowledged.lock().expect("lock").clone();
        assert!(
            acknowledged.len() > 20,
            "too few movements before the kill: {}",
            acknowledged.len()
        );

        let mut server = Server::start(&db.url_string());
        server.wait_healthy(&http).await;
        let mut conn = db.connect();
        let stored: HashSet<String> = stock_movements::table
            .select(stock_movements::id)
            .load::<String>(&mut conn)
            .expect("ids")
            .into_iter()
            .collect();
        let missing: Vec<&String> = acknowledged
            .iter()
            .filter(|id| !stored.contains(*id))
            .collect();
        assert!(
            missing.is_empty(),
            "acknowledged movements lost: {missing:?}"
        );
        // Nothing half-written: each movement has its audit event and vice versa, and on hand is the ledger.
        let audited: HashSet<String> = audit_events::table
            .filter(audit_events::action.eq("stock.movement"))
            .select(audit_events::entity_id)
            .load::<String>(&mut conn)
            .expect("events")
            .into_iter()
            .collect();
        assert_eq!(audited, stored);
        let on_hand = refugio_db::items::find(&mut conn, &sid, &iid)
            .expect("query")
            .expect("item")
            .on_hand;
        assert_eq!(
            on_hand,
            refugio_db::stock::ledger_sum(&mut conn, &iid).expect("sum")
        );

        let login = http
            .post(format!("{}/api/v1/auth/login", server.base))
            .json(&json!({"email": "admin@example.org", "password": PASSWORD}))
            .send()
            .await
            .expect("login again");
        let token = login.json::<Value>().await.expect("tokens")["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let verify: Value = http
            .get(format!("{}/api/v1/audit/verify", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("verify")
            .json()
            .await
            .expect("report");
        assert_eq!(verify["ok"], true, "{verify}");
        server.stop(Duration::from_secs(10));
    });
}
