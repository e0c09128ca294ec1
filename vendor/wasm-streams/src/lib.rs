//! `wasm_streams::ReadableStream` as server_fn's browser client uses it (a streaming request
//! body, a streaming response), and nothing else. The real crate exports its Rust-backed
//! stream sources and sinks to JavaScript (`#[wasm_bindgen]` classes): exports stay in every
//! WASM that links the crate, used or not, and server_fn's browser client (always compiled with
//! Leptos's `hydrate`) links it, although this project's pages call no server function from the
//! browser (`app/src/browser_api.rs`). These are plain closures instead: code only where called.
use futures_util::stream::{self, Stream, StreamExt};
use js_sys::{Object, Promise, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{ReadableStreamDefaultController, ReadableStreamDefaultReader};

/// A web `ReadableStream`, made from or read as a Rust [`Stream`] of raw `JsValue`s.
pub struct ReadableStream {
    raw: web_sys::ReadableStream,
}

impl ReadableStream {
    pub fn from_raw(raw: web_sys::ReadableStream) -> Self {
        Self { raw }
    }

    pub fn into_raw(self) -> web_sys::ReadableStream {
        self.raw
    }

    /// A web stream pulling from `stream`: one item per `pull`, so nothing is buffered.
    pub fn from_stream<St>(stream: St) -> Self
    where
        St: Stream<Item = Result<JsValue, JsValue>> + 'static,
    {
        let stream = Rc::new(RefCell::new(stream.boxed_local()));
        let pull = Closure::<dyn FnMut(ReadableStreamDefaultController) -> Promise>::new(
            move |controller: ReadableStreamDefaultController| {
                let stream = stream.clone();
                future_to_promise(async move {
                    let next = stream::poll_fn(|cx| stream.borrow_mut().poll_next_unpin(cx));
                    match StreamExt::into_future(next).await.0 {
                        Some(chunk) => controller.enqueue_with_chunk(&chunk?)?,
                        None => controller.close()?,
                    }
                    Ok(JsValue::UNDEFINED)
                })
            },
        );
        let source = Object::new();
        let _ = Reflect::set(&source, &"pull".into(), pull.as_ref());
        // The source's `pull` lives as long as the web stream, which JavaScript owns.
        pull.forget();
        match web_sys::ReadableStream::new_with_underlying_source(&source) {
            Ok(raw) => Self { raw },
            Err(error) => wasm_bindgen::throw_val(error),
        }
    }

    /// The stream's chunks until it closes; an error ends it after being yielded.
    pub fn into_stream(self) -> impl Stream<Item = Result<JsValue, JsValue>> + 'static {
        let reader: ReadableStreamDefaultReader = self.raw.get_reader().unchecked_into();
        stream::unfold(Some(reader), |reader| async move {
            let reader = reader?;
            match JsFuture::from(reader.read()).await {
                Ok(result) => {
                    let done = Reflect::get(&result, &"done".into()).ok()?;
                    if done.as_bool() != Some(false) {
                        return None;
                    }
                    let chunk = Reflect::get(&result, &"value".into()).unwrap_or_default();
                    Some((Ok(chunk), Some(reader)))
                }
                Err(error) => Some((Err(error), None)),
            }
        })
    }
}
