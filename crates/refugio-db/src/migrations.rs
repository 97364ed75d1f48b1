//! Embedded migrations, one folder per backend with the same migration names.

use crate::connection::DbConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

pub type MigrationError = Box<dyn std::error::Error + Send + Sync>;

fn source(conn: &DbConnection) -> EmbeddedMigrations {
    match conn {
        DbConnection::Pg(_) => POSTGRES,
        DbConnection::Sqlite(_) => SQLITE,
    }
}

/// Applies every pending migration; returns the names of those applied.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, MigrationError> {
    let migrations = source(conn);
    let applied = match conn {
        DbConnection::Pg(c) => c.run_pending_migrations(migrations)?,
        DbConnection::Sqlite(c) => c.run_pending_migrations(migrations)?,
    };
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Reverts every applied migration, newest first (used by the up-down-up test).
pub fn revert_all(conn: &mut DbConnection) -> Result<Vec<String>, MigrationError> {
    let migrations = source(conn);
    let reverted = match conn {
        DbConnection::Pg(c) => c.revert_all_migrations(migrations)?,
        DbConnection::Sqlite(c) => c.revert_all_migrations(migrations)?,
    };
    Ok(reverted.iter().map(ToString::to_string).collect())
}
