//! Expenses: money a shelter spent, tied to the need or bill it paid for and to the allocations
//! that funded it, oldest first (ENGINE.md "Spending"), so every peso can be followed from the
//! donation to the stock it bought.

use crate::audit_log::record;
use crate::error::{ApiError, ApiResult, Conflict};
use crate::i18n::FieldIssue;
use crate::money::{money_json, money_text, MoneyJson};
use crate::services::allocations::{self, Wait};
use crate::services::stock::{record_movement, NewMovement, ShelterContext};
use chrono::{DateTime, NaiveDate, Utc};
use refugio_core::engine::needs::{bill_need_category, NeedCategory};
use refugio_core::inventory::{BillCategory, MovementKind};
use refugio_core::Quantity;
use refugio_db::bills::BillRow;
use refugio_db::expenses::{self as repo, ExpenseRow, FundingRow};
use refugio_db::needs::NeedRow;
use refugio_db::DbConnection;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

pub const DESCRIPTION_MAX: usize = 2000;
pub const RECEIPT_REF_MAX: usize = 200;

/// A validated expense (the amount already in the shelter's currency).
pub struct NewExpense {
    pub amount: i64,
    pub category: Option<NeedCategory>,
    pub description: String,
    pub spent_on: NaiveDate,
    pub need_id: Option<String>,
    pub bill_id: Option<String>,
    /// Thousandths.
    pub quantity: Option<i64>,
    pub received: Option<bool>,
    pub receipt_ref: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FundingView {
    pub donation_id: String,
    pub allocation_id: String,
    /// Shelter currency.
    pub amount: MoneyJson,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExpenseView {
    pub id: String,
    pub shelter_id: String,
    pub amount: MoneyJson,
    pub category: String,
    pub description: String,
    pub spent_on: NaiveDate,
    pub need_id: Option<String>,
    pub bill_id: Option<String>,
    pub item_id: Option<String>,
    /// Goods bought (item needs).
    #[schema(value_type = Option<f64>)]
    pub quantity: serde_json::Value,
    /// Whether the goods arrived with the expense (item needs).
    pub received: Option<bool>,
    /// Goods received so far (item needs).
    #[schema(value_type = Option<f64>)]
    pub received_quantity: serde_json::Value,
    pub receipt_ref: Option<String>,
    /// The donations' allocations it drew on, oldest first.
    pub funded_by: Vec<FundingView>,
    /// What the shelter paid from its own money.
    pub own_funds: MoneyJson,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

fn view(e: ExpenseRow, funding: Vec<FundingRow>) -> ExpenseView {
    let money = |m| money_json(m, &e.currency);
    let item = e.item_id.is_some();
    ExpenseView {
        amount: money(e.amount),
        own_funds: money(e.own_funds),
        funded_by: funding
            .into_iter()
            .map(|f| FundingView {
                amount: money(f.amount),
                donation_id: f.donation_id,
                allocation_id: f.allocation_id,
            })
            .collect(),
        quantity: Quantity::optional_json(e.quantity),
        received_quantity: if item {
            Quantity(e.received_quantity).to_json()
        } else {
            serde_json::Value::Null
        },
        recorded_at: e.recorded_at.and_utc(),
        id: e.id,
        shelter_id: e.shelter_id,
        category: e.category,
        description: e.description,
        spent_on: e.spent_on,
        need_id: e.need_id,
        bill_id: e.bill_id,
        item_id: e.item_id,
        received: e.received,
        receipt_ref: e.receipt_ref,
        recorded_by: e.recorded_by,
    }
}

/// Views of a page of expenses, with their funding.
pub fn views(conn: &mut DbConnection, rows: Vec<ExpenseRow>) -> ApiResult<Vec<ExpenseView>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut by_expense: BTreeMap<String, Vec<FundingRow>> = BTreeMap::new();
    for f in repo::funding_of(conn, &ids)? {
        by_expense.entry(f.expense_id.clone()).or_default().push(f);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let funding = by_expense.remove(&r.id).unwrap_or_default();
            view(r, funding)
        })
        .collect())
}

/// What an expense is linked to.
enum Link {
    None,
    Bill(Box<BillRow>, Option<Box<NeedRow>>),
    Item(Box<NeedRow>, String),
    Manual(Box<NeedRow>),
}

fn resolve(conn: &mut DbConnection, sid: &str, new: &NewExpense) -> ApiResult<Link> {
    if let Some(bill_id) = &new.bill_id {
        let bill = refugio_db::bills::find(conn, sid, bill_id)?
            .ok_or_else(|| ApiError::field("bill_id", FieldIssue::UnknownReference))?;
        let need = refugio_db::needs::for_bill(conn, &bill.id)?;
        return Ok(Link::Bill(Box::new(bill), need.map(Box::new)));
    }
    let Some(need_id) = &new.need_id else {
        return Ok(Link::None);
    };
    let need = refugio_db::needs::find(conn, sid, need_id)?
        .ok_or_else(|| ApiError::field("need_id", FieldIssue::UnknownReference))?;
    match (
        need.kind.as_str(),
        need.bill_id.clone(),
        need.item_id.clone(),
    ) {
        ("bill", Some(bill_id), _) => {
            let bill = refugio_db::bills::find(conn, sid, &bill_id)?
                .ok_or_else(|| ApiError::internal("bill need without its bill"))?;
            Ok(Link::Bill(Box::new(bill), Some(Box::new(need))))
        }
        ("item", _, Some(item_id)) => Ok(Link::Item(Box::new(need), item_id)),
        _ => Ok(Link::Manual(Box::new(need))),
    }
}

/// The category the link implies, if any.
fn linked_category(link: &Link) -> Option<String> {
    match link {
        Link::None => None,
        Link::Bill(bill, _) => bill
            .category
            .parse::<BillCategory>()
            .ok()
            .map(|c| bill_need_category(c).as_str().to_owned()),
        Link::Item(need, _) | Link::Manual(need) => Some(need.category.clone()),
    }
}

/// Records an expense: checks it against its link, draws on the need's unspent allocations
/// oldest first, pays the bill or brings in the goods, and recomputes the need.
pub fn create(
    conn: &mut DbConnection,
    actor: &str,
    sid: &str,
    currency: &str,
    new: NewExpense,
) -> ApiResult<ExpenseView> {
    let ctx = ShelterContext::load(conn, sid)?;
    if new.spent_on > ctx.today {
        return Err(ApiError::field("spent_on", FieldIssue::InFuture));
    }
    let link = resolve(conn, sid, &new)?;
    let category = match (linked_category(&link), new.category) {
        (Some(linked), Some(given)) if linked != given.as_str() => {
            return Err(ApiError::field(
                "category",
                FieldIssue::MustMatchLink(linked),
            ));
        }
        (Some(linked), _) => linked,
        (None, Some(given)) => given.as_str().to_owned(),
        (None, None) => return Err(ApiError::field("category", FieldIssue::Required)),
    };
    // Bills say themselves whether they can be paid; an item or manual need that ended cannot.
    if let Link::Item(need, _) | Link::Manual(need) = &link {
        if !refugio_db::needs::LIVE.contains(&need.status.as_str()) {
            return Err(ApiError::Conflict(Conflict::InvalidTransition));
        }
    }
    let is_item = matches!(link, Link::Item(..));
    if is_item && new.quantity.is_none() {
        return Err(ApiError::field("quantity", FieldIssue::Required));
    }
    if !is_item && (new.quantity.is_some() || new.received.is_some()) {
        let field = if new.quantity.is_some() {
            "quantity"
        } else {
            "received"
        };
        return Err(ApiError::field(field, FieldIssue::OnlyForItemNeeds));
    }
    // Lock order everywhere: item, then need (a stock movement locks its item, then its need).
    let need = match &link {
        Link::Item(need, item_id) => {
            refugio_db::stock::lock_on_hand(conn, item_id)?;
            Some(NeedRow::clone(need))
        }
        Link::Bill(_, need) => need.as_deref().cloned(),
        Link::Manual(need) => Some(NeedRow::clone(need)),
        Link::None => None,
    };
    if let Some(need) = &need {
        refugio_db::needs::lock(conn, &need.id)?;
    }
    match &link {
        Link::Bill(bill, _) => {
            let bill = refugio_db::bills::find(conn, sid, &bill.id)?.ok_or(ApiError::NotFound)?;
            if bill.status == "void" {
                return Err(ApiError::Conflict(Conflict::InvalidTransition));
            }
            let owed = bill.amount - bill.paid;
            if new.amount > owed {
                return Err(ApiError::field(
                    "amount.amount",
                    FieldIssue::AtMost(money_json(owed, currency).amount),
                ));
            }
        }
        Link::Manual(need) => {
            let need = refugio_db::needs::by_id(conn, &need.id)?.ok_or(ApiError::NotFound)?;
            let left = (need.manual_amount.unwrap_or(0) - need.spent).max(0);
            if new.amount > left {
                return Err(ApiError::field(
                    "amount.amount",
                    FieldIssue::AtMost(money_json(left, currency).amount),
                ));
            }
        }
        _ => {}
    }
    let now = refugio_db::now();
    let received = is_item.then(|| new.received.unwrap_or(true));
    let mut row = ExpenseRow {
        id: refugio_core::new_id(),
        shelter_id: sid.to_owned(),
        amount: new.amount,
        currency: currency.to_owned(),
        category,
        description: new.description,
        spent_on: new.spent_on,
        need_id: need.as_ref().map(|n| n.id.clone()),
        bill_id: match &link {
            Link::Bill(bill, _) => Some(bill.id.clone()),
            _ => None,
        },
        item_id: match &link {
            Link::Item(_, item) => Some(item.clone()),
            _ => None,
        },
        quantity: new.quantity.filter(|_| is_item),
        received,
        received_quantity: if received == Some(true) {
            new.quantity.unwrap_or(0)
        } else {
            0
        },
        receipt_ref: new.receipt_ref,
        own_funds: new.amount,
        recorded_by: actor.to_owned(),
        recorded_at: now,
    };
    repo::insert(conn, &row)?;
    let funding = match &need {
        Some(need) => draw(conn, need, &row.id, new.amount)?,
        None => Vec::new(),
    };
    row.own_funds = new.amount - funding.iter().map(|f| f.amount).sum::<i64>();
    repo::set_own_funds(conn, &row.id, row.own_funds)?;
    record(
        conn,
        Some(actor),
        Some(sid),
        "expense.recorded",
        ("expense", &row.id),
        json!({
            "amount": money_json(row.amount, currency),
            "own_funds": money_json(row.own_funds, currency),
            "category": row.category,
            "need_id": row.need_id,
            "bill_id": row.bill_id,
            "quantity": row.quantity,
            "received": row.received,
            "funded_by": funding.iter().map(|f| json!({"donation_id": f.donation_id,
                "allocation_id": f.allocation_id, "amount": money_json(f.amount, currency)})).collect::<Vec<_>>(),
        }),
    )?;
    match &link {
        Link::Bill(bill, _) => {
            if !refugio_db::bills::pay(conn, sid, &bill.id, row.amount, now)? {
                return Err(ApiError::Conflict(Conflict::InvalidTransition));
            }
            crate::services::needs::refresh_bill_by_id(conn, actor, sid, &bill.id)?;
        }
        Link::Item(_, item_id) => {
            if received == Some(true) {
                record_movement(
                    conn,
                    actor,
                    sid,
                    NewMovement {
                        item_id: item_id.clone(),
                        kind: MovementKind::Receipt,
                        quantity: row.quantity.unwrap_or(0),
                        occurred_at: now,
                        note: None,
                        donation_id: None,
                        expense_id: Some(row.id.clone()),
                    },
                )?;
            } else {
                crate::services::needs::refresh_item_by_id(conn, sid, item_id, None)?;
            }
        }
        Link::Manual(need) => {
            refugio_db::needs::add_spent(conn, &need.id, row.amount)?;
            crate::services::needs::refresh_need(conn, &need.id)?;
            // Bill and item recomputes settle waiting money themselves; this one does not.
            allocations::settle(conn, Wait::Skip, Some(sid))?;
        }
        Link::None => {}
    }
    if let Some(need) = &need {
        tell_donors(conn, need, &funding, &row, &ctx.name)?;
    }
    Ok(view(row, funding))
}

/// Draws `amount` on the need's unspent allocations, oldest first; returns the slices.
fn draw(
    conn: &mut DbConnection,
    need: &NeedRow,
    expense_id: &str,
    amount: i64,
) -> ApiResult<Vec<FundingRow>> {
    let mut left = amount;
    let mut slices = Vec::new();
    for a in refugio_db::donations::allocations_of_need(conn, &need.id)? {
        if left == 0 {
            break;
        }
        let take = (a.amount_local - a.spent).min(left);
        if take <= 0 {
            continue;
        }
        refugio_db::donations::add_spent(conn, &a.id, take)?;
        let slice = FundingRow {
            id: refugio_core::new_id(),
            expense_id: expense_id.to_owned(),
            allocation_id: a.id,
            donation_id: a.donation_id,
            amount: take,
        };
        repo::insert_funding(conn, &slice)?;
        slices.push(slice);
        left -= take;
    }
    Ok(slices)
}

/// Tells each donor whose money paid part of the expense, once per donation.
fn tell_donors(
    conn: &mut DbConnection,
    need: &NeedRow,
    funding: &[FundingRow],
    expense: &ExpenseRow,
    shelter_name: &str,
) -> ApiResult<()> {
    let mut per_donation: BTreeMap<&str, i64> = BTreeMap::new();
    for f in funding {
        *per_donation.entry(f.donation_id.as_str()).or_default() += f.amount;
    }
    for (donation_id, amount) in per_donation {
        let Some(d) = refugio_db::donations::find(conn, donation_id)? else {
            continue;
        };
        let Some((email, locale)) = allocations::donor_address(conn, &d.donor_id)? else {
            continue;
        };
        let message = refugio_mail::Message::NeedSpent {
            shelter_name: shelter_name.to_owned(),
            need_title: crate::services::needs::public_title(conn, need, locale)?,
            amount: money_text(amount, &expense.currency),
            spent_on: expense.spent_on,
        };
        refugio_mail::enqueue(conn, &email, locale, &message)?;
    }
    Ok(())
}

/// Counts a receipt movement against the incoming expense it names: same shelter and item,
/// goods not received with the expense, never more than bought.
pub fn receive_against(
    conn: &mut DbConnection,
    sid: &str,
    expense_id: &str,
    item_id: &str,
    quantity: i64,
) -> ApiResult<()> {
    let e = repo::find(conn, sid, expense_id)?
        .filter(|e| e.item_id.as_deref() == Some(item_id) && e.received == Some(false))
        .ok_or_else(|| ApiError::field("expense_id", FieldIssue::UnknownReference))?;
    if !repo::add_received(conn, expense_id, quantity)? {
        let left = e.quantity.unwrap_or(0) - e.received_quantity;
        return Err(ApiError::field(
            "quantity",
            FieldIssue::AtMost(Quantity(left.max(0)).to_string()),
        ));
    }
    Ok(())
}
