//! fullduplex: STOMP and XMPP clients for web pages, over one browser WebSocket.
//!
//! The crate has two layers. The protocol cores ([`stomp`], [`xmpp`]) are sans-IO: they take
//! bytes, commands and the current time ([`time::Millis`]) in, and hand frames to send, events
//! and timer deadlines out. They never touch a socket or read a clock, so they build and are
//! tested natively with plain `cargo test`. The browser layer (`web`, compiled only for
//! `wasm32`) owns the `WebSocket`, the timers and the JavaScript callbacks, and only moves bytes
//! and events between the browser and a core.

pub mod reconnect;
pub mod text;
pub mod time;

#[cfg(feature = "stomp")]
pub mod stomp;

#[cfg(feature = "xmpp")]
pub mod xmpp;

#[cfg(target_arch = "wasm32")]
pub mod web;
