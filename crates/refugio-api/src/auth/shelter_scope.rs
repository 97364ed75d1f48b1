//! Tenancy: the one extractor every `/shelters/{sid}/...` route uses. It resolves what the
//! caller may do in that shelter before the handler runs:
//! - a role that may never do this kind of thing (a donor, an auditor writing): `403`;
//! - a role that could, but not in this shelter (staff of another shelter), or no such
//!   shelter: `404`, so existence never leaks.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use refugio_core::{MembershipRole, Role};
use std::marker::PhantomData;

/// The caller's standing in a shelter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Auditors: read everything, write nothing.
    ReadOnly,
    Coordinator,
    /// Managers of the shelter, and admins everywhere.
    Manager,
}

/// The least access a route needs.
pub trait AccessLevel {
    const NEEDS: Access;
}

/// Reading shelter data: staff of the shelter, admins, auditors.
#[derive(Debug, Clone)]
pub struct Read;
impl AccessLevel for Read {
    const NEEDS: Access = Access::ReadOnly;
}

/// Day-to-day writes: coordinators and managers of the shelter, admins.
#[derive(Debug, Clone)]
pub struct Write;
impl AccessLevel for Write {
    const NEEDS: Access = Access::Coordinator;
}

/// Management: managers of the shelter, admins.
#[derive(Debug, Clone)]
pub struct Manage;
impl AccessLevel for Manage {
    const NEEDS: Access = Access::Manager;
}

/// A caller with at least `L` access to the shelter `{sid}` of the path.
#[derive(Debug, Clone)]
pub struct ShelterScope<L: AccessLevel> {
    pub shelter_id: String,
    pub caller: Caller,
    pub access: Access,
    _level: PhantomData<L>,
}

/// Decides the caller's access to a shelter; `Ok(None)` means "not in this shelter" (`404`).
fn resolve(
    conn: &mut refugio_db::DbConnection,
    caller: &Caller,
    shelter_id: &str,
) -> Result<Option<Access>, ApiError> {
    if !refugio_core::ids::is_well_formed(shelter_id)
        || !refugio_db::shelters::exists(conn, shelter_id)?
    {
        return Ok(None);
    }
    Ok(match caller.role {
        Role::Admin => Some(Access::Manager),
        Role::Auditor => Some(Access::ReadOnly),
        Role::Staff => {
            refugio_db::users::membership(conn, &caller.user_id, shelter_id)?.and_then(|m| match m
                .role
                .parse::<MembershipRole>()
            {
                Ok(MembershipRole::Manager) => Some(Access::Manager),
                Ok(MembershipRole::Coordinator) => Some(Access::Coordinator),
                Err(_) => None,
            })
        }
        Role::Donor => None,
    })
}

impl<L: AccessLevel + 'static> FromRequest for ShelterScope<L> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let caller = caller.await?;
            // Roles that may never act inside a shelter (donors), or never write (auditors).
            let role_can = match caller.role {
                Role::Donor => false,
                Role::Auditor => L::NEEDS == Access::ReadOnly,
                Role::Admin | Role::Staff => true,
            };
            if !role_can {
                return Err(ApiError::Forbidden);
            }
            let shelter_id = req
                .match_info()
                .get("sid")
                .ok_or(ApiError::NotFound)?
                .to_owned();
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::internal("app state missing"))?;
            let pool = state.pool.clone();
            let (c, sid) = (caller.clone(), shelter_id.clone());
            let access =
                web::block(move || -> Result<_, ApiError> { resolve(&mut *pool.get()?, &c, &sid) })
                    .await??
                    .ok_or(ApiError::NotFound)?;
            if access < L::NEEDS {
                // A coordinator asking for a manager's action in their own shelter.
                return Err(ApiError::Forbidden);
            }
            Ok(ShelterScope {
                shelter_id,
                caller,
                access,
                _level: PhantomData,
            })
        })
    }
}
