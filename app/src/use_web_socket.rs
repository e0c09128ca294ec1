//! `use_web_socket`: `use_server_events`' contract over a WebSocket. While `active`, holds a
//! socket to `path` on this page's host; each message calls `on_event` (the server sends the
//! status on connect and at every change; the caller re-reads it), and `connected` (the caller's
//! signal) is true from the first message until the socket closes. Unlike EventSource, a
//! WebSocket does not reconnect by itself: after any close but the server's normal one (1000:
//! the payment ended) it reconnects after 1 s, doubling to 30 s, back to 1 s once a message
//! arrives. A refused upgrade (a proxy, 503 `streams_full`) is such a close: the caller's polling
//! carries on and nothing is shown. The socket, its handlers and the reconnect timer end when
//! `active` turns false or the component unmounts. A no-op on the server.
use leptos::prelude::*;

pub fn use_web_socket(
    path: String,
    active: ReadSignal<bool>,
    on_event: impl Fn() + Clone + 'static,
    connected: RwSignal<bool>,
) {
    #[cfg(feature = "ssr")]
    let _ = (path, active, on_event, connected);
    #[cfg(not(feature = "ssr"))]
    Effect::new(move || {
        if !active.get() {
            return;
        }
        let location = window().location();
        let scheme = match location.protocol().as_deref() {
            Ok("https:") => "wss",
            _ => "ws",
        };
        let host = location.host().unwrap_or_default();
        let live = client::Live {
            socket: StoredValue::new_local(None),
            retry: StoredValue::new(None),
            delay: StoredValue::new(client::FIRST_RETRY),
            connected,
        };
        client::connect(
            // Not `format!`: core's formatting machinery would come into the WASM with it.
            [scheme, "://", &host, &path].concat().into(),
            live,
            on_event.clone(),
        );
        on_cleanup(move || live.stop());
    });
}

#[cfg(not(feature = "ssr"))]
mod client {
    use leptos::prelude::*;
    use std::rc::Rc;
    use std::time::Duration;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{CloseEvent, MessageEvent, WebSocket};

    /// Milliseconds (a `u64`, like other stored values of the page: less WASM).
    pub const FIRST_RETRY: u64 = 1_000;
    const LAST_RETRY: u64 = 30_000;
    /// The server's close after a terminal state: nothing more to hear.
    const NORMAL_CLOSURE: u16 = 1000;

    /// The socket and its handlers (both `dyn Fn(MessageEvent)`, the signature the event
    /// stream's hook uses already: one closure shim in the WASM for all of them).
    type Open = (
        WebSocket,
        Closure<dyn Fn(MessageEvent)>,
        Closure<dyn Fn(MessageEvent)>,
    );

    /// One activation's socket and reconnect timer (arena handles: `Copy`, and gone with it).
    #[derive(Clone, Copy)]
    pub struct Live {
        pub socket: StoredValue<Option<Open>, LocalStorage>,
        pub retry: StoredValue<Option<TimeoutHandle>>,
        pub delay: StoredValue<u64>,
        pub connected: RwSignal<bool>,
    }

    pub fn connect(url: Rc<str>, live: Live, on_event: impl Fn() + Clone + 'static) {
        let Ok(socket) = WebSocket::new(&url) else {
            return;
        };
        let on_message = Closure::<dyn Fn(MessageEvent)>::new({
            let on_event = on_event.clone();
            move |_| {
                live.delay.try_set_value(FIRST_RETRY);
                live.connected.try_set(true);
                on_event();
            }
        });
        let on_close = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            live.connected.try_set(false);
            let Some(delay) = live.delay.try_get_value() else {
                return;
            };
            if event.unchecked_into::<CloseEvent>().code() == NORMAL_CLOSURE {
                return;
            }
            live.delay.set_value((delay * 2).min(LAST_RETRY));
            let (url, on_event) = (url.clone(), on_event.clone());
            let reconnect = move || connect(url, live, on_event);
            if let Ok(timer) = set_timeout_with_handle(reconnect, Duration::from_millis(delay)) {
                live.retry.set_value(Some(timer));
            }
        });
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // The handlers live as long as their socket (the previous one's are dropped here: it
        // has closed).
        live.socket
            .try_set_value(Some((socket, on_message, on_close)));
    }

    impl Live {
        pub fn stop(self) {
            if let Some(Some(timer)) = self.retry.try_update_value(Option::take) {
                timer.clear();
            }
            if let Some(Some((socket, ..))) = self.socket.try_update_value(Option::take) {
                socket.set_onclose(None);
                socket.set_onmessage(None);
                let _ = socket.close();
            }
            self.connected.try_set(false);
        }
    }
}
