//! In-kind donations: goods pledged against an item need count as covered (`K × u`), never
//! beyond what is still unpledged; the shelter's staff list and receive them (in full or short,
//! as a receipt naming the donation); donors cancel them while pledged; roles, tenancy, and
//! the audit chains.

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
    goods_are_pledged_against_item_needs_up_to_what_is_unpledged,
    pledges_are_listed_for_their_shelter_and_hidden_from_others,
    the_shelter_receives_pledged_goods_in_full_or_short,
    a_pledge_is_cancelled_while_pledged_and_uncovers_its_need,
    unreceived_pledges_expire_and_their_donor_is_told,
);

/// ENGINE.md's worked example in shelter A (40 people, rice at 25.00 MXN, 50 kg on hand, a
/// need of 174 kg), two donors and an auditor.
struct World {
    w: TwoShelters,
    rice: String,
    need: String,
    donor: String,
    other_donor: String,
    auditor: String,
}

async fn token_of(app: &TestApp, email: &str, role: refugio_core::Role) -> String {
    app.create_user(email, role);
    app.login(email, PASSWORD).await.str("access_token")
}

async fn world(app: &TestApp) -> World {
    let w = two_shelters(app).await;
    let (sid, coord) = (w.a.clone(), w.coordinator_a.clone());
    let r = app
        .call(
            Method::PUT,
            &format!("/shelters/{sid}/occupancy"),
            Some(&coord),
            Some(json!({"occupied_beds": 40})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = app
        .post(
            &format!("/shelters/{sid}/items"),
            Some(&coord),
            json!({"name": "Arroz", "category": "food", "unit": "kg", "criticality": "essential",
                   "basis": "consumable", "per_person": 0.4,
                   "unit_cost": {"amount": "25.00", "currency": "MXN"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let rice = r.str("id");
    for (kind, quantity) in [("receipt", 80), ("consumption", 30)] {
        let r = app
            .post(
                &format!("/shelters/{sid}/stock/movements"),
                Some(&coord),
                json!({"item_id": rice, "kind": kind, "quantity": quantity}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{kind}: {r:?}");
    }
    let need = needs(app, &sid, &coord)
        .await
        .into_iter()
        .find(|n| n["item_id"] == rice.as_str())
        .expect("the rice need");
    assert_eq!(need["quantity"].as_f64(), Some(174.0), "{need:#}");
    assert_eq!(amount(&need["amount_needed"]), "4350.00");
    let donor = token_of(app, "donor@example.org", refugio_core::Role::Donor).await;
    let other_donor = token_of(app, "other-donor@example.org", refugio_core::Role::Donor).await;
    let auditor = token_of(app, "auditor@example.org", refugio_core::Role::Auditor).await;
    World {
        w,
        rice,
        need: text(&need["id"]),
        donor,
        other_donor,
        auditor,
    }
}

async fn needs(app: &TestApp, sid: &str, token: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/shelters/{sid}/needs?status=all"), Some(token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    items(&r)
}

/// The need `nid` as shelter `sid`'s staff see it.
async fn need(app: &TestApp, sid: &str, token: &str, nid: &str) -> Value {
    needs(app, sid, token)
        .await
        .into_iter()
        .find(|n| n["id"] == nid)
        .unwrap_or_else(|| panic!("no need {nid}"))
}

async fn pledge(app: &TestApp, token: &str, need_id: &str, quantity: f64) -> Reply {
    app.post(
        "/donations",
        Some(token),
        json!({"kind": "in_kind", "need_id": need_id, "quantity": quantity}),
    )
    .await
}

/// Pledges and returns the new donation's id.
async fn pledged(app: &TestApp, token: &str, need_id: &str, quantity: f64) -> String {
    let r = pledge(app, token, need_id, quantity).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["status"], "pledged", "{r:?}");
    r.str("id")
}

/// `POST /donations/{did}/{action}` with the given body, or none at all.
async fn act(app: &TestApp, did: &str, action: &str, token: &str, body: Option<Value>) -> Reply {
    app.call(
        Method::POST,
        &format!("/donations/{did}/{action}"),
        Some(token),
        body,
    )
    .await
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

fn items(r: &Reply) -> Vec<Value> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {r:?}"))
        .clone()
}

fn ids(r: &Reply) -> Vec<String> {
    items(r).iter().map(|v| text(&v["id"])).collect()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn amount(money: &Value) -> String {
    assert_eq!(money["currency"], "MXN", "{money}");
    text(&money["amount"])
}

fn timestamp(v: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_default())
        .unwrap_or_else(|_| panic!("not a timestamp: {v}"))
        .to_utc()
}

fn goods_are_pledged_against_item_needs_up_to_what_is_unpledged(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let s = world(&app).await;
        let (sid, coord) = (&s.w.a, &s.w.coordinator_a);

        // Roles that never pledge: 403 (decided before the body is looked at).
        for token in [coord, &s.auditor] {
            let r = pledge(&app, token, &s.need, 20.0).await;
            assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        }

        let r = pledge(&app, &s.donor, &s.need, 20.0).await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        assert_eq!(r.body["kind"], "in_kind");
        assert_eq!(r.body["status"], "pledged");
        assert_eq!(r.body["need_id"], json!(s.need));
        assert_eq!(r.body["quantity"].as_f64(), Some(20.0), "{r:?}");
        let expires = timestamp(&r.body["expires_at"]);
        let fourteen_days = chrono::Utc::now() + chrono::Duration::days(14);
        assert!(
            (expires - fourteen_days).num_seconds().abs() < 120,
            "expires_at {expires} ≠ about {fourteen_days}"
        );

        // K × u = 20 × 25.00 counts as covered; the quantity still lacking on hand is unchanged.
        let n = need(&app, sid, coord, &s.need).await;
        assert_eq!(amount(&n["amount_covered"]), "500.00", "{n:#}");
        assert_eq!(amount(&n["amount_open"]), "3850.00", "{n:#}");
        assert_eq!(n["status"], "partially_funded", "{n:#}");
        assert_eq!(n["quantity"].as_f64(), Some(174.0), "{n:#}");

        // At most what is not yet pledged: 174 − 20 = 154.
        let r = pledge(&app, &s.other_donor, &s.need, 155.0).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(error_fields(&r), ["quantity"], "{r:?}");
        let n = need(&app, sid, coord, &s.need).await;
        assert_eq!(
            amount(&n["amount_covered"]),
            "500.00",
            "nothing pledged: {n:#}"
        );
        pledged(&app, &s.other_donor, &s.need, 154.0).await;
        let n = need(&app, sid, coord, &s.need).await;
        assert_eq!(amount(&n["amount_covered"]), "4350.00", "{n:#}");
        assert_eq!(amount(&n["amount_open"]), "0.00", "{n:#}");
        assert_eq!(n["status"], "funded", "{n:#}");
        let r = pledge(&app, &s.donor, &s.need, 0.5).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(error_fields(&r), ["quantity"], "{r:?}");

        // Goods go to item needs only: not a bill's, not one that does not exist.
        let r = app
            .post(
                &format!("/shelters/{sid}/bills"),
                Some(coord),
                json!({"payee": "CFE", "category": "electricity",
                       "amount": {"amount": "800.00", "currency": "MXN"}, "due_on": "2030-01-15"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let bid = r.str("id");
        let bill_need = needs(&app, sid, coord)
            .await
            .into_iter()
            .find(|n| n["bill_id"] == bid.as_str())
            .map(|n| text(&n["id"]))
            .expect("the bill's need");
        for nid in [bill_need.as_str(), "0190a3c4-0000-7000-8000-000000000000"] {
            let r = pledge(&app, &s.donor, nid, 1.0).await;
            assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
            assert_eq!(error_fields(&r), ["need_id"], "{nid}: {r:?}");
        }

        // Only the two accepted pledges exist.
        let r = app
            .get(
                &format!("/shelters/{sid}/donations?kind=in_kind"),
                Some(coord),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(items(&r).len(), 2, "{r:?}");
    });
}

fn pledges_are_listed_for_their_shelter_and_hidden_from_others(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let s = world(&app).await;
        let (sid, coord) = (&s.w.a, &s.w.coordinator_a);
        let did = pledged(&app, &s.donor, &s.need, 20.0).await;

        let pledges = format!("/shelters/{sid}/donations?kind=in_kind&status=pledged");
        let r = app.get(&pledges, Some(coord)).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(ids(&r), [did.as_str()]);
        let listed = &items(&r)[0];
        assert_eq!(listed["need_id"], json!(s.need));
        assert_eq!(listed["item_id"], json!(s.rice));
        assert_eq!(listed["quantity"].as_f64(), Some(20.0));
        // The filters filter.
        for other in ["?kind=in_kind&status=received", "?kind=money"] {
            let r = app
                .get(&format!("/shelters/{sid}/donations{other}"), Some(coord))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{r:?}");
            assert!(items(&r).is_empty(), "{other}: {r:?}");
        }

        // Its donor follows it.
        let r = app.get(&format!("/donations/{did}"), Some(&s.donor)).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "pledged");

        // Another shelter's coordinator and another donor see nothing of it.
        let r = app.get(&pledges, Some(&s.w.coordinator_b)).await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        for token in [&s.w.coordinator_b, &s.other_donor] {
            let r = app.get(&format!("/donations/{did}"), Some(token)).await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        }
        let r = app.get("/me/donations", Some(&s.other_donor)).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert!(items(&r).is_empty(), "{r:?}");
    });
}

fn the_shelter_receives_pledged_goods_in_full_or_short(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let s = world(&app).await;
        let (sid, coord) = (&s.w.a, &s.w.coordinator_a);
        let did = pledged(&app, &s.donor, &s.need, 20.0).await;

        // Donors never receive (403); another shelter's staff do not find it (404).
        for token in [&s.donor, &s.other_donor] {
            let r = act(&app, &did, "receive", token, None).await;
            assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        }
        let r = act(&app, &did, "receive", &s.w.coordinator_b, None).await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        // More than was pledged: 422.
        let r = act(&app, &did, "receive", coord, Some(json!({"quantity": 30}))).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(error_fields(&r), ["quantity"], "{r:?}");
        assert_eq!(on_hand(&app, sid, coord, &s.rice).await, 50.0);

        // In full, with an empty body.
        let r = act(&app, &did, "receive", coord, None).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["id"], json!(did));
        assert_eq!(r.body["status"], "received");
        assert_eq!(r.body["received_quantity"].as_f64(), Some(20.0), "{r:?}");
        assert_eq!(on_hand(&app, sid, coord, &s.rice).await, 70.0);
        let ledger = app
            .get(
                &format!("/shelters/{sid}/stock/movements?item_id={}", s.rice),
                Some(coord),
            )
            .await;
        assert_eq!(ledger.status, StatusCode::OK, "{ledger:?}");
        let newest = &items(&ledger)[0];
        assert_eq!(newest["kind"], "receipt", "{newest:#}");
        assert_eq!(newest["donation_id"], json!(did), "{newest:#}");
        assert_eq!(newest["quantity"].as_f64(), Some(20.0));
        assert_eq!(newest["on_hand_after"].as_f64(), Some(70.0));
        // The goods are on hand now, not pledged: H 70, K 0.
        let n = need(&app, sid, coord, &s.need).await;
        assert_eq!(n["quantity"].as_f64(), Some(154.0), "{n:#}");
        assert_eq!(amount(&n["amount_covered"]), "0.00", "{n:#}");

        // Twice: 409, and no second receipt.
        let r = act(&app, &did, "receive", coord, None).await;
        assert_problem(&r, StatusCode::CONFLICT, "invalid_transition");
        assert_eq!(on_hand(&app, sid, coord, &s.rice).await, 70.0);

        // Short: 10 of 20 closes the pledge.
        let short = pledged(&app, &s.donor, &s.need, 20.0).await;
        let r = act(
            &app,
            &short,
            "receive",
            coord,
            Some(json!({"quantity": 10})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "received");
        assert_eq!(r.body["quantity"].as_f64(), Some(20.0), "{r:?}");
        assert_eq!(r.body["received_quantity"].as_f64(), Some(10.0), "{r:?}");
        assert_eq!(on_hand(&app, sid, coord, &s.rice).await, 80.0);
        let r = act(
            &app,
            &short,
            "receive",
            coord,
            Some(json!({"quantity": 10})),
        )
        .await;
        assert_problem(&r, StatusCode::CONFLICT, "invalid_transition");
        let n = need(&app, sid, coord, &s.need).await;
        assert_eq!(
            n["quantity"].as_f64(),
            Some(144.0),
            "nothing left pledged: {n:#}"
        );
        assert_eq!(amount(&n["amount_covered"]), "0.00", "{n:#}");
        let r = app
            .get(
                &format!("/shelters/{sid}/donations?kind=in_kind&status=pledged"),
                Some(coord),
            )
            .await;
        assert!(items(&r).is_empty(), "{r:?}");

        // The shelter's chain has the pledges and their receipt; every chain verifies.
        let events = audit_events(&app, &s.w.admin, sid, "donation").await;
        let of = |id: &str| -> Vec<String> {
            events
                .iter()
                .filter(|e| e["entity_id"] == id)
                .map(|e| text(&e["action"]))
                .collect()
        };
        assert_eq!(
            of(&did),
            ["donation.pledged", "donation.received"],
            "{events:#?}"
        );
        assert_eq!(of(&short), ["donation.pledged", "donation.received"]);
        assert_chains_verify(&app, &s.w.admin).await;
    });
}

fn a_pledge_is_cancelled_while_pledged_and_uncovers_its_need(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let s = world(&app).await;
        let (sid, coord) = (&s.w.a, &s.w.coordinator_a);
        let did = pledged(&app, &s.donor, &s.need, 20.0).await;
        let n = need(&app, sid, coord, &s.need).await;
        assert_eq!(amount(&n["amount_covered"]), "500.00", "{n:#}");

        // Auditors write nothing; another donor and another shelter's staff do not find it.
        let r = act(&app, &did, "cancel", &s.auditor, None).await;
        assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        for token in [&s.other_donor, &s.w.coordinator_b] {
            let r = act(&app, &did, "cancel", token, None).await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        }
        let n = need(&app, sid, coord, &s.need).await;
        assert_eq!(amount(&n["amount_covered"]), "500.00", "{n:#}");

        // Its donor cancels: the goods no longer cover the need.
        let r = act(&app, &did, "cancel", &s.donor, None).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "cancelled");
        let n = need(&app, sid, coord, &s.need).await;
        assert_eq!(amount(&n["amount_covered"]), "0.00", "{n:#}");
        assert_eq!(amount(&n["amount_open"]), "4350.00", "{n:#}");
        assert_eq!(n["status"], "open", "{n:#}");

        // Not pledged any more: neither cancelled again nor received.
        let r = act(&app, &did, "cancel", &s.donor, None).await;
        assert_problem(&r, StatusCode::CONFLICT, "invalid_transition");
        let r = act(&app, &did, "receive", coord, None).await;
        assert_problem(&r, StatusCode::CONFLICT, "invalid_transition");
        assert_eq!(on_hand(&app, sid, coord, &s.rice).await, 50.0);
        // The whole quantity is pledgeable again.
        pledged(&app, &s.other_donor, &s.need, 174.0).await;

        let events = audit_events(&app, &s.w.admin, sid, "donation").await;
        let actions: Vec<String> = events
            .iter()
            .filter(|e| e["entity_id"] == did.as_str())
            .map(|e| text(&e["action"]))
            .collect();
        assert_eq!(
            actions,
            ["donation.pledged", "donation.cancelled"],
            "{events:#?}"
        );
        assert_chains_verify(&app, &s.w.admin).await;
    });
}

/// Pledges left unreceived past their time expire (the maintenance loop's job, run here by
/// hand after backdating the deadline); the need stops counting them and the donor is told.
fn unreceived_pledges_expire_and_their_donor_is_told(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let world = world(&app).await;
        let (sid, coord) = (world.w.a.clone(), world.w.coordinator_a.clone());
        let late = pledged(&app, &world.donor, &world.need, 20.0).await;
        let fresh = pledged(&app, &world.donor, &world.need, 10.0).await;
        assert_eq!(
            amount(&need(&app, &sid, &coord, &world.need).await["amount_covered"]),
            "750.00"
        );

        {
            use diesel::prelude::*;
            use refugio_db::schema::donations;
            let mut conn = app.db.connect();
            diesel::update(donations::table.find(&late))
                .set(donations::expires_at.eq(refugio_db::now() - chrono::Duration::minutes(1)))
                .execute(&mut conn)
                .expect("backdate the pledge");
        }
        let url = refugio_db::DatabaseUrl::parse(&app.db.url_string()).expect("url");
        let pool = refugio_db::pool(&url, 2).expect("pool");
        let expired = refugio_api::services::donations::expire_pledges(&pool).expect("expire");
        assert_eq!(expired, 1);
        assert_eq!(
            refugio_api::services::donations::expire_pledges(&pool).expect("again"),
            0
        );

        let r = app
            .get(&format!("/donations/{late}"), Some(&world.donor))
            .await;
        assert_eq!(r.body["status"], "expired", "{r:?}");
        let r = app
            .get(&format!("/donations/{fresh}"), Some(&world.donor))
            .await;
        assert_eq!(r.body["status"], "pledged", "{r:?}");
        assert_eq!(
            amount(&need(&app, &sid, &coord, &world.need).await["amount_covered"]),
            "250.00"
        );
        let mail = app.last_email_to("donor@example.org");
        assert_eq!(mail.template, "pledge_expired");
        assert!(mail.body.contains("20 kg"), "{}", mail.body);
        // An expired pledge can be neither received nor cancelled.
        let r = app
            .call(
                Method::POST,
                &format!("/donations/{late}/receive"),
                Some(&coord),
                None,
            )
            .await;
        assert_problem(&r, StatusCode::CONFLICT, "invalid_transition");
        assert_chains_verify(&app, &world.w.admin).await;
    });
}
