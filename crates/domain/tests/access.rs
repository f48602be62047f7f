//! The access engine, rule by rule (docs/architecture.md, "Access decisions"), as a table of cases.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use toolhub_domain::{
    Principal, Role, Timestamp,
    access::{
        AccessIndex, AccessLevel, Conditions, DecidedBy, Grant, Quota, RoleRule, Subject, Target, ToolRef,
        UsageCounters, glob_match,
    },
};

use AccessLevel::{Admin, Execute, Read};

/// An explicit denial.
const DENY: AccessLevel = AccessLevel::None;

/// Monday 2026-11-23, 10:30 UTC.
fn monday_morning() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 30, 0).unwrap()
}

fn alice() -> Principal {
    Principal { id: "alice".into(), tenant: "t".into(), role: Role::User, groups: vec!["eng".into()] }
}

const TOOL: ToolRef<'static> = ToolRef {
    tool_id: "tool-1",
    tool_name: "get_weather",
    server_id: "srv-1",
    server_name: "weather-eu",
    tool_usable: true,
    server_usable: true,
    category: None,
};

fn grant(id: &str, subject: Subject, target: Target, level: AccessLevel) -> Grant {
    let at = monday_morning() - chrono::Duration::days(1);
    Grant {
        id: id.into(),
        tenant: "t".into(),
        subject,
        target,
        access_level: level,
        conditions: Conditions::default(),
        expires_at: None,
        granted_by: "root".into(),
        granted_at: at,
        updated_at: at,
        usage_count: 0,
        last_used: None,
    }
}

fn user_tool(level: AccessLevel) -> Grant {
    grant("user-tool", Subject::User("alice".into()), Target::Tool("tool-1".into()), level)
}
fn user_server(level: AccessLevel) -> Grant {
    grant("user-server", Subject::User("alice".into()), Target::Server("srv-1".into()), level)
}
fn group_tool(level: AccessLevel) -> Grant {
    grant("group-tool", Subject::Group("eng".into()), Target::Tool("tool-1".into()), level)
}
fn group_server(level: AccessLevel) -> Grant {
    grant("group-server", Subject::Group("eng".into()), Target::Server("srv-1".into()), level)
}
fn public(level: AccessLevel) -> Grant {
    grant("public", Subject::Public, Target::Server("srv-1".into()), level)
}

fn rule(id: &str, tool: Option<&str>, server: Option<&str>, level: AccessLevel) -> RoleRule {
    RoleRule {
        id: id.into(),
        tenant: "t".into(),
        role: Role::User,
        tool_pattern: tool.map(Into::into),
        server_pattern: server.map(Into::into),
        access_level: level,
        conditions: Conditions::default(),
        created_by: "root".into(),
        created_at: monday_morning(),
        updated_at: monday_morning(),
    }
}

fn expired(mut g: Grant) -> Grant {
    g.expires_at = Some(monday_morning() - chrono::Duration::seconds(1));
    g
}

fn hours(mut g: Grant, hours: &[u8]) -> Grant {
    g.conditions.allowed_hours = Some(hours.to_vec());
    g
}

fn days(mut g: Grant, days: &[u8]) -> Grant {
    g.conditions.allowed_days = Some(days.to_vec());
    g
}

struct Case {
    name: &'static str,
    grants: Vec<Grant>,
    rules: Vec<RoleRule>,
    required: AccessLevel,
    allowed: bool,
    decided_by: &'static str,
}

fn decided(d: &DecidedBy) -> String {
    match d {
        DecidedBy::Admin => "admin".into(),
        DecidedBy::Grant { id, .. } => id.clone(),
        DecidedBy::RoleRule { id } => format!("rule:{id}"),
        DecidedBy::Unavailable => "unavailable".into(),
        DecidedBy::NoGrant => "none".into(),
        DecidedBy::UnknownUser => "unknown user".into(),
    }
}

#[test]
fn the_engine_follows_the_design_table() {
    let cases = vec![
        Case {
            name: "no grant denies",
            grants: vec![],
            rules: vec![],
            required: Read,
            allowed: false,
            decided_by: "none",
        },
        Case {
            name: "user+tool execute allows a call",
            grants: vec![user_tool(Execute)],
            rules: vec![],
            required: Execute,
            allowed: true,
            decided_by: "user-tool",
        },
        Case {
            name: "read does not allow execute",
            grants: vec![user_tool(Read)],
            rules: vec![],
            required: Execute,
            allowed: false,
            decided_by: "user-tool",
        },
        Case {
            name: "admin level allows execute",
            grants: vec![user_server(Admin)],
            rules: vec![],
            required: Execute,
            allowed: true,
            decided_by: "user-server",
        },
        Case {
            name: "user+tool beats user+server",
            grants: vec![user_tool(Read), user_server(Execute)],
            rules: vec![],
            required: Execute,
            allowed: false,
            decided_by: "user-tool",
        },
        Case {
            name: "user none beats group allow",
            grants: vec![user_server(DENY), group_tool(Execute)],
            rules: vec![],
            required: Read,
            allowed: false,
            decided_by: "user-server",
        },
        Case {
            name: "group deny vs user allow: the user tier decides",
            grants: vec![user_server(Execute), group_tool(DENY)],
            rules: vec![],
            required: Execute,
            allowed: true,
            decided_by: "user-server",
        },
        Case {
            name: "expired user grant falls through to the group grant",
            grants: vec![expired(user_tool(Admin)), group_server(Read)],
            rules: vec![],
            required: Read,
            allowed: true,
            decided_by: "group-server",
        },
        Case {
            name: "expired everything denies",
            grants: vec![expired(user_tool(Admin))],
            rules: vec![],
            required: Read,
            allowed: false,
            decided_by: "none",
        },
        Case {
            name: "deny overrides inside a tier",
            grants: vec![
                group_tool(Execute),
                grant("group-tool-2", Subject::Group("eng".into()), Target::Tool("tool-1".into()), DENY),
            ],
            rules: vec![],
            required: Read,
            allowed: false,
            decided_by: "group-tool-2",
        },
        Case {
            name: "highest level wins inside a tier",
            grants: vec![
                user_tool(Read),
                grant("user-tool-2", Subject::User("alice".into()), Target::Tool("tool-1".into()), Execute),
            ],
            rules: vec![],
            required: Execute,
            allowed: true,
            decided_by: "user-tool-2",
        },
        Case {
            name: "other groups do not count",
            grants: vec![grant("ops", Subject::Group("ops".into()), Target::Tool("tool-1".into()), Execute)],
            rules: vec![],
            required: Read,
            allowed: false,
            decided_by: "none",
        },
        Case {
            name: "other users do not count",
            grants: vec![grant("bob", Subject::User("bob".into()), Target::Tool("tool-1".into()), Execute)],
            rules: vec![],
            required: Read,
            allowed: false,
            decided_by: "none",
        },
        Case {
            name: "grants on other tools do not count",
            grants: vec![grant("x", Subject::User("alice".into()), Target::Tool("tool-2".into()), Execute)],
            rules: vec![],
            required: Read,
            allowed: false,
            decided_by: "none",
        },
        Case {
            name: "grants beat role rules",
            grants: vec![group_server(Read)],
            rules: vec![rule("r", None, None, Execute)],
            required: Execute,
            allowed: false,
            decided_by: "group-server",
        },
        Case {
            name: "a role rule without patterns matches everything",
            grants: vec![],
            rules: vec![rule("r", None, None, Read)],
            required: Read,
            allowed: true,
            decided_by: "rule:r",
        },
        Case {
            name: "role rules beat public",
            grants: vec![public(Execute)],
            rules: vec![rule("r", Some("get_*"), None, Read)],
            required: Execute,
            allowed: false,
            decided_by: "rule:r",
        },
        Case {
            name: "both patterns beat one",
            grants: vec![],
            rules: vec![
                rule("one", Some("get_weather"), None, Execute),
                rule("both", Some("get_*"), Some("weather-*"), Read),
            ],
            required: Execute,
            allowed: false,
            decided_by: "rule:both",
        },
        Case {
            name: "longer literal text wins",
            grants: vec![],
            rules: vec![rule("short", Some("get_*"), None, Read), rule("long", Some("get_weath*"), None, Execute)],
            required: Execute,
            allowed: true,
            decided_by: "rule:long",
        },
        Case {
            name: "both patterns must match",
            grants: vec![],
            rules: vec![rule("r", Some("get_*"), Some("weather-us"), Execute)],
            required: Read,
            allowed: false,
            decided_by: "none",
        },
        Case {
            name: "glob characters other than * and ? are literal",
            grants: vec![],
            rules: vec![rule("r", Some("get.weather"), None, Execute)],
            required: Read,
            allowed: false,
            decided_by: "none",
        },
        Case {
            name: "? matches one character",
            grants: vec![],
            rules: vec![rule("r", None, Some("weather-e?"), Execute)],
            required: Execute,
            allowed: true,
            decided_by: "rule:r",
        },
        Case {
            name: "deny among equally specific rules wins",
            grants: vec![],
            rules: vec![rule("a", Some("get_*"), None, Execute), rule("b", Some("*_weather"), None, DENY)],
            required: Read,
            allowed: false,
            decided_by: "rule:b",
        },
        Case {
            name: "public grant allows when nothing else applies",
            grants: vec![public(Read)],
            rules: vec![],
            required: Read,
            allowed: true,
            decided_by: "public",
        },
        Case {
            name: "inside the hours",
            grants: vec![hours(user_tool(Execute), &[10])],
            rules: vec![],
            required: Execute,
            allowed: true,
            decided_by: "user-tool",
        },
        Case {
            name: "hour boundary: 11 excludes 10:30",
            grants: vec![hours(user_tool(Execute), &[11])],
            rules: vec![],
            required: Execute,
            allowed: false,
            decided_by: "none",
        },
        Case {
            name: "outside the hours falls through",
            grants: vec![hours(user_tool(Execute), &[9, 11]), group_server(Read)],
            rules: vec![],
            required: Read,
            allowed: true,
            decided_by: "group-server",
        },
        Case {
            name: "Monday is day 0",
            grants: vec![days(user_tool(Execute), &[0])],
            rules: vec![],
            required: Execute,
            allowed: true,
            decided_by: "user-tool",
        },
        Case {
            name: "Sunday only excludes Monday",
            grants: vec![days(user_tool(Execute), &[6])],
            rules: vec![],
            required: Execute,
            allowed: false,
            decided_by: "none",
        },
        Case {
            name: "empty windows mean always",
            grants: vec![days(hours(user_tool(Execute), &[]), &[])],
            rules: vec![],
            required: Execute,
            allowed: true,
            decided_by: "user-tool",
        },
    ];
    for case in cases {
        let index = AccessIndex::new(case.grants, case.rules);
        let d = index.explain(&alice(), &TOOL, case.required, monday_morning(), true);
        assert_eq!(
            (d.allowed, decided(&d.decided_by).as_str()),
            (case.allowed, case.decided_by),
            "{}: {:?}",
            case.name,
            d.explanation
        );
        assert_eq!(d.allowed, d.reason.is_none(), "{}: a denial says why", case.name);
        assert!(!d.explanation.is_empty(), "{}: explained", case.name);
        let quiet = index.decide(&alice(), &TOOL, case.required, monday_morning(), true);
        assert_eq!(
            quiet,
            toolhub_domain::access::Decision { explanation: Vec::new(), ..d },
            "{}: same decision, no prose",
            case.name
        );
    }
}

#[test]
fn hour_boundaries_are_exact() {
    let index = AccessIndex::new([hours(user_tool(Execute), &[10])], []);
    let at = |h, m, s| Utc.with_ymd_and_hms(2026, 11, 23, h, m, s).unwrap();
    for (time, allowed) in [(at(9, 59, 59), false), (at(10, 0, 0), true), (at(10, 59, 59), true), (at(11, 0, 0), false)]
    {
        assert_eq!(index.decide(&alice(), &TOOL, Read, time, true).allowed, allowed, "{time}");
    }
    let index = AccessIndex::new([days(user_tool(Execute), &[6])], []);
    let sunday_last_second = Utc.with_ymd_and_hms(2026, 11, 22, 23, 59, 59).unwrap();
    assert!(index.decide(&alice(), &TOOL, Read, sunday_last_second, true).allowed);
    assert!(!index.decide(&alice(), &TOOL, Read, sunday_last_second + chrono::Duration::seconds(1), true).allowed);
}

#[test]
fn expiry_is_exact() {
    let mut g = user_tool(Execute);
    g.expires_at = Some(monday_morning());
    let index = AccessIndex::new([g], []);
    assert!(index.decide(&alice(), &TOOL, Read, monday_morning() - chrono::Duration::seconds(1), true).allowed);
    assert!(!index.decide(&alice(), &TOOL, Read, monday_morning(), true).allowed, "expires at its instant");
    let d = index.decide(&alice(), &TOOL, Read, monday_morning() - chrono::Duration::seconds(1), true);
    assert_eq!(d.expires_at, Some(monday_morning()), "the check reports the expiry");
}

#[test]
fn administrators_bypass_unless_switched_off_and_unusable_tools_are_refused() {
    let index = AccessIndex::new([], []);
    let admin = Principal { role: Role::Admin, ..alice() };
    assert_eq!(index.decide(&admin, &TOOL, Execute, monday_morning(), true).decided_by, DecidedBy::Admin);
    assert!(!index.decide(&admin, &TOOL, Read, monday_morning(), false).allowed, "bypass off: grants apply");
    let root = Principal { role: Role::SuperAdmin, ..alice() };
    assert!(index.decide(&root, &TOOL, Execute, monday_morning(), false).allowed, "super admins always");

    let disabled = ToolRef { tool_usable: false, ..TOOL };
    let with_grant = AccessIndex::new([user_tool(Execute)], []);
    let d = with_grant.decide(&alice(), &disabled, Read, monday_morning(), true);
    assert_eq!((d.allowed, d.decided_by), (false, DecidedBy::Unavailable));
    assert!(with_grant.decide(&admin, &disabled, Read, monday_morning(), true).allowed, "admins still see it");
    assert!(!with_grant.decide(&admin, &disabled, Execute, monday_morning(), true).allowed, "nobody calls it");
    let stopped = ToolRef { server_usable: false, ..TOOL };
    assert_eq!(
        with_grant.decide(&alice(), &stopped, Read, monday_morning(), true).reason.as_deref(),
        Some("the server is not running")
    );
}

#[test]
fn tenants_do_not_share_grants_and_the_index_follows_writes() {
    let mut index = AccessIndex::new([], []);
    let mut other = user_tool(Execute);
    other.tenant = "other".into();
    index.put_grant(other);
    assert!(!index.decide(&alice(), &TOOL, Read, monday_morning(), true).allowed);
    index.put_grant(user_tool(Read));
    assert!(index.decide(&alice(), &TOOL, Read, monday_morning(), true).allowed);
    index.put_grant(user_tool(DENY)); // same id: replaced
    assert!(!index.decide(&alice(), &TOOL, Read, monday_morning(), true).allowed);
    assert_eq!(index.grant_count(), 2);
    index.remove_grant("t", "user-tool");
    assert_eq!(index.decide(&alice(), &TOOL, Read, monday_morning(), true).decided_by, DecidedBy::NoGrant);
    index.put_rule(rule("r", None, None, Read));
    assert!(index.decide(&alice(), &TOOL, Read, monday_morning(), true).allowed);
    index.remove_rule("t", "r");
    assert!(!index.decide(&alice(), &TOOL, Read, monday_morning(), true).allowed);
}

#[test]
fn usage_counters_enforce_hourly_and_daily_limits() {
    let counters = UsageCounters::default();
    let limits = Conditions { rate_limit_per_hour: Some(2), rate_limit_per_day: Some(3), ..Default::default() };
    let t0 = monday_morning();
    assert_eq!(counters.remaining(Some("k"), &limits, t0).remaining_hour, Some(2), "checking counts nothing");
    assert_eq!(counters.record("k", &limits, t0).unwrap().remaining_hour, Some(1));
    assert_eq!(counters.record("k", &limits, t0).unwrap().remaining_hour, Some(0));
    assert!(counters.record("k", &limits, t0).is_err(), "the hour is used up");
    let later = t0 + chrono::Duration::minutes(61);
    assert_eq!(counters.record("k", &limits, later).unwrap().remaining_day, Some(0));
    assert!(counters.record("k", &limits, later).is_err(), "the day is used up");
    assert!(counters.record("k", &limits, t0 + chrono::Duration::hours(25)).is_ok(), "a new day");
    assert!(counters.record("other", &limits, t0).is_ok(), "keys are apart");
}

#[test]
fn usage_counters_slide_and_tell_when_a_call_frees_up() {
    let counters = UsageCounters::default();
    let limits = Conditions { rate_limit_per_hour: Some(2), ..Default::default() };
    let t0 = monday_morning();
    let at = |minutes| t0 + chrono::Duration::minutes(minutes);
    assert!(counters.record("k", &limits, t0).is_ok());
    assert!(counters.record("k", &limits, at(20)).is_ok());
    let refused = counters.record("k", &limits, at(30)).unwrap_err();
    assert_eq!((refused.remaining_hour, refused.retry_after_secs), (Some(0), Some(30 * 60)), "t0's call frees up");
    assert!(counters.record("k", &limits, at(60)).is_ok(), "t0's call left the hour");
    let refused = counters.record("k", &limits, at(61)).unwrap_err();
    assert_eq!(refused.retry_after_secs, Some(19 * 60), "then the call at 20 minutes");
    assert_eq!(counters.remaining(Some("k"), &limits, at(200)).remaining_hour, Some(2), "all slid out");

    let unlimited = Conditions::default();
    for _ in 0..3 {
        assert_eq!(counters.record("free", &unlimited, t0), Ok(Quota::default()), "nothing to count");
    }
    assert_eq!(counters.remaining(Some("free"), &limits, t0).remaining_hour, Some(2), "unlimited calls are not kept");
}

#[test]
fn globs_are_anchored_with_literal_other_characters() {
    for (pattern, text, matches) in [
        ("*", "", true),
        ("*", "anything", true),
        ("get_*", "get_weather", true),
        ("get_*", "xget_weather", false),
        ("*weather", "get_weather", true),
        ("*weather", "get_weather_now", false),
        ("g?t_*", "got_it", true),
        ("a.c", "abc", false),
        ("a.c", "a.c", true),
        ("[ab]", "a", false),
        ("a*b*c", "aXXbYYc", true),
        ("a*b*c", "aXXbYY", false),
        ("", "", true),
        ("", "x", false),
    ] {
        assert_eq!(glob_match(pattern, text), matches, "{pattern} ~ {text}");
    }
}

fn any_level() -> impl Strategy<Value = AccessLevel> {
    prop_oneof![Just(DENY), Just(Read), Just(Execute), Just(Admin)]
}

proptest! {
    #[test]
    fn no_input_panics(
        pattern in ".{0,40}", text in ".{0,40}",
        hours_list in proptest::collection::vec(any::<u8>(), 0..5),
        days_list in proptest::collection::vec(any::<u8>(), 0..5),
        level in any_level(), required in any_level(),
        expires in proptest::option::of(-100_000i64..100_000),
        secs in 0i64..4_000_000_000,
    ) {
        let _ = glob_match(&pattern, &text);
        let mut g = user_tool(level);
        g.conditions.allowed_hours = Some(hours_list);
        g.conditions.allowed_days = Some(days_list);
        g.expires_at = expires.map(|e| monday_morning() + chrono::Duration::seconds(e));
        let index = AccessIndex::new([g], [rule("r", Some(&pattern), Some(&text), level)]);
        let now = Utc.timestamp_opt(secs, 0).unwrap();
        let d = index.decide(&alice(), &TOOL, required, now, true);
        prop_assert_eq!(d.allowed, d.reason.is_none());
        prop_assert!(!d.allowed || d.level >= required);
    }
}
