//! Auditors read everything and write nothing: every state-changing route in the OpenAPI
//! document answers `403` to an auditor, whatever the body, and nothing changes.

use crate::errors::assert_problem;
use crate::support::{assert_chains_verify, run, spawn_app, two_shelters, PASSWORD};
use refugio_db::backend_tests;
use refugio_db::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::json;

backend_tests!(auditors_cannot_write_anything);

/// Routes anyone may call to manage their own session or account; not writes to the records.
const SELF_SERVICE: &[&str] = &[
    "/auth/register",
    "/auth/login",
    "/auth/refresh",
    "/auth/logout",
    "/auth/password-reset",
    "/auth/password-reset/confirm",
    "/invitations/accept",
];

fn auditors_cannot_write_anything(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        app.create_user("auditor@example.org", refugio_core::Role::Auditor);
        let auditor = app
            .login("auditor@example.org", PASSWORD)
            .await
            .str("access_token");
        let doc = app.get("/openapi.json", None).await;
        assert_eq!(doc.status, StatusCode::OK);
        let paths = doc.body["paths"].as_object().expect("paths").clone();
        let before = app
            .get(
                &format!("/audit/events?shelter_id={}&limit=500", w.a),
                Some(&w.admin),
            )
            .await;

        let mut checked = 0;
        for (path, item) in &paths {
            let route = path.trim_start_matches("/api/v1");
            if SELF_SERVICE.contains(&route) {
                continue;
            }
            for method in ["post", "put", "patch", "delete"] {
                if item.get(method).is_none() {
                    continue;
                }
                // Real ids where the route names a shelter, an unknown one elsewhere.
                let concrete = route
                    .replace("{sid}", &w.a)
                    .replace("{uid}", &w.coordinator_a_id)
                    .replace(['{', '}'], "")
                    .split('/')
                    .map(|part| match part {
                        "bid" | "iid" | "nid" | "did" => "0190f5e2-0000-7000-8000-000000000000",
                        other => other,
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                let r = app
                    .call(m, &concrete, Some(&auditor), Some(json!({})))
                    .await;
                assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
                checked += 1;
            }
        }
        assert!(checked >= 20, "only {checked} write routes found");
        let after = app
            .get(
                &format!("/audit/events?shelter_id={}&limit=500", w.a),
                Some(&w.admin),
            )
            .await;
        assert_eq!(
            before.body["items"], after.body["items"],
            "an auditor's request changed something"
        );
        assert_chains_verify(&app, &w.admin).await;
    });
}
