//! Access tokens (HS256 JWT, 15 minutes) and opaque refresh/one-time tokens.

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const ISSUER: &str = "refugio";
pub const AUDIENCE: &str = "refugio-api";
/// Access tokens live this many seconds.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    /// The session: revoking it kills its access tokens at once.
    pub sid: String,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub aud: String,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Result<TokenKeys, jsonwebtoken::errors::Error> {
        // Only HS256 is accepted: `alg: none` and algorithm swaps fail validation.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Ok(TokenKeys {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            validation,
        })
    }

    /// A signed access token for the user and session, issued at `now` (unix seconds).
    pub fn issue(
        &self,
        user_id: &str,
        session_id: &str,
        now: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: user_id.to_owned(),
            sid: session_id.to_owned(),
            iat: now,
            exp: now + ACCESS_TTL_SECS,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The claims of a token with a valid signature, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|d| d.claims)
    }
}

/// 32 random bytes, URL-safe base64 (43 characters): refresh, reset and invitation tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// How opaque tokens are stored: only their SHA-256, so a database leak yields no live token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_fresh_token_verifies_and_carries_its_session() {
        let keys = TokenKeys::new(SECRET).expect("keys");
        let now = chrono::Utc::now().timestamp();
        let token = keys.issue("u1", "s1", now).expect("sign");
        let claims = keys.verify(&token).expect("valid");
        assert_eq!(
            (
                claims.sub.as_str(),
                claims.sid.as_str(),
                claims.exp - claims.iat
            ),
            ("u1", "s1", ACCESS_TTL_SECS)
        );
    }

    #[test]
    fn expired_or_foreign_tokens_are_rejected() {
        let keys = TokenKeys::new(SECRET).expect("keys");
        let old = chrono::Utc::now().timestamp() - 2 * ACCESS_TTL_SECS;
        assert!(keys
            .verify(&keys.issue("u1", "s1", old).expect("sign"))
            .is_none());
        let other = TokenKeys::new(b"another secret that is long enough!!").expect("keys");
        let now = chrono::Utc::now().timestamp();
        assert!(keys
            .verify(&other.issue("u1", "s1", now).expect("sign"))
            .is_none());
    }

    #[test]
    fn random_tokens_are_long_and_url_safe() {
        let t = random_token();
        assert!(
            t.len() >= 32
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(t, random_token());
        assert_eq!(token_hash("x").len(), 64);
    }
}
