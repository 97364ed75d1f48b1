//! Refugio's HTTP API (actix-web): routes, extractors, auth, errors and the OpenAPI document.
//!
//! Requests flow one way: handler (authorization, then validation into domain values) →
//! service (one transaction: the change, its audit events, its emails) → repository.

pub mod app;
pub mod audit_log;
pub mod auth;
pub mod body;
pub mod db;
pub mod error;
pub mod guard;
pub mod i18n;
pub mod idempotency;
pub mod localize;
pub mod money;
pub mod openapi;
pub mod pagination;
pub mod routes;
pub mod services;
pub mod state;
pub mod validate;

pub use app::serve;
pub use state::{AppState, Settings};
