//! Tenancy and roles: staff of another shelter get `404` on every shelter route (existence
//! never leaks), a role that may never do something gets `403`, auditors read and never write,
//! and private shelters hide where they are.

use crate::errors::assert_problem;
use crate::support::{run, shelter_body, spawn_app, two_shelters, Reply, TestApp, PASSWORD};
use refugio_db::backend_tests;
use refugio_db::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

backend_tests!(
    staff_of_another_shelter_get_404_on_every_shelter_route,
    coordinators_and_donors_are_forbidden_what_their_role_never_does,
    auditors_read_everything_and_write_nothing,
    private_locations_are_shown_only_to_those_who_work_with_the_shelter,
    managers_edit_their_shelter_but_never_its_currency,
);

async fn token_of(app: &TestApp, email: &str, role: refugio_core::Role) -> String {
    app.create_user(email, role);
    app.login(email, PASSWORD).await.str("access_token")
}

/// Every shelter-scoped route that exists today, as `(label, method, path, body)`;
/// `member` is a member of `sid` to remove.
fn shelter_routes(sid: &str, member: &str) -> Vec<(&'static str, Method, String, Option<Value>)> {
    vec![
        (
            "list members",
            Method::GET,
            format!("/shelters/{sid}/members"),
            None,
        ),
        (
            "remove member",
            Method::DELETE,
            format!("/shelters/{sid}/members/{member}"),
            None,
        ),
        (
            "invite",
            Method::POST,
            format!("/shelters/{sid}/invitations"),
            Some(json!({"email": "invitee@example.org", "role": "coordinator"})),
        ),
        (
            "edit shelter",
            Method::PATCH,
            format!("/shelters/{sid}"),
            Some(json!({"name": "Renamed"})),
        ),
    ]
}

async fn members(app: &TestApp, admin: &str, sid: &str) -> Value {
    let r = app
        .get(&format!("/shelters/{sid}/members"), Some(admin))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["items"].clone()
}

async fn shelter(app: &TestApp, admin: &str, sid: &str) -> Value {
    let r = app.get(&format!("/shelters/{sid}"), Some(admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body
}

fn invitations_to(app: &TestApp, email: &str) -> usize {
    let mut conn = app.db.connect();
    refugio_db::outbox::all(&mut conn)
        .expect("outbox")
        .iter()
        .filter(|m| m.to_email == email && m.template == "invitation")
        .count()
}

fn staff_of_another_shelter_get_404_on_every_shelter_route(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        let b_before = (
            members(&app, &w.admin, &w.b).await,
            shelter(&app, &w.admin, &w.b).await,
        );
        let unknown = refugio_core::new_id();
        let not_found = app
            .get(
                &format!("/shelters/{unknown}/members"),
                Some(&w.coordinator_a),
            )
            .await;

        // Coordinator and manager of A, on B: 404 everywhere, the same 404 as no shelter at all.
        for (who, token) in [
            ("coordinator of A", &w.coordinator_a),
            ("manager of A", &w.manager_a),
        ] {
            for (label, method, path, body) in shelter_routes(&w.b, &w.coordinator_b_id) {
                let r = app.call(method, &path, Some(token), body).await;
                assert_eq!(
                    r.status,
                    StatusCode::NOT_FOUND,
                    "{who}: {label} on B: {r:?}"
                );
                assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
                assert_eq!(r.body, not_found.body, "{who}: {label} on B");
            }
        }
        // The manager of B on A likewise.
        for (label, method, path, body) in shelter_routes(&w.a, &w.coordinator_a_id) {
            let r = app.call(method, &path, Some(&w.manager_b), body).await;
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "manager of B: {label} on A: {r:?}"
            );
        }
        assert_eq!(
            (
                members(&app, &w.admin, &w.b).await,
                shelter(&app, &w.admin, &w.b).await
            ),
            b_before
        );
        assert_eq!(invitations_to(&app, "invitee@example.org"), 0);

        // The same requests on A: the coordinator reads, and is refused the manager's actions
        // with 403 (their role could never do them here).
        let a_members = members(&app, &w.admin, &w.a).await;
        for (label, method, path, body) in shelter_routes(&w.a, &w.coordinator_a_id) {
            let r = app.call(method, &path, Some(&w.coordinator_a), body).await;
            if label == "list members" {
                assert_eq!(r.status, StatusCode::OK, "coordinator: {label} on A: {r:?}");
                assert_eq!(r.body["items"], a_members);
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "coordinator: {label} on A: {r:?}"
                );
                assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
            }
        }
        assert_eq!(members(&app, &w.admin, &w.a).await, a_members);

        // The manager of A does all of it (removal last).
        let mut routes = shelter_routes(&w.a, &w.coordinator_a_id);
        routes.rotate_left(2);
        for (label, method, path, body) in routes {
            let r = app.call(method, &path, Some(&w.manager_a), body).await;
            assert!(r.status.is_success(), "manager: {label} on A: {r:?}");
        }
        assert_eq!(invitations_to(&app, "invitee@example.org"), 1);
        assert_eq!(shelter(&app, &w.admin, &w.a).await["name"], "Renamed");
        assert_eq!(
            members(&app, &w.admin, &w.a).await.as_array().map(Vec::len),
            Some(1)
        );
        // And the removed coordinator is now a stranger to A.
        let r = app
            .get(
                &format!("/shelters/{}/members", w.a),
                Some(&w.coordinator_a),
            )
            .await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
    });
}

fn coordinators_and_donors_are_forbidden_what_their_role_never_does(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        let donor = token_of(&app, "donor@example.org", refugio_core::Role::Donor).await;
        let new_user = json!({"email": "new@example.org", "password": PASSWORD, "name": "New",
                              "role": "admin"});

        // A coordinator (or a manager) cannot create users, nor shelters, nor read the audit log.
        for (who, token) in [("coordinator", &w.coordinator_a), ("manager", &w.manager_a)] {
            let r = app.post("/users", Some(token), new_user.clone()).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {r:?}");
            assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
            let r = app
                .post("/shelters", Some(token), shelter_body("Casa C"))
                .await;
            assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
            let r = app
                .post(
                    &format!("/users/{}/deactivate", w.coordinator_b_id),
                    Some(token),
                    json!({}),
                )
                .await;
            assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
            let r = app.get("/audit/events", Some(token)).await;
            assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        }

        // A donor cannot create shelters or users, and every staff route of a shelter is 403,
        // whether the shelter exists or not.
        let r = app
            .post("/shelters", Some(&donor), shelter_body("Casa C"))
            .await;
        assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        let r = app.post("/users", Some(&donor), new_user).await;
        assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        let unknown = refugio_core::new_id();
        for sid in [&w.a, &unknown] {
            for (label, method, path, body) in shelter_routes(sid, &w.coordinator_a_id) {
                let r = app.call(method, &path, Some(&donor), body).await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "donor: {label}: {r:?}");
                assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
            }
        }
        for path in ["/audit/events", "/audit/verify"] {
            let r = app.get(path, Some(&donor)).await;
            assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        }

        // Nothing happened.
        assert_eq!(
            app.login("new@example.org", PASSWORD).await.status,
            StatusCode::UNAUTHORIZED
        );
        let list = app.get("/shelters", None).await;
        assert_eq!(list.body["items"].as_array().map(Vec::len), Some(2));
        assert_eq!(shelter(&app, &w.admin, &w.a).await["name"], "Casa A");
        assert_eq!(
            members(&app, &w.admin, &w.a).await.as_array().map(Vec::len),
            Some(2)
        );
        assert_eq!(invitations_to(&app, "invitee@example.org"), 0);
    });
}

fn auditors_read_everything_and_write_nothing(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        let auditor = token_of(&app, "auditor@example.org", refugio_core::Role::Auditor).await;
        let a_before = (
            members(&app, &w.admin, &w.a).await,
            shelter(&app, &w.admin, &w.a).await,
        );

        let writes: Vec<(&str, Method, String, Option<Value>)> = vec![
            (
                "create shelter",
                Method::POST,
                "/shelters".into(),
                Some(shelter_body("Casa C")),
            ),
            (
                "create user",
                Method::POST,
                "/users".into(),
                Some(
                    json!({"email": "new@example.org", "password": PASSWORD, "name": "New",
                            "role": "auditor"}),
                ),
            ),
            (
                "deactivate user",
                Method::POST,
                format!("/users/{}/deactivate", w.coordinator_a_id),
                Some(json!({})),
            ),
            (
                "edit shelter",
                Method::PATCH,
                format!("/shelters/{}", w.a),
                Some(json!({"name": "Renamed"})),
            ),
            (
                "invite",
                Method::POST,
                format!("/shelters/{}/invitations", w.a),
                Some(json!({"email": "invitee@example.org", "role": "coordinator"})),
            ),
            (
                "remove member",
                Method::DELETE,
                format!("/shelters/{}/members/{}", w.a, w.coordinator_a_id),
                None,
            ),
        ];
        for (label, method, path, body) in writes {
            let r = app.call(method, &path, Some(&auditor), body).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "auditor: {label}: {r:?}");
            assert_problem(&r, StatusCode::FORBIDDEN, "forbidden");
        }
        assert_eq!(
            (
                members(&app, &w.admin, &w.a).await,
                shelter(&app, &w.admin, &w.a).await
            ),
            a_before
        );
        assert_eq!(
            app.get("/shelters", None).await.body["items"]
                .as_array()
                .map(Vec::len),
            Some(2)
        );
        assert_eq!(invitations_to(&app, "invitee@example.org"), 0);
        assert_eq!(
            app.login("new@example.org", PASSWORD).await.status,
            StatusCode::UNAUTHORIZED
        );
        let coordinator_me = app.get("/me", Some(&w.coordinator_a)).await;
        assert_eq!(
            coordinator_me.status,
            StatusCode::OK,
            "the coordinator is still active"
        );

        // Reads: members of any shelter, the audit log and its verification.
        for sid in [&w.a, &w.b] {
            let r = app
                .get(&format!("/shelters/{sid}/members"), Some(&auditor))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{r:?}");
            assert_eq!(r.body["items"], members(&app, &w.admin, sid).await);
            let events = app
                .get(&format!("/audit/events?shelter_id={sid}"), Some(&auditor))
                .await;
            assert_eq!(events.status, StatusCode::OK, "{events:?}");
            let items = events.body["items"].as_array().expect("items");
            assert!(!items.is_empty());
            assert!(items.iter().all(|e| e["shelter_id"] == json!(sid)));
            let verify = app
                .get(&format!("/audit/verify?shelter_id={sid}"), Some(&auditor))
                .await;
            assert_eq!(verify.status, StatusCode::OK, "{verify:?}");
            assert_eq!(verify.body["ok"], true);
        }
        let platform = app
            .get("/audit/events?shelter_id=platform", Some(&auditor))
            .await;
        assert_eq!(platform.status, StatusCode::OK, "{platform:?}");
        // A shelter the auditor does not belong to is still shown in full.
        let full = app.get(&format!("/shelters/{}", w.a), Some(&auditor)).await;
        assert_eq!(full.body, shelter(&app, &w.admin, &w.a).await);
        let unknown = refugio_core::new_id();
        let r = app
            .get(&format!("/shelters/{unknown}/members"), Some(&auditor))
            .await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
    });
}

/// Whether a shelter view shows where the shelter is and how full it is.
fn located(view: &Value) -> bool {
    let fields = ["city", "region", "bed_capacity", "occupied_beds"];
    let shown = fields
        .iter()
        .filter(|f| view.get(**f).is_some_and(|v| !v.is_null()))
        .count();
    assert!(
        shown == 0 || shown == fields.len(),
        "location half shown: {view}"
    );
    shown == fields.len()
}

fn in_list<'a>(list: &'a Reply, sid: &str) -> &'a Value {
    list.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|s| s["id"] == sid))
        .unwrap_or_else(|| panic!("{sid} not listed: {list:?}"))
}

fn private_locations_are_shown_only_to_those_who_work_with_the_shelter(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let mut public = shelter_body("Casa Pública");
        public["public_location"] = json!(true);
        let r = app.post("/shelters", Some(&admin), public).await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let open = r.str("id");
        let mut private = shelter_body("Casa Privada");
        private["public_location"] = json!(false);
        let r = app.post("/shelters", Some(&admin), private).await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let hidden = r.str("id");
        // `public_location` defaults to false.
        let default = app.create_shelter(&admin, "Casa Discreta").await;

        let (_, staff_hidden) = app
            .staff(&admin, "coord-priv@example.org", &hidden, "coordinator")
            .await;
        let (_, staff_open) = app
            .staff(&admin, "coord-pub@example.org", &open, "manager")
            .await;
        let donor = token_of(&app, "donor@example.org", refugio_core::Role::Donor).await;
        let auditor = token_of(&app, "auditor@example.org", refugio_core::Role::Auditor).await;

        let viewers: [(&str, Option<&str>, bool, bool, bool); 6] = [
            // (who, token, sees hidden, sees default, sees open)
            ("anonymous", None, false, false, true),
            ("donor", Some(&donor), false, false, true),
            (
                "staff of the public shelter",
                Some(&staff_open),
                false,
                false,
                true,
            ),
            (
                "staff of the private shelter",
                Some(&staff_hidden),
                true,
                false,
                true,
            ),
            ("admin", Some(&admin), true, true, true),
            ("auditor", Some(&auditor), true, true, true),
        ];
        for (who, token, sees_hidden, sees_default, sees_open) in viewers {
            let list = app.get("/shelters", token).await;
            assert_eq!(list.status, StatusCode::OK, "{who}: {list:?}");
            let names: Vec<&str> = list.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|s| s["name"].as_str())
                .collect();
            assert_eq!(
                names,
                ["Casa Discreta", "Casa Privada", "Casa Pública"],
                "{who}"
            );
            for (sid, expected) in [
                (&hidden, sees_hidden),
                (&default, sees_default),
                (&open, sees_open),
            ] {
                let listed = in_list(&list, sid);
                assert_eq!(located(listed), expected, "{who} in the list: {listed}");
                let one = app.get(&format!("/shelters/{sid}"), token).await;
                assert_eq!(one.status, StatusCode::OK, "{who}: {one:?}");
                assert_eq!(located(&one.body), expected, "{who}: {}", one.body);
                assert_eq!(one.body["name"], listed["name"]);
                if expected {
                    assert_eq!(one.body["city"], "Ciudad de México", "{who}");
                    assert_eq!(one.body["bed_capacity"], 60, "{who}");
                    assert_eq!(one.body["occupied_beds"], 0, "{who}");
                    assert_eq!(one.body["region"], "CDMX", "{who}");
                }
            }
        }

        // Making it public shows it to everyone at once.
        let r = app
            .call(
                Method::PATCH,
                &format!("/shelters/{hidden}"),
                Some(&admin),
                Some(json!({"public_location": true})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let anonymous = app.get(&format!("/shelters/{hidden}"), None).await;
        assert!(located(&anonymous.body), "{anonymous:?}");
    });
}

fn managers_edit_their_shelter_but_never_its_currency(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = two_shelters(&app).await;
        let path = format!("/shelters/{}", w.a);

        let r = app
            .call(
                Method::PATCH,
                &path,
                Some(&w.manager_a),
                Some(json!({"name": "Casa Amparo", "bed_capacity": 80, "public_location": true})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(
            (
                r.body["name"].clone(),
                r.body["bed_capacity"].clone(),
                r.body["currency"].clone()
            ),
            (json!("Casa Amparo"), json!(80), json!("MXN"))
        );
        let edited = shelter(&app, &w.admin, &w.a).await;
        assert_eq!(edited["name"], "Casa Amparo");

        // The currency never changes, for a manager or an admin, alone or with other edits.
        for (who, token) in [("manager", &w.manager_a), ("admin", &w.admin)] {
            for body in [
                json!({"currency": "USD"}),
                json!({"currency": "eur"}),
                json!({"name": "Otra Casa", "currency": "GTQ"}),
            ] {
                let r = app
                    .call(Method::PATCH, &path, Some(token), Some(body))
                    .await;
                assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
                assert_eq!(crate::errors::error_fields(&r), ["currency"], "{who}");
            }
        }
        assert_eq!(shelter(&app, &w.admin, &w.a).await, edited);

        // Staff of another shelter: 404; a coordinator of this one: 403.
        let foreign = app
            .call(
                Method::PATCH,
                &path,
                Some(&w.manager_b),
                Some(json!({"name": "Mine"})),
            )
            .await;
        assert_problem(&foreign, StatusCode::NOT_FOUND, "not_found");
        let coordinator = app
            .call(
                Method::PATCH,
                &path,
                Some(&w.coordinator_a),
                Some(json!({"name": "Mine"})),
            )
            .await;
        assert_problem(&coordinator, StatusCode::FORBIDDEN, "forbidden");
        let foreign_currency = app
            .call(
                Method::PATCH,
                &path,
                Some(&w.manager_b),
                Some(json!({"currency": "USD"})),
            )
            .await;
        assert_problem(&foreign_currency, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(shelter(&app, &w.admin, &w.a).await, edited);
        // B is untouched by A's edits.
        assert_eq!(shelter(&app, &w.admin, &w.b).await["name"], "Casa B");
    });
}
