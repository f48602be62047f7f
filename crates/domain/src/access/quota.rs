//! Call quotas: the calls counted against a grant's or rule's hourly and daily limits.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
};

use super::Conditions;
use crate::Timestamp;

/// Calls counted per quota key in the last hour and day, to enforce and report rate limits.
///
/// Only calls under a limit are counted, and only as many of the most recent ones as the larger
/// limit: that is all an exact sliding window needs, so memory and time per call stay bounded.
#[derive(Debug, Default)]
pub struct UsageCounters {
    calls: Mutex<HashMap<String, VecDeque<Timestamp>>>,
}

/// Remaining calls under a decision's limits (None: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quota {
    /// Calls left in the sliding hour.
    pub remaining_hour: Option<u32>,
    /// Calls left in the sliding day.
    pub remaining_day: Option<u32>,
    /// When used up: seconds until a call is possible again.
    pub retry_after_secs: Option<u64>,
}

impl Quota {
    /// Whether a limit is used up.
    pub fn exhausted(&self) -> bool {
        self.remaining_hour == Some(0) || self.remaining_day == Some(0)
    }

    /// What is left under `conditions` with `hour` calls counted in the sliding hour and `day`
    /// in the sliding day.
    pub fn left(conditions: &Conditions, hour: u32, day: u32) -> Self {
        Self {
            remaining_hour: conditions.rate_limit_per_hour.map(|l| l.saturating_sub(hour)),
            remaining_day: conditions.rate_limit_per_day.map(|l| l.saturating_sub(day)),
            retry_after_secs: None,
        }
    }

    /// What is left after one more call (of a quota that is not exhausted).
    pub fn after_one(self) -> Self {
        Self {
            remaining_hour: self.remaining_hour.map(|r| r.saturating_sub(1)),
            remaining_day: self.remaining_day.map(|r| r.saturating_sub(1)),
            retry_after_secs: None,
        }
    }

    /// The exhausted quota with the seconds until its window frees up: when the oldest call
    /// counted in it (`oldest_in_hour`, `oldest_in_day`) leaves it.
    pub fn exhausted_until(
        self,
        oldest_in_hour: Option<Timestamp>,
        oldest_in_day: Option<Timestamp>,
        now: Timestamp,
    ) -> Self {
        let (window, oldest) = match self.remaining_hour == Some(0) {
            true => (chrono::Duration::hours(1), oldest_in_hour),
            false => (chrono::Duration::days(1), oldest_in_day),
        };
        // Rounded up: a database keeps microseconds, and a call is never let in too early.
        let wait = oldest.unwrap_or(now) + window - now;
        let seconds = (wait.num_seconds() + i64::from(wait.subsec_nanos() > 0)).max(1) as u64;
        Self { retry_after_secs: Some(seconds), ..self }
    }
}

/// The counted calls of one key inside the last day, oldest first.
struct Window<'a>(&'a VecDeque<Timestamp>);

impl Window<'_> {
    /// Where the calls inside the window ending now start.
    fn start(&self, window: chrono::Duration, now: Timestamp) -> usize {
        self.0.partition_point(|t| now - *t >= window)
    }

    fn quota(&self, conditions: &Conditions, now: Timestamp) -> Quota {
        let count = |window| (self.0.len() - self.start(window, now)) as u32;
        Quota::left(conditions, count(chrono::Duration::hours(1)), count(chrono::Duration::days(1)))
    }

    /// The oldest call counted in the window ending now.
    fn oldest(&self, window: chrono::Duration, now: Timestamp) -> Option<Timestamp> {
        self.0.get(self.start(window, now)).copied()
    }
}

impl UsageCounters {
    fn limited(conditions: &Conditions) -> bool {
        conditions.rate_limit_per_hour.is_some() || conditions.rate_limit_per_day.is_some()
    }

    /// What is left under these limits, without counting anything (the access check).
    pub fn remaining(&self, key: Option<&str>, conditions: &Conditions, now: Timestamp) -> Quota {
        let calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        match key.and_then(|k| calls.get(k)) {
            Some(list) => Window(list).quota(conditions, now),
            None => Window(&VecDeque::new()).quota(conditions, now),
        }
    }

    /// Adds a call made at `at` to a key's list, keeping only what the limits need.
    fn count(list: &mut VecDeque<Timestamp>, conditions: &Conditions, at: Timestamp) {
        // Keep the list ordered even if the clock steps back.
        list.push_back(list.back().map_or(at, |last| at.max(*last)));
        let keep = conditions.rate_limit_per_hour.max(conditions.rate_limit_per_day).unwrap_or(0) as usize;
        let stale = list.len().saturating_sub(keep).max(Window(list).start(chrono::Duration::days(1), at));
        list.drain(..stale);
    }

    /// Counts again a call made at `at` (oldest first), as the call log recorded it: after a
    /// restart, so that quotas hold across it.
    pub fn restore(&self, key: &str, conditions: &Conditions, at: Timestamp) {
        if Self::limited(conditions) {
            let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
            Self::count(calls.entry(key.to_owned()).or_default(), conditions, at);
        }
    }

    /// Counts one call if the limits allow it; returns the quota after it, or the exhausted one.
    pub fn record(&self, key: &str, conditions: &Conditions, now: Timestamp) -> Result<Quota, Quota> {
        if !Self::limited(conditions) {
            return Ok(Quota::default());
        }
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        let list = calls.entry(key.to_owned()).or_default();
        let window = Window(list);
        let before = window.quota(conditions, now);
        if before.exhausted() {
            let (hour, day) = (chrono::Duration::hours(1), chrono::Duration::days(1));
            return Err(before.exhausted_until(window.oldest(hour, now), window.oldest(day, now), now));
        }
        Self::count(list, conditions, now);
        Ok(before.after_one())
    }
}

#[async_trait::async_trait]
impl crate::ports::QuotaLedger for UsageCounters {
    async fn take(
        &self,
        key: &str,
        conditions: &Conditions,
        now: Timestamp,
    ) -> crate::ports::PortResult<Result<Quota, Quota>> {
        Ok(self.record(key, conditions, now))
    }

    async fn remaining(&self, key: &str, conditions: &Conditions, now: Timestamp) -> crate::ports::PortResult<Quota> {
        Ok(UsageCounters::remaining(self, Some(key), conditions, now))
    }

    fn restore(&self, key: &str, conditions: &Conditions, at: Timestamp) {
        UsageCounters::restore(self, key, conditions, at);
    }
}
