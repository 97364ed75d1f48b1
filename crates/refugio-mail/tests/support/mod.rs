//! Helpers shared by the delivery tests: a real SMTP server and a small MIME reader.

pub mod mime;
pub mod smtp_sink;
