//! Stock: movements over HTTP, no lost updates under concurrency, tenancy of every route.

use crate::support::{run, spawn_app, TestApp};
use futures_util::future::join_all;
use refugio_db::backend_tests;
use refugio_db::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    movements_change_stock_and_the_ledger_explains_it,
    concurrent_writers_lose_no_update,
    another_shelters_staff_get_404_on_every_stock_route,
    bad_quantities_are_refused_and_change_nothing,
);

/// A shelter with a coordinator and one rice item; returns (shelter, coordinator token, item).
async fn rice_shelter(app: &TestApp, admin: &str) -> (String, String, String) {
    let sid = app.create_shelter(admin, "Casa Arroz").await;
    let (_, coord) = app
        .staff(admin, "coord@example.org", &sid, "coordinator")
        .await;
    let r = app
        .post(
            &format!("/shelters/{sid}/items"),
            Some(&coord),
            json!({"name": "Arroz", "category": "food", "unit": "kg", "criticality": "essential",
                   "basis": "consumable", "per_person": 0.4, "unit_cost": {"amount": "25.00", "currency": "MXN"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    (sid, coord, r.str("id"))
}

fn as_f64(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn movements_change_stock_and_the_ledger_explains_it(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let (sid, coord, rice) = rice_shelter(&app, &admin).await;
        let path = format!("/shelters/{sid}/stock/movements");
        let mv = |kind: &str, q: Value| json!({"item_id": rice, "kind": kind, "quantity": q});

        let r = app
            .post(&path, Some(&coord), mv("receipt", json!(80.5)))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        assert_eq!(
            (as_f64(&r.body["delta"]), as_f64(&r.body["on_hand_after"])),
            (80.5, 80.5)
        );
        let r = app
            .post(&path, Some(&coord), mv("consumption", json!(30.25)))
            .await;
        assert_eq!(
            (as_f64(&r.body["quantity"]), as_f64(&r.body["delta"])),
            (30.25, -30.25)
        );
        let r = app
            .post(&path, Some(&coord), mv("waste", json!(0.25)))
            .await;
        assert_eq!(as_f64(&r.body["on_hand_after"]), 50.0);
        let r = app.post(&path, Some(&coord), json!({"item_id": rice, "kind": "adjustment", "quantity": -2, "note": "bolsa rota"})).await;
        assert_eq!(as_f64(&r.body["on_hand_after"]), 48.0);
        let r = app.post(&path, Some(&coord), mv("count", json!(45))).await;
        assert_eq!(
            (as_f64(&r.body["delta"]), as_f64(&r.body["on_hand_after"])),
            (-3.0, 45.0)
        );

        let over = app
            .post(&path, Some(&coord), mv("consumption", json!(45.001)))
            .await;
        assert_eq!(over.status, StatusCode::CONFLICT);
        assert_eq!(over.problem_code(), "insufficient_stock");

        let stock = app
            .get(&format!("/shelters/{sid}/stock"), Some(&coord))
            .await;
        let line = stock.body["items"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["item_id"] == rice.as_str()))
            .cloned()
            .expect("rice line");
        assert_eq!(line["tracked"], true);
        assert_eq!(as_f64(&line["on_hand"]), 45.0);
        // No occupancy yet: the norm gives no demand, so cover is unknown.
        assert_eq!(line["days_of_cover"], Value::Null);

        let ledger = app
            .get(&format!("{path}?item_id={rice}&limit=2"), Some(&coord))
            .await;
        assert_eq!(ledger.status, StatusCode::OK);
        let first_page = ledger.body["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(first_page.len(), 2);
        assert_eq!(first_page[0]["kind"], "count", "newest first");
        let cursor = ledger.str("next_cursor");
        let rest = app
            .get(
                &format!("{path}?item_id={rice}&cursor={cursor}"),
                Some(&coord),
            )
            .await;
        let all: Vec<Value> = first_page
            .into_iter()
            .chain(rest.body["items"].as_array().cloned().unwrap_or_default())
            .collect();
        assert_eq!(all.len(), 5, "the refused movement left no row");
        let sum: f64 = all.iter().map(|m| as_f64(&m["delta"])).sum();
        assert!((sum - 45.0).abs() < 1e-9);

        // Untracked default items stay untracked.
        let water = stock.body["items"]
            .as_array()
            .and_then(|i| i.iter().find(|l| l["name"] == "Agua"))
            .cloned()
            .expect("Agua");
        assert_eq!(water["tracked"], false);

        // The ledger is append-only: there is no route to change or delete a movement.
        let id = all[0]["id"].as_str().unwrap_or_default();
        for method in [Method::PUT, Method::PATCH, Method::DELETE] {
            let r = app
                .call(method, &format!("{path}/{id}"), Some(&coord), None)
                .await;
            assert!(
                r.status == StatusCode::NOT_FOUND || r.status == StatusCode::METHOD_NOT_ALLOWED,
                "{r:?}"
            );
        }
    });
}

fn concurrent_writers_lose_no_update(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let (sid, coord, rice) = rice_shelter(&app, &admin).await;
        let path = format!("/shelters/{sid}/stock/movements");
        let r = app
            .post(
                &path,
                Some(&coord),
                json!({"item_id": rice, "kind": "receipt", "quantity": 1000}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        // 8 clients × 100 movements: each client alternates receipts of 2 and consumptions of 1.
        let clients = (0..8).map(|_| {
            let (app, path, coord, rice) = (&app, path.clone(), coord.clone(), rice.clone());
            async move {
                let mut statuses = Vec::new();
                for i in 0..100 {
                    let (kind, q) = if i % 2 == 0 {
                        ("receipt", 2)
                    } else {
                        ("consumption", 1)
                    };
                    let r = app
                        .post(
                            &path,
                            Some(&coord),
                            json!({"item_id": rice, "kind": kind, "quantity": q}),
                        )
                        .await;
                    statuses.push(r.status);
                }
                statuses
            }
        });
        let statuses: Vec<StatusCode> = join_all(clients).await.into_iter().flatten().collect();
        assert_eq!(statuses.len(), 800);
        assert!(
            statuses.iter().all(|s| *s == StatusCode::CREATED),
            "{:?}",
            statuses
                .iter()
                .filter(|s| **s != StatusCode::CREATED)
                .collect::<Vec<_>>()
        );
        // 1000 + 8 × 50 × (2 − 1) = 1400.
        let mut conn = app.db.connect();
        let on_hand = refugio_db::items::find(&mut conn, &sid, &rice)
            .expect("query")
            .expect("item")
            .on_hand;
        assert_eq!(on_hand, 1_400_000);
        assert_eq!(
            refugio_db::stock::ledger_sum(&mut conn, &rice).expect("sum"),
            1_400_000
        );
        let verify = app.get("/audit/verify", Some(&admin)).await;
        assert_eq!(verify.body["ok"], true, "{verify:?}");
    });
}

fn another_shelters_staff_get_404_on_every_stock_route(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let (a, coord_a, rice) = rice_shelter(&app, &admin).await;
        let b = app.create_shelter(&admin, "Casa B").await;
        let (_, coord_b) = app
            .staff(&admin, "coord-b@example.org", &b, "coordinator")
            .await;
        let mv = json!({"item_id": rice, "kind": "receipt", "quantity": 1});
        let item = json!({"name": "X", "category": "food", "unit": "kg", "criticality": "vital", "basis": "consumable"});
        let routes: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, format!("/shelters/{a}/items"), None),
            (Method::POST, format!("/shelters/{a}/items"), Some(item)),
            (
                Method::PATCH,
                format!("/shelters/{a}/items/{rice}"),
                Some(json!({"unit": "kg"})),
            ),
            (
                Method::POST,
                format!("/shelters/{a}/stock/movements"),
                Some(mv.clone()),
            ),
            (Method::GET, format!("/shelters/{a}/stock"), None),
            (Method::GET, format!("/shelters/{a}/stock/movements"), None),
            (
                Method::PUT,
                format!("/shelters/{a}/occupancy"),
                Some(json!({"occupied_beds": 1})),
            ),
            (Method::GET, format!("/shelters/{a}/occupancy"), None),
            (Method::GET, format!("/shelters/{a}/bills"), None),
            (
                Method::POST,
                format!("/shelters/{a}/bills"),
                Some(json!({"payee": "CFE", "category": "electricity",
                "amount": {"amount": "100.00", "currency": "MXN"}, "due_on": "2026-12-01"})),
            ),
        ];
        for (method, path, body) in &routes {
            let r = app
                .call(method.clone(), path, Some(&coord_b), body.clone())
                .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}: {r:?}");
        }
        // B's coordinator cannot move A's item through B's own shelter either.
        let r = app
            .post(
                &format!("/shelters/{b}/stock/movements"),
                Some(&coord_b),
                mv,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        // The same routes work for A's own coordinator.
        for (method, path, body) in &routes {
            let r = app
                .call(method.clone(), path, Some(&coord_a), body.clone())
                .await;
            assert!(r.status.is_success(), "{method} {path}: {r:?}");
        }
    });
}

fn bad_quantities_are_refused_and_change_nothing(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let (sid, coord, rice) = rice_shelter(&app, &admin).await;
        let path = format!("/shelters/{sid}/stock/movements");
        let cases = [
            (
                json!({"item_id": rice, "kind": "receipt", "quantity": 1.0005}),
                "quantity",
            ),
            (
                json!({"item_id": rice, "kind": "receipt", "quantity": 0}),
                "quantity",
            ),
            (
                json!({"item_id": rice, "kind": "receipt", "quantity": -1}),
                "quantity",
            ),
            (
                json!({"item_id": rice, "kind": "adjustment", "quantity": 0, "note": "x"}),
                "quantity",
            ),
            (
                json!({"item_id": rice, "kind": "adjustment", "quantity": 1}),
                "note",
            ),
            (
                json!({"item_id": rice, "kind": "count", "quantity": -1}),
                "quantity",
            ),
            (
                json!({"item_id": rice, "kind": "gift", "quantity": 1}),
                "kind",
            ),
            (
                json!({"item_id": rice, "kind": "receipt", "quantity": 1, "occurred_at": "2999-01-01T00:00:00Z"}),
                "occurred_at",
            ),
            (
                json!({"item_id": rice, "kind": "receipt", "quantity": 1, "occurred_at": "yesterday"}),
                "occurred_at",
            ),
            (
                json!({"item_id": "nope", "kind": "receipt", "quantity": 1}),
                "item_id",
            ),
            (
                json!({"item_id": rice, "kind": "receipt", "quantity": "1"}),
                "quantity",
            ),
        ];
        for (body, field) in cases {
            let r = app.post(&path, Some(&coord), body.clone()).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {r:?}");
            let fields: Vec<&str> = r.body["errors"]
                .as_array()
                .map(|e| e.iter().filter_map(|x| x["field"].as_str()).collect())
                .unwrap_or_default();
            assert!(fields.contains(&field), "{body}: {fields:?}");
        }
        let cost = app
            .post(
                &format!("/shelters/{sid}/items"),
                Some(&coord),
                json!({"name": "Frijol negro", "category": "food", "unit": "kg", "criticality": "essential",
                       "basis": "consumable", "unit_cost": {"amount": "25.001", "currency": "MXN"}}),
            )
            .await;
        assert_eq!(cost.status, StatusCode::UNPROCESSABLE_ENTITY);
        let usd = app
            .post(
                &format!("/shelters/{sid}/items"),
                Some(&coord),
                json!({"name": "Frijol negro", "category": "food", "unit": "kg", "criticality": "essential",
                       "basis": "consumable", "unit_cost": {"amount": "2.00", "currency": "USD"}}),
            )
            .await;
        assert_eq!(usd.status, StatusCode::UNPROCESSABLE_ENTITY);
        let ledger = app.get(&path, Some(&coord)).await;
        assert_eq!(ledger.body["items"], json!([]));
        let dup = app
            .post(
                &format!("/shelters/{sid}/items"),
                Some(&coord),
                json!({"name": "Arroz", "category": "food", "unit": "kg", "criticality": "essential", "basis": "consumable"}),
            )
            .await;
        assert_eq!(dup.status, StatusCode::CONFLICT);
    });
}
