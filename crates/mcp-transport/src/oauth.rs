//! OAuth 2 client credentials for remote servers: tokens fetched, cached until shortly before
//! they expire, and fetched again.

use std::{collections::HashMap, sync::Arc, sync::Mutex, time::Duration};

use serde::Deserialize;
use toolhub_domain::{
    Timestamp,
    ports::{Clock, SystemClock},
    server::OAuthConfig,
    upstream::UpstreamError,
};

use crate::egress::{EgressPolicy, Reach};

/// A token is refreshed this long before it expires.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct AccessToken {
    pub value: String,
    /// When to fetch a new one (expiry minus the margin); `None` when the server named no expiry.
    pub refresh_at: Option<Timestamp>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

/// Tokens per server, by the time of a clock (the system's, or a test's).
pub struct TokenCache {
    tokens: Mutex<HashMap<String, AccessToken>>,
    clock: Arc<dyn Clock>,
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new(Arc::new(SystemClock))
    }
}

impl TokenCache {
    /// An empty cache that reads `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { tokens: Mutex::default(), clock }
    }

    /// A valid token for the server: cached, or fetched from the token endpoint.
    pub async fn token(
        &self,
        server_id: &str,
        config: &OAuthConfig,
        egress: &EgressPolicy,
        reach: Reach,
    ) -> Result<AccessToken, UpstreamError> {
        let cached = self.tokens.lock().ok().and_then(|t| t.get(server_id).cloned());
        if let Some(token) = cached.filter(|t| t.refresh_at.is_none_or(|at| at > self.clock.now())) {
            return Ok(token);
        }
        let token = fetch(config, egress, reach, self.clock.now()).await?;
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(server_id.to_owned(), token.clone());
        }
        Ok(token)
    }

    /// How long until `at`, by the cache's clock (zero once past).
    pub fn due_in(&self, at: Timestamp) -> Duration {
        (at - self.clock.now()).to_std().unwrap_or_default()
    }

    pub fn forget(&self, server_id: &str) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.remove(server_id);
        }
    }
}

async fn fetch(
    config: &OAuthConfig,
    egress: &EgressPolicy,
    reach: Reach,
    now: Timestamp,
) -> Result<AccessToken, UpstreamError> {
    let (host, addresses) = egress.check_url(&config.token_url, reach).await?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .resolve_to_addrs(&host, &addresses)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| UpstreamError::Unavailable(e.to_string()))?;
    let body = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if let Some(scope) = &config.scope {
            form.append_pair("scope", scope);
        }
        form.finish()
    };
    let response = client
        .post(&config.token_url)
        .basic_auth(&config.client_id, Some(config.client_secret.expose()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| UpstreamError::Unavailable(format!("token endpoint: {e}")))?;
    if !response.status().is_success() {
        return Err(UpstreamError::Unavailable(format!("token endpoint answered {}", response.status())));
    }
    let body: TokenResponse = response
        .json()
        .await
        .map_err(|e| UpstreamError::Protocol(format!("token endpoint returned no access_token: {e}")))?;
    let refresh_at = body.expires_in.map(|secs| {
        let valid = Duration::from_secs(secs).saturating_sub(REFRESH_MARGIN);
        now + chrono::Duration::from_std(valid).unwrap_or(chrono::TimeDelta::MAX)
    });
    Ok(AccessToken { value: body.access_token, refresh_at })
}
