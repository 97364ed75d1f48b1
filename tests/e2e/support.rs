//! `spawn_app`: a server on port 0 over a fresh database, and an HTTP client that speaks to it.

use refugio::config::{DatabaseArgs, ServeArgs};
use refugio::startup::Application;
use refugio_db::test_support::{Backend, TestDatabase};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

pub const JWT_SECRET: &str = "e2e-secret-0123456789abcdef0123456789";
pub const PASSWORD: &str = "correct horse battery";

/// A server this thread's test started, with the database it must outlive.
struct Running {
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    db: Arc<TestDatabase>,
}

thread_local! {
    static RUNNING: RefCell<Vec<Running>> = const { RefCell::new(Vec::new()) };
}

/// Runs an async test body on its own runtime, then stops the servers it started before
/// their databases are dropped: a process that exits while server threads still use their
/// database connections can crash in the C libraries' exit handlers.
pub fn run<F: Future<Output = ()>>(test: F) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(test);
    let running = RUNNING.with(|r| r.take());
    let mut databases = Vec::new();
    for server in running {
        runtime.block_on(server.handle.stop(true));
        let _ = runtime.block_on(server.task);
        databases.push(server.db);
    }
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    drop(databases);
}

pub struct TestApp {
    pub base: String,
    pub db: Arc<TestDatabase>,
    pub http: reqwest::Client,
}

/// A response: status, headers and parsed JSON body (Null when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The problem `type` code after `urn:refugio:problem:`.
    pub fn problem_code(&self) -> &str {
        self.body["type"]
            .as_str()
            .and_then(|t| t.strip_prefix("urn:refugio:problem:"))
            .unwrap_or("")
    }

    pub fn str(&self, field: &str) -> String {
        self.body[field].as_str().unwrap_or_default().to_owned()
    }
}

pub fn serve_args(db: &TestDatabase) -> ServeArgs {
    ServeArgs {
        bind: "127.0.0.1:0".parse().expect("addr"),
        db: DatabaseArgs {
            database_url: Some(db.url_string()),
            data_dir: db.dir().to_path_buf(),
        },
        jwt_secret: Some(JWT_SECRET.into()),
        smtp_url: None,
        mail_from: "Refugio <no-reply@refugio.test>".into(),
        trusted_proxies: Vec::new(),
        refresh_ttl_hours: 12,
        pledge_days: 14,
        workers: Some(2),
    }
}

/// Starts the server on a fresh database of `backend`.
pub async fn spawn_app(backend: Backend) -> TestApp {
    let db = TestDatabase::new(backend);
    let args = serve_args(&db);
    spawn_with(db, &args)
}

/// Starts a server with `args` over `db`; `run` stops it when the test ends.
pub fn spawn_with(db: TestDatabase, args: &ServeArgs) -> TestApp {
    let db = Arc::new(db);
    let app = Application::build(args).expect("build the app");
    let base = format!("http://127.0.0.1:{}", app.port);
    let handle = app.handle();
    let task = tokio::spawn(app.run_until_stopped());
    RUNNING.with(|r| {
        r.borrow_mut().push(Running {
            handle,
            task,
            db: db.clone(),
        })
    });
    TestApp {
        base,
        db,
        http: reqwest::Client::new(),
    }
}

impl TestApp {
    /// Sends a request; `body` is sent as JSON when given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.send(method, path, token, body, &[]).await
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let url = if path.starts_with("/healthz") {
            format!("{}{path}", self.base)
        } else {
            format!("{}/api/v1{path}", self.base)
        };
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
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Creates an account straight in the database (as `refugio admin create` does).
    pub fn create_user(&self, email: &str, role: refugio_core::Role) -> String {
        create_user_in(&self.db, email, role)
    }

    /// Logs in and returns the token pair's JSON.
    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// An admin's access token.
    pub async fn admin_token(&self) -> String {
        self.create_user("admin@example.org", refugio_core::Role::Admin);
        self.login("admin@example.org", PASSWORD)
            .await
            .str("access_token")
    }

    /// Creates a shelter as `admin` and returns its id.
    pub async fn create_shelter(&self, admin: &str, name: &str) -> String {
        let r = self
            .post("/shelters", Some(admin), shelter_body(name))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        r.str("id")
    }

    /// Creates a staff member of `shelter` with `role`, returns (user id, access token).
    pub async fn staff(
        &self,
        admin: &str,
        email: &str,
        shelter: &str,
        role: &str,
    ) -> (String, String) {
        let r = self
            .post(
                "/users",
                Some(admin),
                json!({"email": email, "password": PASSWORD, "name": "Staff", "role": "staff",
                       "memberships": [{"shelter_id": shelter, "role": role}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        (
            r.str("id"),
            self.login(email, PASSWORD).await.str("access_token"),
        )
    }

    /// The latest outbox message to `to` (the worker may not have sent it yet).
    pub fn last_email_to(&self, to: &str) -> refugio_db::outbox::OutboxRow {
        let mut conn = self.db.connect();
        refugio_db::outbox::all(&mut conn)
            .expect("outbox")
            .into_iter()
            .rev()
            .find(|m| m.to_email == to)
            .unwrap_or_else(|| panic!("no email to {to}"))
    }
}

/// Creates an account with password `PASSWORD` straight in the database; returns its id.
pub fn create_user_in(db: &TestDatabase, email: &str, role: refugio_core::Role) -> String {
    let mut conn = db.connect();
    let hash = refugio_api::auth::password::hash(PASSWORD).expect("hash");

    let user = refugio_db::write_transaction(&mut conn, |c| {
        refugio_api::services::accounts::create(
            c,
            None,
            refugio_api::services::accounts::NewUser {
                email: refugio_core::Email::parse(email).expect("email"),
                password_hash: hash,
                name: "Test".into(),
                role,
                locale: refugio_core::Locale::En,
                memberships: Vec::new(),
            },
        )
    })
    .expect("create user");
    user.id
}

pub fn shelter_body(name: &str) -> Value {
    json!({"name": name, "city": "Ciudad de México", "region": "CDMX", "country": "MX",
           "timezone": "America/Mexico_City", "currency": "MXN", "bed_capacity": 60})
}

/// The first 43-character URL-safe token in an email body.
pub fn token_in(body: &str) -> String {
    body.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .find(|w| w.len() == 43)
        .unwrap_or_else(|| panic!("no token in {body}"))
        .to_owned()
}

/// Two shelters, each with a manager and a coordinator (tokens, and the coordinators' ids).
pub struct TwoShelters {
    pub admin: String,
    pub a: String,
    pub b: String,
    pub manager_a: String,
    pub coordinator_a: String,
    pub coordinator_a_id: String,
    pub manager_b: String,
    pub coordinator_b: String,
    pub coordinator_b_id: String,
}

pub async fn two_shelters(app: &TestApp) -> TwoShelters {
    let admin = app.admin_token().await;
    let a = app.create_shelter(&admin, "Casa A").await;
    let b = app.create_shelter(&admin, "Casa B").await;
    let (_, manager_a) = app
        .staff(&admin, "manager-a@example.org", &a, "manager")
        .await;
    let (coordinator_a_id, coordinator_a) = app
        .staff(&admin, "coord-a@example.org", &a, "coordinator")
        .await;
    let (_, manager_b) = app
        .staff(&admin, "manager-b@example.org", &b, "manager")
        .await;
    let (coordinator_b_id, coordinator_b) = app
        .staff(&admin, "coord-b@example.org", &b, "coordinator")
        .await;
    TwoShelters {
        admin,
        a,
        b,
        manager_a,
        coordinator_a,
        coordinator_a_id,
        manager_b,
        coordinator_b,
        coordinator_b_id,
    }
}

/// The audit events of one shelter about one kind of entity.
pub async fn audit_events(app: &TestApp, admin: &str, sid: &str, entity: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/audit/events?shelter_id={sid}&entity={entity}&limit=500"),
            Some(admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["items"].as_array().expect("items").clone()
}

pub async fn assert_chains_verify(app: &TestApp, admin: &str) {
    let r = app.get("/audit/verify", Some(admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["ok"], json!(true), "{r:?}");
}
