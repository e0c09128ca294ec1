//! `PollSchedule`: the decisions of `use_polling`'s loop (poll now, wait how long, wait for the
//! page to be visible, finish) as a pure state machine of events — poll results, pokes,
//! visibility — so the schedule is tested without a browser. The hook only carries them out.
use std::time::Duration;

/// The longest wait between polls while errors repeat.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Errors back off from at least this, even when the interval is zero (long-poll): a refused
/// request (429, 503 when the server is full) must not be retried in a tight loop.
pub const MIN_ERROR_INTERVAL: Duration = Duration::from_secs(1);

/// While requests do not reach the server (the network is down) they cost it nothing: the page
/// tries again this often at most, so it sees the network come back within seconds instead of
/// after a backoff of up to [`MAX_BACKOFF`]. Not more often than polling without a stream.
pub const UNREACHABLE_RETRY: Duration = Duration::from_secs(2);

/// Delay before the next poll. `jitter` in [0, 1) spreads retries over ±50 % of the backoff.
pub fn next_delay(interval: Duration, consecutive_errors: u32, jitter: f64) -> Duration {
    if consecutive_errors == 0 {
        return interval;
    }
    let factor = 1u32 << consecutive_errors.min(16);
    let base = interval.max(MIN_ERROR_INTERVAL);
    let backoff = base.saturating_mul(factor).min(MAX_BACKOFF);
    backoff.mul_f64(0.5 + jitter.clamp(0.0, 1.0))
}

/// What the polling loop does next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    Poll,
    Wait(Duration),
    /// The page is hidden: wait until it is visible again.
    WaitUntilVisible,
    /// The stop predicate held.
    Finish,
    /// Max attempts reached.
    TimedOut,
}

/// How a poll ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok {
        done: bool,
    },
    /// The server answered with an error (refused, busy, failed).
    Failed,
    /// The request never reached the server.
    Unreachable,
}

/// One polling loop's counters and the page's visibility. The counters change only through
/// these methods: a new loop calls [`PollSchedule::restart`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PollSchedule {
    attempts: u32,
    consecutive_errors: u32,
    poked: bool,
    hidden: bool,
}

impl PollSchedule {
    /// Polls made since the last restart.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Polls that failed in a row (0 after a success).
    pub fn consecutive_errors(&self) -> u32 {
        self.consecutive_errors
    }

    /// A new loop: no polls and no errors yet, no refetch owed. The page's visibility is the
    /// page's, not the loop's, so it stays.
    pub fn restart(&mut self) {
        *self = Self {
            hidden: self.hidden,
            ..Self::default()
        };
    }

    /// Before a poll: poll now, unless the page is hidden.
    pub fn before_poll(&mut self) -> Next {
        if self.hidden {
            return Next::WaitUntilVisible;
        }
        self.attempts += 1;
        self.poked = false;
        Next::Poll
    }

    /// After a poll settled: finish, time out, or wait (backing off after errors; not at all if
    /// a refetch was asked for meanwhile). `jitter` is in [0, 1).
    pub fn after_poll(
        &mut self,
        outcome: Outcome,
        interval: Duration,
        max_attempts: u32,
        jitter: f64,
    ) -> Next {
        match outcome {
            Outcome::Ok { done: true } => {
                self.consecutive_errors = 0;
                return Next::Finish;
            }
            Outcome::Ok { done: false } => self.consecutive_errors = 0,
            Outcome::Failed | Outcome::Unreachable => self.consecutive_errors += 1,
        }
        if self.attempts >= max_attempts {
            Next::TimedOut
        } else if self.poked {
            Next::Wait(Duration::ZERO)
        } else if outcome == Outcome::Unreachable {
            Next::Wait(interval.clamp(MIN_ERROR_INTERVAL, UNREACHABLE_RETRY))
        } else {
            Next::Wait(next_delay(interval, self.consecutive_errors, jitter))
        }
    }

    /// A refetch was asked for (visible again, back online, a pushed event).
    pub fn poke(&mut self) {
        self.poked = true;
    }

    /// The server answered another way (its event stream opened or pushed): it is reachable,
    /// so the errors so far no longer count and no backoff delays the read this asks for.
    pub fn heard_from_server(&mut self) {
        self.consecutive_errors = 0;
        self.poke();
    }

    pub fn set_hidden(&mut self, hidden: bool) {
        self.hidden = hidden;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_S: Duration = Duration::from_secs(2);
    const MAX: u32 = 150;

    fn poll_ok(s: &mut PollSchedule) -> Next {
        assert_eq!(s.before_poll(), Next::Poll);
        s.after_poll(Outcome::Ok { done: false }, TWO_S, MAX, 0.5)
    }

    fn poll_failed(s: &mut PollSchedule) -> Next {
        assert_eq!(s.before_poll(), Next::Poll);
        s.after_poll(Outcome::Failed, TWO_S, MAX, 0.5)
    }

    #[test]
    fn polls_at_the_interval_without_errors() {
        assert_eq!(next_delay(TWO_S, 0, 0.9), TWO_S);
        let mut s = PollSchedule::default();
        assert_eq!(poll_ok(&mut s), Next::Wait(TWO_S));
        assert_eq!(poll_ok(&mut s), Next::Wait(TWO_S));
        assert_eq!(s.attempts(), 2);
    }

    #[test]
    fn backs_off_exponentially_with_jitter_and_a_cap() {
        // jitter 0.5 is the midpoint: exactly the doubled interval.
        assert_eq!(next_delay(TWO_S, 1, 0.5), Duration::from_secs(4));
        assert_eq!(next_delay(TWO_S, 2, 0.5), Duration::from_secs(8));
        assert_eq!(next_delay(TWO_S, 10, 0.5), MAX_BACKOFF);
        assert_eq!(next_delay(TWO_S, 1, 0.0), Duration::from_secs(2));
        assert_eq!(next_delay(TWO_S, 1, 1.0), Duration::from_secs(6));
        assert!(next_delay(TWO_S, 40, 1.0) <= MAX_BACKOFF.mul_f64(1.5));
        // A long-poll asks again at once, but not after an error.
        assert_eq!(next_delay(Duration::ZERO, 0, 0.5), Duration::ZERO);
        assert_eq!(next_delay(Duration::ZERO, 1, 0.5), 2 * MIN_ERROR_INTERVAL);
    }

    #[test]
    fn errors_back_off_and_a_success_resets_the_interval() {
        let mut s = PollSchedule::default();
        assert_eq!(poll_failed(&mut s), Next::Wait(Duration::from_secs(4)));
        assert_eq!(poll_failed(&mut s), Next::Wait(Duration::from_secs(8)));
        assert_eq!(s.consecutive_errors(), 2);
        assert_eq!(poll_ok(&mut s), Next::Wait(TWO_S));
        assert_eq!(s.consecutive_errors(), 0);
    }

    #[test]
    fn a_hidden_page_waits_and_polls_once_visible() {
        let mut s = PollSchedule::default();
        poll_ok(&mut s);
        s.set_hidden(true);
        assert_eq!(s.before_poll(), Next::WaitUntilVisible);
        assert_eq!(s.attempts(), 1, "no poll while hidden");
        s.set_hidden(false);
        s.poke();
        assert_eq!(s.before_poll(), Next::Poll);
    }

    #[test]
    fn a_poke_during_a_poll_skips_the_next_wait() {
        let mut s = PollSchedule::default();
        assert_eq!(s.before_poll(), Next::Poll);
        s.poke(); // a pushed event arrives while the poll is in flight
        assert_eq!(
            s.after_poll(Outcome::Ok { done: false }, TWO_S, MAX, 0.5),
            Next::Wait(Duration::ZERO)
        );
        assert_eq!(poll_ok(&mut s), Next::Wait(TWO_S), "the poke is used up");
    }

    #[test]
    fn an_unreachable_server_is_asked_again_soon_without_backoff() {
        let mut s = PollSchedule::default();
        for _ in 0..5 {
            assert_eq!(s.before_poll(), Next::Poll);
            assert_eq!(
                s.after_poll(Outcome::Unreachable, TWO_S, MAX, 0.9),
                Next::Wait(UNREACHABLE_RETRY)
            );
        }
        assert_eq!(s.consecutive_errors(), 5, "still shown as unreachable");
        // Slower polling (a stream open) and a long-poll retry within the same bounds.
        s.before_poll();
        let slow = s.after_poll(Outcome::Unreachable, Duration::from_secs(10), MAX, 0.5);
        assert_eq!(slow, Next::Wait(UNREACHABLE_RETRY));
        s.before_poll();
        let long_poll = s.after_poll(Outcome::Unreachable, Duration::ZERO, MAX, 0.5);
        assert_eq!(long_poll, Next::Wait(MIN_ERROR_INTERVAL));
        // A server that answers with an error still backs off.
        assert_eq!(poll_failed(&mut s), Next::Wait(MAX_BACKOFF));
    }

    #[test]
    fn hearing_from_the_server_clears_the_errors() {
        let mut s = PollSchedule::default();
        poll_failed(&mut s);
        poll_failed(&mut s);
        s.heard_from_server();
        assert_eq!(s.consecutive_errors(), 0);
        assert_eq!(poll_ok(&mut s), Next::Wait(TWO_S), "no backoff left");
        // A read still failing afterwards counts from one again.
        poll_failed(&mut s);
        s.heard_from_server();
        assert_eq!(poll_failed(&mut s), Next::Wait(Duration::from_secs(4)));
        assert_eq!(s.consecutive_errors(), 1);
    }

    #[test]
    fn stops_when_done_or_out_of_attempts() {
        let mut s = PollSchedule::default();
        assert_eq!(s.before_poll(), Next::Poll);
        assert_eq!(
            s.after_poll(Outcome::Ok { done: true }, TWO_S, MAX, 0.5),
            Next::Finish
        );
        let mut s = PollSchedule::default();
        assert_eq!(s.before_poll(), Next::Poll);
        assert_eq!(
            s.after_poll(Outcome::Failed, TWO_S, 2, 0.5),
            Next::Wait(Duration::from_secs(4))
        );
        assert_eq!(s.before_poll(), Next::Poll);
        assert_eq!(s.after_poll(Outcome::Failed, TWO_S, 2, 0.5), Next::TimedOut);
    }

    #[test]
    fn restart_clears_the_counters_but_not_the_visibility() {
        let mut s = PollSchedule::default();
        poll_failed(&mut s);
        poll_failed(&mut s);
        s.poke();
        s.set_hidden(true);
        s.restart();
        assert_eq!((s.attempts(), s.consecutive_errors()), (0, 0));
        assert_eq!(s.before_poll(), Next::WaitUntilVisible, "still hidden");
        s.set_hidden(false);
        assert_eq!(s.before_poll(), Next::Poll);
        assert_eq!(
            s.after_poll(Outcome::Ok { done: false }, TWO_S, MAX, 0.5),
            Next::Wait(TWO_S),
            "the poke before the restart is not owed to the new loop"
        );
    }
}
