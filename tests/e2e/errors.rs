//! Errors: every status code of the contract triggered by a real request, each answered as
//! RFC 9457 `application/problem+json` with its stable `type`; the request's language; login and
//! registration throttling; rejected requests change nothing; and the operational endpoints.

use crate::support::{
    run, serve_args, shelter_body, spawn_app, spawn_with, token_in, Reply, TestApp, PASSWORD,
};
use diesel::prelude::*;
use refugio_db::backend_tests;
use refugio_db::test_support::{Backend, TestDatabase};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::net::IpAddr;

backend_tests!(
    healthz_and_openapi_answer,
    malformed_json_is_400,
    a_bad_query_string_is_400,
    a_missing_or_garbage_token_is_401,
    a_role_that_may_never_do_it_gets_403,
    authorization_is_decided_before_validation,
    not_found_is_404_and_never_leaks,
    a_duplicate_email_is_409_and_changes_nothing,
    conflicts_name_their_kind,
    unknown_tokens_are_410,
    a_body_over_one_mebibyte_is_413,
    a_body_that_is_not_json_is_415,
    validation_lists_every_wrong_field,
    rejected_shelters_change_nothing,
    errors_follow_accept_language,
    nothing_a_client_sends_is_a_500,
    five_login_failures_throttle_the_email_from_that_address,
    login_throttling_rule_1_is_per_address_behind_a_trusted_proxy,
    login_throttling_rule_2_spares_addresses_that_never_failed,
    login_throttling_rule_3_stops_one_address_guessing_many_emails,
    registration_is_limited_per_address,
);

/// Asserts `r` is a problem document of `status` with `type` `urn:refugio:problem:<code>`.
pub(crate) fn assert_problem(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{r:?}");
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{r:?}"
    );
    assert_eq!(
        r.body["type"],
        json!(format!("urn:refugio:problem:{code}")),
        "{r:?}"
    );
    assert_eq!(r.body["status"], json!(status.as_u16()), "{r:?}");
    for member in ["title", "detail"] {
        assert!(
            r.body[member].as_str().is_some_and(|s| !s.is_empty()),
            "problem without {member}: {r:?}"
        );
    }
}

/// The `field`s of a `422`'s `errors`, sorted.
pub(crate) fn error_fields(r: &Reply) -> Vec<String> {
    let mut fields: Vec<String> = r.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    fields.sort();
    fields
}

/// The `message` of the `errors` entry for `field`.
fn message_for(r: &Reply, field: &str) -> String {
    r.body["errors"]
        .as_array()
        .and_then(|errors| errors.iter().find(|e| e["field"] == field))
        .and_then(|e| e["message"].as_str())
        .unwrap_or_else(|| panic!("no error for {field}: {r:?}"))
        .to_owned()
}

/// A request with a raw body: `path` is the full path (`/api/v1/...`), `content_type` is sent
/// as given, nothing is added.
pub(crate) async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Reply {
    let mut req = app.http.request(method, format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = req.body(body).send().await.expect("request sent");
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.expect("body read");
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

async fn register(app: &TestApp, email: &str, headers: &[(&str, &str)]) -> Reply {
    app.send(
        Method::POST,
        "/auth/register",
        None,
        Some(json!({"email": email, "password": PASSWORD, "name": "Someone"})),
        headers,
    )
    .await
}

async fn donor_token(app: &TestApp, email: &str) -> String {
    app.create_user(email, refugio_core::Role::Donor);
    app.login(email, PASSWORD).await.str("access_token")
}

/// How many shelters the admin sees.
async fn shelter_count(app: &TestApp, admin: &str) -> usize {
    let r = app.get("/shelters?limit=500", Some(admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["items"].as_array().map_or(0, Vec::len)
}

fn user_count(app: &TestApp) -> i64 {
    let mut conn = app.db.connect();
    refugio_db::schema::users::table
        .count()
        .get_result(&mut conn)
        .expect("count users")
}

/// A server that trusts `127.0.0.1` as a proxy, so `X-Forwarded-For` names the client.
async fn spawn_behind_proxy(backend: Backend) -> TestApp {
    let db = TestDatabase::new(backend);
    let mut args = serve_args(&db);
    args.trusted_proxies = vec![IpAddr::from([127, 0, 0, 1])];
    spawn_with(db, &args)
}

async fn login_from(app: &TestApp, email: &str, password: &str, address: &str) -> Reply {
    app.send(
        Method::POST,
        "/auth/login",
        None,
        Some(json!({"email": email, "password": password})),
        &[("X-Forwarded-For", address)],
    )
    .await
}

/// A `429` with a `Retry-After` of a positive whole number of seconds, at most `max`.
fn assert_throttled(r: &Reply, max: u64) {
    assert_problem(r, StatusCode::TOO_MANY_REQUESTS, "throttled");
    let retry = r
        .header("retry-after")
        .unwrap_or_else(|| panic!("429 without Retry-After: {r:?}"));
    let secs: u64 = retry
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is not a number of seconds: {retry:?}"));
    assert!(
        (1..=max).contains(&secs),
        "Retry-After {secs} out of 1..={max}"
    );
}

fn healthz_and_openapi_answer(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let health = app.get("/healthz", None).await;
        assert_eq!(health.status, StatusCode::OK);
        assert_eq!(health.body, json!({"status": "ok"}));
        assert_eq!(health.header("content-type"), Some("application/json"));

        let doc = app.get("/openapi.json", None).await;
        assert_eq!(doc.status, StatusCode::OK, "{doc:?}");
        let version = doc.str("openapi");
        assert!(version.starts_with("3.1"), "openapi: {version:?}");
        let paths = doc.body["paths"].as_object().expect("paths");
        for path in [
            "/healthz",
            "/api/v1/auth/register",
            "/api/v1/shelters",
            "/api/v1/shelters/{sid}/members",
        ] {
            assert!(paths.contains_key(path), "{path} not documented");
        }
    });
}

fn malformed_json_is_400(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let bodies: [&[u8]; 6] = [
            b"{\"email\":",
            b"{\"email\": \"a@example.org\",}",
            b"{} trailing",
            b"",
            b"\xff\xfe{}",
            b"{\"name\": \"\\ud800\"}",
        ];
        for body in bodies {
            let r = raw(
                &app,
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some("application/json"),
                body.to_vec(),
            )
            .await;
            assert_problem(&r, StatusCode::BAD_REQUEST, "malformed_json");
        }
        // Also behind authentication, and with a charset parameter.
        let r = raw(
            &app,
            Method::POST,
            "/api/v1/shelters",
            Some(&admin),
            Some("application/json; charset=utf-8"),
            b"{\"name\": \"Casa\"".to_vec(),
        )
        .await;
        assert_problem(&r, StatusCode::BAD_REQUEST, "malformed_json");
        assert_eq!(shelter_count(&app, &admin).await, 0);
    });
}

fn a_bad_query_string_is_400(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        app.create_shelter(&admin, "Casa A").await;
        for query in [
            "limit=abc",
            "limit=0",
            "limit=-1",
            "limit=99999999999999999999",
            "cursor=!!!",
            "cursor=%FF%FE",
        ] {
            let r = app.get(&format!("/shelters?{query}"), None).await;
            assert_problem(&r, StatusCode::BAD_REQUEST, "bad_query");
        }
        let r = app.get("/audit/events?from=yesterday", Some(&admin)).await;
        assert_problem(&r, StatusCode::BAD_REQUEST, "bad_query");
        // Above 500 is clamped, not refused.
        let clamped = app.get("/shelters?limit=100000", None).await;
        assert_eq!(clamped.status, StatusCode::OK, "{clamped:?}");
        assert_eq!(clamped.body["items"].as_array().map(Vec::len), Some(1));
    });
}

fn a_missing_or_garbage_token_is_401(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let none = app.get("/me", None).await;
        assert_problem(&none, StatusCode::UNAUTHORIZED, "unauthorized");
        for token in ["garbage", "a.b.c", "", "Bearer"] {
            let r = app.get("/me", Some(token)).await;
            assert_problem(&r, StatusCode::UNAUTHORIZED, "unauthorized");
        }
        let basic = app
            .send(
                Method::GET,
                "/me",
                None,
                None,
                &[("Authorization", "Basic YWRtaW46YWRtaW4=")],
            )
            .await;
        assert_problem(&basic, StatusCode::UNAUTHORIZED, "unauthorized");
        let anonymous_write = app.post("/shelters", None, shelter_body("Casa")).await;
        assert_problem(&anonymous_write, StatusCode::UNAUTHORIZED, "unauthorized");
        let anonymous_users = app.post("/users", None, json!({})).await;
        assert_problem(&anonymous_users, StatusCode::UNAUTHORIZED, "unauthorized");
    });
}

fn a_role_that_may_never_do_it_gets_403(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let donor = donor_token(&app, "donor@example.org").await;
        let r = app
            .post("/shelters", Some(&donor), shelter_body("Casa"))
            .await;
        assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        let audit = app.get("/audit/events", Some(&donor)).await;
        assert_problem(&audit, StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(shelter_count(&app, &admin).await, 0);
    });
}

fn authorization_is_decided_before_validation(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let a = app.create_shelter(&admin, "Casa A").await;
        let b = app.create_shelter(&admin, "Casa B").await;
        let (_, coordinator_b) = app
            .staff(&admin, "coord-b@example.org", &b, "coordinator")
            .await;
        let (_, coordinator_a) = app
            .staff(&admin, "coord-a@example.org", &a, "coordinator")
            .await;
        let donor = donor_token(&app, "donor@example.org").await;
        app.create_user("auditor@example.org", refugio_core::Role::Auditor);
        let auditor = app
            .login("auditor@example.org", PASSWORD)
            .await
            .str("access_token");
        let invalid_shelter = json!({"name": "", "city": "", "region": "", "country": "??",
                                     "timezone": "x", "currency": "BTC", "bed_capacity": -1});
        let json_ct = Some("application/json");
        let mut cases: Vec<(&str, Reply, StatusCode, &str)> = Vec::new();

        // A donor may never create shelters: whatever the body, 403.
        let r = app.post("/shelters", Some(&donor), json!({})).await;
        cases.push((
            "donor POST /shelters {}",
            r,
            StatusCode::FORBIDDEN,
            "forbidden",
        ));
        let r = app
            .post("/shelters", Some(&donor), invalid_shelter.clone())
            .await;
        cases.push((
            "donor POST /shelters, every field invalid",
            r,
            StatusCode::FORBIDDEN,
            "forbidden",
        ));
        let r = raw(
            &app,
            Method::POST,
            "/api/v1/shelters",
            Some(&donor),
            json_ct,
            b"{".to_vec(),
        )
        .await;
        cases.push((
            "donor POST /shelters, malformed JSON",
            r,
            StatusCode::FORBIDDEN,
            "forbidden",
        ));
        let r = raw(
            &app,
            Method::POST,
            "/api/v1/shelters",
            Some(&donor),
            Some("text/plain"),
            b"hello".to_vec(),
        )
        .await;
        cases.push((
            "donor POST /shelters, text/plain",
            r,
            StatusCode::FORBIDDEN,
            "forbidden",
        ));
        // The control: a valid body gets the same 403.
        let r = app
            .post("/shelters", Some(&donor), shelter_body("Casa C"))
            .await;
        cases.push((
            "donor POST /shelters, valid body",
            r,
            StatusCode::FORBIDDEN,
            "forbidden",
        ));

        // An auditor writes nothing, however wrong the body.
        let r = app
            .post("/users", Some(&auditor), json!({"email": 5}))
            .await;
        cases.push((
            "auditor POST /users {email: 5}",
            r,
            StatusCode::FORBIDDEN,
            "forbidden",
        ));
        let r = app
            .post(
                &format!("/shelters/{a}/invitations"),
                Some(&auditor),
                json!({"email": "x@example.org"}),
            )
            .await;
        cases.push((
            "auditor POST /shelters/A/invitations without role",
            r,
            StatusCode::FORBIDDEN,
            "forbidden",
        ));

        // A coordinator asking for a manager's action: 403 before the body is looked at.
        let r = app
            .call(
                Method::PATCH,
                &format!("/shelters/{a}"),
                Some(&coordinator_a),
                Some(json!({"bed_capacity": "many"})),
            )
            .await;
        cases.push((
            "coordinator of A PATCH /shelters/A {bed_capacity: \"many\"}",
            r,
            StatusCode::FORBIDDEN,
            "forbidden",
        ));

        // Staff of another shelter: 404 before the body is looked at.
        let r = app
            .post(
                &format!("/shelters/{a}/invitations"),
                Some(&coordinator_b),
                json!({}),
            )
            .await;
        cases.push((
            "coordinator of B POST /shelters/A/invitations {}",
            r,
            StatusCode::NOT_FOUND,
            "not_found",
        ));
        let r = app
            .call(
                Method::PATCH,
                &format!("/shelters/{a}"),
                Some(&coordinator_b),
                Some(json!({"bed_capacity": "many"})),
            )
            .await;
        cases.push((
            "coordinator of B PATCH /shelters/A {bed_capacity: \"many\"}",
            r,
            StatusCode::NOT_FOUND,
            "not_found",
        ));

        // Without a token: 401 whatever the body.
        let r = app.post("/shelters", None, json!({})).await;
        cases.push((
            "anonymous POST /shelters {}",
            r,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ));

        let wrong: Vec<String> = cases
            .iter()
            .filter(|(_, r, status, code)| r.status != *status || r.problem_code() != *code)
            .map(|(label, r, status, code)| {
                format!(
                    "{label}: expected {status} {code}, got {} {}",
                    r.status,
                    r.problem_code()
                )
            })
            .collect();
        assert!(wrong.is_empty(), "validated before authorizing: {wrong:#?}");
        for (_, r, status, code) in &cases {
            assert_problem(r, *status, code);
        }
        assert_eq!(shelter_count(&app, &admin).await, 2);
    });
}

fn not_found_is_404_and_never_leaks(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let a = app.create_shelter(&admin, "Casa A").await;
        let unknown = refugio_core::new_id();

        for path in ["/nope", "/api/v1/nope", "/api/v2/shelters"] {
            let r = raw(&app, Method::GET, path, None, None, Vec::new()).await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        }
        let not_an_id = app.get("/shelters/not-a-shelter", None).await;
        assert_problem(&not_an_id, StatusCode::NOT_FOUND, "not_found");
        let well_formed = app.get(&format!("/shelters/{unknown}"), None).await;
        assert_problem(&well_formed, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(not_an_id.body, well_formed.body);

        let members = app
            .get(&format!("/shelters/{unknown}/members"), Some(&admin))
            .await;
        assert_problem(&members, StatusCode::NOT_FOUND, "not_found");
        let patch = app
            .call(
                Method::PATCH,
                &format!("/shelters/{unknown}"),
                Some(&admin),
                Some(json!({"name": "X"})),
            )
            .await;
        assert_problem(&patch, StatusCode::NOT_FOUND, "not_found");
        let member = app
            .call(
                Method::DELETE,
                &format!("/shelters/{a}/members/{unknown}"),
                Some(&admin),
                None,
            )
            .await;
        assert_problem(&member, StatusCode::NOT_FOUND, "not_found");
        let user = app
            .post(
                &format!("/users/{unknown}/deactivate"),
                Some(&admin),
                json!({}),
            )
            .await;
        assert_problem(&user, StatusCode::NOT_FOUND, "not_found");

        // Staff of another shelter get exactly what a missing shelter gets.
        let b = app.create_shelter(&admin, "Casa B").await;
        let (_, coordinator_b) = app
            .staff(&admin, "coord-b@example.org", &b, "coordinator")
            .await;
        let foreign = app
            .get(&format!("/shelters/{a}/members"), Some(&coordinator_b))
            .await;
        let missing = app
            .get(
                &format!("/shelters/{unknown}/members"),
                Some(&coordinator_b),
            )
            .await;
        assert_problem(&foreign, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(foreign.body, missing.body);
    });
}

fn a_duplicate_email_is_409_and_changes_nothing(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let first = app
            .post(
                "/auth/register",
                None,
                json!({"email": "ana@example.org", "password": PASSWORD, "name": "Ana"}),
            )
            .await;
        assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
        let users = user_count(&app);

        let again = app
            .post(
                "/auth/register",
                None,
                json!({"email": " ANA@Example.org", "password": "another passphrase", "name": "Impostor"}),
            )
            .await;
        assert_problem(&again, StatusCode::CONFLICT, "duplicate_email");
        let by_admin = app
            .post(
                "/users",
                Some(&admin),
                json!({"email": "Ana@example.org", "password": "another passphrase",
                       "name": "Impostor", "role": "auditor"}),
            )
            .await;
        assert_problem(&by_admin, StatusCode::CONFLICT, "duplicate_email");

        assert_eq!(user_count(&app), users);
        assert_eq!(
            app.login("ana@example.org", "another passphrase")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        let login = app.login("ana@example.org", PASSWORD).await;
        assert_eq!(login.status, StatusCode::OK, "{login:?}");
        let me = app.get("/me", Some(&login.str("access_token"))).await;
        assert_eq!(
            (me.str("name"), me.str("role")),
            ("Ana".into(), "donor".into())
        );
    });
}

fn conflicts_name_their_kind(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let a = app.create_shelter(&admin, "Casa A").await;
        let (_, coordinator) = app
            .staff(&admin, "coord@example.org", &a, "coordinator")
            .await;
        let donor = donor_token(&app, "donor@example.org").await;

        // An existing membership is never changed.
        let invited = app
            .post(
                &format!("/shelters/{a}/invitations"),
                Some(&admin),
                json!({"email": "coord@example.org", "role": "manager"}),
            )
            .await;
        assert_eq!(invited.status, StatusCode::CREATED, "{invited:?}");
        let token = token_in(&app.last_email_to("coord@example.org").body);
        let twice = app
            .post(
                "/invitations/accept",
                Some(&coordinator),
                json!({"token": token}),
            )
            .await;
        assert_problem(&twice, StatusCode::CONFLICT, "already_member");
        let me = app.get("/me", Some(&coordinator)).await;
        assert_eq!(
            me.body["memberships"],
            json!([{"shelter_id": a, "role": "coordinator"}])
        );

        // Only staff accounts accept invitations.
        app.post(
            &format!("/shelters/{a}/invitations"),
            Some(&admin),
            json!({"email": "donor@example.org", "role": "coordinator"}),
        )
        .await;
        let token = token_in(&app.last_email_to("donor@example.org").body);
        let donor_accepts = app
            .post("/invitations/accept", Some(&donor), json!({"token": token}))
            .await;
        assert_problem(&donor_accepts, StatusCode::CONFLICT, "not_staff_account");
        let me = app.get("/me", Some(&donor)).await;
        assert_eq!(
            (me.str("role"), me.body["memberships"].clone()),
            ("donor".into(), json!([]))
        );
    });
}

fn unknown_tokens_are_410(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let reset = app
            .post(
                "/auth/password-reset/confirm",
                None,
                json!({"token": "x".repeat(43), "password": "a brand new passphrase"}),
            )
            .await;
        assert_problem(&reset, StatusCode::GONE, "gone");
        let short = app
            .post(
                "/auth/password-reset/confirm",
                None,
                json!({"token": "nope", "password": "a brand new passphrase"}),
            )
            .await;
        assert_problem(&short, StatusCode::GONE, "gone");
        let invitation = app
            .post(
                "/invitations/accept",
                None,
                json!({"token": "y".repeat(43), "name": "Nadie", "password": PASSWORD}),
            )
            .await;
        assert_problem(&invitation, StatusCode::GONE, "gone");
    });
}

fn a_body_over_one_mebibyte_is_413(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        const MIB: usize = 1024 * 1024;
        // A JSON document of exactly `len` bytes: a register body with a long name.
        let body_of = |len: usize| {
            let head = r#"{"email":"big@example.org","password":"correct horse battery","name":""#;
            let tail = r#""}"#;
            let mut s = String::with_capacity(len);
            s.push_str(head);
            s.push_str(&"x".repeat(len - head.len() - tail.len()));
            s.push_str(tail);
            assert_eq!(s.len(), len);
            s.into_bytes()
        };
        let over = raw(
            &app,
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some("application/json"),
            body_of(MIB + 1),
        )
        .await;
        assert_problem(&over, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        let far_over = raw(
            &app,
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some("application/json"),
            body_of(4 * MIB),
        )
        .await;
        assert_problem(
            &far_over,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        );
        // Exactly 1 MiB is read, and refused for what it says (a 1 MiB name).
        let at_limit = raw(
            &app,
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some("application/json"),
            body_of(MIB),
        )
        .await;
        assert_problem(&at_limit, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(error_fields(&at_limit), ["name"]);

        // An authenticated write, with and without an Idempotency-Key.
        let mut shelter = shelter_body("Casa");
        shelter["name"] = json!("y".repeat(2 * MIB));
        for key in [None, Some("big-1")] {
            let mut req = app
                .http
                .post(format!("{}/api/v1/shelters", app.base))
                .bearer_auth(&admin)
                .json(&shelter);
            if let Some(k) = key {
                req = req.header("Idempotency-Key", k);
            }
            let res = req.send().await.expect("request sent");
            let status = res.status();
            let content_type = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body: Value = res.json().await.unwrap_or(Value::Null);
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{key:?}: {body}");
            assert_eq!(content_type.as_deref(), Some("application/problem+json"));
            assert_eq!(body["type"], "urn:refugio:problem:payload_too_large");
        }
        assert_eq!(shelter_count(&app, &admin).await, 0);
        assert_eq!(
            app.login("big@example.org", PASSWORD).await.status,
            StatusCode::UNAUTHORIZED
        );
    });
}

fn a_body_that_is_not_json_is_415(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let json_text = json!({"email": "ana@example.org", "password": PASSWORD, "name": "Ana"})
            .to_string()
            .into_bytes();
        for content_type in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            None,
        ] {
            let r = raw(
                &app,
                Method::POST,
                "/api/v1/auth/register",
                None,
                content_type,
                json_text.clone(),
            )
            .await;
            assert_problem(
                &r,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            );
        }
        assert_eq!(user_count(&app), 0);
        // The same bytes as JSON are accepted.
        let ok = raw(
            &app,
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some("application/json; charset=utf-8"),
            json_text,
        )
        .await;
        assert_eq!(ok.status, StatusCode::CREATED, "{ok:?}");
    });
}

fn validation_lists_every_wrong_field(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let a = app.create_shelter(&admin, "Casa A").await;

        // Several fields wrong at once: all listed, each with a message.
        let r = app
            .post(
                "/auth/register",
                None,
                json!({"email": "not-an-email", "password": "short", "name": "   ", "locale": "fr"}),
            )
            .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(error_fields(&r), ["email", "locale", "name", "password"]);
        for field in ["email", "locale", "name", "password"] {
            assert!(!message_for(&r, field).is_empty());
        }

        let r = app
            .post(
                "/shelters",
                Some(&admin),
                json!({"name": "", "city": "Ciudad\u{0}", "region": "CDMX", "country": "Mexico",
                       "timezone": "Mars/Olympus_Mons", "currency": "BTC", "bed_capacity": -1}),
            )
            .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(
            error_fields(&r),
            [
                "bed_capacity",
                "city",
                "country",
                "currency",
                "name",
                "timezone"
            ]
        );

        // A wrong JSON type names the field.
        let r = app
            .post(
                "/auth/register",
                None,
                json!({"email": "ana@example.org", "password": 1_234_567_890_u64, "name": "Ana"}),
            )
            .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(error_fields(&r), ["password"]);
        let mut beds = shelter_body("Casa B");
        beds["bed_capacity"] = json!("sixty");
        let r = app.post("/shelters", Some(&admin), beds).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(error_fields(&r), ["bed_capacity"]);

        // A missing field, top-level and nested, is named by its path.
        let r = app
            .post(
                "/auth/register",
                None,
                json!({"email": "ana@example.org", "name": "Ana"}),
            )
            .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(error_fields(&r), ["password"]);
        let r = app
            .post(
                "/users",
                Some(&admin),
                json!({"email": "s@example.org", "password": PASSWORD, "name": "S", "role": "staff",
                       "memberships": [{"shelter_id": a, "role": "manager"}, {"role": "manager"}]}),
            )
            .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(error_fields(&r), ["memberships[1].shelter_id"]);
        let r = app
            .post(
                "/users",
                Some(&admin),
                json!({"email": "s@example.org", "password": PASSWORD, "name": "S", "role": "staff",
                       "memberships": [{"shelter_id": a, "role": "boss"}]}),
            )
            .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(error_fields(&r), ["memberships[0].role"]);
        let r = app
            .post(
                "/users",
                Some(&admin),
                json!({"email": "s@example.org", "password": PASSWORD, "name": "S", "role": "donor",
                       "memberships": [{"shelter_id": a, "role": "manager"}]}),
            )
            .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(error_fields(&r), ["memberships"]);
        assert_eq!(user_count(&app), 1);
    });
}

fn rejected_shelters_change_nothing(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let a = app.create_shelter(&admin, "Casa A").await;
        let before = app.get("/shelters", None).await;
        let audit_before = app
            .get(&format!("/audit/events?shelter_id={a}"), Some(&admin))
            .await;
        assert_eq!(audit_before.status, StatusCode::OK, "{audit_before:?}");

        let mut bad = shelter_body("Casa B");
        bad["timezone"] = json!("Nowhere/Town");
        let r = app.post("/shelters", Some(&admin), bad).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        let r = app
            .call(
                Method::PATCH,
                &format!("/shelters/{a}"),
                Some(&admin),
                Some(json!({"name": "Renamed", "bed_capacity": -5})),
            )
            .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");

        assert_eq!(app.get("/shelters", None).await.body, before.body);
        assert_eq!(
            app.get(&format!("/audit/events?shelter_id={a}"), Some(&admin))
                .await
                .body,
            audit_before.body
        );
    });
}

fn errors_follow_accept_language(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let short = json!({"email": "ana@example.org", "password": "corta", "name": "Ana"});
        let es = app
            .send(
                Method::POST,
                "/auth/register",
                None,
                Some(short.clone()),
                &[("Accept-Language", "es-MX,es;q=0.9,en;q=0.5")],
            )
            .await;
        assert_problem(&es, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(es.header("content-language"), Some("es"));
        assert_eq!(es.str("title"), "Datos no válidos");
        assert!(es.str("detail").contains("campos"), "{es:?}");
        assert_eq!(
            message_for(&es, "password"),
            "debe tener al menos 10 caracteres"
        );

        let en = app.post("/auth/register", None, short.clone()).await;
        assert_problem(&en, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(en.str("title"), "Invalid data");
        assert_eq!(
            message_for(&en, "password"),
            "must be at least 10 characters long"
        );
        // An unsupported language falls back to English; the type never changes.
        let fr = app
            .send(
                Method::POST,
                "/auth/register",
                None,
                Some(short),
                &[("Accept-Language", "fr-FR")],
            )
            .await;
        assert_eq!(fr.body, en.body);

        let missing = format!("/shelters/{}", refugio_core::new_id());
        let es = app
            .send(
                Method::GET,
                &missing,
                None,
                None,
                &[("Accept-Language", "es")],
            )
            .await;
        assert_problem(&es, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(es.str("title"), "No encontrado");
        assert_eq!(
            es.str("detail"),
            "El recurso no existe o no tiene acceso a él."
        );
        let en = app.get(&missing, None).await;
        assert_eq!(en.str("title"), "Not found");
        assert_eq!(
            en.str("detail"),
            "The resource does not exist or you have no access to it."
        );

        // Extractor errors are translated too.
        let es = app
            .send(Method::GET, "/me", None, None, &[("Accept-Language", "es")])
            .await;
        assert_problem(&es, StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(es.str("title"), "No autenticado");
        let es = app
            .send(
                Method::GET,
                "/shelters?limit=abc",
                None,
                None,
                &[("Accept-Language", "es")],
            )
            .await;
        assert_problem(&es, StatusCode::BAD_REQUEST, "bad_query");
        assert!(
            es.str("detail").starts_with("La cadena de consulta"),
            "{es:?}"
        );
    });
}

fn nothing_a_client_sends_is_a_500(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let bodies: Vec<Vec<u8>> = vec![
            b"null".to_vec(),
            b"[]".to_vec(),
            b"\"just a string\"".to_vec(),
            b"123".to_vec(),
            deep.into_bytes(),
            br#"{"email": "a@example.org", "password": "correct horse battery", "name": "A\u0000B"}"#
                .to_vec(),
            br#"{"email": "a@example.org", "password": "correct horse battery", "name": 1e400}"#
                .to_vec(),
            br#"{"email": "a@@example.org", "password": "correct horse battery", "name": "A"}"#
                .to_vec(),
            format!(
                r#"{{"email": "a@example.org", "password": "{}", "name": "A"}}"#,
                "p".repeat(129)
            )
            .into_bytes(),
        ];
        for body in bodies {
            for path in ["/api/v1/auth/register", "/api/v1/shelters", "/api/v1/users"] {
                let r = raw(
                    &app,
                    Method::POST,
                    path,
                    Some(&admin),
                    Some("application/json"),
                    body.clone(),
                )
                .await;
                assert!(
                    r.status.is_client_error(),
                    "{path} {:?}: {r:?}",
                    String::from_utf8_lossy(&body[..body.len().min(80)])
                );
                assert_eq!(
                    r.header("content-type"),
                    Some("application/problem+json"),
                    "{r:?}"
                );
            }
        }
        let mut huge = shelter_body("Casa");
        huge["bed_capacity"] = json!(u64::MAX);
        let r = app.post("/shelters", Some(&admin), huge).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(error_fields(&r), ["bed_capacity"]);
        for path in [
            "/shelters/%00",
            "/shelters/%FF/members",
            "/shelters/'%20OR%201=1",
        ] {
            let r = app.get(path, Some(&admin)).await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        }
        assert_eq!(shelter_count(&app, &admin).await, 0);
    });
}

fn five_login_failures_throttle_the_email_from_that_address(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        app.create_user("ana@example.org", refugio_core::Role::Donor);
        app.create_user("bob@example.org", refugio_core::Role::Donor);

        // Unknown email and wrong password: the same 401.
        let unknown = app.login("nobody@example.org", PASSWORD).await;
        let wrong = app.login("bob@example.org", "wrong password!").await;
        assert_problem(&unknown, StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(unknown.body, wrong.body);
        assert_eq!(unknown.header("content-type"), wrong.header("content-type"));

        for attempt in 1..=5 {
            let r = app.login("ana@example.org", "wrong password!").await;
            assert_problem(&r, StatusCode::UNAUTHORIZED, "unauthorized");
            assert!(
                r.header("retry-after").is_none(),
                "attempt {attempt}: {r:?}"
            );
        }
        // The 6th, even with the right password (and a forged X-Forwarded-For, which counts
        // for nothing without a trusted proxy): 429.
        let right = app.login("ANA@example.org", PASSWORD).await;
        assert_throttled(&right, 15 * 60);
        let forged = app
            .send(
                Method::POST,
                "/auth/login",
                None,
                Some(json!({"email": "ana@example.org", "password": PASSWORD})),
                &[("X-Forwarded-For", "203.0.113.77")],
            )
            .await;
        assert_throttled(&forged, 15 * 60);
        let wrong_again = app.login("ana@example.org", "wrong password!").await;
        assert_throttled(&wrong_again, 15 * 60);

        // Another email from the same address is not affected.
        let bob = app.login("bob@example.org", PASSWORD).await;
        assert_eq!(bob.status, StatusCode::OK, "{bob:?}");
    });
}

fn login_throttling_rule_1_is_per_address_behind_a_trusted_proxy(backend: Backend) {
    run(async {
        let app = spawn_behind_proxy(backend).await;
        app.create_user("ana@example.org", refugio_core::Role::Donor);
        let (here, there) = ("203.0.113.1", "198.51.100.2");

        // A success clears the pair's failures.
        for _ in 0..4 {
            let r = login_from(&app, "ana@example.org", "wrong password!", here).await;
            assert_problem(&r, StatusCode::UNAUTHORIZED, "unauthorized");
        }
        let ok = login_from(&app, "ana@example.org", PASSWORD, here).await;
        assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
        for _ in 0..5 {
            let r = login_from(&app, "ana@example.org", "wrong password!", here).await;
            assert_problem(&r, StatusCode::UNAUTHORIZED, "unauthorized");
        }
        let blocked = login_from(&app, "ana@example.org", PASSWORD, here).await;
        assert_throttled(&blocked, 15 * 60);

        // Nobody can lock a colleague out from elsewhere.
        let elsewhere = login_from(&app, "ana@example.org", PASSWORD, there).await;
        assert_eq!(elsewhere.status, StatusCode::OK, "{elsewhere:?}");
        let still = login_from(&app, "ana@example.org", PASSWORD, here).await;
        assert_throttled(&still, 15 * 60);
    });
}

fn login_throttling_rule_2_spares_addresses_that_never_failed(backend: Backend) {
    run(async {
        let app = spawn_behind_proxy(backend).await;
        app.create_user("carol@example.org", refugio_core::Role::Donor);
        // 100 failures for one email, 4 from each of 25 addresses (below the pair limit).
        for i in 1..=25 {
            let address = format!("10.1.0.{i}");
            for _ in 0..4 {
                let r = login_from(&app, "carol@example.org", "wrong password!", &address).await;
                assert_problem(&r, StatusCode::UNAUTHORIZED, "unauthorized");
            }
        }
        let failed_before = login_from(&app, "carol@example.org", PASSWORD, "10.1.0.1").await;
        assert_throttled(&failed_before, 60 * 60);
        let fresh = login_from(&app, "carol@example.org", PASSWORD, "10.9.9.9").await;
        assert_eq!(fresh.status, StatusCode::OK, "{fresh:?}");
    });
}

fn login_throttling_rule_3_stops_one_address_guessing_many_emails(backend: Backend) {
    run(async {
        let app = spawn_behind_proxy(backend).await;
        app.create_user("dan@example.org", refugio_core::Role::Donor);
        let guesser = "192.0.2.66";
        for i in 0..50 {
            let r = login_from(&app, &format!("ghost{i}@example.org"), PASSWORD, guesser).await;
            assert_problem(&r, StatusCode::UNAUTHORIZED, "unauthorized");
        }
        let blocked = login_from(&app, "dan@example.org", PASSWORD, guesser).await;
        assert_throttled(&blocked, 15 * 60);
        let other = login_from(&app, "dan@example.org", PASSWORD, "192.0.2.67").await;
        assert_eq!(other.status, StatusCode::OK, "{other:?}");
    });
}

fn registration_is_limited_per_address(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        for i in 1..=20 {
            let r = register(&app, &format!("donor{i}@example.org"), &[]).await;
            assert_eq!(r.status, StatusCode::CREATED, "registration {i}: {r:?}");
        }
        let users = user_count(&app);
        let r = register(&app, "donor21@example.org", &[]).await;
        assert_throttled(&r, 60 * 60);
        // A forged X-Forwarded-For does not help without a trusted proxy.
        let forged = register(
            &app,
            "donor22@example.org",
            &[("X-Forwarded-For", "203.0.113.9")],
        )
        .await;
        assert_throttled(&forged, 60 * 60);
        assert_eq!(user_count(&app), users);

        // Behind a trusted proxy the limit is per client address.
        let proxied = spawn_behind_proxy(backend).await;
        for i in 1..=20 {
            let r = register(
                &proxied,
                &format!("donor{i}@example.org"),
                &[("X-Forwarded-For", "203.0.113.1")],
            )
            .await;
            assert_eq!(r.status, StatusCode::CREATED, "registration {i}: {r:?}");
        }
        let same = register(
            &proxied,
            "donor21@example.org",
            &[("X-Forwarded-For", "203.0.113.1")],
        )
        .await;
        assert_throttled(&same, 60 * 60);
        let other = register(
            &proxied,
            "donor21@example.org",
            &[("X-Forwarded-For", "203.0.113.2")],
        )
        .await;
        assert_eq!(other.status, StatusCode::CREATED, "{other:?}");
    });
}
