//! Errors of the browser layer: every failing web-sys call is mapped into [`WebError`].
//!
//! JavaScript exceptions arrive as opaque `JsValue`s; we keep a readable message (the
//! exception's `message` or its string form) and never unwrap one.

use wasm_bindgen::{JsCast, JsValue};

/// A failure reported by the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebError {
    /// `new WebSocket(url, protocols)` threw (bad URL, bad scheme, blocked port…).
    Open(String),
    /// `WebSocket.send` threw (the socket is not open).
    Send(String),
    /// A timer could not be set.
    Timer(String),
}

impl WebError {
    /// The human-readable text of the error.
    #[must_use]
    pub fn message(&self) -> &str {
        match self {
            WebError::Open(m) | WebError::Send(m) | WebError::Timer(m) => m,
        }
    }
}

/// The message carried by a thrown JavaScript value.
#[must_use]
pub fn js_message(value: &JsValue) -> String {
    if let Some(err) = value.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    value
        .as_string()
        .unwrap_or_else(|| String::from("unknown JavaScript error"))
}
