//! Access decisions per second from the in-memory index, at 1k, 10k and 100k grants.
//! Run with `cargo bench -p toolhub-domain --bench decisions`.

use std::{hint::black_box, time::Instant};

use chrono::Utc;
use toolhub_domain::{
    Principal, Role,
    access::{AccessIndex, AccessLevel, Conditions, Grant, RoleRule, Subject, Target, ToolRef},
};

const TOOLS: usize = 2_000;
const SERVERS: usize = 100;
const USERS: usize = 5_000;
const GROUPS: usize = 50;

/// Spreads `i` over `0..n` (splitmix64, salted per use), so subjects and targets do not clump
/// and do not follow each other.
fn spread(i: usize, salt: u64, n: usize) -> usize {
    let mut z = (i as u64 ^ salt.wrapping_mul(0xD6E8_FEB8_6659_FD93)).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) % n as u64) as usize
}

/// A tenant with `count` grants spread over users, groups and everyone, on tools and servers,
/// some expiring or windowed, plus a few role rules. Like storage, it holds at most one grant
/// per subject and target.
fn index(count: usize) -> AccessIndex {
    let now = Utc::now();
    let levels = [AccessLevel::Read, AccessLevel::Execute, AccessLevel::Admin, AccessLevel::None];
    let mut seen = std::collections::HashSet::new();
    let grants = (0..).map(|i| {
        let subject = match i % 10 {
            0 => Subject::Public,
            1..=3 => Subject::Group(format!("group-{}", spread(i, 1, GROUPS))),
            _ => Subject::User(format!("user-{}", spread(i, 2, USERS))),
        };
        let target = if i % 4 == 0 {
            Target::Server(format!("server-{}", spread(i, 3, SERVERS)))
        } else {
            Target::Tool(format!("tool-{}", spread(i, 4, TOOLS)))
        };
        let mut conditions = Conditions::default();
        if i % 7 == 0 {
            conditions.allowed_hours = Some((8..18).collect());
        }
        Grant {
            id: format!("grant-{i}"),
            tenant: "t".into(),
            subject,
            target,
            access_level: levels[i % levels.len()],
            conditions,
            expires_at: (i % 13 == 0).then(|| now + chrono::Duration::days(1)),
            granted_by: "root".into(),
            granted_at: now,
            updated_at: now,
            usage_count: 0,
            last_used: None,
        }
    });
    let grants = grants.filter(|g| seen.insert((g.subject.clone(), g.target.clone()))).take(count);
    let rules = (0..20).map(|i| RoleRule {
        id: format!("rule-{i}"),
        tenant: "t".into(),
        role: if i % 2 == 0 { Role::User } else { Role::PowerUser },
        tool_pattern: Some(format!("tool-{i}*")),
        server_pattern: (i % 3 == 0).then(|| "server-*".into()),
        access_level: AccessLevel::Read,
        conditions: Conditions::default(),
        created_by: "root".into(),
        created_at: now,
        updated_at: now,
    });
    AccessIndex::new(grants, rules)
}

fn main() {
    let now = Utc::now();
    let tool_names: Vec<String> = (0..TOOLS).map(|i| format!("tool-{i}")).collect();
    let server_names: Vec<String> = (0..SERVERS).map(|i| format!("server-{i}")).collect();
    let principals: Vec<Principal> = (0..1_000)
        .map(|i| Principal {
            id: format!("user-{}", (i * 7) % USERS),
            tenant: "t".into(),
            role: if i % 5 == 0 { Role::PowerUser } else { Role::User },
            groups: vec![format!("group-{}", i % GROUPS), format!("group-{}", (i + 17) % GROUPS)],
        })
        .collect();
    println!("{:>8} {:>14} {:>12} {:>10}", "grants", "decisions/s", "ns/decision", "allowed");
    for count in [1_000, 10_000, 100_000] {
        let index = index(count);
        let decisions = 1_000_000;
        let mut allowed = 0usize;
        let started = Instant::now();
        for i in 0..decisions {
            let tool = (i * 31) % TOOLS;
            let server = tool % SERVERS;
            let tool_ref = ToolRef {
                tool_id: &tool_names[tool],
                tool_name: &tool_names[tool],
                server_id: &server_names[server],
                server_name: &server_names[server],
                tool_usable: true,
                server_usable: true,
                category: None,
            };
            let d =
                index.decide(black_box(&principals[i % principals.len()]), &tool_ref, AccessLevel::Execute, now, true);
            allowed += usize::from(d.allowed);
        }
        let elapsed = started.elapsed();
        println!(
            "{count:>8} {:>14.0} {:>12.0} {:>9.1}%",
            decisions as f64 / elapsed.as_secs_f64(),
            elapsed.as_nanos() as f64 / decisions as f64,
            100.0 * allowed as f64 / decisions as f64
        );
    }
}
