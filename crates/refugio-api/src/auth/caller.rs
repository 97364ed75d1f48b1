//! Who is calling: the `Caller` extractor checks the bearer token and that its session is live.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use refugio_core::{Locale, Role};
use std::marker::PhantomData;

/// An authenticated user whose session is neither revoked nor expired and who is active.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub session_id: String,
    pub role: Role,
    pub locale: Locale,
}

impl Caller {
    pub fn is(&self, role: Role) -> bool {
        self.role == role
    }
}

/// The bearer token of a request, if it has one.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn authenticate(req: &HttpRequest, token: &str) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("app state missing"))?;
    let claims = state.tokens.verify(token).ok_or(ApiError::Unauthorized)?;
    let pool = state.pool.clone();
    let session_id = claims.sid.clone();
    let user = web::block(move || -> Result<_, ApiError> {
        let mut conn = pool.get()?;
        Ok(refugio_db::sessions::live_session_user(
            &mut conn,
            &session_id,
            refugio_db::now(),
        )?)
    })
    .await??
    .filter(|u| u.id == claims.sub)
    .ok_or(ApiError::Unauthorized)?;
    Ok(Caller {
        user_id: user.id,
        session_id: claims.sid,
        role: user.role.parse().map_err(ApiError::internal)?,
        locale: user.locale.parse().map_err(ApiError::internal)?,
    })
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let token = bearer(&req).ok_or(ApiError::Unauthorized)?.to_owned();
            authenticate(&req, &token).await
        })
    }
}

/// The caller on routes that also serve anonymous visitors; a bad token is still a `401`.
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match bearer(&req).map(str::to_owned) {
                None => Ok(MaybeCaller(None)),
                Some(token) => authenticate(&req, &token)
                    .await
                    .map(|c| MaybeCaller(Some(c))),
            }
        })
    }
}

/// Which platform roles a route admits.
pub trait RolePolicy {
    const ROLES: &'static [Role];
}

/// A caller whose role the policy `P` admits; any other role is a `403`.
#[derive(Debug, Clone)]
pub struct Only<P: RolePolicy> {
    pub caller: Caller,
    _policy: PhantomData<P>,
}

impl<P: RolePolicy> std::ops::Deref for Only<P> {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl<P: RolePolicy + 'static> FromRequest for Only<P> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        Box::pin(async move {
            let caller = caller.await?;
            if P::ROLES.contains(&caller.role) {
                Ok(Only {
                    caller,
                    _policy: PhantomData,
                })
            } else {
                Err(ApiError::Forbidden)
            }
        })
    }
}

/// Admins only.
#[derive(Debug, Clone)]
pub struct Admins;
impl RolePolicy for Admins {
    const ROLES: &'static [Role] = &[Role::Admin];
}

/// Admins and auditors: the people who read everything.
#[derive(Debug, Clone)]
pub struct Overseers;
impl RolePolicy for Overseers {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Auditor];
}
