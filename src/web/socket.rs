//! A browser `WebSocket` with its four event handlers, turned into plain Rust values.
//!
//! [`Socket`] opens the connection with `binaryType = "arraybuffer"` (a `Blob` would need a
//! promise to read, which can reorder messages) and hands each event to one Rust callback as a
//! [`SocketEvent`]. A message's data is written by one JavaScript call into a receive buffer in
//! wasm memory that is reused from message to message (a string as UTF-8, by the browser's
//! `TextEncoder`); the browser's own value goes along, so a caller can hand parts of it back to
//! JavaScript without copying them out of wasm memory again. It owns its closures: they are unhooked
//! and released when the socket is dropped, so a closed connection leaks nothing. The close
//! code and reason are kept as the browser reports them.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use super::error::{js_message, WebError};
use crate::time::Millis;

/// What a WebSocket reports, as plain Rust values.
pub enum SocketEvent<'a> {
    /// The connection is open; `protocol` is the subprotocol the server chose (may be empty).
    Open { protocol: String },
    /// One WebSocket message: its bytes (a text message's as UTF-8) and whether it arrived as
    /// a binary frame. `source` gives the browser's own data (the string or `ArrayBuffer`),
    /// from which a caller may take parts without another copy; it costs a call into
    /// JavaScript, so it is made only when asked for. Valid only during the callback.
    Message {
        data: &'a [u8],
        binary: bool,
        /// A text message of ASCII characters only (byte offsets are string offsets too).
        ascii: bool,
        source: &'a dyn Fn() -> JsValue,
        /// When it arrived (the event's `timeStamp`, on `performance.now()`'s clock).
        at: Millis,
    },
    /// The browser's `error` event. It carries no detail; a `Close` always follows.
    Error,
    /// The connection is closed (or never opened: code 1006).
    Close {
        code: u16,
        reason: String,
        clean: bool,
    },
}

/// Above this, the receive buffer is given back after a message that used less than a quarter
/// of it: one huge message should not pin its size for the socket's life.
const KEEP: usize = 256 * 1024;

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
        on_event: Rc<dyn Fn(SocketEvent<'_>)>,
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
        let mut rx: Vec<u8> = Vec::new();
        let mut time = [0u8; 8];
        let message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let mut used = 0;
            if let Some((data, how)) = super::memory::receive_into(&mut rx, &mut time, &e) {
                used = data.len();
                cb(SocketEvent::Message {
                    data,
                    binary: how.binary,
                    ascii: how.ascii,
                    source: &|| e.data(),
                    at: super::millis(f64::from_le_bytes(time)),
                });
            }
            // A stream of large messages keeps reusing the buffer; one much smaller message
            // after a huge one gives it back.
            if rx.len() > KEEP && used < rx.len() / 4 {
                rx = Vec::new();
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
