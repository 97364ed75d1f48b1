//! Shelters as the API shows them: everything to those who work with them, and only what the
//! shelter chose to make public to everyone else.

use crate::auth::Caller;
use crate::error::ApiResult;
use refugio_core::Role;
use refugio_db::shelters::ShelterRow;
use refugio_db::DbConnection;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ShelterView {
    pub id: String,
    pub name: String,
    /// Hidden from the public unless `public_location`.
    pub city: Option<String>,
    pub region: Option<String>,
    pub bed_capacity: Option<i64>,
    pub occupied_beds: Option<i64>,
    /// Needs still lacking money or goods.
    pub open_needs: i64,
    /// Shown to the shelter's staff, admins and auditors only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_location: Option<bool>,
}

/// Whether `caller` sees all of this shelter (its staff, admins, auditors).
pub fn sees_everything(
    conn: &mut DbConnection,
    caller: Option<&Caller>,
    shelter_id: &str,
) -> ApiResult<bool> {
    Ok(match caller {
        None => false,
        Some(c) if matches!(c.role, Role::Admin | Role::Auditor) => true,
        Some(c) if c.role == Role::Staff => {
            refugio_db::users::membership(conn, &c.user_id, shelter_id)?.is_some()
        }
        Some(_) => false,
    })
}

pub fn view(conn: &mut DbConnection, row: ShelterRow, full: bool) -> ApiResult<ShelterView> {
    let open_needs = refugio_db::needs::open_count(conn, &row.id)?;
    let located = full || row.public_location;
    Ok(ShelterView {
        open_needs,
        city: located.then(|| row.city.clone()),
        region: located.then(|| row.region.clone()),
        bed_capacity: located.then_some(row.bed_capacity),
        occupied_beds: located.then_some(row.occupied_beds),
        country: full.then(|| row.country.clone()),
        timezone: full.then(|| row.timezone.clone()),
        currency: full.then(|| row.currency.clone()),
        public_location: full.then_some(row.public_location),
        id: row.id,
        name: row.name,
    })
}

/// The shelter's currency (fixed once set), which its money must use; `404` when it is gone.
pub fn currency(conn: &mut DbConnection, shelter_id: &str) -> ApiResult<String> {
    Ok(refugio_db::shelters::find(conn, shelter_id)?
        .ok_or(crate::error::ApiError::NotFound)?
        .currency)
}
