//! `use_server_clock`: the server's clock as the page sees it, leptos-use style (options with
//! defaults, a return struct, a no-op on the server). It is the browser's clock, ticking, plus
//! the offset `server − browser` measured when the server's latest timestamp arrives: leptos-use's
//! `use_timestamp_with_options(offset…)` with the offset kept up to date. A countdown computed
//! from it neither drifts nor stalls in a throttled background tab.
//!
//! On the server, and in the browser until the island runs, it is the server's timestamp itself,
//! so the hydrated page starts from the numbers the server rendered.
use leptos::prelude::*;
use std::time::Duration;

pub struct UseServerClockOptions {
    /// How often the clock ticks.
    pub interval: Duration,
}

impl Default for UseServerClockOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(250),
        }
    }
}

impl UseServerClockOptions {
    pub fn interval(self, interval: Duration) -> Self {
        Self { interval }
    }
}

pub struct UseServerClockReturn {
    /// The server's time now, in milliseconds since the epoch.
    pub now_ms: Memo<i64>,
}

/// [`use_server_clock_with_options`] with the default options.
pub fn use_server_clock(server_now_ms: Memo<i64>) -> UseServerClockReturn {
    use_server_clock_with_options(server_now_ms, UseServerClockOptions::default())
}

/// `server_now_ms`: the server's clock in its latest answer; each new value re-measures the
/// offset. (A `Memo` in and out rather than the `Signal` wrapper: less WASM, issue 21.)
pub fn use_server_clock_with_options(
    server_now_ms: Memo<i64>,
    options: UseServerClockOptions,
) -> UseServerClockReturn {
    // The browser's clock; `None` until the island runs (server rendering, hydration).
    let browser_now_ms = RwSignal::new(None::<i64>);
    // Read only once the browser's clock is known, i.e. in the browser.
    let offset = Memo::new(move |_| server_now_ms.get() - browser_clock_ms());
    #[cfg(feature = "ssr")]
    let _ = options;
    #[cfg(not(feature = "ssr"))]
    Effect::new(move || {
        browser_now_ms.set(Some(browser_clock_ms()));
        let tick = set_interval_with_handle(
            move || {
                browser_now_ms.try_set(Some(browser_clock_ms()));
            },
            options.interval,
        );
        on_cleanup(move || {
            if let Ok(tick) = tick {
                tick.clear();
            }
        });
    });
    let now_ms = Memo::new(move |_| match browser_now_ms.get() {
        Some(browser) => browser + offset.get(),
        None => server_now_ms.get(),
    });
    UseServerClockReturn { now_ms }
}

fn browser_clock_ms() -> i64 {
    js_sys::Date::now() as i64
}
