//! A thin JSON client for `setup` and for logging in before a run (not the measured path).

use anyhow::{bail, Context};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(base: &str) -> anyhow::Result<Api> {
        Ok(Api {
            http: reqwest::Client::builder().tcp_nodelay(true).build()?,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// Sends `body` to `/api/v1{path}` and returns the JSON reply if the status is `want`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        want: StatusCode,
    ) -> anyhow::Result<Value> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut req = self.http.request(method.clone(), &url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req
            .send()
            .await
            .with_context(|| format!("{method} {url} failed"))?;
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        if status != want {
            bail!("{method} {path}: expected {want}, got {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> anyhow::Result<Value> {
        self.call(
            Method::POST,
            path,
            Some(token),
            Some(&body),
            StatusCode::CREATED,
        )
        .await
    }

    pub async fn get(&self, path: &str, token: &str) -> anyhow::Result<Value> {
        self.call(Method::GET, path, Some(token), None, StatusCode::OK)
            .await
    }

    /// Logs in and returns the access token.
    pub async fn login(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let body = json!({"email": email, "password": password});
        let reply = self
            .call(
                Method::POST,
                "/auth/login",
                None,
                Some(&body),
                StatusCode::OK,
            )
            .await?;
        reply["access_token"]
            .as_str()
            .map(str::to_owned)
            .context("the login reply has no access_token")
    }
}

/// The `id` of a created object.
pub fn id_of(v: &Value) -> anyhow::Result<String> {
    v["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no id in {v}"))
}
