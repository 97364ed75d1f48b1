//! The needs engine: pure functions from a shelter's data and today's date to demand,
//! targets, needs and priorities. See `docs/needs-engine.md`.

pub mod allocation;
pub mod board;
pub mod catalog;
pub mod demand;
pub mod drivers;
pub mod needs;
pub mod priority;
