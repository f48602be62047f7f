//! Quotas every replica shares (PostgreSQL): each call counted under a limit is a row, and a
//! key's calls are counted and added under a transaction-scoped advisory lock, so replicas
//! never both take the last call of a limit (docs/operations.md, Replicas).

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use toolhub_domain::{
    Timestamp,
    access::{Conditions, Quota},
    ports::{PortResult, QuotaLedger},
};

use crate::db_error;

/// The ledger in a PostgreSQL database.
pub struct SharedQuotaLedger {
    db: DatabaseConnection,
}

impl SharedQuotaLedger {
    /// The ledger in `db` (PostgreSQL).
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// What a key's rows say: calls in the sliding hour and day, and the oldest of each.
struct Counted {
    hour: u32,
    day: u32,
    oldest_in_hour: Option<Timestamp>,
    oldest_in_day: Option<Timestamp>,
}

const COUNT: &str = "SELECT count(*) FILTER (WHERE called_at > $2) AS hour, count(*) AS day, \
     min(called_at) FILTER (WHERE called_at > $2) AS oldest_in_hour, min(called_at) AS oldest_in_day \
     FROM quota_calls WHERE key = $1 AND called_at > $3";

async fn count(db: &impl ConnectionTrait, key: &str, now: Timestamp) -> PortResult<Counted> {
    let values = [key.into(), (now - chrono::Duration::hours(1)).into(), (now - chrono::Duration::days(1)).into()];
    let row = db
        .query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, COUNT, values))
        .await
        .map_err(db_error)?
        .ok_or_else(|| toolhub_domain::DomainError::Storage("a count answered no row".into()))?;
    let number = |column: &str| row.try_get::<i64>("", column).map(|n| n.clamp(0, u32::MAX as i64) as u32);
    Ok(Counted {
        hour: number("hour").map_err(db_error)?,
        day: number("day").map_err(db_error)?,
        oldest_in_hour: row.try_get("", "oldest_in_hour").map_err(db_error)?,
        oldest_in_day: row.try_get("", "oldest_in_day").map_err(db_error)?,
    })
}

#[async_trait]
impl QuotaLedger for SharedQuotaLedger {
    async fn take(&self, key: &str, conditions: &Conditions, now: Timestamp) -> PortResult<Result<Quota, Quota>> {
        let txn = self.db.begin().await.map_err(db_error)?;
        let lock = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
        txn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, lock, [key.into()]))
            .await
            .map_err(db_error)?;
        let counted = count(&txn, key, now).await?;
        let before = Quota::left(conditions, counted.hour, counted.day);
        if before.exhausted() {
            txn.rollback().await.map_err(db_error)?;
            return Ok(Err(before.exhausted_until(counted.oldest_in_hour, counted.oldest_in_day, now)));
        }
        let insert = "INSERT INTO quota_calls (key, called_at) VALUES ($1, $2)";
        txn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, insert, [key.into(), now.into()]))
            .await
            .map_err(db_error)?;
        txn.commit().await.map_err(db_error)?;
        Ok(Ok(before.after_one()))
    }

    async fn remaining(&self, key: &str, conditions: &Conditions, now: Timestamp) -> PortResult<Quota> {
        let counted = count(&self.db, key, now).await?;
        Ok(Quota::left(conditions, counted.hour, counted.day))
    }

    async fn prune(&self, before: Timestamp) -> PortResult<u64> {
        let delete = "DELETE FROM quota_calls WHERE called_at < $1";
        let result = self
            .db
            .execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, delete, [before.into()]))
            .await
            .map_err(db_error)?;
        Ok(result.rows_affected())
    }
}
