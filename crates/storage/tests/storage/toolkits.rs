//! The toolkit repository's contract, on every store.

use serde_json::json;
use toolhub_domain::{
    DomainError, new_id,
    toolkit::{ToolConfig, Toolkit, ToolkitTool},
};

use crate::harness::{Backend, fresh};

toolhub_test_support::on_every_store!(toolkits_and_their_tools_keep_the_contract);

pub fn toolkit(tenant: &str, name: &str) -> Toolkit {
    let now = chrono::Utc::now();
    Toolkit {
        id: new_id(),
        tenant: tenant.into(),
        name: name.into(),
        display_name: name.into(),
        description: None,
        owner_id: "pat".into(),
        server_id: None,
        version: 1,
        created_by: "pat".into(),
        created_at: now,
        updated_at: now,
    }
}

fn tool(kit: &Toolkit, name: &str, tool_id: Option<&str>) -> ToolkitTool {
    let now = chrono::Utc::now();
    ToolkitTool {
        id: new_id(),
        tenant: kit.tenant.clone(),
        toolkit_id: kit.id.clone(),
        tool_id: tool_id.map(str::to_owned),
        name: Some(name.into()),
        description: None,
        kind: "mcp".into(),
        parameters: Some(json!({"type": "object"})),
        config: None,
        sort_order: 0,
        discovered_at: None,
        discovered_by: None,
        created_at: now,
        updated_at: now,
    }
}

async fn toolkits_and_their_tools_keep_the_contract(backend: Backend) {
    let t = fresh(backend).await;
    let kits = t.toolkits();
    let kit = toolkit("acme", "kit");
    kits.insert(&kit).await.unwrap();
    assert!(matches!(kits.insert(&toolkit("acme", "kit")).await, Err(DomainError::Conflict(_))));
    kits.insert(&toolkit("globex", "kit")).await.unwrap();
    assert_eq!(kits.find_by_name("acme", "kit").await.unwrap().map(|k| k.id), Some(kit.id.clone()));
    assert!(kits.get("globex", &kit.id).await.unwrap().is_none(), "tenants are apart");
    assert_eq!(kits.list("acme").await.unwrap().len(), 1);

    let changed = Toolkit { version: 2, description: Some("d".into()), ..kit.clone() };
    assert!(!kits.update(&changed, 5).await.unwrap(), "a stale version changes nothing");
    assert!(kits.update(&changed, 1).await.unwrap());
    assert_eq!(kits.get("acme", &kit.id).await.unwrap().unwrap().description.as_deref(), Some("d"));

    // A custom tool's config round-trips (sealed at rest by SQL stores).
    let mut custom = tool(&kit, "create_issue", None);
    custom.kind = "api-request".into();
    custom.config = Some(ToolConfig::new(json!({"botToken": "s3cr3t"})));
    kits.insert_tool(&custom).await.unwrap();
    let referenced = tool(&kit, "echo", Some("T1"));
    kits.insert_tool(&referenced).await.unwrap();
    let stored = kits.tools("acme", &kit.id).await.unwrap();
    assert_eq!(stored.len(), 2);
    let back = stored.iter().find(|s| s.id == custom.id).unwrap();
    assert_eq!(back.config.as_ref().map(|c| c.expose().clone()), Some(json!({"botToken": "s3cr3t"})));
    if backend != Backend::Memory {
        use sea_orm::{ConnectionTrait, Statement};
        let sql = "SELECT config_sealed AS raw FROM toolkit_tools WHERE config_sealed IS NOT NULL";
        let row = t.db().query_one_raw(Statement::from_string(t.db().get_database_backend(), sql)).await.unwrap();
        let raw: String = row.unwrap().try_get("", "raw").unwrap();
        assert!(!raw.contains("s3cr3t"), "sealed at rest: {raw}");
    }
    let mut members = kits.memberships().await.unwrap();
    members.sort();
    let mut expected =
        vec![("acme".into(), "T1".to_owned(), kit.id.clone()), ("acme".into(), custom.id.clone(), kit.id.clone())];
    expected.sort();
    assert_eq!(members, expected, "references by the server tool, its own tools by their id");

    let renamed = ToolkitTool { name: Some("say".into()), ..referenced.clone() };
    assert!(kits.update_tool(&renamed).await.unwrap());
    assert!(!kits.delete_tool("acme", "other-kit", &custom.id).await.unwrap(), "only from its toolkit");
    assert!(kits.delete_tool("acme", &kit.id, &custom.id).await.unwrap());

    kits.replace_tools("acme", &kit.id, &[tool(&kit, "a", Some("T2")), tool(&kit, "b", None)]).await.unwrap();
    let names: Vec<Option<String>> = kits.tools("acme", &kit.id).await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&Some("a".into())) && names.contains(&Some("b".into())));
    kits.delete_references("acme", &["T2".into()]).await.unwrap();
    assert_eq!(kits.tools("acme", &kit.id).await.unwrap().len(), 1, "the deleted server's tool left");

    assert!(kits.delete("acme", &kit.id).await.unwrap());
    assert!(kits.tools("acme", &kit.id).await.unwrap().is_empty(), "its tools go with it");
    assert!(!kits.delete("acme", &kit.id).await.unwrap());
}
