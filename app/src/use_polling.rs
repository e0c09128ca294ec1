//! `use_polling`: polls an async fetch until a stop predicate holds, leptos-use style.
//!
//! One loop per start: the next poll is scheduled only after the previous one settles, so two
//! polls of one loop are never in flight. Each start/stop bumps a generation; a response from an
//! older generation (or after unmount) is dropped. Errors back off exponentially with jitter.
//! While the page is hidden the loop waits; on visible/online it polls at once. Nothing runs on
//! the server: the loop is started from an effect, and everything stops on cleanup.
use leptos::prelude::*;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

/// The longest wait between polls while errors repeat.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Delay before the next poll. `jitter` in [0, 1) spreads retries over ±50 % of the backoff.
/// Pure, so the schedule is tested without a browser.
pub fn next_delay(interval: Duration, consecutive_errors: u32, jitter: f64) -> Duration {
    if consecutive_errors == 0 {
        return interval;
    }
    let factor = 1u32 << consecutive_errors.min(16);
    let backoff = interval.saturating_mul(factor).min(MAX_BACKOFF);
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
    Ok { done: bool },
    Failed,
}

/// The polling loop's decisions as a pure state machine of events (poll results, pokes,
/// visibility), so the schedule is tested without a browser. The hook only carries them out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PollSchedule {
    pub attempts: u32,
    pub consecutive_errors: u32,
    poked: bool,
    hidden: bool,
}

impl PollSchedule {
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
            Outcome::Failed => self.consecutive_errors += 1,
        }
        if self.attempts >= max_attempts {
            Next::TimedOut
        } else if self.poked {
            Next::Wait(Duration::ZERO)
        } else {
            Next::Wait(next_delay(interval, self.consecutive_errors, jitter))
        }
    }

    /// A refetch was asked for (visible again, back online, a pushed event).
    pub fn poke(&mut self) {
        self.poked = true;
    }

    pub fn set_hidden(&mut self, hidden: bool) {
        self.hidden = hidden;
    }
}

type Hook<A> = Rc<dyn Fn(&A)>;

pub struct UsePollingOptions<T, E> {
    /// Read before every wait, so it can change while polling (e.g. slower while pushed to).
    pub interval: Signal<Duration>,
    pub max_attempts: u32,
    pub should_stop: Rc<dyn Fn(&T) -> bool>,
    pub on_success: Hook<T>,
    pub on_error: Hook<E>,
    pub on_timeout: Rc<dyn Fn()>,
    /// Start polling as soon as the component is mounted in the browser.
    pub immediate: bool,
}

impl<T, E> Default for UsePollingOptions<T, E> {
    fn default() -> Self {
        Self {
            interval: Signal::stored(Duration::from_secs(2)),
            max_attempts: 150,
            should_stop: Rc::new(|_| false),
            on_success: Rc::new(|_| {}),
            on_error: Rc::new(|_| {}),
            on_timeout: Rc::new(|| {}),
            immediate: true,
        }
    }
}

impl<T, E> UsePollingOptions<T, E> {
    pub fn interval(self, interval: impl Into<Signal<Duration>>) -> Self {
        Self {
            interval: interval.into(),
            ..self
        }
    }
    pub fn max_attempts(self, max_attempts: u32) -> Self {
        Self {
            max_attempts,
            ..self
        }
    }
    pub fn should_stop(self, f: impl Fn(&T) -> bool + 'static) -> Self {
        Self {
            should_stop: Rc::new(f),
            ..self
        }
    }
    pub fn on_success(self, f: impl Fn(&T) + 'static) -> Self {
        Self {
            on_success: Rc::new(f),
            ..self
        }
    }
    pub fn on_error(self, f: impl Fn(&E) + 'static) -> Self {
        Self {
            on_error: Rc::new(f),
            ..self
        }
    }
    pub fn on_timeout(self, f: impl Fn() + 'static) -> Self {
        Self {
            on_timeout: Rc::new(f),
            ..self
        }
    }
}

pub struct UsePollingReturn<T, E, Start, Stop, Refetch>
where
    T: Send + Sync + 'static,
    E: Send + Sync + 'static,
{
    pub data: Signal<Option<T>>,
    pub error: Signal<Option<E>>,
    /// Polls made since the last start.
    pub attempts: Signal<u32>,
    /// Polls that failed in a row (0 after a success): drives a "reconnecting" indicator.
    pub consecutive_errors: Signal<u32>,
    pub is_polling: Signal<bool>,
    pub start: Start,
    pub stop: Stop,
    /// Polls now (cutting the current wait short) if polling.
    pub refetch: Refetch,
}

pub fn use_polling<T, E, F, Fut>(
    fetch: F,
    options: UsePollingOptions<T, E>,
) -> UsePollingReturn<
    T,
    E,
    impl Fn() + Clone + Send + Sync,
    impl Fn() + Clone + Send + Sync,
    impl Fn() + Clone + Send + Sync,
>
where
    T: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = Result<T, E>> + 'static,
{
    let data = RwSignal::new(None::<T>);
    let error = RwSignal::new(None::<E>);
    let attempts = RwSignal::new(0u32);
    let consecutive_errors = RwSignal::new(0u32);
    let is_polling = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    let immediate = options.immediate;
    let wake = StoredValue::new(None::<futures_channel::oneshot::Sender<()>>);
    let schedule = StoredValue::new(PollSchedule::default());

    // Wakes the loop out of its wait (a timer, or waiting for the page to become visible).
    let wake_now = move || {
        if let Some(Some(tx)) = wake.try_update_value(Option::take) {
            let _ = tx.send(());
        }
    };

    // On the server the loop does not exist: no fetch, no timer, nothing thread-local.
    #[cfg(feature = "ssr")]
    let run = {
        drop((fetch, options));
        move |_: u64| {}
    };
    #[cfg(not(feature = "ssr"))]
    let run = {
        let fetch = StoredValue::new_local(Rc::new(fetch));
        let options = StoredValue::new_local(Rc::new(options));
        move |run_generation: u64| {
            let current = move || generation.try_get_value() == Some(run_generation);
            let wait = move |delay: Option<Duration>| {
                let (tx, rx) = futures_channel::oneshot::channel::<()>();
                wake.set_value(Some(tx));
                if let Some(delay) = delay {
                    // A pending timer after stop only wakes a loop that then exits.
                    let _ = set_timeout_with_handle(wake_now, delay);
                }
                rx
            };
            leptos::task::spawn_local(async move {
                let (Some(fetch), Some(options)) = (fetch.try_get_value(), options.try_get_value())
                else {
                    return;
                };
                // Disposed (unmounted) means finished.
                let before_poll = move || {
                    schedule
                        .try_update_value(|s| s.before_poll())
                        .unwrap_or(Next::Finish)
                };
                let mut next = before_poll();
                loop {
                    if !current() {
                        return;
                    }
                    next = match next {
                        Next::WaitUntilVisible => {
                            let _ = wait(None).await;
                            before_poll()
                        }
                        Next::Wait(delay) => {
                            if !delay.is_zero() {
                                let _ = wait(Some(delay)).await;
                            }
                            before_poll()
                        }
                        Next::Poll => {
                            attempts.set(schedule.with_value(|s| s.attempts));
                            let result = fetch().await;
                            if !current() {
                                return; // stopped, restarted or unmounted: drop the answer
                            }
                            let outcome = match &result {
                                Ok(value) => Outcome::Ok {
                                    done: (options.should_stop)(value),
                                },
                                Err(_) => Outcome::Failed,
                            };
                            let after = schedule
                                .try_update_value(|s| {
                                    s.after_poll(
                                        outcome,
                                        options.interval.get_untracked(),
                                        options.max_attempts,
                                        js_sys::Math::random(),
                                    )
                                })
                                .unwrap_or(Next::Finish);
                            consecutive_errors.set(schedule.with_value(|s| s.consecutive_errors));
                            match result {
                                Ok(value) => {
                                    error.set(None);
                                    data.set(Some(value.clone()));
                                    if after == Next::Finish {
                                        (options.on_success)(&value);
                                    }
                                }
                                Err(e) => {
                                    error.set(Some(e.clone()));
                                    (options.on_error)(&e);
                                }
                            }
                            if after == Next::TimedOut {
                                (options.on_timeout)();
                            }
                            after
                        }
                        Next::Finish | Next::TimedOut => {
                            is_polling.set(false);
                            generation.update_value(|g| *g += 1);
                            return;
                        }
                    };
                }
            });
        }
    };

    let start = move || {
        if is_polling.get_untracked() {
            return;
        }
        generation.update_value(|g| *g += 1);
        schedule.update_value(|s| {
            s.attempts = 0;
            s.consecutive_errors = 0;
        });
        attempts.set(0);
        consecutive_errors.set(0);
        is_polling.set(true);
        run(generation.get_value());
    };
    let stop = move || {
        generation.update_value(|g| *g += 1);
        is_polling.set(false);
        wake_now();
    };
    let refetch = move || {
        if is_polling.get_untracked() {
            schedule.update_value(PollSchedule::poke);
            wake_now();
        }
    };

    // Browser only: effects never run during server rendering.
    Effect::new(move || {
        if immediate {
            start();
        }
    });
    let visibility = window_event_listener(leptos::ev::visibilitychange, move |_| {
        let now_hidden = document().hidden();
        schedule.update_value(|s| s.set_hidden(now_hidden));
        if !now_hidden {
            refetch();
        }
    });
    let online = window_event_listener(leptos::ev::online, move |_| refetch());
    on_cleanup(move || {
        visibility.remove();
        online.remove();
        generation.try_update_value(|g| *g += 1);
        wake_now();
    });

    UsePollingReturn {
        data: data.into(),
        error: error.into(),
        attempts: attempts.into(),
        consecutive_errors: consecutive_errors.into(),
        is_polling: is_polling.into(),
        start,
        stop,
        refetch,
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
        assert_eq!(s.attempts, 2);
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
    }

    #[test]
    fn errors_back_off_and_a_success_resets_the_interval() {
        let mut s = PollSchedule::default();
        assert_eq!(poll_failed(&mut s), Next::Wait(Duration::from_secs(4)));
        assert_eq!(poll_failed(&mut s), Next::Wait(Duration::from_secs(8)));
        assert_eq!(s.consecutive_errors, 2);
        assert_eq!(poll_ok(&mut s), Next::Wait(TWO_S));
        assert_eq!(s.consecutive_errors, 0);
    }

    #[test]
    fn a_hidden_page_waits_and_polls_once_visible() {
        let mut s = PollSchedule::default();
        poll_ok(&mut s);
        s.set_hidden(true);
        assert_eq!(s.before_poll(), Next::WaitUntilVisible);
        assert_eq!(s.attempts, 1, "no poll while hidden");
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
}
