//! Shelter staff: invitations by email, accepting them, listing and removing members.

use crate::audit_log::record;
use crate::auth::password;
use crate::auth::tokens::{random_token, token_hash};
use crate::auth::{Manage, MaybeCaller, Read, ShelterScope};
use crate::body::Body;
use crate::db;
use crate::error::{ApiError, ApiResult, Conflict};
use crate::i18n::FieldIssue;
use crate::idempotency::Idempotency;
use crate::services::accounts::{self, NewUser, UserView};
use crate::state::AppState;
use crate::validate::{checked, Fields, MEMBERSHIP_ROLES, NAME_MAX};
use actix_web::http::StatusCode;
use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use refugio_core::{Locale, MembershipRole, Role};
use refugio_db::invitations::InvitationRow;
use serde::{Deserialize, Serialize};
use serde_json::json;

const INVITATION_TTL_DAYS: i64 = 7;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct InvitationRequest {
    pub email: String,
    /// `coordinator` (managers may invite), or `manager` (admins only).
    pub role: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvitationView {
    pub id: String,
    pub email: String,
    pub role: String,
    pub shelter_id: String,
    pub expires_at: DateTime<Utc>,
}

/// Invites someone by email to the shelter's staff. The answer is the same whether or not an
/// account exists for the email; the token travels only in the email.
#[utoipa::path(tag = "members", params(("sid" = String, Path)), request_body = InvitationRequest,
    responses((status = 201, body = InvitationView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/shelters/{sid}/invitations")]
pub async fn invite(
    state: web::Data<AppState>,
    scope: ShelterScope<Manage>,
    idem: Idempotency,
    body: Body<InvitationRequest>,
) -> ApiResult<HttpResponse> {
    let mut f = Fields::new();
    let body = body.into_inner()?;
    let email = f.email("email", &body.email);
    let role = f.one_of::<MembershipRole>("role", &body.role, MEMBERSHIP_ROLES);
    f.finish()?;
    let (email, role) = (checked(email)?, checked(role)?);
    if role == MembershipRole::Manager && !scope.caller.is(Role::Admin) {
        return Err(ApiError::Forbidden);
    }
    let (sid, actor) = (scope.shelter_id.clone(), scope.caller.user_id.clone());
    db::write_reply(&state, idem.0, StatusCode::CREATED, move |c| {
        let shelter = refugio_db::shelters::find(c, &sid)?.ok_or(ApiError::NotFound)?;
        let token = random_token();
        let now = refugio_db::now();
        let row = InvitationRow {
            id: refugio_core::new_id(),
            shelter_id: sid.clone(),
            email: email.as_str().to_owned(),
            role: role.as_str().into(),
            token_hash: token_hash(&token),
            invited_by: actor.clone(),
            created_at: now,
            expires_at: now + Duration::days(INVITATION_TTL_DAYS),
            accepted_at: None,
            accepted_by: None,
        };
        refugio_db::invitations::insert(c, &row)?;
        let expires_at = row.expires_at.and_utc();
        let message = refugio_mail::Message::Invitation {
            shelter_name: shelter.name,
            role,
            token,
            expires_at,
        };
        // Bilingual: the invitee may have no account, hence no known language.
        refugio_mail::enqueue(c, email.as_str(), Locale::Es, &message)?;
        record(
            c,
            Some(&actor),
            Some(&sid),
            "invitation.created",
            ("invitation", &row.id),
            json!({"role": row.role}),
        )?;
        Ok(InvitationView {
            id: row.id,
            email: row.email,
            role: row.role,
            shelter_id: sid,
            expires_at,
        })
    })
    .await
}

/// The invitation a token names, if it is neither used nor expired (else `410`).
fn open_invitation(c: &mut refugio_db::DbConnection, token_hash: &str) -> ApiResult<InvitationRow> {
    let inv = refugio_db::invitations::find_by_token_hash(c, token_hash)?.ok_or(ApiError::Gone)?;
    if inv.accepted_at.is_some() || inv.expires_at <= refugio_db::now() {
        return Err(ApiError::Gone);
    }
    Ok(inv)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AcceptRequest {
    pub token: String,
    /// Required when creating a new account (not logged in).
    pub name: Option<String>,
    pub password: Option<String>,
}

/// Accepts an invitation: creates the staff account (`201`), or, logged in as an existing
/// staff account, adds the membership (`200`).
#[utoipa::path(tag = "members", request_body = AcceptRequest,
    responses((status = 200, body = UserView), (status = 201, body = UserView), (status = 409, body = crate::error::Problem), (status = 410, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[post("/invitations/accept")]
pub async fn accept(
    state: web::Data<AppState>,
    caller: MaybeCaller,
    body: Body<AcceptRequest>,
) -> ApiResult<HttpResponse> {
    let AcceptRequest {
        token,
        name,
        password,
    } = body.into_inner()?;
    let th = token_hash(&token);

    if let Some(caller) = caller.0 {
        let reply = db::write_reply(&state, None, StatusCode::OK, move |c| {
            let inv = open_invitation(c, &th)?;
            if caller.role != Role::Staff {
                return Err(ApiError::Conflict(Conflict::NotStaffAccount));
            }
            let role: MembershipRole = inv.role.parse().map_err(ApiError::internal)?;
            accounts::add_membership(c, &caller.user_id, &caller.user_id, &inv.shelter_id, role)?;
            refugio_db::invitations::mark_accepted(c, &inv.id, &caller.user_id, refugio_db::now())?;
            let user =
                refugio_db::users::find(c, &caller.user_id)?.ok_or(ApiError::Unauthorized)?;
            accounts::view(c, user)
        });
        return reply.await;
    }

    let mut f = Fields::new();
    let name = match &name {
        Some(n) => f.name("name", n, NAME_MAX),
        None => {
            f.add("name", FieldIssue::Required);
            None
        }
    };
    let password = match &password {
        Some(p) => f.password("password", p),
        None => {
            f.add("password", FieldIssue::Required);
            None
        }
    };
    f.finish()?;
    let (name, password) = (checked(name)?, checked(password)?);
    let password_hash = web::block(move || password::hash(&password))
        .await?
        .map_err(ApiError::internal)?;
    db::write_reply(&state, None, StatusCode::CREATED, move |c| {
        let inv = open_invitation(c, &th)?;
        let email = refugio_core::Email::parse(&inv.email).map_err(ApiError::internal)?;
        let role: MembershipRole = inv.role.parse().map_err(ApiError::internal)?;
        let user = accounts::create(
            c,
            Some(&inv.invited_by),
            NewUser {
                email,
                password_hash,
                name,
                role: Role::Staff,
                locale: Locale::Es,
                memberships: vec![(inv.shelter_id.clone(), role)],
            },
        )?;
        refugio_db::invitations::mark_accepted(c, &inv.id, &user.id, refugio_db::now())?;
        accounts::view(c, user)
    })
    .await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub active: bool,
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberList {
    pub items: Vec<MemberView>,
    pub next_cursor: Option<String>,
}

/// The shelter's staff, by name.
#[utoipa::path(tag = "members", params(("sid" = String, Path)),
    responses((status = 200, body = MemberList), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/shelters/{sid}/members")]
pub async fn list(
    state: web::Data<AppState>,
    scope: ShelterScope<Read>,
) -> ApiResult<HttpResponse> {
    let sid = scope.shelter_id.clone();
    let items = db::read(&state, move |c| {
        Ok(refugio_db::users::members_of(c, &sid)?
            .into_iter()
            .map(|(m, u)| MemberView {
                user_id: u.id,
                name: u.name,
                email: u.email,
                role: m.role,
                active: u.active,
                joined_at: m.created_at.and_utc(),
            })
            .collect())
    })
    .await?;
    Ok(HttpResponse::Ok().json(MemberList {
        items,
        next_cursor: None,
    }))
}

/// Removes someone from the shelter's staff (managers, admins).
#[utoipa::path(tag = "members", params(("sid" = String, Path), ("uid" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[delete("/shelters/{sid}/members/{uid}")]
pub async fn remove(
    state: web::Data<AppState>,
    scope: ShelterScope<Manage>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (_, uid) = path.into_inner();
    if !refugio_core::ids::is_well_formed(&uid) {
        return Err(ApiError::NotFound);
    }
    let (sid, actor) = (scope.shelter_id.clone(), scope.caller.user_id.clone());
    db::write(&state, move |c| {
        if refugio_db::users::delete_membership(c, &uid, &sid)? == 0 {
            return Err(ApiError::NotFound);
        }
        record(
            c,
            Some(&actor),
            Some(&sid),
            "membership.removed",
            ("membership", &uid),
            json!({"user_id": uid}),
        )
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
