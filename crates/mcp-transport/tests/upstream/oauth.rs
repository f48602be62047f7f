//! OAuth client credentials against a token endpoint stub on loopback.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use toolhub_domain::{secret::Secret, server::OAuthConfig, upstream::UpstreamError};
use toolhub_mcp::{EgressPolicy, egress::Reach, oauth::TokenCache};

/// Answers every request with a new token valid for `expires_in` seconds; counts requests and
/// remembers whether the client authenticated with HTTP basic auth.
async fn token_endpoint(expires_in: u64) -> (String, Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (c, r) = (count.clone(), requests.clone());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let n = c.fetch_add(1, Ordering::SeqCst) + 1;
            let mut buf = vec![0u8; 8192];
            let read = stream.read(&mut buf).await.unwrap_or(0);
            r.lock().unwrap().push(String::from_utf8_lossy(&buf[..read]).into_owned());
            let body = format!(r#"{{"access_token":"token-{n}","token_type":"Bearer","expires_in":{expires_in}}}"#);
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        }
    });
    (url, count, requests)
}

fn config(token_url: &str) -> OAuthConfig {
    OAuthConfig {
        client_id: "toolhub".into(),
        client_secret: Secret::new("s3cret"),
        token_url: token_url.into(),
        scope: Some("tools".into()),
    }
}

#[tokio::test]
async fn tokens_are_fetched_cached_and_refreshed_before_expiry() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // 31 s of validity minus the 30 s margin: due for refresh after one second.
    let (url, count, requests) = token_endpoint(31).await;
    let clock = Arc::new(toolhub_domain::testing::FixedClock::new(chrono::Utc::now()));
    let cache = TokenCache::new(clock.clone());
    let egress = EgressPolicy::default();
    let first = cache.token("server-1", &config(&url), &egress, Reach::Operator).await.unwrap();
    let again = cache.token("server-1", &config(&url), &egress, Reach::Operator).await.unwrap();
    assert_eq!((first.value.as_str(), again.value.as_str()), ("token-1", "token-1"), "cached");
    assert_eq!(count.load(Ordering::SeqCst), 1);
    let request = requests.lock().unwrap()[0].clone();
    assert!(request.contains("grant_type=client_credentials") && request.contains("scope=tools"), "{request}");
    assert!(request.to_ascii_lowercase().contains("authorization: basic "), "client authenticates: {request}");

    clock.advance(chrono::Duration::milliseconds(999));
    assert_eq!(
        cache.token("server-1", &config(&url), &egress, Reach::Operator).await.unwrap().value,
        "token-1",
        "not yet due"
    );
    clock.advance(chrono::Duration::milliseconds(1));
    let refreshed = cache.token("server-1", &config(&url), &egress, Reach::Operator).await.unwrap();
    assert_eq!(refreshed.value, "token-2", "fetched again before it expires");
    cache.forget("server-1");
    assert_eq!(cache.token("server-1", &config(&url), &egress, Reach::Operator).await.unwrap().value, "token-3");
}

#[tokio::test]
async fn token_endpoints_pass_the_egress_policy() {
    let cache = TokenCache::default();
    let refused =
        cache.token("s", &config("http://169.254.169.254/token"), &EgressPolicy::default(), Reach::Operator).await;
    assert!(matches!(refused, Err(UpstreamError::Refused(_))), "{refused:?}");
}
