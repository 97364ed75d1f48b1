//! `Idempotency-Key` for every state-changing `POST` (except `/auth/*` and
//! `/invitations/accept`), as one middleware:
//! - same user, key, method, path and JSON-equal body → the stored status and body, nothing redone;
//! - same key with anything else → `422`; same key while the first request runs → `409`.
//!
//! The middleware claims the key in its own short transaction (a "running" row with a lease, so
//! a crashed server's claim expires), hands the claim to the handler through the request's
//! extensions, and the handler's write transaction stores the response (`db::write_reply`).
//! Responses that no write stored (validation errors, conflicts) are stored here afterwards;
//! `401`, `403`, `429` and `5xx` are not kept, so the key can be retried.

use crate::auth::caller::bearer;
use crate::body::MAX_BODY_BYTES;
use crate::error::ApiError;
use crate::i18n::FieldIssue;
use crate::localize::lang_of;
use crate::state::AppState;
use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use refugio_db::idempotency::{self as repo, IdempotencyRow};
use refugio_db::DbConnection;
use sha2::{Digest, Sha256};
use std::future::{ready, Ready};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub const HEADER: &str = "idempotency-key";
/// How long a running claim blocks retries before it is presumed dead.
const LEASE_SECS: i64 = 60;

/// A claimed key, handed to the handler so its transaction can store the response.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    user_id: String,
    key: String,
    stored: Arc<AtomicBool>,
}

impl IdempotencyClaim {
    /// Stores the response; call inside the transaction of the change.
    pub fn store(
        &self,
        conn: &mut DbConnection,
        status: StatusCode,
        body: &str,
    ) -> Result<(), ApiError> {
        repo::complete(
            conn,
            &self.user_id,
            &self.key,
            i64::from(status.as_u16()),
            body,
        )?;
        Ok(())
    }

    /// Records that the handler's transaction committed the stored response.
    pub fn mark_stored(&self) {
        self.stored.store(true, Ordering::SeqCst);
    }
}

/// The claim of this request, if it carries an `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct Idempotency(pub Option<IdempotencyClaim>);

impl FromRequest for Idempotency {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Idempotency(
            req.extensions().get::<IdempotencyClaim>().cloned(),
        )))
    }
}

fn applies_to(req: &ServiceRequest) -> bool {
    let path = req.path();
    req.method() == Method::POST
        && req.headers().contains_key(HEADER)
        && !path.starts_with("/api/v1/auth/")
        && path != "/api/v1/invitations/accept"
}

fn valid_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// SHA-256 of the canonical JSON of the body (so key order and spacing do not matter), or of
/// the raw bytes when the body is not JSON.
fn request_hash(bytes: &[u8]) -> String {
    let canonical = serde_json::from_slice::<serde_json::Value>(bytes)
        .map(|v| refugio_core::canonical_json::to_string(&v).into_bytes())
        .unwrap_or_else(|_| bytes.to_vec());
    hex::encode(Sha256::digest(&canonical))
}

enum Outcome {
    Proceed,
    Replay(StatusCode, String),
}

fn claim(conn: &mut DbConnection, row: &IdempotencyRow) -> Result<Outcome, ApiError> {
    let same_request = |stored: &IdempotencyRow| {
        stored.method == row.method
            && stored.path == row.path
            && stored.request_hash == row.request_hash
    };
    match repo::find(conn, &row.user_id, &row.idem_key)? {
        None => match repo::insert(conn, row) {
            Ok(()) => Ok(Outcome::Proceed),
            Err(e) if refugio_db::is_unique_violation(&e) => Err(ApiError::Conflict(
                crate::error::Conflict::IdempotencyInProgress,
            )),
            Err(e) => Err(e.into()),
        },
        Some(stored) if !same_request(&stored) => Err(ApiError::IdempotencyKeyReused),
        Some(IdempotencyRow {
            status: Some(status),
            response_body,
            ..
        }) => {
            let status = u16::try_from(status)
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::OK);
            Ok(Outcome::Replay(status, response_body.unwrap_or_default()))
        }
        Some(_) if repo::take_over(conn, row, refugio_db::now())? == 1 => Ok(Outcome::Proceed),
        Some(_) => Err(ApiError::Conflict(
            crate::error::Conflict::IdempotencyInProgress,
        )),
    }
}

fn replay(status: StatusCode, body: String) -> HttpResponse {
    let content_type = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header(("idempotent-replayed", "true"))
        .body(body)
}

fn stored_later(status: StatusCode) -> bool {
    !matches!(
        status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
    ) && !status.is_server_error()
}

/// The middleware function (`actix_web::middleware::from_fn`).
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !applies_to(&req) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(ApiError::internal("app state missing").into());
    };
    // Without a valid token there is no user to scope the key to: the handler will answer 401.
    let Some(user_id) = bearer(req.request())
        .and_then(|t| state.tokens.verify(t))
        .map(|c| c.sub)
    else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    // Checked after the token: a caller without one gets the handler's 401, not a 422.
    let key = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if !valid_key(&key) {
        let err = ApiError::field("Idempotency-Key", FieldIssue::InvalidIdempotencyKey);
        let lang = lang_of(req.request());
        return Ok(req.into_response(err.render(lang)));
    }

    let lang = lang_of(req.request());
    let (http_req, mut payload) = req.into_parts();
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            return Ok(ServiceResponse::new(
                http_req,
                ApiError::PayloadTooLarge.render(lang),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    let now = refugio_db::now();
    let row = IdempotencyRow {
        user_id: user_id.clone(),
        idem_key: key.clone(),
        method: http_req.method().to_string(),
        path: http_req.path().to_owned(),
        request_hash: request_hash(&bytes),
        status: None,
        response_body: None,
        locked_until: now + chrono::Duration::seconds(LEASE_SECS),
        created_at: now,
    };
    let outcome = crate::db::write(&state, move |conn| claim(conn, &row)).await;
    match outcome {
        Err(e) => return Ok(ServiceResponse::new(http_req, e.render(lang))),
        Ok(Outcome::Replay(status, body)) => {
            return Ok(ServiceResponse::new(http_req, replay(status, body)))
        }
        Ok(Outcome::Proceed) => {}
    }

    let stored = Arc::new(AtomicBool::new(false));
    http_req.extensions_mut().insert(IdempotencyClaim {
        user_id: user_id.clone(),
        key: key.clone(),
        stored: stored.clone(),
    });
    let req = ServiceRequest::from_parts(http_req, Payload::from(bytes));
    let response = next.call(req).await?.map_into_boxed_body();
    if stored.load(Ordering::SeqCst) {
        return Ok(response);
    }

    let status = response.status();
    let (http_req, res) = response.into_parts();
    let (res, body) = res.into_parts();
    let body = to_bytes(body)
        .await
        .map_err(|_| ApiError::internal("response body unreadable"))?;
    let text = String::from_utf8_lossy(&body).into_owned();
    let result = crate::db::write(&state, move |conn| {
        if stored_later(status) {
            repo::complete(conn, &user_id, &key, i64::from(status.as_u16()), &text)?;
        } else {
            repo::release(conn, &user_id, &key)?;
        }
        Ok(())
    })
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "could not record the idempotency outcome");
    }
    Ok(ServiceResponse::new(
        http_req,
        res.set_body(BoxBody::new(body)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert!(valid_key("abc-123_X"));
        assert!(!valid_key(""));
        assert!(!valid_key("has space"));
        assert!(!valid_key(&"k".repeat(256)));
        assert!(!valid_key("ñ"));
    }

    #[test]
    fn json_equal_bodies_hash_alike() {
        assert_eq!(
            request_hash(br#"{"a":1,"b":[2]}"#),
            request_hash(b"{ \"b\": [2], \"a\": 1 }")
        );
        assert_ne!(request_hash(br#"{"a":1}"#), request_hash(br#"{"a":2}"#));
    }
}
