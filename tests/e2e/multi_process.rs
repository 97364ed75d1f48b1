//! Two real `refugio serve` processes on one PostgreSQL database, as behind a load balancer:
//! sessions, login throttling, idempotency keys and the email outbox are shared through the
//! database, and SIGTERM stops a server cleanly. PostgreSQL only (`REFUGIO_TEST_POSTGRES_URL`):
//! SQLite is the single-process default.

use crate::process::Server;
use crate::support::{run, shelter_body, Reply, PASSWORD};
use diesel::prelude::*;
use futures_util::future::join_all;
use refugio_db::schema::shelters;
use refugio_db::test_support::{Backend, TestDatabase};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Declares each `fn name()` as the test `name::postgres`, like `backend_tests!` does.
macro_rules! postgres_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn postgres() {
                    super::$name()
                }
            }
        )*
    };
}

postgres_tests!(
    sessions_are_shared_between_servers,
    login_throttling_counts_across_servers,
    an_idempotency_key_replays_on_the_other_server,
    the_outbox_is_delivered_once_by_two_workers,
    sigterm_stops_a_server_gracefully,
);

const ADMIN_EMAIL: &str = "admin@example.org";

/// Two servers over one fresh PostgreSQL database. The servers are stopped before the
/// database is dropped (fields drop in declaration order).
struct Cluster {
    servers: Vec<Server>,
    db: TestDatabase,
    http: reqwest::Client,
}

impl Cluster {
    async fn start(n: usize) -> Cluster {
        let db = TestDatabase::new(Backend::Postgres);
        let url = db.url_string();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        let mut servers: Vec<Server> = (0..n).map(|_| Server::start(&url)).collect();
        for s in &mut servers {
            s.wait_healthy(&http).await;
        }
        Cluster { servers, db, http }
    }

    /// Creates an admin with `refugio admin create` and returns its id.
    fn create_admin(&self) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_refugio"))
            .args(["admin", "create", "--email", ADMIN_EMAIL, "--name", "Admin"])
            .args(["--database-url", &self.db.url_string()])
            .arg("--data-dir")
            .arg(self.db.dir())
            .env("REFUGIO_ADMIN_PASSWORD", PASSWORD)
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .output()
            .expect("run refugio admin create");
        assert!(
            out.status.success(),
            "admin create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(!id.is_empty(), "admin create printed no id");
        id
    }

    async fn send(
        &self,
        server: usize,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let url = format!("{}/api/v1{path}", self.servers[server].base);
        let mut req = self.http.request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body read");
        Reply {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    async fn get(&self, server: usize, path: &str, token: Option<&str>) -> Reply {
        self.send(server, Method::GET, path, token, None, &[]).await
    }

    async fn post(&self, server: usize, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(server, Method::POST, path, token, Some(body), &[])
            .await
    }

    async fn login(&self, server: usize, email: &str, password: &str) -> Reply {
        self.post(
            server,
            "/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await
    }

    async fn admin_token(&self, server: usize) -> String {
        self.create_admin();
        let r = self.login(server, ADMIN_EMAIL, PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        r.str("access_token")
    }

    fn shelter_rows(&self) -> i64 {
        let mut conn = self.db.connect();
        shelters::table
            .count()
            .get_result(&mut conn)
            .expect("count shelters")
    }
}

fn sessions_are_shared_between_servers() {
    run(async {
        let c = Cluster::start(2).await;
        let admin_id = c.create_admin();

        let login = c.login(0, ADMIN_EMAIL, PASSWORD).await;
        assert_eq!(login.status, StatusCode::OK, "{login:?}");
        let access = login.str("access_token");
        for server in [0, 1] {
            let me = c.get(server, "/me", Some(&access)).await;
            assert_eq!(me.status, StatusCode::OK, "server {server}: {me:?}");
            assert_eq!(me.str("id"), admin_id);
        }

        // A refresh on server 2 rotates the token server 1 issued; the old one is dead on both.
        let refreshed = c
            .post(
                1,
                "/auth/refresh",
                None,
                json!({"refresh_token": login.str("refresh_token")}),
            )
            .await;
        assert_eq!(refreshed.status, StatusCode::OK, "{refreshed:?}");
        let access2 = refreshed.str("access_token");
        assert_eq!(c.get(0, "/me", Some(&access2)).await.status, StatusCode::OK);

        // A second, independent session.
        let other = c.login(1, ADMIN_EMAIL, PASSWORD).await;
        let other_access = other.str("access_token");

        // Logout on server 2 kills the session's access tokens on server 1 at once.
        let out = c
            .post(
                1,
                "/auth/logout",
                None,
                json!({"refresh_token": refreshed.str("refresh_token")}),
            )
            .await;
        assert_eq!(out.status, StatusCode::NO_CONTENT, "{out:?}");
        for server in [0, 1] {
            for token in [&access, &access2] {
                let me = c.get(server, "/me", Some(token)).await;
                assert_eq!(
                    me.status,
                    StatusCode::UNAUTHORIZED,
                    "server {server}: {me:?}"
                );
            }
            let me = c.get(server, "/me", Some(&other_access)).await;
            assert_eq!(me.status, StatusCode::OK, "server {server}: {me:?}");
        }
    });
}

fn login_throttling_counts_across_servers() {
    run(async {
        let c = Cluster::start(2).await;
        let reg = c
            .post(
                0,
                "/auth/register",
                None,
                json!({"email": "dana@example.org", "password": PASSWORD, "name": "Dana"}),
            )
            .await;
        assert_eq!(reg.status, StatusCode::CREATED, "{reg:?}");

        for server in [0, 0, 0, 1, 1] {
            let r = c.login(server, "dana@example.org", "wrong password!").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "server {server}: {r:?}");
        }
        for server in [0, 1] {
            for password in ["wrong password!", PASSWORD] {
                let r = c.login(server, "dana@example.org", password).await;
                assert_eq!(
                    r.status,
                    StatusCode::TOO_MANY_REQUESTS,
                    "server {server}: {r:?}"
                );
                let retry: u64 = r
                    .header("retry-after")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("a Retry-After in seconds: {r:?}"));
                assert!((1..=15 * 60).contains(&retry), "{r:?}");
            }
        }
        // Another account from the same address is not locked out.
        let admin = c.admin_token(1).await;
        assert!(!admin.is_empty());
    });
}

async fn post_with_key(c: &Cluster, server: usize, token: &str, key: &str, name: &str) -> Reply {
    c.send(
        server,
        Method::POST,
        "/shelters",
        Some(token),
        Some(shelter_body(name)),
        &[("Idempotency-Key", key)],
    )
    .await
}

fn an_idempotency_key_replays_on_the_other_server() {
    run(async {
        let c = Cluster::start(2).await;
        let admin = c.admin_token(0).await;
        let post = |server: usize, key: &'static str, name: &'static str| {
            post_with_key(&c, server, &admin, key, name)
        };

        let first = post(0, "k1", "Casa Esperanza").await;
        assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
        let second = post(1, "k1", "Casa Esperanza").await;
        assert_eq!((second.status, &second.body), (first.status, &first.body));
        assert_eq!(c.shelter_rows(), 1);
        let reused = post(1, "k1", "Casa Otra").await;
        assert_eq!(
            reused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{reused:?}"
        );
        assert_eq!(reused.problem_code(), "idempotency_key_reused");

        // The same request on both servers at once: it runs once.
        let (a, b) = tokio::join!(post(0, "k2", "Casa Norte"), post(1, "k2", "Casa Norte"));
        let (winner, other) = if a.status == StatusCode::CREATED {
            (a, b)
        } else {
            (b, a)
        };
        assert_eq!(winner.status, StatusCode::CREATED, "{winner:?} / {other:?}");
        match other.status {
            StatusCode::CREATED => assert_eq!(other.body, winner.body),
            StatusCode::CONFLICT => assert_eq!(other.problem_code(), "idempotency_in_progress"),
            s => panic!("unexpected {s}: {other:?}"),
        }
        assert_eq!(c.shelter_rows(), 2);
        for server in [0, 1] {
            let later = post(server, "k2", "Casa Norte").await;
            assert_eq!(later.body, winner.body, "server {server}");
        }
        assert_eq!(c.shelter_rows(), 2);
    });
}

/// The `Message-ID` header of an `.eml` file.
fn message_id(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read an .eml file");
    text.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("message-id")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no Message-ID in {}", path.display()))
}

fn the_outbox_is_delivered_once_by_two_workers() {
    run(async {
        let c = Cluster::start(2).await;
        let admin = c.admin_token(0).await;
        let shelter = c
            .post(0, "/shelters", Some(&admin), shelter_body("Casa Correo"))
            .await;
        assert_eq!(shelter.status, StatusCode::CREATED, "{shelter:?}");
        let sid = shelter.str("id");

        // In waves, so that both servers' workers (each polling once a second) find work.
        let invitations = 40;
        let path = format!("/shelters/{sid}/invitations");
        for wave in 0..8 {
            let replies = join_all((0..5).map(|j| {
                let i = wave * 5 + j;
                c.post(
                    i % 2,
                    &path,
                    Some(&admin),
                    json!({"email": format!("coord{i}@example.org"), "role": "coordinator"}),
                )
            }))
            .await;
            for r in &replies {
                assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }

        // Both workers deliver until every message is sent.
        let deadline = Instant::now() + Duration::from_secs(20);
        let rows = loop {
            let rows = {
                let mut conn = c.db.connect();
                refugio_db::outbox::all(&mut conn).expect("read the outbox")
            };
            if rows.iter().all(|m| m.status == "sent") {
                break rows;
            }
            assert!(
                Instant::now() < deadline,
                "outbox not delivered within 20 s: {:?}",
                rows.iter()
                    .map(|m| (m.status.as_str(), m.attempts, m.last_error.as_deref()))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(rows.len(), invitations, "one message per invitation");
        let mut recipients: Vec<&str> = rows.iter().map(|m| m.to_email.as_str()).collect();
        recipients.sort_unstable();
        recipients.dedup();
        assert_eq!(recipients.len(), invitations);

        let per_server: Vec<Vec<PathBuf>> = c.servers.iter().map(Server::eml_files).collect();
        let files: Vec<&PathBuf> = per_server.iter().flatten().collect();
        eprintln!(
            "delivered per server: {:?}",
            per_server.iter().map(Vec::len).collect::<Vec<_>>()
        );
        assert_eq!(files.len(), rows.len(), "{files:?}");

        let stems: HashSet<String> = files
            .iter()
            .map(|p| {
                p.file_stem()
                    .expect("a file name")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        let ids: HashSet<String> = rows.iter().map(|m| m.id.clone()).collect();
        assert_eq!(stems, ids, "one file per outbox row");

        let message_ids: Vec<String> = files.iter().map(|p| message_id(p)).collect();
        let unique: HashSet<&String> = message_ids.iter().collect();
        assert_eq!(unique.len(), message_ids.len(), "{message_ids:?}");
        for m in &rows {
            assert!(
                message_ids.iter().any(|mid| mid.contains(&m.id)),
                "no file carries {}",
                m.id
            );
        }
    });
}

fn sigterm_stops_a_server_gracefully() {
    run(async {
        let mut c = Cluster::start(2).await;
        let admin = c.admin_token(1).await;
        let mut first = c.servers.remove(0);
        let base = first.base.clone();
        let pid = first.pid();

        // A request in flight (hashing a password takes a while) when SIGTERM arrives.
        let in_flight = {
            let req = c
                .http
                .post(format!("{base}/api/v1/users"))
                .bearer_auth(&admin)
                .json(&json!({"email": "late@example.org", "password": PASSWORD,
                              "name": "Late", "role": "donor"}));
            tokio::spawn(async move { req.send().await.map(|r| r.status()) })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;

        let stopping = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let status = first.stop(Duration::from_secs(10));
            (status, started.elapsed(), first)
        });
        let answered = in_flight.await.expect("the request task");
        let (status, took, first) = stopping.await.expect("the stopping task");
        let status = status
            .unwrap_or_else(|| panic!("pid {pid} ignored SIGTERM for 10 s:\n{}", first.log()));
        assert!(
            status.success(),
            "exit status {status} after SIGTERM:\n{}",
            first.log()
        );
        eprintln!("server stopped in {took:?}");
        // The request in flight was finished, not cut off.
        assert_eq!(
            answered.as_ref().ok(),
            Some(&StatusCode::CREATED),
            "{answered:?}"
        );

        // It no longer answers; the other server does, with the same data.
        assert!(c.http.get(format!("{base}/healthz")).send().await.is_err());
        let me = c.get(0, "/me", Some(&admin)).await;
        assert_eq!(me.status, StatusCode::OK, "{me:?}");
        let late = c.login(0, "late@example.org", PASSWORD).await;
        assert_eq!(late.status, StatusCode::OK, "{late:?}");
    });
}
