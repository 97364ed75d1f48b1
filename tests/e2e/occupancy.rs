//! Occupancy: recording beds taken, the current figure (latest `as_of`) and its history, the
//! shelter's public figure, validation, roles and tenancy, one audit event per record.

use crate::errors::assert_problem;
use crate::support::{
    assert_chains_verify, audit_events, run, spawn_app, two_shelters, Reply, TestApp, PASSWORD,
};
use chrono::{Duration, FixedOffset, SecondsFormat, Utc};
use refugio_db::backend_tests;
use refugio_db::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    occupancy_is_recorded_and_a_backdated_record_only_joins_the_history,
    invalid_occupancy_is_refused_and_changes_nothing,
    occupancy_roles_and_tenancy,
    concurrent_records_leave_the_latest_as_of_current,
);

async fn put(app: &TestApp, sid: &str, token: &str, body: Value) -> Reply {
    app.call(
        Method::PUT,
        &format!("/shelters/{sid}/occupancy"),
        Some(token),
        Some(body),
    )
    .await
}

/// RFC 3339 `minutes` from now, UTC, whole seconds.
fn at(minutes: i64) -> String {
    (Utc::now() + Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn occupancy_is_recorded_and_a_backdated_record_only_joins_the_history(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        let path = format!("/shelters/{}/occupancy", w.a);

        // Nothing recorded yet: 0 of the shelter's capacity, no as_of, no history.
        let r = app.get(&path, Some(&w.coordinator_a)).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(
            r.body,
            json!({"occupied_beds": 0, "bed_capacity": 60, "as_of": null, "history": []})
        );

        let now_ish = at(-1);
        let r = put(
            &app,
            &w.a,
            &w.coordinator_a,
            json!({"occupied_beds": 40, "as_of": now_ish}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["occupied_beds"], 40);
        assert_eq!(r.body["bed_capacity"], 60);
        assert_eq!(r.body["as_of"], json!(now_ish));
        assert_eq!(
            r.body["history"],
            json!([{"occupied_beds": 40, "bed_capacity": 60, "as_of": now_ish, "recorded_by": w.coordinator_a_id}])
        );

        // Backdated an hour, with another offset and a new capacity: history only.
        let an_hour_ago = Utc::now() - Duration::hours(1);
        let offset = FixedOffset::west_opt(6 * 3600).expect("offset");
        let local = an_hour_ago
            .with_timezone(&offset)
            .to_rfc3339_opts(SecondsFormat::Secs, false);
        let utc = an_hour_ago.to_rfc3339_opts(SecondsFormat::Secs, true);
        let r = put(
            &app,
            &w.a,
            &w.coordinator_a,
            json!({"occupied_beds": 65, "bed_capacity": 70, "as_of": local}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let r = app.get(&path, Some(&w.coordinator_a)).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(
            (
                &r.body["occupied_beds"],
                &r.body["bed_capacity"],
                &r.body["as_of"]
            ),
            (&json!(40), &json!(60), &json!(now_ish))
        );
        let history = r.body["history"].as_array().expect("history");
        assert_eq!(history.len(), 2, "{r:?}");
        assert_eq!(history[0]["occupied_beds"], 40);
        assert_eq!(
            history[1],
            json!({"occupied_beds": 65, "bed_capacity": 70, "as_of": utc, "recorded_by": w.coordinator_a_id})
        );
        // The public figure did not move either.
        let shelter = app.get(&format!("/shelters/{}", w.a), Some(&w.admin)).await;
        assert_eq!(
            (
                &shelter.body["occupied_beds"],
                &shelter.body["bed_capacity"]
            ),
            (&json!(40), &json!(60))
        );

        // A newer record (default as_of: now) with a new capacity becomes current, for the
        // shelter too; the admin may record as well.
        let r = put(
            &app,
            &w.a,
            &w.admin,
            json!({"occupied_beds": 75, "bed_capacity": 80}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(
            (&r.body["occupied_beds"], &r.body["bed_capacity"]),
            (&json!(75), &json!(80))
        );
        let history = r.body["history"].as_array().expect("history");
        let figures: Vec<_> = history.iter().map(|h| h["occupied_beds"].clone()).collect();
        assert_eq!(figures, [json!(75), json!(40), json!(65)]);
        assert_eq!(r.body["as_of"], history[0]["as_of"]);
        let shelter = app.get(&format!("/shelters/{}", w.a), Some(&w.admin)).await;
        assert_eq!(shelter.status, StatusCode::OK, "{shelter:?}");
        assert_eq!(
            (
                &shelter.body["occupied_beds"],
                &shelter.body["bed_capacity"]
            ),
            (&json!(75), &json!(80))
        );

        // Without bed_capacity the shelter's current one (80) bounds the figure.
        let r = put(&app, &w.a, &w.coordinator_a, json!({"occupied_beds": 80})).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["bed_capacity"], 80);

        // One audit event per record, on the shelter's chain, with figures only.
        let recorded = audit_events(&app, &w.admin, &w.a, "occupancy").await;
        assert_eq!(recorded.len(), 4, "{recorded:?}");
        assert!(recorded.iter().all(|e| e["action"] == "occupancy.recorded"));
        assert_eq!(recorded[1]["data"]["occupied_beds"], 65);
        assert_eq!(recorded[1]["data"]["bed_capacity"], 70);
        assert_chains_verify(&app, &w.admin).await;
    });
}

fn invalid_occupancy_is_refused_and_changes_nothing(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        let cases = [
            (json!({"occupied_beds": 61}), "occupied_beds"),
            (
                json!({"occupied_beds": 11, "bed_capacity": 10}),
                "occupied_beds",
            ),
            (json!({"occupied_beds": -1}), "occupied_beds"),
            (
                json!({"occupied_beds": 1, "bed_capacity": -5}),
                "bed_capacity",
            ),
            (json!({"occupied_beds": 1.5}), "occupied_beds"),
            (json!({"bed_capacity": 10}), "occupied_beds"),
            (json!({"occupied_beds": 1, "as_of": at(60)}), "as_of"),
            (json!({"occupied_beds": 1, "as_of": "yesterday"}), "as_of"),
            (json!({"occupied_beds": 1, "as_of": "2026-11-28"}), "as_of"),
        ];
        for (body, field) in cases {
            let r = put(&app, &w.a, &w.coordinator_a, body.clone()).await;
            assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
            let fields: Vec<_> = r.body["errors"]
                .as_array()
                .expect("errors")
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect();
            assert!(fields.contains(&field.to_owned()), "{body}: {r:?}");
        }
        // Four minutes ahead is within the tolerated clock skew.
        let r = put(
            &app,
            &w.a,
            &w.coordinator_a,
            json!({"occupied_beds": 2, "as_of": at(4)}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let r = app
            .get(
                &format!("/shelters/{}/occupancy", w.a),
                Some(&w.coordinator_a),
            )
            .await;
        assert_eq!(r.body["history"].as_array().map(Vec::len), Some(1), "{r:?}");
        assert_eq!(r.body["occupied_beds"], 2);
        assert_eq!(
            audit_events(&app, &w.admin, &w.a, "occupancy").await.len(),
            1
        );
        // A very old as_of is stored and read back on both backends (history only).
        let r = put(
            &app,
            &w.a,
            &w.coordinator_a,
            json!({"occupied_beds": 3, "as_of": "0001-01-01T00:00:00+00:00"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["occupied_beds"], 2);
        assert_eq!(r.body["history"][1]["as_of"], "0001-01-01T00:00:00Z");
    });
}

fn occupancy_roles_and_tenancy(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        let path = format!("/shelters/{}/occupancy", w.a);
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

        // Auditors read and never write; donors do neither.
        let r = put(&app, &w.a, &auditor, json!({"occupied_beds": 1})).await;
        assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(app.get(&path, Some(&auditor)).await.status, StatusCode::OK);
        let r = put(&app, &w.a, &donor, json!({"occupied_beds": 1})).await;
        assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        assert_problem(
            &app.get(&path, Some(&donor)).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        let r = app
            .call(Method::PUT, &path, None, Some(json!({"occupied_beds": 1})))
            .await;
        assert_problem(&r, StatusCode::UNAUTHORIZED, "unauthorized");

        // Staff of another shelter: 404 on both routes, even with an invalid body.
        let r = put(&app, &w.a, &w.coordinator_b, json!({"occupied_beds": 1})).await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        for _ in 0..5 {
            let r = put(&app, &w.a, &w.coordinator_b, json!({"occupied_beds": 1000})).await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
            let r = put(
                &app,
                &w.a,
                &w.coordinator_b,
                json!({"occupied_beds": "many"}),
            )
            .await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
            let r = put(&app, &w.a, &auditor, json!({})).await;
            assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        }
        assert_problem(
            &app.get(&path, Some(&w.coordinator_b)).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        // An unknown shelter is the same 404.
        let unknown = refugio_core::new_id();
        let r = put(&app, &unknown, &w.admin, json!({"occupied_beds": 1})).await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        let r = app
            .get(&format!("/shelters/{unknown}/occupancy"), Some(&w.admin))
            .await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");

        // Nothing was recorded by any of them.
        let r = app.get(&path, Some(&w.admin)).await;
        assert_eq!(r.body["history"], json!([]), "{r:?}");
        assert!(audit_events(&app, &w.admin, &w.a, "occupancy")
            .await
            .is_empty());
    });
}

fn concurrent_records_leave_the_latest_as_of_current(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        // Recorded in parallel, with as_of in an order unrelated to arrival: whichever commits
        // last, the current figure is the latest as_of's (figure 5, one minute ago).
        let puts = (1..=10i64).map(|n| {
            let minutes_ago = 1 + (n * 7) % 10;
            put(
                &app,
                &w.a,
                &w.coordinator_a,
                json!({"occupied_beds": minutes_ago * 5, "as_of": at(-minutes_ago)}),
            )
        });
        for r in futures_util::future::join_all(puts).await {
            assert_eq!(r.status, StatusCode::OK, "{r:?}");
        }
        let r = app
            .get(
                &format!("/shelters/{}/occupancy", w.a),
                Some(&w.coordinator_a),
            )
            .await;
        assert_eq!(
            r.body["history"].as_array().map(Vec::len),
            Some(10),
            "{r:?}"
        );
        assert_eq!(r.body["occupied_beds"], 5, "{r:?}");
        assert_eq!(r.body["history"][0]["occupied_beds"], 5, "{r:?}");
        let shelter = app.get(&format!("/shelters/{}", w.a), Some(&w.admin)).await;
        assert_eq!(shelter.body["occupied_beds"], 5, "{shelter:?}");
        assert_eq!(
            audit_events(&app, &w.admin, &w.a, "occupancy").await.len(),
            10
        );
        assert_chains_verify(&app, &w.admin).await;
    });
}
