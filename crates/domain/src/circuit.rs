//! Per-server circuit breakers. After `failures` calls in a row find a server unhealthy (timed
//! out or unreachable), its circuit opens: calls fail fast, without reaching the server, for
//! `cooldown`. Then one trial call goes through; its success closes the circuit, its failure
//! opens it again. A hung or dead upstream thus costs its callers nothing but a quick 503, and
//! gets no pile of requests while it recovers.

use std::{collections::HashMap, sync::Mutex};

use crate::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// When a server's circuit opens, and for how long.
pub struct CircuitSettings {
    /// Consecutive unhealthy calls that open the circuit; 0 never opens it.
    pub failures: u32,
    /// How long an open circuit refuses calls before a trial call.
    pub cooldown: chrono::Duration,
}

impl Default for CircuitSettings {
    fn default() -> Self {
        Self { failures: 5, cooldown: chrono::Duration::seconds(30) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Timestamp,
    },
    /// The trial call is under way; others still fail fast.
    Trial,
}

/// The circuits of every server, by server id.
#[derive(Debug, Default)]
pub struct Circuits {
    settings: CircuitSettings,
    states: Mutex<HashMap<String, State>>,
}

/// Permission to call a server, to be settled with its outcome. Dropped unsettled (the caller
/// went away), a trial leaves the next call to be the trial.
#[must_use]
pub struct Admission<'a> {
    circuits: &'a Circuits,
    server_id: String,
    settled: bool,
}

impl Circuits {
    /// Circuits that open as `settings` say.
    pub fn new(settings: CircuitSettings) -> Self {
        Self { settings, states: Mutex::default() }
    }

    fn states(&self) -> std::sync::MutexGuard<'_, HashMap<String, State>> {
        self.states.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lets a call to the server go, or says in how many seconds a trial call will.
    pub fn admit(&self, server_id: &str, now: Timestamp) -> Result<Admission<'_>, u64> {
        let mut states = self.states();
        match states.get(server_id).copied() {
            None | Some(State::Closed { .. }) => {}
            Some(State::Open { until }) if now < until => {
                return Err((until - now).num_seconds().max(1) as u64);
            }
            Some(State::Open { .. }) => {
                states.insert(server_id.to_owned(), State::Trial);
            }
            Some(State::Trial) => return Err(1),
        }
        Ok(Admission { circuits: self, server_id: server_id.to_owned(), settled: false })
    }
}

impl Admission<'_> {
    /// Records whether the call found the server healthy; true when this opened the circuit.
    pub fn settle(mut self, healthy: bool, now: Timestamp) -> bool {
        self.settled = true;
        let settings = self.circuits.settings;
        let mut states = self.circuits.states();
        if healthy {
            states.remove(&self.server_id);
            return false;
        }
        let failures = match states.get(&self.server_id) {
            Some(State::Closed { failures }) => failures + 1,
            None => 1,
            // A failed trial, or a failure that raced the circuit opening: open (again).
            Some(State::Trial | State::Open { .. }) => settings.failures,
        };
        let state = if settings.failures > 0 && failures >= settings.failures {
            State::Open { until: now + settings.cooldown }
        } else {
            State::Closed { failures }
        };
        let was_open = matches!(states.insert(self.server_id.clone(), state), Some(State::Open { .. }));
        matches!(state, State::Open { .. }) && !was_open
    }
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        if !self.settled {
            let mut states = self.circuits.states();
            if let Some(state @ State::Trial) = states.get_mut(&self.server_id) {
                *state = State::Open { until: chrono::DateTime::<chrono::Utc>::MIN_UTC };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn circuits() -> Circuits {
        Circuits::new(CircuitSettings { failures: 3, cooldown: chrono::Duration::seconds(30) })
    }

    fn fail(circuits: &Circuits, now: Timestamp) -> bool {
        circuits.admit("s", now).unwrap().settle(false, now)
    }

    #[test]
    fn opens_after_consecutive_failures_and_closes_after_a_good_trial() {
        let c = circuits();
        let t = chrono::Utc::now();
        fail(&c, t);
        fail(&c, t);
        c.admit("s", t).unwrap().settle(true, t);
        fail(&c, t);
        fail(&c, t);
        assert!(c.admit("s", t).is_ok(), "a success in between starts the count again");
        assert!(fail(&c, t), "the third failure in a row opens the circuit");
        assert_eq!(c.admit("s", t + chrono::Duration::seconds(10)).err(), Some(20), "open: fail fast");
        assert!(c.admit("other", t).is_ok(), "servers are apart");

        let trial_at = t + chrono::Duration::seconds(30);
        let trial = c.admit("s", trial_at).expect("the cool-down is over: a trial");
        assert!(c.admit("s", trial_at).is_err(), "one trial at a time");
        trial.settle(true, trial_at);
        assert!(c.admit("s", trial_at).is_ok(), "closed again");
    }

    #[test]
    fn a_failed_trial_opens_again_and_an_abandoned_one_leaves_the_next_call_to_try() {
        let c = circuits();
        let t = chrono::Utc::now();
        assert_eq!((0..3).map(|_| fail(&c, t)).collect::<Vec<_>>(), [false, false, true]);
        let later = t + chrono::Duration::seconds(30);
        assert!(c.admit("s", later).unwrap().settle(false, later), "a failed trial opens it again");
        assert_eq!(c.admit("s", later).err(), Some(30), "a full cool-down again");

        let again = later + chrono::Duration::seconds(30);
        drop(c.admit("s", again).unwrap());
        assert!(c.admit("s", again).is_ok(), "the abandoned trial's turn passes on");
    }

    #[test]
    fn zero_failures_never_opens() {
        let c = Circuits::new(CircuitSettings { failures: 0, ..CircuitSettings::default() });
        let t = chrono::Utc::now();
        assert!((0..100).all(|_| !fail(&c, t)));
        assert!(c.admit("s", t).is_ok());
    }
}
