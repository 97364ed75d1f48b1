//! `Idempotency-Key`: replays, reuse with another request, per-user scope, stored errors,
//! malformed keys, running and abandoned claims, and the `/auth/*` routes that ignore it.

use crate::support::{run, shelter_body, spawn_app, token_in, Reply, TestApp, PASSWORD};
use diesel::prelude::*;
use refugio_db::backend_tests;
use refugio_db::idempotency::IdempotencyRow;
use refugio_db::schema::{audit_events, idempotency_keys, shelters};
use refugio_db::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::json;

backend_tests!(
    a_repeated_key_replays_the_stored_response_and_does_nothing_again,
    keys_are_scoped_to_the_user,
    stored_errors_replay_as_they_were,
    malformed_keys_are_rejected,
    a_running_key_answers_409_and_an_abandoned_one_is_taken_over,
    concurrent_duplicates_run_once,
    auth_routes_ignore_the_key,
);

/// `POST` with a raw JSON text body (to control key order and spacing) and extra headers.
async fn post_raw(
    app: &TestApp,
    path: &str,
    token: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let mut req = app
        .http
        .post(format!("{}/api/v1{path}", app.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("request sent");
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.expect("body read");
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    }
}

/// `POST /shelters` with `body` (a JSON value) and `Idempotency-Key: key`.
async fn post_shelter(app: &TestApp, token: &str, key: &str, body: serde_json::Value) -> Reply {
    app.send(
        Method::POST,
        "/shelters",
        Some(token),
        Some(body),
        &[("Idempotency-Key", key)],
    )
    .await
}

fn shelter_rows(app: &TestApp) -> i64 {
    let mut conn = app.db.connect();
    shelters::table
        .count()
        .get_result(&mut conn)
        .expect("count shelters")
}

fn events_with_action(app: &TestApp, action: &str) -> i64 {
    let mut conn = app.db.connect();
    audit_events::table
        .filter(audit_events::action.eq(action))
        .count()
        .get_result(&mut conn)
        .expect("count audit events")
}

fn stored_key(app: &TestApp, user_id: &str, key: &str) -> Option<IdempotencyRow> {
    let mut conn = app.db.connect();
    refugio_db::idempotency::find(&mut conn, user_id, key).expect("read idempotency key")
}

async fn my_id(app: &TestApp, token: &str) -> String {
    let me = app.get("/me", Some(token)).await;
    assert_eq!(me.status, StatusCode::OK, "{me:?}");
    me.str("id")
}

fn a_repeated_key_replays_the_stored_response_and_does_nothing_again(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;

        let first = post_shelter(&app, &admin, "k1", shelter_body("Casa Esperanza")).await;
        assert_eq!(first.status, StatusCode::CREATED, "{first:?}");

        // The same JSON, keys in another order and other spacing.
        let reordered = r#"{ "bed_capacity": 60, "currency": "MXN", "timezone": "America/Mexico_City",
            "country": "MX", "region": "CDMX", "city": "Ciudad de México", "name": "Casa Esperanza" }"#;
        let second = post_raw(
            &app,
            "/shelters",
            &admin,
            reordered,
            &[("Idempotency-Key", "k1")],
        )
        .await;
        assert_eq!(second.status, first.status, "{second:?}");
        assert_eq!(second.body, first.body);
        assert_eq!(
            second.header("content-type"),
            Some("application/json"),
            "{second:?}"
        );

        assert_eq!(shelter_rows(&app), 1);
        assert_eq!(events_with_action(&app, "shelter.created"), 1);
        let listed = app.get("/shelters", None).await;
        assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(listed.body["items"][0]["id"], first.body["id"]);

        // The same key with another body: 422, nothing done.
        let other = post_shelter(&app, &admin, "k1", shelter_body("Casa Otra")).await;
        assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY, "{other:?}");
        assert_eq!(other.problem_code(), "idempotency_key_reused");
        assert_eq!(
            other.header("content-type"),
            Some("application/problem+json")
        );
        // ... or on another route (another request altogether).
        let elsewhere = app
            .send(
                Method::POST,
                "/users",
                Some(&admin),
                Some(
                    json!({"email": "eva@example.org", "password": PASSWORD, "name": "Eva",
                            "role": "donor"}),
                ),
                &[("Idempotency-Key", "k1")],
            )
            .await;
        assert_eq!(
            elsewhere.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{elsewhere:?}"
        );
        assert_eq!(elsewhere.problem_code(), "idempotency_key_reused");
        assert_eq!(shelter_rows(&app), 1);
        assert_eq!(
            events_with_action(&app, "user.created"),
            1,
            "no user was created besides the admin set up directly"
        );

        // The original request still replays after the misuse.
        let third = post_shelter(&app, &admin, "k1", shelter_body("Casa Esperanza")).await;
        assert_eq!((third.status, third.body), (first.status, first.body));
        assert_eq!(shelter_rows(&app), 1);
    });
}

fn keys_are_scoped_to_the_user(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let a = app.admin_token().await;
        app.create_user("admin2@example.org", refugio_core::Role::Admin);
        let b = app
            .login("admin2@example.org", PASSWORD)
            .await
            .str("access_token");

        let by_a = post_shelter(&app, &a, "shared", shelter_body("Casa Norte")).await;
        assert_eq!(by_a.status, StatusCode::CREATED, "{by_a:?}");
        let by_b = post_shelter(&app, &b, "shared", shelter_body("Casa Norte")).await;
        assert_eq!(by_b.status, StatusCode::CREATED, "{by_b:?}");
        assert_ne!(by_a.str("id"), by_b.str("id"), "B must not get A's reply");
        assert_eq!(shelter_rows(&app), 2);

        // Each replays its own.
        let again_a = post_shelter(&app, &a, "shared", shelter_body("Casa Norte")).await;
        let again_b = post_shelter(&app, &b, "shared", shelter_body("Casa Norte")).await;
        assert_eq!(again_a.body, by_a.body);
        assert_eq!(again_b.body, by_b.body);
        assert_eq!(shelter_rows(&app), 2);
        assert_eq!(events_with_action(&app, "shelter.created"), 2);
    });
}

fn stored_errors_replay_as_they_were(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let admin_id = my_id(&app, &admin).await;
        let mut bad = shelter_body("Casa Sur");
        bad["timezone"] = json!("Mars/Olympus_Mons");
        bad["bed_capacity"] = json!(-3);

        let first = app
            .send(
                Method::POST,
                "/shelters",
                Some(&admin),
                Some(bad.clone()),
                &[("Idempotency-Key", "bad-1"), ("Accept-Language", "es")],
            )
            .await;
        assert_eq!(first.status, StatusCode::UNPROCESSABLE_ENTITY, "{first:?}");
        assert_eq!(first.problem_code(), "validation");

        // Asked again in English, the stored (Spanish) problem comes back as it was.
        let second = app
            .send(
                Method::POST,
                "/shelters",
                Some(&admin),
                Some(bad.clone()),
                &[("Idempotency-Key", "bad-1"), ("Accept-Language", "en")],
            )
            .await;
        assert_eq!(
            second.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{second:?}"
        );
        assert_eq!(second.body, first.body);
        assert_eq!(
            second.header("content-type"),
            Some("application/problem+json")
        );
        let row = stored_key(&app, &admin_id, "bad-1").expect("the 422 is stored");
        assert_eq!(row.status, Some(422));

        // A corrected body under the same key is another request: 422 reused, nothing created.
        let fixed = post_shelter(&app, &admin, "bad-1", shelter_body("Casa Sur")).await;
        assert_eq!(fixed.status, StatusCode::UNPROCESSABLE_ENTITY, "{fixed:?}");
        assert_eq!(fixed.problem_code(), "idempotency_key_reused");
        assert_eq!(shelter_rows(&app), 0);

        // A 409 (a duplicate email) is kept and replayed too.
        let dup = json!({"email": "admin@example.org", "password": PASSWORD, "name": "Otra",
                         "role": "donor"});
        let conflict = app
            .send(
                Method::POST,
                "/users",
                Some(&admin),
                Some(dup.clone()),
                &[("Idempotency-Key", "dup")],
            )
            .await;
        assert_eq!(conflict.status, StatusCode::CONFLICT, "{conflict:?}");
        let again = app
            .send(
                Method::POST,
                "/users",
                Some(&admin),
                Some(dup),
                &[("Idempotency-Key", "dup")],
            )
            .await;
        assert_eq!((again.status, again.body), (conflict.status, conflict.body));
        let row = stored_key(&app, &admin_id, "dup").expect("the 409 is stored");
        assert_eq!(row.status, Some(409));

        // A 403 is not kept: the key stays free for that user (a donor here, who has no
        // right to create shelters, so the answer stays 403 and no row is left behind).
        app.create_user("dona@example.org", refugio_core::Role::Donor);
        let donor = app
            .login("dona@example.org", PASSWORD)
            .await
            .str("access_token");
        let donor_id = my_id(&app, &donor).await;
        let forbidden = post_shelter(&app, &donor, "bad-2", shelter_body("Casa Sur")).await;
        assert_eq!(forbidden.status, StatusCode::FORBIDDEN, "{forbidden:?}");
        assert!(stored_key(&app, &donor_id, "bad-2").is_none());
    });
}

fn malformed_keys_are_rejected(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let long = "k".repeat(256);
        for key in ["has space", long.as_str(), "", "tab\tkey"] {
            let r = post_shelter(&app, &admin, key, shelter_body("Casa Malformada")).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "key {key:?}: {r:?}"
            );
            assert_eq!(r.problem_code(), "validation", "key {key:?}: {r:?}");
        }
        assert_eq!(shelter_rows(&app), 0);

        // 255 visible ASCII characters is the longest allowed key.
        let longest = format!("!~{}", "k".repeat(253));
        let ok = post_shelter(&app, &admin, &longest, shelter_body("Casa Larga")).await;
        assert_eq!(ok.status, StatusCode::CREATED, "{ok:?}");
        let again = post_shelter(&app, &admin, &longest, shelter_body("Casa Larga")).await;
        assert_eq!(again.body, ok.body);
        assert_eq!(shelter_rows(&app), 1);
    });
}

fn a_running_key_answers_409_and_an_abandoned_one_is_taken_over(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let admin_id = my_id(&app, &admin).await;
        let body = shelter_body("Casa Centro");

        // A completed request gives us the stored form (method, path, request hash).
        let seed = post_shelter(&app, &admin, "seed", body.clone()).await;
        assert_eq!(seed.status, StatusCode::CREATED, "{seed:?}");
        let template = stored_key(&app, &admin_id, "seed").expect("seed row");
        assert_eq!(template.status, Some(201));

        // Another server is still running the same request under key "busy".
        let now = refugio_db::now();
        let running = IdempotencyRow {
            idem_key: "busy".into(),
            status: None,
            response_body: None,
            locked_until: now + chrono::Duration::minutes(10),
            created_at: now,
            ..template
        };
        {
            let mut conn = app.db.connect();
            refugio_db::idempotency::insert(&mut conn, &running).expect("insert a running row");
        }
        let busy = post_shelter(&app, &admin, "busy", body.clone()).await;
        assert_eq!(busy.status, StatusCode::CONFLICT, "{busy:?}");
        assert_eq!(busy.problem_code(), "idempotency_in_progress");
        assert_eq!(shelter_rows(&app), 1);
        // Still running: the 409 itself is not stored.
        let row = stored_key(&app, &admin_id, "busy").expect("busy row");
        assert_eq!(row.status, None);

        // That server died: its lease runs out, the next attempt takes the key over.
        {
            let mut conn = app.db.connect();
            diesel::update(idempotency_keys::table.find((&admin_id, "busy")))
                .set(idempotency_keys::locked_until.eq(now - chrono::Duration::seconds(5)))
                .execute(&mut conn)
                .expect("expire the lease");
        }
        let taken = post_shelter(&app, &admin, "busy", body.clone()).await;
        assert_eq!(taken.status, StatusCode::CREATED, "{taken:?}");
        assert_ne!(taken.str("id"), seed.str("id"));
        assert_eq!(shelter_rows(&app), 2);
        let row = stored_key(&app, &admin_id, "busy").expect("busy row");
        assert_eq!(row.status, Some(201));

        let replay = post_shelter(&app, &admin, "busy", body).await;
        assert_eq!((replay.status, replay.body), (taken.status, taken.body));
        assert_eq!(shelter_rows(&app), 2);
        assert_eq!(events_with_action(&app, "shelter.created"), 2);
    });
}

fn concurrent_duplicates_run_once(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        for round in 0..3 {
            let key = format!("race-{round}");
            let body = shelter_body(&format!("Casa Carrera {round}"));
            let (a, b) = tokio::join!(
                post_shelter(&app, &admin, &key, body.clone()),
                post_shelter(&app, &admin, &key, body.clone()),
            );
            let (winner, other) = if a.status == StatusCode::CREATED {
                (a, b)
            } else {
                (b, a)
            };
            assert_eq!(winner.status, StatusCode::CREATED, "{winner:?} / {other:?}");
            match other.status {
                StatusCode::CREATED => assert_eq!(other.body, winner.body, "a replay"),
                StatusCode::CONFLICT => {
                    assert_eq!(other.problem_code(), "idempotency_in_progress", "{other:?}");
                }
                s => panic!("unexpected {s}: {other:?}"),
            }
            assert_eq!(shelter_rows(&app), round + 1);
            // Afterwards it replays.
            let later = post_shelter(&app, &admin, &key, body).await;
            assert_eq!(later.body, winner.body);
        }
        assert_eq!(events_with_action(&app, "shelter.created"), 3);
    });
}

fn auth_routes_ignore_the_key(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let mut ids = Vec::new();
        for email in ["uno@example.org", "dos@example.org"] {
            let r = app
                .send(
                    Method::POST,
                    "/auth/register",
                    None,
                    Some(json!({"email": email, "password": PASSWORD, "name": "Donante"})),
                    &[("Idempotency-Key", "same-key")],
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
            assert_eq!(r.str("email"), email);
            ids.push(r.str("id"));
        }
        assert_ne!(ids[0], ids[1]);

        // Logins with one key are separate logins too (two sessions, two token pairs).
        let mut refresh = Vec::new();
        for _ in 0..2 {
            let r = app
                .send(
                    Method::POST,
                    "/auth/login",
                    None,
                    Some(json!({"email": "uno@example.org", "password": PASSWORD})),
                    &[("Idempotency-Key", "same-key")],
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{r:?}");
            refresh.push(r.str("refresh_token"));
        }
        assert_ne!(refresh[0], refresh[1]);

        // `/invitations/accept` too: a staff member accepts two invitations, one key.
        let admin = app.admin_token().await;
        let a = app.create_shelter(&admin, "Casa A").await;
        let b = app.create_shelter(&admin, "Casa B").await;
        let c = app.create_shelter(&admin, "Casa C").await;
        let (_, staff) = app
            .staff(&admin, "staff@example.org", &a, "coordinator")
            .await;
        for (n, sid) in [b, c].iter().enumerate() {
            let inv = app
                .post(
                    &format!("/shelters/{sid}/invitations"),
                    Some(&admin),
                    json!({"email": "staff@example.org", "role": "coordinator"}),
                )
                .await;
            assert_eq!(inv.status, StatusCode::CREATED, "{inv:?}");
            let token = token_in(&app.last_email_to("staff@example.org").body);
            let joined = app
                .send(
                    Method::POST,
                    "/invitations/accept",
                    Some(&staff),
                    Some(json!({"token": token})),
                    &[("Idempotency-Key", "same-key")],
                )
                .await;
            assert_eq!(joined.status, StatusCode::OK, "{joined:?}");
            assert_eq!(
                joined.body["memberships"].as_array().map(Vec::len),
                Some(n + 2),
                "{joined:?}"
            );
        }

        // Nothing was stored for any of them (the shelters were created without a key).
        let mut conn = app.db.connect();
        let stored: i64 = idempotency_keys::table
            .count()
            .get_result(&mut conn)
            .expect("count keys");
        assert_eq!(stored, 0);
    });
}
