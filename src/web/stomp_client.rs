//! `StompCore`, the wasm class behind the JavaScript `StompClient` (js/stomp.js).
//!
//! It maps JavaScript arguments onto [`crate::stomp::Session`] commands and the session's
//! events onto one JavaScript `emit(kind, …)` callback; js/stomp.js turns those into the
//! page's `onopen`/`onmessage`/`onreconnecting`/… handlers and Promises. The session decides
//! everything about the protocol, reconnection included; this file only converts values (and
//! supplies the jitter seed, from `Math.random`). On the receive path it takes MESSAGEs from
//! the session as they are decoded (borrowed, `Session::handle_data_with`) and packs those of
//! one WebSocket message into one batch for JavaScript, bodies given as parts of the message
//! itself where they can be (the layout is described below).

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Uint8Array};
use wasm_bindgen::prelude::*;

use super::driver::{DebugHook, Driver, Incoming, Protocol, Wire};
use super::{emit, Fields};
use crate::stomp::{
    redact, AckMode, AckRef, AckToken, ConnectOptions, Event, Limits, MessageRef, OpId, Session,
    Transmit, Version,
};
use crate::text::lossy;
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
const EV_MESSAGES: u32 = 2;
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
/// Failure reason for an ACK whose message token is not one this module made.
const BAD_TOKEN: &str = "this message cannot be acknowledged";

/// Option flags of `connect` (bit set: the option is given / on).
const F_LOGIN: u32 = 1;
const F_PASSCODE: u32 = 2;
const F_HOST: u32 = 4;
const F_VERSIONS: u32 = 8;
const F_RECONNECT: u32 = 16;
const F_DEBUG: u32 = 32;
/// In `connect`'s number list: keep the core's default.
const DEFAULT: u32 = u32::MAX;

// The binary formats handed to js/stomp.js. All numbers are u32 little-endian; "text" lengths
// count UTF-16 code units, so JavaScript slices one decoded string without re-measuring.
//
// Headers block: `n`, then `n` pairs of text lengths (name, value), then (headers events
// only) the names and values as UTF-8, back to back.
//
// MESSAGE batch: records, then the text of all records (subscription id, header names and
// values, bodies of text frames, in record order) as UTF-8, then the byte length of the
// records part, then 1 if JavaScript must start its table of header names afresh (the first
// batch of an inbox), else 0. A record is: text length of the subscription id, a headers
// block without its text, the body, the token length and the ACK token (0: none). In a
// record's headers block a name field is either a text length, or `NAME_KNOWN | i` for the
// `i`-th name that was sent as text: both sides number the first `MAX_NAMES` distinct names
// in the order they were sent, so the usual few are decoded and made strings once, not per
// frame (JavaScript objects then also share one shape). The body is one of:
// - `BODY_IN_SOURCE`, start, length: a part of the WebSocket message's own data, handed over
//   with the batch: UTF-16 units of the string (a text message), or bytes of the
//   `ArrayBuffer` (a binary one, given to the page as a view: no copy at all);
// - `BODY_BYTES`, byte length, bytes: a binary frame's body that came in several messages;
// - else a text frame's body that came in several messages: its text length, the text being
//   in the text part.
// One batch holds every MESSAGE of one WebSocket message and is handed over as a view of wasm
// memory: JavaScript makes one call and one text decode (of the subscription ids and headers)
// for all of them. `binaryBody` of a text body encodes it back if the page reads it; `body` of
// a binary one decodes it if the page asks.
//
// ACK token (opaque to JavaScript, handed back to `ack`): connection, then length-prefixed
// `message-id`, `subscription` and, when present, `ack`.

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u32(out, b.len());
    out.extend_from_slice(b);
}

fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().map(char::len_utf16).sum()
    }
}

/// A body given as a part of the WebSocket message's own data (see the layout above).
const BODY_IN_SOURCE: u32 = u32::MAX - 1;
/// A body given as bytes in the record.
const BODY_BYTES: u32 = u32::MAX;

/// UTF-16 units of UTF-8 `b` that is known to be valid (it was encoded from a string).
fn units(b: &[u8]) -> usize {
    if b.is_ascii() {
        return b.len();
    }
    // One unit per character, two for those of four bytes (a surrogate pair).
    b.iter()
        .map(|&c| usize::from(c & 0xC0 != 0x80) + usize::from(c >= 0xF0))
        .sum()
}

/// Bytes as text: borrowed when valid UTF-8, else with U+FFFD for what is not.
fn text_of(b: &[u8]) -> Cow<'_, str> {
    match core::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(lossy(b)),
    }
}

/// A headers block's counts into `out`, its text into `text`.
fn put_headers<'a>(
    out: &mut Vec<u8>,
    text: &mut Vec<u8>,
    headers: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])>,
) {
    put_u32(out, headers.len());
    for (k, v) in headers {
        for part in [text_of(k), text_of(v)] {
            put_u32(out, utf16_len(&part));
            text.extend_from_slice(part.as_bytes());
        }
    }
}

fn pair_bytes(headers: &[(String, String)]) -> impl ExactSizeIterator<Item = (&[u8], &[u8])> {
    headers.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes()))
}

/// A headers block with its text, as one `Uint8Array`.
fn headers_blob(headers: &[(String, String)]) -> JsValue {
    let mut out = Vec::new();
    let mut text = Vec::new();
    put_headers(&mut out, &mut text, pair_bytes(headers));
    out.extend_from_slice(&text);
    Uint8Array::from(out.as_slice()).into()
}

/// MESSAGE frames waiting to go to JavaScript as one batch.
#[derive(Default)]
struct Inbox {
    records: Vec<u8>,
    text: Vec<u8>,
    /// The WebSocket message that `BODY_IN_SOURCE` bodies are parts of.
    source: Option<JsValue>,
    /// Whether bodies may be given as parts of the current message: only while every record
    /// in the batch comes from it.
    in_source: bool,
    /// In a text message: a byte offset into its UTF-8 and the UTF-16 units before it, so
    /// each body is located by reading on from the last one, not from the start.
    cursor: (usize, usize),
    /// Header names sent so far, by number (see the layout).
    names: Vec<Vec<u8>>,
    /// Whether a batch has told JavaScript to start its table of names afresh.
    names_told: bool,
}

/// A header name field with this bit set is the number of a name sent before.
const NAME_KNOWN: usize = 0x8000_0000;
/// How many header names are remembered (js/stomp.js keeps the same number).
const MAX_NAMES: usize = 64;

/// Above this, a buffer is shrunk once its batch is delivered: one huge frame should not pin
/// its size for the session's life.
const KEEP: usize = 256 * 1024;

impl Inbox {
    /// A WebSocket message is about to be decoded.
    fn begin(&mut self) {
        self.in_source = self.records.is_empty();
        self.source = None;
        self.cursor = (0, 0);
    }

    /// A MESSAGE handed out by the session as it was decoded from `input`.
    fn push_ref(&mut self, m: &MessageRef<'_>, input: &Incoming<'_>) {
        let body = m.body();
        let at = m.body_in_input().filter(|_| self.in_source);
        let place = at.map(|at| {
            if input.binary {
                (at, body.len())
            } else {
                let (from, before) = self.cursor;
                let skipped = input.data.get(from..at).map_or(0, units);
                let start = before.saturating_add(skipped);
                let n = units(body);
                self.cursor = (at.saturating_add(body.len()), start.saturating_add(n));
                (start, n)
            }
        });
        if place.is_some() && self.source.is_none() {
            self.source = Some((input.source)());
        }
        self.write(
            &text_of(m.subscription()),
            m.headers(),
            Body {
                bytes: body,
                binary: input.binary,
                place,
            },
            m.ack(),
        );
    }

    /// A MESSAGE the session queued as an event (it came after another event).
    fn push(
        &mut self,
        subscription: &str,
        headers: &[(String, String)],
        body: &[u8],
        binary: bool,
        ack: Option<AckToken>,
    ) {
        self.write(
            subscription,
            pair_bytes(headers),
            Body {
                bytes: body,
                binary,
                place: None,
            },
            ack.as_ref().map(AckToken::as_ref),
        );
    }

    fn write<'a>(
        &mut self,
        subscription: &str,
        headers: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])>,
        body: Body<'_>,
        ack: Option<AckRef<'_>>,
    ) {
        let out = &mut self.records;
        put_u32(out, utf16_len(subscription));
        self.text.extend_from_slice(subscription.as_bytes());
        put_u32(out, headers.len());
        for (k, v) in headers {
            // Names are compared as they came (a known name is not even validated again).
            match self.names.iter().position(|n| n.as_slice() == k) {
                Some(i) => put_u32(out, i | NAME_KNOWN),
                None => {
                    let name = text_of(k);
                    put_u32(out, utf16_len(&name));
                    self.text.extend_from_slice(name.as_bytes());
                    if self.names.len() < MAX_NAMES {
                        self.names.push(k.to_vec());
                    }
                }
            }
            let v = text_of(v);
            put_u32(out, utf16_len(&v));
            self.text.extend_from_slice(v.as_bytes());
        }
        if let Some((start, len)) = body.place {
            put_u32(out, usize::try_from(BODY_IN_SOURCE).unwrap_or(0));
            put_u32(out, start);
            put_u32(out, len);
        } else {
            // A binary frame's body is not validated as UTF-8 at all (that would read it
            // again); neither is one given as a part of the message (the page gets it as it
            // came: a string's part is text, an ArrayBuffer's part bytes).
            let text = if body.binary {
                None
            } else {
                core::str::from_utf8(body.bytes).ok()
            };
            match text {
                Some(s) => {
                    put_u32(out, utf16_len(s));
                    self.text.extend_from_slice(body.bytes);
                }
                None => {
                    out.extend_from_slice(&BODY_BYTES.to_le_bytes());
                    put_bytes(out, body.bytes);
                }
            }
        }
        let at = out.len();
        put_u32(out, 0);
        if let Some(t) = ack {
            put_u32(out, usize::try_from(t.connection).unwrap_or(0));
            put_bytes(out, t.message_id);
            put_bytes(out, t.subscription);
            if let Some(a) = t.ack {
                put_bytes(out, a);
            }
            let len = u32::try_from(out.len().saturating_sub(at).saturating_sub(4))
                .unwrap_or(0)
                .to_le_bytes();
            if let Some(slot) = out.get_mut(at..at.saturating_add(4)) {
                slot.copy_from_slice(&len);
            }
        }
    }

    /// The batch and the message its bodies are parts of, emptying the inbox; `None` when it
    /// is empty.
    fn take(&mut self) -> Option<(Vec<u8>, Option<JsValue>)> {
        if self.records.is_empty() {
            return None;
        }
        let split = self.records.len();
        self.records.extend_from_slice(&self.text);
        put_u32(&mut self.records, split);
        put_u32(&mut self.records, usize::from(!self.names_told));
        self.names_told = true;
        self.text.clear();
        if self.text.capacity() > KEEP {
            self.text.shrink_to(KEEP / 16);
        }
        Some((core::mem::take(&mut self.records), self.source.take()))
    }

    /// Takes a delivered batch's buffer back for reuse.
    fn give_back(&mut self, mut batch: Vec<u8>) {
        if self.records.capacity() == 0 {
            batch.clear();
            if batch.capacity() > KEEP {
                batch.shrink_to(KEEP / 16);
            }
            self.records = batch;
        }
    }
}

/// A MESSAGE body for [`Inbox::write`]: its bytes, whether its frame came in a binary
/// message, and where it is in that message's own data (start and length) when it may be
/// given from there.
struct Body<'a> {
    bytes: &'a [u8],
    binary: bool,
    place: Option<(usize, usize)>,
}

fn flush(f: &Function, inbox: &RefCell<Inbox>) {
    // Taken out before the call: a page handler may call back in and receive more.
    let batch = inbox.borrow_mut().take();
    if let Some((batch, source)) = batch {
        super::memory::call_with_view(
            f,
            EV_MESSAGES,
            &batch,
            &source.unwrap_or(JsValue::UNDEFINED),
        );
        inbox.borrow_mut().give_back(batch);
    }
}

/// Reads an ACK token made by [`Inbox::push`].
fn read_token(mut b: &[u8]) -> Option<AckToken> {
    fn u32_le(b: &mut &[u8]) -> Option<u32> {
        let (head, rest) = b.split_first_chunk::<4>()?;
        *b = rest;
        Some(u32::from_le_bytes(*head))
    }
    fn string(b: &mut &[u8]) -> Option<String> {
        let n = usize::try_from(u32_le(b)?).ok()?;
        let (head, rest) = b.split_at_checked(n)?;
        *b = rest;
        String::from_utf8(head.to_vec()).ok()
    }
    let connection = u32_le(&mut b)?;
    let message_id = string(&mut b)?;
    let subscription = string(&mut b)?;
    let ack = if b.is_empty() {
        None
    } else {
        Some(string(&mut b)?)
    };
    Some(AckToken {
        message_id,
        subscription,
        ack,
        connection,
    })
}

/// `"k\0v\0k\0v"` → pairs (a NUL cannot be in a STOMP header anyway).
fn pairs(flat: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    if flat.is_empty() {
        return out;
    }
    let mut it = Fields::new(flat, 0);
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    out
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

    /// Connects to the first of `urls` (newline-separated) and sends CONNECT; reconnects
    /// (rotating through them) unless the reconnect flag is off. `text` holds login,
    /// passcode, host and versions (e.g. "1.1,1.2"), then the extra CONNECT headers as name,
    /// value pairs, all NUL-separated; `flags` says which of the first four are given (`F_*`).
    /// `nums`: heart-beat outgoing and incoming, connect timeout, max outbox, max frame size,
    /// reconnect delay, max reconnect delay, max reconnect attempts; `u32::MAX` keeps the
    /// default.
    pub fn connect(&mut self, urls: &str, text: &str, nums: &[u32], flags: u32) {
        let mut fields = Fields::new(text, 0);
        let mut field = |bit: u32| {
            let v = fields.next().unwrap_or_default();
            (flags & bit != 0).then(|| String::from(v))
        };
        let login = field(F_LOGIN);
        let passcode = field(F_PASSCODE);
        let host = field(F_HOST);
        let versions = field(F_VERSIONS);
        let headers = fields.rest();
        let mut opts = ConnectOptions {
            login,
            passcode,
            host,
            headers: pairs(headers)
                .into_iter()
                .map(|(k, v)| (String::from(k), String::from(v)))
                .collect(),
            ..ConnectOptions::default()
        };
        if let Some(list) = versions {
            opts.accept_versions = Fields::new(&list, b',')
                .filter_map(|v| Version::parse(v.trim_ascii().as_bytes()))
                .collect();
        }
        let num = |i: usize| nums.get(i).copied().filter(|v| *v != DEFAULT);
        let size = |v: u32| usize::try_from(v).unwrap_or(usize::MAX);
        if let Some(v) = num(0) {
            opts.heartbeat_outgoing_ms = v;
        }
        if let Some(v) = num(1) {
            opts.heartbeat_incoming_ms = v;
        }
        if let Some(v) = num(2) {
            opts.connect_timeout_ms = v;
        }
        if let Some(v) = num(3) {
            opts.max_outbox = size(v);
        }
        if let Some(v) = num(4) {
            opts.limits = Limits {
                max_frame_len: size(v),
                ..Limits::default()
            };
        }
        opts.urls = Fields::new(urls, b'\n').map(String::from).collect();
        opts.reconnect.enabled = flags & F_RECONNECT != 0;
        if let Some(v) = num(5) {
            opts.reconnect.initial_delay_ms = v;
        }
        if let Some(v) = num(6) {
            opts.reconnect.max_delay_ms = v;
        }
        if let Some(v) = num(7) {
            opts.reconnect.max_attempts = v;
        }
        opts.seed = random_seed();
        // A new connect replaces any earlier session: what it still had pending fails, and
        // dropping its driver closes its socket and stops its retries.
        if let Some(old) = self.driver.take() {
            old.with(|s| s.abandon(super::now()));
        }
        let session = Session::new(opts);
        let hook: Option<DebugHook> = if flags & F_DEBUG != 0 {
            let f = self.emit.clone();
            Some(Rc::new(move |out: bool, data: &[u8]| {
                let dir = if out { "out" } else { "in" };
                emit(&f, EV_DEBUG, &[dir.into(), redact(data).into()]);
            }))
        } else {
            None
        };
        let inbox = Rc::new(RefCell::new(Inbox::default()));
        let emit_fn = self.emit.clone();
        let held = inbox.clone();
        let driver = Driver::new(
            session,
            Rc::new(move |d: &Driver<Session>, e: Event| dispatch(&emit_fn, &held, d, e)),
            hook,
        );
        let emit_fn = self.emit.clone();
        let held = inbox.clone();
        driver.on_data(Rc::new(
            move |s: &mut Session, now: Millis, input: &Incoming<'_>| {
                let mut inbox = held.borrow_mut();
                inbox.begin();
                s.handle_data_with(now, input.data, &mut |m| inbox.push_ref(m, input));
            },
        ));
        driver.on_drained(Rc::new(move || flush(&emit_fn, &inbox)));
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

    /// An op id that fails at once with `reason`.
    fn fail(&mut self, reason: &'static str) -> u32 {
        let op = self.next_orphan;
        self.next_orphan = self.next_orphan.wrapping_sub(1);
        emit(
            &self.emit,
            EV_FAILED,
            &[op.into(), JsValue::from_str(reason)],
        );
        op
    }

    fn run(&mut self, f: impl FnOnce(&mut Session) -> OpId) -> u32 {
        match &self.driver {
            Some(d) => d.with(f).0,
            None => self.fail(NOT_CONNECTED),
        }
    }

    /// SEND with `body` (text is passed as its UTF-8 bytes, encoded by the browser);
    /// `headers` NUL-separated name, value pairs; `tx` sends inside that transaction (empty:
    /// none). Returns the op id.
    pub fn send(
        &mut self,
        destination: &str,
        body: &[u8],
        headers: &str,
        tx: &str,
        receipt: bool,
    ) -> u32 {
        let h = pairs(headers);
        self.run(|s| {
            if tx.is_empty() {
                s.send(destination, &h, body, receipt)
            } else {
                s.send_in(tx, destination, &h, body, receipt)
            }
        })
    }

    /// SUBSCRIBE under `id`; returns `[subscriptionId, op]` (the id of a restored
    /// subscription when this repeats one in the reconnect handler). `ack` is "auto",
    /// "client" or "client-individual" (anything else: auto).
    pub fn subscribe(
        &mut self,
        id: &str,
        destination: &str,
        ack: &str,
        headers: &str,
        receipt: bool,
    ) -> Array {
        let mode = match ack {
            "client" => AckMode::Client,
            "client-individual" => AckMode::ClientIndividual,
            _ => AckMode::Auto,
        };
        let h = pairs(headers);
        let mut used = String::from(id);
        let op = self.run(|s| {
            let (sub, op) = s.subscribe_with_id(id, destination, mode, &h, receipt);
            used = sub;
            op
        });
        Array::of2(&JsValue::from_str(&used), &JsValue::from(op))
    }

    /// UNSUBSCRIBE; returns the op id.
    pub fn unsubscribe(&mut self, id: &str, receipt: bool) -> u32 {
        self.run(|s| s.unsubscribe(id, receipt))
    }

    /// ACK (or NACK when `nack`) the message whose token (from its batch) is `token`, in
    /// transaction `tx` (empty: none); returns the op id.
    pub fn ack(&mut self, token: &[u8], tx: &str, receipt: bool, nack: bool) -> u32 {
        let Some(token) = read_token(token) else {
            return self.fail(BAD_TOKEN);
        };
        let tx = (!tx.is_empty()).then_some(tx);
        self.run(|s| {
            if nack {
                s.nack(&token, tx, receipt)
            } else {
                s.ack(&token, tx, receipt)
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

fn dispatch(f: &Function, inbox: &RefCell<Inbox>, driver: &Driver<Session>, event: Event) {
    if let Event::Message {
        subscription,
        headers,
        body,
        ack,
    } = event
    {
        let binary = driver.binary_input();
        inbox
            .borrow_mut()
            .push(&subscription, &headers, &body, binary, ack);
        return;
    }
    // Anything else goes out after the MESSAGEs before it.
    flush(f, inbox);
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
                    headers_blob(&headers),
                    JsValue::from_str(version.as_str()),
                    reconnected.into(),
                ],
            );
            // The page's onopen has run: now what was queued before it goes out.
            driver.with(Session::flush_queued);
        }
        Event::Message { .. } => {}
        Event::Receipt { headers, .. } => emit(f, EV_RECEIPT, &[headers_blob(&headers)]),
        Event::Completed { op } => emit(f, EV_COMPLETED, &[op.0.into()]),
        Event::Failed { op, reason } => {
            emit(f, EV_FAILED, &[op.0.into(), JsValue::from_str(reason)]);
        }
        Event::ServerError { headers, body } => emit(
            f,
            EV_SERVER_ERROR,
            &[
                headers_blob(&headers),
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
            emit(
                f,
                EV_RECONNECTING,
                &[
                    attempt.into(),
                    delay,
                    JsValue::from_str(&url),
                    code.into(),
                    JsValue::from_str(&reason),
                    clean.into(),
                ],
            );
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

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn u32_at(b: &[u8], at: usize) -> usize {
        let mut w = [0u8; 4];
        w.copy_from_slice(&b[at..at + 4]);
        usize::try_from(u32::from_le_bytes(w)).unwrap()
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (String::from(*k), String::from(*v)))
            .collect()
    }

    #[test]
    fn flat_headers_split_into_pairs() {
        assert_eq!(pairs(""), Vec::<(&str, &str)>::new());
        assert_eq!(pairs("a\0b\0c\0"), vec![("a", "b"), ("c", "")]);
        // A dangling name has no value and is dropped.
        assert_eq!(pairs("a\0b\0c"), vec![("a", "b")]);
    }

    #[test]
    fn fields_split_like_str_split() {
        for (s, sep) in [("a,b,,c", b','), ("", b','), (",", b','), ("é\0ü\0", 0)] {
            let want: Vec<&str> = s.split(char::from(sep)).collect();
            assert_eq!(Fields::new(s, sep).collect::<Vec<_>>(), want, "{s:?}");
        }
        let mut f = Fields::new("a\0b\0c\0d", 0);
        assert_eq!((f.next(), f.next()), (Some("a"), Some("b")));
        assert_eq!(f.rest(), "c\0d");
        let mut f = Fields::new("a", 0);
        assert_eq!(f.next(), Some("a"));
        assert_eq!(f.rest(), "");
    }

    #[test]
    fn utf16_lengths_match_javascript() {
        assert_eq!(utf16_len("abc"), 3);
        assert_eq!(utf16_len("é"), 1);
        assert_eq!(utf16_len("😀x"), 3);
        assert_eq!(utf16_len("\u{feff}a"), 2);
    }

    #[test]
    fn a_batch_record_has_the_documented_layout() {
        let mut inbox = Inbox::default();
        let token = AckToken {
            message_id: String::from("m-1"),
            subscription: String::from("sub-é"),
            ack: Some(String::from("a1")),
            connection: 7,
        };
        inbox.push(
            "sub-é",
            &h(&[("k", "v😀"), ("k", "second")]),
            b"body",
            false,
            Some(token.clone()),
        );
        inbox.push("s2", &[], b"", false, None);
        inbox.push("s3", &[], &[0xff, b'x'], false, None);
        let r = &inbox.records;
        assert_eq!(u32_at(r, 0), 5); // "sub-é" in UTF-16 units
        assert_eq!(u32_at(r, 4), 2); // two headers
        assert_eq!([u32_at(r, 8), u32_at(r, 12)], [1, 3]);
        // The repeated name goes by number: the first name sent.
        assert_eq!([u32_at(r, 16), u32_at(r, 20)], [NAME_KNOWN, 6]);
        assert_eq!(u32_at(r, 24), 4); // the body's text length; its text is in `text`
        let tlen = u32_at(r, 28);
        assert_eq!(read_token(&r[32..32 + tlen]), Some(token));
        let second = 32 + tlen;
        assert_eq!(u32_at(r, second), 2);
        assert_eq!(u32_at(r, second + 4), 0);
        assert_eq!(u32_at(r, second + 8), 0); // empty body
        assert_eq!(u32_at(r, second + 12), 0); // no token
        let third = second + 16;
        assert_eq!(u32_at(r, third + 8), 0xffff_ffff); // not UTF-8: bytes inline
        assert_eq!(u32_at(r, third + 12), 2);
        assert_eq!(&r[third + 16..third + 18], &[0xff, b'x']);
        assert_eq!(u32_at(r, third + 18), 0);
        assert_eq!(r.len(), third + 22);
        assert_eq!(inbox.text, "sub-ékv😀secondbodys2s3".as_bytes());
        let split = r.len();
        let (batch, source) = inbox.take().unwrap();
        assert!(source.is_none());
        assert_eq!(u32_at(&batch, batch.len() - 8), split);
        assert_eq!(u32_at(&batch, batch.len() - 4), 1); // start the names afresh
        assert_eq!(
            &batch[split..batch.len() - 8],
            "sub-ékv😀secondbodys2s3".as_bytes()
        );
        // The next batch uses the names sent.
        inbox.push("s", &h(&[("x", "1"), ("k", "2")]), b"", false, None);
        let (batch, _) = inbox.take().unwrap();
        assert_eq!([u32_at(&batch, 8), u32_at(&batch, 16)], [1, NAME_KNOWN]);
        assert_eq!(u32_at(&batch, batch.len() - 4), 0);
        inbox.push("s", &h(&[("x", "1")]), b"", false, None);
        assert_eq!(u32_at(&inbox.records, 8), NAME_KNOWN | 1);
        inbox.records.clear();
        inbox.text.clear();
        assert!(inbox.take().is_none());
        inbox.give_back(batch);
        assert!(inbox.records.is_empty() && inbox.records.capacity() > 0);
    }

    fn connected() -> Session {
        let mut s = Session::new(ConnectOptions::default());
        s.handle_open(Millis(0), "v12.stomp");
        s.handle_data(Millis(0), b"CONNECTED\nversion:1.2\n\n\0");
        while s.poll_event().is_some() {}
        s
    }

    /// (start, length) of each record's body, which must be `BODY_IN_SOURCE`.
    fn places(r: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut p = 0;
        while p < r.len() {
            p += 8 + 8 * u32_at(r, p + 4);
            assert_eq!(u32_at(r, p), usize::try_from(BODY_IN_SOURCE).unwrap());
            out.push((u32_at(r, p + 4), u32_at(r, p + 8)));
            p += 16 + u32_at(r, p + 12);
        }
        out
    }

    #[test]
    fn bodies_whole_in_the_message_are_given_as_parts_of_it() {
        // Text: starts and lengths in UTF-16 units of the string, as String.slice takes them.
        let mut s = connected();
        let text = "MESSAGE\nsubscription:a\n\né😀x\0\nMESSAGE\nsubscription:b\n\nyz\0";
        let source = JsValue::from_str(text);
        let input = Incoming {
            data: text.as_bytes(),
            binary: false,
            source: &|| source.clone(),
        };
        let mut inbox = Inbox::default();
        inbox.begin();
        s.handle_data_with(Millis(1), input.data, &mut |m| inbox.push_ref(m, &input));
        let units_to = |part: &str| text[..text.find(part).unwrap()].encode_utf16().count();
        assert_eq!(
            places(&inbox.records),
            [(units_to("é😀x"), 4), (units_to("yz"), 2)]
        );
        let (_, given) = inbox.take().unwrap();
        assert_eq!(given.and_then(|v| v.as_string()).as_deref(), Some(text));

        // Binary: byte offsets into the ArrayBuffer.
        let bytes = b"MESSAGE\nsubscription:a\ncontent-length:3\n\n\0\xff\0\0";
        let buffer: JsValue = Uint8Array::from(&bytes[..]).buffer().into();
        let input = Incoming {
            data: bytes,
            binary: true,
            source: &|| buffer.clone(),
        };
        inbox.begin();
        s.handle_data_with(Millis(1), input.data, &mut |m| inbox.push_ref(m, &input));
        assert_eq!(places(&inbox.records), [(bytes.len() - 4, 3)]);
        let (_, given) = inbox.take().unwrap();
        assert!(given.unwrap().is_instance_of::<js_sys::ArrayBuffer>());
    }

    #[test]
    fn a_body_split_over_messages_goes_in_the_record() {
        let mut s = connected();
        let mut inbox = Inbox::default();
        let parts = ["MESSAGE\nsubscription:a\n\nhel", "lo\0"];
        for part in parts {
            let source = JsValue::from_str(part);
            let input = Incoming {
                data: part.as_bytes(),
                binary: false,
                source: &|| source.clone(),
            };
            inbox.begin();
            s.handle_data_with(Millis(1), input.data, &mut |m| inbox.push_ref(m, &input));
        }
        let r = &inbox.records;
        assert_eq!(u32_at(r, 16), 5); // a text length: the text is in the batch
        assert_eq!(inbox.text, b"asubscriptionahello");
        assert!(inbox.take().unwrap().1.is_none());
    }

    #[test]
    fn a_binary_frame_body_goes_as_bytes() {
        let mut inbox = Inbox::default();
        inbox.push("s", &[], b"text", true, None);
        let r = &inbox.records;
        assert_eq!(u32_at(r, 8), 0xffff_ffff);
        assert_eq!(u32_at(r, 12), 4);
        assert_eq!(&r[16..20], b"text");
        assert_eq!(inbox.text, b"s");
    }

    #[test]
    fn a_token_without_ack_and_forged_tokens() {
        let t = AckToken {
            message_id: String::from("m"),
            subscription: String::from("s"),
            ack: None,
            connection: 1,
        };
        let mut inbox = Inbox::default();
        inbox.push("s", &[], b"", false, Some(t.clone()));
        let r = &inbox.records;
        let tlen = u32_at(r, 12);
        let bytes = &r[16..16 + tlen];
        assert_eq!(read_token(bytes), Some(t));
        // Anything cut short or overlong is refused, never a panic.
        for n in 0..bytes.len() {
            assert_eq!(read_token(&bytes[..n]), None, "cut at {n}");
        }
        assert_eq!(read_token(&[0xff; 12]), None);
        assert_eq!(read_token(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), None);
    }
}
