//! `/healthz`: up when the database answers.

use crate::db;
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};
use serde_json::json;

/// `200 {"status":"ok"}` when the database answers, else `503`.
#[utoipa::path(tag = "operations", responses((status = 200), (status = 503)))]
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let ok = db::read(&state, |c| Ok(refugio_db::ping(c)?)).await.is_ok();
    if ok {
        HttpResponse::Ok().json(json!({"status": "ok"}))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable"}))
    }
}
