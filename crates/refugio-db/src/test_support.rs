//! Fresh, migrated databases for tests: a SQLite file in a temporary folder, or a new
//! PostgreSQL database on the server named by `REFUGIO_TEST_POSTGRES_URL`, dropped afterwards.

use crate::connection::{DatabaseUrl, DbConnection};
use diesel::RunQueryDsl;
use std::path::PathBuf;

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests use, when configured.
pub fn postgres_base_url() -> Option<String> {
    std::env::var("REFUGIO_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A database that exists for as long as this value lives.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    pub backend: Backend,
    dir: PathBuf,
    pg_admin: Option<(String, String)>,
}

impl TestDatabase {
    /// A new empty database on `backend`, with all migrations applied. Panics with a clear
    /// message if PostgreSQL is asked for but not configured: a silent skip would hide it.
    pub fn new(backend: Backend) -> TestDatabase {
        let dir = std::env::temp_dir().join(format!("refugio-test-{}", refugio_core::new_id()));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        let (url, pg_admin) = match backend {
            Backend::Sqlite => (DatabaseUrl::sqlite_in(&dir), None),
            Backend::Postgres => {
                let base = postgres_base_url()
                    .expect("REFUGIO_TEST_POSTGRES_URL must name a PostgreSQL server for the _postgres tests");
                let name = format!("refugio_t_{}", refugio_core::new_id().replace('-', ""));
                let mut admin = DatabaseUrl::parse(&base)
                    .expect("valid REFUGIO_TEST_POSTGRES_URL")
                    .connect()
                    .expect("connect to PostgreSQL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create a test database");
                let url = replace_database(&base, &name);
                (DatabaseUrl::Postgres(url), Some((base, name)))
            }
        };
        let mut conn = url.connect().expect("connect to the test database");
        crate::migrations::run_pending(&mut conn).expect("migrate the test database");
        TestDatabase {
            url,
            backend,
            dir,
            pg_admin,
        }
    }

    pub fn connect(&self) -> DbConnection {
        self.url.connect().expect("connect to the test database")
    }

    /// The URL as a `DATABASE_URL`/`--database-url` string.
    pub fn url_string(&self) -> String {
        match &self.url {
            DatabaseUrl::Postgres(u) => u.clone(),
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        }
    }

    /// A temporary folder for this test (the SQLite file lives here too).
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((base, name)) = &self.pg_admin {
            if let Ok(mut admin) = DatabaseUrl::Postgres(base.clone()).connect() {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `base` with its database name replaced by `name` (query string kept).
fn replace_database(base: &str, name: &str) -> String {
    let (head, query) = base
        .split_once('?')
        .map_or((base, None), |(h, q)| (h, Some(q)));
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let path_start = head[scheme_end..]
        .find('/')
        .map_or(head.len(), |i| scheme_end + i);
    let mut url = format!("{}/{}", &head[..path_start], name);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// Declares each listed `fn name(backend: Backend)` as two tests, `name::sqlite` and
/// `name::postgres`, so every database test runs on both backends.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name($crate::test_support::Backend::Sqlite)
                }
                #[test]
                fn postgres() {
                    super::$name($crate::test_support::Backend::Postgres)
                }
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            super::replace_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            super::replace_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(
            super::replace_database("postgres://u@h", "x"),
            "postgres://u@h/x"
        );
    }
}
