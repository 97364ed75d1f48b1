//! Transactional email. A change renders its message and queues it in the outbox inside its own
//! transaction (`enqueue`); a `Worker` later delivers it over SMTP or into `.eml` files,
//! retrying with backoff, so a committed message is neither lost nor, short of a crash in the
//! middle of a send, sent twice.

pub mod retry;
pub mod templates;
pub mod transport;
pub mod worker;

pub use retry::RetryPolicy;
pub use templates::{AllocatedLine, Message, Rendered};
pub use transport::Transport;
pub use worker::{MailConfig, Worker};

use refugio_core::Locale;
use refugio_db::DbConnection;

/// Renders `message` for a reader of `locale` and queues it for `to`; call it inside the
/// transaction of the change that causes it. Returns the outbox id.
pub fn enqueue(
    conn: &mut DbConnection,
    to: &str,
    locale: Locale,
    message: &Message,
) -> diesel::QueryResult<String> {
    let Rendered { subject, body } = message.render(locale);
    refugio_db::outbox::enqueue(conn, to, message.template(), &subject, &body)
}
