//! Bills: recording in the shelter's currency, listing by due date with status filters and
//! pagination, editing while nothing is paid, voiding by managers, idempotent creation, tenancy,
//! and one audit event per change.

use crate::errors::assert_problem;
use crate::support::{
    assert_chains_verify, audit_events, run, spawn_app, two_shelters, Reply, TestApp, PASSWORD,
};
use refugio_db::backend_tests;
use refugio_db::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    bills_are_created_listed_by_due_date_and_filtered,
    invalid_bills_are_refused_and_nothing_is_created,
    bills_are_edited_while_unpaid_and_voided_by_managers,
    paid_bills_can_be_neither_edited_nor_voided,
    bill_creation_and_voiding_are_idempotent,
    bills_of_another_shelter_are_not_found,
);

fn bill(payee: &str, amount: &str, due_on: &str) -> Value {
    json!({"payee": payee, "category": "electricity",
           "amount": {"amount": amount, "currency": "MXN"}, "due_on": due_on})
}

async fn create(app: &TestApp, sid: &str, token: &str, body: Value) -> Reply {
    app.post(&format!("/shelters/{sid}/bills"), Some(token), body)
        .await
}

async fn created(app: &TestApp, sid: &str, token: &str, body: Value) -> Value {
    let r = create(app, sid, token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    r.body
}

async fn patch(app: &TestApp, sid: &str, bid: &str, token: &str, body: Value) -> Reply {
    app.call(
        Method::PATCH,
        &format!("/shelters/{sid}/bills/{bid}"),
        Some(token),
        Some(body),
    )
    .await
}

/// Voids with no body and no content type.
async fn void(app: &TestApp, sid: &str, bid: &str, token: &str) -> Reply {
    app.call(
        Method::POST,
        &format!("/shelters/{sid}/bills/{bid}/void"),
        Some(token),
        None,
    )
    .await
}

async fn list(app: &TestApp, sid: &str, token: &str, query: &str) -> Reply {
    app.get(&format!("/shelters/{sid}/bills{query}"), Some(token))
        .await
}

fn ids(page: &Reply) -> Vec<String> {
    page.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {page:?}"))
        .iter()
        .map(|b| b["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn bills_are_created_listed_by_due_date_and_filtered(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;

        let rent = created(
            &app,
            &w.a,
            &w.coordinator_a,
            json!({"payee": "  Inmobiliaria Sol  ", "category": "rent",
                   "amount": {"amount": "12500.5", "currency": "MXN"}, "due_on": "2026-12-01",
                   "description": "Renta de diciembre\nlocal 2"}),
        )
        .await;
        assert_eq!(rent["shelter_id"], json!(w.a));
        assert_eq!(rent["payee"], "Inmobiliaria Sol");
        assert_eq!(rent["category"], "rent");
        assert_eq!(
            rent["amount"],
            json!({"amount": "12500.50", "currency": "MXN"})
        );
        assert_eq!(rent["paid"], json!({"amount": "0.00", "currency": "MXN"}));
        assert_eq!(rent["due_on"], "2026-12-01");
        assert_eq!(rent["description"], "Renta de diciembre\nlocal 2");
        assert_eq!(rent["status"], "unpaid");
        assert!(
            rent["created_at"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z')),
            "{rent}"
        );
        assert!(refugio_core::ids::is_well_formed(
            rent["id"].as_str().unwrap_or_default()
        ));

        let power = created(&app, &w.a, &w.manager_a, bill("CFE", "830", "2026-11-20")).await;
        assert_eq!(power["description"], Value::Null);
        let water = created(&app, &w.a, &w.admin, bill("Agua", "99.99", "2026-12-01")).await;
        let phone = created(
            &app,
            &w.a,
            &w.coordinator_a,
            bill("Telcel", "450", "2025-01-15"),
        )
        .await;
        // The other shelter's bills never show up here.
        created(&app, &w.b, &w.manager_b, bill("CFE B", "10", "2026-01-01")).await;

        // By due date, then id (the two bills due on Dec 1st in creation order: UUIDv7).
        let all = list(&app, &w.a, &w.coordinator_a, "").await;
        assert_eq!(all.status, StatusCode::OK, "{all:?}");
        let by_due: Vec<String> = [&phone, &power, &rent, &water]
            .iter()
            .map(|b| b["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(ids(&all), by_due);
        assert_eq!(all.body["next_cursor"], Value::Null);
        assert_eq!(all.body["items"][2], rent);

        // Pages of 3 then 1.
        let first = list(&app, &w.a, &w.coordinator_a, "?limit=3").await;
        assert_eq!(ids(&first), by_due[..3]);
        let cursor = first.body["next_cursor"]
            .as_str()
            .expect("a next page")
            .to_owned();
        let second = list(
            &app,
            &w.a,
            &w.coordinator_a,
            &format!("?limit=3&cursor={cursor}"),
        )
        .await;
        assert_eq!(ids(&second), by_due[3..]);
        assert_eq!(second.body["next_cursor"], Value::Null);
        let bad = list(&app, &w.a, &w.coordinator_a, "?cursor=bm90LWEtY3Vyc29y").await;
        assert_problem(&bad, StatusCode::BAD_REQUEST, "bad_query");
        let bad = list(&app, &w.a, &w.coordinator_a, "?limit=0").await;
        assert_problem(&bad, StatusCode::BAD_REQUEST, "bad_query");

        // Status filters.
        let power_id = power["id"].as_str().unwrap_or_default();
        assert_eq!(
            void(&app, &w.a, power_id, &w.manager_a).await.status,
            StatusCode::OK
        );
        let voided = list(&app, &w.a, &w.coordinator_a, "?status=void").await;
        assert_eq!(ids(&voided), [power_id]);
        assert_eq!(voided.body["items"][0]["status"], "void");
        let unpaid = list(&app, &w.a, &w.coordinator_a, "?status=unpaid").await;
        assert_eq!(
            ids(&unpaid),
            [by_due[0].clone(), by_due[2].clone(), by_due[3].clone()]
        );
        let both = list(&app, &w.a, &w.coordinator_a, "?status=unpaid,void").await;
        assert_eq!(ids(&both), by_due);
        let none = list(&app, &w.a, &w.coordinator_a, "?status=paid,partially_paid").await;
        assert_eq!(ids(&none), Vec::<String>::new());
        let paged = list(&app, &w.a, &w.coordinator_a, "?status=unpaid&limit=2").await;
        assert_eq!(ids(&paged), [by_due[0].clone(), by_due[2].clone()]);
        let cursor = paged.body["next_cursor"]
            .as_str()
            .expect("a next page")
            .to_owned();
        let rest = list(
            &app,
            &w.a,
            &w.coordinator_a,
            &format!("?status=unpaid&limit=2&cursor={cursor}"),
        )
        .await;
        assert_eq!(ids(&rest), [by_due[3].clone()]);
        for query in ["?status=owed", "?status=unpaid,", "?status=UNPAID"] {
            let r = list(&app, &w.a, &w.coordinator_a, query).await;
            assert_problem(&r, StatusCode::BAD_REQUEST, "bad_query");
        }

        // Auditors read the list too.
        app.create_user("auditor@example.org", refugio_core::Role::Auditor);
        let auditor = app
            .login("auditor@example.org", PASSWORD)
            .await
            .str("access_token");
        assert_eq!(ids(&list(&app, &w.a, &auditor, "").await), by_due);

        // One event per change: four creations and a void, with no payee or description.
        let events = audit_events(&app, &w.admin, &w.a, "bill").await;
        let actions: Vec<_> = events
            .iter()
            .map(|e| e["action"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(
            actions,
            [
                "bill.created",
                "bill.created",
                "bill.created",
                "bill.created",
                "bill.voided"
            ]
        );
        assert_eq!(events[0]["entity_id"], rent["id"]);
        assert_eq!(
            events[0]["data"]["amount"],
            json!({"amount": "12500.50", "currency": "MXN"})
        );
        let text = events[0]["data"].to_string();
        assert!(
            !text.contains("Inmobiliaria") && !text.contains("Renta"),
            "{text}"
        );
        assert_chains_verify(&app, &w.admin).await;
    });
}

fn invalid_bills_are_refused_and_nothing_is_created(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        let money = |amount: &str, currency: &str| json!({"amount": amount, "currency": currency});
        let with = |field: &str, value: Value| {
            let mut b = bill("CFE", "100", "2026-12-01");
            b[field] = value;
            b
        };
        let cases = [
            (with("amount", money("100", "USD")), "amount.currency"),
            (with("amount", money("100", "XXX")), "amount.currency"),
            (with("amount", money("100.005", "MXN")), "amount.amount"),
            (with("amount", money("0", "MXN")), "amount.amount"),
            (with("amount", money("-5", "MXN")), "amount.amount"),
            (with("amount", money("lots", "MXN")), "amount.amount"),
            (with("amount", json!(100)), "amount"),
            (with("category", json!("food")), "category"),
            (with("category", json!(3)), "category"),
            (with("due_on", json!("2026-02-30")), "due_on"),
            (with("due_on", json!("01/12/2026")), "due_on"),
            (with("due_on", json!("2026-12-01T00:00:00Z")), "due_on"),
            (with("payee", json!("   ")), "payee"),
            (with("payee", json!("CFE\u{0}")), "payee"),
            (with("payee", json!("x".repeat(201))), "payee"),
            (with("description", json!("y".repeat(2001))), "description"),
            (with("description", json!("nul\u{0}")), "description"),
            (
                json!({"category": "rent", "amount": money("1", "MXN"), "due_on": "2026-12-01"}),
                "payee",
            ),
        ];
        for (body, field) in cases {
            let r = create(&app, &w.a, &w.coordinator_a, body.clone()).await;
            assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
            let fields: Vec<_> = r.body["errors"]
                .as_array()
                .unwrap_or_else(|| panic!("no errors: {r:?}"))
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect();
            assert!(fields.contains(&field.to_owned()), "{body}: {r:?}");
        }
        // Every bad field at once, each named.
        let r = create(
            &app,
            &w.a,
            &w.coordinator_a,
            json!({"payee": "", "category": "x", "amount": money("1.001", "MXN"), "due_on": "soon"}),
        )
        .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(r.body["errors"].as_array().map(Vec::len), Some(4), "{r:?}");
        // Not JSON: 415 / 400, nothing created either.
        let r = app
            .send(
                Method::POST,
                &format!("/shelters/{}/bills", w.a),
                Some(&w.coordinator_a),
                None,
                &[("content-type", "text/plain")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{r:?}");

        assert_eq!(
            ids(&list(&app, &w.a, &w.coordinator_a, "").await),
            Vec::<String>::new()
        );
        assert!(audit_events(&app, &w.admin, &w.a, "bill").await.is_empty());
        // Still accepted: a bill recorded already overdue, and one worth a cent.
        created(
            &app,
            &w.a,
            &w.coordinator_a,
            bill("CFE", "0.01", "2020-01-31"),
        )
        .await;
    });
}

fn bills_are_edited_while_unpaid_and_voided_by_managers(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        let mut b = bill("CFE", "830", "2026-11-20");
        b["description"] = json!("bimestre");
        let first = created(&app, &w.a, &w.coordinator_a, b).await;
        let bid = first["id"].as_str().unwrap_or_default().to_owned();

        // Coordinators edit while nothing is paid; absent fields stay, blank clears.
        let r = patch(
            &app,
            &w.a,
            &bid,
            &w.coordinator_a,
            json!({"amount": {"amount": "845.10", "currency": "MXN"}, "due_on": "2026-11-25",
                   "category": "water", "description": ""}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(
            r.body["amount"],
            json!({"amount": "845.10", "currency": "MXN"})
        );
        assert_eq!(r.body["due_on"], "2026-11-25");
        assert_eq!(r.body["category"], "water");
        assert_eq!(r.body["description"], Value::Null);
        assert_eq!(r.body["payee"], "CFE");
        assert_eq!(r.body["status"], "unpaid");
        assert_eq!(r.body["created_at"], first["created_at"]);
        let listed = list(&app, &w.a, &w.coordinator_a, "").await;
        assert_eq!(listed.body["items"][0], r.body);
        // An edit that changes nothing writes nothing.
        let same = patch(
            &app,
            &w.a,
            &bid,
            &w.coordinator_a,
            json!({"payee": " CFE "}),
        )
        .await;
        assert_eq!(same.status, StatusCode::OK, "{same:?}");
        assert_eq!(same.body, r.body);
        // A bad edit: 422, nothing changed.
        let bad = patch(
            &app,
            &w.a,
            &bid,
            &w.coordinator_a,
            json!({"payee": "Nuevo", "amount": {"amount": "1", "currency": "EUR"}}),
        )
        .await;
        assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(bad.body["errors"][0]["field"], "amount.currency");
        assert_eq!(
            list(&app, &w.a, &w.coordinator_a, "").await.body["items"][0]["payee"],
            "CFE"
        );

        // Voiding is for managers and admins.
        let r = void(&app, &w.a, &bid, &w.coordinator_a).await;
        assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        let r = void(&app, &w.a, &bid, &w.manager_a).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "void");
        assert_eq!(r.body["id"], json!(bid));
        assert_eq!(
            r.body["amount"],
            json!({"amount": "845.10", "currency": "MXN"})
        );

        // A void bill is final.
        let r = patch(&app, &w.a, &bid, &w.coordinator_a, json!({"payee": "Otro"})).await;
        assert_problem(&r, StatusCode::CONFLICT, "invalid_transition");
        let r = patch(&app, &w.a, &bid, &w.admin, json!({})).await;
        assert_problem(&r, StatusCode::CONFLICT, "invalid_transition");
        let r = void(&app, &w.a, &bid, &w.manager_a).await;
        assert_problem(&r, StatusCode::CONFLICT, "invalid_transition");
        let r = void(&app, &w.a, &bid, &w.admin).await;
        assert_problem(&r, StatusCode::CONFLICT, "invalid_transition");

        // An admin voids too, with an empty JSON-typed body.
        let other = created(
            &app,
            &w.a,
            &w.coordinator_a,
            bill("Gas", "300", "2026-12-03"),
        )
        .await;
        let r = app
            .send(
                Method::POST,
                &format!(
                    "/shelters/{}/bills/{}/void",
                    w.a,
                    other["id"].as_str().unwrap_or_default()
                ),
                Some(&w.admin),
                None,
                &[("content-type", "application/json")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "void");

        // Exactly one event per change.
        let events = audit_events(&app, &w.admin, &w.a, "bill").await;
        let actions: Vec<_> = events
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap_or_default(),
                    e["entity_id"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        let other_id = other["id"].as_str().unwrap_or_default();
        assert_eq!(
            actions,
            [
                ("bill.created", bid.as_str()),
                ("bill.updated", bid.as_str()),
                ("bill.voided", bid.as_str()),
                ("bill.created", other_id),
                ("bill.voided", other_id),
            ]
        );
        let mut changed: Vec<String> = events[1]["data"]["changed"]
            .as_array()
            .expect("changed")
            .iter()
            .map(|c| c.as_str().unwrap_or_default().to_owned())
            .collect();
        changed.sort();
        assert_eq!(changed, ["amount", "category", "description", "due_on"]);
        assert_eq!(events[2]["data"]["status"], "void");
        assert_chains_verify(&app, &w.admin).await;
    });
}

/// Marks a bill (partly) paid straight in the database, as expenses will.
fn set_paid(app: &TestApp, bid: &str, paid: i64, status: &str) {
    use diesel::prelude::*;
    use refugio_db::schema::bills;
    let mut conn = app.db.connect();
    let n = diesel::update(bills::table.find(bid))
        .set((bills::paid.eq(paid), bills::status.eq(status)))
        .execute(&mut conn)
        .expect("mark the bill paid");
    assert_eq!(n, 1);
}

fn paid_bills_can_be_neither_edited_nor_voided(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        for (paid, status) in [(100, "partially_paid"), (1000, "paid")] {
            let b = created(
                &app,
                &w.a,
                &w.coordinator_a,
                bill("CFE", "10", "2026-11-20"),
            )
            .await;
            let bid = b["id"].as_str().unwrap_or_default();
            set_paid(&app, bid, paid, status);
            let r = patch(&app, &w.a, bid, &w.manager_a, json!({"payee": "Otro"})).await;
            assert_problem(&r, StatusCode::CONFLICT, "invalid_transition");
            let r = void(&app, &w.a, bid, &w.manager_a).await;
            assert_problem(&r, StatusCode::CONFLICT, "invalid_transition");
            let listed = list(&app, &w.a, &w.manager_a, &format!("?status={status}")).await;
            assert_eq!(ids(&listed), [bid]);
            assert_eq!(
                listed.body["items"][0]["paid"]["amount"],
                json!(format!("{}.00", paid / 100))
            );
            assert_eq!(listed.body["items"][0]["payee"], "CFE");
        }
        let actions: Vec<_> = audit_events(&app, &w.admin, &w.a, "bill")
            .await
            .iter()
            .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(actions, ["bill.created", "bill.created"]);
    });
}

fn bill_creation_and_voiding_are_idempotent(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        let path = format!("/shelters/{}/bills", w.a);
        let key = [("Idempotency-Key", "bill-2026-11-cfe")];
        let body = bill("CFE", "830", "2026-11-20");
        let first = app
            .send(
                Method::POST,
                &path,
                Some(&w.coordinator_a),
                Some(body.clone()),
                &key,
            )
            .await;
        assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
        let again = app
            .send(
                Method::POST,
                &path,
                Some(&w.coordinator_a),
                Some(body.clone()),
                &key,
            )
            .await;
        assert_eq!(again.status, StatusCode::CREATED, "{again:?}");
        assert_eq!(again.body, first.body);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        // The same key with another body is refused.
        let other = app
            .send(
                Method::POST,
                &path,
                Some(&w.coordinator_a),
                Some(bill("CFE", "831", "2026-11-20")),
                &key,
            )
            .await;
        assert_problem(
            &other,
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
        );
        assert_eq!(ids(&list(&app, &w.a, &w.coordinator_a, "").await).len(), 1);

        // A replayed void answers the stored 200, not a 409.
        let void_path = format!("{path}/{}/void", first.str("id"));
        let key = [("Idempotency-Key", "void-cfe")];
        let v1 = app
            .send(Method::POST, &void_path, Some(&w.manager_a), None, &key)
            .await;
        assert_eq!(v1.status, StatusCode::OK, "{v1:?}");
        let v2 = app
            .send(Method::POST, &void_path, Some(&w.manager_a), None, &key)
            .await;
        assert_eq!(v2.status, StatusCode::OK, "{v2:?}");
        assert_eq!(v2.body, v1.body);
        let v3 = app
            .send(Method::POST, &void_path, Some(&w.manager_a), None, &[])
            .await;
        assert_problem(&v3, StatusCode::CONFLICT, "invalid_transition");

        let actions: Vec<_> = audit_events(&app, &w.admin, &w.a, "bill")
            .await
            .iter()
            .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(actions, ["bill.created", "bill.voided"]);
        assert_chains_verify(&app, &w.admin).await;
    });
}

fn bills_of_another_shelter_are_not_found(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        let bill_a = created(
            &app,
            &w.a,
            &w.coordinator_a,
            bill("CFE", "830", "2026-11-20"),
        )
        .await;
        let bid = bill_a["id"].as_str().unwrap_or_default().to_owned();
        let edit = json!({"payee": "Otro"});

        // Staff of B on A's routes, valid or not, and on B's routes naming A's bill.
        for token in [&w.manager_b, &w.coordinator_b] {
            let r = list(&app, &w.a, token, "").await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
            let r = create(&app, &w.a, token, bill("CFE", "1", "2026-11-20")).await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
            let r = create(&app, &w.a, token, json!({})).await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
            let r = patch(&app, &w.a, &bid, token, edit.clone()).await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
            let r = patch(&app, &w.b, &bid, token, edit.clone()).await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
            let r = patch(&app, &w.b, &bid, token, json!({"payee": ""})).await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
            let r = void(&app, &w.b, &bid, &w.manager_b).await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
            let r = void(&app, &w.a, &bid, &w.manager_b).await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        }
        // Unknown and malformed bill ids, and an unknown shelter.
        for bad in [refugio_core::new_id(), "not-an-id".to_owned()] {
            let r = patch(&app, &w.a, &bad, &w.manager_a, edit.clone()).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}: {r:?}");
            let r = void(&app, &w.a, &bad, &w.manager_a).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}: {r:?}");
        }
        let unknown = refugio_core::new_id();
        let r = list(&app, &unknown, &w.admin, "").await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        let r = create(&app, &unknown, &w.admin, bill("CFE", "1", "2026-11-20")).await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");

        // Donors never; auditors read but never write.
        app.create_user("donor@example.org", refugio_core::Role::Donor);
        let donor = app
            .login("donor@example.org", PASSWORD)
            .await
            .str("access_token");
        assert_problem(
            &list(&app, &w.a, &donor, "").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        app.create_user("auditor@example.org", refugio_core::Role::Auditor);
        let auditor = app
            .login("auditor@example.org", PASSWORD)
            .await
            .str("access_token");
        let r = create(&app, &w.a, &auditor, bill("CFE", "1", "2026-11-20")).await;
        assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        // Authorization is decided before the body is judged, every time.
        for _ in 0..5 {
            let r = create(&app, &w.a, &auditor, json!({"payee": 1})).await;
            assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
            let r = app
                .send(
                    Method::POST,
                    &format!("/shelters/{}/bills", w.a),
                    Some(&w.manager_b),
                    None,
                    &[("content-type", "text/plain")],
                )
                .await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
            let r = patch(&app, &w.a, &bid, &w.coordinator_b, json!({"amount": 5})).await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        }
        let r = patch(&app, &w.a, &bid, &auditor, edit.clone()).await;
        assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        let r = void(&app, &w.a, &bid, &auditor).await;
        assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");

        // A's bill is untouched, and only its creation was audited.
        let listed = list(&app, &w.a, &w.admin, "").await;
        assert_eq!(listed.body["items"], json!([bill_a]));
        assert_eq!(audit_events(&app, &w.admin, &w.a, "bill").await.len(), 1);
        assert!(audit_events(&app, &w.admin, &w.b, "bill").await.is_empty());
    });
}
