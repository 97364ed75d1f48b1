//! Accounts: registration, login, sessions, password reset, deactivation, invitations.

use crate::support::{run, spawn_app, token_in, PASSWORD};
use refugio_db::backend_tests;
use refugio_db::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::json;

backend_tests!(
    register_login_and_me,
    refresh_rotates_and_reuse_revokes_the_session,
    logout_kills_the_sessions_access_tokens_at_once,
    password_reset_by_email_is_single_use_and_ends_sessions,
    deactivation_stops_every_token_of_the_user,
    an_invitation_creates_a_staff_account_or_adds_a_membership,
    members_are_listed_and_removed_by_managers,
);

fn register_login_and_me(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let r = app
            .post(
                "/auth/register",
                None,
                json!({"email": " Dana@Example.ORG ", "password": PASSWORD, "name": "Dana"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        assert_eq!(
            (r.str("email"), r.str("role"), r.str("locale")),
            ("dana@example.org".into(), "donor".into(), "en".into())
        );
        assert!(r.body.get("password_hash").is_none());
        assert_eq!(r.header("content-type"), Some("application/json"));

        let es = app
            .send(
                Method::POST,
                "/auth/register",
                None,
                Some(json!({"email": "luz@example.org", "password": PASSWORD, "name": "Luz"})),
                &[("Accept-Language", "es-MX,es;q=0.9")],
            )
            .await;
        assert_eq!(es.str("locale"), "es");

        let login = app.login("DANA@example.org", PASSWORD).await;
        assert_eq!(login.status, StatusCode::OK, "{login:?}");
        assert_eq!(login.str("token_type"), "Bearer");
        assert_eq!(login.body["expires_in"], 900);
        let me = app.get("/me", Some(&login.str("access_token"))).await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.str("id"), r.str("id"));
        assert_eq!(me.body["memberships"], json!([]));
    });
}

fn refresh_rotates_and_reuse_revokes_the_session(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        app.create_user("ana@example.org", refugio_core::Role::Donor);
        let first = app.login("ana@example.org", PASSWORD).await;
        let r1 = first.str("refresh_token");

        let second = app
            .post("/auth/refresh", None, json!({"refresh_token": r1}))
            .await;
        assert_eq!(second.status, StatusCode::OK, "{second:?}");
        let r2 = second.str("refresh_token");
        assert_ne!(r1, r2);
        let access2 = second.str("access_token");
        assert_eq!(app.get("/me", Some(&access2)).await.status, StatusCode::OK);

        // The rotated token comes back: the whole session ends, new tokens included.
        let reuse = app
            .post("/auth/refresh", None, json!({"refresh_token": r1}))
            .await;
        assert_eq!(reuse.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            app.post("/auth/refresh", None, json!({"refresh_token": r2}))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.get("/me", Some(&access2)).await.status,
            StatusCode::UNAUTHORIZED
        );

        // Another login is a new session, unaffected.
        let other = app.login("ana@example.org", PASSWORD).await;
        assert_eq!(
            app.get("/me", Some(&other.str("access_token")))
                .await
                .status,
            StatusCode::OK
        );
    });
}

fn logout_kills_the_sessions_access_tokens_at_once(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        app.create_user("ana@example.org", refugio_core::Role::Donor);
        let a = app.login("ana@example.org", PASSWORD).await;
        let b = app.login("ana@example.org", PASSWORD).await;
        let r = app
            .post(
                "/auth/logout",
                None,
                json!({"refresh_token": a.str("refresh_token")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(
            app.get("/me", Some(&a.str("access_token"))).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.get("/me", Some(&b.str("access_token"))).await.status,
            StatusCode::OK
        );
        let unknown = app
            .post(
                "/auth/logout",
                None,
                json!({"refresh_token": "nothing-like-a-token"}),
            )
            .await;
        assert_eq!(unknown.status, StatusCode::NO_CONTENT);
    });
}

fn password_reset_by_email_is_single_use_and_ends_sessions(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        app.create_user("ana@example.org", refugio_core::Role::Donor);
        let old = app
            .login("ana@example.org", PASSWORD)
            .await
            .str("access_token");

        let unknown = app
            .post(
                "/auth/password-reset",
                None,
                json!({"email": "nobody@example.org"}),
            )
            .await;
        assert_eq!(unknown.status, StatusCode::ACCEPTED);
        let known = app
            .post(
                "/auth/password-reset",
                None,
                json!({"email": "ANA@example.org"}),
            )
            .await;
        assert_eq!(known.status, StatusCode::ACCEPTED);
        let email = app.last_email_to("ana@example.org");
        assert_eq!(email.template, "password_reset");
        let token = token_in(&email.body);

        let weak = app
            .post(
                "/auth/password-reset/confirm",
                None,
                json!({"token": token, "password": "short"}),
            )
            .await;
        assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
        let ok = app
            .post(
                "/auth/password-reset/confirm",
                None,
                json!({"token": token, "password": "a brand new passphrase"}),
            )
            .await;
        assert_eq!(ok.status, StatusCode::NO_CONTENT, "{ok:?}");
        let again = app
            .post(
                "/auth/password-reset/confirm",
                None,
                json!({"token": token, "password": "another new passphrase"}),
            )
            .await;
        assert_eq!(again.status, StatusCode::GONE);
        assert_eq!(again.problem_code(), "gone");

        assert_eq!(
            app.get("/me", Some(&old)).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.login("ana@example.org", PASSWORD).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.login("ana@example.org", "a brand new passphrase")
                .await
                .status,
            StatusCode::OK
        );

        // At most 3 reset emails per account per hour; the answer never changes.
        for _ in 0..4 {
            assert_eq!(
                app.post(
                    "/auth/password-reset",
                    None,
                    json!({"email": "ana@example.org"})
                )
                .await
                .status,
                StatusCode::ACCEPTED
            );
        }
        let mut conn = app.db.connect();
        let sent = refugio_db::outbox::all(&mut conn)
            .expect("outbox")
            .iter()
            .filter(|m| m.template == "password_reset")
            .count();
        assert_eq!(sent, 3);
    });
}

fn deactivation_stops_every_token_of_the_user(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let uid = app.create_user("ana@example.org", refugio_core::Role::Donor);
        let a = app.login("ana@example.org", PASSWORD).await;
        let b = app.login("ana@example.org", PASSWORD).await;
        let r = app
            .post(&format!("/users/{uid}/deactivate"), Some(&admin), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["active"], false);
        for token in [a.str("access_token"), b.str("access_token")] {
            assert_eq!(
                app.get("/me", Some(&token)).await.status,
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            app.post(
                "/auth/refresh",
                None,
                json!({"refresh_token": a.str("refresh_token")})
            )
            .await
            .status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.login("ana@example.org", PASSWORD).await.status,
            StatusCode::UNAUTHORIZED
        );
        let missing = app
            .post(
                &format!("/users/{}/deactivate", refugio_core::new_id()),
                Some(&admin),
                json!({}),
            )
            .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
    });
}

fn an_invitation_creates_a_staff_account_or_adds_a_membership(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let a = app.create_shelter(&admin, "Casa A").await;
        let b = app.create_shelter(&admin, "Casa B").await;
        let (_, manager) = app
            .staff(&admin, "manager@example.org", &a, "manager")
            .await;

        // A manager invites a coordinator; nothing in the answer tells whether the email has an account.
        let r = app
            .post(
                &format!("/shelters/{a}/invitations"),
                Some(&manager),
                json!({"email": "New@Example.org", "role": "coordinator"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        assert!(r.body.get("token").is_none());
        assert_eq!(
            (r.str("email"), r.str("role"), r.str("shelter_id")),
            ("new@example.org".into(), "coordinator".into(), a.clone())
        );
        // Managers may not appoint managers.
        let up = app
            .post(
                &format!("/shelters/{a}/invitations"),
                Some(&manager),
                json!({"email": "x@example.org", "role": "manager"}),
            )
            .await;
        assert_eq!(up.status, StatusCode::FORBIDDEN);

        let email = app.last_email_to("new@example.org");
        assert!(email.body.contains("Casa A"));
        let token = token_in(&email.body);
        let created = app
            .post(
                "/invitations/accept",
                None,
                json!({"token": token, "name": "Nueva", "password": PASSWORD}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
        assert_eq!(created.body["role"], "staff");
        assert_eq!(
            created.body["memberships"],
            json!([{"shelter_id": a, "role": "coordinator"}])
        );
        let reused = app
            .post(
                "/invitations/accept",
                None,
                json!({"token": token, "name": "Otra", "password": PASSWORD}),
            )
            .await;
        assert_eq!(reused.status, StatusCode::GONE);

        // An existing staff account accepts while logged in: the membership is added, never changed.
        let coordinator = app
            .login("new@example.org", PASSWORD)
            .await
            .str("access_token");
        app.post(
            &format!("/shelters/{b}/invitations"),
            Some(&admin),
            json!({"email": "new@example.org", "role": "manager"}),
        )
        .await;
        let token_b = token_in(&app.last_email_to("new@example.org").body);
        let joined = app
            .post(
                "/invitations/accept",
                Some(&coordinator),
                json!({"token": token_b}),
            )
            .await;
        assert_eq!(joined.status, StatusCode::OK, "{joined:?}");
        assert_eq!(joined.body["memberships"].as_array().map(Vec::len), Some(2));
        app.post(
            &format!("/shelters/{a}/invitations"),
            Some(&admin),
            json!({"email": "new@example.org", "role": "manager"}),
        )
        .await;
        let token_a2 = token_in(&app.last_email_to("new@example.org").body);
        let twice = app
            .post(
                "/invitations/accept",
                Some(&coordinator),
                json!({"token": token_a2}),
            )
            .await;
        assert_eq!(twice.status, StatusCode::CONFLICT);

        // A donor account cannot accept a staff invitation.
        app.create_user("donor@example.org", refugio_core::Role::Donor);
        let donor = app
            .login("donor@example.org", PASSWORD)
            .await
            .str("access_token");
        app.post(
            &format!("/shelters/{a}/invitations"),
            Some(&admin),
            json!({"email": "donor@example.org", "role": "coordinator"}),
        )
        .await;
        let token_d = token_in(&app.last_email_to("donor@example.org").body);
        assert_eq!(
            app.post(
                "/invitations/accept",
                Some(&donor),
                json!({"token": token_d})
            )
            .await
            .status,
            StatusCode::CONFLICT
        );
        assert_eq!(
            app.post(
                "/invitations/accept",
                None,
                json!({"token": "x".repeat(43), "name": "N", "password": PASSWORD})
            )
            .await
            .status,
            StatusCode::GONE
        );
    });
}

fn members_are_listed_and_removed_by_managers(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let a = app.create_shelter(&admin, "Casa A").await;
        let (_, manager) = app
            .staff(&admin, "manager@example.org", &a, "manager")
            .await;
        let (coord_id, coordinator) = app
            .staff(&admin, "coord@example.org", &a, "coordinator")
            .await;

        let list = app
            .get(&format!("/shelters/{a}/members"), Some(&coordinator))
            .await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list.body["items"].as_array().map(Vec::len), Some(2));

        let by_coordinator = app
            .call(
                Method::DELETE,
                &format!("/shelters/{a}/members/{coord_id}"),
                Some(&coordinator),
                None,
            )
            .await;
        assert_eq!(by_coordinator.status, StatusCode::FORBIDDEN);
        let removed = app
            .call(
                Method::DELETE,
                &format!("/shelters/{a}/members/{coord_id}"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT);
        // The removed coordinator loses access to the shelter at once.
        assert_eq!(
            app.get(&format!("/shelters/{a}/members"), Some(&coordinator))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let again = app
            .call(
                Method::DELETE,
                &format!("/shelters/{a}/members/{coord_id}"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(again.status, StatusCode::NOT_FOUND);
    });
}
