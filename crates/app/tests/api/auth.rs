//! Authentication, tenancy headers, correlation ids and the request rate limit.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{Backend, JWT_SECRET, jwt, spawn_app, spawn_app_with};

const SERVERS: &str = "/api/v1/toolservers/servers";

#[tokio::test]
async fn bad_or_missing_tokens_are_401_problems() {
    let app = spawn_app(Backend::Sqlite).await;
    let expired = jwt(json!({"sub": "u", "exp": chrono::Utc::now().timestamp() - 600}), JWT_SECRET);
    let forged = jwt(json!({"sub": "u", "role": "admin"}), "another-secret-of-sufficient-length");
    let unknown_role = jwt(json!({"sub": "u", "role": "root"}), JWT_SECRET);
    let no_subject = jwt(json!({"role": "admin"}), JWT_SECRET);
    let revoked_looking = format!("th_{}", "A".repeat(43));
    for token in [
        None,
        Some(""),
        Some("garbage"),
        Some(revoked_looking.as_str()),
        Some(&expired),
        Some(&forged),
        Some(&unknown_role),
        Some(&no_subject),
    ] {
        let reply = app.request(Method::GET, SERVERS, token, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(reply.code(), "UNAUTHENTICATED");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
        assert_eq!(reply.header("content-type"), Some("application/problem+json"));
        assert_eq!(reply.body["status"], 401);
        assert_eq!(reply.body["instance"], SERVERS);
    }
    let basic = app.client.get(format!("{}{SERVERS}", app.base)).basic_auth("admin", Some("x")).send().await.unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn jwt_claims_map_to_role_groups_and_tenant() {
    let app = spawn_app(Backend::Sqlite).await;
    let admin = jwt(json!({"sub": "alice", "role": "admin", "tenant": "acme", "groups": ["eng"]}), JWT_SECRET);
    let created = app.post(SERVERS, &admin, crate::harness::server_body("from-jwt")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["created_by"], "alice");

    let user = jwt(json!({"sub": "bob", "tenant": "acme", "groups": "eng,ops"}), JWT_SECRET);
    let listed = app.get(SERVERS, &user).await;
    assert!(listed.body.as_array().unwrap().is_empty(), "a plain user sees nothing without a grant");
    let bob = app.get("/api/v1/users/bob", &user).await;
    assert_eq!((bob.body["role"].as_str(), bob.body["tenant"].as_str()), (Some("user"), Some("acme")), "{}", bob.body);
    assert_eq!(
        app.post(SERVERS, &user, crate::harness::server_body("x")).await.status,
        StatusCode::FORBIDDEN,
        "default role is user"
    );

    let elsewhere = jwt(json!({"sub": "carol", "role": "admin"}), JWT_SECRET);
    let default_tenant = app.get(&format!("{SERVERS}?include_builtin=false"), &elsewhere).await;
    assert!(default_tenant.body.as_array().unwrap().is_empty(), "default tenant is separate");
}

#[tokio::test]
async fn every_response_carries_correlation_and_rate_headers() {
    let app = spawn_app(Backend::Sqlite).await;
    let replies = [
        app.request(Method::GET, "/healthz", None, None).await,
        app.request(Method::GET, SERVERS, None, None).await,
        app.get(SERVERS, &app.admin_key).await,
        app.get("/api/v1/toolservers/servers/missing", &app.admin_key).await,
        app.get("/no/such/route", &app.admin_key).await,
        app.post("/api/v1/toolservers/permissions", &app.admin_key, json!({})).await,
    ];
    for reply in &replies {
        let correlation = reply.header("x-correlation-id").expect("x-correlation-id");
        assert!(!correlation.is_empty());
        for name in [
            "x-ratelimit-limit-minute",
            "x-ratelimit-limit-hour",
            "x-ratelimit-remaining-minute",
            "x-ratelimit-remaining-hour",
        ] {
            assert!(reply.header(name).is_some(), "{name} missing on {}", reply.status);
        }
        if reply.body.get("code").is_some() {
            assert_eq!(reply.body["correlation_id"], correlation, "problems name their request");
        }
    }
    let echoed =
        app.client.get(format!("{}/healthz", app.base)).header("x-correlation-id", "trace-123").send().await.unwrap();
    assert_eq!(echoed.headers()["x-correlation-id"], "trace-123");
    let replaced = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("x-correlation-id", "has spaces and\ttabs")
        .send()
        .await
        .unwrap();
    assert_ne!(replaced.headers()["x-correlation-id"], "has spaces and\ttabs");
}

#[tokio::test]
async fn each_principal_has_its_own_request_budget() {
    let app = spawn_app_with(Backend::Sqlite, |serve| {
        serve.rate_limit_per_minute = 3;
        serve.rate_limit_per_hour = 1000;
    })
    .await;
    let other = app.key("other", toolhub_domain::Role::User, "default").await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let reply = app.get(SERVERS, &app.admin_key).await;
        assert_eq!(reply.status, StatusCode::OK);
        remaining.push(reply.header("x-ratelimit-remaining-minute").unwrap().to_owned());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let refused = app.get(SERVERS, &app.admin_key).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS"));
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(refused.header("x-ratelimit-limit-minute"), Some("3"));
    assert_eq!(app.get(SERVERS, &other).await.status, StatusCode::OK, "another principal is not affected");
}

/// Token claims are the truth for what they carry: a role lowered at the identity provider
/// applies at the next request, a token's groups are not kept once it stops carrying them,
/// `nbf` is honoured, and a token whose subject happens to name the operator's key principal
/// gets the token's role, not the operator's.
#[tokio::test]
async fn token_claims_decide_role_and_groups_at_every_request() {
    let app = spawn_app(Backend::Sqlite).await;
    let whoami = |token: String| {
        let app = &app;
        async move { app.get("/api/v1/users/bob", &token).await }
    };
    let admin_token = jwt(json!({"sub": "bob", "role": "admin", "groups": ["ops"]}), JWT_SECRET);
    let seen = whoami(admin_token.clone()).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(app.get("/api/v1/users", &admin_token).await.status, StatusCode::OK, "an admin lists users");
    let demoted = jwt(json!({"sub": "bob", "role": "user"}), JWT_SECRET);
    assert_eq!(app.get("/api/v1/users", &demoted).await.status, StatusCode::FORBIDDEN, "demoted at once");
    let stored = app.get("/api/v1/users/bob", &app.admin_key).await.body;
    assert_eq!(stored["groups"], json!([]), "a token's groups are not stored: {stored}");

    let later = chrono::Utc::now().timestamp() + 3600;
    let not_yet = jwt(json!({"sub": "bob", "role": "user", "nbf": later}), JWT_SECRET);
    assert_eq!(app.get(SERVERS, &not_yet).await.status, StatusCode::UNAUTHORIZED, "nbf is honoured");

    let lookalike = jwt(json!({"sub": "admin"}), JWT_SECRET);
    assert_eq!(app.get("/api/v1/users", &lookalike).await.status, StatusCode::FORBIDDEN, "sub admin is no operator");
    assert_eq!(app.get("/metrics", &lookalike).await.status, StatusCode::FORBIDDEN);
}

/// Keys are issued, listed without their secrets, revoked (at once) and rotated, through the
/// API; the tenant's last administrator key stays until another one exists.
#[tokio::test]
async fn api_keys_are_issued_listed_revoked_and_rotated() {
    let app = spawn_app(Backend::Sqlite).await;
    let issued = app
        .post("/api/v1/keys", &app.admin_key, json!({"principal_id": "carol", "role": "user", "name": "laptop"}))
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let carol = issued.body["key"].as_str().unwrap().to_owned();
    let carol_id = issued.body["id"].as_str().unwrap().to_owned();
    assert_eq!(app.get(SERVERS, &carol).await.status, StatusCode::OK);

    let listed = app.get("/api/v1/keys", &app.admin_key).await.body;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(!listed.to_string().contains(&carol), "no secret in listings");
    assert_eq!(app.get("/api/v1/keys", &carol).await.body.as_array().unwrap().len(), 1, "a user sees its own");

    let tenant_admin = app.key("acme-admin", toolhub_domain::Role::Admin, "acme").await;
    let escalate = json!({"principal_id": "mallory", "role": "super_admin", "name": "x"});
    assert_eq!(app.post("/api/v1/keys", &tenant_admin, escalate).await.status, StatusCode::FORBIDDEN);

    let rotated = app.post(&format!("/api/v1/keys/{carol_id}/rotate"), &carol, json!({})).await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.body);
    let carol_new = rotated.body["key"].as_str().unwrap().to_owned();
    assert_eq!(app.get(SERVERS, &carol).await.status, StatusCode::UNAUTHORIZED, "the old key stops at once");
    assert_eq!(app.get(SERVERS, &carol_new).await.status, StatusCode::OK);
    let new_id = rotated.body["id"].as_str().unwrap().to_owned();
    assert_eq!(app.delete(&format!("/api/v1/keys/{new_id}"), &carol_new).await.status, StatusCode::OK);
    assert_eq!(app.get(SERVERS, &carol_new).await.status, StatusCode::UNAUTHORIZED);

    // The operator's key is the default tenant's last administrator key until another exists.
    let own = app.get("/api/v1/keys", &app.admin_key).await.body;
    let bootstrap = own.as_array().unwrap().iter().find(|k| k["principal_id"] == "admin").unwrap()["id"].clone();
    let path = format!("/api/v1/keys/{}", bootstrap.as_str().unwrap());
    let refused = app.delete(&path, &app.admin_key).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::CONFLICT, "CONFLICT"));
    let second = app
        .post("/api/v1/keys", &app.admin_key, json!({"principal_id": "ops", "role": "super_admin", "name": "ops"}))
        .await
        .body;
    let ops = second["key"].as_str().unwrap().to_owned();
    assert_eq!(app.delete(&path, &ops).await.status, StatusCode::OK);
    assert_eq!(app.get(SERVERS, &app.admin_key).await.status, StatusCode::UNAUTHORIZED);
    let unknown = app.delete("/api/v1/keys/01JAAAAAAAAAAAAAAAAAAAAAAA", &ops).await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::NOT_FOUND, "API_KEY_NOT_FOUND"));
}
