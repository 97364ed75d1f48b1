//! Donations: money (pledged, then received by an admin and allocated) and goods in kind
//! (pledged against an item need, received by the shelter, cancelled or expired).

use crate::audit_log::record;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Conflict};
use crate::i18n::FieldIssue;
use crate::money::{money_json, money_text, MoneyJson};
use crate::services::allocations::{self, Wait};
use crate::services::stock::{record_movement, NewMovement};
use chrono::{DateTime, NaiveDate, Utc};
use refugio_core::engine::needs::NeedCategory;
use refugio_core::inventory::MovementKind;
use refugio_core::money::Money;
use refugio_core::{Quantity, Role};
use refugio_db::donations::{self as repo, AllocationRow, DonationRow};
use refugio_db::needs::NeedRow;
use refugio_db::DbConnection;
use serde::Serialize;
use serde_json::json;

/// What money may pay for, as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restriction {
    None,
    Need(String),
    /// Any of a shelter and a category (at least one is set).
    Scope {
        shelter_id: Option<String>,
        category: Option<NeedCategory>,
    },
}

/// A validated money pledge.
pub struct NewMoney {
    pub amount: Money,
    pub restriction: Restriction,
    pub note: Option<String>,
}

/// A validated in-kind pledge.
pub struct NewInKind {
    pub need_id: String,
    /// Thousandths.
    pub quantity: i64,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RestrictionView {
    pub need_id: Option<String>,
    pub shelter_id: Option<String>,
    pub category: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AllocationView {
    pub id: String,
    pub need_id: String,
    pub shelter_id: String,
    /// Donation currency: what the allocation holds now (after releases).
    pub amount: MoneyJson,
    /// Shelter currency: `round_half_even(amount × fx_rate)`, capped at what the need lacked.
    pub amount_local: MoneyJson,
    /// The rate used, donation currency → shelter currency (decimal string).
    pub fx_rate: String,
    /// Money returned from it to the donation so far (donation currency).
    pub released: MoneyJson,
    /// What expenses drew from it (shelter currency).
    pub spent: MoneyJson,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SpentView {
    pub expense_id: String,
    pub shelter_id: String,
    /// The part this donation paid, in the shelter's currency.
    pub amount: MoneyJson,
    pub spent_on: NaiveDate,
    pub description: String,
}

/// A donation as the API shows it; fields that do not apply to its kind are null.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DonationView {
    pub id: String,
    /// `money | in_kind`.
    pub kind: String,
    /// `pledged | received | cancelled | expired`.
    pub status: String,
    pub donor_id: String,
    /// Money: the gift.
    pub amount: Option<MoneyJson>,
    /// Money: what it may pay for (null: anything).
    pub restriction: Option<RestrictionView>,
    /// The shelter it is for, when it is for one.
    pub shelter_id: Option<String>,
    /// In kind: the item need and item pledged to.
    pub need_id: Option<String>,
    pub item_id: Option<String>,
    #[schema(value_type = Option<f64>)]
    pub quantity: serde_json::Value,
    #[schema(value_type = Option<f64>)]
    pub received_quantity: serde_json::Value,
    pub note: Option<String>,
    pub pledged_at: DateTime<Utc>,
    /// In kind: when an unreceived pledge expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub received_on: Option<NaiveDate>,
    pub received_at: Option<DateTime<Utc>>,
    pub allocations: Vec<AllocationView>,
    /// Money received and not allocated (null until received).
    pub unallocated: Option<MoneyJson>,
    pub spent: Vec<SpentView>,
}

pub fn allocation_view(a: AllocationRow) -> AllocationView {
    AllocationView {
        amount: money_json(a.amount, &a.currency),
        amount_local: money_json(a.amount_local, &a.local_currency),
        fx_rate: refugio_core::engine::allocation::Rate::from_millionths(a.fx_rate)
            .map(|r| r.as_decimal())
            .unwrap_or_default(),
        released: money_json(a.released, &a.currency),
        spent: money_json(a.spent, &a.local_currency),
        created_at: a.created_at.and_utc(),
        id: a.id,
        need_id: a.need_id,
        shelter_id: a.shelter_id,
    }
}

/// The full view: the row, its allocations and what they paid for.
pub fn view(conn: &mut DbConnection, d: DonationRow) -> ApiResult<DonationView> {
    let allocations = repo::allocations_of_donation(conn, &d.id)?
        .into_iter()
        .map(allocation_view)
        .collect();
    let spent = refugio_db::expenses::spent_from_donation(conn, &d.id)?
        .into_iter()
        .map(|(f, e)| SpentView {
            expense_id: e.id,
            shelter_id: e.shelter_id,
            amount: money_json(f.amount, &e.currency),
            spent_on: e.spent_on,
            description: e.description,
        })
        .collect();
    let restriction = (d.kind == "money"
        && (d.restriction_need_id.is_some()
            || d.restriction_shelter_id.is_some()
            || d.restriction_category.is_some()))
    .then(|| RestrictionView {
        need_id: d.restriction_need_id.clone(),
        shelter_id: d.restriction_shelter_id.clone(),
        category: d.restriction_category.clone(),
    });
    let currency = d.currency.clone().unwrap_or_default();
    Ok(DonationView {
        amount: d.amount.map(|a| money_json(a, &currency)),
        unallocated: d.unallocated.map(|a| money_json(a, &currency)),
        quantity: Quantity::optional_json(d.quantity),
        received_quantity: Quantity::optional_json(d.received_quantity),
        pledged_at: d.pledged_at.and_utc(),
        expires_at: d.expires_at.map(|t| t.and_utc()),
        received_at: d.received_at.map(|t| t.and_utc()),
        restriction,
        allocations,
        spent,
        id: d.id,
        kind: d.kind,
        status: d.status,
        donor_id: d.donor_id,
        shelter_id: d.shelter_id,
        need_id: d.need_id,
        item_id: d.item_id,
        note: d.note,
        received_on: d.received_on,
    })
}

/// Whether the caller may see this donation: its donor, admins, auditors, and for goods the
/// staff of the shelter that receives them.
pub fn can_see(conn: &mut DbConnection, caller: &Caller, d: &DonationRow) -> ApiResult<bool> {
    Ok(match caller.role {
        Role::Admin | Role::Auditor => true,
        Role::Donor => d.donor_id == caller.user_id,
        Role::Staff => match (&d.kind[..], &d.shelter_id) {
            ("in_kind", Some(shelter)) => {
                refugio_db::users::membership(conn, &caller.user_id, shelter)?.is_some()
            }
            _ => false,
        },
    })
}

/// A donation the caller may see, else `404` (existence never leaks).
pub fn visible(conn: &mut DbConnection, caller: &Caller, id: &str) -> ApiResult<DonationRow> {
    let d = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    if can_see(conn, caller, &d)? {
        Ok(d)
    } else {
        Err(ApiError::NotFound)
    }
}

fn ended(need: &NeedRow) -> bool {
    !refugio_db::needs::LIVE.contains(&need.status.as_str())
}

/// Records a money pledge. A restriction must name things that exist; a need must be live and
/// priced (money cannot buy what has no unit cost).
pub fn pledge_money(
    conn: &mut DbConnection,
    donor: &str,
    new: NewMoney,
) -> ApiResult<DonationView> {
    let (need_id, shelter_id, category) = match &new.restriction {
        Restriction::None => (None, None, None),
        Restriction::Need(id) => {
            let need = refugio_db::needs::by_id(conn, id)?.ok_or_else(|| {
                ApiError::field("restriction.need_id", FieldIssue::UnknownReference)
            })?;
            if ended(&need) {
                return Err(ApiError::field(
                    "restriction.need_id",
                    FieldIssue::NeedEnded,
                ));
            }
            if need.amount_needed.is_none() {
                return Err(ApiError::field(
                    "restriction.need_id",
                    FieldIssue::NeedWithoutUnitCost,
                ));
            }
            (Some(need.id), Some(need.shelter_id), None)
        }
        Restriction::Scope {
            shelter_id,
            category,
        } => {
            if let Some(s) = shelter_id {
                if !refugio_db::shelters::exists(conn, s)? {
                    return Err(ApiError::field(
                        "restriction.shelter_id",
                        FieldIssue::UnknownReference,
                    ));
                }
            }
            (
                None,
                shelter_id.clone(),
                category.map(|c| c.as_str().to_owned()),
            )
        }
    };
    let now = refugio_db::now();
    let restriction_shelter = if need_id.is_some() {
        None
    } else {
        shelter_id.clone()
    };
    let row = DonationRow {
        id: refugio_core::new_id(),
        donor_id: donor.to_owned(),
        kind: "money".into(),
        status: "pledged".into(),
        currency: Some(new.amount.currency.as_str().to_owned()),
        amount: Some(new.amount.minor),
        unallocated: None,
        restriction_need_id: need_id,
        restriction_shelter_id: restriction_shelter,
        restriction_category: category,
        shelter_id,
        need_id: None,
        item_id: None,
        quantity: None,
        received_quantity: None,
        note: new.note,
        pledged_at: now,
        expires_at: None,
        received_on: None,
        received_at: None,
        received_by: None,
        closed_at: None,
        updated_at: now,
    };
    repo::insert(conn, &row)?;
    record(
        conn,
        Some(donor),
        None,
        "donation.pledged",
        ("donation", &row.id),
        json!({
            "kind": "money",
            "amount": money_json(new.amount.minor, new.amount.currency.as_str()),
            "restriction": {"need_id": row.restriction_need_id, "shelter_id": row.restriction_shelter_id,
                "category": row.restriction_category},
        }),
    )?;
    view(conn, row)
}

/// Records an in-kind pledge against a live item need, never beyond what is still unpledged.
pub fn pledge_goods(
    conn: &mut DbConnection,
    donor: &str,
    new: NewInKind,
    ttl: chrono::Duration,
) -> ApiResult<DonationView> {
    let need = refugio_db::needs::by_id(conn, &new.need_id)?
        .ok_or_else(|| ApiError::field("need_id", FieldIssue::UnknownReference))?;
    let Some(item_id) = need.item_id.clone().filter(|_| need.kind == "item") else {
        return Err(ApiError::field("need_id", FieldIssue::NotAnItemNeed));
    };
    if ended(&need) {
        return Err(ApiError::field("need_id", FieldIssue::NeedEnded));
    }
    // Concurrent pledges for one item queue here, so they cannot together exceed the need.
    refugio_db::stock::lock_on_hand(conn, &item_id)?;
    let pledged = repo::pledged_for_item(conn, &item_id)?;
    let left = (need.quantity.unwrap_or(0) - pledged).max(0);
    if new.quantity > left {
        return Err(ApiError::field(
            "quantity",
            FieldIssue::AtMost(Quantity(left).to_string()),
        ));
    }
    let now = refugio_db::now();
    let row = DonationRow {
        id: refugio_core::new_id(),
        donor_id: donor.to_owned(),
        kind: "in_kind".into(),
        status: "pledged".into(),
        currency: None,
        amount: None,
        unallocated: None,
        restriction_need_id: None,
        restriction_shelter_id: None,
        restriction_category: None,
        shelter_id: Some(need.shelter_id.clone()),
        need_id: Some(need.id.clone()),
        item_id: Some(item_id.clone()),
        quantity: Some(new.quantity),
        received_quantity: None,
        note: new.note,
        pledged_at: now,
        expires_at: Some(now + ttl),
        received_on: None,
        received_at: None,
        received_by: None,
        closed_at: None,
        updated_at: now,
    };
    repo::insert(conn, &row)?;
    record(
        conn,
        Some(donor),
        Some(&need.shelter_id),
        "donation.pledged",
        ("donation", &row.id),
        json!({"kind": "in_kind", "need_id": need.id, "item_id": item_id, "quantity": new.quantity}),
    )?;
    // Pledged goods count as covered: the need moves, and money it no longer lacks is released.
    crate::services::needs::refresh_item_by_id(conn, &need.shelter_id, &item_id, None)?;
    view(conn, row)
}

/// Confirms money arrived (admins) and allocates it. Money pledged to a need that ended
/// meanwhile goes to that need's shelter and category instead, and its donor is told.
pub fn receive_money(
    conn: &mut DbConnection,
    actor: &str,
    id: &str,
    received_on: NaiveDate,
) -> ApiResult<DonationView> {
    let d = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    if d.status != "pledged" {
        return Err(ApiError::Conflict(Conflict::InvalidTransition));
    }
    let now = refugio_db::now();
    if let Some(need_id) = &d.restriction_need_id {
        if let Some(need) = refugio_db::needs::by_id(conn, need_id)?.filter(ended) {
            allocations::widen(conn, &d, &need, now)?;
        }
    }
    if !repo::receive_money(conn, id, received_on, actor, now)? {
        return Err(ApiError::Conflict(Conflict::InvalidTransition));
    }
    let currency = d.currency.clone().unwrap_or_default();
    record(
        conn,
        Some(actor),
        None,
        "donation.received",
        ("donation", id),
        json!({"kind": "money", "amount": money_json(d.amount.unwrap_or(0), &currency),
            "received_on": received_on}),
    )?;
    allocations::settle(conn, Wait::Block, None)?;
    let d = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    send_receipt(conn, &d)?;
    view(conn, d)
}

/// The donor's receipt: what arrived and where it went.
fn send_receipt(conn: &mut DbConnection, d: &DonationRow) -> ApiResult<()> {
    let Some((email, locale)) = allocations::donor_address(conn, &d.donor_id)? else {
        return Ok(());
    };
    let currency = d.currency.clone().unwrap_or_default();
    let text = |minor: i64| money_text(minor, &currency);
    let allocations = repo::allocations_of_donation(conn, &d.id)?;
    let ids: Vec<String> = allocations.iter().map(|a| a.need_id.clone()).collect();
    let needs: std::collections::HashMap<String, NeedRow> = refugio_db::needs::by_ids(conn, &ids)?
        .into_iter()
        .map(|n| (n.id.clone(), n))
        .collect();
    // An unrestricted gift can reach a hundred shelters: their names in one query.
    let shelter_ids: Vec<String> = allocations.iter().map(|a| a.shelter_id.clone()).collect();
    let shelters: std::collections::HashMap<String, String> =
        refugio_db::shelters::find_many(conn, &shelter_ids)?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
    let mut lines = Vec::new();
    for a in allocations {
        let Some(need) = needs.get(&a.need_id) else {
            continue;
        };
        lines.push(refugio_mail::AllocatedLine {
            shelter_name: shelters.get(&a.shelter_id).cloned().unwrap_or_default(),
            need_title: crate::services::needs::public_title(conn, need, locale)?,
            amount: text(a.amount),
        });
    }
    let unallocated = d.unallocated.filter(|u| *u > 0).map(text);
    let message = refugio_mail::Message::DonationReceived {
        amount: text(d.amount.unwrap_or(0)),
        allocations: lines,
        unallocated,
    };
    refugio_mail::enqueue(conn, &email, locale, &message)?;
    Ok(())
}

/// Receives pledged goods (the shelter's staff, admins): all, or fewer, which closes the pledge
/// short. The receipt movement names the donation. Stays receivable after its need ended.
pub fn receive_goods(
    conn: &mut DbConnection,
    actor: &str,
    d: &DonationRow,
    quantity: Option<i64>,
) -> ApiResult<DonationView> {
    if d.status != "pledged" {
        return Err(ApiError::Conflict(Conflict::InvalidTransition));
    }
    let pledged = d.quantity.unwrap_or(0);
    let quantity = quantity.unwrap_or(pledged);
    if quantity > pledged {
        return Err(ApiError::field(
            "quantity",
            FieldIssue::AtMost(Quantity(pledged).to_string()),
        ));
    }
    let (Some(shelter_id), Some(item_id)) = (d.shelter_id.clone(), d.item_id.clone()) else {
        return Err(ApiError::internal(
            "in-kind donation without shelter or item",
        ));
    };
    let now = refugio_db::now();
    if !repo::receive_goods(conn, &d.id, quantity, actor, now)? {
        return Err(ApiError::Conflict(Conflict::InvalidTransition));
    }
    record(
        conn,
        Some(actor),
        Some(&shelter_id),
        "donation.received",
        ("donation", &d.id),
        json!({"kind": "in_kind", "item_id": item_id, "quantity": quantity, "pledged": pledged}),
    )?;
    record_movement(
        conn,
        actor,
        &shelter_id,
        NewMovement {
            item_id,
            kind: MovementKind::Receipt,
            quantity,
            occurred_at: now,
            note: None,
            donation_id: Some(d.id.clone()),
            expense_id: None,
        },
    )?;
    // The receipt's recompute settles any money the need no longer lacks.
    let d = repo::find(conn, &d.id)?.ok_or(ApiError::NotFound)?;
    view(conn, d)
}

/// Who may receive a donation: money only admins; goods the staff of its shelter and admins.
/// Roles that never may are `403`; staff of another shelter `404`.
pub fn may_receive(conn: &mut DbConnection, caller: &Caller, d: &DonationRow) -> ApiResult<()> {
    match (caller.role, d.kind.as_str()) {
        (Role::Admin, _) => Ok(()),
        (Role::Staff, "in_kind") if can_see(conn, caller, d)? => Ok(()),
        (Role::Staff, _) => Err(ApiError::NotFound),
        _ => Err(ApiError::Forbidden),
    }
}

/// Cancels a pledge (its donor, the shelter's staff for goods, admins) while still pledged.
pub fn cancel(conn: &mut DbConnection, caller: &Caller, id: &str) -> ApiResult<DonationView> {
    let d = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let allowed = match caller.role {
        Role::Admin => true,
        Role::Donor => d.donor_id == caller.user_id,
        Role::Staff => can_see(conn, caller, &d)?,
        Role::Auditor => return Err(ApiError::Forbidden),
    };
    if !allowed {
        return Err(ApiError::NotFound);
    }
    close(conn, Some(&caller.user_id), &d, "cancelled")?;
    let d = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    view(conn, d)
}

/// Ends a pledge as `cancelled` or `expired`, and lets the item's need see the goods are not
/// coming.
fn close(
    conn: &mut DbConnection,
    actor: Option<&str>,
    d: &DonationRow,
    status: &str,
) -> ApiResult<()> {
    if !repo::close_pledge(conn, &d.id, status, refugio_db::now())? {
        return Err(ApiError::Conflict(Conflict::InvalidTransition));
    }
    let shelter = if d.kind == "in_kind" {
        d.shelter_id.as_deref()
    } else {
        None
    };
    record(
        conn,
        actor,
        shelter,
        &format!("donation.{status}"),
        ("donation", &d.id),
        json!({"kind": d.kind, "status": status}),
    )?;
    if let (Some(shelter_id), Some(item_id)) = (shelter, d.item_id.as_deref()) {
        crate::services::needs::refresh_item_by_id(conn, shelter_id, item_id, None)?;
    }
    Ok(())
}

/// Expires in-kind pledges left unreceived past their time, each in its own transaction, and
/// tells their donors. Returns how many expired.
pub fn expire_pledges(pool: &refugio_db::Pool) -> ApiResult<usize> {
    let mut conn = pool.get()?;
    let due = repo::expired_pledges(&mut conn, refugio_db::now(), 500)?;
    let mut done = 0;
    for d in due {
        let expired = refugio_db::write_transaction(&mut conn, |c| -> ApiResult<bool> {
            match close(c, None, &d, "expired") {
                Ok(()) => {}
                Err(ApiError::Conflict(_)) => return Ok(false),
                Err(e) => return Err(e),
            }
            tell_expired(c, &d)?;
            Ok(true)
        })?;
        done += usize::from(expired);
    }
    Ok(done)
}

fn tell_expired(conn: &mut DbConnection, d: &DonationRow) -> ApiResult<()> {
    let Some((email, locale)) = allocations::donor_address(conn, &d.donor_id)? else {
        return Ok(());
    };
    let need = match d.need_id.as_deref() {
        Some(id) => refugio_db::needs::by_id(conn, id)?,
        None => None,
    };
    let (title, unit) = need
        .as_ref()
        .map(|n| (n.title.clone(), n.unit.clone().unwrap_or_default()))
        .unwrap_or_default();
    let message = refugio_mail::Message::PledgeExpired {
        shelter_name: allocations::shelter_name(conn, d.shelter_id.as_deref().unwrap_or(""))?,
        need_title: title,
        quantity: format!("{} {unit}", Quantity(d.quantity.unwrap_or(0))),
    };
    refugio_mail::enqueue(conn, &email, locale, &message)?;
    Ok(())
}
