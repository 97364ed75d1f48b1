//! `/reports/spending`: what each shelter was allocated and spent in a period, per need
//! category, what money came in, and the auditors' flags (admins, auditors; a manager for their
//! own shelter), as JSON or CSV. `/donations/{did}/trace`: the whole chain of one donation, from
//! the gift to the stock it bought (whoever may see the donation).

use crate::auth::Caller;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::localize::lang_of;
use crate::services::reports::{self, DonationTrace, SpendingReport};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;

const FORMATS: &[&str] = &["json", "csv"];

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SpendingQuery {
    /// One shelter (its managers may ask for it); every shelter when absent (admins, auditors).
    pub shelter_id: Option<String>,
    /// First date, inclusive, `YYYY-MM-DD`, read in each shelter's time zone (default: the
    /// first of `to`'s month).
    pub from: Option<String>,
    /// Last date, inclusive (default: today, the shelter's local date; for every shelter, the
    /// latest local date of any of them).
    pub to: Option<String>,
    /// `json` (default) or `csv`; `Accept: text/csv` also asks for CSV.
    pub format: Option<String>,
}

fn date(name: &str, value: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => crate::validate::parse_date(v)
            .map(Some)
            .ok_or_else(|| ApiError::BadQuery(format!("{name} must be a date, YYYY-MM-DD"))),
    }
}

/// The weight `q` an `Accept` header gives to `wanted` (`type/subtype`), by its most specific
/// matching range; 0 when nothing matches.
fn accept_weight(accept: &str, wanted: &str) -> (u8, f32) {
    let (kind, _) = wanted.split_once('/').unwrap_or((wanted, ""));
    let mut best: (u8, f32) = (0, 0.0);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let specificity = if media == wanted {
            3
        } else if media == format!("{kind}/*") {
            2
        } else if media == "*/*" {
            1
        } else {
            continue;
        };
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if specificity > best.0 {
            best = (specificity, q);
        }
    }
    best
}

/// Whether the client asked for CSV: `?format=csv`, or (without `format`) an `Accept` header
/// that prefers `text/csv` to JSON.
fn wants_csv(format: Option<&str>, accept: Option<&str>) -> ApiResult<bool> {
    match format.map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) if f.eq_ignore_ascii_case("csv") => Ok(true),
        Some(f) if f.eq_ignore_ascii_case("json") => Ok(false),
        Some(_) => Err(ApiError::BadQuery(format!(
            "format must be one of: {}",
            FORMATS.join(", ")
        ))),
        None => Ok(accept.is_some_and(|a| {
            let (csv_specificity, csv) = accept_weight(a, "text/csv");
            let (_, json) = accept_weight(a, "application/json");
            csv_specificity > 1 && csv > 0.0 && csv >= json
        })),
    }
}

/// The spending report: per shelter and need category, what the period's allocations hold
/// (`allocated`), what its expenses drew from donations and from the shelter's own money, and
/// `unspent_allocated = allocated − spent_from_donations`; totals, also in USD; the money
/// donations of the period by currency; and the flags for auditors. With `format=csv` or
/// `Accept: text/csv`: one row per shelter × category.
#[utoipa::path(tag = "reports", params(SpendingQuery),
    responses((status = 200, content((SpendingReport = "application/json"), (String = "text/csv"))),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/reports/spending")]
pub async fn spending(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<SpendingQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let shelter_id = q
        .shelter_id
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    // Authorization is decided before the query is validated.
    let csv = wants_csv(q.format.as_deref(), accept);
    let format_ok = csv.clone().map(drop);
    let from = date("from", q.from.as_deref());
    let to = date("to", q.to.as_deref());
    let report = db::read(&state, move |c| {
        reports::may_read(c, &caller, shelter_id.as_deref())?;
        let (from, to) = (from?, to?);
        format_ok?;
        reports::spending(c, shelter_id.as_deref(), from, to)
    })
    .await?;
    if csv? {
        let name = format!("refugio-spending-{}-{}.csv", report.from, report.to);
        Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ))
            .insert_header((header::VARY, "Accept"))
            .body(reports::csv(&report)))
    } else {
        Ok(HttpResponse::Ok()
            .insert_header((header::VARY, "Accept"))
            .json(report))
    }
}

/// One donation's whole chain: the donation, each allocation with its need (donors read the
/// public title), the expenses it paid with this donation's share, and the stock movements
/// that name those expenses; for goods in kind, the receipts that name the donation. Who may
/// see the donation may see its trace (its donor, admins, auditors, and for goods the receiving
/// shelter's staff); anyone else: `404`.
#[utoipa::path(tag = "donations", params(("did" = String, Path)),
    responses((status = 200, body = DonationTrace), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/donations/{did}/trace")]
pub async fn trace(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    if !refugio_core::ids::is_well_formed(&id) {
        return Err(ApiError::NotFound);
    }
    let lang = lang_of(&req);
    let view = db::read(&state, move |c| reports::trace(c, &caller, &id, lang)).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[cfg(test)]
mod tests {
    use super::wants_csv;

    #[test]
    fn csv_is_asked_for_by_format_or_accept() {
        assert_eq!(wants_csv(Some("csv"), None).ok(), Some(true));
        assert_eq!(wants_csv(Some("json"), Some("text/csv")).ok(), Some(false));
        assert!(wants_csv(Some("xml"), None).is_err());
        assert_eq!(wants_csv(None, Some("text/csv")).ok(), Some(true));
        assert_eq!(wants_csv(None, Some("text/*")).ok(), Some(true));
        assert_eq!(wants_csv(None, Some("*/*")).ok(), Some(false));
        assert_eq!(wants_csv(None, None).ok(), Some(false));
        assert_eq!(
            wants_csv(None, Some("application/json, text/csv;q=0.5")).ok(),
            Some(false)
        );
        assert_eq!(
            wants_csv(None, Some("text/csv, application/json;q=0.9")).ok(),
            Some(true)
        );
    }
}
