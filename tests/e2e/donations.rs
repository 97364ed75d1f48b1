//! Money donations end to end: FX rates, pledges with restrictions, receiving (once, even when
//! two admins race), allocation to needs, spending traced back to the donor, releases when a
//! need ends, and who may see what.

use crate::errors::assert_problem;
use crate::support::{assert_chains_verify, run, spawn_app, Reply, TestApp, PASSWORD};
use refugio_db::backend_tests;
use refugio_db::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    the_worked_example_flows_from_donor_to_spend,
    donations_are_visible_to_their_donor_admins_and_auditors_only,
    concurrent_receipts_allocate_once,
    money_waits_for_a_rate_and_is_allocated_when_one_is_added,
    a_fulfilled_need_releases_its_money_to_the_shelter_and_category,
    unrestricted_money_is_shared_across_shelters,
    a_shrinking_need_releases_its_newest_money_first,
    money_pledged_to_a_need_that_ended_goes_to_its_shelter_and_category,
    invalid_pledges_and_receipts_are_refused,
    fx_rates_are_validated_and_upserted,
);

struct World {
    admin: String,
    sid: String,
    coord: String,
    donor: String,
    donor_email: String,
    rice: String,
    rice_need: String,
}

fn money(amount: &str, currency: &str) -> Value {
    json!({"amount": amount, "currency": currency})
}

fn yesterday() -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string()
}

/// Today in Mexico City (UTC−6 all year), the shelters' time zone.
fn mexico_today() -> String {
    (chrono::Utc::now() - chrono::Duration::hours(6))
        .format("%Y-%m-%d")
        .to_string()
}

async fn donor(app: &TestApp, email: &str) -> String {
    app.create_user(email, refugio_core::Role::Donor);
    app.login(email, PASSWORD).await.str("access_token")
}

async fn put_rate(app: &TestApp, admin: &str, rate: &str, as_of: &str) -> Reply {
    app.call(
        Method::PUT,
        "/fx-rates",
        Some(admin),
        Some(json!({"base": "USD", "quote": "MXN", "rate": rate, "as_of": as_of})),
    )
    .await
}

async fn post_ok(app: &TestApp, path: &str, token: &str, body: Value, status: StatusCode) -> Value {
    let r = app.post(path, Some(token), body).await;
    assert_eq!(r.status, status, "{path}: {r:?}");
    r.body
}

/// A shelter (40 beds occupied) whose rice need is ENGINE.md's worked example.
async fn shelter_with_rice(
    app: &TestApp,
    admin: &str,
    name: &str,
    tag: &str,
) -> (String, String, String, String) {
    let sid = app.create_shelter(admin, name).await;
    let (_, coord) = app
        .staff(
            admin,
            &format!("coord-{tag}@example.org"),
            &sid,
            "coordinator",
        )
        .await;
    let r = app
        .call(
            Method::PUT,
            &format!("/shelters/{sid}/occupancy"),
            Some(&coord),
            Some(json!({"occupied_beds": 40})),
        )
        .await;
    assert!(r.status.is_success(), "{r:?}");
    let rice = post_ok(
        app,
        &format!("/shelters/{sid}/items"),
        &coord,
        json!({"name": "Arroz", "category": "food", "unit": "kg", "criticality": "essential",
               "basis": "consumable", "per_person": 0.4, "unit_cost": money("25.00", "MXN")}),
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for (kind, q) in [("receipt", 80), ("consumption", 30)] {
        post_ok(
            app,
            &format!("/shelters/{sid}/stock/movements"),
            &coord,
            json!({"item_id": rice, "kind": kind, "quantity": q}),
            StatusCode::CREATED,
        )
        .await;
    }
    let need = need_of_item(app, &sid, &coord, &rice).await;
    (
        sid,
        coord,
        rice,
        need["id"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn needs_of(app: &TestApp, sid: &str, token: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/shelters/{sid}/needs?status=all&limit=500"),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["items"].as_array().cloned().unwrap_or_default()
}

async fn need_of_item(app: &TestApp, sid: &str, token: &str, item: &str) -> Value {
    needs_of(app, sid, token)
        .await
        .into_iter()
        .rev()
        .find(|n| n["item_id"] == item)
        .unwrap_or_else(|| panic!("no need for {item}"))
}

async fn world(app: &TestApp) -> World {
    let admin = app.admin_token().await;
    let (sid, coord, rice, rice_need) = shelter_with_rice(app, &admin, "Casa Smoke", "a").await;
    let donor_email = "dana@example.org".to_owned();
    let donor = donor(app, &donor_email).await;
    World {
        admin,
        sid,
        coord,
        donor,
        donor_email,
        rice,
        rice_need,
    }
}

async fn pledge(app: &TestApp, token: &str, amount: Value, restriction: Option<Value>) -> Reply {
    let mut body = json!({"kind": "money", "amount": amount});
    if let Some(r) = restriction {
        body["restriction"] = r;
    }
    app.post("/donations", Some(token), body).await
}

async fn pledged(app: &TestApp, token: &str, amount: Value, restriction: Option<Value>) -> String {
    let r = pledge(app, token, amount, restriction).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["status"], "pledged", "{r:?}");
    r.str("id")
}

async fn receive(app: &TestApp, token: &str, did: &str, body: Option<Value>) -> Reply {
    app.call(
        Method::POST,
        &format!("/donations/{did}/receive"),
        Some(token),
        body,
    )
    .await
}

fn amount(v: &Value) -> String {
    v["amount"].as_str().unwrap_or_default().to_owned()
}

fn sum_of(list: &Value, field: &str) -> i64 {
    list.as_array()
        .map(|l| {
            l.iter()
                .map(|a| {
                    amount(&a[field])
                        .replace('.', "")
                        .parse::<i64>()
                        .unwrap_or(i64::MIN)
                })
                .sum()
        })
        .unwrap_or(0)
}

fn cents(v: &Value) -> i64 {
    amount(v).replace('.', "").parse().unwrap_or(i64::MIN)
}

fn the_worked_example_flows_from_donor_to_spend(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = world(&app).await;
        assert_eq!(
            put_rate(&app, &w.admin, "17.25", &yesterday()).await.status,
            StatusCode::OK
        );
        let did = pledged(
            &app,
            &w.donor,
            money("100.00", "USD"),
            Some(json!({"need_id": w.rice_need})),
        )
        .await;

        let r = receive(&app, &w.admin, &did, Some(json!({}))).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "received");
        let allocations = r.body["allocations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(allocations.len(), 1, "{r:?}");
        assert_eq!(allocations[0]["need_id"], json!(w.rice_need));
        assert_eq!(allocations[0]["amount"], money("100.00", "USD"));
        assert_eq!(allocations[0]["amount_local"], money("1725.00", "MXN"));
        assert_eq!(allocations[0]["fx_rate"], "17.25");
        assert_eq!(allocations[0]["released"], money("0.00", "USD"));
        assert_eq!(r.body["unallocated"], money("0.00", "USD"));

        let need = need_of_item(&app, &w.sid, &w.coord, &w.rice).await;
        assert_eq!(need["status"], "partially_funded", "{need:#}");
        assert_eq!(need["amount_covered"], money("1725.00", "MXN"));
        assert_eq!(need["amount_open"], money("2625.00", "MXN"));

        // The donor's receipt says where the money went.
        let mail = app.last_email_to(&w.donor_email);
        assert_eq!(mail.template, "donation_received");
        assert!(mail.body.contains("100.00 USD"), "{}", mail.body);

        let r = app
            .post(
                &format!("/shelters/{}/expenses", w.sid),
                Some(&w.coord),
                json!({"amount": money("1000.00", "MXN"), "category": "food", "description": "Arroz 40 kg",
                       "spent_on": mexico_today(), "need_id": w.rice_need, "quantity": 40, "receipt_ref": "F-1"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        assert_eq!(r.body["own_funds"], money("0.00", "MXN"));
        let funded = r.body["funded_by"].as_array().cloned().unwrap_or_default();
        assert_eq!(funded.len(), 1, "{r:?}");
        assert_eq!(funded[0]["donation_id"], json!(did));
        assert_eq!(funded[0]["amount"], money("1000.00", "MXN"));
        let expense = r.str("id");

        let need = need_of_item(&app, &w.sid, &w.coord, &w.rice).await;
        assert_eq!(need["quantity"], json!(134), "{need:#}");
        assert_eq!(need["amount_needed"], money("3350.00", "MXN"));
        assert_eq!(need["amount_covered"], money("725.00", "MXN"));
        assert_eq!(need["amount_open"], money("2625.00", "MXN"));
        assert_eq!(app.last_email_to(&w.donor_email).template, "need_spent");

        let r = app.get(&format!("/donations/{did}"), Some(&w.donor)).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let spent = r.body["spent"].as_array().cloned().unwrap_or_default();
        assert_eq!(spent.len(), 1, "{r:?}");
        assert_eq!(spent[0]["expense_id"], json!(expense));
        assert_eq!(spent[0]["amount"], money("1000.00", "MXN"));
        assert_eq!(spent[0]["shelter_id"], json!(w.sid));
        assert_eq!(r.body["allocations"][0]["spent"], money("1000.00", "MXN"));

        let mine = app.get("/me/donations", Some(&w.donor)).await;
        assert_eq!(mine.status, StatusCode::OK);
        assert_eq!(mine.body["items"][0]["id"], json!(did), "{mine:?}");
        assert_chains_verify(&app, &w.admin).await;
    });
}

fn donations_are_visible_to_their_donor_admins_and_auditors_only(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = world(&app).await;
        let did = pledged(&app, &w.donor, money("50.00", "MXN"), None).await;
        let other = donor(&app, "otro@example.org").await;
        app.create_user("aud@example.org", refugio_core::Role::Auditor);
        let auditor = app
            .login("aud@example.org", PASSWORD)
            .await
            .str("access_token");

        assert_eq!(
            app.get(&format!("/donations/{did}"), Some(&w.donor))
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            app.get(&format!("/donations/{did}"), Some(&w.admin))
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            app.get(&format!("/donations/{did}"), Some(&auditor))
                .await
                .status,
            StatusCode::OK
        );
        for token in [&other, &w.coord] {
            let r = app.get(&format!("/donations/{did}"), Some(token)).await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        }
        // An unknown id looks exactly like someone else's.
        let r = app
            .get(
                "/donations/0190f5e2-0000-7000-8000-000000000000",
                Some(&other),
            )
            .await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(
            app.get(&format!("/donations/{did}"), None).await.status,
            StatusCode::UNAUTHORIZED
        );

        let mine = app.get("/me/donations", Some(&other)).await;
        assert_eq!(mine.body["items"], json!([]), "{mine:?}");

        // Money restricted to a shelter is listed for admins and auditors, not for its staff,
        // who cannot open it either.
        let to_shelter = pledged(
            &app,
            &w.donor,
            money("20.00", "MXN"),
            Some(json!({"shelter_id": w.sid})),
        )
        .await;
        let listed = |token: String, query: &'static str| {
            let app = &app;
            let path = format!("/shelters/{}/donations{query}", w.sid);
            async move {
                let r = app.get(&path, Some(&token)).await;
                assert_eq!(r.status, StatusCode::OK, "{r:?}");
                r.body["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d["id"].as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            }
        };
        for token in [&w.admin, &auditor] {
            for query in ["", "?kind=money"] {
                assert_eq!(listed(token.clone(), query).await, vec![to_shelter.clone()]);
            }
        }
        for query in ["", "?kind=money", "?kind=in_kind"] {
            assert!(listed(w.coord.clone(), query).await.is_empty(), "{query}");
        }
        let r = app
            .get(&format!("/donations/{to_shelter}"), Some(&w.coord))
            .await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        // Staff and auditors may not give; donors and auditors may not confirm money.
        let r = pledge(&app, &w.coord, money("5.00", "MXN"), None).await;
        assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        let r = pledge(&app, &auditor, money("5.00", "MXN"), None).await;
        assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        for token in [&w.donor, &auditor] {
            let r = receive(&app, token, &did, None).await;
            assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        }
        let r = receive(&app, &w.coord, &did, None).await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        // Another donor cannot cancel it either; its donor can.
        let r = app
            .call(
                Method::POST,
                &format!("/donations/{did}/cancel"),
                Some(&other),
                None,
            )
            .await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        let r = app
            .call(
                Method::POST,
                &format!("/donations/{did}/cancel"),
                Some(&w.donor),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "cancelled");
        let r = receive(&app, &w.admin, &did, None).await;
        assert_problem(&r, StatusCode::CONFLICT, "invalid_transition");
    });
}

fn concurrent_receipts_allocate_once(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = world(&app).await;
        let did = pledged(
            &app,
            &w.donor,
            money("3000.00", "MXN"),
            Some(json!({"shelter_id": w.sid})),
        )
        .await;
        let (a, b, c) = tokio::join!(
            receive(&app, &w.admin, &did, None),
            receive(&app, &w.admin, &did, None),
            receive(&app, &w.admin, &did, None)
        );
        let statuses = [a.status, b.status, c.status];
        assert_eq!(
            statuses.iter().filter(|s| **s == StatusCode::OK).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::CONFLICT)
                .count(),
            2,
            "{statuses:?}"
        );

        let r = app.get(&format!("/donations/{did}"), Some(&w.admin)).await;
        let allocated = sum_of(&r.body["allocations"], "amount");
        assert_eq!(allocated + cents(&r.body["unallocated"]), 300_000, "{r:?}");
        // The rice need lacked 4350.00: 3000.00 went to it, once.
        let need = need_of_item(&app, &w.sid, &w.coord, &w.rice).await;
        assert_eq!(need["amount_covered"], money("3000.00", "MXN"), "{need:#}");
        assert_chains_verify(&app, &w.admin).await;
    });
}

fn money_waits_for_a_rate_and_is_allocated_when_one_is_added(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = world(&app).await;
        let did = pledged(&app, &w.donor, money("10.00", "USD"), None).await;
        // Only MXN → USD is on file: never inverted.
        let r = app
            .call(
                Method::PUT,
                "/fx-rates",
                Some(&w.admin),
                Some(json!({"base": "MXN", "quote": "USD", "rate": "0.058", "as_of": yesterday()})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let r = receive(
            &app,
            &w.admin,
            &did,
            Some(json!({"received_on": yesterday()})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["allocations"], json!([]), "{r:?}");
        assert_eq!(r.body["unallocated"], money("10.00", "USD"));

        // A rate dated after the money arrived does not apply to it.
        let today = chrono::Utc::now()
            .date_naive()
            .format("%Y-%m-%d")
            .to_string();
        assert_eq!(
            put_rate(&app, &w.admin, "18.00", &today).await.status,
            StatusCode::OK
        );
        let r = app.get(&format!("/donations/{did}"), Some(&w.donor)).await;
        assert_eq!(r.body["allocations"], json!([]), "{r:?}");

        // One in force on the received date lets the waiting money go.
        assert_eq!(
            put_rate(&app, &w.admin, "17.25", &yesterday()).await.status,
            StatusCode::OK
        );
        let r = app.get(&format!("/donations/{did}"), Some(&w.donor)).await;
        let allocations = r.body["allocations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(allocations.len(), 1, "{r:?}");
        assert_eq!(allocations[0]["amount_local"], money("172.50", "MXN"));
        assert_eq!(allocations[0]["fx_rate"], "17.25");
        assert_eq!(r.body["unallocated"], money("0.00", "USD"));
    });
}

fn a_fulfilled_need_releases_its_money_to_the_shelter_and_category(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = world(&app).await;
        let did = pledged(
            &app,
            &w.donor,
            money("300.00", "MXN"),
            Some(json!({"need_id": w.rice_need})),
        )
        .await;
        let r = receive(&app, &w.admin, &did, None).await;
        assert_eq!(
            r.body["allocations"][0]["amount_local"],
            money("300.00", "MXN"),
            "{r:?}"
        );

        // Rice arrives from elsewhere up to the target: the need is fulfilled.
        post_ok(
            &app,
            &format!("/shelters/{}/stock/movements", w.sid),
            &w.coord,
            json!({"item_id": w.rice, "kind": "receipt", "quantity": 200}),
            StatusCode::CREATED,
        )
        .await;
        let need = need_of_item(&app, &w.sid, &w.coord, &w.rice).await;
        assert_eq!(need["status"], "fulfilled", "{need:#}");

        let r = app.get(&format!("/donations/{did}"), Some(&w.donor)).await;
        let a = &r.body["allocations"][0];
        assert_eq!(a["amount"], money("0.00", "MXN"), "{r:?}");
        assert_eq!(a["released"], money("300.00", "MXN"), "{r:?}");
        assert_eq!(r.body["unallocated"], money("300.00", "MXN"));
        assert_eq!(
            r.body["restriction"],
            json!({"need_id": null, "shelter_id": w.sid, "category": "food"}),
            "{r:?}"
        );
        let templates: Vec<String> = {
            let mut conn = app.db.connect();
            refugio_db::outbox::all(&mut conn)
                .expect("outbox")
                .into_iter()
                .filter(|m| m.to_email == w.donor_email)
                .map(|m| m.template)
                .collect()
        };
        assert!(
            templates.contains(&"restriction_widened".to_owned()),
            "{templates:?}"
        );
        assert!(
            templates.contains(&"need_fulfilled".to_owned()),
            "{templates:?}"
        );

        // A new food need in that shelter takes the waiting money; water (another category) does not.
        let beans = post_ok(&app, &format!("/shelters/{}/items", w.sid), &w.coord,
            json!({"name": "Frijol negro", "category": "food", "unit": "kg", "criticality": "essential",
                   "basis": "consumable", "per_person": 0.1, "unit_cost": money("30.00", "MXN")}),
            StatusCode::CREATED).await["id"].as_str().unwrap_or_default().to_owned();
        post_ok(
            &app,
            &format!("/shelters/{}/stock/movements", w.sid),
            &w.coord,
            json!({"item_id": beans, "kind": "count", "quantity": 1}),
            StatusCode::CREATED,
        )
        .await;
        let r = app.get(&format!("/donations/{did}"), Some(&w.donor)).await;
        let allocations = r.body["allocations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(allocations.len(), 2, "{r:?}");
        assert_eq!(allocations[1]["amount"], money("300.00", "MXN"), "{r:?}");
        assert_eq!(r.body["unallocated"], money("0.00", "MXN"));
        let beans_need = need_of_item(&app, &w.sid, &w.coord, &beans).await;
        assert_eq!(allocations[1]["need_id"], beans_need["id"]);
        assert_chains_verify(&app, &w.admin).await;
    });
}

fn unrestricted_money_is_shared_across_shelters(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = world(&app).await;
        let (other, other_coord, other_rice, _) =
            shelter_with_rice(&app, &w.admin, "Casa Dos", "b").await;
        // Both rice needs are alike (4350.00 open, high band, 40 beds): 1000.00 splits evenly.
        let did = pledged(&app, &w.donor, money("1000.00", "MXN"), None).await;
        let r = receive(&app, &w.admin, &did, None).await;
        let allocations = r.body["allocations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(allocations.len(), 2, "{r:?}");
        for a in &allocations {
            assert_eq!(a["amount"], money("500.00", "MXN"), "{r:?}");
        }
        let shelters: Vec<&Value> = allocations.iter().map(|a| &a["shelter_id"]).collect();
        assert!(
            shelters.contains(&&json!(w.sid)) && shelters.contains(&&json!(other)),
            "{r:?}"
        );
        let need = need_of_item(&app, &other, &other_coord, &other_rice).await;
        assert_eq!(need["amount_open"], money("3850.00", "MXN"), "{need:#}");

        // More than everything needed: the needs are funded and the rest waits.
        let big = pledged(&app, &w.donor, money("20000.00", "MXN"), None).await;
        let r = receive(&app, &w.admin, &big, None).await;
        assert_eq!(r.body["unallocated"], money("12300.00", "MXN"), "{r:?}");
        let need = need_of_item(&app, &other, &other_coord, &other_rice).await;
        assert_eq!(need["status"], "funded", "{need:#}");
        assert_eq!(need["amount_open"], money("0.00", "MXN"));
    });
}

fn invalid_pledges_and_receipts_are_refused(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = world(&app).await;
        let cases = [
            (json!({"kind": "money"}), "amount"),
            (
                json!({"kind": "money", "amount": money("0.00", "MXN")}),
                "amount.amount",
            ),
            (
                json!({"kind": "money", "amount": money("1.005", "MXN")}),
                "amount.amount",
            ),
            (
                json!({"kind": "money", "amount": money("1.00", "XYZ")}),
                "amount.currency",
            ),
            (
                json!({"kind": "gold", "amount": money("1.00", "MXN")}),
                "kind",
            ),
            (
                json!({"kind": "money", "amount": money("1.00", "MXN"),
                    "restriction": {"need_id": "0190f5e2-0000-7000-8000-000000000000"}}),
                "restriction.need_id",
            ),
            (
                json!({"kind": "money", "amount": money("1.00", "MXN"),
                    "restriction": {"shelter_id": "0190f5e2-0000-7000-8000-000000000000"}}),
                "restriction.shelter_id",
            ),
            (
                json!({"kind": "money", "amount": money("1.00", "MXN"),
                    "restriction": {"category": "weapons"}}),
                "restriction.category",
            ),
        ];
        for (body, field) in cases {
            let r = app.post("/donations", Some(&w.donor), body.clone()).await;
            assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
            assert!(
                r.body["errors"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e["field"] == field)),
                "{body}: {r:?}"
            );
        }
        // A need without a unit cost can only be covered in kind.
        let salt = post_ok(
            &app,
            &format!("/shelters/{}/items", w.sid),
            &w.coord,
            json!({"name": "Sal fina", "category": "food", "unit": "kg", "criticality": "essential",
                   "basis": "consumable", "per_person": 0.005}),
            StatusCode::CREATED,
        )
        .await["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        post_ok(
            &app,
            &format!("/shelters/{}/stock/movements", w.sid),
            &w.coord,
            json!({"item_id": salt, "kind": "count", "quantity": 0.1}),
            StatusCode::CREATED,
        )
        .await;
        let salt_need = need_of_item(&app, &w.sid, &w.coord, &salt).await;
        let r = pledge(
            &app,
            &w.donor,
            money("10.00", "MXN"),
            Some(json!({"need_id": salt_need["id"]})),
        )
        .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        // A need that ended takes no pledge.
        let r = app
            .call(
                Method::POST,
                &format!("/shelters/{}/needs/{}/cancel", w.sid, w.rice_need),
                Some(&w.admin),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let r = pledge(
            &app,
            &w.donor,
            money("10.00", "MXN"),
            Some(json!({"need_id": w.rice_need})),
        )
        .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");

        let did = pledged(&app, &w.donor, money("10.00", "MXN"), None).await;
        let tomorrow = (chrono::Utc::now().date_naive() + chrono::Duration::days(2))
            .format("%Y-%m-%d")
            .to_string();
        for body in [
            json!({"received_on": tomorrow}),
            json!({"received_on": "yesterday"}),
            json!({"quantity": 1}),
        ] {
            let r = receive(&app, &w.admin, &did, Some(body.clone())).await;
            assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        }
        // Refused attempts changed nothing: it is still pledged and can be received once.
        assert_eq!(
            receive(&app, &w.admin, &did, None).await.status,
            StatusCode::OK
        );
        let r = receive(&app, &w.admin, &did, None).await;
        assert_problem(&r, StatusCode::CONFLICT, "invalid_transition");
    });
}

fn fx_rates_are_validated_and_upserted(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = world(&app).await;
        let bad = [
            json!({"base": "USD", "quote": "USD", "rate": "1", "as_of": yesterday()}),
            json!({"base": "USD", "quote": "MXN", "rate": "0", "as_of": yesterday()}),
            json!({"base": "USD", "quote": "MXN", "rate": "17.1234567", "as_of": yesterday()}),
            json!({"base": "USD", "quote": "MXN", "rate": "-17", "as_of": yesterday()}),
            json!({"base": "ABC", "quote": "MXN", "rate": "17", "as_of": yesterday()}),
            json!({"base": "USD", "quote": "MXN", "rate": "17", "as_of": "2999-01-01"}),
            json!({"base": "USD", "quote": "MXN", "rate": "17", "as_of": "-5000-01-01"}),
            json!({"base": "USD", "quote": "MXN", "rate": "17", "as_of": "+12026-01-01"}),
        ];
        for body in bad {
            let r = app
                .call(Method::PUT, "/fx-rates", Some(&w.admin), Some(body.clone()))
                .await;
            assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        }
        let r = app
            .call(
                Method::PUT,
                "/fx-rates",
                Some(&w.donor),
                Some(json!({"base": "USD", "quote": "MXN", "rate": "17", "as_of": yesterday()})),
            )
            .await;
        assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");

        for rate in ["17.10", "17.25"] {
            let r = put_rate(&app, &w.admin, rate, &yesterday()).await;
            assert_eq!(r.status, StatusCode::OK, "{r:?}");
        }
        let r = app
            .get("/fx-rates?base=USD&quote=MXN", Some(&w.donor))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let rates = r.body["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(rates.len(), 1, "one rate per (base, quote, as_of): {r:?}");
        assert_eq!(rates[0]["rate"], "17.25");
        let r = app.get("/fx-rates?base=USD", Some(&w.donor)).await;
        assert_problem(&r, StatusCode::BAD_REQUEST, "bad_query");
    });
}

fn a_shrinking_need_releases_its_newest_money_first(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = world(&app).await;
        let first = pledged(
            &app,
            &w.donor,
            money("1000.00", "MXN"),
            Some(json!({"need_id": w.rice_need})),
        )
        .await;
        let second = pledged(
            &app,
            &w.donor,
            money("3000.00", "MXN"),
            Some(json!({"need_id": w.rice_need})),
        )
        .await;
        for did in [&first, &second] {
            assert_eq!(
                receive(&app, &w.admin, did, None).await.status,
                StatusCode::OK
            );
        }
        // 100 kg arrive from elsewhere: on hand 150, the need shrinks to 74 kg = 1850.00, so
        // 2150.00 of the 4000.00 held is released, from the newest allocation.
        post_ok(
            &app,
            &format!("/shelters/{}/stock/movements", w.sid),
            &w.coord,
            json!({"item_id": w.rice, "kind": "receipt", "quantity": 100}),
            StatusCode::CREATED,
        )
        .await;
        let need = need_of_item(&app, &w.sid, &w.coord, &w.rice).await;
        assert_eq!(need["amount_needed"], money("1850.00", "MXN"), "{need:#}");
        assert_eq!(need["amount_covered"], money("1850.00", "MXN"));
        assert_eq!(need["status"], "funded");

        let r = app
            .get(&format!("/donations/{first}"), Some(&w.donor))
            .await;
        assert_eq!(
            r.body["allocations"][0]["amount_local"],
            money("1000.00", "MXN"),
            "{r:?}"
        );
        assert_eq!(r.body["unallocated"], money("0.00", "MXN"));
        let r = app
            .get(&format!("/donations/{second}"), Some(&w.donor))
            .await;
        let a = &r.body["allocations"][0];
        assert_eq!(a["amount_local"], money("850.00", "MXN"), "{r:?}");
        assert_eq!(a["amount"], money("850.00", "MXN"));
        assert_eq!(a["released"], money("2150.00", "MXN"));
        // The need is still live, so the released money stays restricted to it, waiting.
        assert_eq!(r.body["unallocated"], money("2150.00", "MXN"));
        assert_eq!(r.body["restriction"]["need_id"], json!(w.rice_need));
        assert_chains_verify(&app, &w.admin).await;
    });
}

fn money_pledged_to_a_need_that_ended_goes_to_its_shelter_and_category(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = world(&app).await;
        let did = pledged(
            &app,
            &w.donor,
            money("200.00", "MXN"),
            Some(json!({"need_id": w.rice_need})),
        )
        .await;
        let r = app
            .call(
                Method::POST,
                &format!("/shelters/{}/needs/{}/cancel", w.sid, w.rice_need),
                Some(&w.admin),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        // A water need in the same shelter: another category, so it gets nothing.
        let water = post_ok(&app, &format!("/shelters/{}/items", w.sid), &w.coord,
            json!({"name": "Agua purificada", "category": "water", "unit": "L", "criticality": "vital",
                   "basis": "consumable", "per_person": 15, "unit_cost": money("1.00", "MXN")}),
            StatusCode::CREATED).await["id"].as_str().unwrap_or_default().to_owned();
        post_ok(
            &app,
            &format!("/shelters/{}/stock/movements", w.sid),
            &w.coord,
            json!({"item_id": water, "kind": "count", "quantity": 10}),
            StatusCode::CREATED,
        )
        .await;

        let r = receive(&app, &w.admin, &did, None).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(
            r.body["restriction"],
            json!({"need_id": null, "shelter_id": w.sid, "category": "food"}),
            "{r:?}"
        );
        assert_eq!(r.body["allocations"], json!([]), "{r:?}");
        assert_eq!(r.body["unallocated"], money("200.00", "MXN"));
        let mut conn = app.db.connect();
        let templates: Vec<String> = refugio_db::outbox::all(&mut conn)
            .expect("outbox")
            .into_iter()
            .filter(|m| m.to_email == w.donor_email)
            .map(|m| m.template)
            .collect();
        assert_eq!(
            templates,
            ["restriction_widened", "donation_received"],
            "{templates:?}"
        );
    });
}
