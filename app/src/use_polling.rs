//! `use_polling`: polls an async fetch until a stop predicate holds, leptos-use style (options
//! with defaults, a return struct, a no-op on the server).
//!
//! One loop per start: the next poll is scheduled only after the previous one settles, so two
//! polls of one loop are never in flight. Each start/stop bumps a generation; a response from an
//! older generation (or after unmount) is dropped. Errors back off exponentially with jitter,
//! except requests that never reached the server, retried every couple of seconds.
//! While the page is hidden the loop waits; on visible/online it polls at once, and on offline
//! too (the read fails at once, so a lost connection shows without waiting for the next poll). What to do next
//! is [`PollSchedule`]'s decision (use_poll_schedule.rs); this hook carries it out. Nothing runs
//! on the server: the loop is started from an effect, and a wait's timer is cleared whenever the
//! wait ends early, on stop and on cleanup.
use crate::use_poll_schedule::PollSchedule;
#[cfg(not(feature = "ssr"))]
use crate::use_poll_schedule::{Next, Outcome};
use leptos::prelude::*;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

type Hook<A> = Rc<dyn Fn(&A)>;

// The hook's signals are handed out as the concrete `ReadSignal`/`Memo` rather than the `Signal`
// wrapper: each type read through `Signal` is more code in the WASM (issue 21).

pub struct UsePollingOptions<T, E> {
    /// Called (untracked) before every wait, so it can change while polling (e.g. slower while
    /// pushed to).
    pub interval: Rc<dyn Fn() -> Duration>,
    pub max_attempts: u32,
    pub should_stop: Rc<dyn Fn(&T) -> bool>,
    pub on_success: Hook<T>,
    pub on_error: Hook<E>,
    pub on_timeout: Rc<dyn Fn()>,
    /// Whether an error means the request never reached the server: retried soon instead of
    /// backing off (see `UNREACHABLE_RETRY`).
    pub is_unreachable: Rc<dyn Fn(&E) -> bool>,
    /// Start polling as soon as the component is mounted in the browser.
    pub immediate: bool,
}

impl<T, E> Default for UsePollingOptions<T, E> {
    fn default() -> Self {
        Self {
            interval: Rc::new(|| Duration::from_secs(2)),
            max_attempts: 150,
            should_stop: Rc::new(|_| false),
            on_success: Rc::new(|_| {}),
            on_error: Rc::new(|_| {}),
            on_timeout: Rc::new(|| {}),
            is_unreachable: Rc::new(|_| false),
            immediate: true,
        }
    }
}

impl<T, E> UsePollingOptions<T, E> {
    pub fn interval(self, interval: impl Fn() -> Duration + 'static) -> Self {
        Self {
            interval: Rc::new(interval),
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
    pub fn unreachable_when(self, f: impl Fn(&E) -> bool + 'static) -> Self {
        Self {
            is_unreachable: Rc::new(f),
            ..self
        }
    }
}

pub struct UsePollingReturn<T, E, Start, Stop, Refetch, Heard>
where
    T: Send + Sync + 'static,
    E: Send + Sync + 'static,
{
    pub data: ReadSignal<Option<T>>,
    pub error: ReadSignal<Option<E>>,
    pub is_polling: ReadSignal<bool>,
    /// The loop's counters (polls made, errors in a row), read reactively.
    pub counters: PollCounters,
    /// Starts a new loop (counters from zero) unless one is running.
    pub start: Start,
    /// Ends the loop, clearing its timer; an answer still in flight is dropped.
    pub stop: Stop,
    /// Polls now (cutting the current wait short) if polling.
    pub refetch: Refetch,
    /// The server was heard from another way (a pushed event): the errors so far are cleared,
    /// and it polls now, as `refetch`.
    pub heard_from_server: Heard,
}

/// The polling loop's counters: reads of its schedule, tracked. (Read straight from the
/// schedule's signal rather than through a `Memo` each: less WASM; the readers are texts and
/// classes, which only touch the DOM when their value changes.)
#[derive(Clone, Copy)]
pub struct PollCounters(ReadSignal<PollSchedule>);

impl PollCounters {
    /// Polls made since the last start.
    pub fn attempts(self) -> u32 {
        self.0.with(PollSchedule::attempts)
    }

    /// Polls that failed in a row (0 after a success): drives a "reconnecting" indicator.
    pub fn consecutive_errors(self) -> u32 {
        self.0.with(PollSchedule::consecutive_errors)
    }
}

/// `fetch` gets the latest answer (`None` before the first), e.g. for a long-poll's "changed
/// since".
pub fn use_polling<T, E, F, Fut>(
    fetch: F,
    options: UsePollingOptions<T, E>,
) -> UsePollingReturn<
    T,
    E,
    impl Fn() + Clone + Send + Sync,
    impl Fn() + Clone + Send + Sync,
    impl Fn() + Clone + Send + Sync,
    impl Fn() + Clone + Send + Sync,
>
where
    T: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
    F: Fn(Option<&T>) -> Fut + 'static,
    Fut: Future<Output = Result<T, E>> + 'static,
{
    let data = RwSignal::new(None::<T>);
    let error = RwSignal::new(None::<E>);
    // The counters live in the schedule only; the page reads them through `PollCounters`.
    let schedule = RwSignal::new(PollSchedule::default());
    let is_polling = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    let immediate = options.immediate;
    let wake = StoredValue::new(None::<futures_channel::oneshot::Sender<()>>);
    // The timer of the current wait, if it has one.
    let timer = StoredValue::new(None::<TimeoutHandle>);

    // Wakes the loop out of its wait (a timer, or waiting for the page to become visible), and
    // clears the wait's timer: fired later, it would cut the next wait short.
    let wake_now = move || {
        if let Some(Some(timer)) = timer.try_update_value(Option::take) {
            timer.clear();
        }
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
                    if let Ok(handle) = set_timeout_with_handle(wake_now, delay) {
                        timer.set_value(Some(handle));
                    }
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
                        .try_update(PollSchedule::before_poll)
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
                            let Some(request) =
                                data.try_with_untracked(|last| fetch(last.as_ref()))
                            else {
                                return; // unmounted
                            };
                            let result = request.await;
                            if !current() {
                                return; // stopped, restarted or unmounted: drop the answer
                            }
                            let outcome = match &result {
                                Ok(value) => Outcome::Ok {
                                    done: (options.should_stop)(value),
                                },
                                Err(e) if (options.is_unreachable)(e) => Outcome::Unreachable,
                                Err(_) => Outcome::Failed,
                            };
                            let after = schedule
                                .try_update(|s| {
                                    s.after_poll(
                                        outcome,
                                        untrack(&*options.interval),
                                        options.max_attempts,
                                        js_sys::Math::random(),
                                    )
                                })
                                .unwrap_or(Next::Finish);
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
        schedule.update(PollSchedule::restart);
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
            schedule.update_untracked(PollSchedule::poke);
            wake_now();
        }
    };
    let heard_from_server = move || {
        if is_polling.get_untracked() {
            // Tracked: the page's "reconnecting" reads the error count.
            schedule.update(PollSchedule::heard_from_server);
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
        schedule.update_untracked(|s| s.set_hidden(now_hidden));
        if !now_hidden {
            refetch();
        }
    });
    let online = window_event_listener(leptos::ev::online, move |_| refetch());
    let offline = window_event_listener(leptos::ev::offline, move |_| refetch());
    on_cleanup(move || {
        visibility.remove();
        online.remove();
        offline.remove();
        generation.try_update_value(|g| *g += 1);
        wake_now();
    });

    UsePollingReturn {
        data: data.read_only(),
        error: error.read_only(),
        counters: PollCounters(schedule.read_only()),
        is_polling: is_polling.read_only(),
        start,
        stop,
        refetch,
        heard_from_server,
    }
}
