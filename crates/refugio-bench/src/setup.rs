//! `setup`: everything the runs need, created through the public API as a real client would:
//! shelters, one coordinator each, items (the default catalog topped up to N), a large opening
//! receipt per item so consumptions never hit `409`, and one 100-item shelter with history
//! for the stock view.

use crate::api::{id_of, Api};
use crate::fixture::{Fixture, ShelterFixture};
use anyhow::Context;
use clap::Args;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The server, e.g. http://127.0.0.1:18080.
    #[arg(long)]
    base: String,
    #[arg(long)]
    admin_email: String,
    #[arg(long, env = "REFUGIO_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: String,
    /// Shelters for the movement runs.
    #[arg(long, default_value_t = 20)]
    shelters: usize,
    /// Items per movement shelter.
    #[arg(long, default_value_t = 50)]
    items: usize,
    /// Items of the shelter whose stock view is read.
    #[arg(long, default_value_t = 100)]
    read_items: usize,
    /// Shelters set up at the same time.
    #[arg(long, default_value_t = 4)]
    parallel: usize,
    #[arg(long, default_value = "bench-fixture.json")]
    fixture: PathBuf,
}

/// Opening stock per item: far more than any run consumes (units, not thousandths).
const OPENING_STOCK: u64 = 1_000_000;
const OCCUPIED_BEDS: u64 = 120;

pub async fn run(a: SetupArgs) -> anyhow::Result<()> {
    let api = Api::new(&a.base)?;
    let admin = api
        .login(&a.admin_email, &a.admin_password)
        .await
        .context("admin login")?;
    // Unique per setup so several setups can share one database.
    let run = chrono::Utc::now().format("%Y%m%d%H%M%S%3f").to_string();
    let password = format!("bench-password-{run}");
    let ctx = Arc::new(Ctx {
        api,
        admin,
        run,
        password: password.clone(),
    });
    let gate = Arc::new(Semaphore::new(a.parallel.max(1)));
    let mut tasks = JoinSet::new();
    for i in 0..=a.shelters {
        let (ctx, gate) = (ctx.clone(), gate.clone());
        // Index `shelters` is the read shelter: more items, plus a history to compute demand from.
        let (items, history) = if i == a.shelters {
            (a.read_items, true)
        } else {
            (a.items, false)
        };
        tasks.spawn(async move {
            let _permit = gate.acquire().await?;
            let s = ctx.shelter(i, items, history).await?;
            anyhow::Ok((i, s))
        });
    }
    let mut done: Vec<(usize, ShelterFixture)> = Vec::new();
    while let Some(r) = tasks.join_next().await {
        done.push(r??);
    }
    done.sort_by_key(|(i, _)| *i);
    let read_shelter = done.pop().map(|(_, s)| s).context("no read shelter")?;
    let fixture = Fixture {
        base: a.base.clone(),
        password,
        shelters: done.into_iter().map(|(_, s)| s).collect(),
        read_shelter,
    };
    fixture.save(&a.fixture)?;
    eprintln!(
        "setup: {} shelters x {} items, read shelter with {} items -> {}",
        fixture.shelters.len(),
        a.items,
        fixture.read_shelter.items.len(),
        a.fixture.display()
    );
    Ok(())
}

struct Ctx {
    api: Api,
    admin: String,
    run: String,
    password: String,
}

impl Ctx {
    /// One shelter with its coordinator, `n_items` items with opening stock, and (for the
    /// read shelter) backdated consumptions so the stock view has demand to compute.
    async fn shelter(
        &self,
        i: usize,
        n_items: usize,
        history: bool,
    ) -> anyhow::Result<ShelterFixture> {
        let api = &self.api;
        let shelter = api
            .post(
                "/shelters",
                &self.admin,
                json!({"name": format!("Bench {} #{i:02}", self.run), "city": "Oaxaca",
                       "region": "Oaxaca", "country": "MX", "timezone": "America/Mexico_City",
                       "currency": "MXN", "bed_capacity": 200}),
            )
            .await?;
        let sid = id_of(&shelter)?;
        let email = format!("bench-{}-{i}@bench.example", self.run);
        api.post(
            "/users",
            &self.admin,
            json!({"email": email, "password": self.password, "name": format!("Coordinator {i}"),
                   "role": "staff", "memberships": [{"shelter_id": sid, "role": "coordinator"}]}),
        )
        .await?;
        let token = api.login(&email, &self.password).await?;
        api.call(
            Method::PUT,
            &format!("/shelters/{sid}/occupancy"),
            Some(&token),
            Some(&json!({"occupied_beds": OCCUPIED_BEDS})),
            StatusCode::OK,
        )
        .await?;
        let items = self.ensure_items(&sid, &token, n_items).await?;
        let path = format!("/shelters/{sid}/stock/movements");
        for item in &items {
            api.post(
                &path,
                &token,
                json!({"item_id": item, "kind": "receipt", "quantity": OPENING_STOCK}),
            )
            .await?;
        }
        if history {
            self.history(&path, &token, &items).await?;
        }
        Ok(ShelterFixture {
            id: sid,
            email,
            items,
        })
    }

    /// The shelter's items (its default catalog), topped up with new ones to `n`; the first `n`.
    async fn ensure_items(&self, sid: &str, token: &str, n: usize) -> anyhow::Result<Vec<String>> {
        let path = format!("/shelters/{sid}/items");
        let listed = self.api.get(&format!("{path}?limit=500"), token).await?;
        let mut ids: Vec<String> = listed["items"]
            .as_array()
            .context("no items in the item list")?
            .iter()
            .map(id_of)
            .collect::<anyhow::Result<_>>()?;
        for k in ids.len()..n {
            let item = self
                .api
                .post(
                    &path,
                    token,
                    json!({"name": format!("Bench item {k:03}"), "category": "other",
                           "unit": "unit", "criticality": "desirable", "basis": "consumable",
                           "per_person": 0.05}),
                )
                .await?;
            ids.push(id_of(&item)?);
        }
        ids.truncate(n);
        Ok(ids)
    }

    /// Five consumptions per item over the last three weeks (backdated `occurred_at`).
    async fn history(&self, path: &str, token: &str, items: &[String]) -> anyhow::Result<()> {
        let now = chrono::Utc::now();
        for (k, item) in items.iter().enumerate() {
            for d in 0..5 {
                let days = 1 + ((k + d * 4) % 21) as i64;
                let at = now - chrono::Duration::days(days);
                self.api
                    .post(
                        path,
                        token,
                        json!({"item_id": item, "kind": "consumption", "quantity": 3 + d,
                               "occurred_at": at.to_rfc3339()}),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}
