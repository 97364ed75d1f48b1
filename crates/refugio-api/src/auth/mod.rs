//! Authentication and authorization: passwords, tokens, and the extractors that decide who
//! the caller is and what they may do before any input is validated.

pub mod caller;
pub mod client_address;
pub mod password;
pub mod shelter_scope;
pub mod tokens;

pub use caller::{Caller, MaybeCaller, Only};
pub use shelter_scope::{Manage, Read, ShelterScope, Write};
