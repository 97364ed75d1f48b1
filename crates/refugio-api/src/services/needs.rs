//! Keeping needs current: every change that moves a need recomputes it in the same
//! transaction (only the affected items), and once a day per shelter after local midnight.

use crate::audit_log::record;
use crate::error::{ApiError, ApiResult, Conflict};
use crate::services::allocations::{self, Wait};
use crate::services::stock::{item_levels, local_date, Observed, ShelterContext};
use refugio_core::engine::demand::Levels;
use refugio_core::engine::drivers::Driver;
use refugio_core::engine::needs::{
    bill_need_category, cost_of, evaluate_bill, evaluate_item, evaluate_manual, item_opens_need,
    Evaluation, ItemInputs, NeedCategory, NeedKind, NeedStatus,
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
        allocations::widen_restrictions(conn, need)?;
        if e.status == NeedStatus::Fulfilled {
            allocations::tell_fulfilled(conn, need)?;
        }
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

/// What covers an item's need besides stock: goods bought and incoming (`P`), pledged in kind
/// (`K`), and money allocated and unspent (`A`).
#[derive(Debug, Clone, Copy, Default)]
struct Cover {
    incoming: i64,
    pledged: i64,
    allocated: i64,
}

fn item_inputs(ctx: &ShelterContext, item: &ItemRow, levels: Levels, cover: Cover) -> ItemInputs {
    ItemInputs {
        criticality: item.criticality.parse().unwrap_or(Criticality::Essential),
        basis: item.basis.parse().unwrap_or(Basis::Consumable),
        lead_days: item.lead_days,
        occupied: ctx.occupied,
        per_person: item.per_person,
        levels,
        on_hand: item.on_hand,
        incoming: cover.incoming,
        pledged: cover.pledged,
        allocated: cover.allocated,
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
    let mut cover = Cover {
        incoming: refugio_db::expenses::incoming_for_item(conn, &item.id)?,
        pledged: refugio_db::donations::pledged_for_item(conn, &item.id)?,
        allocated: 0,
    };
    let mut suppressed = refugio_db::needs::item_suppressed(conn, &item.id)?;
    if suppressed && item.on_hand >= levels.reorder_point {
        refugio_db::needs::set_item_suppressed(conn, &item.id, false)?;
        suppressed = false;
    }
    match refugio_db::needs::live_for_item(conn, &item.id)? {
        Some(need) => {
            refugio_db::needs::lock(conn, &need.id)?;
            cover.allocated = allocations::unspent(conn, &need.id)?;
            let pledged_value = item.unit_cost.map_or(0, |u| cost_of(cover.pledged, u));
            let e = balanced(conn, &need, cover.allocated, pledged_value, |allocated| {
                evaluate_item(&item_inputs(
                    ctx,
                    item,
                    levels,
                    Cover { allocated, ..cover },
                ))
            })?;
            let subject = Subject {
                title: &item.name,
                unit: Some(&item.unit),
                category: &item.category,
            };
            store(conn, ctx, &need, &e, &subject)
        }
        None => {
            let inputs = item_inputs(ctx, item, levels, cover);
            if item.first_movement_at.is_none() || suppressed || !item_opens_need(&inputs) {
                return Ok(());
            }
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
    }
}

/// Evaluates a live need with its unspent allocations `A`, releasing money it no longer lacks
/// (ENGINE.md): all of it when the need ends, else what `A + K × u` exceeds `amount_needed` by,
/// newest allocation first. The caller holds the need's row lock.
fn balanced(
    conn: &mut DbConnection,
    need: &NeedRow,
    allocated: i64,
    pledged_value: i64,
    evaluate: impl Fn(i64) -> Evaluation,
) -> ApiResult<Evaluation> {
    let e = evaluate(allocated);
    if allocated <= 0 {
        return Ok(e);
    }
    let keep = if e.status.is_final() {
        0
    } else {
        match e.amount_needed {
            Some(needed) if allocated + pledged_value > needed => (needed - pledged_value).max(0),
            Some(_) => return Ok(e),
            // The unit cost was cleared: the need can only be covered in kind now.
            None => 0,
        }
    };
    let left = allocations::release_need(conn, need, keep)?;
    Ok(evaluate(left))
}

/// Recomputes one need by id (after money was allocated to it or spent on it).
pub fn refresh_need(conn: &mut DbConnection, need_id: &str) -> ApiResult<()> {
    refugio_db::needs::lock(conn, need_id)?;
    let Some(need) = refugio_db::needs::by_id(conn, need_id)? else {
        return Ok(());
    };
    let ctx = ShelterContext::load(conn, &need.shelter_id)?;
    refresh_loaded(conn, &ctx, &need)
}

/// Recomputes a need the caller has row-locked and loaded since, with its shelter's context
/// (final needs stay as they are).
pub fn refresh_loaded(
    conn: &mut DbConnection,
    ctx: &ShelterContext,
    need: &NeedRow,
) -> ApiResult<()> {
    if is_final(&need.status) {
        return Ok(());
    }
    match need.kind.as_str() {
        "item" => {
            let item_id = need.item_id.as_deref().unwrap_or_default();
            let Some(item) = refugio_db::items::find(conn, &ctx.id, item_id)? else {
                return Ok(());
            };
            refresh_items(conn, ctx, &[item], Some(item_id), Observed::Read)
        }
        "bill" => match need.bill_id.as_deref() {
            Some(bill_id) => match refugio_db::bills::find(conn, &ctx.id, bill_id)? {
                Some(bill) => refresh_bill(conn, ctx, &bill, None),
                None => Ok(()),
            },
            None => Ok(()),
        },
        _ => refresh_manual_locked(conn, ctx, need),
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
    )?;
    allocations::settle(conn, Wait::Skip, Some(shelter_id))
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
    let need_category = bill_need_category(category).as_str();
    let evaluate = |allocated| {
        evaluate_bill(
            category,
            bill.amount,
            bill.paid,
            allocated,
            bill.due_on,
            ctx.today,
        )
    };
    match need {
        Some(need) if is_final(&need.status) => Ok(()),
        Some(need) => {
            refugio_db::needs::lock(conn, &need.id)?;
            let allocated = allocations::unspent(conn, &need.id)?;
            let e = balanced(conn, &need, allocated, 0, evaluate)?;
            store(
                conn,
                ctx,
                &need,
                &e,
                &Subject {
                    title: &bill.payee,
                    unit: None,
                    category: need_category,
                },
            )
        }
        None => open(
            conn,
            ctx,
            NeedKind::Bill,
            (None, Some(&bill.id)),
            need_category,
            &bill.payee,
            None,
            &evaluate(0),
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
    refresh_bill(conn, &ctx, &bill, Some(actor))?;
    allocations::settle(conn, Wait::Skip, Some(shelter_id))
}

fn refresh_manual(conn: &mut DbConnection, ctx: &ShelterContext, need: &NeedRow) -> ApiResult<()> {
    refugio_db::needs::lock(conn, &need.id)?;
    // Re-read under the lock: an expense may have changed what was spent.
    let need = refugio_db::needs::by_id(conn, &need.id)?.ok_or(ApiError::NotFound)?;
    refresh_manual_locked(conn, ctx, &need)
}

/// [`refresh_manual`] for a need the caller has locked and loaded since.
fn refresh_manual_locked(
    conn: &mut DbConnection,
    ctx: &ShelterContext,
    need: &NeedRow,
) -> ApiResult<()> {
    let allocated = allocations::unspent(conn, &need.id)?;
    let e = manual_evaluation(conn, ctx, need, allocated)?;
    store(conn, ctx, need, &e, &manual_subject(need))
}

/// A manual need's evaluation with `allocated` unspent money, releasing what it no longer lacks.
fn manual_evaluation(
    conn: &mut DbConnection,
    ctx: &ShelterContext,
    need: &NeedRow,
    allocated: i64,
) -> ApiResult<Evaluation> {
    let criticality = need.criticality.parse().unwrap_or(Criticality::Essential);
    balanced(conn, need, allocated, 0, |allocated| {
        evaluate_manual(
            criticality,
            need.manual_amount.unwrap_or(0),
            need.spent,
            allocated,
            need.needed_by,
            ctx.today,
        )
    })
}

fn manual_subject(need: &NeedRow) -> Subject<'_> {
    Subject {
        title: &need.title,
        unit: None,
        category: &need.category,
    }
}

/// Recomputes the needs an allocator run just paid, which the caller has locked and loaded.
/// One run can pay a hundred needs in as many shelters, so the shelters and the allocations of
/// manual needs are read in one query each and their figures stored together; a need that
/// turns final (and so writes its own events) and other kinds go one by one.
pub fn refresh_paid(conn: &mut DbConnection, needs: &[NeedRow]) -> ApiResult<()> {
    let mut shelter_ids: Vec<String> = needs.iter().map(|n| n.shelter_id.clone()).collect();
    shelter_ids.sort();
    shelter_ids.dedup();
    let contexts = ShelterContext::load_many(conn, &shelter_ids)?;
    let batched = |n: &NeedRow| n.kind == NeedKind::Manual.as_str() && !is_final(&n.status);
    let manual_ids: Vec<String> = needs
        .iter()
        .filter(|n| batched(n))
        .map(|n| n.id.clone())
        .collect();
    let unspent = refugio_db::donations::unspent_by_need(conn, &manual_ids)?;
    let mut figures_of = Vec::with_capacity(manual_ids.len());
    for need in needs {
        let ctx = contexts.get(&need.shelter_id).ok_or(ApiError::NotFound)?;
        if !batched(need) {
            refresh_loaded(conn, ctx, need)?;
            continue;
        }
        let allocated = unspent.get(&need.id).copied().unwrap_or(0);
        let e = manual_evaluation(conn, ctx, need, allocated)?;
        if e.status.is_final() {
            store(conn, ctx, need, &e, &manual_subject(need))?;
        } else {
            figures_of
                .push(figures(&e, &need.title, None, &need.category, false, ctx.now).apply(need));
        }
    }
    Ok(refugio_db::needs::update_figures_many(conn, &figures_of)?)
}

/// Recomputes every need of a shelter: its items (which may open needs), bills and manual needs.
pub fn refresh_shelter(conn: &mut DbConnection, shelter_id: &str) -> ApiResult<()> {
    allocations::exclude_allocator(conn)?;
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
    refugio_db::needs::lock(conn, &need.id)?;
    allocations::release_need(conn, need, 0)?;
    refugio_db::needs::set_status(conn, &need.id, status.as_str(), ctx.now)?;
    allocations::widen_restrictions(conn, need)?;
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
    allocations::settle(conn, Wait::Skip, Some(shelter_id))?;
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
    allocations::settle(conn, Wait::Skip, Some(shelter_id))?;
    refugio_db::needs::find(conn, shelter_id, need_id)?.ok_or(ApiError::NotFound)
}

/// Recomputes, once per shelter-local day, every shelter whose day has turned since its last
/// recompute (urgency depends on the date). Each shelter is claimed by a conditional update in
/// its own transaction, so several server processes never do one shelter's day twice.
/// Returns how many shelters this call recomputed. A shelter that fails is logged and tried
/// again next time; it never holds back the others.
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
            allocations::settle(c, Wait::Skip, Some(&shelter_id))?;
            Ok(true)
        });
        match claimed {
            Ok(claimed) => done += usize::from(claimed),
            Err(e) => tracing::warn!(shelter = %shelter_id, error = %e, "daily recompute failed"),
        }
    }
    Ok(done)
}

/// A bill's public title: what it is for, never whom it is owed to.
pub fn bill_title(category: &str, lang: Locale) -> &'static str {
    let es = lang == Locale::Es;
    match category {
        "rent" => {
            if es {
                "Renta"
            } else {
                "Rent"
            }
        }
        "electricity" => {
            if es {
                "Recibo de luz"
            } else {
                "Electricity bill"
            }
        }
        "water" => {
            if es {
                "Recibo de agua"
            } else {
                "Water bill"
            }
        }
        "gas" => {
            if es {
                "Recibo de gas"
            } else {
                "Gas bill"
            }
        }
        "internet" => {
            if es {
                "Internet"
            } else {
                "Internet bill"
            }
        }
        "phone" => {
            if es {
                "Recibo de teléfono"
            } else {
                "Phone bill"
            }
        }
        "medical" => {
            if es {
                "Gastos médicos"
            } else {
                "Medical bill"
            }
        }
        "transport" => {
            if es {
                "Transporte"
            } else {
                "Transport"
            }
        }
        _ => {
            if es {
                "Otro pago"
            } else {
                "Other bill"
            }
        }
    }
}

/// A need's title as a donor may read it: a bill's is what it is for, never the payee.
pub fn public_title(conn: &mut DbConnection, need: &NeedRow, lang: Locale) -> ApiResult<String> {
    match need.bill_id.as_deref() {
        Some(bill_id) => Ok(refugio_db::bills::find(conn, &need.shelter_id, bill_id)?
            .map(|b| bill_title(&b.category, lang).to_owned())
            .unwrap_or_else(|| need.title.clone())),
        None => Ok(need.title.clone()),
    }
}
