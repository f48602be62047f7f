//! The per-principal request rate limit: fixed one-minute and one-hour windows, in memory.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{SystemTime, UNIX_EPOCH},
};

/// The limiter's verdict for one request, and what the headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateStatus {
    pub limit_minute: u32,
    pub limit_hour: u32,
    pub remaining_minute: u32,
    pub remaining_hour: u32,
    /// Set when the request is refused: seconds until the exhausted window resets.
    pub retry_after: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Windows {
    minute: u64,
    minute_count: u32,
    hour: u64,
    hour_count: u32,
}

pub struct RateLimiter {
    per_minute: u32,
    per_hour: u32,
    windows: Mutex<HashMap<String, Windows>>,
}

/// Above this many tracked callers, callers idle for an hour are forgotten.
const PRUNE_ABOVE: usize = 10_000;

impl RateLimiter {
    pub fn new(per_minute: u32, per_hour: u32) -> Self {
        Self { per_minute, per_hour, windows: Mutex::new(HashMap::new()) }
    }

    pub fn check(&self, key: &str) -> RateStatus {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        self.check_at(key, now)
    }

    /// Counts one request of `key` at `now` (seconds since the epoch) unless a window is full.
    pub fn check_at(&self, key: &str, now: u64) -> RateStatus {
        let (minute, hour) = (now / 60, now / 3600);
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, w| w.hour == hour);
        }
        let w = windows.entry(key.to_owned()).or_default();
        if w.minute != minute {
            *w = Windows { minute, minute_count: 0, ..*w };
        }
        if w.hour != hour {
            *w = Windows { hour, hour_count: 0, ..*w };
        }
        let retry_after = if w.minute_count >= self.per_minute {
            Some(60 - now % 60)
        } else if w.hour_count >= self.per_hour {
            Some(3600 - now % 3600)
        } else {
            w.minute_count += 1;
            w.hour_count += 1;
            None
        };
        RateStatus {
            limit_minute: self.per_minute,
            limit_hour: self.per_hour,
            remaining_minute: self.per_minute.saturating_sub(w.minute_count),
            remaining_hour: self.per_hour.saturating_sub(w.hour_count),
            retry_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_minute_limit_until_the_next_minute() {
        let limiter = RateLimiter::new(2, 100);
        let t = 120 * 60 + 10;
        assert_eq!(limiter.check_at("a", t).remaining_minute, 1);
        assert_eq!(limiter.check_at("a", t).remaining_minute, 0);
        let refused = limiter.check_at("a", t + 5);
        assert_eq!(refused.retry_after, Some(45));
        assert!(limiter.check_at("b", t).retry_after.is_none(), "callers are counted apart");
        let next = limiter.check_at("a", t + 50);
        assert_eq!((next.retry_after, next.remaining_minute, next.remaining_hour), (None, 1, 97));
    }

    #[test]
    fn refuses_past_the_hour_limit_until_the_next_hour() {
        let limiter = RateLimiter::new(100, 3);
        let t = 7200;
        for minute in 0..3 {
            assert!(limiter.check_at("a", t + minute * 60).retry_after.is_none());
        }
        assert_eq!(limiter.check_at("a", t + 600).retry_after, Some(3000));
        assert!(limiter.check_at("a", t + 3600).retry_after.is_none());
    }
}
