//! Moving received money onto needs and back (ENGINE.md "Allocating money"): the pure allocator
//! decides, this module reads its inputs, writes allocations, releases what needs no longer
//! lack, and tells donors.
//!
//! Concurrency: on PostgreSQL one allocator runs at a time (a transaction-scoped advisory lock);
//! whoever reads a need's allocations to recompute or spend them first row-locks the need. SQLite
//! serializes write transactions, so both are no-ops there in effect.

use crate::audit_log::record;
use crate::error::{ApiError, ApiResult};
use crate::money::money_json;
use chrono::NaiveDateTime;
use refugio_core::engine::allocation::{
    allocate, donation_order, release, Donation, OpenNeed, Rate, Restriction,
};
use refugio_core::engine::needs::NeedCategory;
use refugio_core::engine::priority::Band;
use refugio_core::money::Currency;
use refugio_core::Locale;
use refugio_db::donations::{self as repo, AllocationRow, DonationRow};
use refugio_db::needs::{FundableFilter, NeedRow};
use refugio_db::DbConnection;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};

/// Rounds of allocate → recompute → release the allocator goes through before it leaves the
/// rest for the next change (each round only happens when the previous one released money).
const MAX_ROUNDS: usize = 3;

/// Whether to wait for another allocator run to finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Wait: money was just received or a rate added, and this run must see it.
    Block,
    /// Do not wait: needs changed as a side effect; the running allocator or the next change
    /// (or the maintenance loop) picks the money up. Waiting here could deadlock with an
    /// allocator that waits for a need row this transaction holds.
    Skip,
}

/// What money with a restriction may pay for, from its stored columns.
fn restriction_of(d: &DonationRow) -> Restriction {
    let category = d
        .restriction_category
        .as_deref()
        .and_then(|c| c.parse::<NeedCategory>().ok());
    match (&d.restriction_need_id, &d.restriction_shelter_id, category) {
        (Some(need), _, _) => Restriction::Need(need.clone()),
        (None, Some(shelter), Some(category)) => {
            Restriction::ShelterCategory(shelter.clone(), category)
        }
        (None, Some(shelter), None) => Restriction::Shelter(shelter.clone()),
        (None, None, Some(category)) => Restriction::Category(category),
        (None, None, None) => Restriction::None,
    }
}

/// Text that sorts like the timestamp (for the allocator's tie-breaks). Written field by field:
/// a receipt can load a whole band of 10,000 needs, and chrono's `format` parses its pattern
/// again for each one.
fn sortable(at: NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    let mut text = String::with_capacity(27);
    let _ = write!(
        text,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.nanosecond() / 1_000 % 1_000_000
    );
    text
}

/// Waits for the allocator lock before recomputing many needs at once (occupancy, the daily
/// recompute): such a transaction locks needs in item order, an allocator run in its own
/// order, and holding both ways at once could deadlock.
pub fn exclude_allocator(conn: &mut DbConnection) -> ApiResult<()> {
    lock_allocator(conn, Wait::Block).map(drop)
}

/// Takes the allocator lock; false when `Wait::Skip` and another run holds it.
fn lock_allocator(conn: &mut DbConnection, wait: Wait) -> ApiResult<bool> {
    Ok(repo::lock_allocator(conn, wait == Wait::Block)?)
}

/// Allocates received money that waits for needs, in the allocator's donation order. With
/// `scope`, only money that may go to that shelter is considered (the change was there).
pub fn settle(conn: &mut DbConnection, wait: Wait, scope: Option<&str>) -> ApiResult<()> {
    let in_scope = |d: &DonationRow| match (scope, &d.shelter_id) {
        (Some(s), Some(own)) => s == own,
        _ => true,
    };
    if !repo::waiting(conn)?.iter().any(in_scope) {
        return Ok(());
    }
    if !lock_allocator(conn, wait)? {
        return Ok(());
    }
    for _ in 0..MAX_ROUNDS {
        let mut waiting: Vec<(Donation, DonationRow)> = repo::waiting(conn)?
            .into_iter()
            .filter(in_scope)
            .map(|d| (as_donation(&d), d))
            .collect();
        waiting.sort_by(|a, b| donation_order(&a.0, &b.0));
        let mut released = false;
        for (_, d) in &waiting {
            released |= allocate_one(conn, d, scope)?;
        }
        if !released {
            break;
        }
    }
    Ok(())
}

/// Runs [`settle`] in its own transaction, waiting for the allocator (the maintenance loop).
pub fn settle_now(pool: &refugio_db::Pool) -> ApiResult<()> {
    let mut conn = pool.get()?;
    refugio_db::write_transaction(&mut conn, |c| settle(c, Wait::Block, None))
}

fn as_donation(d: &DonationRow) -> Donation {
    Donation {
        id: d.id.clone(),
        currency: d
            .currency
            .as_deref()
            .and_then(|c| c.parse().ok())
            .unwrap_or(Currency::Mxn),
        unallocated: d.unallocated.unwrap_or(0),
        restriction: restriction_of(d),
        received_at: d.received_at.map(sortable).unwrap_or_default(),
    }
}

/// The rates from the donation's currency in force on its received date, by quote currency.
fn rates_for(conn: &mut DbConnection, d: &DonationRow) -> ApiResult<HashMap<String, Rate>> {
    let (Some(base), Some(on)) = (d.currency.as_deref(), d.received_on) else {
        return Ok(HashMap::new());
    };
    let mut rates = HashMap::new();
    for quote in Currency::ALL.iter().map(|c| c.as_str()) {
        if quote == base {
            rates.insert(quote.to_owned(), Rate::ONE);
        } else if let Some(r) =
            refugio_db::fx_rates::in_force(conn, base, quote, on)?.and_then(Rate::from_millionths)
        {
            rates.insert(quote.to_owned(), r);
        }
    }
    Ok(rates)
}

/// Allocates what one donation has unallocated. Returns whether recomputing the needs it paid
/// released money (they shrank meanwhile), so the caller goes round again.
fn allocate_one(
    conn: &mut DbConnection,
    row: &DonationRow,
    scope: Option<&str>,
) -> ApiResult<bool> {
    let Some(fresh) = repo::find(conn, &row.id)? else {
        return Ok(false);
    };
    let donation = as_donation(&fresh);
    if donation.unallocated <= 0 {
        return Ok(false);
    }
    let rates = rates_for(conn, &fresh)?;
    if let Some(shelter) = scope {
        let currency = crate::services::shelters::currency(conn, shelter)?;
        if !rates.contains_key(&currency) {
            return Ok(false);
        }
    }
    let mut filter = FundableFilter {
        currencies: rates.keys().cloned().collect(),
        ..FundableFilter::default()
    };
    match &donation.restriction {
        Restriction::Need(id) => filter.need_id = Some(id.clone()),
        Restriction::ShelterCategory(s, c) => {
            filter.shelter_id = Some(s.clone());
            filter.category = Some(c.as_str().to_owned());
        }
        Restriction::Shelter(s) => filter.shelter_id = Some(s.clone()),
        Restriction::Category(c) => filter.category = Some(c.as_str().to_owned()),
        Restriction::None => {}
    }
    // Bands are paid in order and each only sees what the earlier ones left, so loading one
    // band at a time gives the same result and stops reading once the money is gone.
    let lookup = |_: Currency, to: Currency| rates.get(to.as_str()).copied();
    let mut slices = Vec::new();
    let mut currency_of: HashMap<String, Currency> = HashMap::new();
    let mut remaining = donation.clone();
    for band in Band::ALL {
        if remaining.unallocated <= 0 {
            break;
        }
        filter.band_rank = Some(band.rank());
        let needs = open_needs(conn, &filter)?;
        if needs.is_empty() {
            continue;
        }
        let result = allocate(&remaining, &needs, &lookup);
        remaining.unallocated = result.unallocated;
        let paid: BTreeSet<&str> = result.slices.iter().map(|s| s.need_id.as_str()).collect();
        for n in needs.iter().filter(|n| paid.contains(n.id.as_str())) {
            currency_of.insert(n.id.clone(), n.currency);
        }
        slices.extend(result.slices);
    }
    if slices.is_empty() {
        return Ok(false);
    }
    let now = refugio_db::now();
    let mut need_ids: Vec<String> = slices.iter().map(|s| s.need_id.clone()).collect();
    need_ids.sort();
    need_ids.dedup();
    refugio_db::needs::lock_many(conn, &need_ids)?;
    let rows: Vec<AllocationRow> = slices
        .iter()
        .map(|slice| AllocationRow {
            id: refugio_core::new_id(),
            donation_id: fresh.id.clone(),
            need_id: slice.need_id.clone(),
            shelter_id: slice.shelter_id.clone(),
            amount: slice.amount,
            currency: donation.currency.as_str().to_owned(),
            amount_local: slice.amount_local,
            local_currency: currency_of
                .get(&slice.need_id)
                .map(|c| c.as_str())
                .unwrap_or_default()
                .to_owned(),
            fx_rate: slice.rate.millionths(),
            released: 0,
            spent: 0,
            created_at: now,
        })
        .collect();
    repo::insert_allocations(conn, &rows)?;
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|a| {
            json!({
                "donation_id": a.donation_id,
                "need_id": a.need_id,
                "amount": money_json(a.amount, &a.currency),
                "amount_local": money_json(a.amount_local, &a.local_currency),
                "fx_rate": Rate::from_millionths(a.fx_rate).map(|r| r.as_decimal()),
            })
        })
        .collect();
    let events: Vec<refugio_db::audit::NewEvent<'_>> = rows
        .iter()
        .zip(data)
        .map(|(a, data)| refugio_db::audit::NewEvent {
            actor_id: None,
            shelter_id: Some(&a.shelter_id),
            action: "allocation.created",
            entity: "allocation",
            entity_id: &a.id,
            data,
        })
        .collect();
    refugio_db::audit::append_many(conn, &events)?;
    repo::set_unallocated(conn, &fresh.id, remaining.unallocated, now)?;
    let before = waiting_total(conn)?;
    let paid = refugio_db::needs::by_ids(conn, &need_ids)?;
    crate::services::needs::refresh_paid(conn, &paid)?;
    Ok(waiting_total(conn)? > before)
}

/// Live needs inside the filter with something open, as the allocator takes them.
fn open_needs(conn: &mut DbConnection, filter: &FundableFilter) -> ApiResult<Vec<OpenNeed>> {
    Ok(refugio_db::needs::fundable(conn, filter)?
        .into_iter()
        .filter_map(|n| {
            Some(OpenNeed {
                category: n.category.parse().ok()?,
                band: Band::parse(&n.band)?,
                currency: n.currency.parse().ok()?,
                amount_open: n.amount_open?,
                id: n.id,
                shelter_id: n.shelter_id,
                score: n.score,
                opened_at: sortable(n.opened_at),
                occupied: n.occupied,
            })
        })
        .collect())
}

/// Σ unallocated over waiting donations (per-currency sums mixed: only compared for change).
fn waiting_total(conn: &mut DbConnection) -> ApiResult<i64> {
    Ok(repo::waiting(conn)?
        .iter()
        .filter_map(|d| d.unallocated)
        .sum())
}

/// Money allocated to a need and not spent yet (`A`, shelter currency).
pub fn unspent(conn: &mut DbConnection, need_id: &str) -> ApiResult<i64> {
    Ok(repo::allocations_of_need(conn, need_id)?
        .iter()
        .map(|a| a.amount_local - a.spent)
        .sum())
}

/// Releases a need's unspent allocations, newest first, until `A` is at most `keep`; returns the
/// new `A`. The caller holds the need's row lock.
pub fn release_need(conn: &mut DbConnection, need: &NeedRow, keep: i64) -> ApiResult<i64> {
    let mut allocations = repo::allocations_of_need(conn, &need.id)?;
    let mut held: i64 = allocations.iter().map(|a| a.amount_local - a.spent).sum();
    let now = refugio_db::now();
    allocations.reverse();
    for a in allocations {
        if held <= keep.max(0) {
            break;
        }
        let unspent = a.amount_local - a.spent;
        let cut = unspent.min(held - keep.max(0));
        if cut <= 0 {
            continue;
        }
        let local_after = a.amount_local - cut;
        let r = release(a.amount, a.amount_local, local_after);
        repo::set_allocation_amounts(conn, &a.id, r.amount, local_after, a.released + r.returned)?;
        let donation = repo::find(conn, &a.donation_id)?
            .ok_or_else(|| ApiError::internal("allocation without donation"))?;
        repo::set_unallocated(
            conn,
            &donation.id,
            donation.unallocated.unwrap_or(0) + r.returned,
            now,
        )?;
        record(
            conn,
            None,
            Some(&a.shelter_id),
            "allocation.released",
            ("allocation", &a.id),
            json!({
                "donation_id": a.donation_id,
                "need_id": a.need_id,
                "returned": money_json(r.returned, &a.currency),
                "amount": money_json(r.amount, &a.currency),
                "amount_local": money_json(local_after, &a.local_currency),
            }),
        )?;
        held -= cut;
    }
    Ok(held)
}

/// Received money restricted to a need that ended, with something left to give, is restricted
/// to the need's shelter and category instead; its donor is told once.
pub fn widen_restrictions(conn: &mut DbConnection, need: &NeedRow) -> ApiResult<()> {
    let now = refugio_db::now();
    for d in repo::restricted_to_need(conn, &need.id)? {
        if d.status != "received" || d.unallocated.unwrap_or(0) <= 0 {
            continue;
        }
        widen(conn, &d, need, now)?;
    }
    Ok(())
}

/// Restricts a donation to the need's shelter and category, records it, and tells the donor.
pub fn widen(
    conn: &mut DbConnection,
    d: &DonationRow,
    need: &NeedRow,
    now: NaiveDateTime,
) -> ApiResult<()> {
    repo::widen_restriction(conn, &d.id, &need.shelter_id, &need.category, now)?;
    record(
        conn,
        None,
        None,
        "donation.restriction_widened",
        ("donation", &d.id),
        json!({"need_id": need.id, "shelter_id": need.shelter_id, "category": need.category}),
    )?;
    if let Some((email, locale)) = donor_address(conn, &d.donor_id)? {
        let shelter_name = shelter_name(conn, &need.shelter_id)?;
        let message = refugio_mail::Message::RestrictionWidened {
            shelter_name,
            need_title: crate::services::needs::public_title(conn, need, locale)?,
            category: need.category.clone(),
        };
        refugio_mail::enqueue(conn, &email, locale, &message)?;
    }
    Ok(())
}

/// A donor's email and language, if the account is active.
pub fn donor_address(
    conn: &mut DbConnection,
    user_id: &str,
) -> ApiResult<Option<(String, Locale)>> {
    Ok(refugio_db::users::find(conn, user_id)?
        .filter(|u| u.active)
        .map(|u| (u.email, u.locale.parse().unwrap_or(Locale::En))))
}

pub fn shelter_name(conn: &mut DbConnection, shelter_id: &str) -> ApiResult<String> {
    Ok(refugio_db::shelters::find(conn, shelter_id)?
        .map(|s| s.name)
        .unwrap_or_default())
}

/// Tells the donors whose money a need holds (or held) that it is fulfilled.
pub fn tell_fulfilled(conn: &mut DbConnection, need: &NeedRow) -> ApiResult<()> {
    let donations: BTreeSet<String> = repo::allocations_of_need_all(conn, &need.id)?
        .into_iter()
        .map(|a| a.donation_id)
        .collect();
    let mut donors = BTreeSet::new();
    for id in donations {
        if let Some(d) = repo::find(conn, &id)? {
            donors.insert(d.donor_id);
        }
    }
    let shelter = shelter_name(conn, &need.shelter_id)?;
    for donor in donors {
        if let Some((email, locale)) = donor_address(conn, &donor)? {
            let message = refugio_mail::Message::NeedFulfilled {
                shelter_name: shelter.clone(),
                need_title: crate::services::needs::public_title(conn, need, locale)?,
            };
            refugio_mail::enqueue(conn, &email, locale, &message)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::sortable;
    use chrono::NaiveDate;

    #[test]
    fn sortable_text_is_the_rfc3339_microsecond_form_and_sorts_like_time() {
        let at = |y, mo, d, h, mi, s, us| {
            NaiveDate::from_ymd_opt(y, mo, d)
                .and_then(|d| d.and_hms_micro_opt(h, mi, s, us))
                .expect("valid time")
        };
        let times = [
            at(2026, 1, 2, 3, 4, 5, 6),
            at(2026, 1, 2, 3, 4, 5, 60),
            at(2026, 12, 31, 23, 59, 59, 999_999),
            at(999, 1, 1, 0, 0, 0, 0),
        ];
        for t in times {
            assert_eq!(sortable(t), t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
        }
        let mut sorted = times;
        sorted.sort();
        let mut texts: Vec<String> = times.iter().copied().map(sortable).collect();
        texts.sort();
        assert_eq!(texts, sorted.map(sortable));
    }
}
