//! A browser `WebSocket` with its four event handlers, turned into plain Rust values.
//!
//! [`Socket`] opens the connection with `binaryType = "arraybuffer"` (a `Blob` would need a
//! promise to read, which can reorder messages), copies each event's data into a
//! [`SocketEvent`] and hands it to one Rust callback. It owns its closures: they are unhooked
//! and released when the socket is dropped, so a closed connection leaks nothing. The close
//! code and reason are kept as the browser reports them.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use super::error::{js_message, WebError};

/// What a WebSocket reports, as plain Rust values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketEvent {
    /// The connection is open; `protocol` is the subprotocol the server chose (may be empty).
    Open { protocol: String },
    /// One WebSocket message: `binary` tells whether it arrived as a binary frame.
    Message { data: Vec<u8>, binary: bool },
    /// The browser's `error` event. It carries no detail; a `Close` always follows.
    Error,
    /// The connection is closed (or never opened: code 1006).
    Close {
        code: u16,
        reason: String,
        clean: bool,
    },
}

#[wasm_bindgen]
extern "C" {
    /// The browser's `TextEncoder`, used on the JavaScript string as it is.
    #[wasm_bindgen(js_name = TextEncoder)]
    type Utf8Encoder;
    #[wasm_bindgen(constructor, js_class = TextEncoder)]
    fn new() -> Utf8Encoder;
    #[wasm_bindgen(method, js_class = TextEncoder, js_name = encodeInto)]
    fn encode_into(this: &Utf8Encoder, text: &JsValue, into: &js_sys::Uint8Array) -> Progress;
    /// `encodeInto`'s result.
    type Progress;
    #[wasm_bindgen(method, getter)]
    fn read(this: &Progress) -> u32;
    #[wasm_bindgen(method, getter)]
    fn written(this: &Progress) -> u32;
}

/// A text message's UTF-8 bytes. ASCII (what STOMP brokers send, as a rule) is encoded by the
/// browser straight into wasm memory, one native call; other text takes wasm-bindgen's string
/// passing (which copies an ASCII prefix character by character in JavaScript).
fn text_bytes(encoder: &Utf8Encoder, text: &JsValue) -> Vec<u8> {
    let units = js_sys::JsString::from(text.clone()).length();
    let len = usize::try_from(units).unwrap_or(0);
    let mut buf = vec![0u8; len];
    // The address is handed to the browser, which writes there (exposed, mutable provenance).
    #[allow(clippy::as_conversions)]
    let at = u32::try_from(buf.as_mut_ptr() as usize).ok();
    // The view is made after the allocation: growing the memory replaces its buffer.
    let memory = wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>();
    if let Some(at) = at {
        let view = js_sys::Uint8Array::new_with_byte_offset_and_length(&memory.buffer(), at, units);
        let done = encoder.encode_into(text, &view);
        if done.read() == units && done.written() == units {
            return buf;
        }
    }
    text.as_string().map(String::into_bytes).unwrap_or_default()
}

/// Live closures across all sockets, for leak checks in tests.
static LIVE_HANDLERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many socket event closures are alive right now (4 per open socket).
#[must_use]
pub fn live_handlers() -> usize {
    LIVE_HANDLERS.load(std::sync::atomic::Ordering::Relaxed)
}

struct Handlers {
    _open: Closure<dyn FnMut(web_sys::Event)>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _error: Closure<dyn FnMut(web_sys::Event)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
}

/// An open (or opening) browser WebSocket.
pub struct Socket {
    ws: WebSocket,
    handlers: Option<Handlers>,
    closed: Rc<Cell<bool>>,
}

impl Socket {
    /// Opens `url` offering `protocols`; every event goes to `on_event`.
    ///
    /// # Errors
    /// When the browser refuses the URL or protocols (it throws a `SyntaxError`). A refused or
    /// failed connection is not an error here: it arrives as `Error` then `Close` events.
    pub fn open(
        url: &str,
        protocols: &[&str],
        on_event: Rc<dyn Fn(SocketEvent)>,
    ) -> Result<Socket, WebError> {
        let list = js_sys::Array::new();
        for p in protocols {
            list.push(&JsValue::from_str(p));
        }
        let ws = WebSocket::new_with_str_sequence(url, &list)
            .map_err(|e| WebError::Open(js_message(&e)))?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let closed = Rc::new(Cell::new(false));

        let cb = on_event.clone();
        let ws_for_open = ws.clone();
        let open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
            cb(SocketEvent::Open {
                protocol: ws_for_open.protocol(),
            });
        });
        let cb = on_event.clone();
        let encoder = Utf8Encoder::new();
        let message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let data = e.data();
            if data.is_string() {
                cb(SocketEvent::Message {
                    data: text_bytes(&encoder, &data),
                    binary: false,
                });
            } else if let Some(buf) = data.dyn_ref::<js_sys::ArrayBuffer>() {
                cb(SocketEvent::Message {
                    data: js_sys::Uint8Array::new(buf).to_vec(),
                    binary: true,
                });
            }
        });
        let cb = on_event.clone();
        let error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
            cb(SocketEvent::Error);
        });
        let cb = on_event;
        let closed_flag = closed.clone();
        let close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            closed_flag.set(true);
            cb(SocketEvent::Close {
                code: e.code(),
                reason: e.reason(),
                clean: e.was_clean(),
            });
        });
        ws.set_onopen(Some(open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(message.as_ref().unchecked_ref()));
        ws.set_onerror(Some(error.as_ref().unchecked_ref()));
        ws.set_onclose(Some(close.as_ref().unchecked_ref()));
        LIVE_HANDLERS.fetch_add(4, std::sync::atomic::Ordering::Relaxed);
        Ok(Socket {
            ws,
            handlers: Some(Handlers {
                _open: open,
                _message: message,
                _error: error,
                _close: close,
            }),
            closed,
        })
    }

    /// Sends one text message.
    ///
    /// # Errors
    /// When the socket is not open.
    pub fn send_text(&self, text: &str) -> Result<(), WebError> {
        self.ws
            .send_with_str(text)
            .map_err(|e| WebError::Send(js_message(&e)))
    }

    /// Sends one binary message.
    ///
    /// # Errors
    /// When the socket is not open.
    pub fn send_binary(&self, data: &[u8]) -> Result<(), WebError> {
        self.ws
            .send_with_u8_array(data)
            .map_err(|e| WebError::Send(js_message(&e)))
    }

    /// Starts the closing handshake. Errors (an invalid code) fall back to a plain close.
    pub fn close(&self, code: u16, reason: &str) {
        if self.ws.close_with_code_and_reason(code, reason).is_err() {
            let _ = self.ws.close();
        }
    }

    /// Bytes queued by the browser but not yet sent.
    #[must_use]
    pub fn buffered_amount(&self) -> u32 {
        self.ws.buffered_amount()
    }

    /// Whether the close event has been seen.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.closed.get()
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onerror(None);
        self.ws.set_onclose(None);
        if !self.closed.get() {
            let _ = self.ws.close();
        }
        if let Some(h) = self.handlers.take() {
            drop(h);
            LIVE_HANDLERS.fetch_sub(4, std::sync::atomic::Ordering::Relaxed);
        }
    }
}
