//! Command-line flags and environment, resolved into one validated `Config`.

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use refugio_db::DatabaseUrl;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

#[derive(Debug, Parser)]
#[command(
    name = "refugio",
    version,
    about = "Shelter needs, inventory and donations, every peso traceable."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run migrations, then serve the HTTP API.
    Serve(ServeArgs),
    /// Apply pending migrations and exit.
    Migrate(DatabaseArgs),
    /// Manage administrator accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Export the audit log, or verify an export offline.
    Audit {
        #[command(subcommand)]
        command: crate::audit_cli::AuditCommand,
    },
    /// Load the demo data set (with its own admin) into a database with no shelters.
    Demo(DatabaseArgs),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin; the password comes from REFUGIO_ADMIN_PASSWORD or a prompt.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Admin")]
        name: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// `sqlite://PATH` or `postgres://…`; default `sqlite://<data-dir>/refugio.db`.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Folder for the SQLite file, the generated JWT secret and the `.eml` outbox.
    #[arg(long, env = "REFUGIO_DATA_DIR", default_value = "./refugio-data")]
    pub data_dir: PathBuf,
}

impl DatabaseArgs {
    /// The database to use: the given URL wins over the data dir's default.
    pub fn database_url(&self) -> anyhow::Result<DatabaseUrl> {
        match &self.database_url {
            Some(url) => DatabaseUrl::parse(url).map_err(anyhow::Error::msg),
            None => Ok(DatabaseUrl::sqlite_in(&self.data_dir)),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "REFUGIO_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// HS256 secret of at least 32 bytes; generated into the data dir when unset.
    #[arg(long, env = "REFUGIO_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// `smtp://user:pass@host:587` or `smtps://…`; unset: emails become `.eml` files.
    #[arg(long, env = "REFUGIO_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The `From` of every email.
    #[arg(
        long,
        env = "REFUGIO_MAIL_FROM",
        default_value = "Refugio <no-reply@refugio.local>"
    )]
    pub mail_from: String,
    /// Comma-separated proxy addresses whose `X-Forwarded-For` hop is trusted.
    #[arg(long, env = "REFUGIO_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,
    /// Hours a login session (and its refresh tokens) lasts.
    #[arg(long, env = "REFUGIO_REFRESH_TTL_HOURS", default_value_t = 12)]
    pub refresh_ttl_hours: i64,
    /// Days an in-kind pledge may wait to be received before it expires.
    #[arg(long, env = "REFUGIO_PLEDGE_DAYS", default_value_t = 14)]
    pub pledge_days: i64,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "REFUGIO_WORKERS")]
    pub workers: Option<usize>,
}

pub const MIN_SECRET_BYTES: usize = 32;

/// The JWT secret: the configured one (refused if short), else one generated once and kept
/// in `<data-dir>/jwt-secret`, so restarts keep sessions valid.
pub fn jwt_secret(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = configured {
        if secret.len() < MIN_SECRET_BYTES {
            bail!(
                "REFUGIO_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes (it has {})",
                secret.len()
            );
        }
        return Ok(secret.as_bytes().to_vec());
    }
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= MIN_SECRET_BYTES {
            return Ok(existing.as_bytes().to_vec());
        }
        bail!("{} holds a secret shorter than {MIN_SECRET_BYTES} bytes; delete it or set REFUGIO_JWT_SECRET", path.display());
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let mut bytes = [0u8; 48];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let secret = hex::encode(bytes);
    write_private(&path, &secret)?;
    tracing::warn!(path = %path.display(), "REFUGIO_JWT_SECRET is not set: generated one; set it explicitly when several servers share a database");
    Ok(secret.into_bytes())
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_are_refused_and_generated_ones_are_kept() {
        let dir = std::env::temp_dir().join(format!("refugio-cfg-{}", refugio_core::new_id()));
        assert!(jwt_secret(Some("short"), &dir).is_err());
        let first = jwt_secret(None, &dir).expect("generated");
        assert!(first.len() >= MIN_SECRET_BYTES);
        assert_eq!(jwt_secret(None, &dir).expect("kept"), first);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_given_database_url_wins_over_the_data_dir() {
        let args = DatabaseArgs {
            database_url: None,
            data_dir: "/srv/r".into(),
        };
        assert_eq!(
            args.database_url().expect("url"),
            DatabaseUrl::Sqlite("/srv/r/refugio.db".into())
        );
        let args = DatabaseArgs {
            database_url: Some("postgres://u@h/db".into()),
            data_dir: "/srv/r".into(),
        };
        assert!(args.database_url().expect("url").is_postgres());
    }
}
