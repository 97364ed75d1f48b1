//! Building and running the server: pool, migrations, background workers, HTTP.

use crate::config::{jwt_secret, ServeArgs};
use anyhow::Context;
use refugio_api::{AppState, Settings};
use refugio_db::{DatabaseUrl, Pool};
use refugio_mail::{MailConfig, Transport, Worker};
use std::net::TcpListener;
use std::time::Duration;
use tokio::sync::watch;

/// How often stale idempotency keys and throttle counters are dropped.
const MAINTENANCE_EVERY: Duration = Duration::from_secs(600);
/// How often the server looks for shelters whose local day has turned.
const DAILY_RECOMPUTE_EVERY: Duration = Duration::from_secs(60);

/// Opens a pool and applies pending migrations.
pub fn connect_and_migrate(url: &DatabaseUrl) -> anyhow::Result<Pool> {
    // SQLite serializes writers anyway; a few connections serve concurrent readers.
    let size = if url.is_postgres() { 16 } else { 8 };
    let pool =
        refugio_db::pool(url, size).with_context(|| format!("cannot open {}", url.display()))?;
    let mut conn = pool.get().context("no database connection")?;
    let applied = refugio_db::migrations::run_pending(&mut conn)
        .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    for name in applied {
        tracing::info!(migration = %name, "applied migration");
    }
    Ok(pool)
}

/// A server bound and ready to run (tests bind port 0 and read `port`).
pub struct Application {
    pub port: u16,
    server: actix_web::dev::Server,
    pool: Pool,
    mail: MailConfig,
}

impl Application {
    pub fn build(args: &ServeArgs) -> anyhow::Result<Application> {
        let url = args.db.database_url()?;
        let secret = jwt_secret(args.jwt_secret.as_deref(), &args.db.data_dir)?;
        if args.refresh_ttl_hours < 1 {
            anyhow::bail!("REFUGIO_REFRESH_TTL_HOURS must be at least 1");
        }
        if !(1..=3650).contains(&args.pledge_days) {
            anyhow::bail!("REFUGIO_PLEDGE_DAYS must be from 1 to 3650 days");
        }
        let pool = connect_and_migrate(&url)?;
        let settings = Settings {
            jwt_secret: secret,
            refresh_ttl: chrono::Duration::hours(args.refresh_ttl_hours),
            trusted_proxies: args.trusted_proxies.clone(),
            pledge_ttl: chrono::Duration::days(args.pledge_days),
        };
        let state = AppState::new(pool.clone(), settings).map_err(anyhow::Error::msg)?;
        let transport = match &args.smtp_url {
            Some(url) => Transport::Smtp { url: url.clone() },
            None => Transport::Files {
                dir: args.db.data_dir.join("outbox"),
            },
        };
        let mut mail = MailConfig::new(transport);
        mail.from.clone_from(&args.mail_from);
        let listener = TcpListener::bind(args.bind)
            .with_context(|| format!("cannot listen on {}", args.bind))?;
        let port = listener.local_addr()?.port();
        let workers = args
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        let server = refugio_api::serve(listener, state, workers)?;
        tracing::info!(database = %url.display(), port, "refugio is serving");
        Ok(Application {
            port,
            server,
            pool,
            mail,
        })
    }

    /// A handle that stops the server as SIGTERM would (tests use it to stop cleanly).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT, then lets requests in flight and the email in hand finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let (stop, stopped) = watch::channel(false);
        let worker = Worker::new(self.pool.clone(), self.mail)?;
        let mail = tokio::spawn(worker.run(stopped.clone()));
        let maintenance = tokio::spawn(maintenance(self.pool.clone(), stopped.clone()));
        let recompute = tokio::spawn(daily_recompute(self.pool, stopped));
        let served = self.server.await;
        let _ = stop.send(true);
        let _ = mail.await;
        let _ = maintenance.await;
        let _ = recompute.await;
        tracing::info!("refugio stopped");
        Ok(served?)
    }
}

/// Drops idempotency keys older than 48 hours (they are promised for 24) and throttle
/// counters older than a day (no window is longer than an hour).
async fn maintenance(pool: Pool, mut stopped: watch::Receiver<bool>) {
    loop {
        let pool = pool.clone();
        let result = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            let mut conn = pool.get()?;
            let now = refugio_db::now();
            let keys = refugio_db::idempotency::purge_before(
                &mut conn,
                now - chrono::Duration::hours(48),
            )?;
            let counters =
                refugio_db::throttle::purge_before(&mut conn, now - chrono::Duration::days(1))?;
            Ok(keys + counters)
        })
        .await;
        match result {
            Ok(Ok(n)) if n > 0 => tracing::info!(rows = n, "purged expired keys and counters"),
            Ok(Err(e)) => tracing::warn!(error = %e, "maintenance failed"),
            Err(e) => tracing::warn!(error = %e, "maintenance task failed"),
            _ => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(MAINTENANCE_EVERY) => {}
            _ = stopped.changed() => return,
        }
    }
}

/// One step of the minute loop; returns how many things it changed.
type Step = fn(&Pool) -> refugio_api::error::ApiResult<usize>;

/// Recomputes each shelter's needs once after its local midnight (urgency depends on the
/// date), expires in-kind pledges past their time, and allocates money left waiting; then, on
/// its own, emails the auditors the day's audit checkpoints once per UTC day. Safe to run in
/// every server process: each shelter-day is claimed once, each pledge closed once, each
/// anchoring day claimed once.
async fn daily_recompute(pool: Pool, mut stopped: watch::Receiver<bool>) {
    loop {
        let anchor_pool = pool.clone();
        let pool = pool.clone();
        // Each step on its own: one that fails (say, a shelter whose recompute keeps failing)
        // must not hold back expiring pledges or allocating waiting money.
        match tokio::task::spawn_blocking(move || {
            let steps: [(&str, Step); 3] = [
                (
                    "daily needs recompute",
                    refugio_api::services::needs::daily_recompute,
                ),
                (
                    "pledge expiry",
                    refugio_api::services::donations::expire_pledges,
                ),
                // A safety net: money a side-effect run could not take the allocator for.
                ("settling waiting money", |p| {
                    refugio_api::services::allocations::settle_now(p).map(|()| 0)
                }),
            ];
            steps
                .iter()
                .map(|(step, run)| {
                    run(&pool).unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "{step} failed");
                        0
                    })
                })
                .sum::<usize>()
        })
        .await
        {
            Ok(n) if n > 0 => {
                tracing::info!(changed = n, "recomputed needs, settled pledges and money")
            }
            Err(e) => tracing::warn!(error = %e, "daily needs recompute task failed"),
            _ => {}
        }
        // On its own, so a failure above never holds back the day's audit checkpoints.
        match tokio::task::spawn_blocking(move || {
            refugio_api::services::audit_anchors::anchor_today(&anchor_pool)
        })
        .await
        {
            Ok(Ok(Some(a))) => tracing::info!(
                day = %a.day,
                chains = a.heads.len(),
                auditors = a.recipients,
                "sent the day's audit checkpoints"
            ),
            Ok(Err(e)) => tracing::warn!(error = %e, "daily audit anchoring failed"),
            Err(e) => tracing::warn!(error = %e, "daily audit anchoring task failed"),
            Ok(Ok(None)) => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(DAILY_RECOMPUTE_EVERY) => {}
            _ = stopped.changed() => return,
        }
    }
}
