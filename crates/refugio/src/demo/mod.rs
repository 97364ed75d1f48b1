//! `refugio demo`: loads a demonstration data set (three shelters, 60 days of history) into a
//! database with no shelters, and prints the demo logins.
//!
//! The data goes in through the real HTTP API, served in this process on a free local port, so
//! it obeys every rule real use does: stock never negative, needs made by the engine, money
//! allocated by the allocator, every change in the audit log. Only the demo's own admin is
//! created directly, as `refugio admin create` does.

mod client;
mod clock;
mod data;
mod setup;
mod stock;
mod story;
mod world;

use crate::config::{DatabaseArgs, ServeArgs};
use crate::startup::{connect_and_migrate, Application};
use anyhow::{bail, Context};
use refugio_db::Pool;
use std::time::{Duration, Instant};
use world::Tally;

/// What was loaded, for the closing message.
pub struct Loaded {
    tally: Tally,
    took: Duration,
}

pub fn run(db: &DatabaseArgs) -> anyhow::Result<Loaded> {
    let started = Instant::now();
    let pool = connect_and_migrate(&db.database_url()?)?;
    refuse_unless_empty(&pool)?;
    let email = refugio_core::Email::parse(data::ADMIN.email)
        .map_err(|_| anyhow::anyhow!("invalid demo admin email"))?;
    crate::admin::insert(&pool, email, data::ADMIN.name.into(), data::PASSWORD)?;
    let tally = actix_web::rt::System::new().block_on(load(serve_args(db), pool))?;
    Ok(Loaded {
        tally,
        took: started.elapsed(),
    })
}

/// Nothing is written unless the database has no shelters and none of the demo's emails.
fn refuse_unless_empty(pool: &Pool) -> anyhow::Result<()> {
    let mut conn = pool.get().context("no database connection")?;
    if !refugio_db::shelters::page_by_name(&mut conn, None, 1)?.is_empty() {
        bail!("the database already has shelters; the demo loads only into a database without any (nothing was written)");
    }
    for person in data::people() {
        if refugio_db::users::email_taken(&mut conn, person.email)? {
            bail!(
                "an account with the email {} already exists; the demo needs its own accounts (nothing was written)",
                person.email
            );
        }
    }
    Ok(())
}

/// A server for this run only: a local free port, a throwaway signing key, emails as files.
fn serve_args(db: &DatabaseArgs) -> ServeArgs {
    let mut secret = [0u8; 48];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    ServeArgs {
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        db: db.clone(),
        jwt_secret: Some(hex::encode(secret)),
        smtp_url: None,
        mail_from: mail(db).from,
        trusted_proxies: Vec::new(),
        refresh_ttl_hours: 12,
        pledge_days: 14,
        workers: Some(2),
    }
}

/// Serves, drives the story through the API, stops the server, then writes out the emails the
/// story queued (as `.eml` files), so that none is left for a later server to send.
async fn load(args: ServeArgs, pool: Pool) -> anyhow::Result<Tally> {
    let app = Application::build(&args)?;
    let port = app.port;
    let handle = app.handle();
    let server = actix_web::rt::spawn(app.run_until_stopped());
    let loaded = drive(port).await;
    handle.stop(true).await;
    server.await.context("the demo server failed")??;
    let tally = loaded.context(
        "the demo stopped part-way; the database holds part of the demo data: load it again into an empty database",
    )?;
    let worker = refugio_mail::Worker::new(pool, mail(&args.db))?;
    while worker.deliver_due().await? > 0 {}
    Ok(tally)
}

/// Emails become `.eml` files in the data dir: the demo's addresses are not real.
fn mail(db: &DatabaseArgs) -> refugio_mail::MailConfig {
    refugio_mail::MailConfig::new(refugio_mail::Transport::Files {
        dir: db.data_dir.join("outbox"),
    })
}

async fn drive(port: u16) -> anyhow::Result<Tally> {
    let clock = clock::Clock::new(data::TIMEZONE)?;
    let mut world = setup::build(client::Api::new(port)?, clock).await?;
    story::replay(&mut world).await?;
    let verified = world.api.get("/audit/verify", &world.admin).await?;
    anyhow::ensure!(
        verified["ok"] == true,
        "the audit log does not verify: {verified}"
    );
    Ok(world.tally)
}

/// The `--database-url` to serve with: as given, unless that would print a password.
fn shown_url(given: &str) -> String {
    let userinfo = given
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .map(|(userinfo, _)| userinfo);
    match refugio_db::DatabaseUrl::parse(given) {
        Ok(url) if userinfo.is_some_and(|u| u.contains(':')) => {
            format!(" --database-url '{}' (with its password)", url.display())
        }
        _ => format!(" --database-url '{given}'"),
    }
}

/// Prints what was loaded, the logins and how to serve the data.
#[allow(clippy::print_stdout)]
pub fn print(loaded: &Loaded, db: &DatabaseArgs) {
    let t = &loaded.tally;
    println!(
        "Loaded the Refugio demo in {} s: {} shelters and {} days of history, with {} stock movements, {} occupancy records, {} bills, {} expenses, {} money gifts, {} in-kind gifts and {} FX rates.",
        loaded.took.as_secs(),
        data::SHELTERS.len(),
        data::HISTORY_DAYS,
        t.movements,
        t.occupancy,
        t.bills,
        t.expenses,
        t.money_gifts,
        t.in_kind,
        t.fx_rates
    );
    println!();
    println!("Demo logins (these passwords are public: use this database only to try Refugio):");
    let line = |role: &str, email: &str, about: &str| {
        println!("  {role:<13} {email:<34} {:<19} {about}", data::PASSWORD);
    };
    line("admin", data::ADMIN.email, data::ADMIN.name);
    line("auditor", data::AUDITOR.email, data::AUDITOR.name);
    for shelter in &data::SHELTERS {
        line("manager", shelter.manager.email, shelter.name);
        line("coordinator", shelter.coordinator.email, shelter.name);
    }
    let sarah = &data::DONORS[data::SARAH];
    let lucia = &data::DONORS[data::LUCIA];
    line(
        "donor",
        sarah.email,
        &format!("{}, gives in USD, reads English", sarah.name),
    );
    line(
        "donor",
        lucia.email,
        &format!("{}, gives in MXN, reads Spanish", lucia.name),
    );
    println!();
    println!("Serve it with:");
    println!(
        "  refugio serve --data-dir {}{}",
        db.data_dir.display(),
        db.database_url
            .as_deref()
            .map(shown_url)
            .unwrap_or_default()
    );
    println!("then log in with POST http://127.0.0.1:8080/api/v1/auth/login and look at GET /api/v1/needs.");
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_serve_hint_never_prints_a_password() {
        let shown = super::shown_url("postgres://refugio:s3cret@db:5432/refugio");
        assert!(
            shown.contains("refugio:***@db") && !shown.contains("s3cret"),
            "{shown}"
        );
        let plain = "postgres://postgres@127.0.0.1:5432/demo";
        assert_eq!(
            super::shown_url(plain),
            format!(" --database-url '{plain}'")
        );
    }
}
