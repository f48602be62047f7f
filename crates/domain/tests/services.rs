//! The domain services against the in-memory ports.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
};

use toolhub_domain::{
    DomainError, Patch, Principal, Role, Timestamp,
    ports::{PortResult, ToolRepository},
    server::{NewToolServer, ServerFilter, ServerPatch},
    services::{AuthService, NewApiKey, ServerService, Services, Settings},
    testing::{FixedClock, InMemoryStore, InMemoryUpstream},
    tool::{Reconciliation, Tool, ToolStatus},
};

struct World {
    store: Arc<InMemoryStore>,
    clock: Arc<FixedClock>,
    services: Services,
    servers: Arc<ServerService>,
    auth: Arc<AuthService>,
}

fn world() -> World {
    let store = Arc::new(InMemoryStore::new());
    let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
    let ports = store.ports(Arc::new(InMemoryUpstream::unreachable()), clock.clone());
    let services = Services::new(&ports, &Settings::default());
    World { servers: services.servers.clone(), auth: services.auth.clone(), services, store, clock }
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

    assert_eq!(w.servers.list(&admin, ServerFilter::default()).await.unwrap().len(), 1);
    let all = ServerFilter { include_builtin: true, ..Default::default() };
    assert!(w.servers.list(&user, all).await.unwrap().is_empty(), "without a grant a user sees nothing");
    assert!(w.servers.list(&other_admin, ServerFilter::default()).await.unwrap().is_empty());
    assert!(matches!(w.servers.get(&other_admin, &created.id).await, Err(DomainError::NotFound { .. })));
    assert!(matches!(w.servers.delete(&other_admin, &created.id).await, Err(DomainError::NotFound { .. })));
    assert!(matches!(w.servers.delete(&user, &created.id).await, Err(DomainError::NotFound { .. })), "unseen");

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
    assert_eq!(
        (p.id.as_str(), p.role, p.tenant.as_str()),
        ("admin", Role::SuperAdmin, "default"),
        "the operator's key"
    );

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
        services::{CALL_TARGET_CACHE_SECS, ToolSelector},
        tool::{ToolStatus, reconcile},
        upstream::DiscoveredTool,
    };
    let w = world();
    let (catalogue, servers) = (w.services.catalogue.clone(), w.servers.clone());
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
    let by_name = ToolSelector::Name { server: Some("files"), tool: "read" };
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

/// A tool repository over the in-memory store that yields after every listing (so concurrent
/// discoveries read before either writes), counts conflicts, and can play another replica that inserts the same
/// tools, with its own ids, just before our first write.
struct Replicas {
    store: Arc<InMemoryStore>,
    race_once: AtomicBool,
    conflicts: AtomicUsize,
}

#[async_trait::async_trait]
impl ToolRepository for Replicas {
    async fn insert(&self, tool: &Tool) -> PortResult<()> {
        self.store.insert(tool).await
    }
    async fn list_for_servers(&self, tenant: &str, ids: &[String]) -> PortResult<Vec<Tool>> {
        let tools = self.store.list_for_servers(tenant, ids).await;
        tokio::task::yield_now().await;
        tools
    }
    async fn list_all(&self, tenant: &str) -> PortResult<Vec<Tool>> {
        self.store.list_all(tenant).await
    }
    async fn find_by_name(&self, tenant: &str, name: &str) -> PortResult<Vec<Tool>> {
        self.store.find_by_name(tenant, name).await
    }
    async fn page(&self, tenant: &str, server: &str, limit: u64, offset: u64) -> PortResult<(Vec<Tool>, u64)> {
        self.store.page(tenant, server, limit, offset).await
    }
    async fn query(&self, tenant: &str, query: &toolhub_domain::query::ListQuery) -> PortResult<(Vec<Tool>, u64)> {
        self.store.query(tenant, query).await
    }
    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<Tool>> {
        ToolRepository::get(&*self.store, tenant, id).await
    }
    async fn set_status(&self, tenant: &str, id: &str, status: ToolStatus, at: Timestamp) -> PortResult<bool> {
        self.store.set_status(tenant, id, status, at).await
    }
    async fn apply(&self, changes: &Reconciliation) -> PortResult<()> {
        if self.race_once.swap(false, SeqCst) {
            for tool in &changes.inserted {
                let theirs = Tool {
                    id: toolhub_domain::new_id(),
                    description: Some("written by the other replica".into()),
                    ..tool.clone()
                };
                self.store.insert(&theirs).await.unwrap();
            }
        }
        let result = self.store.apply(changes).await;
        if matches!(result, Err(DomainError::Conflict(_))) {
            self.conflicts.fetch_add(1, SeqCst);
        }
        result
    }
}

#[tokio::test]
async fn discoveries_of_a_server_never_collide() {
    use toolhub_domain::upstream::{DiscoveredTool, ServerRef, UpstreamObserver};
    let w = world();
    let replicas =
        Arc::new(Replicas { store: w.store.clone(), race_once: false.into(), conflicts: Default::default() });
    let mut ports = w.store.ports(Arc::new(InMemoryUpstream::unreachable()), w.clock.clone());
    ports.tools = replicas.clone();
    let lifecycle = Services::new(&ports, &Settings::default()).lifecycle;
    let admin = principal("root", "default", Role::Admin);
    let server = w.servers.create(&admin, new_server("files")).await.unwrap().server;
    let listed = |names: &[&str]| -> Vec<DiscoveredTool> {
        names
            .iter()
            .map(|name| DiscoveredTool {
                name: (*name).into(),
                title: None,
                description: Some("ours".into()),
                input_schema: serde_json::json!({"type": "object"}),
                output_schema: None,
                annotations: None,
            })
            .collect()
    };
    let at = ServerRef::from(&server);

    // Two discoveries at once in this process: the second merges into what the first wrote.
    let (a, b) = (lifecycle.clone(), lifecycle.clone());
    futures::join!(a.tools_changed(&at, listed(&["read", "write"])), b.tools_changed(&at, listed(&["read", "write"])));
    let tools = replicas.list_for_servers("default", std::slice::from_ref(&server.id)).await.unwrap();
    assert_eq!(tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["read", "write"]);
    assert_eq!(replicas.conflicts.load(SeqCst), 0, "one at a time");

    // Another replica inserts a new tool first: the merge is redone against its row.
    replicas.race_once.store(true, SeqCst);
    lifecycle.tools_changed(&at, listed(&["read", "write", "delete"])).await;
    let tools = replicas.list_for_servers("default", std::slice::from_ref(&server.id)).await.unwrap();
    let deleted: Vec<_> = tools.iter().filter(|t| t.name == "delete").collect();
    assert_eq!(deleted.len(), 1);
    assert_eq!(replicas.conflicts.load(SeqCst), 1);
    assert_eq!(deleted[0].description.as_deref(), Some("ours"), "our discovery updated the replica's row");
}
