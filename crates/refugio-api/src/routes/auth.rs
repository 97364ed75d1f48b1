//! `/auth/*`: register, login, refresh, logout, password reset.

use crate::auth::client_address::client_address;
use crate::auth::password;
use crate::auth::tokens::{random_token, token_hash};
use crate::body::Body;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::localize::lang_of;
use crate::services::accounts::{self, NewUser, UserView};
use crate::services::login_throttle;
use crate::services::sessions::{self, Refresh, TokenPair};
use crate::state::AppState;
use crate::validate::{checked, Fields, LOCALES, NAME_MAX};
use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::Duration;
use refugio_core::{Locale, Role};
use serde::Deserialize;
use serde_json::json;

const REGISTRATIONS_PER_HOUR: i64 = 20;
const RESETS_PER_HOUR: i64 = 3;
const RESET_TTL_MINUTES: i64 = 60;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegisterRequest {
    pub email: String,
    /// 10 to 128 characters.
    pub password: String,
    pub name: String,
    /// `es` or `en`; default from `Accept-Language`, else `en`.
    pub locale: Option<String>,
}

/// Self-registration of a donor account.
#[utoipa::path(tag = "accounts", request_body = RegisterRequest,
    responses((status = 201, body = UserView), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner()?;
    let mut f = Fields::new();
    let email = f.email("email", &body.email);
    let password = f.password("password", &body.password);
    let name = f.name("name", &body.name, NAME_MAX);
    let locale = match &body.locale {
        Some(l) => f.one_of::<Locale>("locale", l, LOCALES),
        None => Some(lang_of(&req)),
    };
    f.finish()?;
    let (email, password, name, locale) = (
        checked(email)?,
        checked(password)?,
        checked(name)?,
        checked(locale)?,
    );

    let bucket = format!(
        "register:{}",
        client_address(&req, &state.settings.trusted_proxies)
    );
    let check_bucket = bucket.clone();
    let now = refugio_db::now();
    let (count, oldest) = db::read(&state, move |c| {
        Ok(refugio_db::throttle::events_since(
            c,
            &check_bucket,
            now - Duration::hours(1),
        )?)
    })
    .await?;
    if count >= REGISTRATIONS_PER_HOUR {
        let free_at = oldest.map_or(now, |t| t + Duration::hours(1));
        return Err(ApiError::Throttled {
            retry_after_secs: u64::try_from((free_at - now).num_seconds().max(1)).unwrap_or(1),
        });
    }
    let password_hash = web::block(move || password::hash(&password))
        .await?
        .map_err(ApiError::internal)?;
    db::write_reply(&state, None, StatusCode::CREATED, move |c| {
        let user = accounts::create(
            c,
            None,
            NewUser {
                email,
                password_hash,
                name,
                role: Role::Donor,
                locale,
                memberships: Vec::new(),
            },
        )?;
        refugio_db::throttle::record_event(c, &bucket, refugio_db::now())?;
        accounts::view(c, user)
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// Exchanges email and password for an access and a refresh token.
#[utoipa::path(tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let LoginRequest { email, password } = body.into_inner()?;
    // Anything that is not an email can match no account; it is counted under one placeholder
    // (never stored as sent: it may hold bytes a database refuses).
    let email = refugio_core::Email::parse(&email)
        .map_or_else(|_| "<invalid>".to_owned(), refugio_core::Email::into_inner);
    let address = client_address(&req, &state.settings.trusted_proxies);
    let now = refugio_db::now();
    let (e, a) = (email.clone(), address.clone());
    let user = db::read(&state, move |c| {
        login_throttle::check(c, &e, &a, now)?;
        Ok(refugio_db::users::find_by_email(c, &e)?)
    })
    .await?;
    // Unknown emails are checked against a dummy hash so both failures cost the same time.
    let stored_hash = user.as_ref().map_or_else(
        || state.dummy_password_hash.as_str().to_owned(),
        |u| u.password_hash.clone(),
    );
    let password_ok = web::block(move || password::verify(&stored_hash, &password)).await?;
    let user = user.filter(|u| password_ok && u.active);
    let (keys, ttl) = (state.tokens.clone(), state.settings.refresh_ttl);
    let pair = db::write(&state, move |c| match user {
        Some(user) => {
            login_throttle::record_success(c, &email, &address)?;
            sessions::open(c, &keys, &user.id, ttl).map(Some)
        }
        None => {
            login_throttle::record_failure(c, &email, &address, refugio_db::now()).map(|()| None)
        }
    })
    .await?;
    let pair = pair.ok_or(ApiError::Unauthorized)?;
    Ok(HttpResponse::Ok().json(pair))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Rotates a refresh token; reusing a rotated one revokes the whole session.
#[utoipa::path(tag = "accounts", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = crate::error::Problem)))]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Body<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let keys = state.tokens.clone();
    let token = body.into_inner()?.refresh_token;
    match db::write(&state, move |c| sessions::refresh(c, &keys, &token)).await? {
        Refresh::Rotated(pair) => Ok(HttpResponse::Ok().json(pair)),
        Refresh::Rejected => Err(ApiError::Unauthorized),
    }
}

/// Ends the session of a refresh token; `204` also for an unknown token.
#[utoipa::path(tag = "accounts", request_body = RefreshRequest, responses((status = 204)))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    body: Body<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let token = body.into_inner()?.refresh_token;
    db::write(&state, move |c| sessions::logout(c, &token)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordResetRequest {
    pub email: String,
}

/// Emails a single-use reset token if the account exists; always `202`.
#[utoipa::path(tag = "accounts", request_body = PasswordResetRequest, responses((status = 202)))]
#[post("/auth/password-reset")]
pub async fn password_reset(
    state: web::Data<AppState>,
    body: Body<PasswordResetRequest>,
) -> ApiResult<HttpResponse> {
    let Ok(email) = refugio_core::Email::parse(&body.into_inner()?.email) else {
        return Ok(HttpResponse::Accepted().finish());
    };
    db::write(&state, move |c| {
        let email = email.as_str();
        let Some(user) = refugio_db::users::find_by_email(c, email)?.filter(|u| u.active) else {
            return Ok(());
        };
        let now = refugio_db::now();
        let bucket = format!("reset:{}", user.id);
        let (recent, _) = refugio_db::throttle::events_since(c, &bucket, now - Duration::hours(1))?;
        if recent >= RESETS_PER_HOUR {
            return Ok(());
        }
        let token = random_token();
        let expires_at = now + Duration::minutes(RESET_TTL_MINUTES);
        refugio_db::password_resets::insert(c, &token_hash(&token), &user.id, now, expires_at)?;
        refugio_db::throttle::record_event(c, &bucket, now)?;
        let locale = user.locale.parse().unwrap_or(Locale::En);
        let message = refugio_mail::Message::PasswordReset {
            token,
            expires_in_minutes: RESET_TTL_MINUTES,
        };
        refugio_mail::enqueue(c, &user.email, locale, &message)?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordResetConfirm {
    pub token: String,
    pub password: String,
}

/// Sets a new password with an emailed token and ends every session of the account.
#[utoipa::path(tag = "accounts", request_body = PasswordResetConfirm,
    responses((status = 204), (status = 410, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[post("/auth/password-reset/confirm")]
pub async fn password_reset_confirm(
    state: web::Data<AppState>,
    body: Body<PasswordResetConfirm>,
) -> ApiResult<HttpResponse> {
    let PasswordResetConfirm { token, password } = body.into_inner()?;
    let mut f = Fields::new();
    let password = f.password("password", &password);
    f.finish()?;
    let password = checked(password)?;
    let hash = web::block(move || password::hash(&password))
        .await?
        .map_err(ApiError::internal)?;
    db::write(&state, move |c| {
        let now = refugio_db::now();
        let user_id = refugio_db::password_resets::consume(c, &token_hash(&token), now)?
            .ok_or(ApiError::Gone)?;
        refugio_db::users::set_password_hash(c, &user_id, &hash)?;
        refugio_db::sessions::revoke_all_for_user(c, &user_id, now)?;
        crate::audit_log::record(
            c,
            Some(&user_id),
            None,
            "user.password_reset",
            ("user", &user_id),
            json!({}),
        )
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
