//! Creating and changing user accounts and memberships.

use crate::audit_log::record;
use crate::error::{ApiError, ApiResult, Conflict};
use refugio_core::{Email, Locale, MembershipRole, Role};
use refugio_db::users::{self, MembershipRow, UserRow};
use refugio_db::DbConnection;
use serde::Serialize;
use serde_json::json;

/// A user as the API shows it (`GET /me`, `POST /users`, …).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub locale: String,
    pub active: bool,
    pub memberships: Vec<MembershipView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MembershipView {
    pub shelter_id: String,
    pub role: String,
}

pub fn view(conn: &mut DbConnection, user: UserRow) -> ApiResult<UserView> {
    let memberships = users::memberships_of(conn, &user.id)?
        .into_iter()
        .map(|m| MembershipView {
            shelter_id: m.shelter_id,
            role: m.role,
        })
        .collect();
    Ok(UserView {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        locale: user.locale,
        active: user.active,
        memberships,
    })
}

pub struct NewUser {
    pub email: Email,
    pub password_hash: String,
    pub name: String,
    pub role: Role,
    pub locale: Locale,
    pub memberships: Vec<(String, MembershipRole)>,
}

/// Inserts a user and their memberships, with audit events; `409` on a taken email.
pub fn create(conn: &mut DbConnection, actor_id: Option<&str>, new: NewUser) -> ApiResult<UserRow> {
    if users::email_taken(conn, new.email.as_str())? {
        return Err(ApiError::Conflict(Conflict::DuplicateEmail));
    }
    let now = refugio_db::now();
    let user = UserRow {
        id: refugio_core::new_id(),
        email: new.email.into_inner(),
        name: new.name,
        password_hash: new.password_hash,
        role: new.role.as_str().into(),
        locale: new.locale.as_str().into(),
        active: true,
        created_at: now,
        updated_at: now,
    };
    match users::insert(conn, &user) {
        Err(e) if refugio_db::is_unique_violation(&e) => {
            return Err(ApiError::Conflict(Conflict::DuplicateEmail))
        }
        other => other?,
    }
    // Donors register themselves; every other account is created by someone (or the CLI).
    if actor_id.is_none() && user.role == Role::Donor.as_str() {
        record(
            conn,
            Some(&user.id),
            None,
            "user.registered",
            ("user", &user.id),
            json!({"role": user.role}),
        )?;
    } else {
        record(
            conn,
            actor_id,
            None,
            "user.created",
            ("user", &user.id),
            json!({"role": user.role}),
        )?;
    }
    for (shelter_id, role) in new.memberships {
        add_membership(
            conn,
            actor_id.unwrap_or(&user.id),
            &user.id,
            &shelter_id,
            role,
        )?;
    }
    Ok(user)
}

/// Adds a membership (`409` if the user already has one in that shelter: it is never changed).
pub fn add_membership(
    conn: &mut DbConnection,
    actor_id: &str,
    user_id: &str,
    shelter_id: &str,
    role: MembershipRole,
) -> ApiResult<()> {
    if users::membership(conn, user_id, shelter_id)?.is_some() {
        return Err(ApiError::Conflict(Conflict::AlreadyMember));
    }
    let row = MembershipRow {
        user_id: user_id.into(),
        shelter_id: shelter_id.into(),
        role: role.as_str().into(),
        created_at: refugio_db::now(),
    };
    users::insert_membership(conn, &row)?;
    record(
        conn,
        Some(actor_id),
        Some(shelter_id),
        "membership.created",
        ("membership", user_id),
        json!({"user_id": user_id, "role": role.as_str()}),
    )
}
