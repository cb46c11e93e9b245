//! `StompCore`, the wasm class behind the JavaScript `StompClient` (js/stomp.js).
//!
//! It maps JavaScript arguments onto [`crate::stomp::Session`] commands and the session's
//! events onto one JavaScript `emit(kind, …)` callback; js/stomp.js turns those into the
//! page's `onopen`/`onmessage`/`onreconnecting`/… handlers and Promises. The session decides
//! everything about the protocol, reconnection included; this file only converts values (and
//! supplies the jitter seed, from `Math.random`).

use std::rc::Rc;

use js_sys::{Array, Function, Uint8Array};
use wasm_bindgen::prelude::*;

use super::driver::{DebugHook, Driver, Protocol, Wire};
use super::emit;
use crate::stomp::{
    redact, AckMode, AckToken, ConnectOptions, Event, Limits, OpId, Session, Transmit, Version,
};
use crate::time::Millis;

impl Protocol for Session {
    type Event = Event;
    fn handle_open(&mut self, now: Millis, protocol: &str) {
        Session::handle_open(self, now, protocol);
    }
    fn handle_data(&mut self, now: Millis, data: &[u8]) {
        Session::handle_data(self, now, data);
    }
    fn handle_close(&mut self, now: Millis, code: u16, reason: &str, clean: bool) {
        Session::handle_close(self, now, code, reason, clean);
    }
    fn handle_timeout(&mut self, now: Millis) {
        Session::handle_timeout(self, now);
    }
    fn poll_wire(&mut self) -> Option<Wire> {
        Some(match self.poll_transmit()? {
            Transmit::Frame { data, text } => Wire::Frame { data, text },
            Transmit::Close { code, reason } => Wire::Close { code, reason },
            Transmit::Open { url } => Wire::Open {
                url,
                protocols: self.subprotocols(),
            },
        })
    }
    fn handle_open_failed(&mut self, now: Millis, reason: &str) {
        Session::handle_open_failed(self, now, reason);
    }
    fn handle_network(&mut self, now: Millis, online: bool) {
        Session::handle_network(self, now, online);
    }
    fn handle_visibility(&mut self, now: Millis, visible: bool) {
        Session::handle_visibility(self, now, visible);
    }
    fn poll_event(&mut self) -> Option<Event> {
        Session::poll_event(self)
    }
    fn poll_timeout(&self) -> Option<Millis> {
        Session::poll_timeout(self)
    }
}

// Event kinds passed to `emit` (mirrored in js/stomp.js).
const EV_OPEN: u32 = 1;
const EV_MESSAGE: u32 = 2;
const EV_RECEIPT: u32 = 3;
const EV_COMPLETED: u32 = 4;
const EV_FAILED: u32 = 5;
const EV_SERVER_ERROR: u32 = 6;
const EV_PROTOCOL_ERROR: u32 = 7;
const EV_CLOSE: u32 = 8;
const EV_DEBUG: u32 = 9;
const EV_RECONNECTING: u32 = 10;

/// Failure reason for commands issued before `connect`.
const NOT_CONNECTED: &str = "connect() has not been called";

fn flat(headers: &[(String, String)]) -> Array {
    let out = Array::new_with_length(u32::try_from(headers.len() * 2).unwrap_or(0));
    let mut i = 0u32;
    for (k, v) in headers {
        out.set(i, JsValue::from_str(k));
        out.set(i + 1, JsValue::from_str(v));
        i += 2;
    }
    out
}

fn pairs(flat: &[String]) -> Vec<(&str, &str)> {
    flat.chunks_exact(2)
        .filter_map(|kv| match kv {
            [k, v] => Some((k.as_str(), v.as_str())),
            _ => None,
        })
        .collect()
}

thread_local! {
    static LIVE_CORES: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

/// `StompCore` objects alive (not yet freed by the JavaScript side), for leak tests.
pub(crate) fn live_cores() -> usize {
    LIVE_CORES.with(core::cell::Cell::get)
}

/// The wasm side of one `StompClient`.
#[wasm_bindgen]
pub struct StompCore {
    emit: Function,
    driver: Option<Driver<Session>>,
    /// Ops that failed before any session existed, reported on the next `connect`.
    next_orphan: u32,
}

#[wasm_bindgen]
impl StompCore {
    /// `emit(kind, ...args)` receives every event.
    #[wasm_bindgen(constructor)]
    #[must_use]
    pub fn new(emit: Function) -> StompCore {
        LIVE_CORES.with(|c| c.set(c.get().saturating_add(1)));
        StompCore {
            emit,
            driver: None,
            next_orphan: u32::MAX,
        }
    }

    /// Connects to the first of `urls` and sends CONNECT; reconnects (rotating through
    /// `urls`) unless `reconnect` is false. Options mirror `StompConnectOptions`; `None` keeps
    /// the core's default. `headers` is a flat `[name, value, …]` list; `versions` e.g.
    /// "1.1,1.2".
    #[allow(clippy::too_many_arguments)]
    pub fn connect(
        &mut self,
        urls: Vec<String>,
        login: Option<String>,
        passcode: Option<String>,
        host: Option<String>,
        headers: Vec<String>,
        versions: Option<String>,
        heartbeat_outgoing: Option<u32>,
        heartbeat_incoming: Option<u32>,
        connect_timeout: Option<u32>,
        max_outbox: Option<u32>,
        max_frame_size: Option<u32>,
        reconnect: bool,
        reconnect_delay: Option<u32>,
        max_reconnect_delay: Option<u32>,
        max_reconnect_attempts: Option<u32>,
        debug: bool,
    ) {
        let mut opts = ConnectOptions {
            login,
            passcode,
            host,
            headers: pairs(&headers)
                .into_iter()
                .map(|(k, v)| (String::from(k), String::from(v)))
                .collect(),
            ..ConnectOptions::default()
        };
        if let Some(list) = versions {
            opts.accept_versions = list
                .split(',')
                .filter_map(|v| Version::parse(v.trim().as_bytes()))
                .collect();
        }
        if let Some(v) = heartbeat_outgoing {
            opts.heartbeat_outgoing_ms = v;
        }
        if let Some(v) = heartbeat_incoming {
            opts.heartbeat_incoming_ms = v;
        }
        if let Some(v) = connect_timeout {
            opts.connect_timeout_ms = v;
        }
        if let Some(v) = max_outbox {
            opts.max_outbox = usize::try_from(v).unwrap_or(usize::MAX);
        }
        if let Some(v) = max_frame_size {
            opts.limits = Limits {
                max_frame_len: usize::try_from(v).unwrap_or(usize::MAX),
                ..Limits::default()
            };
        }
        opts.urls = urls;
        opts.reconnect.enabled = reconnect;
        if let Some(v) = reconnect_delay {
            opts.reconnect.initial_delay_ms = v;
        }
        if let Some(v) = max_reconnect_delay {
            opts.reconnect.max_delay_ms = v;
        }
        if let Some(v) = max_reconnect_attempts {
            opts.reconnect.max_attempts = v;
        }
        opts.seed = random_seed();
        // A new connect replaces any earlier session: what it still had pending fails, and
        // dropping its driver closes its socket and stops its retries.
        if let Some(old) = self.driver.take() {
            old.with(|s| s.abandon(super::now()));
        }
        let session = Session::new(opts);
        let emit_fn = self.emit.clone();
        let hook: Option<DebugHook> = if debug {
            let f = self.emit.clone();
            Some(Rc::new(move |out: bool, data: &[u8]| {
                let dir = if out { "out" } else { "in" };
                emit(&f, EV_DEBUG, &[dir.into(), redact(data).into()]);
            }))
        } else {
            None
        };
        let driver = Driver::new(
            session,
            Rc::new(move |d: &Driver<Session>, e: Event| dispatch(&emit_fn, d, e)),
            hook,
        );
        self.driver = Some(driver.clone());
        driver.with(|s| s.connect(super::now()));
    }

    /// Whether no session is running (never connected, or closed for good): the JavaScript
    /// side may then free this object.
    #[must_use]
    pub fn finished(&self) -> bool {
        self.driver
            .as_ref()
            .map_or(true, |d| d.peek(Session::is_closed))
    }

    fn run(&mut self, f: impl FnOnce(&mut Session) -> OpId) -> u32 {
        match &self.driver {
            Some(d) => d.with(f).0,
            None => {
                let op = self.next_orphan;
                self.next_orphan = self.next_orphan.wrapping_sub(1);
                emit(
                    &self.emit,
                    EV_FAILED,
                    &[op.into(), JsValue::from_str(NOT_CONNECTED)],
                );
                op
            }
        }
    }

    /// SEND with a text body (as UTF-8); returns the op id. `tx` sends inside a transaction.
    #[wasm_bindgen(js_name = sendText)]
    pub fn send_text(
        &mut self,
        destination: &str,
        body: &str,
        headers: Vec<String>,
        receipt: bool,
        tx: Option<String>,
    ) -> u32 {
        self.send_bytes(destination, body.as_bytes(), headers, receipt, tx)
    }

    /// SEND with a binary body; returns the op id.
    #[wasm_bindgen(js_name = sendBytes)]
    pub fn send_bytes(
        &mut self,
        destination: &str,
        body: &[u8],
        headers: Vec<String>,
        receipt: bool,
        tx: Option<String>,
    ) -> u32 {
        let h = pairs(&headers);
        self.run(|s| match &tx {
            Some(tx) => s.send_in(tx, destination, &h, body, receipt),
            None => s.send(destination, &h, body, receipt),
        })
    }

    /// SUBSCRIBE under `id` (or a generated one); returns `[subscriptionId, op]` (the id of
    /// a restored subscription when this repeats one in the reconnect handler). `ack` is
    /// "auto", "client" or "client-individual" (anything else: auto).
    pub fn subscribe(
        &mut self,
        id: Option<String>,
        destination: &str,
        ack: &str,
        headers: Vec<String>,
        receipt: bool,
    ) -> Array {
        let mode = match ack {
            "client" => AckMode::Client,
            "client-individual" => AckMode::ClientIndividual,
            _ => AckMode::Auto,
        };
        let h = pairs(&headers);
        let mut used = id.clone().unwrap_or_default();
        let op = self.run(|s| {
            let (sub, op) = match &id {
                Some(id) => s.subscribe_with_id(id, destination, mode, &h, receipt),
                None => s.subscribe(destination, mode, &h, receipt),
            };
            used = sub;
            op
        });
        Array::of2(&JsValue::from_str(&used), &JsValue::from(op))
    }

    /// UNSUBSCRIBE; returns the op id.
    pub fn unsubscribe(&mut self, id: &str, receipt: bool) -> u32 {
        self.run(|s| s.unsubscribe(id, receipt))
    }

    /// ACK (or NACK when `nack`) the message named by its `message-id`, `subscription` and
    /// `ack` headers, received on connection number `connection`; returns the op id.
    #[allow(clippy::too_many_arguments)]
    pub fn ack(
        &mut self,
        message_id: String,
        subscription: String,
        ack: Option<String>,
        connection: u32,
        tx: Option<String>,
        receipt: bool,
        nack: bool,
    ) -> u32 {
        let token = AckToken {
            message_id,
            subscription,
            ack,
            connection,
        };
        self.run(|s| {
            if nack {
                s.nack(&token, tx.as_deref(), receipt)
            } else {
                s.ack(&token, tx.as_deref(), receipt)
            }
        })
    }

    /// BEGIN transaction `id` (named by the JS layer); returns the op id.
    pub fn begin(&mut self, id: &str, receipt: bool) -> u32 {
        self.run(|s| s.begin_with_id(id, receipt))
    }

    /// COMMIT (or ABORT when `abort`); returns the op id.
    pub fn end(&mut self, tx: &str, abort: bool, receipt: bool) -> u32 {
        self.run(|s| {
            if abort {
                s.abort(tx, receipt)
            } else {
                s.commit(tx, receipt)
            }
        })
    }

    /// DISCONNECT; returns the op id (completed by the receipt or the server's close).
    pub fn disconnect(&mut self) -> u32 {
        self.run(|s| s.disconnect(super::now()))
    }

    /// The negotiated version ("1.2"…), or undefined before CONNECTED.
    #[must_use]
    pub fn version(&self) -> Option<String> {
        let d = self.driver.as_ref()?;
        d.peek(|s| s.version().map(|v| String::from(v.as_str())))
    }

    /// Whether the session is between CONNECTED and its close.
    #[must_use]
    pub fn connected(&self) -> bool {
        self.driver
            .as_ref()
            .is_some_and(|d| d.peek(Session::is_connected))
    }
}

impl Drop for StompCore {
    fn drop(&mut self) {
        LIVE_CORES.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

fn dispatch(f: &Function, driver: &Driver<Session>, event: Event) {
    match event {
        Event::Connected {
            version,
            headers,
            reconnected,
        } => {
            emit(
                f,
                EV_OPEN,
                &[
                    flat(&headers).into(),
                    JsValue::from_str(version.as_str()),
                    reconnected.into(),
                ],
            );
            // The page's onopen has run: now what was queued before it goes out.
            driver.with(Session::flush_queued);
        }
        Event::Message {
            subscription,
            headers,
            body,
            ack,
        } => {
            let token = match ack {
                Some(t) => Array::of4(
                    &JsValue::from_str(&t.message_id),
                    &JsValue::from_str(&t.subscription),
                    &t.ack.as_deref().map_or(JsValue::NULL, JsValue::from_str),
                    &JsValue::from(t.connection),
                )
                .into(),
                None => JsValue::NULL,
            };
            emit(
                f,
                EV_MESSAGE,
                &[
                    JsValue::from_str(&subscription),
                    flat(&headers).into(),
                    Uint8Array::from(body.as_slice()).into(),
                    token,
                ],
            );
        }
        Event::Receipt { headers, .. } => emit(f, EV_RECEIPT, &[flat(&headers).into()]),
        Event::Completed { op } => emit(f, EV_COMPLETED, &[op.0.into()]),
        Event::Failed { op, reason } => {
            emit(f, EV_FAILED, &[op.0.into(), JsValue::from_str(reason)]);
        }
        Event::ServerError { headers, body } => emit(
            f,
            EV_SERVER_ERROR,
            &[
                flat(&headers).into(),
                Uint8Array::from(body.as_slice()).into(),
            ],
        ),
        Event::ProtocolError { error } => {
            emit(f, EV_PROTOCOL_ERROR, &[JsValue::from_str(error.as_str())]);
        }
        Event::Reconnecting {
            attempt,
            delay_ms,
            url,
            code,
            reason,
            clean,
        } => {
            let delay = delay_ms.map_or(JsValue::NULL, |d| {
                JsValue::from(u32::try_from(d).unwrap_or(u32::MAX))
            });
            let info = js_sys::Object::new();
            for (k, v) in [
                ("attempt", JsValue::from(attempt)),
                ("delay", delay),
                ("url", JsValue::from_str(&url)),
                ("code", JsValue::from(code)),
                ("reason", JsValue::from_str(&reason)),
                ("wasClean", JsValue::from(clean)),
            ] {
                let _ = js_sys::Reflect::set(&info, &JsValue::from_str(k), &v);
            }
            emit(f, EV_RECONNECTING, &[info.into()]);
        }
        Event::Closed {
            code,
            reason,
            clean,
        } => emit(
            f,
            EV_CLOSE,
            &[code.into(), JsValue::from_str(&reason), clean.into()],
        ),
    }
}

/// A seed for the reconnect jitter (spreading clients out needs no cryptographic quality).
fn random_seed() -> u64 {
    let hi = js_sys::Math::random() * 4_294_967_296.0;
    let lo = js_sys::Math::random() * 4_294_967_296.0;
    // Both in [0, 2^32): the float-to-int conversion saturates and never panics.
    #[allow(
        clippy::as_conversions,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let (hi, lo) = (hi as u64, lo as u64);
    (hi << 32) ^ lo
}
