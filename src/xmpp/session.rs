//! The XMPP client session over one WebSocket (RFC 7395), sans-IO: stream open and restart,
//! SASL (SCRAM-SHA-256/-1, PLAIN, ANONYMOUS), resource binding, the legacy `<session/>` when
//! required, stanza routing (messages, presences, roster pushes, pings, unknown IQs), IQ
//! requests matched by id and origin with timeouts, in-band registration (XEP-0077) and the
//! `<close/>` handshake including `see-other-uri` redirects; and the glue of the extensions
//! (see the sibling modules): stream management is enabled after binding when offered, counts
//! and acknowledges stanzas, and when the socket drops asks the web layer for a new one
//! ([`Event::Reconnect`], with back-off) and resumes the stream, re-sending exactly what the
//! server did not count; room presences become [`Event::Occupant`]s; carbon copies and archive
//! results are only believed from the account's own bare JID (or the room queried);
//! receipt requests and `disco#info` queries are answered.
//!
//! With URLs in its [`Config`] the session also survives any lost connection (a server
//! restart, a network change), not only resumable ones: the embedded
//! [`crate::reconnect::Reconnect`] policy schedules new sockets ([`Transmit::Open`], back-off
//! with jitter, URL rotation, online/offline and visibility), announced by
//! [`Event::Reconnecting`]. On the new socket the session logs in again with the kept
//! credentials and resumes the stream when it can; otherwise it binds a fresh session and
//! restores what the page had set up before [`Event::Online`] (`reconnected: true`): its last
//! presence, carbons, the roster (re-fetched and reported as [`Event::Roster`]) and the rooms
//! it was in (rejoined without history). Stanzas sent meanwhile are queued (bounded) and sent
//! after that, in order. `disconnect` stops all retrying, also during a wait.
//!
//! The browser layer calls `handle_open`/`handle_data`/`handle_close`/`handle_timeout` and the
//! commands, then drains [`Session::poll_transmit`] (WebSocket text messages or a socket close
//! request), [`Session::poll_event`] and re-arms one timer from [`Session::poll_timeout`]. The
//! session never reads a clock: every call that may start or expire a timer takes `now`.
//! Stanzas sent with `send_message`/`set_status`/`send_raw`… before the socket opens or while
//! the stream is negotiated are queued (up to 256) and sent on `Online`; nothing is dropped
//! silently: a stanza that cannot be queued is refused with an [`Error`], and stanzas still
//! queued when the socket closes are handed back in [`Event::Undelivered`]. Across a
//! `see-other-uri` redirect (the web layer opens the new URL without reporting the old
//! socket's close) the queue is kept, and the next stream logs in and sends it.

use super::carbons::{self, Carbon};
use super::chatstates;
use super::disco::{self, NS_DISCO_INFO};
use super::jid::Jid;
use super::mam;
use super::muc::{self, Occupant, Room};
use super::receipts;
use super::roster::{self, RosterItem, NS_ROSTER};
use super::sasl::{self, plain, scram, Mechanism};
use super::secret::Secret;
use super::sm::{self, StreamManagement, NS_SM};
use super::stanza::{self, push_i64, Message, Presence};
use super::xml::{self, Element, Limits, NS_CLIENT, NS_FRAMING, NS_STREAMS};
use crate::reconnect::{redact_url, Next, Reconnect as Backoff, ReconnectConfig};
use crate::time::Millis;

const NS_SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
const NS_BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";
const NS_SESSION: &str = "urn:ietf:params:xml:ns:xmpp-session";
const NS_STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
const NS_STREAM_ERRORS: &str = "urn:ietf:params:xml:ns:xmpp-streams";
const NS_PING: &str = "urn:xmpp:ping";
const NS_REGISTER: &str = "jabber:iq:register";
const NS_REGISTER_FEATURE: &str = "http://jabber.org/features/iq-register";

/// How long to wait for the server's `<close/>` after ours before closing the socket.
const CLOSE_WAIT_MS: u64 = 5000;
/// Most stanzas queued before `Online`.
const OUTBOX_MAX: usize = 256;
/// Stream errors after which an automatic reconnection is worth trying (the server went down
/// or had a transient problem); after any other the policy stops.
const RETRYABLE_STREAM_ERRORS: [&str; 7] = [
    "system-shutdown",
    "connection-timeout",
    "reset",
    "internal-server-error",
    "remote-connection-failed",
    "resource-constraint",
    "see-other-host",
];
/// Delay before each attempt to reconnect and resume a stream-managed session, ms.
const RECONNECT_DELAYS: [u64; 8] = [0, 500, 1000, 2000, 4000, 8000, 15000, 30000];

/// Account credentials (their `Debug` shows `***` for the password).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The localpart (or, for some servers, the bare JID's localpart).
    pub username: String,
    /// The password.
    pub password: String,
    /// The resource to request at bind; `None` lets the server choose.
    pub resource: Option<String>,
}

impl core::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"***")
            .field("resource", &self.resource)
            .finish()
    }
}

/// Session configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The XMPP domain (`to` of `<open/>`).
    pub domain: String,
    /// Log in with these right after the stream opens; `None` emits [`Event::StreamReady`] and
    /// waits for `login`/`login_anonymous`/`register`.
    pub credentials: Option<Credentials>,
    /// SASL preference, strongest first ([`Mechanism::DEFAULT_PREFERENCE`]).
    pub mechanisms: Vec<Mechanism>,
    /// `wss:` or a loopback host (computed by the web layer).
    pub transport_secure: bool,
    /// Allow PLAIN over an insecure transport.
    pub allow_plain_insecure: bool,
    /// IQ timeout (also bounds each stream negotiation step), ms.
    pub iq_timeout_ms: u32,
    /// XML reader limits.
    pub limits: Limits,
    /// Enable stream management (XEP-0198) with resumption when the server offers it.
    pub stream_management: bool,
    /// Answer delivery receipt requests (XEP-0184) by ourselves.
    pub answer_receipts: bool,
    /// The WebSocket URLs, tried in turn after a drop. With URLs (and `reconnect` enabled)
    /// any lost connection is retried ([`Transmit::Open`]); without, the caller opens the
    /// sockets and only a stream-managed session is resumed, on a fixed schedule
    /// ([`Event::Reconnect`]). The first socket is always the caller's to open.
    pub urls: Vec<String>,
    /// Reconnection after a lost connection (on by default). Disabled, a drop ends the
    /// session (no resumption either).
    pub reconnect: ReconnectConfig,
    /// Seed of the reconnect delays' jitter (the caller's randomness).
    pub reconnect_seed: u64,
    /// Hand SCRAM's PBKDF2 to the caller ([`Event::DeriveKey`], answered with
    /// [`Session::key_derived`]) instead of running it inside the session. The browser layer
    /// sets this and uses WebCrypto, which runs it natively and off the page's thread.
    pub derive_keys_outside: bool,
}

impl Config {
    /// Defaults for `domain`: no credentials, default preference, insecure, 30 s IQ timeout.
    #[must_use]
    pub fn new(domain: &str) -> Config {
        Config {
            domain: String::from(domain),
            credentials: None,
            mechanisms: Mechanism::DEFAULT_PREFERENCE.to_vec(),
            transport_secure: false,
            allow_plain_insecure: false,
            iq_timeout_ms: 30_000,
            limits: Limits::default(),
            stream_management: true,
            answer_receipts: true,
            urls: Vec::new(),
            reconnect: ReconnectConfig::default(),
            reconnect_seed: 0,
            derive_keys_outside: false,
        }
    }
}

/// Extensions of an outgoing message (for [`Session::send_message_with`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageOptions<'a> {
    /// `type` (`chat`, `groupchat`, `normal`, `headline`).
    pub kind: Option<&'a str>,
    /// `<subject/>`.
    pub subject: Option<&'a str>,
    /// `<thread/>`.
    pub thread: Option<&'a str>,
    /// Ask for a delivery receipt (XEP-0184).
    pub receipt: bool,
    /// A chat state (XEP-0085): `active`, `composing`, `paused`, `inactive`, `gone`.
    pub chat_state: Option<&'a str>,
    /// Give the message an `id` even when nothing refers to it. Without this, only messages
    /// that ask for a receipt or go to a room (whose echo is recognised by it) carry one: an id
    /// costs ~15 bytes on the wire, and a plain chat message needs none.
    pub id: bool,
}

/// Identifies a command that completes later with [`Event::Completed`] or [`Event::Failed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(pub u32);

/// Something for the browser layer to do with the socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// Send one WebSocket text message.
    Text(String),
    /// Close the socket with this code (always 1000, valid for `WebSocket.close`) and reason.
    Close {
        /// Close code.
        code: u16,
        /// Reason (under 123 bytes).
        reason: &'static str,
    },
    /// Open a new WebSocket to `url` (subprotocol [`Session::SUBPROTOCOL`]), replacing the
    /// old one (closed by then): an automatic reconnection. Its events go to `handle_open`…
    Open {
        /// Where (one of [`Config::urls`]).
        url: String,
    },
}

/// What happened, for the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Stream open, features known, not authenticated (no credentials configured).
    StreamReady,
    /// SCRAM needs its SaltedPassword (only with [`Config::derive_keys_outside`]): derive
    /// PBKDF2-HMAC of the request (one block, the hash's length) and give it to
    /// [`Session::key_derived`] with this `id`; or give `None` there to have the session
    /// derive it.
    DeriveKey {
        /// Names this request in [`Session::key_derived`].
        id: u32,
        /// Hash, password, salt and iteration count.
        request: scram::KeyRequest,
    },
    /// Authenticated and bound (and session established if required).
    Online {
        /// The full JID assigned.
        jid: String,
        /// A fresh session after a lost connection (not the first `Online`): with automatic
        /// reconnection, presence, carbons, roster and rooms are already being restored.
        reconnected: bool,
    },
    /// A message stanza.
    Message(Message),
    /// A presence stanza.
    Presence(Presence),
    /// A trusted roster push (already acknowledged).
    RosterPush(Vec<RosterItem>),
    /// The whole roster, fetched again after an automatic reconnection because the page had
    /// fetched it before.
    Roster(Vec<RosterItem>),
    /// A presence from a room we joined or are joining (XEP-0045), ours included.
    Occupant(Occupant),
    /// A delivery receipt (XEP-0184): `from` received our message `id`.
    Receipt {
        /// Who received it.
        from: String,
        /// The id of our message.
        id: String,
    },
    /// A `disco_info` command completed (XEP-0030).
    DiscoInfo {
        /// The command.
        op: OpId,
        /// Identities and features.
        info: disco::Info,
    },
    /// A `disco_items` command completed.
    DiscoItems {
        /// The command.
        op: OpId,
        /// The items.
        items: Vec<disco::Item>,
    },
    /// A `query_archive` command completed (XEP-0313): one page of archived messages.
    Archive {
        /// The command.
        op: OpId,
        /// The page.
        page: mam::Page,
    },
    /// A chat state notification (XEP-0085): `from` is `active`, `composing`, `paused`,
    /// `inactive` or `gone`. (A message that carries only a chat state or a receipt is not
    /// also reported as [`Event::Message`].)
    ChatState {
        /// Who.
        from: String,
        /// The state.
        state: &'static str,
    },
    /// A command finished. `roster` for `get_roster`; `xml` is the whole IQ result.
    Completed {
        /// The command.
        op: OpId,
        /// Roster items (for `get_roster`).
        roster: Option<Vec<RosterItem>>,
        /// The IQ result stanza.
        xml: Option<String>,
    },
    /// A command failed: stanza error condition, `remote-server-timeout`, `closed`,
    /// `unexpected-request` (wrong state) or `bad-request` (bad argument).
    Failed {
        /// The command.
        op: OpId,
        /// Condition.
        condition: String,
        /// Optional text.
        text: Option<String>,
    },
    /// Login failed (SASL failure, no usable mechanism, bind error); the session closes.
    AuthFailed {
        /// SASL failure condition or a local reason.
        condition: String,
        /// Optional text.
        text: Option<String>,
    },
    /// The server sent a stream error (or negotiation timed out); the session closes.
    StreamError {
        /// Stream error condition.
        condition: String,
        /// Optional text.
        text: Option<String>,
    },
    /// The server's `<close/>` carried `see-other-uri` (followed once): reconnect there.
    Redirect {
        /// The new WebSocket URL.
        url: String,
    },
    /// Stanzas queued before `Online` that were never sent because the session closed
    /// (the XML of each, in the order given); emitted just before [`Event::Closed`], or by
    /// `disconnect` before the socket opened.
    Undelivered {
        /// The stanzas, as they would have been sent.
        stanzas: Vec<String>,
    },
    /// Without [`Config::urls`] only: the socket of a stream-managed session dropped (instead
    /// of [`Event::Closed`], after a delay from `poll_timeout`): open the same URL again now
    /// (attempt 1, 2, …); the session then resumes the stream by itself. (With URLs the
    /// session asks for sockets itself: [`Event::Reconnecting`], [`Transmit::Open`].)
    Reconnect {
        /// Attempt number, from 1.
        attempt: u32,
    },
    /// The connection was lost (`code`, `reason`, `clean` as the socket reported) and
    /// automatic retry number `attempt` will go to `url` (credentials masked) after
    /// `delay_ms` (`None`: once the network is back). Only with [`Config::urls`].
    Reconnecting {
        /// Retries in a row, from 1.
        attempt: u32,
        /// The wait before the retry, ms.
        delay_ms: Option<u64>,
        /// The URL of the retry, with any `user:password@` masked.
        url: String,
        /// Close code of the lost socket.
        code: u16,
        /// Close reason of the lost socket.
        reason: String,
        /// Whether that close was clean.
        clean: bool,
    },
    /// The stream was resumed (XEP-0198) after a drop: nothing was lost; stanzas the server
    /// had not acknowledged were sent again, then those queued meanwhile.
    Resumed,
    /// Stanzas sent on a stream-managed session that the server never acknowledged, when the
    /// stream ends without resumption (resumption refused, given up, or the session closed):
    /// they may not have arrived. On a refused resumption a fresh session follows
    /// ([`Event::Online`] again; rooms, carbons and presence must be set up anew).
    Unacknowledged {
        /// The stanzas, as sent.
        stanzas: Vec<String>,
    },
    /// Malformed XML or a limit hit; the session closes.
    ProtocolError {
        /// What was wrong.
        error: &'static str,
    },
    /// The socket closed.
    Closed {
        /// Close code.
        code: u16,
        /// Close reason.
        reason: String,
        /// Whether the close was clean.
        clean: bool,
    },
}

/// Errors returned synchronously by the commands that send stanzas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The XML argument is not well-formed.
    Xml(xml::Error),
    /// No stream to send on, and none coming: closing, closed, or disconnected.
    NotConnected,
    /// The outbox (256 stanzas queued before `Online`) is full.
    OutboxFull,
    /// Stream management holds 1000 stanzas the server has not acknowledged yet.
    TooManyUnacked,
    /// An argument is invalid.
    BadArgument(&'static str),
}

impl Error {
    /// A static description.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Error::Xml(e) => e.as_str(),
            Error::NotConnected => "XMPP: not connected",
            Error::OutboxFull => "XMPP: outbox full (256 stanzas queued before online)",
            Error::TooManyUnacked => "XMPP: 1000 stanzas await the server's acknowledgement",
            Error::BadArgument(s) => s,
        }
    }
}

/// What a SASL challenge leads to.
enum Challenge {
    /// Answer with this raw message.
    Reply(String),
    /// Ask the caller for SCRAM's SaltedPassword first.
    Derive(scram::KeyRequest),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    AwaitOpen,
    AwaitFeatures,
    Ready,
    Sasl,
    Binding,
    SessionStart,
    /// `<resume/>` sent on a new stream.
    Resuming,
    Online,
    Closing,
    Closed,
    /// A stream-managed socket dropped; waiting to open a new one and resume.
    Reconnecting,
}

/// What a dropped session keeps for the next socket (resumption, the close to report).
#[derive(Clone, Debug)]
struct Resume {
    attempt: u32,
    /// When to ask for the next socket (`None`: asked, waiting for it).
    at: Option<Millis>,
    started: Millis,
    jid: Option<Jid>,
    presence_sent: bool,
    code: u16,
    reason: String,
    clean: bool,
}

#[derive(Clone, Debug)]
struct LoginState {
    username: String,
    password: Secret,
    resource: Option<String>,
    anonymous: bool,
    op: Option<OpId>,
    /// From `login()` rather than the config: forgotten after an authentication failure.
    transient: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    Bind,
    Session,
    Op {
        op: OpId,
        kind: Kind,
    },
    /// Restoring the page's setup after a reconnection (no command waits for it).
    Restore {
        kind: Kind,
    },
}

/// What the result of a command's IQ carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Plain,
    Roster,
    DiscoInfo,
    DiscoItems,
}

#[derive(Clone, Debug)]
struct PendingIq {
    id: String,
    to: Option<String>,
    deadline: Millis,
    purpose: Purpose,
    /// An archive query's results so far.
    mam: Option<Box<mam::Pending>>,
}

/// The XMPP session state machine.
#[derive(Debug)]
pub struct Session {
    config: Config,
    seed: [u8; 32],
    nonce_counter: u32,
    id_prefix: String,
    next_id: u32,
    next_op: u32,
    phase: Phase,
    authenticated: bool,
    login: Option<LoginState>,
    mechanism: Option<Mechanism>,
    scram: Option<scram::ScramClient>,
    /// The id of the last [`Event::DeriveKey`].
    key_id: u32,
    offered: Vec<String>,
    register_offered: bool,
    session_required: bool,
    jid: Option<Jid>,
    jid_str: Option<String>,
    pending: Vec<PendingIq>,
    disconnect_ops: Vec<OpId>,
    close_deadline: Option<Millis>,
    negotiation_deadline: Option<Millis>,
    transmits: Fifo<Transmit>,
    events: Fifo<Event>,
    outbox: Vec<String>,
    presence_sent: bool,
    redirected: bool,
    /// A `Redirect` was emitted and no socket opened since: the web layer is reconnecting,
    /// so stanzas are still queued in `Phase::Closed`.
    redirect_pending: bool,
    /// Stanzas are queued in `Phase::Idle`: before the first socket opens (not after a close).
    idle_queue: bool,
    /// The latest time passed in (for deadlines set by commands that take none).
    now: Millis,
    sm: StreamManagement,
    /// The post-authentication features offered stream management.
    sm_offered: bool,
    /// Send `<r/>` at this time (set when a counted stanza goes out).
    ack_due: Option<Millis>,
    /// The outstanding `<r/>` must be answered by then, else the socket is presumed dead.
    ack_deadline: Option<Millis>,
    reconnect: Option<Resume>,
    /// When and where to reconnect (with [`Config::urls`]).
    backoff: Backoff,
    /// [`Config::urls`] was not empty (the list itself moved to `backoff`).
    has_urls: bool,
    /// `Online`s so far: the next one is a reconnection when nonzero.
    generation: u32,
    /// The page fetched the roster: re-fetched after a reconnection.
    roster_wanted: bool,
    /// The page's last available presence, re-sent after a reconnection.
    last_presence: Option<String>,
    /// The page turned carbons on: turned on again after a reconnection.
    carbons_on: bool,
    /// Both `<close/>`s were exchanged on the current stream.
    closed_cleanly: bool,
    rooms: Vec<Room>,
    /// Our entity capabilities hash (XEP-0115).
    caps_ver: String,
}

/// A queue the web layer drains: a `Vec` read from `head` and emptied once drained (lighter
/// in the wasm than `VecDeque`'s ring buffer; pushing and popping stay O(1)).
#[derive(Debug)]
struct Fifo<T> {
    items: Vec<T>,
    head: usize,
}

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo {
            items: Vec::new(),
            head: 0,
        }
    }
}

impl<T> Fifo<T> {
    fn push(&mut self, item: T) {
        self.items.push(item);
    }

    /// The oldest item, leaving `hole` (a value without heap data) in its slot.
    fn pop(&mut self, hole: T) -> Option<T> {
        let slot = self.items.get_mut(self.head)?;
        let item = core::mem::replace(slot, hole);
        self.head = self.head.saturating_add(1);
        if self.head >= self.items.len() {
            self.items.clear();
            self.head = 0;
        }
        Some(item)
    }
}

/// Whether serialised XML is a top-level stanza as this crate writes them.
fn is_stanza_xml(xml: &str) -> bool {
    for p in &["<message ", "<presence ", "<iq "] {
        if let Some(r) = xml.strip_prefix(p) {
            return r.starts_with("xmlns=\"jabber:client\"");
        }
    }
    false
}

fn framing(name: &str) -> Element {
    Element::new(name, NS_FRAMING)
}

/// The roster items of an IQ result (none without a roster query).
fn roster_of(iq: &Element) -> Vec<RosterItem> {
    iq.child("query", NS_ROSTER)
        .map(roster::parse_items)
        .unwrap_or_default()
}

/// Condition and text of a stanza's `<error/>`.
fn error_of(stanza: &Element) -> (String, Option<String>) {
    stanza
        .child("error", NS_CLIENT)
        .map_or((String::from("undefined-condition"), None), |e| {
            condition_of(e, NS_STANZAS)
        })
}

/// Condition (first child element in `ns` other than `text`) and text of an error element.
fn condition_of(el: &Element, ns: &str) -> (String, Option<String>) {
    // One loop for both (each `find` was one more generic in the wasm).
    let mut cond = None;
    let mut text = None;
    for c in el.elements() {
        if c.ns != ns {
            continue;
        }
        if c.name == "text" {
            text = text.or(Some(c));
        } else {
            cond = cond.or(Some(c));
        }
    }
    let cond = cond.map_or_else(|| String::from("undefined-condition"), |c| c.name.clone());
    (cond, text.map(Element::text).filter(|t| !t.is_empty()))
}

impl Session {
    /// The WebSocket subprotocol to request.
    pub const SUBPROTOCOL: &'static str = "xmpp";

    /// A session with `config`; `entropy` (32 random bytes, e.g. `crypto.getRandomValues`)
    /// seeds SCRAM nonces and stanza ids.
    #[must_use]
    pub fn new(mut config: Config, entropy: [u8; 32]) -> Session {
        let mut h = sasl::sha::Sha::new(sasl::scram::Hash::Sha256);
        h.update(&entropy);
        h.update(b"ids");
        let d = h.finish();
        // `+` and `/` become `x` (byte by byte: `str::replace` pulls in a pattern searcher).
        let mut id_prefix = String::new();
        for c in sasl::base64_encode(d.bytes().get(..6).unwrap_or(&[])).chars() {
            id_prefix.push(if c == '+' || c == '/' { 'x' } else { c });
        }
        let receipts = config.answer_receipts;
        let login = config.credentials.as_ref().map(|c| LoginState {
            username: c.username.clone(),
            password: Secret::from(c.password.as_str()),
            resource: c.resource.clone(),
            anonymous: false,
            op: None,
            transient: false,
        });
        // The URLs move to the policy (a clone of the list cost wasm); `auto` needs only
        // whether there were any.
        let urls = core::mem::take(&mut config.urls);
        let has_urls = !urls.is_empty();
        let backoff = Backoff::new(config.reconnect.clone(), urls, config.reconnect_seed);
        Session {
            config,
            seed: entropy,
            nonce_counter: 0,
            id_prefix,
            next_id: 0,
            next_op: 0,
            phase: Phase::Idle,
            authenticated: false,
            login,
            mechanism: None,
            scram: None,
            key_id: 0,
            offered: Vec::new(),
            register_offered: false,
            session_required: false,
            jid: None,
            jid_str: None,
            pending: Vec::new(),
            disconnect_ops: Vec::new(),
            close_deadline: None,
            negotiation_deadline: None,
            transmits: Fifo::default(),
            events: Fifo::default(),
            outbox: Vec::new(),
            presence_sent: false,
            redirected: false,
            redirect_pending: false,
            idle_queue: true,
            now: Millis::ZERO,
            sm: StreamManagement::default(),
            sm_offered: false,
            ack_due: None,
            ack_deadline: None,
            reconnect: None,
            backoff,
            has_urls,
            generation: 0,
            roster_wanted: false,
            last_presence: None,
            carbons_on: false,
            closed_cleanly: false,
            rooms: Vec::new(),
            caps_ver: disco::ver(receipts),
        }
    }

    /// The full JID once bound.
    #[must_use]
    pub fn jid(&self) -> Option<&str> {
        self.jid_str.as_deref()
    }

    /// Whether the last pre-authentication features advertised in-band registration
    /// (XEP-0077 `<register xmlns='http://jabber.org/features/iq-register'/>`).
    #[must_use]
    pub fn register_offered(&self) -> bool {
        self.register_offered
    }

    /// SASL mechanisms the server offered before authentication (as sent).
    #[must_use]
    pub fn offered_mechanisms(&self) -> &[String] {
        &self.offered
    }

    /// Whether the session is online (bound).
    #[must_use]
    pub fn is_online(&self) -> bool {
        self.phase == Phase::Online
    }

    /// The next thing to do with the socket.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop(Transmit::Close {
            code: 0,
            reason: "",
        })
    }

    /// The next event for the page.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop(Event::StreamReady)
    }

    /// The earliest deadline at which `handle_timeout` must be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        // A plain loop: the iterator chain this replaces cost ~700 B of wasm.
        fn earliest(a: Option<Millis>, b: Option<Millis>) -> Option<Millis> {
            match (a, b) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, None) => x,
                (None, y) => y,
            }
        }
        let mut t = self.close_deadline;
        for d in &[
            self.negotiation_deadline,
            self.ack_due,
            self.ack_deadline,
            self.reconnect.as_ref().and_then(|r| r.at),
            self.backoff.poll_timeout(),
        ] {
            t = earliest(t, *d);
        }
        for p in &self.pending {
            t = earliest(t, Some(p.deadline));
        }
        for r in &self.rooms {
            t = earliest(t, r.deadline);
        }
        t
    }

    // ----- plumbing -----

    fn timeout_ms(&self) -> u64 {
        u64::from(self.config.iq_timeout_ms)
    }

    #[inline(never)]
    fn new_op(&mut self) -> OpId {
        self.next_op = self.next_op.wrapping_add(1);
        OpId(self.next_op)
    }

    fn new_id(&mut self) -> String {
        self.next_id = self.next_id.wrapping_add(1);
        let mut s = self.id_prefix.clone();
        push_i64(&mut s, i64::from(self.next_id));
        s
    }

    fn send(&mut self, el: &Element) {
        self.push_out(el.to_xml());
    }

    /// Queues one serialised element for the socket; a stanza is counted and kept for stream
    /// management, and an `<r/>` is scheduled for the end of the current burst.
    fn push_out(&mut self, xml: String) {
        if self.sm.counting_out() && is_stanza_xml(&xml) {
            self.sm.sent(&xml);
            if !self.sm.requested && self.ack_due.is_none() {
                self.ack_due = Some(self.now);
            }
        }
        self.transmits.push(Transmit::Text(xml));
    }

    /// Queues serialised stanzas in order (strings moved out of their slots: a consuming
    /// loop would be one more generic in the wasm).
    #[inline(never)]
    fn push_all(&mut self, mut xmls: Vec<String>) {
        for x in &mut xmls {
            self.push_out(core::mem::take(x));
        }
    }

    #[inline(never)]
    fn event(&mut self, e: Event) {
        self.events.push(e);
    }

    fn fail_op(&mut self, op: OpId, condition: &str, text: Option<&str>) {
        self.event(Event::Failed {
            op,
            condition: String::from(condition),
            text: text.map(String::from),
        });
    }

    #[inline(never)]
    fn negotiating(&self) -> bool {
        matches!(
            self.phase,
            Phase::AwaitOpen
                | Phase::AwaitFeatures
                | Phase::Ready
                | Phase::Sasl
                | Phase::Binding
                | Phase::SessionStart
                | Phase::Resuming
        )
    }

    /// Sends a stanza now when online, queues it before the socket opens and while
    /// negotiating, else refuses it.
    fn send_stanza(&mut self, xml: String) -> Result<(), Error> {
        if self.phase == Phase::Online {
            if self.sm.unacked_len() >= sm::QUEUE_MAX {
                return Err(Error::TooManyUnacked);
            }
            self.push_out(xml);
            return Ok(());
        }
        let queueing = self.negotiating()
            || self.phase == Phase::Reconnecting
            || (self.phase == Phase::Idle && self.idle_queue)
            || (self.phase == Phase::Closed && self.redirect_pending);
        if !queueing {
            Err(Error::NotConnected)
        } else if self.outbox.len() >= OUTBOX_MAX {
            Err(Error::OutboxFull)
        } else {
            self.outbox.push(xml);
            Ok(())
        }
    }

    /// Hands the outbox back to the page (nothing if empty).
    fn report_undelivered(&mut self) {
        if !self.outbox.is_empty() {
            let stanzas = core::mem::take(&mut self.outbox);
            self.event(Event::Undelivered { stanzas });
        }
    }

    fn send_iq(
        &mut self,
        now: Millis,
        kind: &str,
        to: Option<&str>,
        payload: Option<Element>,
        purpose: Purpose,
    ) {
        let id = self.new_id();
        self.send_iq_el(kind, &id, to, payload);
        self.pending.push(PendingIq {
            id,
            to: to.map(String::from),
            deadline: now + self.timeout_ms(),
            purpose,
            mam: None,
        });
    }

    fn send_open(&mut self, now: Millis) {
        let open = framing("open")
            .with_attr("to", &self.config.domain)
            .with_attr("version", "1.0");
        self.send(&open);
        self.phase = Phase::AwaitOpen;
        self.negotiation_deadline = Some(now + self.timeout_ms());
    }

    /// Sends `<close/>` and waits (bounded) for the server's.
    fn begin_close(&mut self, now: Millis) {
        match self.phase {
            Phase::Idle | Phase::Closing | Phase::Closed => {}
            _ => {
                self.send(&framing("close"));
                self.phase = Phase::Closing;
                self.negotiation_deadline = None;
                self.close_deadline = Some(now + CLOSE_WAIT_MS);
            }
        }
    }

    /// Asks the web layer to close the socket.
    fn close_socket(&mut self, reason: &'static str) {
        if self.phase != Phase::Closed && self.phase != Phase::Idle {
            self.transmits.push(Transmit::Close { code: 1000, reason });
        }
        self.phase = Phase::Closed;
        self.close_deadline = None;
        self.negotiation_deadline = None;
    }

    fn complete_disconnects(&mut self) {
        for op in &core::mem::take(&mut self.disconnect_ops) {
            self.complete(*op, None);
        }
    }

    fn fail_auth(&mut self, now: Millis, condition: &str, text: Option<&str>) {
        if condition != "temporary-auth-failure" && condition != "remote-server-timeout" {
            // Wrong credentials stay wrong: no automatic retry.
            self.backoff.stop();
        }
        self.event(Event::AuthFailed {
            condition: String::from(condition),
            text: text.map(String::from),
        });
        if let Some(l) = self.login.take() {
            if let Some(op) = l.op {
                self.fail_op(op, condition, text);
            }
            if !l.transient {
                self.login = Some(LoginState { op: None, ..l });
            }
        }
        self.scram = None;
        self.begin_close(now);
    }

    // ----- socket inputs -----

    /// The socket opened: sends `<open/>`. Also used after a redirect or reconnect.
    pub fn handle_open(&mut self, now: Millis) {
        self.now = now;
        if let Some(r) = self.reconnect.as_mut() {
            r.at = None;
        }
        self.ack_due = None;
        self.ack_deadline = None;
        self.sm.requested = false;
        self.forget_stream();
        self.mechanism = None;
        self.presence_sent = false;
        self.send_open(now);
    }

    /// The socket closed: emits [`Event::Closed`], fails pending commands with `closed`.
    /// Credentials (configured or given to `login`) are kept, so a later `handle_open` (a
    /// reconnect or a redirect) logs in again by itself.
    ///
    /// Stanzas still queued are reported in one [`Event::Undelivered`] just before `Closed`,
    /// and later stanzas are refused with [`Error::NotConnected`] until `handle_open`. After
    /// an [`Event::Redirect`] the web layer must not report the old socket's close (it opens
    /// the new URL instead: the queue is kept for that stream); a `handle_close` then means
    /// the new socket failed, and reports the queue.
    pub fn handle_close(&mut self, now: Millis, code: u16, reason: &str, clean: bool) {
        self.now = now;
        self.ack_due = None;
        self.ack_deadline = None;
        if self.auto() {
            self.close_auto(now, code, reason, clean);
            return;
        }
        let resumable = self.config.reconnect.enabled
            && self.disconnect_ops.is_empty()
            && self.sm.resumable()
            && (self.phase == Phase::Online
                || (self.reconnect.is_some()
                    && (self.negotiating() || self.phase == Phase::Reconnecting)));
        if resumable && self.schedule_reconnect(now, code, reason, clean) {
            return;
        }
        self.finish_closed(code, reason, clean);
    }

    /// Whether any lost connection is retried (URLs given, reconnection on).
    #[inline(never)]
    fn auto(&self) -> bool {
        self.config.reconnect.enabled && self.has_urls
    }

    /// A socket closed with automatic reconnection: retried unless `disconnect` was called,
    /// a fatal error stopped the policy, or it gave up.
    fn close_auto(&mut self, now: Millis, code: u16, reason: &str, clean: bool) {
        let over = self.phase == Phase::Idle && !self.idle_queue;
        if !over && self.disconnect_ops.is_empty() && !self.backoff.is_stopped() {
            let delay_ms = match self.backoff.disconnected(now) {
                Next::Retry { delay_ms, .. } => Some(Some(delay_ms)),
                Next::WaitOnline { .. } => Some(None),
                Next::GiveUp => None,
            };
            if let Some(delay_ms) = delay_ms {
                self.drop_for_retry(now, code, reason, clean);
                let url = redact_url(self.backoff.url().unwrap_or("")).into_owned();
                self.event(Event::Reconnecting {
                    attempt: self.backoff.attempt(),
                    delay_ms,
                    url,
                    code,
                    reason: String::from(reason),
                    clean,
                });
                return;
            }
        }
        self.backoff.stop();
        self.finish_closed(code, reason, clean);
    }

    /// The connection is gone and another will be tried: keeps what a resumption needs, or,
    /// when the stream cannot be resumed, ends what the old session had (pending commands
    /// fail, rooms are kept to be rejoined).
    fn drop_for_retry(&mut self, now: Millis, code: u16, reason: &str, clean: bool) {
        if !self.sm.resumable() {
            self.report_unacked(None);
            self.fail_pending("closed", Some("connection lost"));
            self.keep_rooms_for_rejoin();
        }
        self.keep_for_resume(now, code, reason, clean);
        if let Some(op) = self.login.as_mut().and_then(|l| l.op.take()) {
            self.fail_op(op, "closed", Some("connection lost"));
        }
        self.phase = Phase::Reconnecting;
        self.forget_stream();
    }

    /// Starts the [`Resume`] state of a dropped session (kept if there is one already).
    fn keep_for_resume(&mut self, now: Millis, code: u16, reason: &str, clean: bool) {
        if self.reconnect.is_none() {
            let jid = self.jid.take();
            self.reconnect = Some(Resume {
                attempt: 0,
                at: None,
                started: now,
                jid,
                presence_sent: self.presence_sent,
                code,
                reason: String::from(reason),
                clean,
            });
        }
    }

    /// Forgets what belonged to the stream that just ended (or is being replaced): login
    /// state, bound JID, SCRAM exchange, close and negotiation deadlines, redirect.
    fn forget_stream(&mut self) {
        self.redirect_pending = false;
        self.closed_cleanly = false;
        self.authenticated = false;
        self.jid = None;
        self.jid_str = None;
        self.scram = None;
        self.close_deadline = None;
        self.negotiation_deadline = None;
    }

    /// Rooms we were in are kept (no command, not joined) to be rejoined on the next
    /// session; joins and leaves in progress fail.
    fn keep_rooms_for_rejoin(&mut self) {
        for mut r in core::mem::take(&mut self.rooms) {
            if let Some(op) = r.op.take() {
                self.fail_op(op, "closed", Some("connection lost"));
            }
            if (r.joined || r.rejoin) && !r.leaving {
                r.joined = false;
                r.rejoin = true;
                r.deadline = None;
                self.rooms.push(r);
            }
        }
    }

    /// A room we were in could not be rejoined after a reconnection: reported as our own
    /// unavailable presence in it, as if we had left.
    fn report_left(&mut self, r: &Room) {
        let p = stanza::presence(Some("unavailable"), None, None, None, None)
            .with_attr("from", &r.occupant_jid())
            .with_child(
                Element::new("x", muc::NS_MUC_USER)
                    .with_child(Element::new("status", muc::NS_MUC_USER).with_attr("code", "110")),
            );
        let occ = Occupant::from_presence(&p, &r.jid, &r.nick, &r.nick);
        self.event(Event::Occupant(occ));
    }

    /// After a reconnection, before `Online`: re-sends the page's presence, turns carbons on,
    /// re-fetches the roster and rejoins the rooms (without history), as the page had them.
    fn restore(&mut self, now: Millis) {
        if let Some(p) = self.last_presence.clone() {
            self.push_out(p);
            self.presence_sent = true;
        }
        if self.carbons_on {
            let q = carbons::toggle(true);
            let purpose = Purpose::Restore { kind: Kind::Plain };
            self.send_iq(now, "set", None, Some(q), purpose);
        }
        if self.roster_wanted {
            let purpose = Purpose::Restore { kind: Kind::Roster };
            self.send_iq(now, "get", None, Some(roster::get_query()), purpose);
        }
        let history = muc::History {
            max_stanzas: Some(0),
            ..muc::History::default()
        };
        let deadline = now + self.timeout_ms();
        let mut joins = Vec::new();
        for r in &mut self.rooms {
            if !r.rejoin {
                continue;
            }
            r.deadline = Some(deadline);
            let caps = Some(disco::caps(&self.caps_ver));
            joins.push(muc::join(
                &r.occupant_jid(),
                r.password.as_deref(),
                &history,
                caps,
            ));
        }
        for p in &joins {
            self.send(p);
        }
    }

    /// Plans the next reconnection attempt; `false` when attempts or the server's resumption
    /// window are exhausted.
    fn schedule_reconnect(&mut self, now: Millis, code: u16, reason: &str, clean: bool) -> bool {
        let window = self
            .sm
            .max_secs()
            .map_or(300_000, |s| u64::from(s).saturating_mul(1000).min(300_000));
        self.keep_for_resume(now, code, reason, clean);
        self.jid = None;
        let Some(r) = self.reconnect.as_mut() else {
            return false;
        };
        let Some(delay) = RECONNECT_DELAYS.get(usize::try_from(r.attempt).unwrap_or(usize::MAX))
        else {
            return false;
        };
        if now.since(r.started).saturating_add(*delay) > window {
            return false;
        }
        r.attempt = r.attempt.saturating_add(1);
        r.at = Some(now + *delay);
        self.phase = Phase::Reconnecting;
        self.forget_stream();
        true
    }

    /// The browser refused to create the socket (a malformed URL, a blocked port): retrying
    /// cannot help, so the session closes for good with code 1006 and the browser's `reason`.
    pub fn handle_open_failed(&mut self, now: Millis, reason: &str) {
        self.backoff.stop();
        self.handle_close(now, 1006, reason, false);
    }

    /// The session is over: fails what is pending, reports what was not delivered, `Closed`.
    fn finish_closed(&mut self, code: u16, reason: &str, clean: bool) {
        let (code, reason, clean) = match self.reconnect.take() {
            // A failed reconnection reports the close that dropped the session.
            Some(r) if self.phase == Phase::Reconnecting => (r.code, r.reason, r.clean),
            _ => (code, String::from(reason), clean || self.closed_cleanly),
        };
        self.idle_queue = false;
        self.phase = Phase::Idle;
        self.forget_stream();
        self.complete_disconnects();
        self.fail_pending("closed", None);
        self.end_rooms();
        if let Some(op) = self.login.as_mut().and_then(|l| l.op.take()) {
            self.fail_op(op, "closed", None);
        }
        self.report_unacked(None);
        self.report_undelivered();
        self.event(Event::Closed {
            code,
            reason,
            clean,
        });
    }

    /// Forgets the rooms (the server's session is gone), failing their pending commands.
    fn end_rooms(&mut self) {
        for r in &core::mem::take(&mut self.rooms) {
            if let Some(op) = r.op {
                self.fail_op(op, "closed", None);
            }
        }
    }

    /// The stream could not be resumed: what the old session had is gone; bind a new one.
    fn fresh_session(&mut self, now: Millis, h: Option<u32>) {
        self.report_unacked(h);
        self.reconnect = None;
        self.fail_pending("closed", Some("stream not resumed"));
        if self.auto() {
            self.keep_rooms_for_rejoin();
        } else {
            self.end_rooms();
        }
        self.presence_sent = false;
        self.start_bind(now);
    }

    /// Fails every pending IQ command.
    fn fail_pending(&mut self, condition: &str, text: Option<&str>) {
        for p in core::mem::take(&mut self.pending) {
            if let Purpose::Op { op, .. } = p.purpose {
                self.fail_op(op, condition, text);
            }
        }
    }

    /// Ends stream management, reporting stanzas that may not have arrived.
    fn report_unacked(&mut self, h: Option<u32>) {
        let stanzas = self.sm.lost(h);
        self.ack_due = None;
        self.ack_deadline = None;
        if !stanzas.is_empty() {
            self.event(Event::Unacknowledged { stanzas });
        }
    }

    /// The browser's network came back (`online`) or went away: a reconnection waiting for
    /// its back-off delay is tried at once when the network returns.
    pub fn handle_network(&mut self, now: Millis, online: bool) {
        self.now = now;
        self.backoff.set_online(now, online);
        if let Some(r) = self.reconnect.as_mut().filter(|_| online) {
            if r.at.is_some() {
                r.at = Some(now);
            }
        }
    }

    /// The page became visible (`true`) or hidden: becoming visible cuts a reconnection wait
    /// short (with [`Config::urls`]).
    pub fn handle_visibility(&mut self, now: Millis, visible: bool) {
        self.now = now;
        self.backoff.set_visible(now, visible);
    }

    /// Whether an automatic reconnection is under way (waiting or negotiating).
    #[must_use]
    pub fn is_reconnecting(&self) -> bool {
        self.reconnect.is_some()
    }

    /// Time passed: expires IQs, negotiation steps and the close wait.
    pub fn handle_timeout(&mut self, now: Millis) {
        self.now = now;
        // One loop keeps the live IQs in order and fails the expired ones (not `retain` and a
        // list of the expired: two more generics in the wasm). Failing touches no IQ.
        for p in core::mem::take(&mut self.pending) {
            if p.deadline > now {
                self.pending.push(p);
                continue;
            }
            match p.purpose {
                Purpose::Op { op, .. } => self.fail_op(op, "remote-server-timeout", None),
                Purpose::Bind | Purpose::Session => {
                    self.fail_auth(now, "remote-server-timeout", None);
                }
                Purpose::Restore { .. } => {}
            }
        }
        if self.negotiation_deadline.is_some_and(|d| d <= now) && self.reconnect.is_some() {
            // A reconnection attempt hangs: drop that socket and try the next one.
            self.negotiation_deadline = None;
            self.phase = Phase::Reconnecting;
            self.transmits.push(Transmit::Close {
                code: 1000,
                reason: "negotiation timeout",
            });
        }
        if self.negotiation_deadline.is_some_and(|d| d <= now) {
            self.negotiation_deadline = None;
            self.event(Event::StreamError {
                condition: String::from("connection-timeout"),
                text: Some(String::from("stream negotiation timed out")),
            });
            if let Some(op) = self.login.as_mut().and_then(|l| l.op.take()) {
                self.fail_op(op, "remote-server-timeout", None);
            }
            self.close_socket("negotiation timeout");
        }
        if self.close_deadline.is_some_and(|d| d <= now) {
            self.close_socket("close timeout");
        }
        let mut i = 0;
        while let Some(r) = self.rooms.get(i) {
            if r.deadline.is_some_and(|d| d <= now) {
                let r = self.rooms.remove(i);
                if let Some(op) = r.op {
                    self.fail_op(op, "remote-server-timeout", None);
                }
                if r.rejoin {
                    self.report_left(&r);
                }
            } else {
                i += 1;
            }
        }
        if self.ack_due.is_some_and(|d| d <= now) {
            self.ack_due = None;
            if self.phase == Phase::Online && self.sm.unacked_len() > 0 && !self.sm.requested {
                self.sm.requested = true;
                self.send(&StreamManagement::request());
                self.ack_deadline = Some(now + self.timeout_ms());
            }
        }
        if self.ack_deadline.is_some_and(|d| d <= now) {
            // No <a/> in time: the connection is presumed dead. Closing it while still online
            // makes the close resume the stream on a new socket.
            self.ack_deadline = None;
            if self.phase == Phase::Online {
                self.transmits.push(Transmit::Close {
                    code: 1000,
                    reason: "ack timeout",
                });
            }
        }
        if let Some(r) = self.reconnect.as_mut() {
            if r.at.is_some_and(|d| d <= now) {
                r.at = None;
                let attempt = r.attempt;
                self.event(Event::Reconnect { attempt });
            }
        }
        if self.phase == Phase::Reconnecting {
            if let Some(url) = self.backoff.handle_timeout(now).map(String::from) {
                self.transmits.push(Transmit::Open { url });
            }
        }
    }

    /// One WebSocket message (one element, UTF-8).
    pub fn handle_data(&mut self, now: Millis, data: &[u8]) {
        self.now = now;
        if matches!(
            self.phase,
            Phase::Idle | Phase::Closed | Phase::Reconnecting
        ) || xml::is_blank(data)
        {
            return;
        }
        let el = match xml::parse(data, &self.config.limits, NS_CLIENT) {
            Ok(el) => el,
            Err(e) => {
                self.fatal(e.as_str());
                return;
            }
        };
        if el.is("close", NS_FRAMING) {
            self.on_server_close(&el);
            return;
        }
        if el.ns == NS_CLIENT && matches!(el.name.as_str(), "message" | "presence" | "iq") {
            self.sm.received();
        } else if el.ns == NS_SM {
            self.on_sm(now, &el);
            return;
        }
        if el.is("error", NS_STREAMS) {
            let (condition, text) = condition_of(&el, NS_STREAM_ERRORS);
            if !RETRYABLE_STREAM_ERRORS.contains(&condition.as_str()) {
                // conflict, not-authorized, policy-violation…: the same would happen again.
                self.backoff.stop();
            }
            self.event(Event::StreamError { condition, text });
            if self.phase != Phase::Closing {
                self.send(&framing("close"));
            }
            self.close_socket("stream error");
            return;
        }
        if self.phase == Phase::Closing {
            // ejabberd may keep sending after our <close/>: answers to our IQs, messages and
            // presences are still delivered, but nothing is sent any more.
            if el.ns == NS_CLIENT {
                match el.name.as_str() {
                    "iq" => self.on_iq(now, &el),
                    "message" => self.on_message(&el),
                    "presence" => self.on_presence(now, &el),
                    _ => {}
                }
            }
            return;
        }
        if el.is("open", NS_FRAMING) {
            if self.phase == Phase::AwaitOpen {
                self.phase = Phase::AwaitFeatures;
            }
        } else if el.is("features", NS_STREAMS) {
            if matches!(self.phase, Phase::AwaitOpen | Phase::AwaitFeatures) {
                self.on_features(now, &el);
            }
        } else if el.ns == NS_SASL {
            if self.phase == Phase::Sasl {
                self.on_sasl(now, &el);
            }
        } else if el.ns == NS_CLIENT {
            match el.name.as_str() {
                "iq" => self.on_iq(now, &el),
                "message" => self.on_message(&el),
                "presence" => self.on_presence(now, &el),
                _ => {}
            }
        }
    }

    /// Stream management nonzas.
    fn on_sm(&mut self, now: Millis, el: &Element) {
        match el.name.as_str() {
            "r" if self.phase == Phase::Online && self.sm.active() => {
                let a = self.sm.answer();
                self.send(&a);
            }
            "a" => {
                let ok = sm::parse_h(el).map(|h| self.sm.on_ack(h));
                match ok {
                    Some(Ok(())) => {
                        self.sm.requested = false;
                        self.ack_deadline = None;
                        if self.sm.unacked_len() > 0 && self.ack_due.is_none() {
                            self.ack_due = Some(now);
                        }
                    }
                    Some(Err(e)) => self.fatal(e),
                    None => self.fatal("XEP-0198: <a/> without a valid h"),
                }
            }
            "enabled" if self.sm.counting_out() => self.sm.on_enabled(el),
            "resumed" if self.phase == Phase::Resuming && self.sm.is_ours(el) => {
                match sm::parse_h(el).map(|h| self.sm.on_resumed(h)) {
                    Some(Ok(resend)) => self.resumed(resend),
                    Some(Err(e)) => self.fatal(e),
                    None => self.fatal("XEP-0198: <resumed/> without a valid h"),
                }
            }
            "failed" if self.phase == Phase::Resuming => self.fresh_session(now, sm::parse_h(el)),
            // Enabling failed: carry on without stream management.
            "failed" => self.sm.reset(),
            _ => {}
        }
    }

    /// The stream resumed: re-send what the server did not count, then the queue.
    fn resumed(&mut self, resend: Vec<String>) {
        if let Some(r) = self.reconnect.take() {
            self.jid_str = r.jid.as_ref().map(Jid::full);
            self.jid = r.jid;
            self.presence_sent = r.presence_sent;
        }
        self.phase = Phase::Online;
        self.negotiation_deadline = None;
        self.backoff.connected(self.now);
        self.event(Event::Resumed);
        self.push_all(resend);
        let queued = core::mem::take(&mut self.outbox);
        self.push_all(queued);
    }

    /// A protocol violation by the server: report it and close the socket.
    fn fatal(&mut self, error: &'static str) {
        self.backoff.stop();
        self.event(Event::ProtocolError { error });
        self.close_socket(error);
    }

    /// The server's `<close/>`: answered with ours unless we started; the stream has then
    /// ended properly (the close is reported clean even if the WebSocket's own closing
    /// handshake then races the server's TCP close, as it does with Prosody).
    fn on_server_close(&mut self, el: &Element) {
        self.report_unacked(None);
        if let Some(url) = el.attr("see-other-uri") {
            let ok = url.starts_with("wss://")
                || (!self.config.transport_secure && url.starts_with("ws://"));
            if ok && !self.redirected {
                self.redirected = true;
                self.redirect_pending = true;
                self.event(Event::Redirect {
                    url: String::from(url),
                });
            }
        }
        if self.phase != Phase::Closing {
            self.send(&framing("close"));
        }
        // (After a followed redirect the session goes on: the next socket decides.)
        self.closed_cleanly = !self.redirect_pending;
        self.close_socket("");
        self.complete_disconnects();
    }

    fn on_features(&mut self, now: Millis, el: &Element) {
        if !self.authenticated {
            self.offered = el
                .child("mechanisms", NS_SASL)
                .map(|m| m.texts("mechanism", NS_SASL))
                .unwrap_or_default();
            self.register_offered = el.child("register", NS_REGISTER_FEATURE).is_some();
            if self.login.is_some() {
                self.start_auth(now);
            } else {
                self.phase = Phase::Ready;
                self.negotiation_deadline = None;
                self.event(Event::StreamReady);
            }
            return;
        }
        if el.child("bind", NS_BIND).is_none() {
            self.fail_auth(
                now,
                "undefined-condition",
                Some("server offers no resource binding"),
            );
            return;
        }
        self.session_required = el
            .child("session", NS_SESSION)
            .is_some_and(|s| s.child("optional", NS_SESSION).is_none());
        self.sm_offered = self.config.stream_management && el.child("sm", NS_SM).is_some();
        if self.reconnect.is_some() {
            if let Some(resume) = self.sm.resume().filter(|_| self.sm_offered) {
                self.send(&resume);
                self.phase = Phase::Resuming;
                self.negotiation_deadline = Some(now + self.timeout_ms());
                return;
            }
            // The server no longer offers stream management: a fresh session.
            self.fresh_session(now, None);
            return;
        }
        self.start_bind(now);
    }

    fn start_bind(&mut self, now: Millis) {
        let resource = self.login.as_ref().and_then(|l| l.resource.clone());
        let mut payload = Element::new("bind", NS_BIND);
        if let Some(r) = resource.filter(|r| !r.is_empty()) {
            payload = payload.with_text_child("resource", NS_BIND, &r);
        }
        self.phase = Phase::Binding;
        self.negotiation_deadline = None;
        self.send_iq(now, "set", None, Some(payload), Purpose::Bind);
    }

    fn start_auth(&mut self, now: Millis) {
        let Some(anonymous) = self.login.as_ref().map(|l| l.anonymous) else {
            return;
        };
        self.negotiation_deadline = Some(now + self.timeout_ms());
        let plain_ok = self.config.transport_secure || self.config.allow_plain_insecure;
        // Anonymous: ANONYMOUS if offered (the only mechanism allowed without credentials).
        let mech = sasl::select(
            self.offered.iter().map(String::as_str),
            if anonymous {
                &[Mechanism::Anonymous]
            } else {
                &self.config.mechanisms
            },
            !anonymous,
            plain_ok,
        );
        let Some(mech) = mech else {
            self.fail_auth(
                now,
                "invalid-mechanism",
                Some("no acceptable SASL mechanism offered"),
            );
            return;
        };
        // The login is borrowed, not cloned (a clone of its strings cost wasm).
        let Some(login) = self.login.as_ref() else {
            return;
        };
        let initial = match mech {
            Mechanism::Anonymous => Ok(String::from(plain::anonymous_response())),
            Mechanism::Plain => plain::initial_response(&login.username, &login.password),
            Mechanism::ScramSha1 | Mechanism::ScramSha256 => {
                let hash = if mech == Mechanism::ScramSha1 {
                    scram::Hash::Sha1
                } else {
                    scram::Hash::Sha256
                };
                let nonce = scram::derive_nonce(&self.seed, self.nonce_counter);
                self.nonce_counter = self.nonce_counter.wrapping_add(1);
                scram::ScramClient::new(hash, &login.username, &login.password, &nonce).map(
                    |mut c| {
                        let first = c.client_first();
                        self.scram = Some(c);
                        sasl::base64_encode(first.as_bytes())
                    },
                )
            }
        };
        match initial {
            Ok(data) => {
                self.mechanism = Some(mech);
                self.phase = Phase::Sasl;
                let auth = Element::new("auth", NS_SASL)
                    .with_attr("mechanism", mech.name())
                    .with_text(&data);
                self.send(&auth);
            }
            Err(e) => self.fail_auth(now, "malformed-request", Some(e.as_str())),
        }
    }

    fn sasl_data(el: &Element) -> Result<String, sasl::SaslError> {
        let raw = sasl::base64_decode(el.text().trim_ascii())?;
        String::from_utf8(raw).map_err(|_| sasl::SaslError::MalformedServerMessage)
    }

    /// Answers a SASL challenge: `<response/>` with the (raw) message, or `<abort/>` and the
    /// login's failure.
    fn sasl_reply(&mut self, now: Millis, reply: Result<String, sasl::SaslError>) {
        match reply {
            Ok(resp) => {
                let mut r = Element::new("response", NS_SASL);
                if !resp.is_empty() {
                    r = r.with_text(&sasl::base64_encode(resp.as_bytes()));
                }
                self.send(&r);
            }
            Err(e) => {
                self.send(&Element::new("abort", NS_SASL));
                self.fail_auth(now, "aborted", Some(e.as_str()));
            }
        }
    }

    /// The SaltedPassword that [`Event::DeriveKey`] `id` asked for, or `None` to derive it
    /// here (no WebCrypto, or it failed). Ignored unless that request is still the one
    /// waiting (a later login, a closed socket or a failure has made it stale).
    pub fn key_derived(&mut self, now: Millis, id: u32, salted: Option<&[u8]>) {
        self.now = now;
        if id != self.key_id || self.phase != Phase::Sasl {
            return;
        }
        let reply = match self.scram.as_mut() {
            Some(c) if c.awaiting_key() => match salted {
                Some(k) => c.client_final(k),
                None => c.client_final_derived(),
            },
            _ => return,
        };
        self.sasl_reply(now, reply);
    }

    fn on_sasl(&mut self, now: Millis, el: &Element) {
        match el.name.as_str() {
            "challenge" => {
                let outside = self.config.derive_keys_outside;
                let step = match (Session::sasl_data(el), self.scram.as_mut()) {
                    (Err(e), _) => Err(e),
                    (Ok(_), None) => Err(sasl::SaslError::UnexpectedMessage),
                    (Ok(data), Some(c)) => {
                        if c.awaiting_final() {
                            c.handle_server_final(&data)
                                .map(|()| Challenge::Reply(String::new()))
                        } else if outside {
                            c.key_request(&data).map(Challenge::Derive)
                        } else {
                            c.handle_server_first(&data).map(Challenge::Reply)
                        }
                    }
                };
                match step {
                    Ok(Challenge::Derive(request)) => {
                        self.key_id = self.key_id.wrapping_add(1);
                        let id = self.key_id;
                        self.event(Event::DeriveKey { id, request });
                    }
                    Ok(Challenge::Reply(resp)) => self.sasl_reply(now, Ok(resp)),
                    Err(e) => self.sasl_reply(now, Err(e)),
                }
            }
            "success" => {
                if let Some(c) = self.scram.as_mut() {
                    if !c.verified() {
                        let checked = Session::sasl_data(el).and_then(|d| {
                            if d.is_empty() {
                                Err(sasl::SaslError::MalformedServerMessage)
                            } else {
                                c.handle_server_final(&d)
                            }
                        });
                        if let Err(e) = checked {
                            self.fail_auth(now, "aborted", Some(e.as_str()));
                            return;
                        }
                    }
                }
                self.scram = None;
                self.authenticated = true;
                self.send_open(now);
            }
            "failure" => {
                let (cond, text) = condition_of(el, NS_SASL);
                self.fail_auth(now, &cond, text.as_deref());
            }
            _ => {}
        }
    }

    /// Whether `from` may answer an IQ we sent to `to`.
    fn response_from_ok(&self, to: Option<&str>, from: Option<&str>) -> bool {
        let domain = Jid::parse(&self.config.domain);
        let is_self_or_server = |j: &Jid| {
            self.jid
                .as_ref()
                .is_some_and(|me| (j.resource.is_none() && j.same_bare(me)) || j.same_full(me))
                || domain
                    .as_ref()
                    .is_some_and(|d| j.local.is_none() && j.resource.is_none() && j.same_bare(d))
        };
        match (to, from) {
            (None, None) => true,
            (None, Some(f)) => Jid::parse(f).is_some_and(|j| is_self_or_server(&j)),
            (Some(t), None) => Jid::parse(t).is_some_and(|j| is_self_or_server(&j)),
            (Some(t), Some(f)) => match (Jid::parse(t), Jid::parse(f)) {
                (Some(a), Some(b)) => a.same_full(&b),
                _ => false,
            },
        }
    }

    fn on_iq(&mut self, now: Millis, el: &Element) {
        let Some(id) = el.attr("id") else {
            return;
        };
        let from = el.attr("from");
        match el.attr("type") {
            Some(kind @ ("result" | "error")) => {
                let Some(idx) = self
                    .pending
                    .iter()
                    .position(|p| p.id == id && self.response_from_ok(p.to.as_deref(), from))
                else {
                    return;
                };
                let p = self.pending.swap_remove(idx);
                let closing = self.phase == Phase::Closing;
                if closing && !matches!(p.purpose, Purpose::Op { .. }) {
                    return;
                }
                if let (Some(mut q), Purpose::Op { op, .. }, "result") = (p.mam, p.purpose, kind) {
                    mam::finish(el, &mut q.page);
                    self.event(Event::Archive { op, page: q.page });
                } else if kind == "result" {
                    self.on_iq_result(now, el, p.purpose);
                } else {
                    let (cond, text) = error_of(el);
                    match p.purpose {
                        Purpose::Op { op, .. } => self.fail_op(op, &cond, text.as_deref()),
                        Purpose::Bind | Purpose::Session => {
                            self.fail_auth(now, &cond, text.as_deref());
                        }
                        Purpose::Restore { .. } => {}
                    }
                }
            }
            Some("get" | "set") if self.phase != Phase::Closing => {
                let id = String::from(id);
                let from = from.map(String::from);
                let is_set = el.attr("type") == Some("set");
                if el.child("ping", NS_PING).is_some() {
                    self.answer_result(&id, from.as_deref(), None);
                } else if let (false, Some(q)) = (is_set, el.child("query", NS_DISCO_INFO)) {
                    let node = q.attr("node");
                    if disco::is_our_node(node, &self.caps_ver) {
                        let q = disco::info_query(node, self.config.answer_receipts);
                        self.answer_result(&id, from.as_deref(), Some(q));
                    } else {
                        self.answer_error(&id, from.as_deref(), "item-not-found");
                    }
                } else if let (true, Some(q)) = (is_set, el.child("query", NS_ROSTER)) {
                    if self.roster_push_trusted(from.as_deref()) {
                        let items = roster::parse_items(q);
                        self.event(Event::RosterPush(items));
                        self.answer_result(&id, from.as_deref(), None);
                    }
                } else {
                    self.answer_error(&id, from.as_deref(), "service-unavailable");
                }
            }
            _ => {}
        }
    }

    /// A message: carbon copies are unwrapped (forged ones dropped), receipt requests answered,
    /// receipts and chat states reported.
    fn on_message(&mut self, el: &Element) {
        if let Some((queryid, result)) = mam::result(el) {
            // An archive result: kept for its query when it comes from the archive queried,
            // never delivered as a live message.
            let me = self.jid.as_ref();
            let from = el.attr("from").map(Jid::parse);
            let mut found = None;
            for p in &mut self.pending {
                if let Some(q) = p.mam.as_deref_mut().filter(|q| q.queryid == queryid) {
                    found = Some(q);
                    break;
                }
            }
            if let Some(q) = found {
                let owner = q.archive.as_ref().or(me);
                let trusted = match from {
                    None => q.archive.is_none(),
                    Some(f) => f.is_some_and(|f| {
                        f.resource.is_none() && owner.is_some_and(|o| f.same_bare(o))
                    }),
                };
                if trusted && q.page.messages.len() < mam::PAGE_MAX {
                    if let Some(m) = mam::archived(result) {
                        q.page.messages.push(m);
                    }
                }
            }
            return;
        }
        let (inner, carbon) = match carbons::classify(el, self.jid.as_ref()) {
            Carbon::No => (el, None),
            Carbon::Copy(dir, m) => (m, Some(dir)),
            Carbon::Forged => return,
        };
        let mut m = Message::from_element(inner);
        m.carbon = carbon;
        let receipt = receipts::received(inner);
        let notification = m.body.is_none()
            && m.subject.is_none()
            && (carbon.is_some() || receipt.is_some() || m.chat_state.is_some());
        let from = m.from.clone().unwrap_or_default();
        let state = m.chat_state;
        let answer =
            m.receipt_request && self.config.answer_receipts && self.phase == Phase::Online;
        if !notification {
            self.event(Event::Message(m));
        }
        if carbon.is_some() {
            return;
        }
        if let Some(id) = receipt {
            self.event(Event::Receipt {
                from: from.clone(),
                id: String::from(id),
            });
        }
        if let Some(state) = state {
            self.event(Event::ChatState { from, state });
        }
        if answer {
            let id = self.new_id();
            if let Some(a) = receipts::answer(inner, &id) {
                self.send(&a);
            }
        }
    }

    /// A presence: from a tracked room it is an occupant's (and may complete a join or a
    /// leave), else an ordinary one.
    fn on_presence(&mut self, now: Millis, el: &Element) {
        let from = el.attr("from").and_then(Jid::parse);
        let found = from.and_then(|f| {
            let i = self.room_index(&f)?;
            Some((i, f.resource?))
        });
        let Some((i, nick)) = found else {
            self.event(Event::Presence(Presence::from_element(el)));
            return;
        };
        let Some(room) = self.rooms.get(i) else {
            return;
        };
        if el.attr("type") == Some("error") {
            if room.joined {
                self.event(Event::Presence(Presence::from_element(el)));
            } else {
                // The join was refused (nickname in use, password, members only, banned…).
                let r = self.rooms.remove(i);
                if r.rejoin {
                    // Rejoining after a reconnection failed: the error, then we are out.
                    self.event(Event::Presence(Presence::from_element(el)));
                    self.report_left(&r);
                    return;
                }
                let (cond, text) = error_of(el);
                let text = text.or_else(|| {
                    (cond == "conflict")
                        .then(|| String::from("the nickname is already in use in this room"))
                });
                if let Some(op) = r.op {
                    self.fail_op(op, &cond, text.as_deref());
                }
            }
            return;
        }
        let occ = Occupant::from_presence(el, &room.jid, &nick, &room.nick);
        let me = occ.me;
        let gone = occ.kind.as_deref() == Some("unavailable");
        let created = muc::has_code(&occ.codes, 201);
        let renamed = muc::has_code(&occ.codes, 303)
            .then(|| occ.new_nick.clone())
            .flatten();
        let xml = occ.xml.clone();
        self.event(Event::Occupant(occ));
        let Some(room) = self.rooms.get_mut(i).filter(|_| me) else {
            return;
        };
        if let (true, Some(n)) = (gone, renamed) {
            room.nick = n;
        } else if gone {
            // Left: asked for, or kicked, banned, the room destroyed…
            let r = self.rooms.remove(i);
            if let Some(op) = r.op {
                if r.leaving {
                    self.complete(op, Some(xml));
                } else {
                    self.fail_op(op, "closed", Some("removed from the room"));
                }
            }
        } else if !room.joined {
            room.joined = true;
            room.rejoin = false;
            let op = room.op.take();
            room.deadline = None;
            if let (true, Some(op)) = (created, op) {
                // We created the room: accept the default configuration, which unlocks it
                // for others; the join completes with that.
                let to = room.jid.bare();
                let q = muc::instant_room();
                self.send_iq(
                    now,
                    "set",
                    Some(&to),
                    Some(q),
                    Purpose::Op {
                        op,
                        kind: Kind::Plain,
                    },
                );
            } else if let Some(op) = op {
                self.complete(op, Some(xml));
            }
        }
    }

    /// The index of the room with `jid`'s bare JID (a loop shared by every room lookup).
    fn room_index(&self, jid: &Jid) -> Option<usize> {
        let mut i = 0;
        while let Some(r) = self.rooms.get(i) {
            if r.jid.same_bare(jid) {
                return Some(i);
            }
            i = i.saturating_add(1);
        }
        None
    }

    fn complete(&mut self, op: OpId, xml: Option<String>) {
        self.event(Event::Completed {
            op,
            roster: None,
            xml,
        });
    }

    /// RFC 6121 §2.1.6: a push is trusted when `from` is absent or our bare JID.
    fn roster_push_trusted(&self, from: Option<&str>) -> bool {
        let Some(me) = self.jid.as_ref() else {
            return false;
        };
        match from {
            None => true,
            Some(f) => Jid::parse(f).is_some_and(|j| j.resource.is_none() && j.same_bare(me)),
        }
    }

    /// Sends `<iq type=kind id=id to=to>payload</iq>` (every IQ we send or answer).
    fn send_iq_el(&mut self, kind: &str, id: &str, to: Option<&str>, payload: Option<Element>) {
        let mut iq = Element::new("iq", NS_CLIENT)
            .with_attr("type", kind)
            .with_attr("id", id)
            .with_opt_attr("to", to);
        if let Some(p) = payload {
            iq = iq.with_child(p);
        }
        self.send(&iq);
    }

    fn answer_result(&mut self, id: &str, to: Option<&str>, payload: Option<Element>) {
        self.send_iq_el("result", id, to, payload);
    }

    fn answer_error(&mut self, id: &str, to: Option<&str>, condition: &str) {
        let e = Element::new("error", NS_CLIENT)
            .with_attr("type", "cancel")
            .with_child(Element::new(condition, NS_STANZAS));
        self.send_iq_el("error", id, to, Some(e));
    }

    fn on_iq_result(&mut self, now: Millis, el: &Element, purpose: Purpose) {
        match purpose {
            Purpose::Bind => {
                let jid = el
                    .child("bind", NS_BIND)
                    .and_then(|b| b.child("jid", NS_BIND))
                    .map(|j| j.text());
                match jid.as_deref().and_then(|s| Jid::parse(s.trim_ascii())) {
                    Some(j) if j.local.is_some() && j.resource.is_some() => {
                        self.jid_str = Some(j.full());
                        self.jid = Some(j);
                        if self.session_required {
                            self.phase = Phase::SessionStart;
                            let domain = self.config.domain.clone();
                            self.send_iq(
                                now,
                                "set",
                                Some(&domain),
                                Some(Element::new("session", NS_SESSION)),
                                Purpose::Session,
                            );
                        } else {
                            self.go_online();
                        }
                    }
                    _ => self.fail_auth(now, "undefined-condition", Some("bad bind result")),
                }
            }
            Purpose::Session => self.go_online(),
            Purpose::Restore { kind } => {
                if kind == Kind::Roster {
                    self.event(Event::Roster(roster_of(el)));
                }
            }
            Purpose::Op {
                op,
                kind: Kind::DiscoInfo,
            } => {
                let info = disco::parse_info(el);
                self.event(Event::DiscoInfo { op, info });
            }
            Purpose::Op {
                op,
                kind: Kind::DiscoItems,
            } => {
                let items = disco::parse_items(el);
                self.event(Event::DiscoItems { op, items });
            }
            Purpose::Op { op, kind } => {
                let items = (kind == Kind::Roster).then(|| roster_of(el));
                self.event(Event::Completed {
                    op,
                    roster: items,
                    xml: Some(el.to_xml()),
                });
            }
        }
    }

    fn go_online(&mut self) {
        self.phase = Phase::Online;
        self.negotiation_deadline = None;
        if self.sm_offered {
            let enable = self.sm.enable();
            self.send(&enable);
        } else {
            self.sm.reset();
        }
        let reconnected = self.generation > 0;
        self.generation = self.generation.saturating_add(1);
        self.reconnect = None;
        self.backoff.connected(self.now);
        if reconnected && self.auto() {
            self.restore(self.now);
        }
        let jid = self.jid_str.clone().unwrap_or_default();
        self.event(Event::Online { jid, reconnected });
        if let Some(op) = self.login.as_mut().and_then(|l| l.op.take()) {
            self.complete(op, None);
        }
        let queued = core::mem::take(&mut self.outbox);
        self.push_all(queued);
    }

    // ----- commands -----

    fn begin_login(&mut self, now: Millis, login: LoginState) -> OpId {
        let op = self.new_op();
        if self.phase != Phase::Ready {
            self.fail_op(op, "unexpected-request", Some("stream not ready for login"));
            return op;
        }
        self.login = Some(LoginState {
            op: Some(op),
            ..login
        });
        self.start_auth(now);
        op
    }

    /// Logs in after [`Event::StreamReady`]; completes when online. On failure both
    /// [`Event::AuthFailed`] and [`Event::Failed`] for this op are emitted.
    pub fn login(
        &mut self,
        now: Millis,
        username: &str,
        password: &str,
        resource: Option<&str>,
    ) -> OpId {
        let l = LoginState {
            username: String::from(username),
            password: Secret::from(password),
            resource: resource.map(String::from),
            anonymous: false,
            op: None,
            transient: true,
        };
        self.begin_login(now, l)
    }

    /// Logs in with SASL ANONYMOUS after [`Event::StreamReady`].
    pub fn login_anonymous(&mut self, now: Millis) -> OpId {
        let l = LoginState {
            username: String::new(),
            password: Secret::default(),
            resource: None,
            anonymous: true,
            op: None,
            transient: true,
        };
        self.begin_login(now, l)
    }

    /// Registers an account in-band (XEP-0077) before authenticating (after `StreamReady`).
    pub fn register(&mut self, now: Millis, username: &str, password: &str) -> OpId {
        let op = self.new_op();
        if self.phase != Phase::Ready {
            self.fail_op(
                op,
                "unexpected-request",
                Some("stream not ready for registration"),
            );
            return op;
        }
        if !sasl::credential_ok(username) || !sasl::credential_ok(password) {
            // The text of `SaslError::BadCredentials` without its `SASL: ` (one copy in the wasm).
            let text = sasl::SaslError::BadCredentials.as_str().get(6..);
            self.fail_op(op, "bad-request", text);
            return op;
        }
        let q = Element::new("query", NS_REGISTER)
            .with_text_child("username", NS_REGISTER, username)
            .with_text_child("password", NS_REGISTER, password);
        self.send_iq(
            now,
            "set",
            None,
            Some(q),
            Purpose::Op {
                op,
                kind: Kind::Plain,
            },
        );
        op
    }

    fn online_op(&mut self) -> Result<OpId, OpId> {
        let op = self.new_op();
        if self.phase == Phase::Online {
            Ok(op)
        } else {
            self.fail_op(op, "unexpected-request", Some("not online"));
            Err(op)
        }
    }

    /// Changes the account password (XEP-0077 §3.3).
    pub fn change_password(&mut self, now: Millis, new_password: &str) -> OpId {
        let op = match self.online_op() {
            Ok(op) => op,
            Err(op) => return op,
        };
        if !sasl::credential_ok(new_password) {
            self.fail_op(op, "bad-request", Some("empty or invalid password"));
            return op;
        }
        let user = self
            .jid
            .as_ref()
            .and_then(|j| j.local.clone())
            .unwrap_or_default();
        let q = Element::new("query", NS_REGISTER)
            .with_text_child("username", NS_REGISTER, &user)
            .with_text_child("password", NS_REGISTER, new_password);
        let domain = self.config.domain.clone();
        self.send_iq(
            now,
            "set",
            Some(&domain),
            Some(q),
            Purpose::Op {
                op,
                kind: Kind::Plain,
            },
        );
        op
    }

    /// Deletes the account (XEP-0077 §3.2); the server usually closes the stream after.
    pub fn unregister(&mut self, now: Millis) -> OpId {
        let op = match self.online_op() {
            Ok(op) => op,
            Err(op) => return op,
        };
        let q = Element::new("query", NS_REGISTER).with_child(Element::new("remove", NS_REGISTER));
        self.send_iq(
            now,
            "set",
            None,
            Some(q),
            Purpose::Op {
                op,
                kind: Kind::Plain,
            },
        );
        op
    }

    /// Fetches the roster; completes with `roster: Some(items)`.
    pub fn get_roster(&mut self, now: Millis) -> OpId {
        let op = match self.online_op() {
            Ok(op) => op,
            Err(op) => return op,
        };
        self.send_iq(
            now,
            "get",
            None,
            Some(roster::get_query()),
            Purpose::Op {
                op,
                kind: Kind::Roster,
            },
        );
        self.roster_wanted = true;
        op
    }

    /// Adds or updates a roster item.
    pub fn add_contact(
        &mut self,
        now: Millis,
        jid: &str,
        name: Option<&str>,
        groups: &[&str],
    ) -> OpId {
        self.roster_set(now, jid, || roster::set_query(jid, name, groups))
    }

    /// Removes a roster item.
    pub fn remove_contact(&mut self, now: Millis, jid: &str) -> OpId {
        self.roster_set(now, jid, || roster::remove_query(jid))
    }

    /// A roster set about `jid`: online and a well-formed JID first, then the IQ.
    fn roster_set(&mut self, now: Millis, jid: &str, query: impl FnOnce() -> Element) -> OpId {
        let op = match self.online_op() {
            Ok(op) => op,
            Err(op) => return op,
        };
        if Jid::parse(jid).is_none() {
            self.fail_op(op, "jid-malformed", None);
            return op;
        }
        self.send_iq(
            now,
            "set",
            None,
            Some(query()),
            Purpose::Op {
                op,
                kind: Kind::Plain,
            },
        );
        op
    }

    /// Joins a room (XEP-0045) as `nick`; completes when the room shows us in (after
    /// accepting the default configuration if we created it, which unlocks the room).
    /// Fails with the room's error: `conflict` when the nickname is taken,
    /// `not-authorized` for a wrong password, `registration-required`, `forbidden`…
    pub fn join_room(
        &mut self,
        now: Millis,
        room: &str,
        nick: &str,
        password: Option<&str>,
        history: &muc::History,
    ) -> OpId {
        let op = match self.online_op() {
            Ok(op) => op,
            Err(op) => return op,
        };
        let Some(jid) = Jid::parse(room).filter(|j| j.local.is_some() && j.resource.is_none())
        else {
            self.fail_op(op, "jid-malformed", Some("not a room JID"));
            return op;
        };
        let r = Room {
            jid,
            nick: String::from(nick),
            op: Some(op),
            deadline: Some(now + self.timeout_ms()),
            joined: false,
            leaving: false,
            password: password.map(Secret::from),
            rejoin: false,
        };
        let to = r.occupant_jid();
        if Jid::parse(&to).is_none() {
            self.fail_op(op, "jid-malformed", Some("bad nickname"));
        } else if self.room_index(&r.jid).is_some() {
            self.fail_op(op, "unexpected-request", Some("already in this room"));
        } else {
            let p = muc::join(&to, password, history, Some(disco::caps(&self.caps_ver)));
            self.send(&p);
            self.rooms.push(r);
        }
        op
    }

    /// Leaves a room; completes when the room confirms.
    pub fn leave_room(&mut self, now: Millis, room: &str, status: Option<&str>) -> OpId {
        let op = match self.online_op() {
            Ok(op) => op,
            Err(op) => return op,
        };
        let jid = Jid::parse(room);
        let Some(i) = jid.as_ref().and_then(|j| self.room_index(j)) else {
            self.fail_op(op, "item-not-found", Some("not in this room"));
            return op;
        };
        let deadline = now + self.timeout_ms();
        let Some(r) = self.rooms.get_mut(i) else {
            return op;
        };
        let earlier = r.op.replace(op);
        r.leaving = true;
        r.deadline = Some(deadline);
        let to = r.occupant_jid();
        if let Some(e) = earlier {
            self.fail_op(e, "closed", Some("left the room"));
        }
        let p = stanza::presence(Some("unavailable"), Some(&to), None, status, None);
        self.send(&p);
        op
    }

    /// Sets a room's subject; returns the message id.
    ///
    /// # Errors
    /// As [`Session::send_message`].
    pub fn set_room_subject(&mut self, room: &str, subject: &str) -> Result<String, Error> {
        let id = self.new_id();
        self.send_stanza(muc::subject(&id, room, subject).to_xml())?;
        Ok(id)
    }

    /// Sends a message with an `id`, which it returns. Sent now when online, else queued until
    /// `Online` (before the socket opens and while the stream is negotiated).
    ///
    /// # Errors
    /// [`Error::NotConnected`] when closing or closed, [`Error::OutboxFull`] when 256
    /// stanzas are already queued.
    pub fn send_message(
        &mut self,
        to: &str,
        body: &str,
        kind: Option<&str>,
        subject: Option<&str>,
        thread: Option<&str>,
    ) -> Result<String, Error> {
        let o = MessageOptions {
            kind,
            subject,
            thread,
            id: true,
            ..MessageOptions::default()
        };
        self.send_message_with(to, Some(body), &o)
            .map(Option::unwrap_or_default)
    }

    /// Sends a message with extensions (a receipt request, a chat state); without a body it
    /// is a notification (e.g. a chat state alone). Returns its id when it has one (see
    /// [`MessageOptions::id`]).
    ///
    /// # Errors
    /// [`Error::BadArgument`] for an unknown chat state, else as [`Session::send_message`].
    pub fn send_message_with(
        &mut self,
        to: &str,
        body: Option<&str>,
        o: &MessageOptions<'_>,
    ) -> Result<Option<String>, Error> {
        let state = match o.chat_state {
            Some(s) => {
                Some(chatstates::state(s).ok_or(Error::BadArgument("XMPP: unknown chat state"))?)
            }
            None => None,
        };
        let id = (o.id || o.receipt || o.kind == Some("groupchat")).then(|| self.new_id());
        let mut m = stanza::message(id.as_deref(), to, body, o.kind, o.subject, o.thread);
        if o.receipt {
            m = m.with_child(receipts::request());
        }
        if let Some(s) = state {
            m = m.with_child(chatstates::element(s));
        }
        self.send_stanza(m.to_xml())?;
        Ok(id)
    }

    /// Asks `jid` (the server when `None`) for its identities and features (XEP-0030),
    /// optionally of `node`; completes with [`Event::DiscoInfo`].
    pub fn disco_info(&mut self, now: Millis, jid: Option<&str>, node: Option<&str>) -> OpId {
        self.disco(now, jid, node, Kind::DiscoInfo)
    }

    /// Asks `jid` (the server when `None`) for its items (XEP-0030), optionally of `node`;
    /// completes with [`Event::DiscoItems`].
    pub fn disco_items(&mut self, now: Millis, jid: Option<&str>, node: Option<&str>) -> OpId {
        self.disco(now, jid, node, Kind::DiscoItems)
    }

    fn disco(&mut self, now: Millis, jid: Option<&str>, node: Option<&str>, kind: Kind) -> OpId {
        let op = match self.online_op() {
            Ok(op) => op,
            Err(op) => return op,
        };
        if jid.is_some_and(|j| Jid::parse(j).is_none()) {
            self.fail_op(op, "jid-malformed", None);
            return op;
        }
        let domain = self.config.domain.clone();
        let to = jid.unwrap_or(&domain);
        let q = disco::request(kind == Kind::DiscoItems, node);
        self.send_iq(now, "get", Some(to), Some(q), Purpose::Op { op, kind });
        op
    }

    /// Fetches a page of a message archive (XEP-0313): ours when `archive` is `None`, else a
    /// room's; completes with [`Event::Archive`].
    pub fn query_archive(&mut self, now: Millis, archive: Option<&str>, q: &mam::Query) -> OpId {
        let op = match self.online_op() {
            Ok(op) => op,
            Err(op) => return op,
        };
        let jid = archive.map(Jid::parse);
        if matches!(jid, Some(None)) {
            self.fail_op(op, "jid-malformed", None);
            return op;
        }
        let queryid = self.new_id();
        let payload = mam::query(&queryid, q);
        self.send_iq(
            now,
            "set",
            archive,
            Some(payload),
            Purpose::Op {
                op,
                kind: Kind::Plain,
            },
        );
        if let Some(p) = self.pending.last_mut() {
            p.mam = Some(Box::new(mam::Pending {
                queryid,
                archive: jid.flatten(),
                page: mam::Page::default(),
            }));
        }
        op
    }

    /// Turns message carbons (XEP-0280) on or off: copies of the messages the account's other
    /// resources send and receive then arrive as messages marked `sent` or `received`.
    pub fn carbons(&mut self, now: Millis, enable: bool) -> OpId {
        let op = match self.online_op() {
            Ok(op) => op,
            Err(op) => return op,
        };
        let q = carbons::toggle(enable);
        self.carbons_on = enable;
        self.send_iq(
            now,
            "set",
            None,
            Some(q),
            Purpose::Op {
                op,
                kind: Kind::Plain,
            },
        );
        op
    }

    /// Sends available presence with optional show (`away|chat|dnd|xa`), status, priority.
    ///
    /// # Errors
    /// As [`Session::send_message`].
    pub fn set_status(
        &mut self,
        show: Option<&str>,
        status: Option<&str>,
        priority: Option<i8>,
    ) -> Result<(), Error> {
        let p = stanza::presence(None, None, show, status, priority)
            .with_child(disco::caps(&self.caps_ver))
            .to_xml();
        self.send_stanza(p.clone())?;
        self.last_presence = Some(p);
        self.presence_sent = true;
        Ok(())
    }

    fn presence_to(&mut self, kind: &str, jid: &str) -> Result<(), Error> {
        let p = stanza::presence(Some(kind), Some(jid), None, None, None);
        self.send_stanza(p.to_xml())
    }

    /// Asks `jid` for a presence subscription.
    ///
    /// # Errors
    /// As [`Session::send_message`].
    pub fn subscribe(&mut self, jid: &str) -> Result<(), Error> {
        self.presence_to("subscribe", jid)
    }

    /// Approves `jid`'s subscription request.
    ///
    /// # Errors
    /// As [`Session::send_message`].
    pub fn approve(&mut self, jid: &str) -> Result<(), Error> {
        self.presence_to("subscribed", jid)
    }

    /// Denies or cancels `jid`'s subscription to us.
    ///
    /// # Errors
    /// As [`Session::send_message`].
    pub fn deny(&mut self, jid: &str) -> Result<(), Error> {
        self.presence_to("unsubscribed", jid)
    }

    /// Unsubscribes from `jid`'s presence.
    ///
    /// # Errors
    /// As [`Session::send_message`].
    pub fn unsubscribe(&mut self, jid: &str) -> Result<(), Error> {
        self.presence_to("unsubscribe", jid)
    }

    /// Sends one element given as XML; it is parsed (same limits as input) and re-serialised,
    /// so an unqualified top-level element gets `xmlns="jabber:client"`.
    ///
    /// Queued like [`Session::send_message`].
    ///
    /// # Errors
    /// [`Error::Xml`] if not well-formed, else as [`Session::send_message`].
    pub fn send_raw(&mut self, xml: &str) -> Result<(), Error> {
        let el = xml::parse(xml.as_bytes(), &self.config.limits, NS_CLIENT).map_err(Error::Xml)?;
        self.send_stanza(el.to_xml())
    }

    /// Sends an IQ `get` or `set` with `payload_xml` (one element, or empty) as its child;
    /// completes with the whole result stanza in `xml`.
    ///
    /// # Errors
    /// [`Error::BadArgument`] for another kind or a malformed `to`, [`Error::Xml`] for a bad
    /// payload, [`Error::NotConnected`] when not online.
    pub fn iq(
        &mut self,
        now: Millis,
        kind: &str,
        to: Option<&str>,
        payload_xml: &str,
    ) -> Result<OpId, Error> {
        if kind != "get" && kind != "set" {
            return Err(Error::BadArgument("XMPP: iq type must be get or set"));
        }
        if to.is_some_and(|t| Jid::parse(t).is_none()) {
            return Err(Error::BadArgument("XMPP: malformed JID"));
        }
        let payload = if xml::is_blank(payload_xml.as_bytes()) {
            None
        } else {
            Some(
                xml::parse(payload_xml.as_bytes(), &self.config.limits, NS_CLIENT)
                    .map_err(Error::Xml)?,
            )
        };
        if self.phase != Phase::Online {
            return Err(Error::NotConnected);
        }
        let op = self.new_op();
        self.send_iq(
            now,
            kind,
            to,
            payload,
            Purpose::Op {
                op,
                kind: Kind::Plain,
            },
        );
        Ok(op)
    }

    /// Ends the session: unavailable presence (if presence was sent), `<close/>`, then waits
    /// for the server's `<close/>` (at most 5 s) and asks to close the socket. Completes when
    /// the server's `<close/>` arrives or the socket closes. Meanwhile IQ answers, messages
    /// and presences still arrive as events; IQ requests are no longer answered.
    /// Before the socket opens the queued stanzas are reported at once in
    /// [`Event::Undelivered`] and later ones refused.
    pub fn disconnect(&mut self, now: Millis) -> OpId {
        let op = self.new_op();
        let between = self.backoff.is_waiting();
        self.backoff.stop();
        match self.phase {
            Phase::Idle => {
                self.idle_queue = false;
                self.report_undelivered();
                self.transmits.push(Transmit::Close {
                    code: 1000,
                    reason: "",
                });
                self.complete(op, None);
            }
            Phase::Closed | Phase::Closing => self.disconnect_ops.push(op),
            Phase::Reconnecting => {
                self.disconnect_ops.push(op);
                if between || self.reconnect.as_ref().is_some_and(|r| r.at.is_some()) {
                    // Between sockets: nothing to close.
                    self.finish_closed(1000, "", true);
                } else {
                    // A socket is opening: its close event ends the session.
                    self.transmits.push(Transmit::Close {
                        code: 1000,
                        reason: "",
                    });
                }
            }
            _ => {
                if self.phase == Phase::Online && self.presence_sent {
                    let p = stanza::presence(Some("unavailable"), None, None, None, None);
                    self.send(&p);
                }
                self.disconnect_ops.push(op);
                self.begin_close(now);
            }
        }
        op
    }
}

/// A copy of `xml` safe for a debug log: the text of SASL `<auth>`, `<response>`,
/// `<challenge>`, `<success>` and of `<password>` elements is replaced by `***`. Works on
/// any string (malformed input is passed through).
#[must_use]
pub fn redact(xml: &str) -> String {
    const SECRET: [&str; 5] = ["auth", "response", "challenge", "success", "password"];
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(lt) = xml::find(rest, b"<") {
        let Some((before, tag)) = rest.split_at_checked(lt) else {
            break;
        };
        out.push_str(before);
        let after_lt = tag.get(1..).unwrap_or("");
        let mut name_len = after_lt.len();
        for (i, c) in after_lt.char_indices() {
            if c.is_whitespace() || c == '/' || c == '>' {
                name_len = i;
                break;
            }
        }
        let qname = after_lt.get(..name_len).unwrap_or("");
        let mut local = qname;
        while let Some((_, after)) = xml::split_once(local, b':') {
            local = after;
        }
        // End of the start tag, skipping quoted attribute values (bytes: every delimiter is
        // ASCII, which never occurs inside a multi-byte character).
        let mut quote = 0u8;
        let mut end = None;
        for (i, &b) in tag.as_bytes().iter().enumerate() {
            if quote != 0 {
                if b == quote {
                    quote = 0;
                }
            } else if b == b'"' || b == b'\'' {
                quote = b;
            } else if b == b'>' {
                end = Some(i);
                break;
            }
        }
        let Some(end) = end else {
            out.push_str(tag);
            return out;
        };
        let Some((start_tag, after)) = tag.split_at_checked(end.saturating_add(1)) else {
            out.push_str(tag);
            return out;
        };
        out.push_str(start_tag);
        rest = after;
        let self_closing = start_tag.ends_with("/>");
        if SECRET.contains(&local) && !self_closing && !qname.starts_with('/') {
            let text_end = xml::find(rest, b"<").unwrap_or(rest.len());
            if text_end > 0 {
                out.push_str("***");
            }
            rest = rest.get(text_end..).unwrap_or("");
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction() {
        assert_eq!(
            redact(
                "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>"
            ),
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>***</auth>"
        );
        assert_eq!(
            redact("<iq><query><username>u</username><password>p&amp;w</password></query></iq>"),
            "<iq><query><username>u</username><password>***</password></query></iq>"
        );
        assert_eq!(redact("<success/>"), "<success/>");
        assert_eq!(
            redact("<response a='>'>x</response>"),
            "<response a='>'>***</response>"
        );
        assert_eq!(redact("<authx>t</authx>"), "<authx>t</authx>");
        assert_eq!(redact("<auth>x"), "<auth>***");
        assert_eq!(redact("<auth"), "<auth");
        assert_eq!(redact("plain"), "plain");
    }

    #[test]
    fn ids_and_ops() {
        let mut s = Session::new(Config::new("example.com"), [1; 32]);
        let a = s.new_id();
        let b = s.new_id();
        assert_ne!(a, b);
        assert!(a.ends_with('1'));
        assert_eq!(s.new_op(), OpId(1));
    }

    #[test]
    fn fifo_order() {
        let mut q = Fifo::default();
        assert_eq!(q.pop(0), None);
        q.push(1);
        q.push(2);
        assert_eq!(q.pop(0), Some(1));
        q.push(3);
        assert_eq!(q.pop(0), Some(2));
        assert_eq!(q.pop(0), Some(3));
        assert_eq!((q.items.len(), q.head), (0, 0));
        assert_eq!(q.pop(0), None);
        q.push(4);
        assert_eq!(q.pop(0), Some(4));
    }

    #[test]
    fn redaction_multibyte() {
        assert_eq!(
            redact("<é a='\u{1F600}>'>ü</é><password x=\"é'\">p€</password>"),
            "<é a='\u{1F600}>'>ü</é><password x=\"é'\">***</password>"
        );
    }
}
