//! The access engine alone, without services or storage: grants and a role rule in an index,
//! a decision, and its explanation. Run with `cargo run -p toolhub-domain --example engine`.

use toolhub_domain::{access::glob_match, prelude::*};

fn main() {
    let now = chrono::Utc::now();
    let web_search = Target::Tool("tool-search".into());
    let grants = [
        Grant::new("acme", Subject::Group("research".into()), web_search.clone(), AccessLevel::Execute, "root", now),
        Grant::new("acme", Subject::User("mallory".into()), web_search, AccessLevel::None, "root", now),
    ];
    let rules = [RoleRule::new("acme", Role::PowerUser, Some("search_*".into()), None, AccessLevel::Read, "root", now)];
    let index = AccessIndex::new(grants, rules);

    let tool = ToolRef {
        tool_id: "tool-search",
        tool_name: "search_web",
        server_id: "server-web",
        server_name: "web",
        tool_usable: true,
        server_usable: true,
        category: None,
    };
    let person = |id: &str, role: Role, groups: &[&str]| Principal {
        id: id.into(),
        tenant: "acme".into(),
        role,
        groups: groups.iter().map(|g| g.to_string()).collect(),
    };
    for principal in [
        person("alice", Role::User, &["research"]),
        person("mallory", Role::User, &["research"]),
        person("pat", Role::PowerUser, &[]),
        person("bob", Role::User, &[]),
    ] {
        let decision = index.explain(&principal, &tool, AccessLevel::Execute, now, true);
        println!("{:8} execute search_web: {:5} ({})", principal.id, decision.allowed, decision.explanation.join("; "));
    }
    assert!(glob_match("search_*", "search_web"));
}
