//! The needs engine: pure functions from a shelter's data and today's date to demand,
//! targets and (later) needs and priorities. See `docs/needs-engine.md`.

pub mod catalog;
pub mod demand;
