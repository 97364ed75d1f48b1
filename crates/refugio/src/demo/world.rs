//! The demo's people and shelters as the API knows them: ids, tokens, and each tracked item's
//! stock as the ledger holds it.

use super::client::Api;
use super::clock::Clock;
use super::data::{ShelterPlan, Stocked};
use std::collections::HashMap;

pub struct World {
    pub api: Api,
    pub clock: Clock,
    pub admin: String,
    /// Access tokens, in `data::DONORS` order.
    pub donors: Vec<String>,
    pub shelters: Vec<Shelter>,
    /// In-kind pledges by key: (donation id, shelter index).
    pub pledges: HashMap<&'static str, (String, usize)>,
    /// Manual needs by key: (need id, shelter index).
    pub manual_needs: HashMap<&'static str, (String, usize)>,
    pub tally: Tally,
}

pub struct Shelter {
    pub plan: &'static ShelterPlan,
    pub id: String,
    pub manager: String,
    pub coordinator: String,
    pub stock: Vec<Stock>,
    /// Bills by key: (id, amount still to pay).
    pub bills: HashMap<&'static str, (String, i64)>,
    /// The expense whose goods are still on their way.
    pub incoming: Option<(String, usize)>,
    /// Invoices numbered per shelter.
    pub invoices: u32,
    pub occupied: i64,
}

/// One tracked item: on hand as the ledger has it, and use not yet in the ledger (what is
/// handed out is logged every few days).
pub struct Stock {
    pub plan: &'static Stocked,
    pub id: String,
    pub category: String,
    pub unit: String,
    pub on_hand: i64,
    pub unrecorded_use: i64,
}

impl Stock {
    /// What is really on the shelf.
    pub fn left(&self) -> i64 {
        self.on_hand - self.unrecorded_use
    }
}

impl Shelter {
    pub fn item(&self, name: &str) -> anyhow::Result<usize> {
        self.stock
            .iter()
            .position(|s| s.plan.name == name)
            .ok_or_else(|| anyhow::anyhow!("{} does not track {name}", self.plan.name))
    }

    /// The next invoice number, or none for some purchases (receipts do get lost).
    pub fn invoice(&mut self) -> Option<String> {
        self.invoices += 1;
        (self.invoices % 7 != 3).then(|| format!("{}-F{:04}", self.plan.code, self.invoices))
    }
}

/// What the demo wrote, for the closing summary.
#[derive(Debug, Default)]
pub struct Tally {
    pub movements: u32,
    pub occupancy: u32,
    pub bills: u32,
    pub expenses: u32,
    pub money_gifts: u32,
    pub in_kind: u32,
    pub fx_rates: u32,
}
