//! The `refugio` binary's pieces: configuration, start-up, the admin command and the demo.

pub mod admin;
pub mod audit_cli;
pub mod config;
pub mod demo;
pub mod startup;
