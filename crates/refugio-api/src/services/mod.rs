//! Domain operations, each run inside the caller's transaction.

pub mod accounts;
pub mod login_throttle;
pub mod sessions;
pub mod shelters;
