//! End-to-end tests: the real server on port 0 over real HTTP, a fresh database per test,
//! every test on SQLite and on PostgreSQL (`REFUGIO_TEST_POSTGRES_URL`).

mod support;

mod accounts;
mod audit;
mod audit_export;
mod auditors;
mod bills;
mod crash;
mod demo;
mod donations;
mod errors;
mod expenses;
mod idempotency;
mod in_kind;
mod multi_process;
mod needs;
mod occupancy;
mod process;
mod reports;
mod stock;
mod tenancy;
mod tokens;
