//! Access-token tampering: every forged, altered or ill-claimed token is a `401` on `GET /me`,
//! while the genuine token, and an honest one minted with the real secret, work.

use crate::errors::assert_problem;
use crate::support::{run, spawn_app, TestApp, JWT_SECRET, PASSWORD};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use refugio_db::backend_tests;
use refugio_db::test_support::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

backend_tests!(
    forged_signatures_and_algorithms_are_refused,
    well_signed_tokens_with_bad_claims_are_refused,
    a_well_signed_token_needs_its_live_session,
);

/// A genuine login: the access token and its decoded claims.
struct Genuine {
    token: String,
    claims: Value,
}

impl Genuine {
    fn sub(&self) -> &str {
        self.claims["sub"].as_str().expect("sub")
    }

    fn sid(&self) -> &str {
        self.claims["sid"].as_str().expect("sid")
    }

    /// The honest claims of a token minted now for this user and session.
    fn fresh_claims(&self) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({"sub": self.sub(), "sid": self.sid(), "iat": now, "exp": now + 600,
               "iss": "refugio", "aud": "refugio-api"})
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode_part(part: &str) -> Value {
    let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url part");
    serde_json::from_slice(&bytes).expect("JSON part")
}

async fn genuine(app: &TestApp, email: &str) -> Genuine {
    app.create_user(email, refugio_core::Role::Donor);
    let login = app.login(email, PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{login:?}");
    let token = login.str("access_token");
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three parts: {token}");
    assert_eq!(decode_part(parts[0])["alg"], "HS256");
    let claims = decode_part(parts[1]);
    for claim in ["sub", "sid", "exp", "iat"] {
        assert!(!claims[claim].is_null(), "{claim} missing from {claims}");
    }
    assert_eq!(claims["iss"], "refugio");
    assert_eq!(claims["aud"], "refugio-api");
    Genuine { token, claims }
}

fn sign(alg: Algorithm, secret: &[u8], claims: &Value) -> String {
    let key = EncodingKey::from_secret(secret).expect("HMAC key");
    jsonwebtoken::encode(&Header::new(alg), claims, &key).expect("sign a token")
}

fn sign_hs256(claims: &Value) -> String {
    sign(Algorithm::HS256, JWT_SECRET.as_bytes(), claims)
}

async fn assert_accepted(app: &TestApp, label: &str, token: &str, user_id: &str) {
    let r = app.get("/me", Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{label}: {r:?}");
    assert_eq!(r.str("id"), user_id, "{label}");
}

/// Checks each `(label, token)`; reports every one that was not refused with a `401`.
async fn assert_all_refused(app: &TestApp, cases: Vec<(&str, String)>) {
    let mut accepted = Vec::new();
    for (label, token) in cases {
        let r = app.get("/me", Some(&token)).await;
        if r.status == StatusCode::UNAUTHORIZED {
            assert_problem(&r, StatusCode::UNAUTHORIZED, "unauthorized");
        } else {
            accepted.push(format!("{label}: {} {}", r.status, r.body));
        }
    }
    assert!(
        accepted.is_empty(),
        "tampered tokens not refused: {accepted:#?}"
    );
}

/// `token` with the signature's character at `index` replaced by another base64url one.
fn flip_signature_char(token: &str, index: usize) -> String {
    let (unsigned, signature) = token.rsplit_once('.').expect("signed token");
    let mut chars: Vec<char> = signature.chars().collect();
    chars[index] = if chars[index] == 'A' { 'B' } else { 'A' };
    format!("{unsigned}.{}", chars.into_iter().collect::<String>())
}

fn forged_signatures_and_algorithms_are_refused(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let g = genuine(&app, "ana@example.org").await;
        let other = genuine(&app, "bob@example.org").await;
        assert_accepted(&app, "genuine", &g.token, g.sub()).await;
        // Minted here with the real secret and honest claims: the tampered ones below differ
        // from this by one property only.
        let honest = sign_hs256(&g.fresh_claims());
        assert_accepted(&app, "honest", &honest, g.sub()).await;

        let parts: Vec<&str> = g.token.split('.').collect();
        let none_header = b64(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = parts[1];
        let mut with_other_sub = g.claims.clone();
        with_other_sub["sub"] = json!(other.sub());
        let hs512_header = b64(br#"{"typ":"JWT","alg":"HS512"}"#);

        assert_all_refused(
            &app,
            vec![
                (
                    "alg none, empty signature",
                    format!("{none_header}.{payload}."),
                ),
                (
                    "alg none, no signature part",
                    format!("{none_header}.{payload}"),
                ),
                (
                    "alg none, genuine signature kept",
                    format!("{none_header}.{payload}.{}", parts[2]),
                ),
                (
                    "alg None spelled otherwise",
                    format!("{}.{payload}.", b64(br#"{"alg":"None","typ":"JWT"}"#)),
                ),
                ("signature char 0 changed", flip_signature_char(&g.token, 0)),
                (
                    "signature char 20 changed",
                    flip_signature_char(&g.token, 20),
                ),
                (
                    "honest token, signature char 5 changed",
                    flip_signature_char(&honest, 5),
                ),
                ("signature removed", format!("{}.{payload}.", parts[0])),
                (
                    "payload swapped to another user, signature kept",
                    format!(
                        "{}.{}.{}",
                        parts[0],
                        b64(with_other_sub.to_string().as_bytes()),
                        parts[2]
                    ),
                ),
                (
                    "signed with another secret",
                    sign(
                        Algorithm::HS256,
                        b"another-secret-0123456789abcdef0123456789",
                        &g.fresh_claims(),
                    ),
                ),
                (
                    "HS512 with the right secret",
                    sign(Algorithm::HS512, JWT_SECRET.as_bytes(), &g.fresh_claims()),
                ),
                (
                    "HS384 with the right secret",
                    sign(Algorithm::HS384, JWT_SECRET.as_bytes(), &g.fresh_claims()),
                ),
                (
                    "header says HS512, HS256 signature kept",
                    format!("{hs512_header}.{payload}.{}", parts[2]),
                ),
                ("two tokens glued", format!("{}.{}", g.token, parts[2])),
            ],
        )
        .await;
        // The attempts cost the genuine token nothing.
        assert_accepted(&app, "genuine after the attempts", &g.token, g.sub()).await;
    });
}

fn well_signed_tokens_with_bad_claims_are_refused(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let g = genuine(&app, "ana@example.org").await;
        assert_accepted(&app, "genuine", &g.token, g.sub()).await;
        assert_accepted(&app, "honest", &sign_hs256(&g.fresh_claims()), g.sub()).await;

        let now = chrono::Utc::now().timestamp();
        let with = |claim: &str, value: Value| {
            let mut c = g.fresh_claims();
            c[claim] = value;
            sign_hs256(&c)
        };
        let without = |claim: &str| {
            let mut c = g.fresh_claims();
            c.as_object_mut().expect("claims object").remove(claim);
            sign_hs256(&c)
        };
        let mut expired = g.fresh_claims();
        expired["iat"] = json!(now - 2 * 3600);
        expired["exp"] = json!(now - 3600);

        assert_all_refused(
            &app,
            vec![
                ("expired an hour ago", sign_hs256(&expired)),
                ("expired a minute ago", with("exp", json!(now - 60))),
                ("wrong aud", with("aud", json!("someone-else"))),
                ("aud of the issuer", with("aud", json!("refugio"))),
                ("aud list without ours", with("aud", json!(["other-api"]))),
                ("wrong iss", with("iss", json!("evil"))),
                ("iss in another case", with("iss", json!("Refugio"))),
                ("missing exp", without("exp")),
                ("missing aud", without("aud")),
                ("missing iss", without("iss")),
                ("missing sub", without("sub")),
                ("missing sid", without("sid")),
                ("exp as a string", with("exp", json!("tomorrow"))),
            ],
        )
        .await;
        assert_accepted(&app, "genuine after the attempts", &g.token, g.sub()).await;
    });
}

fn a_well_signed_token_needs_its_live_session(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let g = genuine(&app, "ana@example.org").await;
        let other = genuine(&app, "bob@example.org").await;
        assert_accepted(&app, "genuine", &g.token, g.sub()).await;
        assert_accepted(&app, "honest", &sign_hs256(&g.fresh_claims()), g.sub()).await;

        let mut unknown_session = g.fresh_claims();
        unknown_session["sid"] = json!(refugio_core::new_id());
        let mut not_a_session = g.fresh_claims();
        not_a_session["sid"] = json!("not-a-session");
        // Bob's session under Ana's name, and Ana's under an unknown user.
        let mut borrowed = g.fresh_claims();
        borrowed["sid"] = json!(other.sid());
        let mut unknown_user = g.fresh_claims();
        unknown_user["sub"] = json!(refugio_core::new_id());

        assert_all_refused(
            &app,
            vec![
                ("session that does not exist", sign_hs256(&unknown_session)),
                ("session id that is not an id", sign_hs256(&not_a_session)),
                ("another user's session", sign_hs256(&borrowed)),
                ("user that does not exist", sign_hs256(&unknown_user)),
            ],
        )
        .await;

        // After logout, a freshly minted token for the ended session is refused too.
        let login = app.login("ana@example.org", PASSWORD).await;
        let parts: Vec<String> = login
            .str("access_token")
            .split('.')
            .map(str::to_owned)
            .collect();
        let claims = decode_part(&parts[1]);
        let r = app
            .post(
                "/auth/logout",
                None,
                json!({"refresh_token": login.str("refresh_token")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
        let mut ended = g.fresh_claims();
        ended["sid"] = claims["sid"].clone();
        assert_all_refused(&app, vec![("ended session", sign_hs256(&ended))]).await;
        assert_accepted(&app, "genuine, another session", &g.token, g.sub()).await;
    });
}
