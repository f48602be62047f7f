//! The request pipeline (authentication, tenancy, the request limit, problem rendering) and a
//! few handlers, over the in-memory ports: what every request passes, tested without a database.

use std::sync::Arc;

use actix_web::{
    body::MessageBody,
    dev::{Service, ServiceResponse},
    http::{StatusCode, header},
    test,
    web::Data,
};
use serde_json::{Value, json};
use toolhub_domain::{
    Role,
    ports::SystemClock,
    services::{NewApiKey, Services, Settings},
    testing::{InMemoryStore, InMemoryUpstream},
};
use toolhub_http::{AppState, metrics::PrometheusMetrics, rate_limit::RateLimiter};

const SERVERS: &str = "/api/v1/toolservers/servers";

struct Pipeline {
    state: Data<AppState>,
    document: toolhub_http::ApiDocument,
}

impl Pipeline {
    /// An application over fresh in-memory ports, with this request limit per minute.
    fn new(per_minute: u32) -> Self {
        let store = Arc::new(InMemoryStore::new());
        let metrics = Arc::new(PrometheusMetrics::new().unwrap());
        let mut ports = store.ports(Arc::new(InMemoryUpstream::echo(Vec::new())), Arc::new(SystemClock));
        ports.metrics = metrics.clone();
        let services = Services::new(&ports, &Settings::default());
        let gateway = toolhub_http::mcp_gateway::Gateway::new(services.clone(), &ports, &Default::default());
        let state = Data::new(AppState {
            gateway,
            services,
            metrics,
            jwt: None,
            limiter: Arc::new(RateLimiter::new(per_minute, 10_000)),
            readiness: store,
        });
        Self { state, document: toolhub_http::ApiDocument::new() }
    }

    async fn key(&self, id: &str, role: Role, tenant: &str) -> String {
        let request =
            NewApiKey { tenant: tenant.into(), principal_id: id.into(), role, name: id.into(), expires_at: None };
        self.state.services.auth.create_key(request).await.unwrap().1.expose().to_owned()
    }

    async fn send(&self, request: test::TestRequest) -> (StatusCode, header::HeaderMap, Value) {
        let app = test::init_service(toolhub_http::app(self.state.clone(), self.document.clone())).await;
        let response: ServiceResponse<_> = app.call(request.to_request()).await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = response.into_body().try_into_bytes().unwrap_or_default();
        (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}

fn get(path: &str, token: &str) -> test::TestRequest {
    test::TestRequest::get().uri(path).insert_header(("authorization", format!("Bearer {token}")))
}

fn content_type(headers: &header::HeaderMap) -> &str {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[actix_web::test]
async fn requests_without_a_good_token_are_401_problems() {
    let p = Pipeline::new(100);
    for request in [test::TestRequest::get().uri(SERVERS), get(SERVERS, "th_not-a-key"), get(SERVERS, "a.b.c")] {
        let (status, headers, body) = p.send(request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(content_type(&headers), "application/problem+json");
        assert_eq!(headers.get("www-authenticate").unwrap(), "Bearer");
        assert_eq!(
            (body["code"].as_str(), body["title"].as_str()),
            (Some("UNAUTHENTICATED"), Some("Authentication Required"))
        );
        assert_eq!(body["type"], "/problems/unauthenticated");
        assert_eq!(body["instance"], SERVERS);
        assert_eq!(body["correlation_id"].as_str(), headers.get("x-correlation-id").and_then(|v| v.to_str().ok()));
    }
    let (status, _, body) = p.send(test::TestRequest::get().uri("/healthz")).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")), "probes are public");
}

#[actix_web::test]
async fn tenants_stay_apart_and_only_super_admins_switch() {
    let p = Pipeline::new(100);
    let admin = p.key("root", Role::Admin, "acme").await;
    let other = p.key("eve", Role::Admin, "globex").await;
    let super_admin = p.key("ops", Role::SuperAdmin, "default").await;
    let create = test::TestRequest::post()
        .uri(SERVERS)
        .insert_header(("authorization", format!("Bearer {admin}")))
        .set_json(json!({"name": "files", "display_name": "Files", "base_url": "https://files.example/mcp", "auto_start": false}));
    let (status, _, created) = p.send(create).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let path = format!("{SERVERS}/{}", created["id"].as_str().unwrap());

    let (status, _, body) = p.send(get(&path, &other)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("SERVER_NOT_FOUND")));
    assert_eq!(
        (body["resourceType"].as_str(), body["resourceId"].as_str()),
        (Some("tool_server"), created["id"].as_str())
    );
    let (status, _, body) = p.send(get(&path, &other).insert_header(("x-tenant", "acme"))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("ACCESS_DENIED")),
        "an admin cannot switch"
    );
    let (status, _, body) = p.send(get(&path, &super_admin).insert_header(("x-tenant", "acme"))).await;
    assert_eq!((status, body["name"].as_str()), (StatusCode::OK, Some("files")), "a super admin can");
    let bad = header::HeaderValue::from_bytes(b"ac\xffme").unwrap();
    let (status, _, body) = p.send(get(&path, &super_admin).insert_header(("x-tenant", bad))).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("VALIDATION_FAILED")));
}

#[actix_web::test]
async fn the_request_limit_counts_per_principal_and_says_when_to_retry() {
    let p = Pipeline::new(2);
    let (alice, bob) = (p.key("alice", Role::User, "default").await, p.key("bob", Role::User, "default").await);
    for remaining in ["1", "0"] {
        let (status, headers, _) = p.send(get(SERVERS, &alice)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers.get("x-ratelimit-remaining-minute").unwrap(), remaining);
        assert_eq!(headers.get("x-ratelimit-limit-minute").unwrap(), "2");
    }
    let (status, headers, body) = p.send(get(SERVERS, &alice)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("TOO_MANY_REQUESTS")));
    let retry: u64 = headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(p.send(get(SERVERS, &bob)).await.0, StatusCode::OK, "another principal has its own budget");
}

#[actix_web::test]
async fn bodies_are_checked_before_any_service_runs() {
    let p = Pipeline::new(100);
    let admin = p.key("root", Role::Admin, "default").await;
    let post = |body: &'static [u8], content_type: &'static str| {
        test::TestRequest::post()
            .uri(SERVERS)
            .insert_header(("authorization", format!("Bearer {admin}")))
            .insert_header(("content-type", content_type))
            .set_payload(body)
    };
    let cases: [(&[u8], &str, StatusCode, &str); 7] = [
        (b"{", "application/json", StatusCode::BAD_REQUEST, "MALFORMED_REQUEST"),
        (
            br#"{"name": "x", "display_name": "X", "base_url": "https://x.example"} }}}not json"#,
            "application/json",
            StatusCode::BAD_REQUEST,
            "MALFORMED_REQUEST",
        ),
        (b"[]", "application/json", StatusCode::BAD_REQUEST, "MALFORMED_REQUEST"),
        (b"  \"text\"", "application/json", StatusCode::BAD_REQUEST, "MALFORMED_REQUEST"),
        (b"{}", "text/plain", StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE"),
        (br#"{"name": "x"}"#, "application/json", StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED"),
        (
            br#"{"name": 5, "display_name": "X"}"#,
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let (got, headers, problem) = p.send(post(body, content_type)).await;
        assert_eq!((got, problem["code"].as_str()), (status, Some(code)), "{}", String::from_utf8_lossy(body));
        assert_eq!(problem["status"], status.as_u16());
        assert_eq!(crate::pipeline::content_type(&headers), "application/problem+json");
    }
    let (_, _, listed) = p.send(get(SERVERS, &admin)).await;
    assert!(listed.as_array().unwrap().is_empty(), "nothing was created");
    let long = "x".repeat(40_000);
    let (status, _, problem) = p.send(get(&format!("{SERVERS}?status={long}"), &admin)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem.to_string().len() < 2_000, "a huge query value is not echoed whole");
    let (status, _, problem) = p.send(get("/api/v1/nowhere", &admin)).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::NOT_FOUND, Some("NOT_FOUND")));
}

/// Nothing a client sends becomes a label value: odd methods count as `other`, calls to names
/// that name no tool as `unknown`, so `/metrics` stays small whatever arrives.
#[actix_web::test]
async fn metric_labels_come_from_fixed_sets() {
    let p = Pipeline::new(10_000);
    let (user, operator) = (p.key("u", Role::User, "default").await, p.key("ops", Role::SuperAdmin, "default").await);
    for n in 0..50 {
        let method = actix_web::http::Method::from_bytes(format!("FLOOD{n}").as_bytes()).unwrap();
        p.send(test::TestRequest::default().method(method).uri(SERVERS)).await;
        let call = test::TestRequest::post()
            .uri("/api/v1/toolservers/call")
            .insert_header(("authorization", format!("Bearer {user}")))
            .set_json(json!({"server_name": format!("server{n}"), "tool_name": format!("tool{n}")}));
        assert_eq!(p.send(call).await.0, StatusCode::NOT_FOUND);
    }
    let app = test::init_service(toolhub_http::app(p.state.clone(), p.document.clone())).await;
    let metrics = |token: &str| get("/metrics", token).to_request();
    assert_eq!(app.call(metrics(&user)).await.unwrap().status(), StatusCode::FORBIDDEN);
    let response = app.call(metrics(&operator)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = String::from_utf8(response.into_body().try_into_bytes().unwrap_or_default().to_vec()).unwrap();
    assert!(!text.contains("FLOOD") && !text.contains("server1") && !text.contains("tool1"), "{text}");
    assert!(text.contains(r#"method="other""#) && text.contains(r#"server="unknown",tool="unknown""#), "{text}");
    assert!(text.len() < 20_000, "{} bytes", text.len());
}

/// Every request counts against its address before any authentication work: a flood of bad
/// tokens from one address is refused with 429 without a key being hashed or a JWT verified.
#[actix_web::test]
async fn addresses_are_limited_before_authentication() {
    let p = Pipeline::new(1);
    let allowance = toolhub_http::rate_limit::ADDRESS_FACTOR as usize;
    for _ in 0..allowance {
        assert_eq!(p.send(get(SERVERS, "th_guessing")).await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, headers, body) = p.send(get(SERVERS, "th_guessing")).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("TOO_MANY_REQUESTS")));
    assert!(headers.get("retry-after").is_some());
}

/// What the document states, the server holds to: unknown fields are refused and named, a
/// whole number written `30.0` is an integer, a datetime without an offset is UTC, and a
/// documented path with a method it lacks answers 405 with `Allow`.
#[actix_web::test]
async fn bodies_are_read_as_the_document_states() {
    let p = Pipeline::new(100);
    let admin = p.key("root", Role::Admin, "default").await;
    let post = |path: &str, body: serde_json::Value| {
        test::TestRequest::post().uri(path).insert_header(("authorization", format!("Bearer {admin}"))).set_json(body)
    };
    let server = json!({"name": "x", "display_name": "X", "base_url": "https://x.example", "auto_start": false});
    let mut extra = server.clone();
    extra["colour"] = json!("blue");
    let (status, _, problem) = p.send(post(SERVERS, extra)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("colour"), "{problem}");

    let mut whole = server.clone();
    whole["timeout"] = json!(45.0);
    let (status, _, created) = p.send(post(SERVERS, whole)).await;
    assert_eq!((status, &created["timeout"]), (StatusCode::CREATED, &json!(45)), "{created}");
    let mut fraction = server.clone();
    fraction["name"] = json!("y");
    fraction["timeout"] = json!(45.5);
    assert_eq!(p.send(post(SERVERS, fraction)).await.0, StatusCode::UNPROCESSABLE_ENTITY);

    let key = json!({"principal_id": "bot", "role": "user", "name": "bot", "expires_at": "2099-01-31T12:00:00"});
    let (status, _, issued) = p.send(post("/api/v1/keys", key)).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    assert_eq!(issued["expires_at"], "2099-01-31T12:00:00Z", "{issued}");
    let key = json!({"principal_id": "bot", "role": "user", "name": "bot", "expires_at": "tomorrow"});
    let (status, _, problem) = p.send(post("/api/v1/keys", key)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("UTC is assumed"), "{problem}");

    let trace = test::TestRequest::default()
        .method(actix_web::http::Method::TRACE)
        .uri(SERVERS)
        .insert_header(("authorization", format!("Bearer {admin}")));
    let (status, headers, problem) = p.send(trace).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("METHOD_NOT_ALLOWED")));
    assert_eq!(headers.get("allow").unwrap(), "GET, POST");
    let delete = test::TestRequest::delete()
        .uri("/api/v1/toolservers/servers/some-id/start")
        .insert_header(("authorization", format!("Bearer {admin}")));
    let (status, _, _) = p.send(delete).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "a path template matches any id");
}
