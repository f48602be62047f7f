//! Toolhub's storage adapter: the repository ports on sea-orm, for SQLite (the embedded default)
//! and PostgreSQL. Secrets are sealed with the configured [`SecretCipher`] before they are written.

mod access_repos;
pub mod calls;
mod entities;
mod mapping;
mod query;
mod repos;
mod runtimes;
#[cfg(feature = "testing")]
pub mod testing;
mod toolkit_repo;

use std::{sync::Arc, time::Duration};

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;
use toolhub_domain::{DomainError, ports::SecretCipher};
use toolhub_migrations::Migrator;

pub use calls::BatchingCallLog;
pub mod quotas;
pub mod replicas;
pub use toolhub_domain::cipher::AeadCipher;

/// Opens a connection pool. SQLite URLs create the file when missing; an in-memory SQLite
/// database gets exactly one connection, since each connection would see its own database.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false).acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        // `REGEXP` for list queries (`q=name:~...`), with Rust's regex engine.
        options.map_sqlx_sqlite_opts(|sqlite| sqlite.with_regexp());
        if url.contains(":memory:") || url.contains("mode=memory") {
            options.max_connections(1).min_connections(1);
        } else {
            options.max_connections(8);
        }
    } else {
        options.max_connections(16);
    }
    Database::connect(options).await
}

/// Begins a transaction that writes. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`, waiting as long as the busy timeout): a transaction that read first and wrote
/// after another connection's commit would fail at once instead (SQLITE_BUSY_SNAPSHOT).
pub(crate) async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DomainError> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let options =
        TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() };
    db.begin_with_options(options).await.map_err(db_error)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// The repositories over one connection pool; hand it out as each port.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    cipher: Arc<dyn SecretCipher>,
}

impl Store {
    pub fn new(db: DatabaseConnection, cipher: Arc<dyn SecretCipher>) -> Self {
        Self { db, cipher }
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

#[async_trait::async_trait]
impl toolhub_domain::ports::ReadinessProbe for Store {
    async fn check(&self) -> Result<(), String> {
        self.db.ping().await.map_err(|e| format!("database unreachable: {e}"))?;
        let pending = Migrator::get_pending_migrations(&self.db).await.map_err(|e| e.to_string())?;
        if pending.is_empty() { Ok(()) } else { Err(format!("{} migrations pending", pending.len())) }
    }
}

/// Maps database errors to the domain's: uniqueness to `Conflict`, the rest to `Storage`.
pub(crate) fn db_error(e: DbErr) -> DomainError {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(detail)) => DomainError::Conflict(detail),
        _ => DomainError::Storage(e.to_string()),
    }
}
