//! `XmppCore`, the wasm class behind the JavaScript `XmppClient` (js/xmpp.js).
//!
//! It maps JavaScript arguments onto [`crate::xmpp::Session`] commands and the session's
//! events onto one JavaScript `emit(kind, …)` callback; js/xmpp.js turns those into the
//! page's `onopen`/`onmessage`/`onpresence`/… handlers and Promises. It also supplies what
//! only the browser knows: random bytes for SCRAM nonces and the reconnect jitter, and whether
//! the transport is secure. Automatic reconnection is the core's: it asks for new sockets
//! ([`Transmit::Open`]) and the driver opens them.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::driver::{DebugHook, Driver, Protocol, Wire};
use super::emit;
use crate::time::Millis;
use crate::xmpp::mam::Query;
use crate::xmpp::muc::History;
use crate::xmpp::sasl::scram::{Hash, KeyRequest};
use crate::xmpp::{
    redact, Config, Credentials, Event, Mechanism, Message, MessageOptions, OpId, RosterItem,
    Session, Transmit,
};

impl Protocol for Session {
    type Event = Event;
    fn handle_open(&mut self, now: Millis, _protocol: &str) {
        Session::handle_open(self, now);
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
    fn handle_network(&mut self, now: Millis, online: bool) {
        Session::handle_network(self, now, online);
    }
    fn handle_open_failed(&mut self, now: Millis, reason: &str) {
        Session::handle_open_failed(self, now, reason);
    }
    fn handle_visibility(&mut self, now: Millis, visible: bool) {
        Session::handle_visibility(self, now, visible);
    }
    fn poll_wire(&mut self) -> Option<Wire> {
        Some(match self.poll_transmit()? {
            Transmit::Text(s) => Wire::Frame {
                data: s.into_bytes(),
                text: true,
            },
            Transmit::Close { code, reason } => Wire::Close { code, reason },
            Transmit::Open { url } => Wire::Open {
                url,
                protocols: vec![Session::SUBPROTOCOL],
            },
        })
    }
    fn poll_event(&mut self) -> Option<Event> {
        Session::poll_event(self)
    }
    fn poll_timeout(&self) -> Option<Millis> {
        Session::poll_timeout(self)
    }
}

// Event kinds passed to `emit` (mirrored in js/xmpp.js).
const EV_READY: u32 = 1;
const EV_ONLINE: u32 = 2;
const EV_MESSAGE: u32 = 3;
const EV_PRESENCE: u32 = 4;
const EV_ROSTER: u32 = 5;
const EV_COMPLETED: u32 = 6;
const EV_FAILED: u32 = 7;
const EV_AUTH_FAILED: u32 = 8;
const EV_STREAM_ERROR: u32 = 9;
const EV_PROTOCOL_ERROR: u32 = 10;
const EV_CLOSE: u32 = 11;
const EV_DEBUG: u32 = 12;
const EV_UNDELIVERED: u32 = 13;
const EV_RECONNECT: u32 = 14;
const EV_RESUMED: u32 = 15;
const EV_UNACKED: u32 = 16;
const EV_OCCUPANT: u32 = 17;
const EV_RECEIPT: u32 = 18;
const EV_CHATSTATE: u32 = 19;
const EV_DISCO_INFO: u32 = 20;
const EV_DISCO_ITEMS: u32 = 21;
const EV_ARCHIVE: u32 = 22;
const EV_RECONNECTING: u32 = 23;
const EV_ROSTER_ALL: u32 = 24;

// Bits of `connect`'s `flags` (mirrored in js/xmpp.js).
const F_ALLOW_PLAIN: u32 = 1;
const F_DEBUG: u32 = 2;
const F_NO_SM: u32 = 4;
const F_NO_RECEIPTS: u32 = 8;
const F_NO_RECONNECT: u32 = 16;

/// "Not given" in `connect`'s number list.
const DEFAULT: u32 = u32::MAX;

// `ext` command kinds (mirrored in js/xmpp.js).
const X_JOIN: u32 = 1;
const X_LEAVE: u32 = 2;
const X_CARBONS_ON: u32 = 3;
const X_CARBONS_OFF: u32 = 4;
const X_DISCO_INFO: u32 = 5;
const X_DISCO_ITEMS: u32 = 6;
// 7 (and anything else): an archive query.

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
}

// SCRAM's SaltedPassword by WebCrypto's PBKDF2: `done(Uint8Array)`, or `done(null)` where
// `crypto.subtle` is missing (an insecure context) or refuses, and the core derives it itself.
// The inputs are views of wasm memory: copied before anything else runs.
#[wasm_bindgen(
    inline_js = "export function fd_derive_key(sha256, password, salt, iterations, done) {
  const pw = password.slice(), s = salt.slice();
  const subtle = globalThis.crypto && globalThis.crypto.subtle;
  let p;
  try {
    p = subtle.importKey('raw', pw, 'PBKDF2', false, ['deriveBits']).then((k) =>
      subtle.deriveBits({ name: 'PBKDF2', hash: sha256 ? 'SHA-256' : 'SHA-1', salt: s, iterations }, k, sha256 ? 256 : 160));
  } catch (e) {
    p = Promise.reject(e);
  }
  p.then((bits) => done(new Uint8Array(bits)), () => done(null));
}"
)]
extern "C" {
    fn fd_derive_key(sha256: bool, password: &[u8], salt: &[u8], iterations: u32, done: &JsValue);
}

/// Answers [`Event::DeriveKey`] `id` once WebCrypto has the key (or has failed: then the core
/// derives it).
fn derive_key(driver: &Driver<Session>, id: u32, request: &KeyRequest) {
    let d = driver.clone();
    let done = Closure::once_into_js(move |key: JsValue| {
        let key = key
            .dyn_ref::<js_sys::Uint8Array>()
            .map(js_sys::Uint8Array::to_vec);
        d.with(|s| s.key_derived(super::now(), id, key.as_deref()));
    });
    fd_derive_key(
        request.hash == Hash::Sha256,
        request.password.as_bytes(),
        &request.salt,
        request.iterations,
        &done,
    );
}

fn opt(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::NULL, JsValue::from_str)
}

fn set(o: &Object, k: &str, v: &JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(k), v);
}

/// Fields of a stanza event as one string, for one crossing and one text decode instead of
/// one per field: each field followed by NUL; a missing field is U+0001. Neither character
/// can be in XML content, so no value holds one (a stray one would become U+FFFD).
/// js/xmpp.js `fields` splits it.
#[derive(Default)]
struct Record(String);

impl Record {
    fn field(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            None => self.0.push('\u{1}'),
            Some(v) if v.bytes().any(|b| b <= 1) => {
                for c in v.chars() {
                    self.0.push(if c <= '\u{1}' { '\u{FFFD}' } else { c });
                }
            }
            Some(v) => self.0.push_str(v),
        }
        self.0.push('\0');
        self
    }

    fn done(&self) -> JsValue {
        JsValue::from_str(&self.0)
    }
}

/// A message's fields in the order js/xmpp.js `message` reads them.
fn message(m: &Message) -> JsValue {
    let mut r = Record(String::with_capacity(m.xml.len().saturating_add(128)));
    r.field(m.from.as_deref())
        .field(m.to.as_deref())
        .field(m.kind.as_deref())
        .field(m.id.as_deref())
        .field(m.body.as_deref())
        .field(m.subject.as_deref())
        .field(m.thread.as_deref())
        .field(m.carbon)
        .field(m.chat_state)
        .field(m.receipt_request.then_some("1"))
        .field(m.delay.as_deref())
        .field(m.archive_id.as_deref())
        .field(Some(&m.xml));
    r.done()
}

fn triple(a: &str, b: Option<&str>, c: Option<&str>) -> JsValue {
    Array::of3(&JsValue::from_str(a), &opt(b), &opt(c)).into()
}

fn strings(list: &[String]) -> Array {
    let out = Array::new();
    for s in list {
        out.push(&JsValue::from_str(s));
    }
    out
}

fn roster_items(items: &[RosterItem]) -> Array {
    let out = Array::new();
    for it in items {
        let o = Object::new();
        set(&o, "jid", &JsValue::from_str(&it.jid));
        set(&o, "name", &opt(it.name.as_deref()));
        set(&o, "subscription", &JsValue::from_str(&it.subscription));
        set(&o, "ask", &opt(it.ask.as_deref()));
        set(&o, "groups", &strings(&it.groups));
        out.push(&o);
    }
    out
}

/// `wss:`, or a loopback host: where PLAIN does not expose the password to the network.
fn transport_secure(url: &str) -> bool {
    let Ok(u) = web_sys::Url::new(url) else {
        return false;
    };
    if u.protocol() == "wss:" {
        return true;
    }
    let host = u.hostname();
    host == "localhost" || host == "[::1]" || host.starts_with("127.")
}

/// The wasm side of one `XmppClient`.
#[wasm_bindgen]
pub struct XmppCore {
    emit: Function,
    driver: Option<Driver<Session>>,
}

const NOT_CONNECTED: &str = "connect() has not been called";

#[wasm_bindgen]
impl XmppCore {
    /// `emit(kind, ...args)` receives every event.
    #[wasm_bindgen(constructor)]
    #[must_use]
    pub fn new(emit: Function) -> XmppCore {
        XmppCore { emit, driver: None }
    }

    /// Opens the first of `urls` (newline-separated; later reconnections rotate through
    /// them; subprotocol `xmpp`) for `domain`. With `username` and `password` it logs in at
    /// once; `mechanisms` is a comma-separated preference list; `flags` are the `F_*` bits;
    /// `nums` are the initial and maximum reconnect delays and the most attempts (`u32::MAX`:
    /// default).
    #[allow(clippy::too_many_arguments)]
    pub fn connect(
        &mut self,
        urls: &str,
        domain: &str,
        username: Option<String>,
        password: Option<String>,
        resource: Option<String>,
        mechanisms: Option<String>,
        iq_timeout: Option<u32>,
        flags: u32,
        nums: &[u32],
    ) {
        let mut list: Vec<String> = Vec::new();
        for u in super::Fields::new(urls, b'\n') {
            if !u.is_empty() {
                list.push(String::from(u));
            }
        }
        let url = list.first().cloned().unwrap_or_default();
        let allow_plain_insecure = flags & F_ALLOW_PLAIN != 0;
        let debug = flags & F_DEBUG != 0;
        let mut config = Config::new(domain);
        if let (Some(username), Some(password)) = (username, password) {
            config.credentials = Some(Credentials {
                username,
                password,
                resource,
            });
        }
        if let Some(list) = mechanisms {
            config.mechanisms = Vec::new();
            for m in super::Fields::new(&list, b',') {
                if let Some(m) = Mechanism::from_name(m) {
                    config.mechanisms.push(m);
                }
            }
        }
        config.transport_secure = !list.is_empty() && list.iter().all(|u| transport_secure(u));
        config.reconnect.enabled = flags & F_NO_RECONNECT == 0;
        let num = |i: usize| nums.get(i).copied().filter(|v| *v != DEFAULT);
        if let Some(v) = num(0) {
            config.reconnect.initial_delay_ms = v;
        }
        if let Some(v) = num(1) {
            config.reconnect.max_delay_ms = v;
        }
        if let Some(v) = num(2) {
            config.reconnect.max_attempts = v;
        }
        config.urls = list;
        config.allow_plain_insecure = allow_plain_insecure;
        config.stream_management = flags & F_NO_SM == 0;
        // SCRAM's PBKDF2 by WebCrypto (`derive_key`): native and off this thread.
        config.derive_keys_outside = true;
        config.answer_receipts = flags & F_NO_RECEIPTS == 0;
        if let Some(ms) = iq_timeout {
            config.iq_timeout_ms = ms;
        }
        let mut entropy = [0u8; 32];
        get_random_values(&mut entropy);
        let mut seed = [0u8; 8];
        get_random_values(&mut seed);
        config.reconnect_seed = u64::from_le_bytes(seed);
        let session = Session::new(config, entropy);
        let emit_fn = self.emit.clone();
        let hook: Option<DebugHook> = if debug {
            let f = self.emit.clone();
            Some(Rc::new(move |out: bool, data: &[u8]| {
                let dir = if out { "out" } else { "in" };
                emit(
                    &f,
                    EV_DEBUG,
                    &[dir.into(), redact(&crate::text::lossy(data)).into()],
                );
            }))
        } else {
            None
        };
        // The URL to reopen for a resumption without automatic reconnection (the latest,
        // after a redirect).
        let current = Rc::new(RefCell::new(url.clone()));
        let driver = Driver::new(
            session,
            Rc::new(move |d: &Driver<Session>, e: Event| dispatch(&emit_fn, d, &current, e)),
            hook,
        );
        self.driver = Some(driver.clone());
        driver.open(&url, &[Session::SUBPROTOCOL]);
    }

    /// Runs an op command; without a session the op fails at once (as op 0).
    fn run(&self, f: impl FnOnce(&mut Session, Millis) -> OpId) -> u32 {
        match &self.driver {
            Some(d) => d.with(|s| f(s, super::now())).0,
            None => {
                emit(
                    &self.emit,
                    EV_FAILED,
                    &[0u32.into(), "not-connected".into(), NOT_CONNECTED.into()],
                );
                0
            }
        }
    }

    /// Runs a stanza command; an error is thrown to the caller.
    fn stanza<T>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<T, crate::xmpp::Error>,
    ) -> Result<T, JsError> {
        let d = self
            .driver
            .as_ref()
            .ok_or_else(|| JsError::new(NOT_CONNECTED))?;
        d.with(f).map_err(|e| JsError::new(e.as_str()))
    }

    pub fn login(&self, username: &str, password: &str, resource: Option<String>) -> u32 {
        self.run(|s, now| s.login(now, username, password, resource.as_deref()))
    }

    #[wasm_bindgen(js_name = loginAnonymous)]
    pub fn login_anonymous(&self) -> u32 {
        self.run(|s, now| s.login_anonymous(now))
    }

    pub fn register(&self, username: &str, password: &str) -> u32 {
        self.run(|s, now| s.register(now, username, password))
    }

    #[wasm_bindgen(js_name = changePassword)]
    pub fn change_password(&self, password: &str) -> u32 {
        self.run(|s, now| s.change_password(now, password))
    }

    pub fn unregister(&self) -> u32 {
        self.run(|s, now| s.unregister(now))
    }

    #[wasm_bindgen(js_name = getRoster)]
    pub fn get_roster(&self) -> u32 {
        self.run(|s, now| s.get_roster(now))
    }

    #[wasm_bindgen(js_name = addContact)]
    pub fn add_contact(&self, jid: &str, name: Option<String>, groups: &Array) -> u32 {
        // An `Array` of strings rather than `Vec<String>`: wasm-bindgen's vector conversion
        // costs about 1 KB of wasm and JS glue for this one call.
        let mut owned: Vec<String> = Vec::new();
        for g in groups.iter() {
            if let Some(g) = g.as_string() {
                owned.push(g);
            }
        }
        let mut g: Vec<&str> = Vec::new();
        for s in &owned {
            g.push(s);
        }
        self.run(|s, now| s.add_contact(now, jid, name.as_deref(), &g))
    }

    #[wasm_bindgen(js_name = removeContact)]
    pub fn remove_contact(&self, jid: &str) -> u32 {
        self.run(|s, now| s.remove_contact(now, jid))
    }

    /// Sends a message; returns its id (`undefined` when it has none: see
    /// `MessageOptions::id`). `flags`: 1 ask for a receipt, 2 give it an id anyway. Throws
    /// when it cannot be sent or queued.
    #[wasm_bindgen(js_name = sendMessage)]
    #[allow(clippy::too_many_arguments)]
    pub fn send_message(
        &self,
        to: &str,
        body: Option<String>,
        kind: Option<String>,
        subject: Option<String>,
        thread: Option<String>,
        flags: u8,
        chat_state: Option<String>,
    ) -> Result<Option<String>, JsError> {
        let o = MessageOptions {
            kind: kind.as_deref(),
            subject: subject.as_deref(),
            thread: thread.as_deref(),
            receipt: flags & 1 != 0,
            chat_state: chat_state.as_deref(),
            id: flags & 2 != 0,
        };
        self.stanza(|s| s.send_message_with(to, body.as_deref(), &o))
    }

    /// Sends presence. Throws when it cannot be sent or queued.
    #[wasm_bindgen(js_name = setStatus)]
    pub fn set_status(
        &self,
        show: Option<String>,
        status: Option<String>,
        priority: Option<i8>,
    ) -> Result<(), JsError> {
        self.stanza(|s| s.set_status(show.as_deref(), status.as_deref(), priority))
    }

    /// Presence subscription management: "subscribe", "approve", "deny" or "unsubscribe".
    pub fn presence(&self, action: &str, jid: &str) -> Result<(), JsError> {
        self.stanza(|s| match action {
            "subscribe" => s.subscribe(jid),
            "approve" => s.approve(jid),
            "deny" => s.deny(jid),
            _ => s.unsubscribe(jid),
        })
    }

    #[wasm_bindgen(js_name = sendRaw)]
    pub fn send_raw(&self, xml: &str) -> Result<(), JsError> {
        self.stanza(|s| s.send_raw(xml))
    }

    /// Sends an IQ; returns the op id. Throws on a bad type or malformed payload.
    pub fn iq(&self, kind: &str, to: Option<String>, payload: &str) -> Result<u32, JsError> {
        self.stanza(|s| s.iq(super::now(), kind, to.as_deref(), payload))
            .map(|op| op.0)
    }

    /// The extension commands that complete later, as one export (each costs glue): `kind`
    /// picks the command, the other arguments are its, in order (js/xmpp.js names them).
    #[allow(clippy::too_many_arguments, clippy::many_single_char_names)]
    pub fn ext(
        &self,
        kind: u32,
        a: Option<String>,
        b: Option<String>,
        c: Option<String>,
        d: Option<String>,
        e: Option<String>,
        f: Option<String>,
        n: Option<u32>,
        m: Option<u32>,
    ) -> u32 {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let (room, nick) = (text(&a), text(&b));
        self.run(|x, now| match kind {
            // room, nick, password, since, max stanzas, seconds
            X_JOIN => {
                let history = History {
                    max_stanzas: n,
                    seconds: m,
                    since: d,
                };
                x.join_room(now, &room, &nick, c.as_deref(), &history)
            }
            // room, status
            X_LEAVE => x.leave_room(now, &room, b.as_deref()),
            X_CARBONS_ON | X_CARBONS_OFF => x.carbons(now, kind == X_CARBONS_ON),
            // jid, node
            X_DISCO_INFO => x.disco_info(now, a.as_deref(), b.as_deref()),
            X_DISCO_ITEMS => x.disco_items(now, a.as_deref(), b.as_deref()),
            // 7: archive, with, start, end, before, after, max
            _ => {
                let q = Query {
                    with: b,
                    start: c,
                    end: d,
                    max: n,
                    before: e,
                    after: f,
                };
                x.query_archive(now, a.as_deref(), &q)
            }
        })
    }

    pub fn disconnect(&self) -> u32 {
        self.run(|s, now| s.disconnect(now))
    }

    /// The bound full JID once online.
    #[must_use]
    pub fn jid(&self) -> Option<String> {
        self.driver.as_ref()?.peek(|s| s.jid().map(String::from))
    }

    #[must_use]
    pub fn online(&self) -> bool {
        self.driver
            .as_ref()
            .is_some_and(|d| d.peek(Session::is_online))
    }
}

fn dispatch(f: &Function, driver: &Driver<Session>, url: &RefCell<String>, event: Event) {
    match event {
        Event::StreamReady => emit(f, EV_READY, &[]),
        Event::DeriveKey { id, request } => derive_key(driver, id, &request),
        Event::Online { jid, reconnected } => {
            emit(f, EV_ONLINE, &[JsValue::from_str(&jid), reconnected.into()])
        }
        Event::Roster(items) => emit(f, EV_ROSTER_ALL, &[roster_items(&items).into()]),
        Event::Reconnecting {
            attempt,
            delay_ms,
            url,
            code,
            reason,
            clean,
        } => emit(
            f,
            EV_RECONNECTING,
            &[
                attempt.into(),
                delay_ms.map_or(JsValue::NULL, |d| {
                    JsValue::from_f64(f64::from(u32::try_from(d).unwrap_or(u32::MAX)))
                }),
                JsValue::from_str(&url),
                code.into(),
                JsValue::from_str(&reason),
                clean.into(),
            ],
        ),
        Event::Message(m) => emit(f, EV_MESSAGE, &[message(&m)]),
        Event::DiscoInfo { op, info } => {
            let ids = Array::new();
            for i in &info.identities {
                ids.push(&triple(&i.category, Some(&i.kind), i.name.as_deref()));
            }
            emit(
                f,
                EV_DISCO_INFO,
                &[op.0.into(), ids.into(), strings(&info.features).into()],
            );
        }
        Event::DiscoItems { op, items } => {
            let list = Array::new();
            for i in &items {
                list.push(&triple(&i.jid, i.node.as_deref(), i.name.as_deref()));
            }
            emit(f, EV_DISCO_ITEMS, &[op.0.into(), list.into()]);
        }
        Event::Archive { op, page } => {
            let list = Array::new();
            for m in &page.messages {
                list.push(&message(m));
            }
            emit(
                f,
                EV_ARCHIVE,
                &[
                    op.0.into(),
                    list.into(),
                    page.complete.into(),
                    opt(page.first.as_deref()),
                    opt(page.last.as_deref()),
                    page.count.map_or(JsValue::NULL, JsValue::from),
                ],
            );
        }
        Event::Receipt { from, id } => emit(
            f,
            EV_RECEIPT,
            &[JsValue::from_str(&from), JsValue::from_str(&id)],
        ),
        Event::ChatState { from, state } => emit(
            f,
            EV_CHATSTATE,
            &[JsValue::from_str(&from), JsValue::from_str(state)],
        ),
        Event::Presence(p) => {
            let mut r = Record(String::with_capacity(p.xml.len().saturating_add(64)));
            r.field(p.from.as_deref())
                .field(p.to.as_deref())
                .field(p.kind.as_deref())
                .field(p.show.as_deref())
                .field(p.status.as_deref())
                .field(Some(&p.xml));
            let priority = p.priority.map_or(JsValue::NULL, JsValue::from);
            emit(f, EV_PRESENCE, &[r.done(), priority]);
        }
        Event::RosterPush(items) => emit(f, EV_ROSTER, &[roster_items(&items).into()]),
        Event::Occupant(o) => {
            let codes = Array::new();
            for c in &o.codes {
                codes.push(&JsValue::from(*c));
            }
            emit(
                f,
                EV_OCCUPANT,
                &[
                    JsValue::from_str(&o.room),
                    JsValue::from_str(&o.nick),
                    opt(o.jid.as_deref()),
                    opt(o.role.as_deref()),
                    opt(o.affiliation.as_deref()),
                    opt(o.kind.as_deref()),
                    opt(o.show.as_deref()),
                    opt(o.status.as_deref()),
                    codes.into(),
                    o.me.into(),
                    opt(o.new_nick.as_deref()),
                    JsValue::from_str(&o.xml),
                ],
            );
        }
        Event::Completed { op, roster, xml } => emit(
            f,
            EV_COMPLETED,
            &[
                op.0.into(),
                roster.map_or(JsValue::NULL, |r| roster_items(&r).into()),
                opt(xml.as_deref()),
            ],
        ),
        Event::Failed {
            op,
            condition,
            text,
        } => emit(
            f,
            EV_FAILED,
            &[
                op.0.into(),
                JsValue::from_str(&condition),
                opt(text.as_deref()),
            ],
        ),
        Event::AuthFailed { condition, text } => emit(
            f,
            EV_AUTH_FAILED,
            &[JsValue::from_str(&condition), opt(text.as_deref())],
        ),
        Event::StreamError { condition, text } => emit(
            f,
            EV_STREAM_ERROR,
            &[JsValue::from_str(&condition), opt(text.as_deref())],
        ),
        // The server's <close/> pointed elsewhere (followed once): open the new URL; the old
        // socket is dropped with its handlers, so its close never reaches the session.
        Event::Redirect { url: to } => {
            url.replace(to.clone());
            driver.open(&to, &[Session::SUBPROTOCOL]);
        }
        // A stream-managed socket dropped: open the same URL again; the session resumes.
        Event::Reconnect { attempt } => {
            emit(f, EV_RECONNECT, &[attempt.into()]);
            let to = url.borrow().clone();
            driver.open(&to, &[Session::SUBPROTOCOL]);
        }
        Event::Resumed => emit(f, EV_RESUMED, &[]),
        Event::Unacknowledged { stanzas } => emit(f, EV_UNACKED, &[strings(&stanzas).into()]),
        Event::ProtocolError { error } => {
            emit(f, EV_PROTOCOL_ERROR, &[JsValue::from_str(error)]);
        }
        Event::Undelivered { stanzas } => emit(f, EV_UNDELIVERED, &[strings(&stanzas).into()]),
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
