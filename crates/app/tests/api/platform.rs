//! Probes, API documents, unknown routes, and the declared-but-pending operations.

use reqwest::{Method, StatusCode};

use crate::harness::{Backend, spawn_app};

#[tokio::test]
async fn probes_and_docs_need_no_token() {
    let app = spawn_app(Backend::Sqlite).await;
    let health = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!((health.status, health.body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let ready = app.request(Method::GET, "/readyz", None, None).await;
    assert_eq!((ready.status, ready.body["status"].as_str()), (StatusCode::OK, Some("ready")));

    let spec = app.request(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(spec.status, StatusCode::OK);
    assert_eq!(spec.body, serde_json::to_value(toolhub_http::openapi()).unwrap(), "serves the generated document");

    let page = app.client.get(format!("{}/docs", app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "redirected to the Swagger UI");
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let initializer = app.client.get(format!("{}/docs/swagger-initializer.js", app.base)).send().await.unwrap();
    assert!(initializer.text().await.unwrap().contains("/openapi.json"), "the UI loads our document");
    let bundle = app.client.get(format!("{}/docs/swagger-ui-bundle.js", app.base)).send().await.unwrap();
    assert_eq!(bundle.status(), StatusCode::OK, "assets are served locally, no network needed");
}

#[tokio::test]
async fn unknown_routes_are_404_problems() {
    let app = spawn_app(Backend::Sqlite).await;
    let reply = app.get("/api/v1/nothing-here", &app.admin_key).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    assert_eq!(reply.header("content-type"), Some("application/problem+json"));
}

/// Prometheus metrics cover every tenant: they are for the operator (super administrators).
#[tokio::test]
async fn prometheus_metrics_need_a_super_administrator() {
    let app = spawn_app(Backend::Sqlite).await;
    assert_eq!(app.request(Method::GET, "/metrics", None, None).await.status, StatusCode::UNAUTHORIZED);
    let user = app.key("viewer", toolhub_domain::Role::User, "default").await;
    assert_eq!(app.get("/metrics", &user).await.status, StatusCode::FORBIDDEN);
    let tenant_admin = app.key("acme-admin", toolhub_domain::Role::Admin, "acme").await;
    assert_eq!(app.get("/metrics", &tenant_admin).await.status, StatusCode::FORBIDDEN);
    app.get("/api/v1/toolservers/servers", &app.admin_key).await;
    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "toolhub_http_requests_total{method=\"GET\",route=\"/api/v1/toolservers/servers\",status=\"200\"}"
        ),
        "{text}"
    );
    assert!(text.contains("toolhub_http_request_duration_seconds_bucket"), "{text}");
}
