//! The request limit: per principal (authenticated requests) and per client address (every
//! request, counted before any authentication work, so unauthenticated floods cost a lookup in
//! a sharded map and nothing more). Counting is governor's (GCRA, sharded maps); the maps are
//! bounded by forgetting callers whose allowance is full again.

use std::{
    net::IpAddr,
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
};

use governor::{
    DefaultKeyedRateLimiter, Quota,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
};

/// The limiter's verdict for one request, and what the headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateStatus {
    pub limit_minute: u32,
    pub limit_hour: u32,
    pub remaining_minute: u32,
    pub remaining_hour: u32,
    /// Set when the request is refused: seconds until a request may succeed.
    pub retry_after: Option<u64>,
}

/// Who a request is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// An authenticated principal (`tenant:id`).
    Principal(String),
    /// A client address; IPv6 addresses count by their /64, which one client usually holds.
    Address(IpAddr),
}

impl Caller {
    /// The caller for a client address, IPv6 grouped by /64.
    pub fn address(ip: IpAddr) -> Self {
        Self::Address(match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
            },
            v4 => v4,
        })
    }
}

type Limiter = DefaultKeyedRateLimiter<Caller, StateInformationMiddleware>;

/// One address may send this many times a principal's allowance (several users behind a NAT).
pub const ADDRESS_FACTOR: u32 = 10;

/// Callers kept at most before those whose allowance is full again are forgotten.
const KEEP_CALLERS: usize = 100_000;

/// A minute and an hour allowance, counted per caller.
struct Limits {
    per_minute: u32,
    per_hour: u32,
    minute: Limiter,
    hour: Limiter,
}

impl Limits {
    fn new(per_minute: u32, per_hour: u32) -> Self {
        let keyed = |q: Quota| DefaultKeyedRateLimiter::dashmap(q).with_middleware::<StateInformationMiddleware>();
        Self {
            per_minute,
            per_hour,
            minute: keyed(quota(Quota::per_minute, per_minute)),
            hour: keyed(quota(Quota::per_hour, per_hour)),
        }
    }

    /// Counts one request of `caller` unless an allowance is used up.
    fn check(&self, caller: &Caller) -> RateStatus {
        let refused = |wait| RateStatus {
            limit_minute: self.per_minute,
            limit_hour: self.per_hour,
            remaining_minute: 0,
            remaining_hour: 0,
            retry_after: Some(seconds(wait)),
        };
        let now = DefaultClock::default().now();
        let minute = match self.minute.check_key(caller) {
            Ok(state) => state.remaining_burst_capacity(),
            Err(not_until) => return refused(not_until.wait_time_from(now)),
        };
        match self.hour.check_key(caller) {
            Ok(state) => RateStatus {
                limit_minute: self.per_minute,
                limit_hour: self.per_hour,
                remaining_minute: minute,
                remaining_hour: state.remaining_burst_capacity(),
                retry_after: None,
            },
            Err(not_until) => refused(not_until.wait_time_from(now)),
        }
    }
}

pub struct RateLimiter {
    principals: Limits,
    addresses: Limits,
    checks: AtomicU64,
}

fn quota(per: fn(NonZeroU32) -> Quota, n: u32) -> Quota {
    per(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl RateLimiter {
    /// Limits per principal per minute and per hour; client addresses get [`ADDRESS_FACTOR`]
    /// times both.
    pub fn new(per_minute: u32, per_hour: u32) -> Self {
        Self {
            principals: Limits::new(per_minute, per_hour),
            addresses: Limits::new(per_minute.saturating_mul(ADDRESS_FACTOR), per_hour.saturating_mul(ADDRESS_FACTOR)),
            checks: AtomicU64::new(0),
        }
    }

    /// Counts a request from an address, before anything else is done for it.
    pub fn check_address(&self, ip: IpAddr) -> RateStatus {
        self.forget_idle_now_and_then();
        self.addresses.check(&Caller::address(ip))
    }

    /// Counts one request of an authenticated principal unless a limit is reached.
    pub fn check(&self, caller: &Caller) -> RateStatus {
        self.principals.check(caller)
    }

    /// Keeps the maps bounded: now and then, callers whose allowance is whole again are
    /// forgotten (they would start from the same state anyway).
    fn forget_idle_now_and_then(&self) {
        if !self.checks.fetch_add(1, Ordering::Relaxed).is_multiple_of(4096) {
            return;
        }
        let (p, a) = (&self.principals, &self.addresses);
        for limiter in [&p.minute, &p.hour, &a.minute, &a.hour] {
            if limiter.len() > KEEP_CALLERS {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        }
    }
}

/// Whole seconds to wait, at least one.
fn seconds(wait: std::time::Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_minute_limit_and_says_when_to_retry() {
        let limiter = RateLimiter::new(2, 100);
        let a = Caller::Principal("t:a".into());
        assert_eq!(limiter.check(&a).remaining_minute, 1);
        assert_eq!(limiter.check(&a).remaining_minute, 0);
        let refused = limiter.check(&a);
        assert!(refused.retry_after.is_some_and(|s| (1..=60).contains(&s)), "{refused:?}");
        assert!(limiter.check(&Caller::Principal("t:b".into())).retry_after.is_none(), "callers apart");
    }

    #[test]
    fn refuses_past_the_hour_limit() {
        let limiter = RateLimiter::new(100, 3);
        let a = Caller::Principal("t:a".into());
        for _ in 0..3 {
            assert!(limiter.check(&a).retry_after.is_none());
        }
        let refused = limiter.check(&a);
        assert!(refused.retry_after.is_some_and(|s| s > 60), "an hour's allowance refills slowly: {refused:?}");
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(Caller::address(ip("2001:db8:1:2:aaaa::1")), Caller::address(ip("2001:db8:1:2:bbbb::2")));
        assert_ne!(Caller::address(ip("2001:db8:1:2::1")), Caller::address(ip("2001:db8:1:3::1")));
        assert_eq!(Caller::address(ip("::ffff:10.0.0.1")), Caller::address(ip("10.0.0.1")));
        let limiter = RateLimiter::new(1, 100);
        for _ in 0..ADDRESS_FACTOR {
            assert!(limiter.check_address(ip("2001:db8:1:2::7")).retry_after.is_none());
        }
        assert!(limiter.check_address(ip("2001:db8:1:2::8")).retry_after.is_some(), "the same /64");
    }
}
