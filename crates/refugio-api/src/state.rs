//! What every handler shares: the pool, settings and signing keys.

use crate::auth::tokens::TokenKeys;
use refugio_db::Pool;
use std::net::IpAddr;
use std::sync::Arc;

/// Tunables of the HTTP layer, validated by the binary at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// HS256 secret, at least 32 bytes.
    pub jwt_secret: Vec<u8>,
    /// Refresh tokens (and sessions) end this long after login.
    pub refresh_ttl: chrono::Duration,
    /// Proxies whose `X-Forwarded-For` hop names the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// In-kind pledges not received this long after pledging expire.
    pub pledge_ttl: chrono::Duration,
}

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub settings: Arc<Settings>,
    pub tokens: Arc<TokenKeys>,
    /// A real argon2id hash of a random password: verified against when the email is unknown,
    /// so unknown emails and wrong passwords take the same time.
    pub dummy_password_hash: Arc<String>,
}

impl AppState {
    pub fn new(pool: Pool, settings: Settings) -> Result<AppState, String> {
        let tokens =
            Arc::new(TokenKeys::new(&settings.jwt_secret).map_err(|e| format!("JWT secret: {e}"))?);
        let dummy = crate::auth::password::hash(&crate::auth::tokens::random_token())
            .map_err(|e| e.to_string())?;
        Ok(AppState {
            pool,
            settings: Arc::new(settings),
            tokens,
            dummy_password_hash: Arc::new(dummy),
        })
    }
}
