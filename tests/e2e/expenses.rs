//! Expenses: what a shelter spent, in its currency and never dated after its today; paying
//! bills up to what is owed; drawing on the donations allocated to a need oldest first, the
//! rest from own funds (ENGINE.md's worked example, donors told); goods bought but not yet
//! received counting as incoming until receipts name the expense; roles, tenancy, the list
//! newest first, and the audit chains.

use crate::errors::{assert_problem, error_fields};
use crate::support::{
    assert_chains_verify, audit_events, run, spawn_app, two_shelters, Reply, TestApp, TwoShelters,
    PASSWORD,
};
use refugio_db::backend_tests;
use refugio_db::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    unlinked_expenses_are_paid_from_own_funds,
    expenses_pay_bills_up_to_what_is_owed,
    donations_fund_expenses_on_their_need_and_donors_see_it,
    goods_bought_but_not_received_count_as_incoming,
    expenses_are_listed_newest_first_with_their_funding,
);

const DONOR: &str = "donor@example.org";

/// A date `days` from today in Mexico City (the test shelters' zone; UTC−6 all year since
/// 2022), as `YYYY-MM-DD`.
fn local_date(days: i64) -> String {
    let mexico_city = chrono::FixedOffset::west_opt(6 * 3600).expect("offset");
    let today = chrono::Utc::now().with_timezone(&mexico_city).date_naive();
    (today + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

fn mxn(amount: &str) -> Value {
    json!({"amount": amount, "currency": "MXN"})
}

/// An expense of `amount` MXN spent today, with `extra` fields added (a `null` removes one).
fn expense(amount: &str, extra: Value) -> Value {
    let mut body =
        json!({"amount": mxn(amount), "description": "Compra", "spent_on": local_date(0)});
    for (k, v) in extra.as_object().expect("an object") {
        if v.is_null() {
            body.as_object_mut().expect("an object").remove(k);
        } else {
            body[k] = v.clone();
        }
    }
    body
}

async fn spend(app: &TestApp, sid: &str, token: &str, body: Value) -> Reply {
    app.post(&format!("/shelters/{sid}/expenses"), Some(token), body)
        .await
}

/// Records an expense and returns it.
async fn spent(app: &TestApp, sid: &str, token: &str, body: Value) -> Value {
    let r = spend(app, sid, token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    r.body
}

async fn token_of(app: &TestApp, email: &str, role: refugio_core::Role) -> String {
    app.create_user(email, role);
    app.login(email, PASSWORD).await.str("access_token")
}

/// ENGINE.md's worked example in shelter A: 40 people, rice at 25.00 MXN, 50 kg on hand, a
/// need of 174 kg. Returns (rice, its need's id).
async fn rice_need(app: &TestApp, w: &TwoShelters) -> (String, String) {
    let (sid, coord) = (&w.a, &w.coordinator_a);
    let r = app
        .call(
            Method::PUT,
            &format!("/shelters/{sid}/occupancy"),
            Some(coord),
            Some(json!({"occupied_beds": 40})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let rice = add_item(app, sid, coord, "Arroz", Some("25.00")).await;
    for (kind, quantity) in [("receipt", 80), ("consumption", 30)] {
        let body = json!({"item_id": rice, "kind": kind, "quantity": quantity});
        let r = movement(app, sid, coord, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{kind}: {r:?}");
    }
    let n = needs(app, sid, coord)
        .await
        .into_iter()
        .find(|n| n["item_id"] == rice.as_str())
        .expect("the rice need");
    assert_eq!(n["quantity"].as_f64(), Some(174.0), "{n:#}");
    (rice, text(&n["id"]))
}

async fn add_item(app: &TestApp, sid: &str, token: &str, name: &str, cost: Option<&str>) -> String {
    let mut body = json!({"name": name, "category": "food", "unit": "kg",
        "criticality": "essential", "basis": "consumable", "per_person": 0.4});
    if let Some(cost) = cost {
        body["unit_cost"] = mxn(cost);
    }
    let r = app
        .post(&format!("/shelters/{sid}/items"), Some(token), body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    r.str("id")
}

async fn movement(app: &TestApp, sid: &str, token: &str, body: Value) -> Reply {
    app.post(
        &format!("/shelters/{sid}/stock/movements"),
        Some(token),
        body,
    )
    .await
}

async fn needs(app: &TestApp, sid: &str, token: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/shelters/{sid}/needs?status=all"), Some(token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    items(&r)
}

async fn need(app: &TestApp, sid: &str, token: &str, nid: &str) -> Value {
    needs(app, sid, token)
        .await
        .into_iter()
        .find(|n| n["id"] == nid)
        .unwrap_or_else(|| panic!("no need {nid}"))
}

/// Creates a bill due in 20 days; returns (bill id, its need's id).
async fn bill(
    app: &TestApp,
    sid: &str,
    token: &str,
    category: &str,
    amount: &str,
) -> (String, String) {
    let r = app
        .post(
            &format!("/shelters/{sid}/bills"),
            Some(token),
            json!({"payee": "Proveedor", "category": category, "amount": mxn(amount),
                   "due_on": local_date(20)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let bid = r.str("id");
    let nid = needs(app, sid, token)
        .await
        .into_iter()
        .find(|n| n["bill_id"] == bid.as_str())
        .map(|n| text(&n["id"]))
        .expect("the bill's need");
    (bid, nid)
}

/// The bill as its shelter's list shows it.
async fn bill_now(app: &TestApp, sid: &str, token: &str, bid: &str) -> Value {
    let r = app
        .get(&format!("/shelters/{sid}/bills?limit=500"), Some(token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    items(&r)
        .into_iter()
        .find(|b| b["id"] == bid)
        .unwrap_or_else(|| panic!("no bill {bid}: {r:?}"))
}

async fn on_hand(app: &TestApp, sid: &str, token: &str, item: &str) -> f64 {
    let r = app
        .get(&format!("/shelters/{sid}/stock"), Some(token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    items(&r)
        .into_iter()
        .find(|l| l["item_id"] == item)
        .and_then(|l| l["on_hand"].as_f64())
        .unwrap_or_else(|| panic!("no stock line for {item}: {r:?}"))
}

async fn ledger(app: &TestApp, sid: &str, token: &str, item: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/shelters/{sid}/stock/movements?item_id={item}"),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    items(&r)
}

/// A money donation pledged by the donor and received by the admin; returns the received view.
async fn money_received(app: &TestApp, w: &TwoShelters, donor: &str, body: Value) -> Value {
    let r = app.post("/donations", Some(donor), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let r = app
        .call(
            Method::POST,
            &format!("/donations/{}/receive", r.str("id")),
            Some(&w.admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["status"], "received");
    r.body
}

fn items(r: &Reply) -> Vec<Value> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {r:?}"))
        .clone()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn amount(money: &Value) -> String {
    assert_eq!(money["currency"], "MXN", "{money}");
    text(&money["amount"])
}

/// Every field of a `422` is `prefix` or under it.
fn fields_under(r: &Reply, prefix: &str) {
    let fields = error_fields(r);
    assert!(
        !fields.is_empty()
            && fields
                .iter()
                .all(|f| f == prefix || f.starts_with(&format!("{prefix}."))),
        "{prefix}: {r:?}"
    );
}

fn unlinked_expenses_are_paid_from_own_funds(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        let (sid, coord) = (&w.a, &w.coordinator_a);
        let body = expense(
            "350.5",
            json!({"category": "other", "description": "Fumigación", "receipt_ref": "F-101"}),
        );

        let e = spent(&app, sid, coord, body.clone()).await;
        assert_eq!(e["shelter_id"], json!(sid));
        assert_eq!(e["amount"], mxn("350.50"));
        assert_eq!(e["category"], "other");
        assert_eq!(e["description"], "Fumigación");
        assert_eq!(e["spent_on"], json!(local_date(0)));
        assert_eq!(e["need_id"], Value::Null);
        assert_eq!(e["bill_id"], Value::Null);
        assert_eq!(e["funded_by"], json!([]));
        assert_eq!(e["own_funds"], mxn("350.50"));

        // Unlinked, the category is required.
        let r = spend(
            &app,
            sid,
            coord,
            expense("10.00", json!({"description": "x"})),
        )
        .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(error_fields(&r), ["category"], "{r:?}");
        // Not after the shelter's today (its own date, not UTC's).
        let r = spend(
            &app,
            sid,
            coord,
            expense(
                "10.00",
                json!({"category": "other", "spent_on": local_date(1)}),
            ),
        )
        .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(error_fields(&r), ["spent_on"], "{r:?}");
        // In the shelter's currency.
        let r = spend(
            &app,
            sid,
            coord,
            expense(
                "10.00",
                json!({"category": "other",
                "amount": {"amount": "10.00", "currency": "USD"}}),
            ),
        )
        .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        fields_under(&r, "amount");
        // At most one of need_id and bill_id, even when they are the same bill.
        let (bid, bill_need) = bill(&app, sid, coord, "electricity", "800.00").await;
        let r = spend(
            &app,
            sid,
            coord,
            expense("10.00", json!({"need_id": bill_need, "bill_id": bid})),
        )
        .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        let fields = error_fields(&r);
        assert!(
            !fields.is_empty() && fields.iter().all(|f| f == "need_id" || f == "bill_id"),
            "{r:?}"
        );
        assert_eq!(
            amount(&bill_now(&app, sid, coord, &bid).await["paid"]),
            "0.00"
        );

        // Donors and auditors never record expenses; another shelter's staff do not find it.
        let donor = token_of(&app, DONOR, refugio_core::Role::Donor).await;
        let auditor = token_of(&app, "auditor@example.org", refugio_core::Role::Auditor).await;
        for token in [&donor, &auditor] {
            let r = spend(&app, sid, token, body.clone()).await;
            assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        }
        let r = spend(&app, sid, &w.coordinator_b, body.clone()).await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        let r = app
            .get(&format!("/shelters/{sid}/expenses"), Some(&w.coordinator_b))
            .await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");

        // Nothing refused was written.
        let r = app
            .get(&format!("/shelters/{sid}/expenses"), Some(coord))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["items"], json!([e]), "{r:?}");
        assert_chains_verify(&app, &w.admin).await;
    });
}

fn expenses_pay_bills_up_to_what_is_owed(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        let (sid, coord) = (&w.a, &w.coordinator_a);
        let (rent, rent_need) = bill(&app, sid, coord, "rent", "9000.00").await;

        // A rent bill's need is `housing`: another category is refused, that one accepted.
        let r = spend(
            &app,
            sid,
            coord,
            expense("4000.00", json!({"bill_id": rent, "category": "utilities"})),
        )
        .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(error_fields(&r), ["category"], "{r:?}");
        let first = spent(
            &app,
            sid,
            coord,
            expense("4000.00", json!({"bill_id": rent, "category": "housing"})),
        )
        .await;
        assert_eq!(first["bill_id"], json!(rent));
        assert_eq!(first["category"], "housing");
        assert_eq!(first["funded_by"], json!([]));
        assert_eq!(first["own_funds"], mxn("4000.00"));
        let b = bill_now(&app, sid, coord, &rent).await;
        assert_eq!(b["status"], "partially_paid", "{b:#}");
        assert_eq!(b["paid"], mxn("4000.00"));
        let n = need(&app, sid, coord, &rent_need).await;
        assert_eq!(amount(&n["amount_needed"]), "5000.00", "{n:#}");

        // More than what is left (5000.00): 422, nothing paid.
        let r = spend(
            &app,
            sid,
            coord,
            expense("6000.00", json!({"bill_id": rent})),
        )
        .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        fields_under(&r, "amount");
        assert_eq!(
            bill_now(&app, sid, coord, &rent).await["paid"],
            mxn("4000.00")
        );

        // The rest pays it; its need is fulfilled.
        let last = spent(
            &app,
            sid,
            coord,
            expense("5000.00", json!({"bill_id": rent})),
        )
        .await;
        assert_eq!(last["category"], "housing", "the bill's need's: {last:#}");
        let b = bill_now(&app, sid, coord, &rent).await;
        assert_eq!(b["status"], "paid", "{b:#}");
        assert_eq!(b["paid"], mxn("9000.00"));
        let n = need(&app, sid, coord, &rent_need).await;
        assert_eq!(n["status"], "fulfilled", "{n:#}");
        let r = spend(&app, sid, coord, expense("0.01", json!({"bill_id": rent}))).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        fields_under(&r, "amount");

        // A bill need's id means its bill.
        let (power, power_need) = bill(&app, sid, coord, "electricity", "800.00").await;
        let e = spent(
            &app,
            sid,
            coord,
            expense("300.00", json!({"need_id": power_need})),
        )
        .await;
        assert_eq!(e["bill_id"], json!(power), "{e:#}");
        assert_eq!(e["category"], "utilities");
        let b = bill_now(&app, sid, coord, &power).await;
        assert_eq!(b["status"], "partially_paid", "{b:#}");
        assert_eq!(b["paid"], mxn("300.00"));

        // A void bill is not paid: 409.
        let (water, _) = bill(&app, sid, coord, "water", "250.00").await;
        let r = app
            .call(
                Method::POST,
                &format!("/shelters/{sid}/bills/{water}/void"),
                Some(&w.manager_a),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let r = spend(
            &app,
            sid,
            coord,
            expense("100.00", json!({"bill_id": water})),
        )
        .await;
        assert_problem(&r, StatusCode::CONFLICT, "invalid_transition");
        let b = bill_now(&app, sid, coord, &water).await;
        assert_eq!(b["status"], "void");
        assert_eq!(b["paid"], mxn("0.00"));

        let events = audit_events(&app, &w.admin, sid, "expense").await;
        assert_eq!(events.len(), 3, "{events:#?}");
        assert_chains_verify(&app, &w.admin).await;
    });
}

fn donations_fund_expenses_on_their_need_and_donors_see_it(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        let (sid, coord) = (&w.a, &w.coordinator_a);
        let (rice, nid) = rice_need(&app, &w).await;
        let donor = token_of(&app, DONOR, refugio_core::Role::Donor).await;

        let yesterday = (chrono::Utc::now().date_naive() - chrono::Duration::days(1))
            .format("%Y-%m-%d")
            .to_string();
        let r = app
            .call(
                Method::PUT,
                "/fx-rates",
                Some(&w.admin),
                Some(json!({"base": "USD", "quote": "MXN", "rate": "17.25", "as_of": yesterday})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let d = money_received(
            &app,
            &w,
            &donor,
            json!({"kind": "money", "amount": {"amount": "100.00", "currency": "USD"},
                   "restriction": {"need_id": nid}}),
        )
        .await;
        let did = text(&d["id"]);
        let allocations = d["allocations"].as_array().expect("allocations");
        assert_eq!(allocations.len(), 1, "{d:#}");
        let allocation = &allocations[0];
        assert_eq!(allocation["need_id"], json!(nid));
        assert_eq!(
            allocation["amount"],
            json!({"amount": "100.00", "currency": "USD"})
        );
        assert_eq!(allocation["amount_local"], mxn("1725.00"));
        let aid = text(&allocation["id"]);
        let n = need(&app, sid, coord, &nid).await;
        assert_eq!(amount(&n["amount_open"]), "2625.00", "{n:#}");
        assert_eq!(n["status"], "partially_funded");

        // 40 kg for 1000.00, received: all of it from the donation.
        let first = spent(
            &app,
            sid,
            coord,
            expense(
                "1000.00",
                json!({"need_id": nid, "quantity": 40, "description": "40 kg de arroz"}),
            ),
        )
        .await;
        assert_eq!(first["category"], "food", "the need's: {first:#}");
        assert_eq!(
            first["funded_by"],
            json!([{"donation_id": did, "allocation_id": aid, "amount": mxn("1000.00")}])
        );
        assert_eq!(first["own_funds"], mxn("0.00"));
        assert_eq!(on_hand(&app, sid, coord, &rice).await, 90.0);
        let receipt = &ledger(&app, sid, coord, &rice).await[0];
        assert_eq!(receipt["kind"], "receipt", "{receipt:#}");
        assert_eq!(receipt["expense_id"], first["id"], "{receipt:#}");
        assert_eq!(receipt["quantity"].as_f64(), Some(40.0));
        // The worked example: the price matched u, so amount_open did not move.
        let n = need(&app, sid, coord, &nid).await;
        assert_eq!(n["quantity"].as_f64(), Some(134.0), "{n:#}");
        assert_eq!(amount(&n["amount_needed"]), "3350.00", "{n:#}");
        assert_eq!(amount(&n["amount_covered"]), "725.00", "{n:#}");
        assert_eq!(amount(&n["amount_open"]), "2625.00", "{n:#}");

        // 2000.00 more: the 725.00 left, then the shelter's own money.
        let second = spent(
            &app,
            sid,
            coord,
            expense("2000.00", json!({"need_id": nid, "quantity": 80})),
        )
        .await;
        assert_eq!(
            second["funded_by"],
            json!([{"donation_id": did, "allocation_id": aid, "amount": mxn("725.00")}])
        );
        assert_eq!(second["own_funds"], mxn("1275.00"));
        let n = need(&app, sid, coord, &nid).await;
        assert_eq!(amount(&n["amount_covered"]), "0.00", "{n:#}");

        // The donor follows the money to both expenses.
        let r = app.get(&format!("/donations/{did}"), Some(&donor)).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let mut spends: Vec<(String, String)> = r.body["spent"]
            .as_array()
            .unwrap_or_else(|| panic!("no spent: {r:?}"))
            .iter()
            .map(|s| {
                assert_eq!(s["shelter_id"], json!(sid), "{s}");
                assert_eq!(s["spent_on"], json!(local_date(0)), "{s}");
                (text(&s["expense_id"]), amount(&s["amount"]))
            })
            .collect();
        spends.sort();
        let mut expected = vec![
            (text(&first["id"]), "1000.00".to_owned()),
            (text(&second["id"]), "725.00".to_owned()),
        ];
        expected.sort();
        assert_eq!(spends, expected, "{r:?}");

        // … and is told, once per expense.
        let email = app.last_email_to(DONOR);
        assert_eq!(email.template, "need_spent", "{email:?}");
        assert!(email.body.contains("725.00"), "{}", email.body);
        let mut conn = app.db.connect();
        let told = refugio_db::outbox::all(&mut conn)
            .expect("outbox")
            .into_iter()
            .filter(|m| m.to_email == DONOR && m.template == "need_spent")
            .count();
        assert_eq!(told, 2);
        drop(conn);
        assert_chains_verify(&app, &w.admin).await;
    });
}

fn goods_bought_but_not_received_count_as_incoming(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        let (sid, coord) = (&w.a, &w.coordinator_a);
        let (rice, nid) = rice_need(&app, &w).await;

        let e = spent(
            &app,
            sid,
            coord,
            expense(
                "1000.00",
                json!({"need_id": nid, "quantity": 40, "received": false}),
            ),
        )
        .await;
        let eid = text(&e["id"]);
        assert_eq!(e["received"], json!(false));
        // No receipt: on hand and the ledger are as they were.
        assert_eq!(on_hand(&app, sid, coord, &rice).await, 50.0);
        let moves = ledger(&app, sid, coord, &rice).await;
        assert_eq!(moves.len(), 2, "{moves:#?}");
        assert!(
            moves.iter().all(|m| m["expense_id"].is_null()),
            "{moves:#?}"
        );
        // Incoming goods count: quantity = T − H − P = 224 − 50 − 40.
        let n = need(&app, sid, coord, &nid).await;
        assert_eq!(n["quantity"].as_f64(), Some(134.0), "{n:#}");
        assert_eq!(amount(&n["amount_needed"]), "3350.00", "{n:#}");

        // Part of it arrives: H moves up, P down, the need stays put.
        let r = movement(
            &app,
            sid,
            coord,
            json!({"item_id": rice, "kind": "receipt", "quantity": 25, "expense_id": eid}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        assert_eq!(r.body["expense_id"], json!(eid));
        assert_eq!(r.body["on_hand_after"].as_f64(), Some(75.0));
        let n = need(&app, sid, coord, &nid).await;
        assert_eq!(n["quantity"].as_f64(), Some(134.0), "224 − 75 − 15: {n:#}");

        // Never more than bought (15 left), never another item, never anything but a receipt.
        let beans = add_item(&app, sid, coord, "Lentejas", None).await;
        for body in [
            json!({"item_id": rice, "kind": "receipt", "quantity": 20, "expense_id": eid}),
            json!({"item_id": beans, "kind": "receipt", "quantity": 5, "expense_id": eid}),
            json!({"item_id": rice, "kind": "consumption", "quantity": 5, "expense_id": eid}),
        ] {
            let r = movement(&app, sid, coord, body.clone()).await;
            assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        }
        assert_eq!(on_hand(&app, sid, coord, &rice).await, 75.0);
        assert_eq!(on_hand(&app, sid, coord, &beans).await, 0.0);

        // The rest arrives; then nothing more can.
        let r = movement(
            &app,
            sid,
            coord,
            json!({"item_id": rice, "kind": "receipt", "quantity": 15, "expense_id": eid}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let r = movement(
            &app,
            sid,
            coord,
            json!({"item_id": rice, "kind": "receipt", "quantity": 0.001, "expense_id": eid}),
        )
        .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(on_hand(&app, sid, coord, &rice).await, 90.0);
        let n = need(&app, sid, coord, &nid).await;
        assert_eq!(n["quantity"].as_f64(), Some(134.0), "224 − 90 − 0: {n:#}");
        assert_chains_verify(&app, &w.admin).await;
    });
}

fn expenses_are_listed_newest_first_with_their_funding(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        let (sid, coord) = (&w.a, &w.coordinator_a);
        let r = app
            .post(
                &format!("/shelters/{sid}/needs"),
                Some(coord),
                json!({"title": "Reparar el techo", "category": "other",
                       "amount_needed": mxn("1500.00"), "criticality": "essential"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let roof = r.str("id");
        let donor = token_of(&app, DONOR, refugio_core::Role::Donor).await;
        let d = money_received(
            &app,
            &w,
            &donor,
            json!({"kind": "money", "amount": mxn("500.00"), "restriction": {"need_id": roof}}),
        )
        .await;
        assert_eq!(d["allocations"][0]["amount_local"], mxn("500.00"), "{d:#}");

        let own = spent(
            &app,
            sid,
            coord,
            expense("120.00", json!({"category": "transport"})),
        )
        .await;
        let part = spent(
            &app,
            sid,
            coord,
            expense("200.00", json!({"need_id": roof})),
        )
        .await;
        let rest = spent(
            &app,
            sid,
            coord,
            expense("400.00", json!({"need_id": roof})),
        )
        .await;
        assert_eq!(part["funded_by"][0]["amount"], mxn("200.00"), "{part:#}");
        assert_eq!(rest["funded_by"][0]["amount"], mxn("300.00"), "{rest:#}");
        assert_eq!(rest["own_funds"], mxn("100.00"));
        // Another shelter's expense is not listed here.
        spent(
            &app,
            &w.b,
            &w.coordinator_b,
            expense("50.00", json!({"category": "other"})),
        )
        .await;

        let r = app
            .get(&format!("/shelters/{sid}/expenses"), Some(coord))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["items"], json!([rest, part, own]), "{r:?}");
        assert_eq!(r.body["next_cursor"], Value::Null);

        // One at a time.
        let mut seen = Vec::new();
        let mut path = format!("/shelters/{sid}/expenses?limit=1");
        loop {
            let r = app.get(&path, Some(coord)).await;
            assert_eq!(r.status, StatusCode::OK, "{r:?}");
            assert_eq!(items(&r).len(), 1, "{r:?}");
            seen.push(r.body["items"][0].clone());
            match r.body["next_cursor"].as_str() {
                Some(cursor) => {
                    path = format!("/shelters/{sid}/expenses?limit=1&cursor={cursor}");
                }
                None => break,
            }
            assert!(seen.len() < 3, "a cursor after the last expense: {r:?}");
        }
        assert_eq!(seen, [rest, part, own]);

        let events = audit_events(&app, &w.admin, sid, "expense").await;
        assert_eq!(events.len(), 3, "{events:#?}");
        assert_chains_verify(&app, &w.admin).await;
    });
}
