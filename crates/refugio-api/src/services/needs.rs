//! Keeping needs current: every change that moves a need recomputes it in the same
//! transaction (only the affected items), and once a day per shelter after local midnight.

use crate::audit_log::record;
use crate::error::{ApiError, ApiResult, Conflict};
use crate::services::stock::{item_levels, local_date, Observed, ShelterContext};
use refugio_core::engine::demand::Levels;
use refugio_core::engine::drivers::Driver;
use refugio_core::engine::needs::{
    bill_need_category, evaluate_bill, evaluate_item, evaluate_manual, item_opens_need, Evaluation,
    ItemInputs, NeedCategory, NeedKind, NeedStatus,
};
use refugio_core::engine::priority::Band;
use refugio_core::inventory::{Basis, BillCategory, Criticality};
use refugio_core::Locale;
use refugio_db::bills::BillRow;
use refugio_db::items::ItemRow;
use refugio_db::needs::{NeedFigures, NeedRow};
use refugio_db::DbConnection;
use serde_json::json;

/// Drivers as stored: each with its text in both languages.
fn drivers_json(drivers: &[Driver], unit: &str) -> String {
    let list: Vec<_> = drivers
        .iter()
        .map(|d| json!({"code": d.code(), "es": d.text(Locale::Es, unit), "en": d.text(Locale::En, unit)}))
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// The stored figures of an evaluation.
fn figures(
    e: &Evaluation,
    title: &str,
    unit: Option<&str>,
    category: &str,
    alerted: bool,
    now: chrono::NaiveDateTime,
) -> NeedFigures {
    NeedFigures {
        title: title.to_owned(),
        unit: unit.map(str::to_owned),
        category: category.to_owned(),
        criticality: e.criticality.as_str().into(),
        quantity: e.quantity,
        amount_needed: e.amount_needed,
        amount_covered: e.amount_covered,
        amount_open: e.amount_open,
        status: e.status.as_str().into(),
        score: e.score,
        band: e.band.as_str().into(),
        band_rank: e.band.rank(),
        days_left: e.days_left.map(|d| d.thousandths()),
        drivers: drivers_json(&e.drivers, unit.unwrap_or("")),
        alerted,
        updated_at: now,
        computed_at: now,
        closed_at: e.status.is_final().then_some(now),
    }
}

/// Tells the shelter's managers and coordinators, once, that a need turned critical.
/// Returns the need's new `alerted` flag: set while critical, cleared once it leaves the band.
fn alert_on_critical(
    conn: &mut DbConnection,
    ctx: &ShelterContext,
    e: &Evaluation,
    title: &str,
    unit: &str,
    was_alerted: bool,
) -> ApiResult<bool> {
    if e.band != Band::Critical || e.status.is_final() {
        return Ok(false);
    }
    if was_alerted {
        return Ok(true);
    }
    for (_, user) in refugio_db::users::members_of(conn, &ctx.id)? {
        if !user.active {
            continue;
        }
        let locale = user.locale.parse().unwrap_or(Locale::Es);
        let drivers = e.drivers.iter().map(|d| d.text(locale, unit)).collect();
        let message = refugio_mail::Message::NeedCritical {
            shelter_name: ctx.name.clone(),
            title: title.to_owned(),
            drivers,
        };
        refugio_mail::enqueue(conn, &user.email, locale, &message)?;
    }
    Ok(true)
}

/// What a need is about, as shown: its title, unit and need category.
struct Subject<'a> {
    title: &'a str,
    unit: Option<&'a str>,
    category: &'a str,
}

/// Writes a recomputed need, recording transitions to a final status in the audit log.
fn store(
    conn: &mut DbConnection,
    ctx: &ShelterContext,
    need: &NeedRow,
    e: &Evaluation,
    subject: &Subject<'_>,
) -> ApiResult<()> {
    let alerted = if need.kind == NeedKind::Item.as_str() {
        alert_on_critical(
            conn,
            ctx,
            e,
            subject.title,
            subject.unit.unwrap_or(""),
            need.alerted,
        )?
    } else {
        false
    };
    let f = figures(
        e,
        subject.title,
        subject.unit,
        subject.category,
        alerted,
        ctx.now,
    );
    refugio_db::needs::update_figures(conn, &need.id, &f)?;
    if e.status.as_str() != need.status && e.status.is_final() {
        record(
            conn,
            None,
            Some(&ctx.id),
            &format!("need.{}", e.status.as_str()),
            ("need", &need.id),
            json!({"status": e.status.as_str()}),
        )?;
    }
    Ok(())
}

/// Opens a need with its first evaluation.
#[allow(clippy::too_many_arguments)]
fn open(
    conn: &mut DbConnection,
    ctx: &ShelterContext,
    kind: NeedKind,
    ids: (Option<&str>, Option<&str>),
    category: &str,
    title: &str,
    unit: Option<&str>,
    e: &Evaluation,
    actor: Option<&str>,
) -> ApiResult<NeedRow> {
    // Alerts are for goods running out; bills and manual needs show their urgency on the board.
    let alerted = kind == NeedKind::Item
        && alert_on_critical(conn, ctx, e, title, unit.unwrap_or(""), false)?;
    let f = figures(e, title, unit, category, alerted, ctx.now);
    let row = NeedRow {
        id: refugio_core::new_id(),
        shelter_id: ctx.id.clone(),
        kind: kind.as_str().into(),
        item_id: ids.0.map(str::to_owned),
        bill_id: ids.1.map(str::to_owned),
        category: f.category,
        title: f.title,
        unit: f.unit,
        criticality: f.criticality,
        currency: ctx.currency.clone(),
        quantity: f.quantity,
        amount_needed: f.amount_needed,
        amount_covered: f.amount_covered,
        amount_open: f.amount_open,
        status: f.status,
        score: f.score,
        band: f.band,
        band_rank: f.band_rank,
        days_left: f.days_left,
        drivers: f.drivers,
        manual_amount: None,
        spent: 0,
        needed_by: None,
        alerted,
        created_by: actor.map(str::to_owned),
        opened_at: ctx.now,
        updated_at: ctx.now,
        computed_at: ctx.now,
        closed_at: f.closed_at,
    };
    refugio_db::needs::insert(conn, &row)?;
    let data = json!({"kind": row.kind, "item_id": row.item_id, "bill_id": row.bill_id, "quantity": row.quantity,
        "amount_needed": row.amount_needed, "band": row.band});
    record(
        conn,
        actor,
        Some(&ctx.id),
        "need.opened",
        ("need", &row.id),
        data,
    )?;
    Ok(row)
}

fn item_inputs(ctx: &ShelterContext, item: &ItemRow, levels: Levels) -> ItemInputs {
    ItemInputs {
        criticality: item.criticality.parse().unwrap_or(Criticality::Essential),
        basis: item.basis.parse().unwrap_or(Basis::Consumable),
        lead_days: item.lead_days,
        occupied: ctx.occupied,
        per_person: item.per_person,
        levels,
        on_hand: item.on_hand,
        // Incoming goods, in-kind pledges and allocations arrive with donations and expenses.
        incoming: 0,
        pledged: 0,
        allocated: 0,
        unit_cost: item.unit_cost,
    }
}

/// Recomputes the needs of `items` (one shelter's); `only` is set when a single item changed.
pub fn refresh_items(
    conn: &mut DbConnection,
    ctx: &ShelterContext,
    items: &[ItemRow],
    only: Option<&str>,
    observed: Observed,
) -> ApiResult<()> {
    let levels = item_levels(conn, ctx, items, only, observed)?;
    for (item, levels) in items.iter().zip(levels) {
        refresh_item(conn, ctx, item, levels)?;
    }
    Ok(())
}

fn refresh_item(
    conn: &mut DbConnection,
    ctx: &ShelterContext,
    item: &ItemRow,
    levels: Levels,
) -> ApiResult<()> {
    let inputs = item_inputs(ctx, item, levels);
    let mut suppressed = refugio_db::needs::item_suppressed(conn, &item.id)?;
    if suppressed && item.on_hand >= levels.reorder_point {
        refugio_db::needs::set_item_suppressed(conn, &item.id, false)?;
        suppressed = false;
    }
    match refugio_db::needs::live_for_item(conn, &item.id)? {
        Some(need) => {
            let subject = Subject {
                title: &item.name,
                unit: Some(&item.unit),
                category: &item.category,
            };
            store(conn, ctx, &need, &evaluate_item(&inputs), &subject)
        }
        None if item.first_movement_at.is_some() && !suppressed && item_opens_need(&inputs) => {
            let e = evaluate_item(&inputs);
            open(
                conn,
                ctx,
                NeedKind::Item,
                (Some(&item.id), None),
                &item.category,
                &item.name,
                Some(&item.unit),
                &e,
                None,
            )
            .map(drop)
        }
        None => Ok(()),
    }
}

/// Recomputes one item's need after a movement or an edit.
pub fn refresh_item_by_id(
    conn: &mut DbConnection,
    shelter_id: &str,
    item_id: &str,
    movement: Option<&refugio_db::stock::MovementRow>,
) -> ApiResult<()> {
    let ctx = ShelterContext::load(conn, shelter_id)?;
    let item = refugio_db::items::find(conn, shelter_id, item_id)?.ok_or(ApiError::NotFound)?;
    // Today's use is not in the observed window (it ends yesterday); a count or a backdated
    // movement can change past days, so only those recompute it.
    let rewrites_past = movement
        .is_some_and(|m| m.kind == "count" || local_date(&ctx.tz, m.occurred_at) < ctx.today);
    let observed = if rewrites_past {
        Observed::Recompute
    } else {
        Observed::Refresh
    };
    refresh_items(
        conn,
        &ctx,
        std::slice::from_ref(&item),
        Some(item_id),
        observed,
    )
}

/// Recomputes a bill's need: opened with the bill, cancelled when `actor` voids it.
pub fn refresh_bill(
    conn: &mut DbConnection,
    ctx: &ShelterContext,
    bill: &BillRow,
    actor: Option<&str>,
) -> ApiResult<()> {
    let category: BillCategory = bill.category.parse().map_err(ApiError::internal)?;
    let need = refugio_db::needs::for_bill(conn, &bill.id)?;
    if bill.status == "void" {
        if let Some(need) = need.filter(|n| !is_final(&n.status)) {
            close(conn, ctx, &need, NeedStatus::Cancelled, actor)?;
        }
        return Ok(());
    }
    // Allocations arrive with donations.
    let e = evaluate_bill(category, bill.amount, bill.paid, 0, bill.due_on, ctx.today);
    let need_category = bill_need_category(category).as_str();
    match need {
        Some(need) if is_final(&need.status) => Ok(()),
        Some(need) => store(
            conn,
            ctx,
            &need,
            &e,
            &Subject {
                title: &bill.payee,
                unit: None,
                category: need_category,
            },
        ),
        None => open(
            conn,
            ctx,
            NeedKind::Bill,
            (None, Some(&bill.id)),
            need_category,
            &bill.payee,
            None,
            &e,
            None,
        )
        .map(drop),
    }
}

/// Recomputes the need of the bill with this id after `actor` changed the bill.
pub fn refresh_bill_by_id(
    conn: &mut DbConnection,
    actor: &str,
    shelter_id: &str,
    bill_id: &str,
) -> ApiResult<()> {
    let ctx = ShelterContext::load(conn, shelter_id)?;
    let bill = refugio_db::bills::find(conn, shelter_id, bill_id)?.ok_or(ApiError::NotFound)?;
    refresh_bill(conn, &ctx, &bill, Some(actor))
}

fn refresh_manual(conn: &mut DbConnection, ctx: &ShelterContext, need: &NeedRow) -> ApiResult<()> {
    let criticality = need.criticality.parse().unwrap_or(Criticality::Essential);
    let e = evaluate_manual(
        criticality,
        need.manual_amount.unwrap_or(0),
        need.spent,
        0,
        need.needed_by,
        ctx.today,
    );
    store(
        conn,
        ctx,
        need,
        &e,
        &Subject {
            title: &need.title,
            unit: None,
            category: &need.category,
        },
    )
}

/// Recomputes every need of a shelter: its items (which may open needs), bills and manual needs.
pub fn refresh_shelter(conn: &mut DbConnection, shelter_id: &str) -> ApiResult<()> {
    let ctx = ShelterContext::load(conn, shelter_id)?;
    let items = refugio_db::items::all(conn, shelter_id)?;
    refresh_items(conn, &ctx, &items, None, Observed::Refresh)?;
    for need in refugio_db::needs::live_in_shelter(conn, shelter_id)? {
        match need.kind.as_str() {
            "bill" => {
                if let Some(bill) = need
                    .bill_id
                    .as_deref()
                    .map(|b| refugio_db::bills::find(conn, shelter_id, b))
                    .transpose()?
                    .flatten()
                {
                    refresh_bill(conn, &ctx, &bill, None)?;
                }
            }
            "manual" => refresh_manual(conn, &ctx, &need)?,
            _ => {}
        }
    }
    Ok(())
}

fn is_final(status: &str) -> bool {
    status.parse::<NeedStatus>().is_ok_and(NeedStatus::is_final)
}

/// Ends a need (fulfilled or cancelled) and records it.
fn close(
    conn: &mut DbConnection,
    ctx: &ShelterContext,
    need: &NeedRow,
    status: NeedStatus,
    actor: Option<&str>,
) -> ApiResult<()> {
    refugio_db::needs::set_status(conn, &need.id, status.as_str(), ctx.now)?;
    record(
        conn,
        actor,
        Some(&ctx.id),
        &format!("need.{}", status.as_str()),
        ("need", &need.id),
        json!({"status": status.as_str()}),
    )
}

/// A validated manual need.
pub struct NewManualNeed {
    pub title: String,
    pub category: NeedCategory,
    pub amount: i64,
    pub criticality: Criticality,
    pub needed_by: Option<chrono::NaiveDate>,
}

/// Opens a manual need.
pub fn create_manual(
    conn: &mut DbConnection,
    actor: &str,
    shelter_id: &str,
    new: NewManualNeed,
) -> ApiResult<NeedRow> {
    let ctx = ShelterContext::load(conn, shelter_id)?;
    let e = evaluate_manual(new.criticality, new.amount, 0, 0, new.needed_by, ctx.today);
    let row = open(
        conn,
        &ctx,
        NeedKind::Manual,
        (None, None),
        new.category.as_str(),
        &new.title,
        None,
        &e,
        Some(actor),
    )?;
    refugio_db::needs::set_manual_terms(conn, &row.id, new.amount, new.needed_by)?;
    refugio_db::needs::find(conn, shelter_id, &row.id)?.ok_or(ApiError::NotFound)
}

/// Cancels a need: a manual need ends; an item need ends and keeps its item quiet until its
/// stock reaches the reorder point or it is edited; a bill need voids its bill.
pub fn cancel(
    conn: &mut DbConnection,
    actor: &str,
    shelter_id: &str,
    need_id: &str,
) -> ApiResult<NeedRow> {
    let ctx = ShelterContext::load(conn, shelter_id)?;
    let need = refugio_db::needs::find(conn, shelter_id, need_id)?.ok_or(ApiError::NotFound)?;
    if is_final(&need.status) {
        return Err(ApiError::Conflict(Conflict::InvalidTransition));
    }
    match need.kind.as_str() {
        "bill" => {
            let bill_id = need
                .bill_id
                .clone()
                .ok_or_else(|| ApiError::internal("bill need without bill"))?;
            // Voiding the bill cancels its need.
            crate::services::bills::void(conn, actor, shelter_id, &bill_id)?;
        }
        "item" => {
            if let Some(item) = &need.item_id {
                refugio_db::needs::set_item_suppressed(conn, item, true)?;
            }
            close(conn, &ctx, &need, NeedStatus::Cancelled, Some(actor))?;
        }
        _ => close(conn, &ctx, &need, NeedStatus::Cancelled, Some(actor))?,
    }
    refugio_db::needs::find(conn, shelter_id, need_id)?.ok_or(ApiError::NotFound)
}

/// Recomputes, once per shelter-local day, every shelter whose day has turned since its last
/// recompute (urgency depends on the date). Each shelter is claimed by a conditional update in
/// its own transaction, so several server processes never do one shelter's day twice.
/// Returns how many shelters this call recomputed.
pub fn daily_recompute(pool: &refugio_db::Pool) -> ApiResult<usize> {
    let mut conn = pool.get()?;
    let now = refugio_db::now();
    let mut done = 0;
    for (shelter_id, timezone, computed_on) in refugio_db::needs::recompute_schedule(&mut conn)? {
        let Ok(tz) = timezone.parse::<chrono_tz::Tz>() else {
            continue;
        };
        let today = crate::services::stock::local_date(&tz, now);
        if computed_on.is_some_and(|d| d >= today) {
            continue;
        }
        let claimed = refugio_db::write_transaction(&mut conn, |c| -> ApiResult<bool> {
            if !refugio_db::needs::claim_daily_recompute(c, &shelter_id, today)? {
                return Ok(false);
            }
            refresh_shelter(c, &shelter_id)?;
            Ok(true)
        })?;
        done += usize::from(claimed);
    }
    Ok(done)
}
