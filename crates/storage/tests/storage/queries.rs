//! List queries run by the store: the same answers in memory, on SQLite and on PostgreSQL.

use toolhub_domain::{
    query::{Fields, ListQuery, QueryText},
    server::SERVER_FIELDS,
    tool::{TOOL_FIELDS, Tool, ToolStatus},
};

use crate::{
    access::{grant, rule},
    harness::{Backend, TestDb, fresh},
    servers::{server, tool},
};

toolhub_test_support::on_every_store!(
    tool_queries_filter_sort_and_page_alike,
    server_queries_run_on_every_field,
    grant_and_rule_queries_read_their_api_fields,
    call_and_toolkit_queries_read_their_api_fields
);

async fn names(t: &TestDb, q: &str, sort: &str, page: Option<(u64, u64)>) -> (Vec<String>, u64) {
    let text = QueryText { q: Some(q), sort: Some(sort), page_size: page.map(|p| p.0), page_number: page.map(|p| p.1) };
    let query = ListQuery::parse(&text, TOOL_FIELDS).unwrap_or_else(|e| panic!("{q}: {e:?}"));
    let (tools, total) = t.tools().query("default", &query).await.unwrap_or_else(|e| panic!("{q} {sort}: {e:?}"));
    (tools.into_iter().map(|t| t.name).collect(), total)
}

async fn tool_queries_filter_sort_and_page_alike(backend: Backend) {
    let t = fresh(backend).await;
    let s = server("default", "main");
    t.servers().insert(&s).await.unwrap();
    let called = chrono::Utc::now() - chrono::Duration::minutes(5);
    let with = |name: &str, order: i32, calls: i64, edit: &dyn Fn(&mut Tool)| {
        let mut made = tool(&s, name, order);
        made.total_calls = calls;
        edit(&mut made);
        made
    };
    let tools = [
        with("alpha", 2, 5, &|t| {
            t.category = Some("net".into());
            t.description = Some("Fetch a page".into());
        }),
        with("beta", 1, 20, &|t| t.status = ToolStatus::Disabled),
        with("Gamma", 3, 10, &|t| {
            t.category = Some("net".into());
            t.avg_response_time_ms = Some(1.5);
            t.last_called = Some(called);
        }),
        with("delta two", 4, 0, &|t| t.category = Some("files".into())),
    ];
    for made in &tools {
        t.tools().insert(made).await.unwrap();
    }
    let other = server("other", "main");
    t.servers().insert(&other).await.unwrap();
    t.tools().insert(&tool(&other, "alpha", 0)).await.unwrap();

    let just = |names: &[&str]| (names.iter().map(|n| n.to_string()).collect::<Vec<_>>(), names.len() as u64);
    // Unsorted: the list's own order (server, sort order, name).
    assert_eq!(names(&t, "", "", None).await, just(&["beta", "alpha", "Gamma", "delta two"]));
    assert_eq!(names(&t, "name:alpha", "", None).await, just(&["alpha"]), "one tenant's tools");
    assert_eq!(names(&t, "total_calls:>5", "", None).await, just(&["beta", "Gamma"]));
    assert_eq!(names(&t, "total_calls:(>=5 AND <=10)", "", None).await, just(&["alpha", "Gamma"]));
    assert_eq!(names(&t, "category:null", "", None).await, just(&["beta"]));
    assert_eq!(names(&t, "category:exists total_calls:<10", "", None).await, just(&["alpha", "delta two"]));
    assert_eq!(names(&t, "category:(net,files)", "", None).await.1, 3);
    assert_eq!(names(&t, "name:~^[a-c]", "", None).await, just(&["beta", "alpha"]), "case-sensitive");
    assert_eq!(names(&t, "description:~page", "", None).await, just(&["alpha"]), "contains a match");
    assert_eq!(names(&t, "status:disabled is_available:true", "", None).await, just(&["beta"]));
    assert_eq!(names(&t, r#"name:"delta two""#, "", None).await, just(&["delta two"]));
    let since = (called - chrono::Duration::seconds(1)).to_rfc3339();
    assert_eq!(names(&t, &format!(r#"last_called:>="{since}""#), "", None).await, just(&["Gamma"]));
    assert_eq!(names(&t, "avg_response_time_ms:<2", "", None).await, just(&["Gamma"]));
    assert_eq!(names(&t, "sort_order:3", "", None).await, just(&["Gamma"]));

    // Text sorts by bytes (upper case first) on every store; no value sorts last either way.
    assert_eq!(names(&t, "", "name", None).await, just(&["Gamma", "alpha", "beta", "delta two"]));
    assert_eq!(names(&t, "", "category,name:desc", None).await, just(&["delta two", "alpha", "Gamma", "beta"]));
    assert_eq!(names(&t, "", "category:desc,name", None).await, just(&["Gamma", "alpha", "delta two", "beta"]));
    // Pages count from 1; the total counts every tool that passed.
    let page = names(&t, "", "total_calls:desc", Some((3, 2))).await;
    assert_eq!(page, (vec!["delta two".to_owned()], 4));
    let page = names(&t, "total_calls:>0", "total_calls:desc", Some((2, 1))).await;
    assert_eq!(page, (vec!["beta".to_owned(), "Gamma".to_owned()], 3));

    // A regex one database cannot read is the client's error there, never a failure of Toolhub.
    let mut odd = ListQuery::parse(&QueryText { q: Some("name:~x"), ..Default::default() }, TOOL_FIELDS).unwrap();
    odd.terms[0].test = toolhub_domain::query::Test::Matches(r"[\D]a{300}".into());
    match (backend, t.tools().query("default", &odd).await) {
        (Backend::Postgres, Err(toolhub_domain::DomainError::InvalidQuery(_))) => {}
        (Backend::Memory | Backend::Sqlite, Ok(_)) => {}
        (_, other) => panic!("{other:?}"),
    }

    // Every field can be tested and sorted by in every store.
    for field in TOOL_FIELDS {
        let (present, _) = names(&t, &format!("{}:exists", field.name), field.name, None).await;
        let (absent, _) = names(&t, &format!("{}:null", field.name), &format!("{}:desc", field.name), None).await;
        assert_eq!(present.len() + absent.len(), 4, "{}", field.name);
    }
}

fn parsed(q: &str, sort: &str, fields: Fields) -> ListQuery {
    let text = QueryText { q: Some(q), sort: Some(sort), ..Default::default() };
    ListQuery::parse(&text, fields).unwrap_or_else(|e| panic!("{q}: {e:?}"))
}

async fn server_queries_run_on_every_field(backend: Backend) {
    let t = fresh(backend).await;
    for name in ["b-server", "a-server", "c-server"] {
        let mut made = server("default", name);
        made.category = (name != "c-server").then(|| "remote".to_owned());
        t.servers().insert(&made).await.unwrap();
    }
    t.servers().insert(&server("other", "a-server")).await.unwrap();
    let t = &t;
    let names = |query: ListQuery| async move {
        let (servers, total) = t.servers().query("default", &query).await.unwrap();
        (servers.into_iter().map(|s| s.name).collect::<Vec<_>>(), total)
    };
    let (all, total) = names(parsed("", "", SERVER_FIELDS)).await;
    assert_eq!((all, total), (vec!["b-server".to_owned(), "a-server".into(), "c-server".into()], 3), "creation order");
    let (sorted, _) = names(parsed("category:remote", "name:desc", SERVER_FIELDS)).await;
    assert_eq!(sorted, ["b-server", "a-server"]);
    let (matched, _) = names(parsed("name:~^[ac] transport_type:http is_builtin:false", "name", SERVER_FIELDS)).await;
    assert_eq!(matched, ["a-server", "c-server"]);
    for field in SERVER_FIELDS {
        let (present, _) = names(parsed(&format!("{}:exists", field.name), field.name, SERVER_FIELDS)).await;
        let (absent, _) = names(parsed(&format!("{}:missing", field.name), field.name, SERVER_FIELDS)).await;
        assert_eq!(present.len() + absent.len(), 3, "{}", field.name);
    }
}

async fn grant_and_rule_queries_read_their_api_fields(backend: Backend) {
    use toolhub_domain::{
        access::{
            AccessLevel, Subject, Target,
            model::{GRANT_FIELDS, RULE_FIELDS},
        },
        ports::GrantFilter,
    };
    let t = &fresh(backend).await;
    let grants = [
        grant(Subject::User("alice".into()), Target::Tool("tool-1".into()), AccessLevel::Execute),
        grant(Subject::Group("ops".into()), Target::Server("server-1".into()), AccessLevel::Read),
        grant(Subject::Public, Target::Toolkit("kit-1".into()), AccessLevel::Read),
    ];
    for made in &grants {
        t.grants().insert(made).await.unwrap();
    }
    let ids = |q: &str, sort: &str| {
        let query = parsed(q, sort, GRANT_FIELDS);
        async move {
            let (found, total) = t.grants().query("t", &query).await.unwrap();
            assert_eq!(found.len() as u64, total);
            found.into_iter().map(|g| g.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(ids("subject:user:alice", "").await, [grants[0].id.clone()]);
    assert_eq!(ids(r#"subject:"*""#, "").await, [grants[2].id.clone()]);
    assert_eq!(ids("subject:~^group:", "").await, [grants[1].id.clone()]);
    assert_eq!(ids("server_id:server-1", "").await, [grants[1].id.clone()]);
    assert_eq!(ids("toolkit_id:exists access_level:read", "").await, [grants[2].id.clone()]);
    assert_eq!(ids("tool_id:null", "subject:desc").await, [grants[1].id.clone(), grants[2].id.clone()]);
    // The filter of the grant list is terms of the same query.
    let filter = GrantFilter { subject: Some(Subject::Public), target: Some(Target::Toolkit("kit-1".into())) };
    let (found, _) = t.grants().query("t", &filter.into_query(ListQuery::default())).await.unwrap();
    assert_eq!(found.len(), 1);
    for field in GRANT_FIELDS {
        let present = ids(&format!("{}:exists", field.name), field.name).await.len();
        let absent = ids(&format!("{}:null", field.name), &format!("{}:desc", field.name)).await.len();
        assert_eq!(present + absent, 3, "{}", field.name);
    }

    let rules = [rule(Some("read_*"), None), rule(None, Some("fs"))];
    for made in &rules {
        t.rules().insert(made).await.unwrap();
    }
    let rule_ids = |q: &str| {
        let query = parsed(q, "", RULE_FIELDS);
        async move { t.rules().query("t", &query).await.unwrap().0.into_iter().map(|r| r.id).collect::<Vec<_>>() }
    };
    assert_eq!(rule_ids("tool_pattern:null").await, [rules[1].id.clone()], "an empty pattern has no value");
    assert_eq!(rule_ids("tool_pattern:~^read").await, [rules[0].id.clone()]);
    for field in RULE_FIELDS {
        let present = rule_ids(&format!("{}:exists", field.name)).await.len();
        let absent = rule_ids(&format!("{}:missing", field.name)).await.len();
        assert_eq!(present + absent, 2, "{}", field.name);
    }
}

async fn call_and_toolkit_queries_read_their_api_fields(backend: Backend) {
    use toolhub_domain::{calls::CALL_FIELDS, calls::CallFilter, toolkit::TOOLKIT_FIELDS};
    let t = &fresh(backend).await;
    let records: Vec<_> = (0..6).map(crate::calls::record).collect();
    t.calls().store(&records).await.unwrap();
    let calls = |filter: CallFilter, q: &str, sort: &str, page: Option<(u64, u64)>| {
        let text =
            QueryText { q: Some(q), sort: Some(sort), page_size: page.map(|p| p.0), page_number: page.map(|p| p.1) };
        let query = ListQuery::parse(&text, CALL_FIELDS).unwrap();
        async move {
            let (found, total) = t.calls().list("default", &filter, &query).await.unwrap();
            (found.into_iter().map(|r| r.principal_id).collect::<Vec<_>>(), total)
        }
    };
    let (users, total) = calls(CallFilter::default(), "user_id:(user-1,user-4)", "user_id:desc", None).await;
    assert_eq!((users, total), (vec!["user-4".to_owned(), "user-1".to_owned()], 2));
    let mine = CallFilter { user: Some("user-2".into()), ..Default::default() };
    assert_eq!(calls(mine, "", "", None).await.1, 1, "the list's own filter holds too");
    let (page, total) = calls(CallFilter::default(), "error_code:TOOL_NOT_FOUND", "user_id", Some((2, 2))).await;
    assert_eq!((page, total), (vec!["user-2".to_owned(), "user-3".to_owned()], 6));
    for field in CALL_FIELDS {
        let present = calls(CallFilter::default(), &format!("{}:exists", field.name), field.name, None).await.1;
        let absent = calls(CallFilter::default(), &format!("{}:null", field.name), field.name, None).await.1;
        assert_eq!(present + absent, 6, "{}", field.name);
    }

    for (name, server) in [("beta", None), ("alpha", Some("srv-1"))] {
        let mut kit = crate::toolkits::toolkit("default", name);
        kit.server_id = server.map(Into::into);
        t.toolkits().insert(&kit).await.unwrap();
    }
    let kits = |q: &str, sort: &str| {
        let query = parsed(q, sort, TOOLKIT_FIELDS);
        async move { t.toolkits().query("default", &query).await.unwrap().0.into_iter().map(|k| k.name).collect::<Vec<_>>() }
    };
    assert_eq!(kits("", "").await, ["alpha", "beta"], "by name");
    assert_eq!(kits("server_id:null", "").await, ["beta"]);
    for field in TOOLKIT_FIELDS {
        let present = kits(&format!("{}:exists", field.name), field.name).await.len();
        let absent = kits(&format!("{}:missing", field.name), &format!("{}:desc", field.name)).await.len();
        assert_eq!(present + absent, 2, "{}", field.name);
    }
}
