//! Running database work off the async workers, and the write path every changing route
//! shares: one transaction for the change, its audit events, its emails and — when the request
//! carries an `Idempotency-Key` — the stored response.

use crate::error::{ApiError, ApiResult};
use crate::idempotency::IdempotencyClaim;
use crate::state::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use refugio_db::DbConnection;
use serde::Serialize;

/// Runs read-only work on a pooled connection.
pub async fn read<T, F>(state: &AppState, f: F) -> ApiResult<T>
where
    F: FnOnce(&mut DbConnection) -> ApiResult<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = state.pool.clone();
    web::block(move || f(&mut *pool.get()?)).await?
}

/// Runs `f` in one write transaction.
pub async fn write<T, F>(state: &AppState, f: F) -> ApiResult<T>
where
    F: FnOnce(&mut DbConnection) -> ApiResult<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = state.pool.clone();
    web::block(move || refugio_db::write_transaction(&mut *pool.get()?, f)).await?
}

/// Runs `f` in one write transaction and answers `status` with its result as JSON; with an
/// idempotency claim, the response is stored in that same transaction, so a retry can never
/// see the change without its response or the response without the change.
pub async fn write_reply<T, F>(
    state: &AppState,
    claim: Option<IdempotencyClaim>,
    status: StatusCode,
    f: F,
) -> ApiResult<HttpResponse>
where
    F: FnOnce(&mut DbConnection) -> ApiResult<T> + Send + 'static,
    T: Serialize + Send + 'static,
{
    let done = claim.clone();
    let body = write(state, move |conn| {
        let value = f(conn)?;
        let body = serde_json::to_string(&value).map_err(ApiError::internal)?;
        if let Some(claim) = &claim {
            claim.store(conn, status, &body)?;
        }
        Ok(body)
    })
    .await?;
    if let Some(claim) = done {
        claim.mark_stored();
    }
    Ok(json_response(status, body))
}

/// A JSON response from already-serialized text.
pub fn json_response(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(body)
}
