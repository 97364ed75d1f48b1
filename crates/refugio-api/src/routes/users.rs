//! `/me` and the admin's user management.

use crate::auth::password;
use crate::auth::{caller::Admins, Caller, Only};
use crate::body::Body;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::i18n::FieldIssue;
use crate::idempotency::Idempotency;
use crate::localize::lang_of;
use crate::services::accounts::{self, NewUser, UserView};
use crate::state::AppState;
use crate::validate::{checked, Fields, LOCALES, MEMBERSHIP_ROLES, NAME_MAX, ROLES};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use refugio_core::{Locale, MembershipRole, Role};
use serde::Deserialize;
use serde_json::json;

/// The caller's own account and memberships.
#[utoipa::path(tag = "accounts", responses((status = 200, body = UserView), (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let view = db::read(&state, move |c| {
        let user = refugio_db::users::find(c, &caller.user_id)?.ok_or(ApiError::Unauthorized)?;
        accounts::view(c, user)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MembershipInput {
    pub shelter_id: String,
    /// `manager` or `coordinator`.
    pub role: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateUserRequest {
    pub email: String,
    pub password: String,
    pub name: String,
    /// `admin`, `auditor`, `staff` or `donor`.
    pub role: String,
    pub locale: Option<String>,
    /// Only for `staff`.
    pub memberships: Option<Vec<MembershipInput>>,
}

/// Creates any kind of account (admin only).
#[utoipa::path(tag = "accounts", request_body = CreateUserRequest,
    responses((status = 201, body = UserView), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    admin: Only<Admins>,
    idem: Idempotency,
    req: HttpRequest,
    body: Body<CreateUserRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner()?;
    let mut f = Fields::new();
    let email = f.email("email", &body.email);
    let password = f.password("password", &body.password);
    let name = f.name("name", &body.name, NAME_MAX);
    let role = f.one_of::<Role>("role", &body.role, ROLES);
    let locale = match &body.locale {
        Some(l) => f.one_of::<Locale>("locale", l, LOCALES),
        None => Some(lang_of(&req)),
    };
    let mut memberships = Vec::new();
    if let Some(list) = &body.memberships {
        if !list.is_empty() && role.is_some_and(|r| r != Role::Staff) {
            f.add("memberships", FieldIssue::NotForRole);
        }
        for (i, m) in list.iter().enumerate() {
            let r = f.one_of::<MembershipRole>(
                &format!("memberships[{i}].role"),
                &m.role,
                MEMBERSHIP_ROLES,
            );
            if let Some(r) = r {
                memberships.push((i, m.shelter_id.trim().to_owned(), r));
            }
        }
    }
    f.finish()?;
    let (email, password, name, role, locale) = (
        checked(email)?,
        checked(password)?,
        checked(name)?,
        checked(role)?,
        checked(locale)?,
    );
    let password_hash = web::block(move || password::hash(&password))
        .await?
        .map_err(ApiError::internal)?;
    let actor = admin.user_id.clone();
    db::write_reply(&state, idem.0, StatusCode::CREATED, move |c| {
        let mut f = Fields::new();
        for (i, shelter_id, _) in &memberships {
            if !refugio_core::ids::is_well_formed(shelter_id)
                || !refugio_db::shelters::exists(c, shelter_id)?
            {
                f.add(format!("memberships[{i}].shelter_id"), FieldIssue::Invalid);
            }
        }
        f.finish()?;
        let memberships = memberships.into_iter().map(|(_, s, r)| (s, r)).collect();
        let user = accounts::create(
            c,
            Some(&actor),
            NewUser {
                email,
                password_hash,
                name,
                role,
                locale,
                memberships,
            },
        )?;
        accounts::view(c, user)
    })
    .await
}

/// Deactivates an account: its sessions and access tokens stop working at once.
#[utoipa::path(tag = "accounts", params(("uid" = String, Path)),
    responses((status = 200, body = UserView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/users/{uid}/deactivate")]
pub async fn deactivate_user(
    state: web::Data<AppState>,
    admin: Only<Admins>,
    idem: Idempotency,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let uid = path.into_inner();
    if !refugio_core::ids::is_well_formed(&uid) {
        return Err(ApiError::NotFound);
    }
    let actor = admin.user_id.clone();
    db::write_reply(&state, idem.0, StatusCode::OK, move |c| {
        let user = refugio_db::users::find(c, &uid)?.ok_or(ApiError::NotFound)?;
        if user.active {
            let now = refugio_db::now();
            refugio_db::users::set_active(c, &uid, false)?;
            refugio_db::sessions::revoke_all_for_user(c, &uid, now)?;
            crate::audit_log::record(
                c,
                Some(&actor),
                None,
                "user.deactivated",
                ("user", &uid),
                json!({"active": false}),
            )?;
        }
        let user = refugio_db::users::find(c, &uid)?.ok_or(ApiError::NotFound)?;
        accounts::view(c, user)
    })
    .await
}
