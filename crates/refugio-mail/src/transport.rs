//! Where messages go: an SMTP server, or one `.eml` file per message in a folder.

use anyhow::Context;
use lettre::message::{header::MessageId, Mailbox, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use refugio_db::outbox::OutboxRow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long one SMTP command may wait on the server; the lease on a claim is much longer.
pub(crate) const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The way out for outgoing email.
#[derive(Clone, PartialEq, Eq)]
pub enum Transport {
    /// An SMTP server: `smtp://host:port` (plain, or `?tls=required|opportunistic` for
    /// STARTTLS) or `smtps://host:port` (TLS), with optional `user:password@`.
    Smtp {
        /// The server's URL.
        url: String,
    },
    /// A folder that receives `<outbox id>.eml` files, for development and air-gapped sites.
    Files {
        /// The folder, created when missing.
        dir: PathBuf,
    },
}

impl fmt::Debug for Transport {
    /// Hides the SMTP password, so that a logged configuration does not leak it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transport::Smtp { url } => f.debug_struct("Smtp").field("url", &redact(url)).finish(),
            Transport::Files { dir } => f.debug_struct("Files").field("dir", dir).finish(),
        }
    }
}

/// `url` with the password of its userinfo replaced by `***`.
fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let host_start = url[scheme_end..]
        .find(['/', '?'])
        .map_or(url.len(), |i| scheme_end + i);
    match url[scheme_end..host_start].rfind('@') {
        Some(at) => {
            let userinfo = &url[scheme_end..scheme_end + at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!(
                "{}{user}:***{}",
                &url[..scheme_end],
                &url[scheme_end + at..]
            )
        }
        None => url.to_owned(),
    }
}

/// A transport ready to deliver.
pub(crate) enum Outlet {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

impl Outlet {
    /// Checks the configuration (and creates the folder) without contacting any server.
    pub(crate) fn open(transport: &Transport) -> anyhow::Result<Outlet> {
        match transport {
            Transport::Smtp { url } => {
                // lettre's errors already show their source: no context chain on top.
                let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("invalid SMTP URL {}: {e}", redact(url)))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build();
                Ok(Outlet::Smtp(smtp))
            }
            Transport::Files { dir } => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create the mail folder {}", dir.display()))?;
                Ok(Outlet::Files(dir.clone()))
            }
        }
    }

    /// Hands `message` (outbox row `id`) to the server, or writes it to `<id>.eml`.
    pub(crate) async fn deliver(&self, id: &str, message: &lettre::Message) -> anyhow::Result<()> {
        match self {
            Outlet::Smtp(smtp) => {
                smtp.send(message.clone())
                    .await
                    .map_err(|e| anyhow::anyhow!("SMTP {e}"))?;
                Ok(())
            }
            Outlet::Files(dir) => {
                let dir = dir.clone();
                let id = id.to_owned();
                let bytes = message.formatted();
                tokio::task::spawn_blocking(move || write_eml(&dir, &id, &bytes)).await?
            }
        }
    }
}

/// Writes `<id>.eml` whole or not at all (a temporary file, synced, then renamed), so a
/// repeated delivery after a crash replaces the file instead of adding a second one.
fn write_eml(dir: &Path, id: &str, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let target = dir.join(format!("{id}.eml"));
    let partial = dir.join(format!(".{id}.eml.partial"));
    let mut file = std::fs::File::create(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&partial, &target)
        .with_context(|| format!("cannot create {}", target.display()))?;
    Ok(())
}

/// The email for an outbox row: plain UTF-8 text, with a `Message-ID` made from the row's id
/// so that a rare second delivery after a crash is recognizable as the same message.
pub(crate) fn compose(row: &OutboxRow, from: &Mailbox) -> anyhow::Result<lettre::Message> {
    let to: Mailbox = row
        .to_email
        .parse()
        .with_context(|| format!("invalid recipient address {:?}", row.to_email))?;
    let message_id = format!("<{}@{}>", row.id, from.email.domain());
    let message = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(row.subject.as_str())
        .header(MessageId::from(message_id))
        .singlepart(SinglePart::plain(row.body.clone()))?;
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_passwords_are_hidden_from_debug_output() {
        let t = Transport::Smtp {
            url: "smtps://mailer:s3cret@smtp.example.org:465".into(),
        };
        let shown = format!("{t:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("smtps://mailer:***@smtp.example.org:465"),
            "{shown}"
        );
        assert_eq!(
            redact("smtp://localhost:25/?tls=required"),
            "smtp://localhost:25/?tls=required"
        );
        assert_eq!(redact("smtp://localhost"), "smtp://localhost");
    }

    #[test]
    fn smtp_and_smtps_urls_are_accepted() {
        for url in [
            "smtp://localhost:2525",
            "smtp://user:pass@smtp.example.org:587?tls=required",
            "smtps://user:pass@smtp.example.org",
        ] {
            let opened = Outlet::open(&Transport::Smtp { url: url.into() });
            assert!(opened.is_ok(), "{url}: {:?}", opened.err());
        }
    }

    #[test]
    fn invalid_smtp_urls_are_rejected_up_front() {
        assert!(Outlet::open(&Transport::Smtp {
            url: "http://localhost".into()
        })
        .is_err());
    }
}
