//! `?limit=&cursor=` lists: `{items, next_cursor}`. Cursors are opaque base64url text.

use crate::error::ApiError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Page size: default 50, above 500 is clamped to 500.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if n < 1 => Err(ApiError::BadQuery("limit must be at least 1".into())),
            Some(n) => Ok(n.min(MAX_LIMIT)),
        }
    }

    /// The cursor's `N` parts (joined by NUL when encoded); any other cursor is a `400`.
    pub fn cursor<const N: usize>(&self) -> Result<Option<[String; N]>, ApiError> {
        let Some(c) = &self.cursor else {
            return Ok(None);
        };
        let bytes = URL_SAFE_NO_PAD.decode(c).map_err(|_| bad_cursor())?;
        let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
        let parts: Vec<String> = text.split('\0').map(str::to_owned).collect();
        parts.try_into().map(Some).map_err(|_| bad_cursor())
    }
}

/// The `400` for a cursor this server did not issue.
pub fn bad_cursor() -> ApiError {
    ApiError::BadQuery("cursor is not one this server issued".into())
}

/// A timestamp as a cursor part (microseconds, as stored).
pub fn time_part(at: chrono::NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// A timestamp cursor part back, or a `400`.
pub fn parse_time_part(part: &str) -> Result<chrono::NaiveDateTime, ApiError> {
    chrono::NaiveDateTime::parse_from_str(part, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| bad_cursor())
}

pub fn encode_cursor(parts: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(parts.join("\0"))
}

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only says there is more.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        limit: i64,
        cursor_of: impl Fn(&R) -> String,
        map: impl FnMut(R) -> T,
    ) -> Page<T> {
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let next_cursor = if more {
            rows.last().map(&cursor_of)
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}
