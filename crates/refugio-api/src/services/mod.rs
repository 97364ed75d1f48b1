//! Domain operations, each run inside the caller's transaction.

pub mod accounts;
pub mod allocations;
pub mod audit_anchors;
pub mod bills;
pub mod donations;
pub mod expenses;
pub mod items;
pub mod login_throttle;
pub mod needs;
pub mod occupancy;
pub mod reports;
pub mod sessions;
pub mod shelters;
pub mod stock;
