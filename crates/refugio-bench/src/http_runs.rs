//! The HTTP runs: stock-movement `POST`s (spread over every shelter × item, or one hot item)
//! and stock-view `GET`s.

use crate::api::Api;
use crate::fixture::{Fixture, ShelterFixture};
use crate::load::{self, LoadArgs};
use crate::report;
use crate::rng::Rng;
use anyhow::Context;
use clap::Args;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct MovementArgs {
    #[arg(long, default_value = "bench-fixture.json")]
    fixture: PathBuf,
    /// Every writer on the first item of the first shelter (one audit chain, one item row).
    #[arg(long)]
    hot: bool,
    /// Send a fresh `Idempotency-Key` with every movement (adds the key's claim transaction).
    #[arg(long)]
    idempotency_keys: bool,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Args)]
pub struct ReadArgs {
    #[arg(long, default_value = "bench-fixture.json")]
    fixture: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
}

/// A shelter ready to be hit: its movement URL, its coordinator's header, its items.
struct Target {
    url: String,
    auth: HeaderValue,
    items: Vec<String>,
}

/// One HTTP/1.1 keep-alive connection per worker.
fn client(concurrency: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .timeout(std::time::Duration::from_secs(60))
        .build()?)
}

/// Logs every coordinator in (tokens expire after 15 minutes, so none is kept in the fixture).
async fn targets(
    f: &Fixture,
    shelters: &[ShelterFixture],
    path: &str,
) -> anyhow::Result<Vec<Target>> {
    let api = Api::new(&f.base)?;
    let mut out = Vec::with_capacity(shelters.len());
    for s in shelters {
        let token = api
            .login(&s.email, &f.password)
            .await
            .with_context(|| format!("login as {}", s.email))?;
        out.push(Target {
            url: format!(
                "{}/api/v1/shelters/{}/{path}",
                f.base.trim_end_matches('/'),
                s.id
            ),
            auth: HeaderValue::from_str(&format!("Bearer {token}"))?,
            items: s.items.clone(),
        });
    }
    Ok(out)
}

pub async fn movements(a: MovementArgs) -> anyhow::Result<()> {
    let f = Fixture::load(&a.fixture)?;
    let mut targets = targets(&f, &f.shelters, "stock/movements").await?;
    let (scenario, detail) = if a.hot {
        targets.truncate(1);
        if let Some(t) = targets.first_mut() {
            t.items.truncate(1);
        }
        ("hot".to_owned(), "one item of one shelter".to_owned())
    } else {
        let items = targets.iter().map(|t| t.items.len()).max().unwrap_or(0);
        (
            "spread".to_owned(),
            format!("{} shelters x {items} items", targets.len()),
        )
    };
    if targets.iter().any(|t| t.items.is_empty()) || targets.is_empty() {
        anyhow::bail!("the fixture has a shelter without items");
    }
    let (scenario, detail) = if a.idempotency_keys {
        (
            format!("{scenario}+idem"),
            format!("{detail}, Idempotency-Key on each"),
        )
    } else {
        (scenario, detail)
    };
    let targets = Arc::new(targets);
    let http = client(a.load.concurrency)?;
    // Distinct per run so keys never replay an earlier run's responses.
    let run = chrono::Utc::now().timestamp_micros();
    let idem = a.idempotency_keys;
    let result = load::run(&a.load, &scenario, detail, 201, move |w, n| {
        let mut rng = Rng::new(((w as u64) << 40) ^ n);
        let t = &targets[rng.below(targets.len())];
        let item = &t.items[rng.below(t.items.len())];
        // Each writer alternates a receipt and a slightly smaller consumption.
        let (kind, q) = if n % 2 == 0 {
            ("receipt", "1.5")
        } else {
            ("consumption", "1.25")
        };
        let body = format!(r#"{{"item_id":"{item}","kind":"{kind}","quantity":{q}}}"#);
        let mut req = http
            .post(&t.url)
            .header(AUTHORIZATION, t.auth.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        if idem {
            req = req.header("Idempotency-Key", format!("bench-{run}-{w}-{n}"));
        }
        load::send(req, 201)
    })
    .await?;
    report::emit(&result, &a.load.output)
}

pub async fn stock_reads(a: ReadArgs) -> anyhow::Result<()> {
    let f = Fixture::load(&a.fixture)?;
    let target = targets(&f, std::slice::from_ref(&f.read_shelter), "stock")
        .await?
        .pop()
        .context("no read shelter")?;
    let detail = format!("GET /stock of a shelter with {} items", target.items.len());
    let http = client(a.load.concurrency)?;
    let result = load::run(&a.load, "reads", detail, 200, move |_, _| {
        load::send(
            http.get(&target.url)
                .header(AUTHORIZATION, target.auth.clone()),
            200,
        )
    })
    .await?;
    report::emit(&result, &a.load.output)
}
