//! The browser layer: the crate's only user of wasm-bindgen, web-sys and js-sys.
//!
//! It owns the `WebSocket` ([`socket`]), the one timer each session needs ([`timer`]) and the
//! JavaScript callbacks, and only moves bytes and events between the browser and a sans-IO core.
//! No protocol logic lives here: every decision about what to send and when is the core's.
//! The JavaScript entry points in `js/` wrap the classes exported here in the public API.

pub mod driver;
pub mod error;
mod memory;
pub mod socket;
pub mod timer;

#[cfg(feature = "stomp")]
mod stomp_client;

#[cfg(feature = "xmpp")]
mod xmpp_client;

use wasm_bindgen::prelude::*;

/// The talk's `if (window.WebSocket)`: true when this global scope can open WebSockets.
#[wasm_bindgen(js_name = isSupported)]
#[must_use]
pub fn is_supported() -> bool {
    js_sys::Reflect::has(&js_sys::global(), &JsValue::from_str("WebSocket")).unwrap_or(false)
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// The current monotonic time for the cores, from `performance.now()`.
#[must_use]
pub fn now() -> crate::time::Millis {
    millis(performance_now())
}

/// A `performance.now()`-style time (milliseconds since the time origin) for the cores.
#[must_use]
pub fn millis(ms: f64) -> crate::time::Millis {
    // A finite, non-negative f64 of milliseconds; the float-to-int cast saturates, never panics.
    #[allow(
        clippy::as_conversions,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let whole = if ms.is_finite() && ms > 0.0 {
        ms as u64
    } else {
        0
    };
    crate::time::Millis(whole)
}

/// `s` split at each `sep`, like `str::split`, but without the standard library's pattern
/// machinery (a few KB of wasm). `sep` must be ASCII, so every piece is valid UTF-8.
pub(crate) struct Fields<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(s: &'a str, sep: u8) -> Fields<'a> {
        Fields { rest: Some(s), sep }
    }

    /// What is left, unsplit (empty once every piece was taken).
    #[cfg(feature = "stomp")]
    pub(crate) fn rest(self) -> &'a str {
        self.rest.unwrap_or("")
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        match s.as_bytes().iter().position(|&b| b == self.sep) {
            Some(i) => {
                self.rest = s.get(i.saturating_add(1)..);
                s.get(..i)
            }
            None => {
                self.rest = None;
                Some(s)
            }
        }
    }
}

/// Calls a client's JavaScript event sink as `emit(kind, ...args)`. An exception thrown by a
/// page handler is swallowed here so it never unwinds through a session.
/// Up to three arguments go by a direct call; more through one array.
pub(crate) fn emit(f: &js_sys::Function, kind: u32, args: &[JsValue]) {
    let k = JsValue::from(kind);
    let this = &JsValue::NULL;
    let _ = match args {
        [] => f.call1(this, &k),
        [a] => f.call2(this, &k, a),
        [a, b] => f.call3(this, &k, a, b),
        _ => {
            let all = js_sys::Array::of1(&k);
            for a in args {
                all.push(a);
            }
            f.apply(this, &all)
        }
    };
}
