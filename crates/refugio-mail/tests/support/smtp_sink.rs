//! A real SMTP server on 127.0.0.1 (port chosen by the system), speaking enough of RFC 5321
//! for lettre: EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How the server answers recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Accepts every message.
    Accept,
    /// Answers every `RCPT TO` with `451` (try again later), like a greylisting server.
    Defer,
    /// Accepts every message, but only this long after its data arrived.
    Slow(Duration),
}

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as transmitted, dot-stuffing undone.
    pub data: String,
}

/// The running server; stops accepting connections when dropped.
pub struct SmtpSink {
    port: u16,
    state: Arc<State>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct State {
    received: Mutex<Vec<Received>>,
    data_started: AtomicUsize,
}

impl SmtpSink {
    /// Starts listening; call inside a tokio runtime.
    pub async fn start(behaviour: Behaviour) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMTP sink");
        let port = listener.local_addr().expect("sink address").port();
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    // A client hanging up mid-session is its business, not the test's.
                    let _ = session(stream, behaviour, &state).await;
                });
            }
        });
        SmtpSink { port, state, task }
    }

    /// The `smtp://` URL of this server.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Everything accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("sink store").clone()
    }

    /// How many messages started transmitting their data (accepted or not yet).
    pub fn data_started(&self) -> usize {
        self.state.data_started.load(Ordering::SeqCst)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn session(stream: TcpStream, behaviour: Behaviour, state: &State) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply = match verb.as_str() {
            "EHLO" | "HELO" => "250 sink.test",
            "MAIL" => {
                mail_from = Some(address(command));
                rcpt_to.clear();
                "250 2.1.0 OK"
            }
            "RCPT" if mail_from.is_none() => "503 5.5.1 MAIL first",
            "RCPT" if behaviour == Behaviour::Defer => "451 4.7.1 Greylisted, try again later",
            "RCPT" => {
                rcpt_to.push(address(command));
                "250 2.1.5 OK"
            }
            "DATA" if rcpt_to.is_empty() => "503 5.5.1 RCPT first",
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                state.data_started.fetch_add(1, Ordering::SeqCst);
                let data = read_data(&mut read).await?;
                if let Behaviour::Slow(delay) = behaviour {
                    tokio::time::sleep(delay).await;
                }
                state.received.lock().expect("sink store").push(Received {
                    mail_from: mail_from.take().unwrap_or_default(),
                    rcpt_to: std::mem::take(&mut rcpt_to),
                    data,
                });
                "250 2.0.0 Queued"
            }
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                "250 2.0.0 OK"
            }
            "NOOP" => "250 2.0.0 OK",
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 Command not implemented",
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

/// The address between `<` and `>` in `MAIL FROM:<…>` or `RCPT TO:<…>`.
fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}

/// Lines up to the lone `.`, with leading dots unstuffed.
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(read: &mut R) -> std::io::Result<String> {
    let mut data = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == ".\r\n" {
            return Ok(data);
        }
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
    }
}
