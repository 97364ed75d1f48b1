//! `/audit/*`: reading and verifying the hash chains (admins and auditors).

use crate::auth::{caller::Overseers, Only};
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::pagination::{bad_cursor, encode_cursor, Page, PageQuery};
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, SecondsFormat, Utc};
use refugio_core::audit::{verify_chain, AuditEvent};
use refugio_db::audit::EventFilter;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct EventQuery {
    /// A shelter id, or `platform` for the platform chain.
    pub shelter_id: Option<String>,
    pub actor_id: Option<String>,
    pub entity: Option<String>,
    /// RFC 3339, inclusive.
    pub from: Option<String>,
    /// RFC 3339, exclusive.
    pub to: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The stored form of a timestamp bound, comparable with the events' `at` text.
fn bound(name: &str, value: &Option<String>) -> ApiResult<Option<String>> {
    value
        .as_deref()
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| {
                    t.with_timezone(&Utc)
                        .to_rfc3339_opts(SecondsFormat::Micros, true)
                })
                .map_err(|_| ApiError::BadQuery(format!("{name} must be an RFC 3339 timestamp")))
        })
        .transpose()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<String>,
    pub shelter_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub data: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditEvent> for EventView {
    fn from(e: AuditEvent) -> EventView {
        EventView {
            seq: e.seq,
            at: e.at,
            actor_id: e.actor_id,
            shelter_id: e.shelter_id,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            data: e.data,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// Audit events by chain then seq, with filters.
#[utoipa::path(tag = "audit", params(EventQuery),
    responses((status = 200, body = Page<EventView>), (status = 403, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/audit/events")]
pub async fn events(
    state: web::Data<AppState>,
    _who: Only<Overseers>,
    query: web::Query<EventQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor.clone(),
    };
    let limit = page.limit()?;
    let after = match page.cursor::<2>()? {
        Some([chain, seq]) => Some((chain, seq.parse().map_err(|_| bad_cursor())?)),
        None => None,
    };
    let filter = EventFilter {
        chain: q.shelter_id.clone(),
        actor_id: q.actor_id.clone(),
        entity: q.entity.clone(),
        from: bound("from", &q.from)?,
        to: bound("to", &q.to)?,
        after,
    };
    let rows = db::read(&state, move |c| {
        Ok(refugio_db::audit::list(c, &filter, limit + 1)?)
    })
    .await?;
    let page = Page::from_rows(
        rows,
        limit,
        |e| encode_cursor(&[e.chain(), &e.seq.to_string()]),
        EventView::from,
    );
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct VerifyQuery {
    /// One chain (a shelter id or `platform`); all chains when absent.
    pub shelter_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    pub ok: bool,
    /// Events checked.
    pub checked: u64,
    /// The broken chain (`platform` or a shelter id), when not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shelter_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad_seq: Option<i64>,
}

const VERIFY_BATCH: i64 = 1000;

/// Checks one chain against its stored head; `Err((seq))` is the first bad event.
fn verify_one(conn: &mut refugio_db::DbConnection, chain: &str) -> ApiResult<Result<u64, i64>> {
    let Some((head_seq, head_hash)) = refugio_db::audit::head(conn, chain)? else {
        return Ok(Ok(0));
    };
    let mut chain_events = Vec::new();
    let mut after = 0;
    loop {
        let batch = refugio_db::audit::chain_page(conn, chain, after, VERIFY_BATCH)?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        chain_events.extend(batch);
    }
    if let Err(b) = verify_chain(chain, &chain_events) {
        return Ok(Err(b.first_bad_seq));
    }
    // Events cut off the end of the chain leave the head pointing past them.
    let last = chain_events
        .last()
        .map_or((0, refugio_core::audit::GENESIS_HASH), |e| {
            (e.seq, e.hash.as_str())
        });
    if last.0 != head_seq || last.1 != head_hash {
        return Ok(Err(last.0 + 1));
    }
    Ok(Ok(chain_events.len() as u64))
}

/// Recomputes every hash of one chain or all of them.
#[utoipa::path(tag = "audit", params(VerifyQuery),
    responses((status = 200, body = VerifyReport), (status = 403, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/audit/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    _who: Only<Overseers>,
    query: web::Query<VerifyQuery>,
) -> ApiResult<HttpResponse> {
    let only = query.into_inner().shelter_id;
    let report = db::read(&state, move |c| {
        let chains = match only {
            Some(chain) => vec![chain],
            None => refugio_db::audit::chains(c)?,
        };
        let mut checked = 0;
        for chain in chains {
            match verify_one(c, &chain)? {
                Ok(n) => checked += n,
                Err(seq) => {
                    return Ok(VerifyReport {
                        ok: false,
                        checked,
                        shelter_id: Some(chain),
                        first_bad_seq: Some(seq),
                    });
                }
            }
        }
        Ok(VerifyReport {
            ok: true,
            checked,
            shelter_id: None,
            first_bad_seq: None,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// One chain (a shelter id or `platform`); all chains when absent.
    pub shelter_id: Option<String>,
}

/// The audit chains as NDJSON, to check offline with `refugio audit verify`.
///
/// One event a line, exactly as stored and hashed, the platform chain first and then the
/// shelters' by id, each by seq. Read and sent a batch at a time: a read that fails midway cuts
/// the connection (the client sees an incomplete transfer), never a shorter file that looks
/// whole.
#[utoipa::path(tag = "audit", params(ExportQuery),
    responses((status = 200, description = "One audit event (the fields of `EventView`) per line.",
            content((String = "application/x-ndjson"))),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/audit/export")]
pub async fn export(
    state: web::Data<AppState>,
    _who: Only<Overseers>,
    query: web::Query<ExportQuery>,
) -> ApiResult<HttpResponse> {
    let only = query.into_inner().shelter_id;
    let cursor = db::read(&state, move |c| {
        refugio_db::audit_export::ExportCursor::new(c, only.as_deref())?.ok_or(ApiError::NotFound)
    })
    .await?;
    let pool = state.pool.clone();
    let batches = futures_util::stream::try_unfold(cursor, move |mut cursor| {
        let pool = pool.clone();
        async move {
            let read = web::block(move || -> ApiResult<_> {
                let batch =
                    cursor.next_batch(&mut *pool.get()?, refugio_db::audit_export::EXPORT_BATCH)?;
                Ok((batch, cursor))
            })
            .await
            .map_err(ApiError::from)
            .and_then(|r| r);
            let (batch, cursor) = read.map_err(|e| {
                tracing::error!(error = %e, "audit export failed midway");
                std::io::Error::other(e.to_string())
            })?;
            if batch.is_empty() {
                return Ok(None);
            }
            let mut text = String::new();
            refugio_core::audit_export::write_export(&mut text, &batch);
            Ok::<_, std::io::Error>(Some((web::Bytes::from(text), cursor)))
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(batches))
}
