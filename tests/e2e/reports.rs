//! The spending report and the donation trace, end to end: a generated data set (two shelters,
//! USD → MXN rates, money restricted and not, expenses with and without receipt references, an
//! overdue bill, a large negative count, money that waits for a rate, an old unspent
//! allocation) built through the API; every figure of the report checked against an
//! independent computation from the API's own data (each donation's allocations, each
//! shelter's expenses, needs, bills and ledger); the CSV read back to the same figures; each
//! flag on its case and none on a clean data set; who may read what; and the trace of a
//! donation down to the stock it bought.

use crate::errors::assert_problem;
use crate::support::{run, spawn_app, Reply, TestApp, PASSWORD};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use refugio_db::backend_tests;
use refugio_db::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

backend_tests!(
    the_spending_report_matches_the_ledgers,
    the_report_reads_back_from_csv,
    each_flag_fires_on_its_case,
    a_clean_ledger_raises_no_flags,
    reports_are_for_overseers_and_managers,
    the_trace_follows_a_donation_to_the_stock_it_bought,
);

const CATEGORIES: [&str; 10] = [
    "food",
    "water",
    "medical",
    "hygiene",
    "bedding",
    "clothing",
    "housing",
    "utilities",
    "transport",
    "other",
];
const CSV_HEADER: &str = "shelter_id,shelter_name,currency,category,allocated,\
spent_from_donations,spent_own_funds,unspent_allocated";
/// USD → MXN, in millionths, and how many days before (UTC) today each is dated.
const OLD_RATE: (&str, i64, i64) = ("16.00", 16_000_000, 50);
const RATE: (&str, i64, i64) = ("17.25", 17_250_000, 2);
const B_NAME: &str = "Casa \"B\", Norte";

// ---------------------------------------------------------------------------------------------
// Dates, money and JSON.

/// Mexico City (UTC−6 all year since 2022), the test shelters' zone.
fn mexico() -> chrono::FixedOffset {
    chrono::FixedOffset::west_opt(6 * 3600).expect("offset")
}

fn local_today() -> NaiveDate {
    Utc::now().with_timezone(&mexico()).date_naive()
}

fn local(days: i64) -> NaiveDate {
    local_today() + Duration::days(days)
}

fn utc(days: i64) -> NaiveDate {
    Utc::now().date_naive() + Duration::days(days)
}

/// The Mexico City date of an RFC 3339 timestamp.
fn local_day_of(at: &Value) -> NaiveDate {
    instant(at).with_timezone(&mexico()).date_naive()
}

fn instant(at: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(at.as_str().unwrap_or_default())
        .unwrap_or_else(|_| panic!("not a timestamp: {at}"))
        .with_timezone(&Utc)
}

fn date(v: &Value) -> NaiveDate {
    NaiveDate::parse_from_str(v.as_str().unwrap_or_default(), "%Y-%m-%d")
        .unwrap_or_else(|_| panic!("not a date: {v}"))
}

fn mxn(amount: &str) -> Value {
    json!({"amount": amount, "currency": "MXN"})
}

fn money(amount: &str, currency: &str) -> Value {
    json!({"amount": amount, "currency": currency})
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// A decimal string with two decimals as minor units.
fn minor(amount: &str) -> i64 {
    let (units, cents) = amount
        .split_once('.')
        .unwrap_or_else(|| panic!("not two decimals: {amount}"));
    assert_eq!(cents.len(), 2, "{amount}");
    let negative = units.starts_with('-');
    let whole: i64 = units
        .trim_start_matches('-')
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {amount}"));
    let cents: i64 = cents
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {amount}"));
    let v = whole * 100 + cents;
    if negative {
        -v
    } else {
        v
    }
}

/// A money object's minor units, checking its currency.
fn cents(m: &Value, currency: &str) -> i64 {
    assert_eq!(m["currency"], currency, "{m}");
    minor(m["amount"].as_str().unwrap_or_default())
}

/// Minor units as the API writes them.
fn decimal(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", v.abs() / 100, v.abs() % 100)
}

/// `round_half_even(local × 10^6 / rate)`, by floor division (independent of the server's).
fn usd(local: i64, rate: i64) -> i64 {
    let n = i128::from(local) * 1_000_000;
    let d = i128::from(rate);
    let (q, r) = (n.div_euclid(d), n.rem_euclid(d));
    let q = match (2 * r).cmp(&d) {
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal if q % 2 != 0 => q + 1,
        _ => q,
    };
    i64::try_from(q).expect("fits")
}

fn items(r: &Reply) -> Vec<Value> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {r:?}"))
        .clone()
}

fn list(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Building the data set through the API.

async fn token_of(app: &TestApp, email: &str, role: refugio_core::Role) -> String {
    app.create_user(email, role);
    app.login(email, PASSWORD).await.str("access_token")
}

async fn created(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let r = app.post(path, Some(token), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{path}: {r:?}");
    r.body
}

async fn get_ok(app: &TestApp, path: &str, token: &str) -> Reply {
    let r = app.get(path, Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {r:?}");
    r
}

async fn put_rate(app: &TestApp, admin: &str, base: &str, rate: &str, as_of: NaiveDate) {
    let r = app
        .call(
            Method::PUT,
            "/fx-rates",
            Some(admin),
            Some(json!({"base": base, "quote": "MXN", "rate": rate, "as_of": as_of})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

async fn occupancy(app: &TestApp, sid: &str, token: &str, beds: i64) {
    let r = app
        .call(
            Method::PUT,
            &format!("/shelters/{sid}/occupancy"),
            Some(token),
            Some(json!({"occupied_beds": beds})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

async fn movement(app: &TestApp, sid: &str, token: &str, body: Value) -> Value {
    created(
        app,
        &format!("/shelters/{sid}/stock/movements"),
        token,
        body,
    )
    .await
}

async fn needs(app: &TestApp, sid: &str, token: &str) -> Vec<Value> {
    items(
        &get_ok(
            app,
            &format!("/shelters/{sid}/needs?status=all&limit=500"),
            token,
        )
        .await,
    )
}

async fn manual_need(app: &TestApp, sid: &str, token: &str, body: Value) -> String {
    text(&created(app, &format!("/shelters/{sid}/needs"), token, body).await["id"])
}

/// Creates a bill; returns (bill id, its need's id).
async fn bill(
    app: &TestApp,
    sid: &str,
    token: &str,
    payee: &str,
    category: &str,
    amount: &str,
    due_on: NaiveDate,
) -> (String, String) {
    let b = created(
        app,
        &format!("/shelters/{sid}/bills"),
        token,
        json!({"payee": payee, "category": category, "amount": mxn(amount), "due_on": due_on}),
    )
    .await;
    let bid = text(&b["id"]);
    let nid = needs(app, sid, token)
        .await
        .into_iter()
        .find(|n| n["bill_id"] == bid.as_str())
        .map(|n| text(&n["id"]))
        .expect("the bill's need");
    (bid, nid)
}

/// A money donation pledged by `donor` and received by the admin yesterday (UTC).
async fn given(
    app: &TestApp,
    admin: &str,
    donor: &str,
    amount: Value,
    restriction: Option<Value>,
) -> String {
    let mut body = json!({"kind": "money", "amount": amount});
    if let Some(r) = restriction {
        body["restriction"] = r;
    }
    let did = text(&created(app, "/donations", donor, body).await["id"]);
    let r = app
        .post(
            &format!("/donations/{did}/receive"),
            Some(admin),
            json!({"received_on": utc(-1)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    did
}

async fn expense(app: &TestApp, sid: &str, token: &str, body: Value) -> Value {
    created(app, &format!("/shelters/{sid}/expenses"), token, body).await
}

struct World {
    admin: String,
    a: String,
    b: String,
    manager_a: String,
    coord_a: String,
    manager_b: String,
    coord_b: String,
    donor: String,
    other_donor: String,
    auditor: String,
    rice: String,
    /// Money donations, in the order given.
    money: Vec<String>,
    /// 100.00 USD for the rice need (the donor's).
    rice_gift: String,
    /// 400.00 MXN for the electricity bill's need (the donor's).
    bill_gift: String,
    /// 2000.00 MXN for B's bedding (the other donor's), its allocation made 45 days ago.
    old_gift: String,
    /// 20.00 EUR with no EUR → MXN rate (the donor's).
    euro_gift: String,
    /// Rice given in kind (the other donor's).
    goods_gift: String,
    rice_expense: String,
    power_bill_payee: String,
}

/// The generated data set. With `dirty`, it holds one case of every flag.
async fn world(app: &TestApp, dirty: bool) -> World {
    let admin = app.admin_token().await;
    let a = app.create_shelter(&admin, "Casa A").await;
    let b = app.create_shelter(&admin, B_NAME).await;
    let (_, manager_a) = app
        .staff(&admin, "manager-a@example.org", &a, "manager")
        .await;
    let (_, coord_a) = app
        .staff(&admin, "coord-a@example.org", &a, "coordinator")
        .await;
    let (_, manager_b) = app
        .staff(&admin, "manager-b@example.org", &b, "manager")
        .await;
    let (_, coord_b) = app
        .staff(&admin, "coord-b@example.org", &b, "coordinator")
        .await;
    let donor = token_of(app, "dana@example.org", refugio_core::Role::Donor).await;
    let other_donor = token_of(app, "otro@example.org", refugio_core::Role::Donor).await;
    let auditor = token_of(app, "auditor@example.org", refugio_core::Role::Auditor).await;
    put_rate(app, &admin, "USD", OLD_RATE.0, utc(-OLD_RATE.2)).await;
    put_rate(app, &admin, "USD", RATE.0, utc(-RATE.2)).await;

    // Shelter A: ENGINE.md's rice (a need of 174 kg at 25.00) and medicines.
    occupancy(app, &a, &coord_a, 40).await;
    let rice = text(
        &created(
            app,
            &format!("/shelters/{a}/items"),
            &coord_a,
            json!({"name": "Arroz", "category": "food", "unit": "kg", "criticality": "essential",
                   "basis": "consumable", "per_person": 0.4, "unit_cost": mxn("25.00")}),
        )
        .await["id"],
    );
    for (kind, quantity) in [("receipt", 80), ("consumption", 30)] {
        movement(
            app,
            &a,
            &coord_a,
            json!({"item_id": rice, "kind": kind, "quantity": quantity}),
        )
        .await;
    }
    let rice_need = needs(app, &a, &coord_a)
        .await
        .into_iter()
        .find(|n| n["item_id"] == rice.as_str())
        .map(|n| text(&n["id"]))
        .expect("the rice need");
    let medicines = manual_need(
        app,
        &a,
        &coord_a,
        json!({"title": "Medicinas", "category": "medical", "amount_needed": mxn("2000.00"),
               "criticality": "essential"}),
    )
    .await;

    // Shelter B: bedding, an electricity bill due later and (dirty) a water bill overdue.
    occupancy(app, &b, &coord_b, 20).await;
    let bedding = manual_need(
        app,
        &b,
        &coord_b,
        json!({"title": "Colchonetas", "category": "bedding", "amount_needed": mxn("3000.00"),
               "criticality": "essential"}),
    )
    .await;
    let power_bill_payee = "CFE Norte".to_owned();
    let (power_bill, power_need) = bill(
        app,
        &b,
        &coord_b,
        &power_bill_payee,
        "electricity",
        "800.00",
        local(20),
    )
    .await;
    let water_bill = if dirty {
        Some(
            bill(
                app,
                &b,
                &coord_b,
                "Agua Potable SA",
                "water",
                "300.00",
                local(-5),
            )
            .await
            .0,
        )
    } else {
        None
    };

    // Money, restricted and not.
    let rice_gift = given(
        app,
        &admin,
        &donor,
        money("100.00", "USD"),
        Some(json!({"need_id": rice_need})),
    )
    .await;
    let old_gift = given(
        app,
        &admin,
        &other_donor,
        mxn("2000.00"),
        Some(json!({"shelter_id": b, "category": "bedding"})),
    )
    .await;
    let free_gift = given(app, &admin, &donor, mxn("500.00"), None).await;
    let medical_gift = given(
        app,
        &admin,
        &other_donor,
        money("50.00", "USD"),
        Some(json!({"category": "medical"})),
    )
    .await;
    let bill_gift = given(
        app,
        &admin,
        &donor,
        mxn("400.00"),
        Some(json!({"need_id": power_need})),
    )
    .await;
    let mut money_ids = vec![
        rice_gift.clone(),
        old_gift.clone(),
        free_gift,
        medical_gift,
        bill_gift.clone(),
    ];
    // No EUR → MXN rate: this money waits (dirty only).
    let euro_gift = if dirty {
        let id = given(app, &admin, &donor, money("20.00", "EUR"), None).await;
        money_ids.push(id.clone());
        id
    } else {
        String::new()
    };

    // Expenses: on needs (drawing on the money), on bills, unlinked, and one long ago.
    let today = local_today();
    let rice_expense = text(
        &expense(
            app,
            &a,
            &coord_a,
            json!({"amount": mxn("1000.00"), "description": "Arroz 40 kg", "spent_on": today,
                   "need_id": rice_need, "quantity": 40, "receipt_ref": "F-1"}),
        )
        .await["id"],
    );
    let mut medicine = json!({"amount": mxn("300.00"), "description": "Paracetamol",
        "spent_on": today, "need_id": medicines, "receipt_ref": "M-1"});
    if dirty {
        // Paid with donations and no receipt reference.
        medicine
            .as_object_mut()
            .expect("an object")
            .remove("receipt_ref");
    }
    expense(app, &a, &coord_a, medicine).await;
    expense(
        app,
        &a,
        &coord_a,
        json!({"amount": mxn("150.00"), "category": "transport", "description": "Taxi",
               "spent_on": today, "receipt_ref": "T-9"}),
    )
    .await;
    expense(
        app,
        &a,
        &coord_a,
        json!({"amount": mxn("99.00"), "category": "other", "description": "Candado",
               "spent_on": local(-40)}),
    )
    .await;
    expense(
        app,
        &b,
        &coord_b,
        json!({"amount": mxn("1200.00"), "description": "Colchonetas", "spent_on": today,
               "need_id": bedding, "receipt_ref": "B-7"}),
    )
    .await;
    expense(
        app,
        &b,
        &coord_b,
        json!({"amount": mxn("250.00"), "description": "Luz, abono", "spent_on": today,
               "bill_id": power_bill, "receipt_ref": "P-1"}),
    )
    .await;
    if let Some(water_bill) = &water_bill {
        expense(
            app,
            &b,
            &coord_b,
            json!({"amount": mxn("100.00"), "description": "Agua, abono", "spent_on": today,
                   "bill_id": water_bill, "receipt_ref": "W-1"}),
        )
        .await;
    }

    // Stock: a small waste never flags; (dirty) a count that removes a third of the rice does.
    if dirty {
        movement(
            app,
            &a,
            &coord_a,
            json!({"item_id": rice, "kind": "count", "quantity": 60}),
        )
        .await;
    }
    movement(
        app,
        &a,
        &coord_a,
        json!({"item_id": rice, "kind": "waste", "quantity": 1}),
    )
    .await;

    // Goods in kind, received.
    let goods_gift = text(
        &created(
            app,
            "/donations",
            &other_donor,
            json!({"kind": "in_kind", "need_id": rice_need, "quantity": 5}),
        )
        .await["id"],
    );
    let r = app
        .call(
            Method::POST,
            &format!("/donations/{goods_gift}/receive"),
            Some(&coord_a),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    if dirty {
        // The bedding money was allocated 45 days ago (and is still partly unspent).
        use diesel::prelude::*;
        use refugio_db::schema::allocations;
        let mut conn = app.db.connect();
        let n = diesel::update(allocations::table.filter(allocations::donation_id.eq(&old_gift)))
            .set(allocations::created_at.eq(refugio_db::now() - Duration::days(45)))
            .execute(&mut conn)
            .expect("backdate the allocation");
        assert!(n >= 1, "the bedding money was allocated");
    }

    World {
        admin,
        a,
        b,
        manager_a,
        coord_a,
        manager_b,
        coord_b,
        donor,
        other_donor,
        auditor,
        rice,
        money: money_ids,
        rice_gift,
        bill_gift,
        old_gift,
        euro_gift,
        goods_gift,
        rice_expense,
        power_bill_payee,
    }
}

// ---------------------------------------------------------------------------------------------
// The independent computation.

/// (allocated, spent from donations, own funds) in minor units.
type Figures = (i64, i64, i64);

struct Expected {
    /// Per shelter, per category.
    shelters: BTreeMap<String, BTreeMap<String, Figures>>,
    /// Per donation currency: (received, allocated, unallocated) of money received in the period.
    donations: BTreeMap<String, (i64, i64, i64)>,
    /// Per shelter, per donation currency: what allocations made to it in the period hold.
    allocated_to: BTreeMap<String, BTreeMap<String, i64>>,
}

/// Every money donation's view, as its donor sees it (the admin reads them all).
async fn donation_views(app: &TestApp, w: &World) -> Vec<Value> {
    let mut out = Vec::new();
    for did in &w.money {
        out.push(
            get_ok(app, &format!("/donations/{did}"), &w.admin)
                .await
                .body,
        );
    }
    out
}

async fn expenses_of(app: &TestApp, sid: &str, token: &str) -> Vec<Value> {
    items(&get_ok(app, &format!("/shelters/{sid}/expenses?limit=500"), token).await)
}

async fn expected(app: &TestApp, w: &World, from: NaiveDate, to: NaiveDate) -> Expected {
    let in_period = |d: NaiveDate| d >= from && d <= to;
    let mut shelters: BTreeMap<String, BTreeMap<String, Figures>> = BTreeMap::new();
    let mut category_of: BTreeMap<String, String> = BTreeMap::new();
    for sid in [&w.a, &w.b] {
        shelters.insert(sid.clone(), BTreeMap::new());
        for n in needs(app, sid, &w.admin).await {
            category_of.insert(text(&n["id"]), text(&n["category"]));
        }
    }
    let mut donations: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    let mut allocated_to: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for d in donation_views(app, w).await {
        let currency = text(&d["amount"]["currency"]);
        let allocations = list(&d["allocations"]);
        if in_period(date(&d["received_on"])) {
            let e = donations.entry(currency.clone()).or_default();
            e.0 += cents(&d["amount"], &currency);
            e.1 += allocations
                .iter()
                .map(|a| cents(&a["amount"], &currency))
                .sum::<i64>();
            e.2 += cents(&d["unallocated"], &currency);
        }
        for a in allocations {
            if !in_period(local_day_of(&a["created_at"])) {
                continue;
            }
            let sid = text(&a["shelter_id"]);
            let category = category_of
                .get(&text(&a["need_id"]))
                .cloned()
                .expect("the allocation's need");
            shelters
                .entry(sid.clone())
                .or_default()
                .entry(category)
                .or_default()
                .0 += cents(&a["amount_local"], "MXN");
            *allocated_to
                .entry(sid)
                .or_default()
                .entry(currency.clone())
                .or_default() += cents(&a["amount"], &currency);
        }
    }
    for sid in [&w.a, &w.b] {
        for e in expenses_of(app, sid, &w.admin).await {
            if !in_period(date(&e["spent_on"])) {
                continue;
            }
            let f = shelters
                .entry(sid.clone())
                .or_default()
                .entry(text(&e["category"]))
                .or_default();
            f.1 += list(&e["funded_by"])
                .iter()
                .map(|s| cents(&s["amount"], "MXN"))
                .sum::<i64>();
            f.2 += cents(&e["own_funds"], "MXN");
        }
    }
    Expected {
        shelters,
        donations,
        allocated_to,
    }
}

async fn report(app: &TestApp, token: &str, query: &str) -> Value {
    get_ok(app, &format!("/reports/spending?{query}"), token)
        .await
        .body
}

fn period(from: NaiveDate, to: NaiveDate) -> String {
    format!("from={from}&to={to}")
}

/// The shelter's entry of a report.
fn shelter_of<'a>(report: &'a Value, sid: &str) -> &'a Value {
    report["shelters"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["shelter_id"] == sid))
        .unwrap_or_else(|| panic!("no shelter {sid} in {report:#}"))
}

/// Asserts one shelter's categories, totals and USD totals against the expected figures.
fn assert_shelter(entry: &Value, expected: &BTreeMap<String, Figures>, usd_rate: Option<i64>) {
    assert_eq!(entry["currency"], "MXN", "{entry:#}");
    let categories = list(&entry["categories"]);
    let names: Vec<String> = categories.iter().map(|c| text(&c["category"])).collect();
    assert_eq!(names, CATEGORIES, "{entry:#}");
    let mut totals: Figures = (0, 0, 0);
    for c in &categories {
        let (allocated, from_donations, own) = expected
            .get(&text(&c["category"]))
            .copied()
            .unwrap_or_default();
        assert_eq!(cents(&c["allocated"], "MXN"), allocated, "{c:#}");
        assert_eq!(
            cents(&c["spent_from_donations"], "MXN"),
            from_donations,
            "{c:#}"
        );
        assert_eq!(cents(&c["spent_own_funds"], "MXN"), own, "{c:#}");
        assert_eq!(
            cents(&c["unspent_allocated"], "MXN"),
            allocated - from_donations,
            "{c:#}"
        );
        totals = (
            totals.0 + allocated,
            totals.1 + from_donations,
            totals.2 + own,
        );
    }
    let t = &entry["totals"];
    assert_eq!(cents(&t["allocated"], "MXN"), totals.0, "{t:#}");
    assert_eq!(cents(&t["spent_from_donations"], "MXN"), totals.1, "{t:#}");
    assert_eq!(cents(&t["spent_own_funds"], "MXN"), totals.2, "{t:#}");
    assert_eq!(
        cents(&t["unspent_allocated"], "MXN"),
        totals.0 - totals.1,
        "{t:#}"
    );
    match usd_rate {
        None => assert_eq!(entry["totals_usd"], Value::Null, "{entry:#}"),
        Some(rate) => {
            let u = &entry["totals_usd"];
            assert_eq!(cents(&u["allocated"], "USD"), usd(totals.0, rate), "{u:#}");
            assert_eq!(
                cents(&u["spent_from_donations"], "USD"),
                usd(totals.1, rate),
                "{u:#}"
            );
            assert_eq!(
                cents(&u["spent_own_funds"], "USD"),
                usd(totals.2, rate),
                "{u:#}"
            );
            assert_eq!(
                cents(&u["unspent_allocated"], "USD"),
                usd(totals.0 - totals.1, rate),
                "{u:#}"
            );
        }
    }
}

fn assert_donations(report: &Value, expected: &BTreeMap<String, (i64, i64, i64)>) {
    let lines = list(&report["donations"]);
    let got: BTreeMap<String, (i64, i64, i64)> = lines
        .iter()
        .map(|l| {
            let c = text(&l["currency"]);
            let v = (
                cents(&l["received"], &c),
                cents(&l["allocated"], &c),
                cents(&l["unallocated"], &c),
            );
            (c, v)
        })
        .collect();
    assert_eq!(&got, expected, "{report:#}");
    let currencies: Vec<String> = lines.iter().map(|l| text(&l["currency"])).collect();
    let mut sorted = currencies.clone();
    sorted.sort();
    assert_eq!(currencies, sorted, "donations by currency");
}

fn the_spending_report_matches_the_ledgers(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = world(&app, true).await;
        let (from, to) = (local(-3), local_today());
        let r = report(&app, &w.auditor, &period(from, to)).await;
        assert_eq!(r["from"], json!(from));
        assert_eq!(r["to"], json!(to));
        let e = expected(&app, &w, from, to).await;

        let ids: BTreeSet<String> = list(&r["shelters"])
            .iter()
            .map(|s| text(&s["shelter_id"]))
            .collect();
        assert_eq!(ids, BTreeSet::from([w.a.clone(), w.b.clone()]), "{r:#}");
        for (sid, name) in [(&w.a, "Casa A"), (&w.b, B_NAME)] {
            let entry = shelter_of(&r, sid);
            assert_eq!(entry["name"], name);
            assert_shelter(entry, &e.shelters[sid.as_str()], Some(RATE.1));
        }
        // The data set is not trivial: money was allocated and spent in both shelters, some of
        // B's spending drew on money allocated before the period (a negative unspent figure).
        for sid in [&w.a, &w.b] {
            let t = &shelter_of(&r, sid)["totals"];
            assert!(cents(&t["spent_from_donations"], "MXN") > 0, "{t:#}");
            assert!(
                cents(&t["spent_own_funds"], "MXN") > 0 || sid == &w.b,
                "{t:#}"
            );
        }
        let bedding = list(&shelter_of(&r, &w.b)["categories"])
            .into_iter()
            .find(|c| c["category"] == "bedding")
            .expect("bedding");
        assert!(
            cents(&bedding["unspent_allocated"], "MXN") < 0,
            "{bedding:#}"
        );

        // Money received in the period, by currency: MXN, USD and the EUR that waits.
        assert_donations(&r, &e.donations);
        assert_eq!(
            e.donations.keys().cloned().collect::<Vec<_>>(),
            ["EUR", "MXN", "USD"]
        );
        assert!(e.donations["EUR"].2 > 0);

        // The old expense and the old allocation lie outside the period; a period around the
        // old expense sees it, converted with the rate in force then; before any rate: null.
        let day = local(-40);
        let old = report(&app, &w.admin, &period(day, day)).await;
        let e_old = expected(&app, &w, day, day).await;
        assert_shelter(
            shelter_of(&old, &w.a),
            &e_old.shelters[w.a.as_str()],
            Some(OLD_RATE.1),
        );
        assert_eq!(
            e_old.shelters[w.a.as_str()].get("other"),
            Some(&(0, 0, 9900))
        );
        let before_rates = report(&app, &w.admin, &period(local(-60), local(-55))).await;
        assert_eq!(shelter_of(&before_rates, &w.a)["totals_usd"], Value::Null);
        assert_eq!(before_rates["donations"], json!([]));
        let old_allocation = expected(&app, &w, local(-46), local(-44)).await;
        let b_old = &old_allocation.shelters[w.b.as_str()];
        assert_eq!(b_old.get("bedding").map(|f| f.0), Some(200_000));
        assert_shelter(
            shelter_of(
                &report(&app, &w.admin, &period(local(-46), local(-44))).await,
                &w.b,
            ),
            b_old,
            Some(OLD_RATE.1),
        );

        // By default: the current month to date, in the shelters' time zone.
        let default = report(&app, &w.admin, "").await;
        assert_eq!(default["to"], json!(local_today()), "{default:#}");
        assert_eq!(
            default["from"],
            json!(local_today().with_day(1).expect("first of the month"))
        );

        // One shelter, as its manager reads it: the same figures; the donations are the money
        // allocated to it in the period, by donation currency; only its flags.
        let mine = report(
            &app,
            &w.manager_a,
            &format!("shelter_id={}&{}", w.a, period(from, to)),
        )
        .await;
        let only: Vec<Value> = list(&mine["shelters"]);
        assert_eq!(only.len(), 1, "{mine:#}");
        assert_eq!(only[0], *shelter_of(&r, &w.a));
        let allocated: BTreeMap<String, (i64, i64, i64)> = e.allocated_to[w.a.as_str()]
            .iter()
            .map(|(c, v)| (c.clone(), (*v, *v, 0)))
            .collect();
        assert_donations(&mine, &allocated);
        let a_flags: Vec<Value> = list(&r["flags"])
            .into_iter()
            .filter(|f| f["shelter_id"] == w.a.as_str())
            .collect();
        assert_eq!(list(&mine["flags"]), a_flags);
        assert!(!a_flags.is_empty());
    });
}

// ---------------------------------------------------------------------------------------------
// CSV.

/// Parses RFC 4180 CSV (quoted fields with doubled quotes, CRLF or LF line ends).
fn parse_csv(body: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// `GET` with raw text back: (status, content type, body).
async fn get_text(
    app: &TestApp,
    path: &str,
    token: &str,
    accept: Option<&str>,
) -> (StatusCode, String, String) {
    let mut req = app
        .http
        .get(format!("{}/api/v1{path}", app.base))
        .bearer_auth(token);
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    let res = req.send().await.expect("request sent");
    let status = res.status();
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, res.text().await.expect("body read"))
}

fn the_report_reads_back_from_csv(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = world(&app, true).await;
        let q = period(local(-3), local_today());
        let json_report = report(&app, &w.auditor, &q).await;

        let (status, kind, by_format) = get_text(
            &app,
            &format!("/reports/spending?{q}&format=csv"),
            &w.auditor,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{by_format}");
        assert!(kind.starts_with("text/csv"), "{kind}");
        assert!(by_format.contains("\r\n"), "RFC 4180 line ends");
        let (status, kind, by_accept) = get_text(
            &app,
            &format!("/reports/spending?{q}"),
            &w.auditor,
            Some("text/csv"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(kind.starts_with("text/csv"), "{kind}");
        assert_eq!(by_accept, by_format);
        // `format=json` wins over the header.
        let (_, kind, _) = get_text(
            &app,
            &format!("/reports/spending?{q}&format=json"),
            &w.auditor,
            Some("text/csv"),
        )
        .await;
        assert!(kind.starts_with("application/json"), "{kind}");

        let rows = parse_csv(&by_format);
        assert_eq!(rows[0].join(","), CSV_HEADER);
        let shelters = list(&json_report["shelters"]);
        assert_eq!(
            rows.len() - 1,
            shelters.len() * CATEGORIES.len(),
            "{rows:?}"
        );
        let mut seen = 0;
        for s in &shelters {
            for c in list(&s["categories"]) {
                let row = rows
                    .iter()
                    .find(|r| r[0] == text(&s["shelter_id"]) && r[3] == text(&c["category"]))
                    .unwrap_or_else(|| panic!("no row for {s} {c}"));
                assert_eq!(row.len(), 8, "{row:?}");
                assert_eq!(row[1], text(&s["name"]));
                assert_eq!(row[2], text(&s["currency"]));
                for (i, field) in [
                    "allocated",
                    "spent_from_donations",
                    "spent_own_funds",
                    "unspent_allocated",
                ]
                .iter()
                .enumerate()
                {
                    assert_eq!(
                        row[4 + i],
                        decimal(cents(&c[*field], "MXN")),
                        "{field}: {row:?}"
                    );
                    assert_eq!(minor(&row[4 + i]), cents(&c[*field], "MXN"));
                }
                seen += 1;
            }
        }
        assert_eq!(seen, rows.len() - 1);
        // The name with a comma and quotes came back whole.
        assert!(rows.iter().any(|r| r[1] == B_NAME), "{by_format}");
        assert!(
            by_format.contains("\"Casa \"\"B\"\", Norte\""),
            "{by_format}"
        );
        // Problems stay JSON.
        let (status, kind, _) = get_text(
            &app,
            "/reports/spending?format=csv&from=nope",
            &w.auditor,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(kind, "application/problem+json");
    });
}

// ---------------------------------------------------------------------------------------------
// Flags.

type FlagKey = (String, String, String, String);

fn flag_keys(report: &Value) -> BTreeSet<FlagKey> {
    list(&report["flags"])
        .iter()
        .map(|f| {
            assert!(f["detail"].as_str().is_some_and(|d| !d.is_empty()), "{f:#}");
            (
                text(&f["code"]),
                text(&f["shelter_id"]),
                text(&f["entity"]),
                text(&f["entity_id"]),
            )
        })
        .collect()
}

fn key(code: &str, sid: &str, entity: &str, id: &str) -> FlagKey {
    (code.into(), sid.into(), entity.into(), id.into())
}

/// The flags the data says there should be, computed from the API's own data.
async fn expected_flags(
    app: &TestApp,
    w: &World,
    from: NaiveDate,
    to: NaiveDate,
) -> BTreeSet<FlagKey> {
    let mut out = BTreeSet::new();
    let now = Utc::now();
    let views = donation_views(app, w).await;
    for d in &views {
        for a in list(&d["allocations"]) {
            let unspent = cents(&a["amount_local"], "MXN") - cents(&a["spent"], "MXN");
            if instant(&a["created_at"]) <= now - Duration::days(30) && unspent > 0 {
                out.insert(key(
                    "unspent_allocation_30d",
                    &text(&a["shelter_id"]),
                    "allocation",
                    &text(&a["id"]),
                ));
            }
        }
    }
    for sid in [&w.a, &w.b] {
        for e in expenses_of(app, sid, &w.admin).await {
            let funded: i64 = list(&e["funded_by"])
                .iter()
                .map(|s| cents(&s["amount"], "MXN"))
                .sum();
            let day = date(&e["spent_on"]);
            if funded > 0 && e["receipt_ref"].is_null() && day >= from && day <= to {
                out.insert(key(
                    "expense_without_receipt",
                    sid,
                    "expense",
                    &text(&e["id"]),
                ));
            }
        }
        let ledger = items(
            &get_ok(
                app,
                &format!("/shelters/{sid}/stock/movements?limit=500"),
                &w.admin,
            )
            .await,
        );
        for m in ledger {
            let as_thousandths =
                |v: &Value| (v.as_f64().expect("a number") * 1000.0).round() as i64;
            let delta = as_thousandths(&m["delta"]);
            let before = as_thousandths(&m["on_hand_after"]) - delta;
            let day = local_day_of(&m["occurred_at"]);
            if ["adjustment", "waste", "count"].contains(&m["kind"].as_str().unwrap_or_default())
                && delta < 0
                && -delta * 5 > before
                && day >= from
                && day <= to
            {
                out.insert(key(
                    "large_negative_adjustment",
                    sid,
                    "stock_movement",
                    &text(&m["id"]),
                ));
            }
        }
        // Money waiting in a currency without a rate to MXN, while the shelter lacks money.
        let lacking = needs(app, sid, &w.admin).await.iter().any(|n| {
            ["open", "partially_funded", "funded"].contains(&n["status"].as_str().unwrap_or(""))
                && !n["amount_open"].is_null()
                && cents(&n["amount_open"], "MXN") > 0
        });
        for d in &views {
            let currency = text(&d["amount"]["currency"]);
            if lacking
                && currency == "EUR"
                && cents(&d["unallocated"], &currency) > 0
                && d["restriction"].is_null()
            {
                out.insert(key("missing_fx_rate", sid, "donation", &text(&d["id"])));
            }
        }
        let bills =
            items(&get_ok(app, &format!("/shelters/{sid}/bills?limit=500"), &w.admin).await);
        for b in bills {
            if b["status"] != "void"
                && cents(&b["paid"], "MXN") < cents(&b["amount"], "MXN")
                && date(&b["due_on"]) < local_today()
            {
                out.insert(key("overdue_bill", sid, "bill", &text(&b["id"])));
            }
        }
    }
    out
}

fn each_flag_fires_on_its_case(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = world(&app, true).await;
        let (from, to) = (local(-3), local_today());
        let r = report(&app, &w.auditor, &period(from, to)).await;
        let got = flag_keys(&r);
        let want = expected_flags(&app, &w, from, to).await;
        assert_eq!(got, want, "{r:#}");
        let codes: BTreeSet<String> = got.iter().map(|k| k.0.clone()).collect();
        assert_eq!(
            codes,
            [
                "expense_without_receipt",
                "large_negative_adjustment",
                "missing_fx_rate",
                "overdue_bill",
                "unspent_allocation_30d",
            ]
            .iter()
            .map(|c| (*c).to_owned())
            .collect::<BTreeSet<_>>(),
            "{r:#}"
        );
        // Each on the very thing constructed for it.
        let old = get_ok(&app, &format!("/donations/{}", w.old_gift), &w.admin).await;
        let old_allocation = text(&old.body["allocations"][0]["id"]);
        assert!(got.contains(&key(
            "unspent_allocation_30d",
            &w.b,
            "allocation",
            &old_allocation
        )));
        for sid in [&w.a, &w.b] {
            assert!(got.contains(&key("missing_fx_rate", sid, "donation", &w.euro_gift)));
        }
        // Listed by code in the contract's order.
        let order = [
            "unspent_allocation_30d",
            "expense_without_receipt",
            "large_negative_adjustment",
            "missing_fx_rate",
            "overdue_bill",
        ];
        let ranks: Vec<usize> = list(&r["flags"])
            .iter()
            .map(|f| {
                order
                    .iter()
                    .position(|c| f["code"] == *c)
                    .expect("a known code")
            })
            .collect();
        assert!(ranks.windows(2).all(|p| p[0] <= p[1]), "{ranks:?}");
        // Movements and expenses count in their period only; the rest is as of now.
        let earlier = report(&app, &w.auditor, &period(local(-20), local(-10))).await;
        let earlier_codes: BTreeSet<String> =
            flag_keys(&earlier).into_iter().map(|k| k.0).collect();
        assert!(
            !earlier_codes.contains("expense_without_receipt"),
            "{earlier:#}"
        );
        assert!(!earlier_codes.contains("large_negative_adjustment"));
        assert!(earlier_codes.contains("overdue_bill"));
        assert!(earlier_codes.contains("unspent_allocation_30d"));
        assert_eq!(
            flag_keys(&earlier),
            expected_flags(&app, &w, local(-20), local(-10)).await
        );
    });
}

fn a_clean_ledger_raises_no_flags(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = world(&app, false).await;
        let (from, to) = (local(-3), local_today());
        let r = report(&app, &w.auditor, &period(from, to)).await;
        assert_eq!(r["flags"], json!([]), "{r:#}");
        assert!(expected_flags(&app, &w, from, to).await.is_empty());
        // The figures are still there, and still right.
        let e = expected(&app, &w, from, to).await;
        for sid in [&w.a, &w.b] {
            assert_shelter(shelter_of(&r, sid), &e.shelters[sid.as_str()], Some(RATE.1));
        }
        assert_donations(&r, &e.donations);
    });
}

// ---------------------------------------------------------------------------------------------
// Who may read.

fn reports_are_for_overseers_and_managers(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = world(&app, false).await;
        let (a, b) = (&w.a, &w.b);
        for token in [&w.admin, &w.auditor] {
            for q in [String::new(), format!("shelter_id={a}")] {
                let r = app
                    .get(&format!("/reports/spending?{q}"), Some(token))
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{q}: {r:?}");
            }
        }
        let r = app
            .get(
                &format!("/reports/spending?shelter_id={a}"),
                Some(&w.manager_a),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        // Donors never; staff not for every shelter, nor coordinators for theirs.
        for (token, q) in [
            (&w.donor, String::new()),
            (&w.donor, format!("shelter_id={a}")),
            (&w.manager_a, String::new()),
            (&w.coord_a, String::new()),
            (&w.coord_a, format!("shelter_id={a}")),
        ] {
            let r = app
                .get(&format!("/reports/spending?{q}"), Some(token))
                .await;
            assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        }
        // A manager of another shelter, and an unknown shelter: not found.
        for (token, sid) in [
            (&w.manager_b, a.as_str()),
            (&w.coord_b, a.as_str()),
            (&w.manager_a, b.as_str()),
            (&w.admin, "0190f5e2-0000-7000-8000-000000000000"),
            (&w.auditor, "not-an-id"),
        ] {
            let r = app
                .get(&format!("/reports/spending?shelter_id={sid}"), Some(token))
                .await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        }
        let r = app.get("/reports/spending", None).await;
        assert_problem(&r, StatusCode::UNAUTHORIZED, "unauthorized");
        // Authorization first, then the query.
        let r = app
            .get("/reports/spending?from=2026-13-01", Some(&w.donor))
            .await;
        assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        for q in [
            "from=2026-13-01",
            "to=yesterday",
            "from=2026-02-10&to=2026-02-01",
            "format=xml",
        ] {
            let r = app
                .get(&format!("/reports/spending?{q}"), Some(&w.auditor))
                .await;
            assert_problem(&r, StatusCode::BAD_REQUEST, "bad_query");
        }
        // A donor sees no report, but does see where their own money went.
        let r = app
            .get(&format!("/donations/{}/trace", w.rice_gift), Some(&w.donor))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
    });
}

// ---------------------------------------------------------------------------------------------
// The trace.

fn the_trace_follows_a_donation_to_the_stock_it_bought(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = world(&app, false).await;
        let path = format!("/donations/{}/trace", w.rice_gift);
        let t = get_ok(&app, &path, &w.donor).await.body;
        let d = get_ok(&app, &format!("/donations/{}", w.rice_gift), &w.donor)
            .await
            .body;
        assert_eq!(
            t["donation"], d,
            "the donation as GET /donations/{{did}} shows it"
        );
        assert_eq!(t["movements"], json!([]));
        let chain = list(&t["allocations"]);
        assert_eq!(chain.len(), list(&d["allocations"]).len(), "{t:#}");
        assert_eq!(chain.len(), 1, "{t:#}");
        let link = &chain[0];
        assert_eq!(link["allocation"], d["allocations"][0]);
        let need = &link["need"];
        assert_eq!(need["id"], d["allocations"][0]["need_id"]);
        assert_eq!(need["shelter_id"], json!(w.a));
        assert_eq!(need["kind"], "item");
        assert_eq!(need["category"], "food");
        assert_eq!(need["title"], "Arroz");
        assert!(need["status"].is_string());

        // The rice expense, this donation's share of it, and the receipt it wrote.
        let expenses = list(&link["expenses"]);
        let spent = expenses
            .iter()
            .find(|e| e["expense_id"] == w.rice_expense.as_str())
            .unwrap_or_else(|| panic!("the rice expense: {t:#}"));
        let listed = expenses_of(&app, &w.a, &w.coord_a)
            .await
            .into_iter()
            .find(|e| e["id"] == w.rice_expense.as_str())
            .expect("listed");
        let share: i64 = list(&listed["funded_by"])
            .iter()
            .filter(|f| f["donation_id"] == w.rice_gift.as_str())
            .map(|f| cents(&f["amount"], "MXN"))
            .sum();
        assert!(share > 0);
        assert_eq!(cents(&spent["amount"], "MXN"), share);
        let detail = &spent["expense"];
        assert_eq!(detail["id"], json!(w.rice_expense));
        assert_eq!(detail["amount"], mxn("1000.00"));
        assert_eq!(detail["spent_on"], json!(local_today()));
        assert_eq!(detail["description"], "Arroz 40 kg");
        assert_eq!(detail["receipt_ref"], "F-1");
        assert_eq!(detail["category"], "food");
        let movements = list(&spent["movements"]);
        assert_eq!(movements.len(), 1, "{spent:#}");
        assert_eq!(movements[0]["item_id"], json!(w.rice));
        assert_eq!(movements[0]["kind"], "receipt");
        assert_eq!(movements[0]["quantity"], json!(40));
        assert_eq!(movements[0]["delta"], json!(40));
        assert!(movements[0]["occurred_at"].is_string());
        // Σ shares over the chain = what the donation view says was spent.
        let traced: i64 = chain
            .iter()
            .flat_map(|l| list(&l["expenses"]))
            .map(|e| cents(&e["amount"], "MXN"))
            .sum();
        let viewed: i64 = list(&d["spent"])
            .iter()
            .map(|s| cents(&s["amount"], "MXN"))
            .sum();
        assert_eq!(traced, viewed);

        // Admins and auditors too; another donor, or staff, see nothing.
        for token in [&w.admin, &w.auditor] {
            assert_eq!(
                get_ok(&app, &path, token).await.body["allocations"],
                t["allocations"]
            );
        }
        for token in [&w.other_donor, &w.coord_a, &w.manager_a] {
            let r = app.get(&path, Some(token)).await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        }
        let r = app
            .get(
                "/donations/0190f5e2-0000-7000-8000-000000000000/trace",
                Some(&w.donor),
            )
            .await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        let r = app.get("/donations/nope/trace", Some(&w.admin)).await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");

        // A bill's need: donors read what it is for, never the payee; the admin sees both.
        let bill_path = format!("/donations/{}/trace", w.bill_gift);
        let mine = get_ok(&app, &bill_path, &w.donor).await.body;
        let title = text(&mine["allocations"][0]["need"]["title"]);
        assert_eq!(title, "Electricity bill", "{mine:#}");
        let admin_view = get_ok(&app, &bill_path, &w.admin).await.body;
        let title = text(&admin_view["allocations"][0]["need"]["title"]);
        assert!(title.contains(&w.power_bill_payee), "{title}");
        assert_eq!(mine["allocations"][0]["need"]["kind"], "bill");

        // Goods in kind: no allocations, the receipt that names the donation.
        let goods = get_ok(
            &app,
            &format!("/donations/{}/trace", w.goods_gift),
            &w.other_donor,
        )
        .await
        .body;
        assert_eq!(goods["allocations"], json!([]), "{goods:#}");
        let receipts = list(&goods["movements"]);
        assert_eq!(receipts.len(), 1, "{goods:#}");
        assert_eq!(receipts[0]["kind"], "receipt");
        assert_eq!(receipts[0]["item_id"], json!(w.rice));
        assert_eq!(receipts[0]["quantity"], json!(5));
        // Its shelter's staff may see goods given to it, so their trace too.
        let r = get_ok(
            &app,
            &format!("/donations/{}/trace", w.goods_gift),
            &w.coord_a,
        )
        .await;
        assert_eq!(r.body["movements"], goods["movements"]);
        let r = app
            .get(
                &format!("/donations/{}/trace", w.goods_gift),
                Some(&w.donor),
            )
            .await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
    });
}
