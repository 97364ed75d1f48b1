//! Sessions: login, refresh-token rotation with reuse detection, logout.

use crate::auth::tokens::{random_token, token_hash, TokenKeys, ACCESS_TTL_SECS};
use crate::error::{ApiError, ApiResult};
use refugio_db::sessions::{self, RefreshTokenRow, SessionRow};
use refugio_db::DbConnection;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

fn issue_pair(
    conn: &mut DbConnection,
    keys: &TokenKeys,
    user_id: &str,
    session_id: &str,
) -> ApiResult<TokenPair> {
    let refresh_token = random_token();
    sessions::insert_refresh_token(
        conn,
        &RefreshTokenRow {
            token_hash: token_hash(&refresh_token),
            session_id: session_id.into(),
            created_at: refugio_db::now(),
            used_at: None,
        },
    )?;
    let access_token = keys
        .issue(user_id, session_id, chrono::Utc::now().timestamp())
        .map_err(ApiError::internal)?;
    Ok(TokenPair {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: ACCESS_TTL_SECS,
    })
}

/// Opens a session for a user whose password was just verified.
pub fn open(
    conn: &mut DbConnection,
    keys: &TokenKeys,
    user_id: &str,
    ttl: chrono::Duration,
) -> ApiResult<TokenPair> {
    let now = refugio_db::now();
    let session = SessionRow {
        id: refugio_core::new_id(),
        user_id: user_id.into(),
        created_at: now,
        expires_at: now + ttl,
        revoked_at: None,
    };
    sessions::insert(conn, &session)?;
    issue_pair(conn, keys, user_id, &session.id)
}

/// What a refresh attempt found. A reuse must revoke the session and still answer `401`, so
/// this is returned as a value and the transaction commits.
pub enum Refresh {
    Rotated(TokenPair),
    Rejected,
}

pub fn refresh(
    conn: &mut DbConnection,
    keys: &TokenKeys,
    refresh_token: &str,
) -> ApiResult<Refresh> {
    let now = refugio_db::now();
    let hash = token_hash(refresh_token);
    let Some((token, session)) = sessions::find_refresh_token(conn, &hash)? else {
        return Ok(Refresh::Rejected);
    };
    if session.revoked_at.is_some() || session.expires_at <= now {
        return Ok(Refresh::Rejected);
    }
    // A rotated token coming back means it leaked: end the whole session.
    if token.used_at.is_some() || sessions::mark_refresh_token_used(conn, &hash, now)? == 0 {
        sessions::revoke(conn, &session.id, now)?;
        tracing::warn!(session_id = %session.id, "refresh token reused; session revoked");
        return Ok(Refresh::Rejected);
    }
    if sessions::live_session_user(conn, &session.id, now)?.is_none() {
        return Ok(Refresh::Rejected);
    }
    issue_pair(conn, keys, &session.user_id, &session.id).map(Refresh::Rotated)
}

/// Ends the session a refresh token belongs to (unknown tokens are ignored).
pub fn logout(conn: &mut DbConnection, refresh_token: &str) -> ApiResult<()> {
    if let Some((_, session)) = sessions::find_refresh_token(conn, &token_hash(refresh_token))? {
        sessions::revoke(conn, &session.id, refugio_db::now())?;
    }
    Ok(())
}
