use toolhub_domain::{
    DomainError, Role,
    access::{AccessLevel, Conditions, Grant, RoleRule, Subject, Target},
    new_id,
    ports::GrantFilter,
    principal::User,
};

use crate::harness::{Backend, fresh};

toolhub_test_support::on_every_store!(
    grants_round_trip_filter_and_cascade,
    role_rules_are_unique_even_without_patterns,
    users_are_listed_and_updated
);

pub fn grant(subject: Subject, target: Target, level: AccessLevel) -> Grant {
    let now = chrono::Utc::now();
    Grant {
        id: new_id(),
        tenant: "t".into(),
        subject,
        target,
        access_level: level,
        conditions: Conditions {
            rate_limit_per_hour: Some(10),
            rate_limit_per_day: None,
            allowed_hours: Some(vec![9, 10, 17]),
            allowed_days: Some(vec![0, 4]),
        },
        expires_at: Some(now + chrono::Duration::days(7)),
        granted_by: "root".into(),
        granted_at: now,
        updated_at: now,
        usage_count: 0,
        last_used: None,
    }
}

fn normalized(mut g: Grant) -> Grant {
    use chrono::SubsecRound;
    g.granted_at = g.granted_at.trunc_subsecs(6);
    g.updated_at = g.updated_at.trunc_subsecs(6);
    g.expires_at = g.expires_at.map(|t| t.trunc_subsecs(6));
    g
}

async fn grants_round_trip_filter_and_cascade(backend: Backend) {
    let t = fresh(backend).await;
    let alice_tool = grant(Subject::User("alice".into()), Target::Tool("tool-1".into()), AccessLevel::Execute);
    let eng_server = grant(Subject::Group("eng".into()), Target::Server("srv-1".into()), AccessLevel::Read);
    let public = grant(Subject::Public, Target::Server("srv-2".into()), AccessLevel::None);
    for g in [&alice_tool, &eng_server, &public] {
        t.grants().insert(g).await.unwrap();
    }
    let loaded = t.grants().get("t", &alice_tool.id).await.unwrap().unwrap();
    assert_eq!(normalized(loaded), normalized(alice_tool.clone()));
    assert!(t.grants().get("other", &alice_tool.id).await.unwrap().is_none());

    let mut dup = grant(Subject::User("alice".into()), Target::Tool("tool-1".into()), AccessLevel::Read);
    assert!(matches!(t.grants().insert(&dup).await, Err(DomainError::Conflict(_))));
    dup.target = Target::Server("tool-1".into());
    t.grants().insert(&dup).await.expect("same id on another kind of target is another grant");

    let by_user = t
        .grants()
        .list("t", &GrantFilter { subject: Some(Subject::User("alice".into())), target: None })
        .await
        .unwrap();
    assert_eq!(by_user.len(), 2);
    let on_srv1 = t
        .grants()
        .list("t", &GrantFilter { subject: None, target: Some(Target::Server("srv-1".into())) })
        .await
        .unwrap();
    assert_eq!(on_srv1.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), [eng_server.id.as_str()]);
    assert_eq!(t.grants().list_all().await.unwrap().len(), 4);

    let mut changed = alice_tool.clone();
    changed.access_level = AccessLevel::Admin;
    changed.conditions = Conditions::default();
    assert!(t.grants().update(&changed).await.unwrap());
    let stored = t.grants().get("t", &alice_tool.id).await.unwrap().unwrap();
    assert_eq!((stored.access_level, stored.conditions), (AccessLevel::Admin, Conditions::default()));

    // Grant usage is counted where calls are logged.
    let call = toolhub_domain::calls::CallRecord {
        tenant: "t".into(),
        status: toolhub_domain::calls::CallStatus::Success,
        grant_id: Some(alice_tool.id.clone()),
        ..crate::calls::record(0)
    };
    let second = toolhub_domain::calls::CallRecord { id: toolhub_domain::new_id(), ..call.clone() };
    t.calls().store(&[call, second]).await.unwrap();
    let used = t.grants().get("t", &alice_tool.id).await.unwrap().unwrap();
    assert_eq!(used.usage_count, 2);
    assert!(used.last_used.is_some());

    let removed = t
        .grants()
        .delete_for_targets("t", &[Target::Server("srv-1".into()), Target::Tool("tool-1".into())])
        .await
        .unwrap();
    assert_eq!(removed.len(), 2);
    assert!(t.grants().delete("t", &public.id).await.unwrap());
    assert!(!t.grants().delete("t", &public.id).await.unwrap());
    assert_eq!(t.grants().list_all().await.unwrap().len(), 1, "only the server grant named tool-1 is left");
}

pub fn rule(tool: Option<&str>, server: Option<&str>) -> RoleRule {
    let now = chrono::Utc::now();
    RoleRule {
        id: new_id(),
        tenant: "t".into(),
        role: Role::User,
        tool_pattern: tool.map(Into::into),
        server_pattern: server.map(Into::into),
        access_level: AccessLevel::Read,
        conditions: Conditions::default(),
        created_by: "root".into(),
        created_at: now,
        updated_at: now,
    }
}

async fn role_rules_are_unique_even_without_patterns(backend: Backend) {
    let t = fresh(backend).await;
    let open = rule(None, None);
    t.rules().insert(&open).await.unwrap();
    assert!(
        matches!(t.rules().insert(&rule(None, None)).await, Err(DomainError::Conflict(_))),
        "NULL patterns collide too"
    );
    let specific = rule(Some("get_*"), None);
    t.rules().insert(&specific).await.unwrap();
    let loaded = t.rules().get("t", &specific.id).await.unwrap().unwrap();
    assert_eq!((loaded.tool_pattern.as_deref(), loaded.server_pattern.as_deref()), (Some("get_*"), None));
    let mut admin_rule = rule(None, Some("prod-*"));
    admin_rule.role = Role::Admin;
    t.rules().insert(&admin_rule).await.unwrap();
    assert_eq!(t.rules().list("t", Some(Role::User)).await.unwrap().len(), 2);
    assert_eq!(t.rules().list("t", None).await.unwrap().len(), 3);
    let mut moved = specific.clone();
    moved.tool_pattern = None;
    assert!(
        matches!(t.rules().update(&moved).await, Err(DomainError::Conflict(_))),
        "an update cannot duplicate either"
    );
    moved.access_level = AccessLevel::Execute;
    moved.tool_pattern = Some("list_*".into());
    assert!(t.rules().update(&moved).await.unwrap());
    assert!(t.rules().delete("t", &open.id).await.unwrap());
    assert_eq!(t.rules().list_all().await.unwrap().len(), 2);
}

async fn users_are_listed_and_updated(backend: Backend) {
    let t = fresh(backend).await;
    let now = chrono::Utc::now();
    for id in ["bob", "alice"] {
        let user = User {
            tenant: "t".into(),
            id: id.into(),
            role: Role::User,
            groups: vec![],
            display_name: None,
            disabled: false,
            created_at: now,
            updated_at: now,
        };
        t.users().insert_if_absent(&user).await.unwrap();
    }
    let mut alice = t.users().get("t", "alice").await.unwrap().unwrap();
    alice.role = Role::PowerUser;
    alice.groups = vec!["eng".into(), "ops".into()];
    alice.disabled = true;
    alice.display_name = Some("Alice".into());
    assert!(t.users().update(&alice).await.unwrap());
    let stored = t.users().get("t", "alice").await.unwrap().unwrap();
    assert_eq!((stored.role, stored.groups.len(), stored.disabled), (Role::PowerUser, 2, true));
    let ids: Vec<String> = t.users().list("t").await.unwrap().into_iter().map(|u| u.id).collect();
    assert_eq!(ids, ["alice", "bob"]);
    alice.tenant = "other".into();
    assert!(!t.users().update(&alice).await.unwrap());
}
