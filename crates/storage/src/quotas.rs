//! Quotas every replica shares (PostgreSQL): calls counted under a limit are kept per key and
//! minute, and a key's calls are counted and added under a transaction-scoped advisory lock, so
//! replicas never both take the last call of a limit (docs/operations.md, Replicas).
//!
//! A minute's calls count while any part of that minute is inside the window: a call leaves
//! the sliding hour (or day) up to a minute after it would by its own time, never before. The
//! limits are never exceeded; a caller at its limit may wait up to a minute longer.

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
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

const COUNT: &str = "SELECT coalesce(sum(calls) FILTER (WHERE minute > $2), 0) AS hour, \
     coalesce(sum(calls), 0) AS day, min(minute) FILTER (WHERE minute > $2) AS oldest_in_hour, \
     min(minute) AS oldest_in_day FROM quota_buckets WHERE key = $1 AND minute > $3";

/// A bucket still counts while its minute overlaps the window.
const BUCKET: chrono::Duration = chrono::Duration::minutes(1);

async fn count(db: &impl ConnectionTrait, key: &str, now: Timestamp) -> PortResult<Counted> {
    let (hour, day) = (now - chrono::Duration::hours(1) - BUCKET, now - chrono::Duration::days(1) - BUCKET);
    let values = [key.into(), hour.into(), day.into()];
    let row = db
        .query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, COUNT, values))
        .await
        .map_err(db_error)?
        .ok_or_else(|| toolhub_domain::DomainError::Storage("a count answered no row".into()))?;
    let number = |column: &str| row.try_get::<i64>("", column).map(|n| n.clamp(0, u32::MAX as i64) as u32);
    // A bucket leaves the window a minute after its start would: its calls are as old as that.
    let aged = |column: &str| row.try_get::<Option<Timestamp>>("", column).map(|t| t.map(|t| t + BUCKET));
    Ok(Counted {
        hour: number("hour").map_err(db_error)?,
        day: number("day").map_err(db_error)?,
        oldest_in_hour: aged("oldest_in_hour").map_err(db_error)?,
        oldest_in_day: aged("oldest_in_day").map_err(db_error)?,
    })
}

#[async_trait]
impl QuotaLedger for SharedQuotaLedger {
    async fn take(&self, key: &str, conditions: &Conditions, now: Timestamp) -> PortResult<Result<Quota, Quota>> {
        let txn = crate::begin_write(&self.db).await?;
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
        let insert = "INSERT INTO quota_buckets (key, minute, calls) VALUES ($1, date_trunc('minute', $2::timestamptz), 1) \
             ON CONFLICT (key, minute) DO UPDATE SET calls = quota_buckets.calls + 1";
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
        // A bucket counts while its minute overlaps the window: kept a minute longer.
        let before = before - BUCKET;
        let delete = "DELETE FROM quota_buckets WHERE minute < $1";
        let result = self
            .db
            .execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, delete, [before.into()]))
            .await
            .map_err(db_error)?;
        Ok(result.rows_affected())
    }
}
