//! `StompCore`, the wasm class behind the JavaScript `StompClient` (js/stomp.js).
//!
//! It maps JavaScript arguments onto [`crate::stomp::Session`] commands and the session's
//! events onto one JavaScript `emit(kind, …)` callback; js/stomp.js turns those into the
//! page's `onopen`/`onmessage`/`onreconnecting`/… handlers and Promises. The session decides
//! everything about the protocol, reconnection included; this file only converts values (and
//! supplies the jitter seed, from `Math.random`). On the receive path it takes MESSAGEs from
//! the session as they are decoded (borrowed, `Session::handle_data_with`) and packs those of
//! one WebSocket message into one batch for JavaScript, bodies (and, in an ASCII text message,
//! header strings) given as parts of the message itself where they can be, and values that
//! repeat the last one of their header name given by reference (the layout is described
//! below).

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Uint8Array};
use wasm_bindgen::prelude::*;

use super::driver::{DebugHook, Driver, Incoming, Protocol, Wire};
use super::{emit, Fields};
use crate::stomp::frame::same_bytes;
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
// MESSAGE batch: records, then the text of all records (subscription ids, header names and
// values that are not parts of the source, bodies of text frames, in record order) as
// UTF-8, then the byte length of the records part, then flags: `BATCH_NAMES_AFRESH` if
// JavaScript must start its table of header names afresh (the first batch of an inbox),
// `BATCH_ASCII_BINARY` if the records' source is a binary message that is all ASCII (its
// text holds the `STR_IN_SOURCE` strings, and a body in the source is given as a view and as
// text). A record is: the
// subscription id (a string field), a headers block without its text, the body, the token
// length and the ACK token (0: none). In a record's headers block a name field is either a
// string field, or `NAME_KNOWN | i` for the `i`-th name that was sent as a string: both
// sides number the first `MAX_NAMES` distinct names in the order they were sent, so the
// usual few are decoded and made strings once, not per frame (JavaScript objects then also
// share one shape). A string field (subscription id,
// name, value) is a text length, or `STR_IN_SOURCE | n` and a start: the `n` characters of
// the WebSocket message's own text from there (only in a message that is all ASCII, where
// byte offsets are string offsets, and for strings that are there as they are, not
// unescaped: a batch of such text messages needs no text decoding at all; a binary message
// of up to `MAX_ASCII_BINARY` bytes is then decoded once, whole, by JavaScript). A value field may also
// be `STR_SAME`: the last value of the same numbered name, again (a subscription id field:
// the last record's id again); both sides keep those of up to `MAX_KEPT_VALUE` bytes, and
// start afresh with the table of names. The header count has `HEADERS_CHECKED` set when a
// name repeats in the record (or has no number), where the first value must win. The body
// is one of:
// - `BODY_IN_SOURCE`, start, length: a part of the WebSocket message's own data, handed over
//   with the batch: UTF-16 units of the string (a text message), or bytes of the
//   `ArrayBuffer` (a binary one, given to the page as a view: no copy at all);
// - `BODY_IN_SOURCE_WITH_TEXT`, start, length, text length: as `BODY_IN_SOURCE` (in a
//   binary message), the body's text being in the text part too (a small UTF-8 body of a
//   record with header text: the handler is given the text at once, so it is decoded with
//   the headers, in one call);
// - `BODY_BYTES`, byte length, bytes: a binary frame's body that came in several messages;
// - else a text frame's body that came in several messages: its text length, the text being
//   in the text part.
// One batch holds every MESSAGE of one WebSocket message and is handed over as a view of wasm
// memory: JavaScript makes one call and at most one text decode (of the subscription ids and
// headers) for all of them. `binaryBody` of a text body encodes it back if the page reads it;
// `body` of a binary one decodes it if the page asks.
//
// ACK token (opaque to JavaScript, handed back to `ack`): connection, then length-prefixed
// `message-id`, `subscription` and, when present, `ack`.

/// Four bytes from an array: `extend_from_slice` would be a call and a `memory.copy` (slow for
/// so few bytes), and a record holds a few dozen of these.
fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend(u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
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
/// Like `BODY_IN_SOURCE` (a binary message's part), its text also in the text part.
const BODY_IN_SOURCE_WITH_TEXT: u32 = u32::MAX - 2;
/// Largest binary-message body whose text goes in the text part.
const MAX_BODY_WITH_TEXT: usize = 4096;
/// A body given as bytes in the record.
const BODY_BYTES: u32 = u32::MAX;
/// Largest binary message whose strings may be given as parts of its text when it is all
/// ASCII (JavaScript decodes it whole, so a big body the page may never read as text is not).
const MAX_ASCII_BINARY: usize = MAX_BODY_WITH_TEXT;
/// Batch flags (see the layout).
const BATCH_NAMES_AFRESH: usize = 1;
const BATCH_ASCII_BINARY: usize = 2;

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
    /// The WebSocket message that `BODY_IN_SOURCE` bodies and `STR_IN_SOURCE` strings are
    /// parts of.
    source: Option<JsValue>,
    /// Whether bodies may be given as parts of the current message: only while every record
    /// in the batch comes from it.
    in_source: bool,
    /// Whether `source` is a binary message that is all ASCII (`BATCH_ASCII_BINARY`).
    source_ascii: bool,
    /// In a text message: a byte offset into its UTF-8 and the UTF-16 units before it, so
    /// each body is located by reading on from the last one, not from the start.
    cursor: (usize, usize),
    /// Header names sent so far, by number (see the layout).
    names: Vec<Vec<u8>>,
    /// The number of the name each header position had last time: frames of one stream
    /// mostly repeat their header order, so this is tried before a search.
    hints: Vec<usize>,
    /// The last value sent for each numbered name, when short enough to be kept (`None`:
    /// not kept), as JavaScript keeps it: a repeat goes as `STR_SAME`.
    values: Vec<Option<Vec<u8>>>,
    /// The last subscription id sent (when short enough to be kept), likewise.
    subscription: Option<Vec<u8>>,
    /// Whether a batch has told JavaScript to start its table of names afresh.
    names_told: bool,
}

/// A header name field with this bit set is the number of a name sent before.
const NAME_KNOWN: usize = 0x8000_0000;
/// A string field (subscription id, header name or value) with this bit set is a part of
/// the WebSocket message's own text: the rest of the field is its length, and its start
/// follows.
const STR_IN_SOURCE: usize = 0x4000_0000;
/// In a record's header count: some name repeats (or has no number), so JavaScript must
/// keep the first value of each name; without it, every name is new to the record.
const HEADERS_CHECKED: u32 = 0x8000_0000;
/// A value field meaning: the same value as the last one of this numbered name (in the
/// subscription id field: the same id as the last record's).
const STR_SAME: usize = 0x8000_0000;
/// How many header names are remembered (js/stomp.js keeps the same number).
const MAX_NAMES: usize = 64;
/// Longest value remembered for `STR_SAME` (bounds what the inbox keeps).
const MAX_KEPT_VALUE: usize = 256;

/// Above this, a buffer is shrunk once its batch is delivered: one huge frame should not pin
/// its size for the session's life.
const KEEP: usize = 256 * 1024;

/// An all-ASCII message whose strings a record may give as parts of it: its bytes,
/// and a place in the decoder's buffer that is known to hold a copy of them (the address of
/// a body there, and that body's offset in `data`).
#[derive(Clone, Copy)]
struct AsciiSource<'a> {
    data: &'a [u8],
    anchor: (usize, usize),
}

/// Where `s` starts in wasm memory (`pointer::addr` needs a newer Rust than our MSRV).
fn address(s: &[u8]) -> usize {
    // Only compared with other addresses, never turned back into a pointer.
    #[allow(clippy::as_conversions)]
    let at = s.as_ptr() as usize;
    at
}

impl AsciiSource<'_> {
    /// Where `s`, borrowed from the decoder's buffer before the anchor, is in the message,
    /// if it is there as it is (a header that was unescaped is not).
    fn find(&self, s: &[u8]) -> Option<usize> {
        let back = self.anchor.0.checked_sub(address(s))?;
        let at = self.anchor.1.checked_sub(back)?;
        let end = at.checked_add(s.len())?;
        same_bytes(self.data.get(at..end)?, s).then_some(at)
    }
}

/// A string field: in `text` (UTF-8, length in UTF-16 units), or a part of the source.
fn put_str(out: &mut Vec<u8>, text: &mut Vec<u8>, src: Option<&AsciiSource<'_>>, s: &[u8]) {
    let at = src
        .filter(|_| !s.is_empty() && s.len() < STR_IN_SOURCE)
        .and_then(|src| src.find(s));
    if let Some(at) = at {
        put_u32(out, STR_IN_SOURCE | s.len());
        put_u32(out, at);
    } else if s.is_ascii() {
        put_u32(out, s.len());
        text.extend_from_slice(s);
    } else {
        let t = text_of(s);
        put_u32(out, utf16_len(&t));
        text.extend_from_slice(t.as_bytes());
    }
}

impl Inbox {
    /// A WebSocket message is about to be decoded.
    fn begin(&mut self) {
        self.in_source = self.records.is_empty();
        self.source = None;
        self.source_ascii = false;
        self.cursor = (0, 0);
    }

    /// A MESSAGE handed out by the session as it was decoded from `input`.
    fn push_ref(&mut self, m: &MessageRef<'_>, input: &Incoming<'_>) {
        let body = m.body();
        let at = m.body_in_input().filter(|_| self.in_source);
        // A binary message is checked here (a text one was, as it was copied in).
        let ascii = if input.binary {
            at.is_some() && input.data.len() <= MAX_ASCII_BINARY && input.data.is_ascii()
        } else {
            input.ascii
        };
        let place = at.map(|at| {
            if input.binary || ascii {
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
            self.source_ascii = input.binary && ascii;
        }
        let src = at.filter(|_| ascii).map(|at| AsciiSource {
            data: input.data,
            anchor: (address(body), at),
        });
        self.write(
            m.subscription(),
            m.headers(),
            Body {
                bytes: body,
                binary: input.binary,
                place,
            },
            m.ack(),
            src.as_ref(),
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
            subscription.as_bytes(),
            pair_bytes(headers),
            Body {
                bytes: body,
                binary,
                place: None,
            },
            ack.as_ref().map(AckToken::as_ref),
            None,
        );
    }

    /// The number of header name `k`, the `i`-th of its frame, if it was sent before.
    fn known(&self, i: usize, k: &[u8]) -> Option<usize> {
        let hinted = self
            .hints
            .get(i)
            .copied()
            .filter(|&j| self.names.get(j).is_some_and(|n| same_bytes(n, k)));
        hinted.or_else(|| self.names.iter().position(|n| same_bytes(n, k)))
    }

    fn write<'a>(
        &mut self,
        subscription: &[u8],
        headers: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])>,
        body: Body<'_>,
        ack: Option<AckRef<'_>>,
        src: Option<&AsciiSource<'_>>,
    ) {
        let text_before = self.text.len();
        match &mut self.subscription {
            Some(last) if same_bytes(last, subscription) => put_u32(&mut self.records, STR_SAME),
            last => {
                put_str(&mut self.records, &mut self.text, src, subscription);
                *last = (subscription.len() <= MAX_KEPT_VALUE).then(|| subscription.to_vec());
            }
        }
        let count_at = self.records.len();
        put_u32(&mut self.records, headers.len());
        // Name numbers seen in this record: a repeat (or a name without a number) makes
        // JavaScript check for repeats (`HEADERS_CHECKED`).
        let mut seen = 0u64;
        let mut checked = false;
        for (i, (k, v)) in headers.enumerate() {
            // Names are compared as they came (a known name is not even validated again).
            let j = match self.known(i, k) {
                Some(j) => {
                    put_u32(&mut self.records, j | NAME_KNOWN);
                    Some(j)
                }
                None => {
                    put_str(&mut self.records, &mut self.text, src, k);
                    let j = self.names.len();
                    (j < MAX_NAMES).then(|| {
                        self.names.push(k.to_vec());
                        j
                    })
                }
            };
            let Some(j) = j else {
                checked = true;
                put_str(&mut self.records, &mut self.text, src, v);
                continue;
            };
            let bit = u32::try_from(j).ok().and_then(|j| 1u64.checked_shl(j));
            match bit {
                Some(bit) if seen & bit == 0 => seen |= bit,
                _ => checked = true,
            }
            if let Some(h) = self.hints.get_mut(i) {
                *h = j;
            } else if self.hints.len() == i {
                self.hints.push(j);
            }
            if self.values.len() <= j {
                self.values.resize(j.saturating_add(1), None);
            }
            let Some(last) = self.values.get_mut(j) else {
                put_str(&mut self.records, &mut self.text, src, v);
                continue;
            };
            match last {
                Some(last) if same_bytes(last, v) => put_u32(&mut self.records, STR_SAME),
                _ => {
                    put_str(&mut self.records, &mut self.text, src, v);
                    if v.len() > MAX_KEPT_VALUE {
                        *last = None;
                    } else {
                        let kept = last.get_or_insert_with(Vec::new);
                        kept.clear();
                        kept.extend_from_slice(v);
                    }
                }
            }
        }
        if checked {
            if let Some(slot) = self.records.get_mut(count_at..count_at.saturating_add(4)) {
                let n = u32::from_le_bytes(slot.try_into().unwrap_or_default()) | HEADERS_CHECKED;
                slot.copy_from_slice(&n.to_le_bytes());
            }
        }
        let out = &mut self.records;
        // A binary message's small UTF-8 body also goes in the text part when its headers put
        // text there: the page's handler gets the body as text at once, and this way one
        // decode serves it and the headers (all ASCII, the message's text already has it).
        let with_text = body
            .place
            .filter(|_| body.binary && body.bytes.len() <= MAX_BODY_WITH_TEXT)
            .filter(|_| self.text.len() > text_before && src.is_none())
            .and_then(|_| core::str::from_utf8(body.bytes).ok());
        if let Some((start, len)) = body.place {
            let kind = if with_text.is_some() {
                BODY_IN_SOURCE_WITH_TEXT
            } else {
                BODY_IN_SOURCE
            };
            put_u32(out, usize::try_from(kind).unwrap_or(0));
            put_u32(out, start);
            put_u32(out, len);
            if let Some(t) = with_text {
                put_u32(out, utf16_len(t));
                self.text.extend_from_slice(body.bytes);
            }
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
                    put_u32(out, usize::try_from(BODY_BYTES).unwrap_or(0));
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
        let mut flags = 0;
        if !self.names_told {
            flags |= BATCH_NAMES_AFRESH;
        }
        if self.source_ascii {
            flags |= BATCH_ASCII_BINARY;
        }
        put_u32(&mut self.records, flags);
        self.names_told = true;
        self.source_ascii = false;
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
        // "sub-é" in UTF-16 units; two headers, and a name repeats.
        assert_eq!(u32_at(r, 0), 5);
        assert_eq!(u32_at(r, 4), 2 | usize::try_from(HEADERS_CHECKED).unwrap());
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
        assert_eq!(u32_at(&batch, 4), 2); // no name repeats
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

    /// (start, length) of each record's body, which must be `BODY_IN_SOURCE` (or
    /// `BODY_IN_SOURCE_WITH_TEXT`).
    fn places(r: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut p = 0;
        while p < r.len() {
            p = record_strings(r, p).1;
            let kind = u32::try_from(u32_at(r, p)).unwrap();
            assert!(kind == BODY_IN_SOURCE || kind == BODY_IN_SOURCE_WITH_TEXT);
            out.push((u32_at(r, p + 4), u32_at(r, p + 8)));
            p += 12 + usize::from(kind == BODY_IN_SOURCE_WITH_TEXT) * 4;
            p += 4 + u32_at(r, p);
        }
        out
    }

    /// A string field as the tests see it (see [`record_strings`]).
    type Field = Result<(usize, usize), usize>;

    /// The string fields of the record at `p` (`Ok(start, len)` for a part of the source,
    /// `Err(field)` for the others: a text length, `STR_SAME`, `NAME_KNOWN | i`) and the
    /// offset of its body.
    fn record_strings(r: &[u8], mut p: usize) -> (Vec<Field>, usize) {
        let mut out = Vec::new();
        let field = |p: &mut usize, out: &mut Vec<_>| {
            let w = u32_at(r, *p);
            if w & NAME_KNOWN == 0 && w & STR_IN_SOURCE != 0 {
                out.push(Ok((u32_at(r, *p + 4), w & !STR_IN_SOURCE)));
                *p += 8;
            } else {
                out.push(Err(w));
                *p += 4;
            }
        };
        field(&mut p, &mut out);
        let n = u32_at(r, p) & 0x7fff_ffff;
        p += 4;
        for _ in 0..2 * n {
            field(&mut p, &mut out);
        }
        (out, p)
    }

    /// One WebSocket message through the core into a fresh batch of `inbox`.
    fn feed(s: &mut Session, inbox: &mut Inbox, input: &Incoming) {
        inbox.begin();
        s.handle_data_with(Millis(1), input.data, &mut |m| inbox.push_ref(m, input));
    }

    /// The string fields of a batch's first record (see [`record_strings`]).
    fn strings(r: &[u8]) -> Vec<Field> {
        record_strings(r, 0).0
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
            ascii: false,
            source: &|| source.clone(),
        };
        let mut inbox = Inbox::default();
        feed(&mut s, &mut inbox, &input);
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
            ascii: false,
            source: &|| buffer.clone(),
        };
        feed(&mut s, &mut inbox, &input);
        assert_eq!(places(&inbox.records), [(bytes.len() - 4, 3)]);
        let (_, given) = inbox.take().unwrap();
        assert!(given.unwrap().is_instance_of::<js_sys::ArrayBuffer>());

        // A small UTF-8 body of a binary message: its text goes along (decoded with the
        // headers), the page still gets the bytes as a view.
        // (A new subscription id: so the record has header text.)
        let bytes = "MESSAGE\nsubscription:c\n\nh\u{e9}llo\0".as_bytes();
        let input = Incoming {
            data: bytes,
            binary: true,
            ascii: false,
            source: &|| buffer.clone(),
        };
        feed(&mut s, &mut inbox, &input);
        assert_eq!(places(&inbox.records), [(bytes.len() - 7, 6)]);
        let p = record_strings(&inbox.records, 0).1;
        assert_eq!(
            u32::try_from(u32_at(&inbox.records, p)).unwrap(),
            BODY_IN_SOURCE_WITH_TEXT
        );
        assert_eq!(u32_at(&inbox.records, p + 12), 5); // UTF-16 units of "héllo"
        assert!(inbox.text.ends_with("h\u{e9}llo".as_bytes()));
        inbox.take().unwrap();
        // Without header text (all repeated), the body is only the view.
        feed(&mut s, &mut inbox, &input);
        let p = record_strings(&inbox.records, 0).1;
        assert_eq!(
            u32::try_from(u32_at(&inbox.records, p)).unwrap(),
            BODY_IN_SOURCE
        );
        assert!(inbox.text.is_empty());
    }

    #[test]
    fn strings_of_a_small_ascii_binary_message_are_parts_of_its_text() {
        // The same fields as the same message in an ASCII text frame (checked one by one in
        // the next test), with the batch flag that has JavaScript decode it whole.
        let text = "MESSAGE\r\nsubscription:a\nk:v\\cw\nk:x\n\nbody\0";
        let buffer: JsValue = Uint8Array::from(text.as_bytes()).buffer().into();
        let string = JsValue::from_str(text);
        let fields = |binary: bool| {
            let source = if binary { &buffer } else { &string };
            let input = Incoming {
                data: text.as_bytes(),
                binary,
                ascii: !binary,
                source: &|| source.clone(),
            };
            let mut inbox = Inbox::default();
            feed(&mut connected(), &mut inbox, &input);
            let got = (
                strings(&inbox.records),
                places(&inbox.records),
                inbox.text.clone(),
            );
            let (batch, _) = inbox.take().unwrap();
            (got, u32_at(&batch, batch.len() - 4))
        };
        let (binary, flags) = fields(true);
        assert_eq!(flags, BATCH_NAMES_AFRESH | BATCH_ASCII_BINARY);
        assert_eq!((binary, flags & !BATCH_ASCII_BINARY), fields(false));

        let mut s = connected();
        let mut inbox = Inbox::default();
        // Not all ASCII, or too big to decode whole: no parts of its text, and no flag.
        let mut big = b"MESSAGE\nsubscription:b\nid:7\n\n".to_vec();
        big.resize(MAX_ASCII_BINARY, b'x');
        big.push(0);
        for bytes in [&b"MESSAGE\nsubscription:b\nid:7\n\n\xc3\xa9\0"[..], &big] {
            let input = Incoming {
                data: bytes,
                binary: true,
                ascii: false,
                source: &|| buffer.clone(),
            };
            feed(&mut s, &mut inbox, &input);
            assert!(strings(&inbox.records).iter().all(Result::is_err));
            let (batch, _) = inbox.take().unwrap();
            assert_eq!(u32_at(&batch, batch.len() - 4) & BATCH_ASCII_BINARY, 0);
            inbox.give_back(batch);
        }
    }

    #[test]
    fn strings_of_an_ascii_text_message_are_parts_of_it() {
        let mut s = connected();
        let text = "MESSAGE\r\nsubscription:a\nk:v\\cw\nk:x\n\nbody\0";
        let source = JsValue::from_str(text);
        let input = Incoming {
            data: text.as_bytes(),
            binary: false,
            ascii: true,
            source: &|| source.clone(),
        };
        let mut inbox = Inbox::default();
        feed(&mut s, &mut inbox, &input);
        let at = |part: &str| text.find(part).unwrap();
        assert_eq!(
            strings(&inbox.records),
            [
                Ok((at("a\n"), 1)),
                Ok((at("subscription"), 12)),
                Ok((at("a\n"), 1)),
                Ok((at("k:v"), 1)),
                // Unescaped: not as it is in the source, so given as text.
                Err(3),
                Err(NAME_KNOWN | 1),
                Ok((at("x\n"), 1)),
            ]
        );
        assert_eq!(inbox.text, b"v:w");
        assert_eq!(places(&inbox.records), [(at("body"), 4)]);
        let (batch, given) = inbox.take().unwrap();
        assert_eq!(given.and_then(|v| v.as_string()).as_deref(), Some(text));
        inbox.give_back(batch);

        // The next message: names by number (the hints hold), the rest from the source.
        let text = "MESSAGE\nsubscription:b\nk:y\n\n\0";
        let input = Incoming {
            data: text.as_bytes(),
            binary: false,
            ascii: true,
            source: &|| source.clone(),
        };
        feed(&mut s, &mut inbox, &input);
        let at = |part: &str| text.find(part).unwrap();
        assert_eq!(
            strings(&inbox.records),
            [
                Ok((at("b\n"), 1)),
                Err(NAME_KNOWN),
                Ok((at("b\n"), 1)),
                Err(NAME_KNOWN | 1),
                Ok((at("y\n"), 1)),
            ]
        );
        assert!(inbox.text.is_empty());
        inbox.take().unwrap();

        // A frame whose head began in an earlier message: what is in this one is still
        // taken from it.
        let parts = ["MESSAGE\nsubscription:c\n", "q:z\n\nhi\0"];
        for part in parts {
            let input = Incoming {
                data: part.as_bytes(),
                binary: false,
                ascii: true,
                source: &|| source.clone(),
            };
            inbox.begin();
            s.handle_data_with(Millis(1), input.data, &mut |m| inbox.push_ref(m, &input));
        }
        assert_eq!(
            strings(&inbox.records),
            [Err(1), Err(NAME_KNOWN), Err(1), Ok((0, 1)), Ok((2, 1))]
        );
        assert_eq!(inbox.text, b"cc");
        inbox.take().unwrap();

        // A value repeating the last one of its name goes as STR_SAME.
        let text = "MESSAGE\nsubscription:c\nq:w\n\n\0";
        let input = Incoming {
            data: text.as_bytes(),
            binary: false,
            ascii: true,
            source: &|| source.clone(),
        };
        feed(&mut s, &mut inbox, &input);
        assert_eq!(
            strings(&inbox.records),
            [
                Err(STR_SAME),
                Err(NAME_KNOWN),
                Err(STR_SAME),
                Err(NAME_KNOWN | 2),
                Ok((25, 1)),
            ]
        );
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
                ascii: false,
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
    fn a_repeated_value_goes_by_its_name_number_unless_long() {
        let mut inbox = Inbox::default();
        let long = "x".repeat(MAX_KEPT_VALUE + 1);
        let value_field = |inbox: &mut Inbox, v: &str| {
            inbox.records.clear();
            inbox.push("s", &h(&[("k", v)]), b"", false, None);
            u32_at(&inbox.records, 12)
        };
        assert_eq!(value_field(&mut inbox, "a"), 1);
        assert_eq!(value_field(&mut inbox, "a"), STR_SAME);
        assert_eq!(value_field(&mut inbox, "b"), 1);
        assert_eq!(value_field(&mut inbox, &long), long.len());
        assert_eq!(value_field(&mut inbox, &long), long.len());
        assert_eq!(value_field(&mut inbox, ""), 0);
        assert_eq!(value_field(&mut inbox, ""), STR_SAME);
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
