//! `use_server_events`: listens to a Server-Sent Events stream while `active`, calling
//! `on_event` for each event of `event_name` and each time the stream opens (events sent while
//! it was closed are lost, so the caller re-reads), and keeps `connected` (the caller's signal,
//! so the caller can read it before the hook starts, e.g. to pace its polling) true while the
//! stream is open. A push only shortens the wait: callers re-read the status. EventSource reconnects by
//! itself; a stream that fails for good (404, blocked) just leaves the caller's polling to do the
//! work. A no-op on the server.
use leptos::prelude::*;

pub fn use_server_events(
    url: String,
    event_name: &'static str,
    active: ReadSignal<bool>,
    on_event: impl Fn() + Clone + 'static,
    connected: RwSignal<bool>,
) {
    #[cfg(feature = "ssr")]
    let _ = (url, event_name, active, on_event, connected);
    #[cfg(not(feature = "ssr"))]
    {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        Effect::new(move || {
            if !active.get() {
                return;
            }
            let Ok(source) = web_sys::EventSource::new(&url) else {
                return;
            };
            let on_event = on_event.clone();
            let listener = Closure::<dyn Fn(web_sys::MessageEvent)>::new({
                let on_event = on_event.clone();
                move |_| on_event()
            });
            let on_open = Closure::<dyn Fn()>::new(move || {
                connected.set(true);
                on_event();
            });
            let on_error = Closure::<dyn Fn()>::new(move || connected.set(false));
            let _ = source
                .add_event_listener_with_callback(event_name, listener.as_ref().unchecked_ref());
            source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
            source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            // All must live as long as the stream; the arena handle is what cleanup captures.
            let open = StoredValue::new_local(Some((source, listener, on_open, on_error)));
            on_cleanup(move || {
                if let Some(Some((source, ..))) = open.try_update_value(Option::take) {
                    source.close();
                }
                connected.try_set(false);
            });
        });
    }
}
