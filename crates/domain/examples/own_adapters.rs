//! The services with adapters of one's own: a clock the embedder controls and a user
//! repository backed by a company directory (read-only here), beside the in-memory ports of
//! `testing` for everything else. A group grant limited to office hours, checked at 10:00 and
//! at 22:00. Run with `cargo run -p toolhub-domain --features testing --example own_adapters`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use chrono::TimeZone;
use toolhub_domain::{
    access::Conditions,
    ports::{Clock, PortResult, UserRepository},
    prelude::*,
    principal::User,
    server::{NewToolServer, TransportType},
    services::{NewGrant, Services, Settings},
    testing::{InMemoryStore, InMemoryUpstream},
    upstream::DiscoveredTool,
};

/// A clock the embedder sets (in a real service: the system clock, or a test's).
struct SettableClock(Mutex<Timestamp>);

impl Clock for SettableClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

/// Users and their groups as the company directory knows them. Toolhub reads them through the
/// port; the directory is the source of truth, so writes are refused.
struct Directory {
    people: HashMap<String, (Role, Vec<String>)>,
    clock: Arc<SettableClock>,
}

#[async_trait]
impl UserRepository for Directory {
    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<User>> {
        Ok(self.people.get(id).map(|(role, groups)| {
            let mut user = User::new(tenant, id, *role, self.clock.now());
            user.groups = groups.clone();
            user
        }))
    }

    async fn insert_if_absent(&self, user: &User) -> PortResult<User> {
        Ok(self.get(&user.tenant, &user.id).await?.unwrap_or_else(|| user.clone()))
    }

    async fn list(&self, tenant: &str) -> PortResult<Vec<User>> {
        let mut users = Vec::new();
        for id in self.people.keys() {
            users.extend(self.get(tenant, id).await?);
        }
        users.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(users)
    }

    async fn update(&self, _user: &User) -> PortResult<bool> {
        Err(DomainError::Conflict("users are managed in the company directory".into()))
    }
}

fn main() {
    futures::executor::block_on(async {
        let at = |hour| chrono::Utc.with_ymd_and_hms(2026, 11, 30, hour, 0, 0).unwrap();
        let clock = Arc::new(SettableClock(Mutex::new(at(10))));
        let directory = Directory {
            people: HashMap::from([
                ("alice".to_owned(), (Role::User, vec!["research".to_owned()])),
                ("bob".to_owned(), (Role::User, vec!["sales".to_owned()])),
            ]),
            clock: clock.clone(),
        };

        // In-memory ports, then ours in place of the clock and the users.
        let search = DiscoveredTool::new("search", "Search the web", serde_json::json!({"type": "object"}));
        let store = Arc::new(InMemoryStore::new());
        let mut ports = store.ports(Arc::new(InMemoryUpstream::echo(vec![search])), clock.clone());
        ports.users = Arc::new(directory);
        let services = Services::new(&ports, &Settings::default());

        let admin = Principal { id: "root".into(), tenant: "acme".into(), role: Role::Admin, groups: vec![] };
        let input = NewToolServer {
            name: "web".into(),
            display_name: "Web".into(),
            transport_type: Some(TransportType::Http),
            base_url: Some("https://web.example/mcp".into()),
            ..Default::default()
        };
        let server = services.servers.create(&admin, input).await.unwrap();
        let office_hours = Conditions { allowed_hours: Some((9..17).collect()), ..Default::default() };
        let grant = NewGrant {
            subject: Subject::Group("research".into()),
            target: Target::Server(server.server.id.clone()),
            access_level: AccessLevel::Execute,
            conditions: office_hours,
            expires_at: None,
        };
        services.access.grant(&admin, grant).await.unwrap();

        for (hour, who, expected) in [(10, "alice", true), (10, "bob", false), (22, "alice", false)] {
            *clock.0.lock().unwrap() = at(hour);
            let check = services.access.check(&admin, who, "search", Some("web")).await.unwrap();
            println!("{hour:02}:00 {who:5} may call web/search: {} ({:?})", check.allowed(), check.reason());
            assert_eq!(check.allowed(), expected);
        }
    });
}
