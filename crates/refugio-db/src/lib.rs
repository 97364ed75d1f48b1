//! Persistence for Refugio: schema, migrations, the dual-backend connection pool, and one
//! repository module per aggregate. Repositories take a `&mut DbConnection` so the caller decides
//! the transaction; they never open one of their own.

pub mod audit;
pub mod audit_anchors;
pub mod audit_export;
pub mod bills;
pub mod connection;
pub mod donations;
pub mod expenses;
pub mod fx_rates;
pub mod idempotency;
pub mod invitations;
pub mod items;
pub mod migrations;
pub mod needs;
pub mod occupancy;
pub mod outbox;
pub mod password_resets;
pub mod reports;
pub mod schema;
pub mod sessions;
pub mod shelters;
pub mod stock;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod throttle;
pub mod users;

pub use connection::{pool, write_transaction, DatabaseUrl, DbConnection, Pool, PooledConnection};
pub use diesel::r2d2::PoolError;
pub use diesel::result::Error as DbError;

/// A trivial round trip: whether the database answers.
pub fn ping(conn: &mut DbConnection) -> Result<(), DbError> {
    use diesel::RunQueryDsl;
    diesel::sql_query("SELECT 1").execute(conn).map(drop)
}

/// The time every row is stamped with: UTC, to the microsecond (what PostgreSQL keeps).
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Utc};
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// Whether a diesel error is a unique-constraint violation (duplicate key).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Whether the database aborted the transaction because of a concurrent one (a deadlock or a
/// serialization failure): nothing was written and retrying is safe.
pub fn is_transient_conflict(e: &diesel::result::Error) -> bool {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::SerializationFailure,
            _,
        ) => true,
        diesel::result::Error::DatabaseError(_, info) => {
            info.message().contains("deadlock detected")
        }
        _ => false,
    }
}
