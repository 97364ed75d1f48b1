//! Reports for the people who answer for the money: the spending report (what each shelter was
//! allocated and spent in a period, per need category, what money came in, and the auditors'
//! flags of ENGINE.md "Report flags"), and a donation's trace, the whole chain donation →
//! allocations → needs → expenses → receipts → stock movements in one document.
//!
//! Everything here reads; nothing writes. Money stays in integer minor units until it is shown.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::money::{money_json, money_text, MoneyJson};
use crate::routes::needs::CATEGORIES;
use crate::services::donations::{self, AllocationView, DonationView};
use crate::services::stock::local_date;
use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use refugio_core::decimal::{div_round_half_even, div_round_half_up};
use refugio_core::engine::allocation::{Rate, RATE_SCALE};
use refugio_core::{Currency, Locale, MembershipRole, Quantity, Role};
use refugio_db::donations::{AllocationRow, DonationRow};
use refugio_db::reports as repo;
use refugio_db::shelters::ShelterRow;
use refugio_db::stock::MovementRow;
use refugio_db::DbConnection;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The flags of ENGINE.md "Report flags", in the order the report lists them.
pub const FLAG_CODES: [&str; 5] = [
    UNSPENT_ALLOCATION,
    EXPENSE_WITHOUT_RECEIPT,
    LARGE_NEGATIVE_ADJUSTMENT,
    MISSING_FX_RATE,
    OVERDUE_BILL,
];
pub const UNSPENT_ALLOCATION: &str = "unspent_allocation_30d";
pub const EXPENSE_WITHOUT_RECEIPT: &str = "expense_without_receipt";
pub const LARGE_NEGATIVE_ADJUSTMENT: &str = "large_negative_adjustment";
pub const MISSING_FX_RATE: &str = "missing_fx_rate";
pub const OVERDUE_BILL: &str = "overdue_bill";

/// How old an allocation with money still unspent must be to be flagged.
pub const UNSPENT_AFTER_DAYS: i64 = 30;

/// The CSV header: one row per shelter × category follows.
pub const CSV_HEADER: &str = "shelter_id,shelter_name,currency,category,allocated,\
spent_from_donations,spent_own_funds,unspent_allocated";

/// The four figures of a category or of a shelter's totals, each a money object.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SpendingFigures {
    /// Σ what the allocations created in the period hold now (after releases), shelter currency.
    pub allocated: MoneyJson,
    /// Σ what donations paid of the expenses spent in the period.
    pub spent_from_donations: MoneyJson,
    /// Σ what the shelter paid from its own money for the expenses spent in the period.
    pub spent_own_funds: MoneyJson,
    /// `allocated − spent_from_donations` (negative when the period's spending drew on money
    /// allocated before it).
    pub unspent_allocated: MoneyJson,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CategorySpending {
    /// A need category (`food`, `water`, `medical`, `hygiene`, `bedding`, `clothing`,
    /// `housing`, `utilities`, `transport`, `other`).
    pub category: String,
    pub allocated: MoneyJson,
    pub spent_from_donations: MoneyJson,
    pub spent_own_funds: MoneyJson,
    pub unspent_allocated: MoneyJson,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShelterSpending {
    pub shelter_id: String,
    pub name: String,
    /// The shelter's currency: every amount of this shelter is in it (except `totals_usd`).
    pub currency: String,
    /// Every need category, in the contract's order, with zeros where nothing happened.
    pub categories: Vec<CategorySpending>,
    pub totals: SpendingFigures,
    /// The totals in USD: each divided by the latest USD → shelter currency rate with
    /// `as_of ≤ to` (rounded half to even to the cent); null without such a rate.
    pub totals_usd: Option<SpendingFigures>,
}

/// Money donations by donation currency.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DonationTotals {
    pub currency: String,
    /// All shelters: Σ money donations received (UTC `received_on`) in the period. One shelter:
    /// Σ what was allocated to it in the period (the money it received).
    pub received: MoneyJson,
    /// All shelters: Σ what the allocations of those donations hold now. One shelter: as
    /// `received`.
    pub allocated: MoneyJson,
    /// All shelters: Σ what those donations still have unallocated. One shelter: zero (money
    /// not allocated belongs to no shelter yet).
    pub unallocated: MoneyJson,
}

/// Something an auditor should look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReportFlag {
    /// `unspent_allocation_30d | expense_without_receipt | large_negative_adjustment |
    /// missing_fx_rate | overdue_bill`.
    pub code: String,
    /// The shelter concerned (for `missing_fx_rate`: the shelter the money cannot reach).
    pub shelter_id: String,
    /// `allocation | expense | stock_movement | donation | bill`.
    pub entity: String,
    pub entity_id: String,
    /// A short English sentence with the figures.
    pub detail: String,
}

/// `GET /reports/spending`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SpendingReport {
    /// First date of the period, inclusive (each shelter's local dates).
    pub from: NaiveDate,
    /// Last date of the period, inclusive.
    pub to: NaiveDate,
    /// By name, then id.
    pub shelters: Vec<ShelterSpending>,
    /// By currency code.
    pub donations: Vec<DonationTotals>,
    /// By code (in the order of the contract's list), then shelter, then date.
    pub flags: Vec<ReportFlag>,
}

/// Who may read spending reports: admins and auditors (any shelter or all), a manager for their
/// own shelter. Donors, and staff asking for all shelters: `403`; staff asking for a shelter
/// they do not belong to, or no such shelter: `404`; a coordinator of the shelter: `403` (their
/// role there may not read reports, as with other managers' actions).
pub fn may_read(
    conn: &mut DbConnection,
    caller: &Caller,
    shelter_id: Option<&str>,
) -> ApiResult<()> {
    match (caller.role, shelter_id) {
        (Role::Donor, _) | (Role::Staff, None) => return Err(ApiError::Forbidden),
        (Role::Admin | Role::Auditor, None) => return Ok(()),
        _ => {}
    }
    let Some(sid) = shelter_id else {
        return Err(ApiError::Forbidden);
    };
    if !refugio_core::ids::is_well_formed(sid) || !refugio_db::shelters::exists(conn, sid)? {
        return Err(ApiError::NotFound);
    }
    if caller.role != Role::Staff {
        return Ok(());
    }
    match refugio_db::users::membership(conn, &caller.user_id, sid)? {
        None => Err(ApiError::NotFound),
        Some(m) => match m.role.parse::<MembershipRole>() {
            Ok(MembershipRole::Manager) => Ok(()),
            Ok(MembershipRole::Coordinator) => Err(ApiError::Forbidden),
            Err(_) => Err(ApiError::NotFound),
        },
    }
}

/// A shelter's time zone (UTC when unreadable, which the shelter API never stores).
fn tz_of(s: &ShelterRow) -> chrono_tz::Tz {
    s.timezone.parse().unwrap_or(chrono_tz::UTC)
}

/// The shelter-local date of a stored (UTC) timestamp.
fn local_day(s: &ShelterRow, at: NaiveDateTime) -> NaiveDate {
    local_date(&tz_of(s), at)
}

/// The local "today" of a shelter.
fn today_of(s: &ShelterRow) -> NaiveDate {
    local_day(s, refugio_db::now())
}

/// A UTC window surely holding every instant whose local date, in any time zone, is in
/// `from..=to`; callers narrow it with [`local_day`].
fn utc_window(from: NaiveDate, to: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
    let start = from.checked_sub_days(Days::new(2)).unwrap_or(from);
    let end = to.checked_add_days(Days::new(2)).unwrap_or(to);
    (start.and_time(NaiveTime::MIN), end.and_time(NaiveTime::MIN))
}

/// Minor units of `currency` in USD cents with the rate `USD → currency`, inverted:
/// `round_half_even(local × 10^6 / rate)`, exactly.
pub fn to_usd(local: i64, currency: &str, rate_millionths: i64) -> i64 {
    let digits = |c: &str| {
        c.parse::<Currency>()
            .map_or(2, |c: Currency| c.minor_digits())
    };
    let numerator =
        i128::from(local) * i128::from(RATE_SCALE) * 10_i128.pow(digits(Currency::Usd.as_str()));
    let denominator = i128::from(rate_millionths) * 10_i128.pow(digits(currency));
    i64::try_from(div_round_half_even(numerator, denominator)).unwrap_or(i64::MAX)
}

/// What one category (or a shelter's total) adds up to, in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Sums {
    allocated: i64,
    from_donations: i64,
    own_funds: i64,
}

impl Sums {
    fn unspent(self) -> i64 {
        self.allocated - self.from_donations
    }

    fn add(&mut self, other: Sums) {
        self.allocated += other.allocated;
        self.from_donations += other.from_donations;
        self.own_funds += other.own_funds;
    }

    fn figures(self, currency: &str) -> SpendingFigures {
        SpendingFigures {
            allocated: money_json(self.allocated, currency),
            spent_from_donations: money_json(self.from_donations, currency),
            spent_own_funds: money_json(self.own_funds, currency),
            unspent_allocated: money_json(self.unspent(), currency),
        }
    }

    /// Each figure converted on its own (the USD figures need not add up exactly).
    fn usd_figures(self, currency: &str, rate: i64) -> SpendingFigures {
        let usd = |v: i64| money_json(to_usd(v, currency, rate), Currency::Usd.as_str());
        SpendingFigures {
            allocated: usd(self.allocated),
            spent_from_donations: usd(self.from_donations),
            spent_own_funds: usd(self.own_funds),
            unspent_allocated: usd(self.unspent()),
        }
    }
}

/// A shelter's figures for the period, and what the flags need of the same rows.
struct ShelterPeriod {
    spending: ShelterSpending,
    /// Allocations created in the period (for the one-shelter donation totals).
    allocations: Vec<AllocationRow>,
    /// Expenses of the period funded by donations and without a receipt reference, with what
    /// donations paid of them.
    unreceipted: Vec<(refugio_db::expenses::ExpenseRow, i64)>,
}

fn shelter_period(
    conn: &mut DbConnection,
    s: &ShelterRow,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<ShelterPeriod> {
    let (start, end) = utc_window(from, to);
    let mut by_category: BTreeMap<String, Sums> = BTreeMap::new();
    let mut allocations = Vec::new();
    for (a, category) in repo::allocations_created(conn, &s.id, start, end)? {
        let day = local_day(s, a.created_at);
        if day < from || day > to {
            continue;
        }
        by_category.entry(category).or_default().allocated += a.amount_local;
        allocations.push(a);
    }
    let mut funded: HashMap<String, i64> = HashMap::new();
    for (expense_id, amount) in repo::funding_of_expenses_spent(conn, &s.id, from, to)? {
        *funded.entry(expense_id).or_default() += amount;
    }
    let mut unreceipted = Vec::new();
    for e in repo::expenses_spent(conn, &s.id, from, to)? {
        let from_donations = funded.get(&e.id).copied().unwrap_or(0);
        let sums = by_category.entry(e.category.clone()).or_default();
        sums.from_donations += from_donations;
        sums.own_funds += e.own_funds;
        let no_receipt = e.receipt_ref.as_deref().is_none_or(|r| r.trim().is_empty());
        if from_donations > 0 && no_receipt {
            unreceipted.push((e, from_donations));
        }
    }
    let mut categories = Vec::new();
    let mut totals = Sums::default();
    let known = CATEGORIES.iter().map(|c| (*c).to_owned());
    let unknown: Vec<String> = by_category
        .keys()
        .filter(|k| !CATEGORIES.contains(&k.as_str()))
        .cloned()
        .collect();
    for category in known.chain(unknown) {
        let sums = by_category.get(&category).copied().unwrap_or_default();
        totals.add(sums);
        let f = sums.figures(&s.currency);
        categories.push(CategorySpending {
            category,
            allocated: f.allocated,
            spent_from_donations: f.spent_from_donations,
            spent_own_funds: f.spent_own_funds,
            unspent_allocated: f.unspent_allocated,
        });
    }
    let totals_usd = if s.currency == Currency::Usd.as_str() {
        Some(totals.figures(&s.currency))
    } else {
        refugio_db::fx_rates::in_force(conn, Currency::Usd.as_str(), &s.currency, to)?
            .filter(|r| *r > 0)
            .map(|rate| totals.usd_figures(&s.currency, rate))
    };
    Ok(ShelterPeriod {
        spending: ShelterSpending {
            shelter_id: s.id.clone(),
            name: s.name.clone(),
            currency: s.currency.clone(),
            categories,
            totals: totals.figures(&s.currency),
            totals_usd,
        },
        allocations,
        unreceipted,
    })
}

/// Sums per currency, in currency order.
#[derive(Default)]
struct ByCurrency(BTreeMap<String, [i64; 3]>);

impl ByCurrency {
    fn add(&mut self, currency: &str, index: usize, amount: i64) {
        self.0.entry(currency.to_owned()).or_default()[index] += amount;
    }

    fn totals(self) -> Vec<DonationTotals> {
        self.0
            .into_iter()
            .map(
                |(currency, [received, allocated, unallocated])| DonationTotals {
                    received: money_json(received, &currency),
                    allocated: money_json(allocated, &currency),
                    unallocated: money_json(unallocated, &currency),
                    currency,
                },
            )
            .collect()
    }
}

/// The period asked for, or by default the current month to date: "today" is the shelter's
/// local date (with no shelter named, the latest local date of any shelter, so that no
/// shelter's today is left out).
pub fn period(
    shelters: &[ShelterRow],
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<(NaiveDate, NaiveDate)> {
    let today = shelters
        .iter()
        .map(today_of)
        .max()
        .unwrap_or_else(|| refugio_db::now().date());
    let to = to.unwrap_or(today);
    let from = match from {
        Some(f) => f,
        None => chrono::Datelike::with_day(&to, 1).unwrap_or(to),
    };
    if from > to {
        return Err(ApiError::BadQuery(
            "from must not be after to (both dates are inclusive)".into(),
        ));
    }
    Ok((from, to))
}

/// The spending report over `shelter_id` (or every shelter). The caller passed [`may_read`].
pub fn spending(
    conn: &mut DbConnection,
    shelter_id: Option<&str>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<SpendingReport> {
    let all = repo::shelters_by_name(conn)?;
    let scoped: Vec<ShelterRow> = match shelter_id {
        Some(id) => all.iter().filter(|s| s.id == id).cloned().collect(),
        None => all.clone(),
    };
    if shelter_id.is_some() && scoped.is_empty() {
        return Err(ApiError::NotFound);
    }
    let (from, to) = period(&scoped, from, to)?;

    let mut periods = Vec::new();
    for s in &scoped {
        periods.push(shelter_period(conn, s, from, to)?);
    }

    let mut donations = ByCurrency::default();
    if shelter_id.is_some() {
        for a in periods.iter().flat_map(|p| &p.allocations) {
            donations.add(&a.currency, 0, a.amount);
            donations.add(&a.currency, 1, a.amount);
            donations.add(&a.currency, 2, 0);
        }
    } else {
        for d in repo::money_received(conn, from, to)? {
            let currency = d.currency.clone().unwrap_or_default();
            donations.add(&currency, 0, d.amount.unwrap_or(0));
            donations.add(&currency, 2, d.unallocated.unwrap_or(0));
        }
        for (currency, amount) in repo::allocations_of_money_received(conn, from, to)? {
            donations.add(&currency, 1, amount);
        }
    }

    let flags = flags(conn, shelter_id, &all, &scoped, &periods, from, to)?;
    Ok(SpendingReport {
        from,
        to,
        shelters: periods.into_iter().map(|p| p.spending).collect(),
        donations: donations.totals(),
        flags,
    })
}

fn flag(code: &str, shelter_id: &str, entity: &str, entity_id: &str, detail: String) -> ReportFlag {
    ReportFlag {
        code: code.to_owned(),
        shelter_id: shelter_id.to_owned(),
        entity: entity.to_owned(),
        entity_id: entity_id.to_owned(),
        detail,
    }
}

/// Whether a movement removed more than 20% of the stock it found (`−delta > 0.2 × before`,
/// with `before = on_hand_after − delta`), exactly.
pub fn removes_over_a_fifth(m: &MovementRow) -> bool {
    let before = m.on_hand_after - m.delta;
    m.delta < 0 && -m.delta * 5 > before
}

/// The flags of ENGINE.md: allocations unspent for 30 days and overdue bills as of now; expenses
/// and stock movements of the period; money that waits for a rate as of now.
fn flags(
    conn: &mut DbConnection,
    only: Option<&str>,
    all: &[ShelterRow],
    scoped: &[ShelterRow],
    periods: &[ShelterPeriod],
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<ReportFlag>> {
    let now = refugio_db::now();
    let in_scope: HashMap<&str, &ShelterRow> = scoped.iter().map(|s| (s.id.as_str(), s)).collect();
    let order: HashMap<&str, usize> = scoped
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut out = Vec::new();

    // Money allocated 30+ days ago that is still not spent.
    let cutoff = now - chrono::Duration::days(UNSPENT_AFTER_DAYS);
    let mut unspent: Vec<AllocationRow> = repo::unspent_allocations_made_by(conn, only, cutoff)?
        .into_iter()
        .filter(|a| in_scope.contains_key(a.shelter_id.as_str()))
        .collect();
    unspent.sort_by_key(|a| order.get(a.shelter_id.as_str()).copied());
    for a in unspent {
        let s = in_scope.get(a.shelter_id.as_str()).copied();
        let made = s.map_or(a.created_at.date(), |s| local_day(s, a.created_at));
        let days = (now - a.created_at).num_days();
        out.push(flag(
            UNSPENT_ALLOCATION,
            &a.shelter_id,
            "allocation",
            &a.id,
            format!(
                "Allocation of {} made on {made} ({days} days ago) still has {} unspent",
                money_text(a.amount_local, &a.local_currency),
                money_text(a.amount_local - a.spent, &a.local_currency),
            ),
        ));
    }

    // Expenses of the period paid with donations and no receipt reference.
    for p in periods {
        for (e, from_donations) in &p.unreceipted {
            out.push(flag(
                EXPENSE_WITHOUT_RECEIPT,
                &e.shelter_id,
                "expense",
                &e.id,
                format!(
                    "Expense of {} spent on {}, {} of it paid from donations, has no receipt reference",
                    money_text(e.amount, &e.currency),
                    e.spent_on,
                    money_text(*from_donations, &e.currency),
                ),
            ));
        }
    }

    // Adjustments, waste and counts of the period that removed more than a fifth of the stock.
    let (start, end) = utc_window(from, to);
    for s in scoped {
        let mut names: HashMap<String, (String, String)> = HashMap::new();
        for m in repo::stock_reductions(conn, &s.id, start, end)? {
            let day = local_day(s, m.occurred_at);
            if day < from || day > to || !removes_over_a_fifth(&m) {
                continue;
            }
            if !names.contains_key(&m.item_id) {
                let found = refugio_db::items::find(conn, &s.id, &m.item_id)?
                    .map(|i| (i.name, i.unit))
                    .unwrap_or_default();
                names.insert(m.item_id.clone(), found);
            }
            let (name, unit) = names.get(&m.item_id).cloned().unwrap_or_default();
            let before = m.on_hand_after - m.delta;
            let percent = div_round_half_up(i128::from(-m.delta) * 100, i128::from(before));
            out.push(flag(
                LARGE_NEGATIVE_ADJUSTMENT,
                &s.id,
                "stock_movement",
                &m.id,
                format!(
                    "A {} of {name} on {day} removed {} {unit} of the {} {unit} on hand ({percent}%)",
                    m.kind,
                    Quantity(-m.delta),
                    Quantity(before),
                ),
            ));
        }
    }

    out.extend(missing_rates(conn, all, &in_scope, &order)?);

    // Bills past their due date (shelter-local) and not paid in full.
    for s in scoped {
        let today = today_of(s);
        for b in repo::overdue_bills(conn, &s.id, today)? {
            let days = (today - b.due_on).num_days();
            out.push(flag(
                OVERDUE_BILL,
                &s.id,
                "bill",
                &b.id,
                format!(
                    "Bill of {} due on {} is {days} days overdue with {} unpaid",
                    money_text(b.amount, &b.currency),
                    b.due_on,
                    money_text(b.amount - b.paid, &b.currency),
                ),
            ));
        }
    }
    Ok(out)
}

/// Whether a donation's restriction lets it pay for this need.
fn admits(d: &DonationRow, n: &repo::OpenMoneyNeed) -> bool {
    if let Some(need) = &d.restriction_need_id {
        return *need == n.id;
    }
    d.restriction_shelter_id
        .as_ref()
        .is_none_or(|s| *s == n.shelter_id)
        && d.restriction_category
            .as_ref()
            .is_none_or(|c| *c == n.category)
}

/// Received money with something unallocated that a shelter with open needs inside its
/// restriction cannot receive for want of a rate in force on the day it arrived.
fn missing_rates(
    conn: &mut DbConnection,
    all: &[ShelterRow],
    in_scope: &HashMap<&str, &ShelterRow>,
    order: &HashMap<&str, usize>,
) -> ApiResult<Vec<ReportFlag>> {
    let mut waiting: Vec<DonationRow> = refugio_db::donations::waiting(conn)?
        .into_iter()
        .filter(|d| d.kind == "money")
        .collect();
    if waiting.is_empty() {
        return Ok(Vec::new());
    }
    waiting.sort_by(|a, b| (a.received_at, &a.id).cmp(&(b.received_at, &b.id)));
    let needs = repo::open_money_needs(conn)?;
    let names: HashMap<&str, &str> = all
        .iter()
        .map(|s| (s.id.as_str(), s.name.as_str()))
        .collect();
    let mut rates: HashMap<(String, String, NaiveDate), bool> = HashMap::new();
    let mut out: Vec<(usize, ReportFlag)> = Vec::new();
    for d in &waiting {
        let (Some(currency), Some(on)) = (d.currency.as_deref(), d.received_on) else {
            continue;
        };
        // The shelters (and their currencies) this money could go to, were there a rate.
        let reachable: BTreeSet<(&str, &str)> = needs
            .iter()
            .filter(|n| n.currency != currency && in_scope.contains_key(n.shelter_id.as_str()))
            .filter(|n| admits(d, n))
            .map(|n| (n.shelter_id.as_str(), n.currency.as_str()))
            .collect();
        for (shelter_id, quote) in reachable {
            let key = (currency.to_owned(), quote.to_owned(), on);
            let has_rate = match rates.get(&key) {
                Some(known) => *known,
                None => {
                    let found = refugio_db::fx_rates::in_force(conn, currency, quote, on)?
                        .and_then(Rate::from_millionths)
                        .is_some();
                    rates.insert(key, found);
                    found
                }
            };
            if has_rate {
                continue;
            }
            out.push((
                order.get(shelter_id).copied().unwrap_or(usize::MAX),
                flag(
                    MISSING_FX_RATE,
                    shelter_id,
                    "donation",
                    &d.id,
                    format!(
                        "Donation received on {on} has {} unallocated: no {currency} → {quote} \
                         rate in force on that date for the open needs of {}",
                        money_text(d.unallocated.unwrap_or(0), currency),
                        names.get(shelter_id).copied().unwrap_or(shelter_id),
                    ),
                ),
            ));
        }
    }
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, f)| f).collect())
}

/// A field for CSV (RFC 4180): quoted when it holds a comma, a quote or a line break.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// The report as CSV (RFC 4180, CRLF line ends): the header, then one row per shelter ×
/// category, amounts as decimal strings in the shelter's currency.
pub fn csv(report: &SpendingReport) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push_str("\r\n");
    for s in &report.shelters {
        for c in &s.categories {
            let fields = [
                s.shelter_id.as_str(),
                s.name.as_str(),
                s.currency.as_str(),
                c.category.as_str(),
                c.allocated.amount.as_str(),
                c.spent_from_donations.amount.as_str(),
                c.spent_own_funds.amount.as_str(),
                c.unspent_allocated.amount.as_str(),
            ];
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

/// A stock movement in a trace.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TraceMovement {
    pub id: String,
    pub item_id: String,
    /// `receipt | consumption | waste | adjustment | count`.
    pub kind: String,
    #[schema(value_type = f64)]
    pub quantity: serde_json::Value,
    /// The signed change to on hand.
    #[schema(value_type = f64)]
    pub delta: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
}

/// The need an allocation went to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TraceNeed {
    pub id: String,
    pub shelter_id: String,
    /// `item | bill | manual`.
    pub kind: String,
    pub category: String,
    /// Donors read the public title (a bill's is what it is for, never the payee).
    pub title: String,
    pub status: String,
}

/// The expense itself.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TraceExpenseDetail {
    pub id: String,
    /// The whole expense, shelter currency.
    pub amount: MoneyJson,
    pub spent_on: NaiveDate,
    pub description: String,
    pub receipt_ref: Option<String>,
    pub category: String,
}

/// An expense an allocation paid for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TraceExpense {
    pub expense_id: String,
    /// This donation's share of it, through this allocation (shelter currency).
    pub amount: MoneyJson,
    pub expense: TraceExpenseDetail,
    /// The stock movements that name the expense (receipts of the goods it bought).
    pub movements: Vec<TraceMovement>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TraceAllocation {
    pub allocation: AllocationView,
    pub need: TraceNeed,
    /// Oldest first.
    pub expenses: Vec<TraceExpense>,
}

/// `GET /donations/{did}/trace`: donation → allocations → needs → expenses → receipts → stock.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DonationTrace {
    pub donation: DonationView,
    /// Money: where it went, oldest first. In kind: empty.
    pub allocations: Vec<TraceAllocation>,
    /// In kind: the receipts that name the donation. Money: empty (its goods are under each
    /// expense).
    pub movements: Vec<TraceMovement>,
}

fn trace_movement(m: MovementRow) -> TraceMovement {
    TraceMovement {
        quantity: Quantity(m.quantity).to_json(),
        delta: Quantity(m.delta).to_json(),
        occurred_at: m.occurred_at.and_utc(),
        id: m.id,
        item_id: m.item_id,
        kind: m.kind,
    }
}

/// The whole chain of a donation the caller may see (else `404`, as `GET /donations/{did}`).
/// Donors read needs' public titles; everyone else also sees a bill's payee, as on the board.
pub fn trace(
    conn: &mut DbConnection,
    caller: &Caller,
    id: &str,
    lang: Locale,
) -> ApiResult<DonationTrace> {
    let d = donations::visible(conn, caller, id)?;
    let rows = refugio_db::donations::allocations_of_donation(conn, &d.id)?;
    let spent = refugio_db::expenses::spent_from_donation(conn, &d.id)?;
    let expense_ids: Vec<String> = spent
        .iter()
        .map(|(_, e)| e.id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut movements_by_expense: HashMap<String, Vec<MovementRow>> = HashMap::new();
    for m in repo::movements_of_expenses(conn, &expense_ids)? {
        let key = m.expense_id.clone().unwrap_or_default();
        movements_by_expense.entry(key).or_default().push(m);
    }
    // Per allocation, its expenses in order with this donation's share of each.
    let mut by_allocation: HashMap<String, Vec<(refugio_db::expenses::ExpenseRow, i64)>> =
        HashMap::new();
    for (f, e) in spent {
        let list = by_allocation.entry(f.allocation_id.clone()).or_default();
        match list.iter_mut().find(|(seen, _)| seen.id == e.id) {
            Some((_, share)) => *share += f.amount,
            None => list.push((e, f.amount)),
        }
    }
    let public = caller.role == Role::Donor;
    let mut allocations = Vec::new();
    for a in rows {
        let need = refugio_db::needs::by_id(conn, &a.need_id)?
            .ok_or_else(|| ApiError::internal("allocation without its need"))?;
        let title = match (&need.bill_id, public) {
            (_, true) => crate::services::needs::public_title(conn, &need, lang)?,
            (Some(_), false) => format!(
                "{} ({})",
                crate::services::needs::public_title(conn, &need, lang)?,
                need.title
            ),
            (None, false) => need.title.clone(),
        };
        let expenses = by_allocation
            .remove(&a.id)
            .unwrap_or_default()
            .into_iter()
            .map(|(e, share)| TraceExpense {
                expense_id: e.id.clone(),
                amount: money_json(share, &e.currency),
                movements: movements_by_expense
                    .get(&e.id)
                    .map(|ms| ms.iter().cloned().map(trace_movement).collect())
                    .unwrap_or_default(),
                expense: TraceExpenseDetail {
                    amount: money_json(e.amount, &e.currency),
                    id: e.id,
                    spent_on: e.spent_on,
                    description: e.description,
                    receipt_ref: e.receipt_ref,
                    category: e.category,
                },
            })
            .collect();
        allocations.push(TraceAllocation {
            allocation: donations::allocation_view(a),
            need: TraceNeed {
                id: need.id,
                shelter_id: need.shelter_id,
                kind: need.kind,
                category: need.category,
                title,
                status: need.status,
            },
            expenses,
        });
    }
    let movements = if d.kind == "in_kind" {
        repo::movements_of_donation(conn, &d.id)?
            .into_iter()
            .map(trace_movement)
            .collect()
    } else {
        Vec::new()
    };
    Ok(DonationTrace {
        donation: donations::view(conn, d)?,
        allocations,
        movements,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usd_is_the_inverted_rate_rounded_half_to_even() {
        // 1725.00 MXN at 17.25 MXN per USD = 100.00 USD.
        assert_eq!(to_usd(172_500, "MXN", 17_250_000), 10_000);
        // 1.00 MXN at 17.25: 5.797… cents → 6.
        assert_eq!(to_usd(100, "MXN", 17_250_000), 6);
        // Ties go to even: 0.25 MXN at 10 → 2.5 cents → 2; 0.35 → 3.5 → 4.
        assert_eq!(to_usd(25, "MXN", 10_000_000), 2);
        assert_eq!(to_usd(35, "MXN", 10_000_000), 4);
        assert_eq!(to_usd(-35, "MXN", 10_000_000), -4);
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        assert_eq!(csv_field("Casa A"), "Casa A");
        assert_eq!(csv_field("Casa, \"A\""), "\"Casa, \"\"A\"\"\"");
        assert_eq!(csv_field("a\nb"), "\"a\nb\"");
    }

    #[test]
    fn a_fifth_is_not_more_than_a_fifth() {
        let m = |delta: i64, after: i64| MovementRow {
            id: String::new(),
            shelter_id: String::new(),
            item_id: String::new(),
            kind: "count".into(),
            quantity: 0,
            delta,
            on_hand_after: after,
            occurred_at: NaiveDateTime::default(),
            recorded_at: NaiveDateTime::default(),
            recorded_by: String::new(),
            note: None,
            donation_id: None,
            expense_id: None,
        };
        assert!(!removes_over_a_fifth(&m(-20_000, 80_000)));
        assert!(removes_over_a_fifth(&m(-20_001, 79_999)));
        assert!(!removes_over_a_fifth(&m(5_000, 100_000)));
    }
}
