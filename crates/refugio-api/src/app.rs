//! Assembling the actix-web application and server.

use crate::error::ApiError;
use crate::state::AppState;
use crate::{guard, idempotency, localize, routes};
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use std::net::TcpListener;
use tracing_actix_web::TracingLogger;

async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// The app's routes, extractor configuration and middleware.
pub fn configure(state: AppState) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(state.clone()))
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|e, _| ApiError::BadQuery(e.to_string()).into()),
            )
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
            .service(routes::health::healthz)
            .service(web::scope("/api/v1").configure(routes::api))
            .default_service(web::to(not_found));
    }
}

/// Serves the API on an already bound listener (port 0 in tests); stops gracefully on
/// SIGTERM/SIGINT, letting requests in flight finish.
pub fn serve(listener: TcpListener, state: AppState, workers: usize) -> std::io::Result<Server> {
    let server = HttpServer::new(move || {
        App::new()
            // Inner to outer: errors are put in the request's language before the idempotency
            // layer stores them, and every request is logged with its id, status and latency.
            .configure(configure(state.clone()))
            .wrap(from_fn(localize::middleware))
            .wrap(from_fn(idempotency::middleware))
            .wrap(from_fn(guard::middleware))
            .wrap(TracingLogger::default())
    })
    .workers(workers)
    .shutdown_timeout(30)
    .listen(listener)?
    .run();
    Ok(server)
}
