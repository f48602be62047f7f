//! Fresh, migrated databases for each test.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use toolhub_domain::ports::{ApiKeyRepository, ServerRepository, ToolRepository, UserRepository};
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
}

/// The PostgreSQL server the suite runs against, started by `scripts/test.sh` (or CI).
pub fn postgres_server_url() -> String {
    std::env::var("TOOLHUB_TEST_PG_URL").expect(
        "TOOLHUB_TEST_PG_URL is not set: run the tests with scripts/test.sh, which starts a throwaway \
         PostgreSQL on loopback, or point it at a server (postgres://user@127.0.0.1:port)",
    )
}

/// Creates an empty database on the test server and returns its URL.
pub async fn create_postgres_database() -> String {
    let server = postgres_server_url();
    let name = format!("th_{}", ulid::Ulid::new().to_string().to_lowercase());
    let admin = toolhub_storage::connect(&format!("{server}/postgres")).await.expect("connect to PostgreSQL");
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
    admin.close().await.ok();
    format!("{server}/{name}")
}

pub async fn fresh(backend: Backend) -> TestDb {
    let (url, dir) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            (format!("sqlite://{}?mode=rwc", dir.path().join("toolhub.db").display()), Some(dir))
        }
        Backend::Postgres => (create_postgres_database().await, None),
    };
    let db = toolhub_storage::connect(&url).await.expect("connect");
    toolhub_storage::migrate(&db).await.expect("migrate");
    let cipher = Arc::new(AeadCipher::from_base64(&AeadCipher::generate_key()).expect("key"));
    TestDb { store: Store::new(db, cipher), _dir: dir }
}
