//! Fresh, migrated databases for each test.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use toolhub_domain::ports::{
    ApiKeyRepository, GrantRepository, RoleRuleRepository, ServerRepository, ToolRepository, UserRepository,
};
use toolhub_storage::{AeadCipher, Store};

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A migrated store on its own database; the SQLite file lives as long as this value.
pub struct TestDb {
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn db(&self) -> &DatabaseConnection {
        self.store.connection()
    }

    pub fn servers(&self) -> &dyn ServerRepository {
        &self.store
    }

    pub fn tools(&self) -> &dyn ToolRepository {
        &self.store
    }

    pub fn users(&self) -> &dyn UserRepository {
        &self.store
    }

    pub fn keys(&self) -> &dyn ApiKeyRepository {
        &self.store
    }

    pub fn grants(&self) -> &dyn GrantRepository {
        &self.store
    }

    pub fn rules(&self) -> &dyn RoleRuleRepository {
        &self.store
    }
}

pub async fn fresh(backend: Backend) -> TestDb {
    let (url, dir) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            (format!("sqlite://{}?mode=rwc", dir.path().join("toolhub.db").display()), Some(dir))
        }
        Backend::Postgres => (toolhub_storage::testing::create_postgres_database().await, None),
    };
    let db = toolhub_storage::connect(&url).await.expect("connect");
    toolhub_storage::migrate(&db).await.expect("migrate");
    let cipher = Arc::new(AeadCipher::from_base64(&AeadCipher::generate_key()).expect("key"));
    TestDb { store: Store::new(db, cipher), _dir: dir }
}
