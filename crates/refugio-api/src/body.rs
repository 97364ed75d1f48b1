//! The JSON body extractor: content type (`415`), size (`413`), syntax (`400`), and shape
//! (`422` with the failing field's path), in that order.
//!
//! Extraction itself never fails: actix polls a handler's extractors together and answers
//! with the first error ready, which would let a body error overtake the (slower, database
//! backed) authorization extractors. Handlers call `into_inner()?` after authorization, so
//! "authorization is decided before validation" holds for every route.

use crate::error::{ApiError, FieldError};
use crate::i18n::FieldIssue;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

/// Bodies above this are refused with `413`.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON request body parsed into `T`, or why it could not be.
#[derive(Debug)]
pub struct Body<T>(Result<T, ApiError>);

impl<T> Body<T> {
    /// The parsed body; call after authorization has been decided.
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

/// A JSON body that may be absent (routes whose contract has no body, like `receive`).
#[derive(Debug)]
pub struct OptionalBody<T>(Result<Option<T>, ApiError>);

impl<T> OptionalBody<T> {
    /// The parsed body, `None` when empty; call after authorization has been decided.
    pub fn into_inner(self) -> Result<Option<T>, ApiError> {
        self.0
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
        .unwrap_or(false)
}

async fn read_bytes(req: &HttpRequest, payload: &mut Payload) -> Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(ApiError::PayloadTooLarge);
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(MAX_BODY_BYTES));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::MalformedJson)?;
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Parses JSON text into `T`, mapping serde's complaints to field errors.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|_| ApiError::MalformedJson)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        ApiError::Validation(vec![field_error(&path, &message)])
    })
}

fn field_error(path: &str, message: &str) -> FieldError {
    let join = |name: &str| {
        if path == "." || path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
    {
        return FieldError::new(join(name), FieldIssue::Required);
    }
    let field = if path == "." {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    let expected = message.rsplit("expected ").next().unwrap_or_default();
    let issue = if message.starts_with("invalid type") || message.starts_with("invalid value") {
        FieldIssue::WrongType(match expected {
            e if e.contains("string") => "string",
            e if e.contains("boolean") => "boolean",
            e if e.contains("i64")
                || e.contains("u64")
                || e.contains("u32")
                || e.contains("integer") =>
            {
                "integer"
            }
            e if e.contains("sequence") => "array",
            e if e.contains("map") || e.contains("struct") => "object",
            _ => "number",
        })
    } else {
        FieldIssue::Invalid
    };
    FieldError::new(field, issue)
}

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let parsed = async {
                if !is_json(&req) {
                    return Err(ApiError::UnsupportedMediaType);
                }
                parse_json(&read_bytes(&req, &mut payload).await?)
            };
            Ok(Body(parsed.await))
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let parsed = async {
                let bytes = read_bytes(&req, &mut payload).await?;
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    return Ok(None);
                }
                if !is_json(&req) {
                    return Err(ApiError::UnsupportedMediaType);
                }
                parse_json(&bytes).map(Some)
            };
            Ok(OptionalBody(parsed.await))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        need_id: String,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        beds: i64,
        restriction: Option<Inner>,
    }

    fn issue(json: &str) -> FieldError {
        match parse_json::<Outer>(json.as_bytes()) {
            Err(ApiError::Validation(mut f)) => f.remove(0),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn shape_errors_name_the_field() {
        assert_eq!(
            issue(r#"{"beds": 1}"#),
            FieldError::new("name", FieldIssue::Required)
        );
        assert_eq!(
            issue(r#"{"name": 5, "beds": 1}"#),
            FieldError::new("name", FieldIssue::WrongType("string"))
        );
        assert_eq!(
            issue(r#"{"name": "a", "beds": "x"}"#),
            FieldError::new("beds", FieldIssue::WrongType("integer"))
        );
        assert_eq!(
            issue(r#"{"name": "a", "beds": 1, "restriction": {}}"#),
            FieldError::new("restriction.need_id", FieldIssue::Required)
        );
    }

    #[test]
    fn syntax_errors_are_malformed_json() {
        assert!(matches!(
            parse_json::<Outer>(b"{\"name\":"),
            Err(ApiError::MalformedJson)
        ));
    }
}
