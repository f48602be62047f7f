//! Fresh stores for each test: the domain's in-memory store, or a migrated database.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use toolhub_domain::{
    ports::{
        ApiKeyRepository, CallLogRepository, GrantRepository, ReplicaRegistry, RoleRuleRepository, ServerRepository,
        SessionRepository, ToolRepository, ToolkitRepository, UserRepository,
    },
    testing::InMemoryStore,
};
use toolhub_storage::{AeadCipher, Store};
pub use toolhub_test_support::Backend;

/// A store of one backend; a SQLite file lives as long as this value.
pub struct TestDb {
    sql: Option<Store>,
    memory: Arc<InMemoryStore>,
    _dir: Option<tempfile::TempDir>,
}

/// The ports every store implements, whichever backend holds them.
macro_rules! ports {
    ($($name:ident: $port:ident),* $(,)?) => {$(
        pub fn $name(&self) -> &dyn $port {
            match &self.sql {
                Some(store) => store,
                None => &*self.memory,
            }
        }
    )*};
}

impl TestDb {
    ports!(
        servers: ServerRepository,
        tools: ToolRepository,
        users: UserRepository,
        keys: ApiKeyRepository,
        grants: GrantRepository,
        rules: RoleRuleRepository,
        calls: CallLogRepository,
        sessions: SessionRepository,
        toolkits: ToolkitRepository,
        replicas: ReplicaRegistry,
    );

    /// The SQL store (for tests of what only a database does).
    pub fn store(&self) -> &Store {
        self.sql.as_ref().expect("a database backend")
    }

    pub fn db(&self) -> &DatabaseConnection {
        self.store().connection()
    }
}

pub async fn fresh(backend: Backend) -> TestDb {
    let memory = Arc::new(InMemoryStore::new());
    let (url, dir) = match backend {
        Backend::Memory => return TestDb { sql: None, memory, _dir: None },
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            (format!("sqlite://{}?mode=rwc", dir.path().join("toolhub.db").display()), Some(dir))
        }
        Backend::Postgres => (toolhub_storage::testing::create_postgres_database().await, None),
    };
    let db = toolhub_storage::connect(&url).await.expect("connect");
    toolhub_storage::migrate(&db).await.expect("migrate");
    let cipher = Arc::new(AeadCipher::from_base64(&AeadCipher::generate_key()).expect("key"));
    TestDb { sql: Some(Store::new(db, cipher)), memory, _dir: dir }
}
