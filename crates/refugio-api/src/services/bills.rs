//! Bills a shelter owes: recording, editing while nothing is paid, voiding.
//!
//! A bill may be edited or voided only while it is `unpaid` with nothing paid; any other state
//! answers `409 invalid_transition`. The repository's guarded updates make that hold even when a
//! payment commits between our read and our write.

use crate::audit_log::record;
use crate::error::{ApiError, ApiResult, Conflict};
use crate::i18n::FieldIssue;
use crate::money::{money_json, MoneyJson};
use crate::validate::Fields;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use refugio_core::inventory::{BillCategory, BillStatus};
use refugio_db::bills::{self as repo, BillEdit, BillRow};
use refugio_db::DbConnection;
use serde::Serialize;
use serde_json::{json, Value};

pub const PAYEE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 2000;
pub const CATEGORIES: &[&str] = &[
    "rent",
    "electricity",
    "water",
    "gas",
    "internet",
    "phone",
    "medical",
    "transport",
    "other",
];
pub const STATUSES: &[&str] = &["unpaid", "partially_paid", "paid", "void"];
/// Due dates outside these years are refused as not real dates.
const DUE_YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// A bill as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BillView {
    pub id: String,
    pub shelter_id: String,
    pub payee: String,
    /// `rent | electricity | water | gas | internet | phone | medical | transport | other`.
    pub category: String,
    /// In the shelter's currency.
    pub amount: MoneyJson,
    /// `YYYY-MM-DD`, in the shelter's time zone.
    pub due_on: NaiveDate,
    pub description: Option<String>,
    /// How much of it expenses have paid so far.
    pub paid: MoneyJson,
    /// `unpaid | partially_paid | paid | void`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<BillRow> for BillView {
    fn from(r: BillRow) -> BillView {
        BillView {
            amount: money_json(r.amount, &r.currency),
            paid: money_json(r.paid, &r.currency),
            id: r.id,
            shelter_id: r.shelter_id,
            payee: r.payee,
            category: r.category,
            due_on: r.due_on,
            description: r.description,
            status: r.status,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// What the audit log keeps of a bill: no payee, no description (free text).
fn audit_data(r: &BillRow) -> Value {
    json!({
        "category": r.category,
        "amount": money_json(r.amount, &r.currency),
        "paid": money_json(r.paid, &r.currency),
        "due_on": r.due_on,
        "status": r.status,
    })
}

/// A bill amount: the shelter's currency, at most 2 decimals, above zero.
pub fn amount(f: &mut Fields, field: &str, input: &MoneyJson, currency: &str) -> Option<i64> {
    match f.money(field, input, currency) {
        Some(minor) if minor <= 0 => {
            f.add(format!("{field}.amount"), FieldIssue::MustBePositive);
            None
        }
        other => other,
    }
}

/// A due date: `YYYY-MM-DD` (a date of the shelter's calendar; past dates are allowed, a bill
/// may be recorded overdue).
pub fn due_on(f: &mut Fields, field: &str, input: &str) -> Option<NaiveDate> {
    match f.date(field, input) {
        Some(d) if !DUE_YEARS.contains(&d.year()) => {
            f.add(field, FieldIssue::InvalidDate);
            None
        }
        other => other,
    }
}

/// The statuses of a `?status=` comma list (`None`: all), or why it is refused.
pub fn parse_statuses(input: Option<&str>) -> ApiResult<Option<Vec<String>>> {
    let Some(input) = input.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let mut statuses = Vec::new();
    for part in input.split(',').map(str::trim) {
        let status: BillStatus = part.parse().map_err(|_| {
            ApiError::BadQuery(format!(
                "status must be a comma-separated list of: {}",
                STATUSES.join(", ")
            ))
        })?;
        statuses.push(status.as_str().to_owned());
    }
    Ok(Some(statuses))
}

/// A validated new bill.
#[derive(Debug, Clone)]
pub struct NewBill {
    pub payee: String,
    pub category: BillCategory,
    pub amount: i64,
    pub due_on: NaiveDate,
    pub description: Option<String>,
}

/// Records a bill in the shelter's currency.
pub fn create(
    conn: &mut DbConnection,
    actor: &str,
    shelter_id: &str,
    currency: &str,
    new: NewBill,
) -> ApiResult<BillView> {
    let now = refugio_db::now();
    let row = BillRow {
        id: refugio_core::new_id(),
        shelter_id: shelter_id.to_owned(),
        payee: new.payee,
        category: new.category.as_str().to_owned(),
        amount: new.amount,
        currency: currency.to_owned(),
        due_on: new.due_on,
        description: new.description,
        paid: 0,
        status: BillStatus::Unpaid.as_str().to_owned(),
        created_by: actor.to_owned(),
        created_at: now,
        updated_at: now,
    };
    repo::insert(conn, &row)?;
    record(
        conn,
        Some(actor),
        Some(shelter_id),
        "bill.created",
        ("bill", &row.id),
        audit_data(&row),
    )?;
    crate::services::needs::refresh_bill_by_id(conn, actor, shelter_id, &row.id)?;
    Ok(row.into())
}

/// Whether a bill may still be edited or voided.
fn editable(r: &BillRow) -> bool {
    r.status == BillStatus::Unpaid.as_str() && r.paid == 0
}

/// A validated edit: `None` leaves a field as it is; `description: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct BillChanges {
    pub payee: Option<String>,
    pub category: Option<BillCategory>,
    pub amount: Option<i64>,
    pub due_on: Option<NaiveDate>,
    pub description: Option<Option<String>>,
}

/// Edits a bill while it is unpaid with nothing paid (else `409`); no change, no event.
pub fn update(
    conn: &mut DbConnection,
    actor: &str,
    shelter_id: &str,
    bill_id: &str,
    changes: BillChanges,
) -> ApiResult<BillView> {
    let mut row = repo::find(conn, shelter_id, bill_id)?.ok_or(ApiError::NotFound)?;
    if !editable(&row) {
        return Err(ApiError::Conflict(Conflict::InvalidTransition));
    }
    let mut changed: Vec<&str> = Vec::new();
    macro_rules! apply {
        ($field:ident, $value:expr) => {
            if let Some(v) = $value {
                if row.$field != v {
                    row.$field = v;
                    changed.push(stringify!($field));
                }
            }
        };
    }
    apply!(payee, changes.payee);
    apply!(category, changes.category.map(|c| c.as_str().to_owned()));
    apply!(amount, changes.amount);
    apply!(due_on, changes.due_on);
    apply!(description, changes.description);
    if changed.is_empty() {
        return Ok(row.into());
    }
    row.updated_at = refugio_db::now();
    let edit = BillEdit {
        payee: row.payee.clone(),
        category: row.category.clone(),
        amount: row.amount,
        due_on: row.due_on,
        description: row.description.clone(),
        updated_at: row.updated_at,
    };
    if repo::update_unpaid(conn, shelter_id, bill_id, &edit)? == 0 {
        // Paid or voided since we read it.
        return Err(ApiError::Conflict(Conflict::InvalidTransition));
    }
    let mut data = audit_data(&row);
    data["changed"] = json!(changed);
    record(
        conn,
        Some(actor),
        Some(shelter_id),
        "bill.updated",
        ("bill", bill_id),
        data,
    )?;
    crate::services::needs::refresh_bill_by_id(conn, actor, shelter_id, bill_id)?;
    Ok(row.into())
}

/// Voids a bill while it is unpaid with nothing paid (else `409`).
pub fn void(
    conn: &mut DbConnection,
    actor: &str,
    shelter_id: &str,
    bill_id: &str,
) -> ApiResult<BillView> {
    let mut row = repo::find(conn, shelter_id, bill_id)?.ok_or(ApiError::NotFound)?;
    if !editable(&row) {
        return Err(ApiError::Conflict(Conflict::InvalidTransition));
    }
    let now = refugio_db::now();
    if repo::void_unpaid(conn, shelter_id, bill_id, now)? == 0 {
        return Err(ApiError::Conflict(Conflict::InvalidTransition));
    }
    row.status = BillStatus::Void.as_str().to_owned();
    row.updated_at = now;
    let mut data = audit_data(&row);
    data["previous_status"] = json!(BillStatus::Unpaid.as_str());
    record(
        conn,
        Some(actor),
        Some(shelter_id),
        "bill.voided",
        ("bill", bill_id),
        data,
    )?;
    crate::services::needs::refresh_bill_by_id(conn, actor, shelter_id, bill_id)?;
    Ok(row.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spellings_match_the_core_enums() {
        let categories: Vec<&str> = BillCategory::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(categories, CATEGORIES);
        let statuses: Vec<&str> = BillStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(statuses, STATUSES);
    }

    #[test]
    fn status_lists_parse_or_are_refused() {
        assert!(matches!(parse_statuses(None), Ok(None)));
        assert!(matches!(parse_statuses(Some(" ")), Ok(None)));
        assert!(matches!(
            parse_statuses(Some("unpaid, partially_paid")),
            Ok(Some(v)) if v == ["unpaid", "partially_paid"]
        ));
        assert!(matches!(
            parse_statuses(Some("unpaid,owed")),
            Err(ApiError::BadQuery(_))
        ));
        assert!(matches!(
            parse_statuses(Some("unpaid,")),
            Err(ApiError::BadQuery(_))
        ));
    }
}
