use toolhub_domain::{
    DomainError, Role,
    api_key::{ApiKey, generate_key, hash_key},
    new_id,
    principal::User,
};

use crate::harness::{Backend, fresh};

toolhub_test_support::on_every_store!(
    keys_are_found_by_hash_only,
    users_are_recorded_once,
    mcp_sessions_are_kept_and_pruned
);

fn key(tenant: &str, principal: &str) -> (ApiKey, String) {
    let secret = generate_key();
    let key = ApiKey {
        id: new_id(),
        tenant: tenant.into(),
        principal_id: principal.into(),
        role: Role::PowerUser,
        name: "ci".into(),
        key_hash: hash_key(secret.expose()),
        key_prefix: secret.expose()[..10].into(),
        expires_at: None,
        created_at: chrono::Utc::now(),
        last_used_at: None,
        revoked_at: None,
    };
    (key, secret.expose().to_owned())
}

async fn keys_are_found_by_hash_only(backend: Backend) {
    let t = fresh(backend).await;
    assert_eq!(t.keys().count().await.unwrap(), 0);
    let (k, secret) = key("acme", "bob");
    t.keys().insert(&k).await.unwrap();
    assert_eq!(t.keys().count().await.unwrap(), 1);
    let found = t.keys().find_by_hash(&hash_key(&secret)).await.unwrap().expect("found by hash");
    assert_eq!((found.principal_id.as_str(), found.role), ("bob", Role::PowerUser));
    assert!(t.keys().find_by_hash(&secret).await.unwrap().is_none(), "the clear key is never a lookup key");
    assert!(matches!(t.keys().insert(&k).await, Err(DomainError::Conflict(_))));

    let at = chrono::Utc::now();
    t.keys().touch(&k.id, at).await.unwrap();
    let touched = t.keys().find_by_hash(&k.key_hash).await.unwrap().unwrap();
    assert!(touched.last_used_at.is_some());
    t.keys().touch("missing", at).await.expect("touching a missing key is harmless");
}

async fn users_are_recorded_once(backend: Backend) {
    let t = fresh(backend).await;
    let now = chrono::Utc::now();
    let first = User {
        tenant: "acme".into(),
        id: "bob".into(),
        role: Role::User,
        groups: vec!["eng".into()],
        display_name: Some("Bob".into()),
        disabled: false,
        created_at: now,
        updated_at: now,
    };
    let stored = t.users().insert_if_absent(&first).await.unwrap();
    assert_eq!(stored.groups, ["eng"]);
    let second = User { role: Role::Admin, groups: vec![], ..first.clone() };
    let kept = t.users().insert_if_absent(&second).await.unwrap();
    assert_eq!((kept.role, kept.groups.len()), (Role::User, 1), "the first record stays");
    assert!(t.users().get("other", "bob").await.unwrap().is_none());
}

async fn mcp_sessions_are_kept_and_pruned(backend: Backend) {
    let t = fresh(backend).await;
    let now = chrono::Utc::now();
    let state = serde_json::json!({"initialize_params": {"protocolVersion": "2025-06-18"}});
    t.sessions().save("old", &state, now - chrono::Duration::hours(30)).await.unwrap();
    t.sessions().save("new", &state, now).await.unwrap();
    t.sessions().save("new", &state, now).await.unwrap();
    assert_eq!(t.sessions().load("new").await.unwrap(), Some(state.clone()));
    assert_eq!(t.sessions().load("missing").await.unwrap(), None);
    assert_eq!(t.sessions().prune(now - chrono::Duration::hours(24)).await.unwrap(), 1);
    assert_eq!(t.sessions().load("old").await.unwrap(), None);
    t.sessions().delete("new").await.unwrap();
    assert_eq!(t.sessions().load("new").await.unwrap(), None);
}
