//! A small JSON client for the demo's own server: every answer other than the one expected is
//! an error that names the request, so a data set the rules refuse fails loudly.

use anyhow::Context;
use refugio_core::Quantity;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(port: u16) -> anyhow::Result<Api> {
        Ok(Api {
            // A request stuck on the demo's own server would otherwise hang the demo for good.
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()?,
            base: format!("http://127.0.0.1:{port}/api/v1"),
        })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        expect: StatusCode,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .with_context(|| format!("{method} {path}"))?;
        anyhow::ensure!(
            status == expect,
            "{method} {path} answered {status}: {text}"
        );
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> anyhow::Result<Value> {
        self.call(Method::GET, path, Some(token), None, StatusCode::OK)
            .await
    }

    /// A `POST` that creates something (`201`).
    pub async fn create(&self, path: &str, token: &str, body: Value) -> anyhow::Result<Value> {
        self.call(
            Method::POST,
            path,
            Some(token),
            Some(&body),
            StatusCode::CREATED,
        )
        .await
    }

    /// A `POST` that acts on something (`200`).
    pub async fn act(&self, path: &str, token: &str, body: Value) -> anyhow::Result<Value> {
        self.call(Method::POST, path, Some(token), Some(&body), StatusCode::OK)
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> anyhow::Result<Value> {
        self.call(Method::PUT, path, Some(token), Some(&body), StatusCode::OK)
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> anyhow::Result<Value> {
        self.call(
            Method::PATCH,
            path,
            Some(token),
            Some(&body),
            StatusCode::OK,
        )
        .await
    }

    /// Registers a donor (no token).
    pub async fn register(&self, body: Value) -> anyhow::Result<Value> {
        self.call(
            Method::POST,
            "/auth/register",
            None,
            Some(&body),
            StatusCode::CREATED,
        )
        .await
    }

    /// Logs in and returns the access token.
    pub async fn login(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let body = serde_json::json!({"email": email, "password": password});
        let reply = self
            .call(
                Method::POST,
                "/auth/login",
                None,
                Some(&body),
                StatusCode::OK,
            )
            .await?;
        text(&reply, "access_token")
    }
}

/// A string field of an answer.
pub fn text(value: &Value, field: &str) -> anyhow::Result<String> {
    value[field]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no {field} in {value}"))
}

/// A quantity field (a JSON number) in thousandths.
pub fn thousandths(value: &Value, field: &str) -> anyhow::Result<i64> {
    match &value[field] {
        Value::Number(n) => Quantity::from_json(n)
            .map(|q| q.0)
            .map_err(|e| anyhow::anyhow!("{field} in {value}: {e:?}")),
        _ => anyhow::bail!("no {field} in {value}"),
    }
}

/// Thousandths as a JSON number.
pub fn quantity(thousandths: i64) -> Value {
    Quantity(thousandths).to_json()
}

/// Minor units as a money object.
pub fn money(minor: i64, currency: &str) -> Value {
    serde_json::json!(refugio_api::money::money_json(minor, currency))
}
