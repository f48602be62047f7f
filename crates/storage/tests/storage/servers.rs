use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, Statement};
use toolhub_domain::{
    DomainError, new_id,
    ports::ReadinessProbe,
    server::{NewToolServer, OAuthInput, ServerFilter, ServerStatus, ToolServer, TransportType},
    tool::{Tool, ToolStatus},
};

use crate::harness::{Backend, fresh};

toolhub_test_support::on_both_databases!(migrations_are_applied_and_idempotent, secrets_are_sealed_at_rest);

toolhub_test_support::on_every_store!(
    servers_round_trip_with_every_field,
    listing_filters_orders_and_isolates_tenants,
    names_are_unique_per_tenant,
    updates_are_conditional_on_the_version,
    deleting_a_server_deletes_its_tools,
);

pub fn server(tenant: &str, name: &str) -> ToolServer {
    let input = NewToolServer {
        name: name.into(),
        display_name: format!("{name} server"),
        base_url: Some(format!("https://{name}.example/mcp")),
        ..Default::default()
    };
    ToolServer::register(input, new_id(), tenant.into(), Some("admin".into()), chrono::Utc::now()).unwrap()
}

fn stdio_server_with_secrets() -> ToolServer {
    let input = NewToolServer {
        name: "everything".into(),
        display_name: "Everything".into(),
        transport_type: Some(TransportType::Stdio),
        command: Some("npx".into()),
        args: vec!["-y".into(), "@modelcontextprotocol/server-everything".into()],
        env: BTreeMap::from([("API_TOKEN".into(), "tok-123".into()), ("REGION".into(), "eu".into())]),
        headers: BTreeMap::from([("Authorization".into(), "Bearer hdr-456".into())]),
        oauth_config: Some(OAuthInput {
            client_id: "client".into(),
            client_secret: "oauth-789".into(),
            token_url: "https://auth.example/token".into(),
            scope: Some("tools".into()),
        }),
        description: Some("All the things".into()),
        category: Some("testing".into()),
        tags: vec!["a".into(), "b".into()],
        ..Default::default()
    };
    ToolServer::register(input, new_id(), "default".into(), None, chrono::Utc::now()).unwrap()
}

/// Timestamps come back at the backend's precision (microseconds on PostgreSQL).
fn normalized(mut s: ToolServer) -> ToolServer {
    use chrono::SubsecRound;
    s.created_at = s.created_at.trunc_subsecs(6);
    s.updated_at = s.updated_at.trunc_subsecs(6);
    s
}

async fn migrations_are_applied_and_idempotent(backend: Backend) {
    let t = fresh(backend).await;
    t.store().check().await.expect("ready after migrating");
    toolhub_storage::migrate(t.db()).await.expect("migrating twice is a no-op");
}

async fn servers_round_trip_with_every_field(backend: Backend) {
    let t = fresh(backend).await;
    let original = stdio_server_with_secrets();
    t.servers().insert(&original).await.unwrap();
    let loaded = t.servers().get("default", &original.id).await.unwrap().expect("stored");
    assert_eq!(normalized(loaded), normalized(original.clone()));
    assert!(t.servers().get("other", &original.id).await.unwrap().is_none(), "other tenants cannot read it");
    assert!(t.servers().get("default", "01HZZZZZZZZZZZZZZZZZZZZZZZ").await.unwrap().is_none());
}

async fn listing_filters_orders_and_isolates_tenants(backend: Backend) {
    let t = fresh(backend).await;
    for (i, name) in ["c", "a", "b"].into_iter().enumerate() {
        let mut s = server("default", name);
        s.created_at += chrono::Duration::seconds(i as i64);
        if name == "b" {
            s.is_builtin = true;
            s.status = ServerStatus::Enabled;
        }
        t.servers().insert(&s).await.unwrap();
    }
    t.servers().insert(&server("other", "z")).await.unwrap();

    let t = &t;
    let list = |filter| async move {
        t.servers().list("default", filter).await.unwrap().into_iter().map(|s| s.name).collect::<Vec<_>>()
    };
    assert_eq!(list(ServerFilter { include_builtin: true, status: None }).await, ["c", "a", "b"], "creation order");
    assert_eq!(list(ServerFilter { include_builtin: false, status: None }).await, ["c", "a"]);
    assert_eq!(list(ServerFilter { include_builtin: true, status: Some(ServerStatus::Enabled) }).await, ["b"]);
    assert!(list(ServerFilter { include_builtin: false, status: Some(ServerStatus::Enabled) }).await.is_empty());
}

async fn names_are_unique_per_tenant(backend: Backend) {
    let t = fresh(backend).await;
    t.servers().insert(&server("default", "dup")).await.unwrap();
    assert!(matches!(t.servers().insert(&server("default", "dup")).await, Err(DomainError::Conflict(_))));
    t.servers().insert(&server("other", "dup")).await.expect("another tenant may use the name");
}

async fn updates_are_conditional_on_the_version(backend: Backend) {
    let t = fresh(backend).await;
    let mut s = server("default", "v");
    t.servers().insert(&s).await.unwrap();
    s.timeout = 99;
    s.version = 2;
    assert!(t.servers().update(&s, 1).await.unwrap());
    s.timeout = 5;
    s.version = 3;
    assert!(!t.servers().update(&s, 1).await.unwrap(), "a stale version writes nothing");
    let stored = t.servers().get("default", &s.id).await.unwrap().unwrap();
    assert_eq!((stored.timeout, stored.version), (99, 2));
    let mut ghost = server("default", "ghost");
    ghost.version = 2;
    assert!(!t.servers().update(&ghost, 1).await.unwrap(), "a missing row is not updated");
}

async fn secrets_are_sealed_at_rest(backend: Backend) {
    let t = fresh(backend).await;
    let s = stdio_server_with_secrets();
    t.servers().insert(&s).await.unwrap();
    let backend = t.db().get_database_backend();
    let sql =
        "SELECT CAST(env AS TEXT) || CAST(headers AS TEXT) || CAST(oauth_config AS TEXT) AS raw FROM tool_servers";
    let row = t.db().query_one_raw(Statement::from_string(backend, sql)).await.unwrap().unwrap();
    let raw: String = row.try_get("", "raw").unwrap();
    for secret in ["tok-123", "hdr-456", "oauth-789"] {
        assert!(!raw.contains(secret), "{secret} is stored in clear: {raw}");
    }
    assert!(raw.contains("eu"), "plain values stay readable");
    let loaded = t.servers().get("default", &s.id).await.unwrap().unwrap();
    assert_eq!(loaded.env["API_TOKEN"].expose(), "tok-123");
    assert_eq!(loaded.oauth_config.unwrap().client_secret.expose(), "oauth-789");
}

async fn deleting_a_server_deletes_its_tools(backend: Backend) {
    let t = fresh(backend).await;
    let s = server("default", "with-tools");
    t.servers().insert(&s).await.unwrap();
    for (order, name) in [(1, "b"), (0, "z"), (1, "a")] {
        t.tools().insert(&tool(&s, name, order)).await.unwrap();
    }
    assert!(matches!(t.tools().insert(&tool(&s, "a", 0)).await, Err(DomainError::Conflict(_))));
    let names: Vec<String> = t
        .tools()
        .list_for_servers("default", std::slice::from_ref(&s.id))
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["z", "a", "b"], "sort order, then name");

    assert!(!t.servers().delete("other", &s.id).await.unwrap(), "other tenants cannot delete it");
    assert!(t.servers().delete("default", &s.id).await.unwrap());
    assert!(!t.servers().delete("default", &s.id).await.unwrap());
    assert!(t.tools().list_for_servers("default", std::slice::from_ref(&s.id)).await.unwrap().is_empty());
}

pub fn tool(server: &ToolServer, name: &str, sort_order: i32) -> Tool {
    let now = chrono::Utc::now();
    Tool {
        id: new_id(),
        tenant: server.tenant.clone(),
        server_id: server.id.clone(),
        name: name.into(),
        display_name: toolhub_domain::tool::display_name_for(name),
        description: None,
        args_schema: Some(serde_json::json!({"type": "object"})),
        output_schema: None,
        annotations: None,
        status: ToolStatus::Enabled,
        is_available: true,
        bypass_when_unavailable: false,
        category: None,
        sort_order,
        discovered_at: Some(now),
        discovered_by: Some("test".into()),
        total_calls: 0,
        total_errors: 0,
        last_called: None,
        last_error: None,
        avg_response_time_ms: None,
        created_at: now,
        updated_at: now,
    }
}
