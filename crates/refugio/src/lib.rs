//! The `refugio` binary's pieces: configuration, start-up and the admin command.

pub mod admin;
pub mod config;
pub mod startup;
