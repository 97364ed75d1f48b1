//! Refugio's domain: typed values parsed at the edge, and pure rules with no I/O.
//!
//! Nothing in this crate touches a clock, a database or the network: callers pass in
//! today's date and the data, so every rule here is deterministic and testable alone.

pub mod audit;
pub mod audit_export;
pub mod canonical_json;
pub mod decimal;
pub mod email;
pub mod engine;
pub mod ids;
pub mod inventory;
pub mod money;
pub mod quantity;
pub mod roles;
pub mod text;

pub use email::Email;
pub use ids::new_id;
pub use money::{Currency, Money};
pub use quantity::Quantity;
pub use roles::{Locale, MembershipRole, Role};
