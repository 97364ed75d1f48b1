//! Needs: stock below the reorder point opens a need on the public board, receipts fulfil it,
//! cancel keeps an item quiet, bills and manual needs, filters and pagination, tenancy,
//! critical alerts through the outbox, and the once-a-day recompute.

use crate::support::{run, spawn_app, Reply, TestApp, PASSWORD};
use refugio_db::backend_tests;
use refugio_db::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    the_worked_example_is_on_the_public_board,
    receipts_up_to_the_target_fulfil_a_need,
    untracked_items_open_no_needs_and_costless_items_open_in_kind_needs,
    cancel_means_what_it_says_for_each_kind,
    another_shelters_staff_cannot_see_or_cancel_needs,
    the_board_filters_and_pages_in_board_order,
    critical_needs_alert_managers_and_coordinators_once,
    the_daily_recompute_claims_each_shelter_day_once,
    edits_to_occupancy_and_items_move_their_needs,
    bill_edits_move_their_needs,
    invalid_manual_needs_are_refused,
);

/// A shelter with a manager and a coordinator: (shelter, manager token, coordinator token).
async fn shelter(app: &TestApp, admin: &str, name: &str, tag: &str) -> (String, String, String) {
    let sid = app.create_shelter(admin, name).await;
    let (_, manager) = app
        .staff(
            admin,
            &format!("manager-{tag}@example.org"),
            &sid,
            "manager",
        )
        .await;
    let (_, coord) = app
        .staff(
            admin,
            &format!("coord-{tag}@example.org"),
            &sid,
            "coordinator",
        )
        .await;
    (sid, manager, coord)
}

async fn occupy(app: &TestApp, sid: &str, token: &str, beds: i64) {
    let r = app
        .call(
            Method::PUT,
            &format!("/shelters/{sid}/occupancy"),
            Some(token),
            Some(json!({"occupied_beds": beds})),
        )
        .await;
    assert!(r.status.is_success(), "{r:?}");
}

/// Adds a consumable item with the default reorder/target/lead days; returns its id.
async fn add_item(
    app: &TestApp,
    sid: &str,
    token: &str,
    (name, category, unit, criticality): (&str, &str, &str, &str),
    per_person: f64,
    unit_cost: Option<&str>,
) -> String {
    let mut body = json!({"name": name, "category": category, "unit": unit,
        "criticality": criticality, "basis": "consumable", "per_person": per_person});
    if let Some(cost) = unit_cost {
        body["unit_cost"] = json!({"amount": cost, "currency": "MXN"});
    }
    let r = app
        .post(&format!("/shelters/{sid}/items"), Some(token), body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    r.str("id")
}

/// Rice as in ENGINE.md's worked example: 0.4 kg/person/day, 25.00 MXN, essential.
async fn add_rice(app: &TestApp, sid: &str, token: &str) -> String {
    add_item(
        app,
        sid,
        token,
        ("Arroz", "food", "kg", "essential"),
        0.4,
        Some("25.00"),
    )
    .await
}

async fn movement(app: &TestApp, sid: &str, token: &str, item: &str, kind: &str, q: f64) {
    let r = app
        .post(
            &format!("/shelters/{sid}/stock/movements"),
            Some(token),
            json!({"item_id": item, "kind": kind, "quantity": q}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{kind} {q}: {r:?}");
}

/// One page of the public board (`query` starts with `?` or is empty).
async fn board(app: &TestApp, query: &str, token: Option<&str>) -> Vec<Value> {
    let r = app.get(&format!("/needs{query}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {r:?}");
    items(&r)
}

async fn shelter_needs(app: &TestApp, sid: &str, query: &str, token: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/shelters/{sid}/needs{query}"), Some(token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {r:?}");
    items(&r)
}

fn items(r: &Reply) -> Vec<Value> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {r:?}"))
        .clone()
}

/// The needs of `item` among `needs`.
fn of_item(needs: &[Value], item: &str) -> Vec<Value> {
    needs
        .iter()
        .filter(|n| n["item_id"] == item)
        .cloned()
        .collect()
}

/// The one need of `item` among `needs`.
fn the_need_of(needs: &[Value], item: &str) -> Value {
    let found = of_item(needs, item);
    assert_eq!(found.len(), 1, "one need of {item} expected in {needs:#?}");
    found[0].clone()
}

fn ids(needs: &[Value]) -> Vec<String> {
    needs.iter().map(|n| text(&n["id"])).collect()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn amount(v: &Value) -> String {
    text(&v["amount"])
}

async fn cancel(app: &TestApp, sid: &str, nid: &str, token: &str) -> Reply {
    app.call(
        Method::POST,
        &format!("/shelters/{sid}/needs/{nid}/cancel"),
        Some(token),
        None,
    )
    .await
}

async fn open_needs(app: &TestApp, sid: &str) -> i64 {
    let r = app.get(&format!("/shelters/{sid}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["open_needs"].as_i64().unwrap_or(-1)
}

/// A date `days` from today (UTC), as `YYYY-MM-DD`.
fn in_days(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

fn driver_texts(need: &Value) -> Vec<(String, String)> {
    need["priority"]["drivers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|d| (text(&d["code"]), text(&d["text"])))
        .collect()
}

fn driver(need: &Value, code: &str) -> String {
    driver_texts(need)
        .into_iter()
        .find(|(c, _)| c == code)
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("no driver {code} in {need:#}"))
}

fn the_worked_example_is_on_the_public_board(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let (sid, _, coord) = shelter(&app, &admin, "Casa Arroz", "a").await;
        occupy(&app, &sid, &coord, 40).await;
        let rice = add_rice(&app, &sid, &coord).await;
        movement(&app, &sid, &coord, &rice, "receipt", 80.0).await;
        movement(&app, &sid, &coord, &rice, "consumption", 30.0).await;

        // No token: the board is public.
        let needs = board(&app, &format!("?shelter_id={sid}"), None).await;
        let need = the_need_of(&needs, &rice);
        assert_eq!(needs.len(), 1, "{needs:#?}");
        assert_eq!(need["shelter_id"], json!(sid));
        assert_eq!(need["shelter_name"], "Casa Arroz");
        assert_eq!(need["kind"], "item");
        assert_eq!(need["bill_id"], Value::Null);
        assert_eq!(need["category"], "food");
        assert_eq!(need["title"], "Arroz");
        assert_eq!(need["unit"], "kg");
        assert_eq!(num(&need["quantity"]), 174.0, "{need:#}");
        assert_eq!(
            need["amount_needed"],
            json!({"amount": "4350.00", "currency": "MXN"})
        );
        assert_eq!(
            need["amount_covered"],
            json!({"amount": "0.00", "currency": "MXN"})
        );
        assert_eq!(
            need["amount_open"],
            json!({"amount": "4350.00", "currency": "MXN"})
        );
        assert_eq!(need["status"], "open");
        let p = &need["priority"];
        assert_eq!(num(&p["score"]), 79.9, "{p:#}");
        assert_eq!(p["band"], "high");
        assert_eq!(p["criticality"], "essential");
        assert_eq!(num(&p["days_left"]), 3.125, "{p:#}");
        for field in ["opened_at", "updated_at", "computed_at"] {
            assert!(
                chrono::DateTime::parse_from_rfc3339(need[field].as_str().unwrap_or_default())
                    .is_ok(),
                "{field}: {need:#}"
            );
        }

        // Drivers in English by default …
        assert_eq!(
            driver(&need, "demand_norm"),
            "40 people × 0.4 kg/day = 16 kg/day"
        );
        assert_eq!(driver(&need, "days_left"), "3.1 days left");
        assert_eq!(driver(&need, "lead_time"), "restocking takes 3 days");

        // … and in Spanish when asked.
        let es = app
            .send(
                Method::GET,
                &format!("/needs?shelter_id={sid}"),
                None,
                None,
                &[("Accept-Language", "es")],
            )
            .await;
        assert_eq!(es.status, StatusCode::OK, "{es:?}");
        let need_es = the_need_of(&items(&es), &rice);
        assert_eq!(
            driver(&need_es, "demand_norm"),
            "40 personas × 0.4 kg/día = 16 kg/día"
        );
        assert_eq!(driver(&need_es, "days_left"), "quedan 3.1 días");
        assert_eq!(driver(&need_es, "lead_time"), "plazo de reposición 3 días");
        assert_eq!(need_es["id"], need["id"]);

        // The shelter's own view shows the same need.
        let own = shelter_needs(&app, &sid, "", &coord).await;
        assert_eq!(ids(&own), ids(&needs));
        assert_eq!(num(&own[0]["priority"]["score"]), 79.9);
        // So does the board without a shelter filter.
        assert_eq!(ids(&board(&app, "", None).await), ids(&needs));
    });
}

fn receipts_up_to_the_target_fulfil_a_need(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let (sid, _, coord) = shelter(&app, &admin, "Casa Arroz", "a").await;
        occupy(&app, &sid, &coord, 40).await;
        let rice = add_rice(&app, &sid, &coord).await;
        movement(&app, &sid, &coord, &rice, "receipt", 80.0).await;
        // Below the reorder point (112) from the first receipt: quantity T − H = 224 − 80.
        let first = the_need_of(
            &board(&app, &format!("?shelter_id={sid}"), None).await,
            &rice,
        );
        assert_eq!(num(&first["quantity"]), 144.0, "{first:#}");
        movement(&app, &sid, &coord, &rice, "consumption", 30.0).await;
        let need = the_need_of(
            &board(&app, &format!("?shelter_id={sid}"), None).await,
            &rice,
        );
        assert_eq!(need["id"], first["id"], "the same need, recomputed");
        assert_eq!(num(&need["quantity"]), 174.0);
        assert_eq!(open_needs(&app, &sid).await, 1);

        // A receipt that is not enough keeps it open, smaller.
        movement(&app, &sid, &coord, &rice, "receipt", 100.0).await;
        let need = the_need_of(
            &board(&app, &format!("?shelter_id={sid}"), None).await,
            &rice,
        );
        assert_eq!(num(&need["quantity"]), 74.0, "{need:#}");
        assert_eq!(amount(&need["amount_needed"]), "1850.00");
        assert_eq!(need["status"], "open");
        assert_eq!(open_needs(&app, &sid).await, 1);

        // Up to the target: H = 224 ≥ T.
        movement(&app, &sid, &coord, &rice, "receipt", 74.0).await;
        let open = board(&app, &format!("?shelter_id={sid}"), None).await;
        assert!(of_item(&open, &rice).is_empty(), "{open:#?}");
        let all = board(&app, &format!("?shelter_id={sid}&status=all"), None).await;
        let done = the_need_of(&all, &rice);
        assert_eq!(done["id"], first["id"]);
        assert_eq!(done["status"], "fulfilled", "{done:#}");
        let fulfilled = board(&app, &format!("?shelter_id={sid}&status=fulfilled"), None).await;
        assert_eq!(ids(&fulfilled), vec![text(&first["id"])]);
        assert_eq!(open_needs(&app, &sid).await, 0);

        // Consumption that stays above the reorder point opens nothing new.
        movement(&app, &sid, &coord, &rice, "consumption", 100.0).await;
        let all = board(&app, &format!("?shelter_id={sid}&status=all"), None).await;
        assert_eq!(of_item(&all, &rice).len(), 1, "{all:#?}");
        // Below it again: a new need, the old one stays fulfilled.
        movement(&app, &sid, &coord, &rice, "consumption", 20.0).await;
        let all = board(&app, &format!("?shelter_id={sid}&status=all"), None).await;
        let both = of_item(&all, &rice);
        assert_eq!(both.len(), 2, "{all:#?}");
        let new = the_need_of(
            &board(&app, &format!("?shelter_id={sid}"), None).await,
            &rice,
        );
        assert_ne!(new["id"], first["id"]);
        assert_eq!(num(&new["quantity"]), 120.0, "224 − 104: {new:#}");
        assert_eq!(open_needs(&app, &sid).await, 1);
    });
}

fn untracked_items_open_no_needs_and_costless_items_open_in_kind_needs(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let (sid, _, coord) = shelter(&app, &admin, "Casa Nueva", "a").await;
        occupy(&app, &sid, &coord, 40).await;
        // The default catalog (water, rice, mats …) is untracked: nobody counted it yet.
        assert!(board(&app, &format!("?shelter_id={sid}&status=all"), None)
            .await
            .is_empty());
        assert!(board(&app, "?status=all", None).await.is_empty());
        assert!(shelter_needs(&app, &sid, "?status=all", &coord)
            .await
            .is_empty());
        assert_eq!(open_needs(&app, &sid).await, 0);
        // An item created but never moved is untracked as well.
        let costly = add_rice(&app, &sid, &coord).await;
        occupy(&app, &sid, &coord, 41).await;
        assert!(board(&app, "?status=all", None).await.is_empty());

        // No unit cost: the need is covered in kind only, so it has no amounts.
        let beans = add_item(
            &app,
            &sid,
            &coord,
            ("Lentejas", "food", "kg", "essential"),
            0.05,
            None,
        )
        .await;
        occupy(&app, &sid, &coord, 40).await;
        movement(&app, &sid, &coord, &beans, "receipt", 5.0).await;
        let needs = board(&app, &format!("?shelter_id={sid}"), None).await;
        assert!(of_item(&needs, &costly).is_empty(), "{needs:#?}");
        let need = the_need_of(&needs, &beans);
        // D = 2, R = 14, T = 28: quantity 23; 2.5 days left.
        assert_eq!(num(&need["quantity"]), 23.0, "{need:#}");
        assert_eq!(need["amount_needed"], Value::Null);
        assert_eq!(need["amount_covered"], Value::Null);
        assert_eq!(need["amount_open"], Value::Null);
        assert_eq!(need["status"], "open");
        assert_eq!(num(&need["priority"]["days_left"]), 2.5);
        // 0.5 × 0.6 + 0.3 × 1 + 0.2 × 1 = 0.8.
        assert_eq!(num(&need["priority"]["score"]), 80.0, "{need:#}");
        assert_eq!(need["priority"]["band"], "high");
        assert!(
            driver_texts(&need).iter().any(|(c, _)| c == "in_kind_only"),
            "{need:#}"
        );
        assert_eq!(open_needs(&app, &sid).await, 1);
    });
}

fn cancel_means_what_it_says_for_each_kind(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let (sid, manager, coord) = shelter(&app, &admin, "Casa Arroz", "a").await;
        occupy(&app, &sid, &coord, 40).await;
        let rice = add_rice(&app, &sid, &coord).await;
        movement(&app, &sid, &coord, &rice, "receipt", 80.0).await;
        movement(&app, &sid, &coord, &rice, "consumption", 30.0).await;
        let need = the_need_of(
            &board(&app, &format!("?shelter_id={sid}"), None).await,
            &rice,
        );
        let nid = text(&need["id"]);

        // Coordinators may not cancel; managers may.
        let r = cancel(&app, &sid, &nid, &coord).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
        let r = cancel(&app, &sid, &nid, &manager).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "cancelled", "{r:?}");
        assert_eq!(r.body["id"], json!(nid));
        assert!(board(&app, &format!("?shelter_id={sid}"), None)
            .await
            .is_empty());
        assert_eq!(open_needs(&app, &sid).await, 0);

        // A cancelled need is final.
        let again = cancel(&app, &sid, &nid, &manager).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{again:?}");
        assert_eq!(again.problem_code(), "invalid_transition");

        // Suppressed: more consumption below the reorder point opens nothing.
        movement(&app, &sid, &coord, &rice, "consumption", 10.0).await;
        let all = board(&app, &format!("?shelter_id={sid}&status=all"), None).await;
        assert_eq!(ids(&of_item(&all, &rice)), vec![nid.clone()], "{all:#?}");

        // Restocked up to the reorder point (H = 112 = R): still nothing to ask for …
        movement(&app, &sid, &coord, &rice, "receipt", 72.0).await;
        let all = board(&app, &format!("?shelter_id={sid}&status=all"), None).await;
        assert_eq!(of_item(&all, &rice).len(), 1, "{all:#?}");
        // … but once it falls below again, a new need opens.
        movement(&app, &sid, &coord, &rice, "consumption", 1.0).await;
        let reopened = the_need_of(
            &board(&app, &format!("?shelter_id={sid}"), None).await,
            &rice,
        );
        assert_ne!(text(&reopened["id"]), nid);
        assert_eq!(num(&reopened["quantity"]), 113.0, "224 − 111: {reopened:#}");
        assert_eq!(reopened["status"], "open");

        // Cancel that one too; editing the item lifts the suppression at once.
        let r = cancel(&app, &sid, &text(&reopened["id"]), &manager).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        movement(&app, &sid, &coord, &rice, "consumption", 1.0).await;
        assert!(board(&app, &format!("?shelter_id={sid}"), None)
            .await
            .is_empty());
        let r = app
            .call(
                Method::PATCH,
                &format!("/shelters/{sid}/items/{rice}"),
                Some(&coord),
                Some(json!({"unit_cost": {"amount": "26.00", "currency": "MXN"}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let edited = the_need_of(
            &board(&app, &format!("?shelter_id={sid}"), None).await,
            &rice,
        );
        assert_ne!(edited["id"], reopened["id"]);
        assert_eq!(num(&edited["quantity"]), 114.0, "224 − 110: {edited:#}");
        assert_eq!(amount(&edited["amount_needed"]), "2964.00");
        let all = board(&app, &format!("?shelter_id={sid}&status=all"), None).await;
        assert_eq!(of_item(&all, &rice).len(), 3, "{all:#?}");

        // A manual need: opened by staff, cancelled by a manager.
        let needed_by = in_days(10);
        let r = app
            .post(
                &format!("/shelters/{sid}/needs"),
                Some(&coord),
                json!({"title": "Reparar el techo", "category": "other",
                       "amount_needed": {"amount": "1500.00", "currency": "MXN"},
                       "criticality": "essential", "needed_by": needed_by}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let manual = r.body.clone();
        assert_eq!(manual["kind"], "manual");
        assert_eq!(manual["title"], "Reparar el techo");
        assert_eq!(manual["category"], "other");
        assert_eq!(manual["item_id"], Value::Null);
        assert_eq!(manual["bill_id"], Value::Null);
        assert_eq!(manual["quantity"], Value::Null);
        assert_eq!(amount(&manual["amount_needed"]), "1500.00");
        assert_eq!(amount(&manual["amount_open"]), "1500.00");
        assert_eq!(manual["status"], "open");
        assert_eq!(manual["priority"]["criticality"], "essential");
        let mid = text(&manual["id"]);
        let public = board(&app, &format!("?shelter_id={sid}"), None).await;
        assert!(ids(&public).contains(&mid), "{public:#?}");
        let r = cancel(&app, &sid, &mid, &manager).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "cancelled");
        let public = board(&app, &format!("?shelter_id={sid}"), None).await;
        assert!(!ids(&public).contains(&mid), "{public:#?}");

        // A bill need: public title is what the bill is for, never whom it is owed to.
        let r = app
            .post(
                &format!("/shelters/{sid}/bills"),
                Some(&coord),
                json!({"payee": "Inmobiliaria Sol", "category": "rent",
                       "amount": {"amount": "9000.00", "currency": "MXN"}, "due_on": in_days(20)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let bid = r.str("id");
        let of_bill = |needs: &[Value]| -> Value {
            let found: Vec<&Value> = needs
                .iter()
                .filter(|n| n["bill_id"] == bid.as_str())
                .collect();
            assert_eq!(found.len(), 1, "{needs:#?}");
            found[0].clone()
        };
        let anon_page = app.get(&format!("/needs?shelter_id={sid}"), None).await;
        assert_eq!(anon_page.status, StatusCode::OK);
        let anon = of_bill(&items(&anon_page));
        assert_eq!(anon["kind"], "bill");
        assert_eq!(anon["title"], "Rent", "{anon:#}");
        assert_eq!(anon["category"], "housing");
        assert_eq!(anon["quantity"], Value::Null);
        assert_eq!(anon["item_id"], Value::Null);
        assert_eq!(amount(&anon["amount_needed"]), "9000.00");
        assert_eq!(amount(&anon["amount_open"]), "9000.00");
        assert_eq!(anon["priority"]["criticality"], "vital");
        assert_eq!(anon["status"], "open");
        assert!(
            !anon_page.body.to_string().contains("Inmobiliaria"),
            "the payee leaks: {anon_page:?}"
        );
        let es = app
            .send(
                Method::GET,
                &format!("/needs?shelter_id={sid}"),
                None,
                None,
                &[("Accept-Language", "es")],
            )
            .await;
        assert_eq!(of_bill(&items(&es))["title"], "Renta");
        assert!(!es.body.to_string().contains("Inmobiliaria"));
        // A donor is the public too.
        app.create_user("donor@example.org", refugio_core::Role::Donor);
        let donor = app
            .login("donor@example.org", PASSWORD)
            .await
            .str("access_token");
        let donor_page = app
            .get(&format!("/needs?shelter_id={sid}"), Some(&donor))
            .await;
        assert_eq!(of_bill(&items(&donor_page))["title"], "Rent");
        assert!(!donor_page.body.to_string().contains("Inmobiliaria"));
        // The shelter's staff see the payee, on the board and on the shelter's needs.
        let staff_title = text(
            &of_bill(&board(&app, &format!("?shelter_id={sid}"), Some(&coord)).await)["title"],
        );
        assert!(staff_title.contains("Inmobiliaria Sol"), "{staff_title}");
        let own = shelter_needs(&app, &sid, "", &manager).await;
        assert!(text(&of_bill(&own)["title"]).contains("Inmobiliaria Sol"));
        let bill_nid = text(&anon["id"]);

        // Cancelling the bill's need voids the bill.
        let r = cancel(&app, &sid, &bill_nid, &manager).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "cancelled", "{r:?}");
        let bills = app
            .get(&format!("/shelters/{sid}/bills"), Some(&manager))
            .await;
        assert_eq!(bills.status, StatusCode::OK, "{bills:?}");
        let bill = items(&bills)
            .into_iter()
            .find(|b| b["id"] == bid.as_str())
            .unwrap_or_else(|| panic!("bill missing: {bills:?}"));
        assert_eq!(bill["status"], "void", "{bill:#}");
        let all = board(&app, &format!("?shelter_id={sid}&status=all"), None).await;
        assert_eq!(of_bill(&all)["status"], "cancelled");
        let r = cancel(&app, &sid, &bill_nid, &manager).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");

        // Unknown needs are not found.
        let r = cancel(&app, &sid, "not-an-id", &manager).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
        let r = cancel(&app, &sid, &refugio_core::new_id(), &manager).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    });
}

fn another_shelters_staff_cannot_see_or_cancel_needs(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let (a, manager_a, coord_a) = shelter(&app, &admin, "Casa A", "a").await;
        let (b, manager_b, coord_b) = shelter(&app, &admin, "Casa B", "b").await;
        occupy(&app, &a, &coord_a, 40).await;
        let rice = add_rice(&app, &a, &coord_a).await;
        movement(&app, &a, &coord_a, &rice, "receipt", 50.0).await;
        let need = the_need_of(&board(&app, &format!("?shelter_id={a}"), None).await, &rice);
        let nid = text(&need["id"]);
        let r = app
            .post(
                &format!("/shelters/{a}/bills"),
                Some(&coord_a),
                json!({"payee": "Inmobiliaria Sol", "category": "rent",
                       "amount": {"amount": "9000.00", "currency": "MXN"}, "due_on": in_days(20)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        app.create_user("auditor@example.org", refugio_core::Role::Auditor);
        let auditor = app
            .login("auditor@example.org", PASSWORD)
            .await
            .str("access_token");
        app.create_user("donor@example.org", refugio_core::Role::Donor);
        let donor = app
            .login("donor@example.org", PASSWORD)
            .await
            .str("access_token");
        let manual = json!({"title": "Techo", "category": "other",
            "amount_needed": {"amount": "100.00", "currency": "MXN"}, "criticality": "essential"});

        for token in [&manager_b, &coord_b] {
            let r = app.get(&format!("/shelters/{a}/needs"), Some(token)).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
            let r = cancel(&app, &a, &nid, token).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
            let r = app
                .post(&format!("/shelters/{a}/needs"), Some(token), manual.clone())
                .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
        }
        // Nor through their own shelter's path.
        let r = cancel(&app, &b, &nid, &manager_b).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
        let r = app
            .get(&format!("/shelters/{b}/needs"), Some(&coord_b))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert!(items(&r).is_empty(), "{r:?}");

        // Donors never act inside a shelter.
        let r = app.get(&format!("/shelters/{a}/needs"), Some(&donor)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
        let r = cancel(&app, &a, &nid, &donor).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
        let r = app
            .post(
                &format!("/shelters/{a}/needs"),
                Some(&donor),
                manual.clone(),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
        // No token at all: 401 on the shelter's routes.
        let r = app.get(&format!("/shelters/{a}/needs"), None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");

        // Auditors read, never cancel.
        let r = app
            .get(&format!("/shelters/{a}/needs"), Some(&auditor))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(items(&r).len(), 2, "{r:?}");
        let r = cancel(&app, &a, &nid, &auditor).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");

        // Nothing changed, and the public board still shows A's needs to everyone; to
        // another shelter's staff A's bill is as public as to anyone (no payee).
        for token in [
            None,
            Some(donor.as_str()),
            Some(coord_b.as_str()),
            Some(manager_b.as_str()),
        ] {
            let r = app.get("/needs", token).await;
            assert_eq!(r.status, StatusCode::OK, "{r:?}");
            let needs = items(&r);
            assert_eq!(needs.len(), 2, "{needs:#?}");
            let n = the_need_of(&needs, &rice);
            assert_eq!(n["id"], json!(nid));
            assert_eq!(n["status"], "open");
            assert!(needs.iter().any(|n| n["title"] == "Rent"), "{needs:#?}");
            assert!(!r.body.to_string().contains("Inmobiliaria"), "{r:?}");
        }
        // Auditors see everything, payees included.
        let r = app.get("/needs", Some(&auditor)).await;
        assert!(r.body.to_string().contains("Inmobiliaria"), "{r:?}");
        // A's own staff still see and can cancel it.
        let own = shelter_needs(&app, &a, "", &coord_a).await;
        assert_eq!(own.len(), 2, "{own:#?}");
        assert!(ids(&own).contains(&nid));
        let r = cancel(&app, &a, &nid, &manager_a).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
    });
}

/// (band rank, -score×10, opened_at, id): the board's order key of a need.
fn order_key(n: &Value) -> (i64, i64, chrono::DateTime<chrono::FixedOffset>, String) {
    let rank = match n["priority"]["band"].as_str().unwrap_or_default() {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        other => panic!("unknown band {other}"),
    };
    let score = (num(&n["priority"]["score"]) * 10.0).round() as i64;
    let opened = chrono::DateTime::parse_from_rfc3339(n["opened_at"].as_str().unwrap_or_default())
        .expect("opened_at");
    (rank, -score, opened, text(&n["id"]))
}

/// Walks `path` (which already has a `?`) page by page with `limit=2`.
async fn walk(app: &TestApp, path: &str, token: Option<&str>) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let url = match &cursor {
            Some(c) => format!("{path}&limit=2&cursor={c}"),
            None => format!("{path}&limit=2"),
        };
        let r = app.get(&url, token).await;
        assert_eq!(r.status, StatusCode::OK, "{url}: {r:?}");
        let page = items(&r);
        assert!(page.len() <= 2, "{r:?}");
        all.extend(page);
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return all,
        }
    }
    panic!("pagination does not end");
}

fn the_board_filters_and_pages_in_board_order(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let (sid, _, coord) = shelter(&app, &admin, "Casa A", "a").await;
        let (other, _, coord_b) = shelter(&app, &admin, "Casa B", "b").await;
        occupy(&app, &sid, &coord, 40).await;
        occupy(&app, &other, &coord_b, 1).await;

        // Rice: the worked example, high 79.9.
        let rice = add_rice(&app, &sid, &coord).await;
        movement(&app, &sid, &coord, &rice, "receipt", 50.0).await;
        // Bottled water: vital, 0.83 days left, critical.
        let water = add_item(
            &app,
            &sid,
            &coord,
            ("Agua embotellada", "water", "L", "vital"),
            3.0,
            Some("1.00"),
        )
        .await;
        movement(&app, &sid, &coord, &water, "receipt", 100.0).await;
        // Soap: D = 4, R = 28, 5 days left: 30 + 28 + 20 = 78, high.
        let soap = add_item(
            &app,
            &sid,
            &coord,
            ("Jabón", "hygiene", "pieza", "essential"),
            0.1,
            Some("10.00"),
        )
        .await;
        movement(&app, &sid, &coord, &soap, "receipt", 20.0).await;
        // Oil: opened then fulfilled (D = 1, T = 14).
        let oil = add_item(
            &app,
            &sid,
            &coord,
            ("Aceite de cocina", "food", "L", "essential"),
            0.025,
            Some("40.00"),
        )
        .await;
        movement(&app, &sid, &coord, &oil, "receipt", 5.0).await;
        movement(&app, &sid, &coord, &oil, "receipt", 10.0).await;
        // Bills: rent in 20 days (vital, high), internet in 60 (essential, medium),
        // other in 60 (desirable, low).
        for (payee, category, amount_, due) in [
            ("Inmobiliaria Sol", "rent", "9000.00", 20),
            ("Telmex", "internet", "500.00", 60),
            ("Ferretería", "other", "300.00", 60),
        ] {
            let r = app
                .post(
                    &format!("/shelters/{sid}/bills"),
                    Some(&coord),
                    json!({"payee": payee, "category": category,
                           "amount": {"amount": amount_, "currency": "MXN"}, "due_on": in_days(due)}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        }
        // Another shelter's needs, on the public board only without the shelter filter: with
        // one person nothing is short; 40 people open four needs in one transaction, three of
        // them identical (same score, same opened_at: the id decides).
        let rice_b = add_rice(&app, &other, &coord_b).await;
        movement(&app, &other, &coord_b, &rice_b, "receipt", 10.0).await;
        let mut twins = Vec::new();
        for name in ["Arroz 1", "Arroz 2", "Arroz 3"] {
            let id = add_item(
                &app,
                &other,
                &coord_b,
                (name, "food", "kg", "essential"),
                0.4,
                Some("25.00"),
            )
            .await;
            movement(&app, &other, &coord_b, &id, "receipt", 50.0).await;
            twins.push(id);
        }
        assert!(board(&app, &format!("?shelter_id={other}"), None)
            .await
            .is_empty());
        occupy(&app, &other, &coord_b, 40).await;
        let b_needs = board(&app, &format!("?shelter_id={other}"), None).await;
        assert_eq!(b_needs.len(), 4, "{b_needs:#?}");
        let twin_needs: Vec<Value> = twins.iter().map(|t| the_need_of(&b_needs, t)).collect();
        assert!(twin_needs
            .iter()
            .all(|n| n["opened_at"] == twin_needs[0]["opened_at"]
                && num(&n["priority"]["score"]) == 79.9));

        let q = format!("?shelter_id={sid}");
        let open = board(&app, &q, None).await;
        assert_eq!(open.len(), 6, "{open:#?}");
        assert!(open.iter().all(|n| n["status"] == "open"), "{open:#?}");
        let bands: Vec<String> = open.iter().map(|n| text(&n["priority"]["band"])).collect();
        assert_eq!(
            bands,
            ["critical", "high", "high", "high", "medium", "low"],
            "{open:#?}"
        );
        assert_eq!(open[0]["item_id"], json!(water));
        let keys: Vec<_> = open.iter().map(order_key).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "board order");
        assert_eq!(num(&the_need_of(&open, &soap)["priority"]["score"]), 78.0);

        // Bands.
        let high = board(&app, &format!("{q}&band=high"), None).await;
        assert_eq!(high.len(), 3, "{high:#?}");
        assert!(high.iter().all(|n| n["priority"]["band"] == "high"));
        assert_eq!(high[0]["kind"], "bill", "rent scores 83: {high:#?}");
        assert_eq!(
            board(&app, &format!("{q}&band=critical,low"), None)
                .await
                .len(),
            2
        );
        // Categories.
        let food = board(&app, &format!("{q}&category=food"), None).await;
        assert_eq!(ids(&food), ids(&of_item(&open, &rice)), "{food:#?}");
        let food_all = board(&app, &format!("{q}&category=food&status=all"), None).await;
        assert_eq!(food_all.len(), 2, "{food_all:#?}");
        assert_eq!(the_need_of(&food_all, &oil)["status"], "fulfilled");
        let utilities = board(&app, &format!("{q}&category=utilities,housing"), None).await;
        assert_eq!(utilities.len(), 2, "{utilities:#?}");
        assert!(utilities.iter().all(|n| n["kind"] == "bill"));
        // Statuses.
        let all = board(&app, &format!("{q}&status=all"), None).await;
        assert_eq!(all.len(), 7, "{all:#?}");
        let open_fulfilled = board(&app, &format!("{q}&status=open,fulfilled"), None).await;
        assert_eq!(ids(&open_fulfilled), ids(&all));
        let fulfilled = board(&app, &format!("{q}&status=fulfilled"), None).await;
        assert_eq!(ids(&fulfilled), ids(&of_item(&all, &oil)));
        assert!(board(&app, &format!("{q}&status=cancelled"), None)
            .await
            .is_empty());
        // Without the shelter filter: both shelters.
        assert_eq!(board(&app, "", None).await.len(), 10);
        // The shelter's route filters the same way.
        let own_high = shelter_needs(&app, &sid, "?band=high", &coord).await;
        assert_eq!(ids(&own_high), ids(&high));

        // Unknown values are a 400, on both routes.
        for bad in [
            "status=bogus",
            "status=open,bogus",
            "band=urgent",
            "category=toys",
            "category=food,",
            "limit=0",
            "cursor=garbage",
        ] {
            let r = app.get(&format!("/needs?{bad}"), None).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {r:?}");
            assert_eq!(r.problem_code(), "bad_query", "{bad}: {r:?}");
            let r = app
                .get(&format!("/shelters/{sid}/needs?{bad}"), Some(&coord))
                .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {r:?}");
            assert_eq!(r.problem_code(), "bad_query", "{bad}: {r:?}");
        }

        // Pages of 2 walk every need exactly once, in board order.
        let everything = board(&app, "?status=all&limit=500", None).await;
        assert_eq!(everything.len(), 11, "{everything:#?}");
        let keys: Vec<_> = everything.iter().map(order_key).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "board order");
        let walked = walk(&app, "/needs?status=all", None).await;
        assert_eq!(ids(&walked), ids(&everything));
        let walked_open = walk(&app, &format!("/needs?shelter_id={sid}"), None).await;
        assert_eq!(ids(&walked_open), ids(&open));
        let walked_own = walk(
            &app,
            &format!("/shelters/{sid}/needs?status=all"),
            Some(&coord),
        )
        .await;
        assert_eq!(ids(&walked_own), ids(&all));
        let mut unique = ids(&walked);
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 11);
    });
}

/// The `need_critical` emails to each address, in the outbox.
fn critical_emails(app: &TestApp) -> std::collections::BTreeMap<String, usize> {
    let mut conn = app.db.connect();
    let mut counts = std::collections::BTreeMap::new();
    for m in refugio_db::outbox::all(&mut conn).expect("outbox") {
        if m.template == "need_critical" {
            *counts.entry(m.to_email).or_insert(0) += 1;
        }
    }
    counts
}

fn expect_emails(app: &TestApp, each: usize) {
    let counts = critical_emails(app);
    let expected: std::collections::BTreeMap<String, usize> = [
        ("coord-a@example.org".to_owned(), each),
        ("manager-a@example.org".to_owned(), each),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .collect();
    assert_eq!(counts, expected);
}

fn critical_needs_alert_managers_and_coordinators_once(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let (sid, _, coord) = shelter(&app, &admin, "Casa A", "a").await;
        // Another shelter's staff are never told.
        let (_other, _, _) = shelter(&app, &admin, "Casa B", "b").await;
        occupy(&app, &sid, &coord, 40).await;
        let catalog = app
            .get(&format!("/shelters/{sid}/items?limit=100"), Some(&coord))
            .await;
        assert_eq!(catalog.status, StatusCode::OK, "{catalog:?}");
        let water = items(&catalog)
            .into_iter()
            .find(|i| i["name"] == "Agua")
            .map(|i| text(&i["id"]))
            .expect("Agua in the default catalog");
        let path_q = format!("?shelter_id={sid}");

        // 15 L × 40 = 600 L/day; R = 4200. 5000 L: no need.
        movement(&app, &sid, &coord, &water, "receipt", 5000.0).await;
        assert!(board(&app, &path_q, None).await.is_empty());
        expect_emails(&app, 0);

        // 1500 L: 2.5 days, vital, within the lead time: critical.
        movement(&app, &sid, &coord, &water, "consumption", 3500.0).await;
        let need = the_need_of(&board(&app, &path_q, None).await, &water);
        assert_eq!(need["priority"]["band"], "critical", "{need:#}");
        expect_emails(&app, 1);

        // Still critical: no more emails.
        movement(&app, &sid, &coord, &water, "consumption", 100.0).await;
        movement(&app, &sid, &coord, &water, "consumption", 100.0).await;
        let need = the_need_of(&board(&app, &path_q, None).await, &water);
        assert_eq!(need["priority"]["band"], "critical", "{need:#}");
        expect_emails(&app, 1);

        // 3000 L: 5 days, out of the critical band (the need stays open).
        movement(&app, &sid, &coord, &water, "receipt", 1700.0).await;
        let left = the_need_of(&board(&app, &path_q, None).await, &water);
        assert_eq!(left["id"], need["id"]);
        assert_eq!(left["priority"]["band"], "high", "{left:#}");
        expect_emails(&app, 1);

        // Back in: one more email each.
        movement(&app, &sid, &coord, &water, "consumption", 1500.0).await;
        let again = the_need_of(&board(&app, &path_q, None).await, &water);
        assert_eq!(again["id"], need["id"]);
        assert_eq!(again["priority"]["band"], "critical", "{again:#}");
        expect_emails(&app, 2);
        movement(&app, &sid, &coord, &water, "consumption", 10.0).await;
        expect_emails(&app, 2);

        let email = app.last_email_to("manager-a@example.org");
        assert_eq!(email.template, "need_critical");
        assert!(email.body.contains("Agua"), "{}", email.body);
    });
}

fn the_daily_recompute_claims_each_shelter_day_once(backend: Backend) {
    run(async {
        use diesel::RunQueryDsl;
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let (sid, _, coord) = shelter(&app, &admin, "Casa A", "a").await;
        let (_b, _, _) = shelter(&app, &admin, "Casa B", "b").await;
        occupy(&app, &sid, &coord, 40).await;
        let rice = add_rice(&app, &sid, &coord).await;
        movement(&app, &sid, &coord, &rice, "receipt", 50.0).await;
        let before = the_need_of(&board(&app, "", None).await, &rice);

        let pool = refugio_db::pool(&app.db.url, 2).expect("pool");
        let recompute = |pool: refugio_db::Pool| async move {
            tokio::task::spawn_blocking(move || {
                refugio_api::services::needs::daily_recompute(&pool).expect("daily recompute")
            })
            .await
            .expect("join")
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(recompute(pool.clone()).await, 2, "both shelters, once");
        assert_eq!(recompute(pool.clone()).await, 0, "already done today");
        let first = the_need_of(&board(&app, "", None).await, &rice);
        let at = |n: &Value| {
            chrono::DateTime::parse_from_rfc3339(n["computed_at"].as_str().unwrap_or_default())
                .expect("computed_at")
        };
        assert!(at(&first) > at(&before), "{before:#} → {first:#}");
        assert_eq!(num(&first["priority"]["score"]), 79.9);
        assert_eq!(first["opened_at"], before["opened_at"]);

        // Set back a day: the next run recomputes again.
        {
            let mut conn = app.db.connect();
            diesel::sql_query("UPDATE shelters SET needs_computed_on = NULL")
                .execute(&mut conn)
                .expect("reset");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(recompute(pool.clone()).await, 2);
        assert_eq!(recompute(pool.clone()).await, 0);
        let second = the_need_of(&board(&app, "", None).await, &rice);
        assert!(at(&second) > at(&first), "{first:#} → {second:#}");
        assert_eq!(second["id"], before["id"]);
        assert_eq!(num(&second["quantity"]), 174.0);
    });
}

fn edits_to_occupancy_and_items_move_their_needs(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let (sid, _, coord) = shelter(&app, &admin, "Casa Arroz", "a").await;
        occupy(&app, &sid, &coord, 40).await;
        let rice = add_rice(&app, &sid, &coord).await;
        movement(&app, &sid, &coord, &rice, "receipt", 50.0).await;
        let q = format!("?shelter_id={sid}&status=all");
        let first = the_need_of(&board(&app, &q, None).await, &rice);
        assert_eq!(num(&first["quantity"]), 174.0);

        // Half the people: D = 8, R = 56, T = 112; quantity 62, 6.25 days left.
        occupy(&app, &sid, &coord, 20).await;
        let need = the_need_of(&board(&app, &q, None).await, &rice);
        assert_eq!(need["id"], first["id"]);
        assert_eq!(num(&need["quantity"]), 62.0, "{need:#}");
        assert_eq!(amount(&need["amount_needed"]), "1550.00");
        assert_eq!(num(&need["priority"]["days_left"]), 6.25);
        assert_eq!(
            driver(&need, "demand_norm"),
            "20 people × 0.4 kg/day = 8 kg/day"
        );

        // A new price moves the amounts.
        let patch = |body: Value| {
            let (app, path, coord) = (&app, format!("/shelters/{sid}/items/{rice}"), &coord);
            async move {
                let r = app
                    .call(Method::PATCH, &path, Some(coord), Some(body))
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{r:?}");
            }
        };
        patch(json!({"unit_cost": {"amount": "30.00", "currency": "MXN"}})).await;
        let need = the_need_of(&board(&app, &q, None).await, &rice);
        assert_eq!(amount(&need["amount_needed"]), "1860.00", "{need:#}");
        assert_eq!(amount(&need["amount_open"]), "1860.00");

        // Criticality: vital, 6.25 days: 50 + 30 × (1 − 3.25/30) + 20 = 96.75 → 96.8.
        patch(json!({"criticality": "vital"})).await;
        let need = the_need_of(&board(&app, &q, None).await, &rice);
        assert_eq!(need["priority"]["criticality"], "vital", "{need:#}");
        assert_eq!(num(&need["priority"]["score"]), 96.8, "{need:#}");
        assert_eq!(need["priority"]["band"], "high");

        // No price any more: covered in kind only.
        patch(json!({"unit_cost": null})).await;
        let need = the_need_of(&board(&app, &q, None).await, &rice);
        assert_eq!(need["amount_needed"], Value::Null, "{need:#}");
        assert_eq!(need["amount_open"], Value::Null);
        assert_eq!(num(&need["quantity"]), 62.0);

        // Name and category: the need is titled and filed as the item is.
        patch(json!({"name": "Arroz blanco", "category": "other"})).await;
        let need = the_need_of(&board(&app, &q, None).await, &rice);
        assert_eq!(need["id"], first["id"]);
        assert_eq!(need["title"], "Arroz blanco", "{need:#}");
        assert_eq!(need["category"], "other", "the item's category: {need:#}");
        let other = board(&app, &format!("{q}&category=other"), None).await;
        assert_eq!(ids(&other), vec![text(&first["id"])], "{other:#?}");
    });
}

fn bill_edits_move_their_needs(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let (sid, _, coord) = shelter(&app, &admin, "Casa A", "a").await;
        let q = format!("?shelter_id={sid}&status=all");
        // Bills: amount and category edits move the bill's need.
        let r = app
            .post(
                &format!("/shelters/{sid}/bills"),
                Some(&coord),
                json!({"payee": "Inmobiliaria Sol", "category": "rent",
                       "amount": {"amount": "9000.00", "currency": "MXN"}, "due_on": in_days(20)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let bid = r.str("id");
        let bill_need = |needs: Vec<Value>| -> Value {
            needs
                .into_iter()
                .find(|n| n["bill_id"] == bid.as_str())
                .unwrap_or_else(|| panic!("no need for bill {bid}"))
        };
        let opened = bill_need(board(&app, &q, None).await);
        assert_eq!(opened["category"], "housing");
        let r = app
            .call(
                Method::PATCH,
                &format!("/shelters/{sid}/bills/{bid}"),
                Some(&coord),
                Some(json!({"amount": {"amount": "9500.00", "currency": "MXN"}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let need = bill_need(board(&app, &q, None).await);
        assert_eq!(need["id"], opened["id"]);
        assert_eq!(amount(&need["amount_needed"]), "9500.00", "{need:#}");
        let r = app
            .call(
                Method::PATCH,
                &format!("/shelters/{sid}/bills/{bid}"),
                Some(&coord),
                Some(json!({"category": "internet"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let need = bill_need(board(&app, &q, None).await);
        assert_eq!(need["id"], opened["id"]);
        assert_eq!(need["title"], "Internet bill", "{need:#}");
        assert_eq!(need["priority"]["criticality"], "essential", "{need:#}");
        assert_eq!(
            need["category"], "utilities",
            "the bill's category: {need:#}"
        );
    });
}

fn invalid_manual_needs_are_refused(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let (sid, _, coord) = shelter(&app, &admin, "Casa A", "a").await;
        let ok = json!({"title": "Reparar el techo", "category": "other",
            "amount_needed": {"amount": "1500.00", "currency": "MXN"}, "criticality": "essential"});
        let with = |field: &str, value: Value| {
            let mut b = ok.clone();
            b[field] = value;
            b
        };
        for bad in [
            with("title", json!("  ")),
            with("category", json!("toys")),
            with("criticality", json!("urgent")),
            with(
                "amount_needed",
                json!({"amount": "0.00", "currency": "MXN"}),
            ),
            with(
                "amount_needed",
                json!({"amount": "-5.00", "currency": "MXN"}),
            ),
            with(
                "amount_needed",
                json!({"amount": "100.00", "currency": "USD"}),
            ),
            with("needed_by", json!("mañana")),
        ] {
            let r = app
                .post(&format!("/shelters/{sid}/needs"), Some(&coord), bad.clone())
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {r:?}");
        }
        assert!(board(&app, "?status=all", None).await.is_empty());
        let r = app
            .post(&format!("/shelters/{sid}/needs"), Some(&coord), ok)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        assert_eq!(r.body["priority"]["days_left"], Value::Null);
        assert_eq!(board(&app, "?status=all", None).await.len(), 1);
    });
}
