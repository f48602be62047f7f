//! The domain services against the in-memory ports.

use std::sync::Arc;

use toolhub_domain::{
    DomainError, Patch, Principal, Role,
    server::{NewToolServer, ServerFilter, ServerPatch},
    services::{AuthService, NewApiKey, ServerService},
    testing::{FixedClock, InMemoryStore},
};

struct World {
    store: Arc<InMemoryStore>,
    clock: Arc<FixedClock>,
    servers: ServerService,
    auth: AuthService,
}

fn world() -> World {
    let store = Arc::new(InMemoryStore::new());
    let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
    World {
        servers: ServerService::new(store.clone(), store.clone(), clock.clone()),
        auth: AuthService::new(store.clone(), store.clone(), clock.clone()),
        store,
        clock,
    }
}

fn principal(id: &str, tenant: &str, role: Role) -> Principal {
    Principal { id: id.into(), tenant: tenant.into(), role, groups: vec![] }
}

fn new_server(name: &str) -> NewToolServer {
    NewToolServer {
        name: name.into(),
        display_name: name.to_uppercase(),
        base_url: Some(format!("https://{name}.example/mcp")),
        ..Default::default()
    }
}

#[tokio::test]
async fn only_admins_write_and_tenants_stay_apart() {
    let w = world();
    let admin = principal("root", "acme", Role::Admin);
    let user = principal("bob", "acme", Role::User);
    let other_admin = principal("eve", "globex", Role::Admin);

    assert!(matches!(w.servers.create(&user, new_server("a")).await, Err(DomainError::Forbidden(_))));
    let created = w.servers.create(&admin, new_server("a")).await.unwrap().server;
    assert_eq!(created.created_by.as_deref(), Some("root"));

    assert_eq!(
        w.servers.list(&user, ServerFilter { include_builtin: true, ..Default::default() }).await.unwrap().len(),
        1
    );
    assert!(w.servers.list(&other_admin, ServerFilter::default()).await.unwrap().is_empty());
    assert!(matches!(w.servers.get(&other_admin, &created.id).await, Err(DomainError::NotFound { .. })));
    assert!(matches!(w.servers.delete(&other_admin, &created.id).await, Err(DomainError::NotFound { .. })));
    assert!(matches!(w.servers.delete(&user, &created.id).await, Err(DomainError::Forbidden(_))));

    // The same name is free in another tenant, taken in the same one.
    w.servers.create(&other_admin, new_server("a")).await.unwrap();
    assert!(matches!(w.servers.create(&admin, new_server("a")).await, Err(DomainError::Conflict(_))));
}

#[tokio::test]
async fn updates_bump_the_version_and_refuse_stale_ones() {
    let w = world();
    let admin = principal("root", "default", Role::Admin);
    let id = w.servers.create(&admin, new_server("a")).await.unwrap().server.id;

    let patch = ServerPatch { timeout: Patch::Value(60), expected_version: Some(1), ..Default::default() };
    let updated = w.servers.update(&admin, &id, patch.clone()).await.unwrap().server;
    assert_eq!((updated.timeout, updated.version), (60, 2));

    match w.servers.update(&admin, &id, patch).await {
        Err(DomainError::VersionMismatch { current, .. }) => assert_eq!(current, 2),
        other => panic!("expected a version mismatch, got {other:?}"),
    }
    let invalid = ServerPatch { timeout: Patch::Value(1), ..Default::default() };
    assert!(matches!(w.servers.update(&admin, &id, invalid).await, Err(DomainError::Validation(_))));
    assert_eq!(w.servers.get(&admin, &id).await.unwrap().server.timeout, 60, "a refused update changes nothing");
}

#[tokio::test]
async fn keys_authenticate_until_they_expire() {
    let w = world();
    let secret = w.auth.bootstrap_admin_key().await.unwrap().expect("first key");
    assert!(w.auth.bootstrap_admin_key().await.unwrap().is_none(), "issued once");

    let p = w.auth.authenticate_key(secret.expose()).await.unwrap();
    assert_eq!((p.id.as_str(), p.role, p.tenant.as_str()), ("admin", Role::Admin, "default"));

    let (_, short) = w
        .auth
        .create_key(NewApiKey {
            tenant: "acme".into(),
            principal_id: "ci".into(),
            role: Role::User,
            name: "ci".into(),
            expires_at: Some(w.clock.now() + chrono::Duration::hours(1)),
        })
        .await
        .unwrap();
    assert_eq!(w.auth.authenticate_key(short.expose()).await.unwrap().tenant, "acme");
    w.clock.advance(chrono::Duration::hours(2));
    assert!(matches!(w.auth.authenticate_key(short.expose()).await, Err(DomainError::Unauthenticated(_))));
    assert!(matches!(w.auth.authenticate_key("th_nope").await, Err(DomainError::Unauthenticated(_))));
    let _ = &w.store;
}

use toolhub_domain::ports::Clock;

#[tokio::test]
async fn the_catalogue_serves_call_targets_from_memory_and_hears_every_write() {
    use toolhub_domain::{
        ports::ToolRepository,
        services::{CALL_TARGET_CACHE_SECS, Catalogue, ToolSelector},
        tool::{ToolStatus, reconcile},
        upstream::DiscoveredTool,
    };
    let w = world();
    let catalogue = Arc::new(Catalogue::new(w.store.clone(), w.store.clone(), w.clock.clone()));
    let servers = ServerService::new(catalogue.clone(), catalogue.clone(), w.clock.clone());
    let admin = principal("root", "default", Role::Admin);
    let server = servers.create(&admin, new_server("files")).await.unwrap().server;
    let listed = DiscoveredTool {
        name: "read".into(),
        title: None,
        description: None,
        input_schema: serde_json::json!({"type": "object", "required": ["path"]}),
        output_schema: None,
        annotations: None,
    };
    catalogue.apply(&reconcile(&server, &[], &[listed], "test", w.clock.now())).await.unwrap();
    let by_name = ToolSelector::Name { server: "files", tool: "read" };
    let target = catalogue.call_target("default", by_name).await.unwrap();
    let tool_id = target.tool.id.clone();
    assert_eq!(target.server.id, server.id);
    assert!(target.arguments_validator().is_some_and(|v| !v.is_valid(&serde_json::json!({}))));
    assert!(catalogue.call_target("other", by_name).await.is_err(), "tenants stay apart");

    // A write through the catalogue is seen by the next call at once.
    catalogue.set_status("default", &tool_id, ToolStatus::Disabled, w.clock.now()).await.unwrap();
    let target = catalogue.call_target("default", ToolSelector::Id(&tool_id)).await.unwrap();
    assert_eq!(target.tool.status, ToolStatus::Disabled);

    // A write behind its back (another replica) is seen once the copy is old enough.
    w.store.set_status("default", &tool_id, ToolStatus::Enabled, w.clock.now()).await.unwrap();
    let cached = catalogue.call_target("default", ToolSelector::Id(&tool_id)).await.unwrap();
    assert_eq!(cached.tool.status, ToolStatus::Disabled, "served from memory");
    w.clock.advance(chrono::Duration::seconds(CALL_TARGET_CACHE_SECS));
    let fresh = catalogue.call_target("default", ToolSelector::Id(&tool_id)).await.unwrap();
    assert_eq!(fresh.tool.status, ToolStatus::Enabled);

    servers.delete(&admin, &server.id).await.unwrap();
    assert!(matches!(
        catalogue.call_target("default", ToolSelector::Id(&tool_id)).await,
        Err(DomainError::NotFound { .. })
    ));
}
