//! One connection type over SQLite and PostgreSQL, its r2d2 pool, and write transactions.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError, RunQueryDsl};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A connection to whichever backend the database URL names.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which database a URL points at, decided by its scheme alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// `postgres://…`/`postgresql://…` or `sqlite://PATH` (also `sqlite:PATH`).
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(url.to_owned()))
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("the sqlite URL names no file: use sqlite://PATH".into());
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else {
            Err(format!(
                "unsupported database URL {:?}: use sqlite://PATH or postgres://USER@HOST/DB",
                redact(url)
            ))
        }
    }

    /// The default: a SQLite file in the data directory.
    pub fn sqlite_in(data_dir: &Path) -> DatabaseUrl {
        DatabaseUrl::Sqlite(data_dir.join("refugio.db"))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, DatabaseUrl::Postgres(_))
    }

    /// The URL with any password hidden, for logs.
    pub fn display(&self) -> String {
        match self {
            DatabaseUrl::Postgres(u) => redact(u),
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        }
    }

    /// Opens one connection, with SQLite's per-connection pragmas applied.
    pub fn connect(&self) -> Result<DbConnection, ConnectionError> {
        match self {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url).map(DbConnection::Pg),
            DatabaseUrl::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        ConnectionError::BadConnection(format!(
                            "cannot create {}: {e}",
                            parent.display()
                        ))
                    })?;
                }
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                // FULL, not NORMAL: NORMAL can lose acknowledged commits on power loss.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                     PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL;",
                )
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// r2d2 manager that picks the backend from the URL (the derive's `establish` would try
/// each backend in turn, and SQLite accepts any string as a path).
#[derive(Debug, Clone)]
pub struct DbManager {
    url: DatabaseUrl,
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.url.connect().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        diesel::sql_query("SELECT 1")
            .execute(conn)
            .map(|_| ())
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking()
            || <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

pub type Pool = r2d2::Pool<DbManager>;
pub type PooledConnection = r2d2::PooledConnection<DbManager>;

/// A pool of up to `size` connections to `url`, opened as they are needed.
pub fn pool(url: &DatabaseUrl, size: u32) -> Result<Pool, r2d2::PoolError> {
    r2d2::Pool::builder()
        .max_size(size)
        // No idle minimum: r2d2 would reopen it on a background thread after each checkout,
        // and a short command (a refused `refugio demo`, `migrate`) that exits while libpq is
        // still connecting there crashed with SIGSEGV in about one run in four.
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(10))
        .build(DbManager { url: url.clone() })
}

/// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite (takes the write lock up front,
/// so concurrent writers queue on busy_timeout instead of failing to upgrade), a plain
/// transaction on PostgreSQL (row locks serialize what must be serialized).
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Pg(_) => conn.transaction(f),
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(&mut *inner, "BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(value) => {
                    <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
                    Ok(value)
                }
                Err(e) => {
                    <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)?;
                    Err(e)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_comes_from_the_scheme() {
        assert!(DatabaseUrl::parse("postgres://u:p@h/db").is_ok_and(|u| u.is_postgres()));
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db"),
            Ok(DatabaseUrl::Sqlite("/tmp/x.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://rel/x.db"),
            Ok(DatabaseUrl::Sqlite("rel/x.db".into()))
        );
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("/tmp/x.db").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        let u = DatabaseUrl::parse("postgres://me:secret@db:5432/refugio").expect("valid url");
        assert_eq!(u.display(), "postgres://me:***@db:5432/refugio");
    }
}
