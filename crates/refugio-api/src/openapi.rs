//! The OpenAPI 3.1 document, generated from the handlers and types (utoipa).

use crate::routes::{
    audit, auth, bills, donations, expenses, fx_rates, health, items, members, needs, occupancy,
    reports, shelters, stock, users,
};
use actix_web::{get, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Refugio API", version = "1", description = "Shelter needs, inventory and donations, every peso traceable."),
    paths(
        health::healthz,
        auth::register, auth::login, auth::refresh, auth::logout, auth::password_reset, auth::password_reset_confirm,
        users::me, users::create_user, users::deactivate_user,
        shelters::create, shelters::list, shelters::get_one, shelters::update,
        members::invite, members::accept, members::list, members::remove,
        audit::events, audit::verify, audit::export,
        items::create, items::list, items::update,
        stock::record, stock::view, stock::movements,
        occupancy::record, occupancy::show,
        bills::create, bills::list, bills::update, bills::void,
        needs::board, needs::of_shelter, needs::create_manual, needs::cancel,
        expenses::create, expenses::list,
        fx_rates::put, fx_rates::list,
        donations::pledge, donations::mine, donations::get_one, donations::receive, donations::cancel,
        donations::of_shelter,
        reports::spending, reports::trace,
    ),
    components(schemas(crate::error::Problem, crate::error::ProblemField)),
    modifiers(&ApiPrefix, &BearerAuth),
)]
pub struct ApiDoc;

/// Puts every route but `/healthz` under `/api/v1`, where the app mounts them.
struct ApiPrefix;

impl Modify for ApiPrefix {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let paths = std::mem::take(&mut doc.paths.paths);
        doc.paths.paths = paths
            .into_iter()
            .map(|(path, item)| {
                if path == "/healthz" {
                    (path, item)
                } else {
                    (format!("/api/v1{path}"), item)
                }
            })
            .collect();
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let scheme = SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        );
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", scheme);
    }
}

/// The document as pretty JSON (what the snapshot test compares).
pub fn json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

/// `GET /api/v1/openapi.json`.
#[get("/openapi.json")]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(json())
}
