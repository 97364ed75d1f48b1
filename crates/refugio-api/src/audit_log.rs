//! Writing audit events from services: ids, amounts and statuses only, never emails or names.

use crate::error::ApiResult;
use refugio_db::audit::{append, NewEvent};
use refugio_db::DbConnection;
use serde_json::Value;

/// Appends an event to the shelter's chain (or the platform's when `shelter_id` is `None`).
pub fn record(
    conn: &mut DbConnection,
    actor_id: Option<&str>,
    shelter_id: Option<&str>,
    action: &str,
    entity: (&str, &str),
    data: Value,
) -> ApiResult<()> {
    append(
        conn,
        NewEvent {
            actor_id,
            shelter_id,
            action,
            entity: entity.0,
            entity_id: entity.1,
            data,
        },
    )?;
    Ok(())
}
