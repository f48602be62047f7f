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
        let (hour, day) = (count(chrono::Duration::hours(1)), count(chrono::Duration::days(1)));
        Quota {
            remaining_hour: conditions.rate_limit_per_hour.map(|l| l.saturating_sub(hour)),
            remaining_day: conditions.rate_limit_per_day.map(|l| l.saturating_sub(day)),
            retry_after_secs: None,
        }
    }

    /// Seconds until the exhausted window frees up: when its oldest counted call leaves it.
    fn retry_after(&self, quota: &Quota, now: Timestamp) -> u64 {
        let window =
            if quota.remaining_hour == Some(0) { chrono::Duration::hours(1) } else { chrono::Duration::days(1) };
        let oldest = self.0.get(self.start(window, now)).copied().unwrap_or(now);
        (oldest + window - now).num_seconds().max(1) as u64
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
        let before = Window(list).quota(conditions, now);
        if before.exhausted() {
            return Err(Quota { retry_after_secs: Some(Window(list).retry_after(&before, now)), ..before });
        }
        Self::count(list, conditions, now);
        Ok(Quota {
            remaining_hour: before.remaining_hour.map(|r| r - 1),
            remaining_day: before.remaining_day.map(|r| r - 1),
            retry_after_secs: None,
        })
    }
}
