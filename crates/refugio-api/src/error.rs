//! The one error type of the HTTP layer, rendered as RFC 9457 problem+json.
//!
//! Handlers and extractors return `ApiError`; `error_response` renders it in English and
//! keeps the error in the response's extensions, and the `localize` middleware re-renders it
//! in the request's language. Internal errors are logged and answered without internals.

use crate::i18n::{FieldIssue, Lang};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;

/// One invalid field: where (`restriction.need_id`) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub issue: FieldIssue,
}

impl FieldError {
    pub fn new(field: impl Into<String>, issue: FieldIssue) -> FieldError {
        FieldError {
            field: field.into(),
            issue,
        }
    }
}

/// What a `409` is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    DuplicateEmail,
    IdempotencyInProgress,
    AlreadyMember,
    NotStaffAccount,
    InvalidTransition,
    /// Another request changed the same thing at the same moment; retrying is safe.
    ConcurrentChange,
    InsufficientStock,
    DuplicateName,
}

#[derive(Debug, Clone)]
pub enum ApiError {
    Validation(Vec<FieldError>),
    MalformedJson,
    BadQuery(String),
    UnsupportedMediaType,
    PayloadTooLarge,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict(Conflict),
    IdempotencyKeyReused,
    Gone,
    Throttled { retry_after_secs: u64 },
    Unavailable,
    Internal(String),
}

impl ApiError {
    /// A single-field validation error.
    pub fn field(field: impl Into<String>, issue: FieldIssue) -> ApiError {
        ApiError::Validation(vec![FieldError::new(field, issue)])
    }

    /// Logs `e` and answers a generic `500`.
    pub fn internal(e: impl fmt::Display) -> ApiError {
        ApiError::Internal(e.to_string())
    }

    /// The stable code in `type: urn:refugio:problem:<code>`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "validation",
            ApiError::MalformedJson => "malformed_json",
            ApiError::BadQuery(_) => "bad_query",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::Conflict(Conflict::DuplicateEmail) => "duplicate_email",
            ApiError::Conflict(Conflict::IdempotencyInProgress) => "idempotency_in_progress",
            ApiError::Conflict(Conflict::AlreadyMember) => "already_member",
            ApiError::Conflict(Conflict::NotStaffAccount) => "not_staff_account",
            ApiError::Conflict(Conflict::InvalidTransition) => "invalid_transition",
            ApiError::Conflict(Conflict::ConcurrentChange) => "concurrent_change",
            ApiError::Conflict(Conflict::InsufficientStock) => "insufficient_stock",
            ApiError::Conflict(Conflict::DuplicateName) => "duplicate_name",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::Gone => "gone",
            ApiError::Throttled { .. } => "throttled",
            ApiError::Unavailable => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::MalformedJson | ApiError::BadQuery(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Gone => StatusCode::GONE,
            ApiError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem document in `lang`.
    pub fn problem(&self, lang: Lang) -> Problem {
        let (title, detail) = crate::i18n::problem_text(self, lang);
        let errors = match self {
            ApiError::Validation(fields) => fields
                .iter()
                .map(|f| ProblemField {
                    field: f.field.clone(),
                    message: f.issue.message(lang),
                })
                .collect(),
            _ => Vec::new(),
        };
        Problem {
            r#type: format!("urn:refugio:problem:{}", self.code()),
            title,
            status: self.status().as_u16(),
            detail,
            errors,
        }
    }

    /// The full response in `lang`.
    pub fn render(&self, lang: Lang) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status());
        builder.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        builder.insert_header((header::CONTENT_LANGUAGE, lang.as_str()));
        if let ApiError::Throttled { retry_after_secs } = self {
            builder.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        let body = serde_json::to_string(&self.problem(lang)).unwrap_or_default();
        let mut response = builder.body(body);
        response.extensions_mut().insert(self.clone());
        response
    }
}

/// RFC 9457 problem details, with Refugio's per-field `errors`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:refugio:problem:<code>`, a stable code clients can switch on.
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub message: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Internal(msg) => write!(f, "internal error: {msg}"),
            other => f.write_str(other.code()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(msg) = self {
            tracing::error!(error = %msg, "internal error");
        }
        self.render(Lang::En)
    }
}

impl From<refugio_db::DbError> for ApiError {
    fn from(e: refugio_db::DbError) -> ApiError {
        if refugio_db::is_transient_conflict(&e) {
            // PostgreSQL gave up one of two transactions waiting on each other; nothing was
            // written, and the client may retry.
            tracing::warn!(error = %e, "transaction aborted by a concurrent one");
            return ApiError::Conflict(Conflict::ConcurrentChange);
        }
        ApiError::internal(e)
    }
}

impl From<refugio_db::PoolError> for ApiError {
    fn from(e: refugio_db::PoolError) -> ApiError {
        tracing::error!(error = %e, "database pool unavailable");
        ApiError::Unavailable
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> ApiError {
        ApiError::internal(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
