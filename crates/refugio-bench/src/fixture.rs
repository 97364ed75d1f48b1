//! What `setup` created and the load runs use: the base URL, accounts, shelters and item ids.
//! Tokens are not kept: access tokens live 15 minutes, so every run logs in afresh.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fixture {
    pub base: String,
    /// The password of every coordinator setup created.
    pub password: String,
    /// Shelters for the movement runs (spread over all of them; `--hot` uses the first item of the first).
    pub shelters: Vec<ShelterFixture>,
    /// The shelter the stock view is read from (100 items with some history).
    pub read_shelter: ShelterFixture,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShelterFixture {
    pub id: String,
    /// Its coordinator's email.
    pub email: String,
    pub items: Vec<String>,
}

impl Fixture {
    pub fn load(path: &Path) -> anyhow::Result<Fixture> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the fixture {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a fixture setup wrote", path.display()))
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, serde_json::to_string_pretty(self)?)
            .with_context(|| format!("cannot write {}", path.display()))
    }
}
