//! The STOMP client session: a sans-IO state machine that writes CONNECT when the socket opens,
//! negotiates the version and heart-beats from CONNECTED, queues commands issued while not
//! connected (bounded), tracks subscriptions, receipts and transactions, detects a silent
//! server, and turns server frames into [`Event`]s. The caller feeds socket events and the time
//! in (`handle_*`), issues commands, and polls [`Transmit`]s, events and the next deadline out.
//! Every command returns an [`OpId`] that ends in exactly one `Completed` or `Failed` event.
//!
//! With URLs in its options the session also survives lost connections: the embedded
//! [`Reconnect`] policy schedules new attempts ([`Transmit::Open`]), and on the new connection
//! the session re-subscribes every live subscription under its old id, re-sends the SENDs
//! whose receipt had not come back (at-least-once), then flushes what was issued meanwhile.
//! What cannot survive a connection fails with a reason: transactions open at the drop, and
//! acknowledgements of messages received on an earlier connection (the broker redelivers them).

use std::collections::VecDeque;

use super::codec::{encode, find_byte, parse_u64, push_decimal, Decoder, Error, ItemRef, Limits};
use super::frame::{Command, FrameRef, HeaderIter, Version};
use super::map::{StrMap, StrSet};
use crate::reconnect::{redact_url, Next, Reconnect, ReconnectConfig};
use crate::text::{lossy, push_lossy};
use crate::time::Millis;

/// Close code for a normal close (DISCONNECT done, or after a server ERROR frame).
pub const CLOSE_NORMAL: u16 = 1000;
/// Close code we ask for after a protocol error (bad bytes, breached limit, unexpected frame).
pub const CLOSE_PROTOCOL_ERROR: u16 = 4000;
/// Close code we ask for when the server stays silent (heart-beat or connect timeout).
pub const CLOSE_TIMEOUT: u16 = 4001;
/// How long after asking to close the session waits for the socket's close before taking
/// the connection for closed (code 1006): a dead peer never answers the closing handshake,
/// and browsers wait up to a minute for it.
pub const CLOSE_GRACE_MS: u64 = 2_000;

/// How to open the session. Its `Debug` output shows the passcode as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// `login` header, sent only when given.
    pub login: Option<String>,
    /// `passcode` header, sent only when given.
    pub passcode: Option<String>,
    /// `host` header, sent only when given (RabbitMQ reads it as the virtual host).
    pub host: Option<String>,
    /// Extra CONNECT headers, after ours.
    pub headers: Vec<(String, String)>,
    /// Versions offered (empty means all). Default 1.0, 1.1, 1.2.
    pub accept_versions: Vec<Version>,
    /// Heart-beat we offer to send, in ms (0: none). Default 10 000.
    pub heartbeat_outgoing_ms: u32,
    /// Heart-beat we want to receive, in ms (0: none). Default 10 000.
    pub heartbeat_incoming_ms: u32,
    /// Decoder limits for incoming frames.
    pub limits: Limits,
    /// Most commands held while not connected; more fail with "outbox full". Default 1000.
    pub max_outbox: usize,
    /// Give up on an attempt when the socket has not opened, or CONNECTED has not arrived,
    /// this long after it was asked for (each phase has the full time; 0: never).
    /// Default 30 000.
    pub connect_timeout_ms: u32,
    /// After DISCONNECT, close the socket ourselves if neither the receipt nor the server's
    /// close arrived within this many ms (0: wait for the server). Default 5 000.
    pub disconnect_timeout_ms: u32,
    /// Where to connect, tried in turn ([`Session::connect`] asks for the first, reconnects
    /// rotate). Empty: the caller opens the socket itself and there is no reconnection.
    pub urls: Vec<String>,
    /// Reconnection after a lost connection (on by default; needs `urls`).
    pub reconnect: ReconnectConfig,
    /// Seed of the reconnect delays' jitter (the caller's randomness).
    pub seed: u64,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            login: None,
            passcode: None,
            host: None,
            headers: Vec::new(),
            accept_versions: vec![Version::V1_0, Version::V1_1, Version::V1_2],
            heartbeat_outgoing_ms: 10_000,
            heartbeat_incoming_ms: 10_000,
            limits: Limits::default(),
            max_outbox: 1000,
            connect_timeout_ms: 30_000,
            disconnect_timeout_ms: 5_000,
            urls: Vec::new(),
            reconnect: ReconnectConfig::default(),
            seed: 0,
        }
    }
}

impl core::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("login", &self.login)
            .field("passcode", &self.passcode.as_ref().map(|_| "***"))
            .field("host", &self.host)
            .field("headers", &self.headers)
            .field("accept_versions", &self.accept_versions)
            .field("heartbeat_outgoing_ms", &self.heartbeat_outgoing_ms)
            .field("heartbeat_incoming_ms", &self.heartbeat_incoming_ms)
            .field("limits", &self.limits)
            .field("max_outbox", &self.max_outbox)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("disconnect_timeout_ms", &self.disconnect_timeout_ms)
            .field("urls", &self.urls)
            .field("reconnect", &self.reconnect)
            .finish_non_exhaustive()
    }
}

/// Identifies one command until its `Completed` or `Failed` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpId(pub u32);

/// Subscription acknowledgement mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AckMode {
    /// The server considers messages acknowledged on delivery.
    #[default]
    Auto,
    /// Cumulative acknowledgement.
    Client,
    /// Per-message acknowledgement.
    ClientIndividual,
}

impl AckMode {
    /// The `ack` header value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AckMode::Auto => "auto",
            AckMode::Client => "client",
            AckMode::ClientIndividual => "client-individual",
        }
    }
}

/// What ACK/NACK needs to name a received message (headers are chosen per version).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AckToken {
    /// MESSAGE `message-id`.
    pub message_id: String,
    /// MESSAGE `subscription`.
    pub subscription: String,
    /// MESSAGE `ack` (1.2).
    pub ack: Option<String>,
    /// The connection the message arrived on ([`Session::connection`]); an ACK on a later
    /// connection fails (the broker redelivers the message instead).
    pub connection: u32,
}

/// What ACK/NACK needs of a [`MessageRef`]: [`AckToken`] borrowed from the decoder's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AckRef<'a> {
    /// MESSAGE `message-id` (empty when missing).
    pub message_id: &'a [u8],
    /// MESSAGE `subscription` (empty when missing).
    pub subscription: &'a [u8],
    /// MESSAGE `ack` (1.2).
    pub ack: Option<&'a [u8]>,
    /// The connection the message arrived on ([`Session::connection`]).
    pub connection: u32,
}

impl AckToken {
    /// The same token, borrowed ([`AckRef::to_token`] is the way back).
    #[must_use]
    pub fn as_ref(&self) -> AckRef<'_> {
        AckRef {
            message_id: self.message_id.as_bytes(),
            subscription: self.subscription.as_bytes(),
            ack: self.ack.as_ref().map(String::as_bytes),
            connection: self.connection,
        }
    }
}

impl AckRef<'_> {
    /// The owned token (bytes that are not UTF-8 replaced, as everywhere in events).
    #[must_use]
    pub fn to_token(&self) -> AckToken {
        AckToken {
            message_id: lossy(self.message_id),
            subscription: lossy(self.subscription),
            ack: self.ack.map(lossy),
            connection: self.connection,
        }
    }
}

/// A MESSAGE as [`Session::handle_data_with`] hands it out: borrowed from the decoder's
/// buffer, so nothing is copied or allocated. [`MessageRef::to_event`] makes the owned
/// [`Event::Message`] that [`Session::handle_data`] queues instead.
#[derive(Clone, Copy, Debug)]
pub struct MessageRef<'a> {
    frame: FrameRef<'a>,
    subscription: &'a [u8],
    ack: Option<AckRef<'a>>,
    body_in_input: Option<usize>,
}

impl<'a> MessageRef<'a> {
    /// The `subscription` header (empty when missing).
    #[must_use]
    pub fn subscription(&self) -> &'a [u8] {
        self.subscription
    }

    /// All headers in wire order, unescaped.
    #[must_use]
    pub fn headers(&self) -> HeaderIter<'a> {
        self.frame.headers()
    }

    /// The body.
    #[must_use]
    pub fn body(&self) -> &'a [u8] {
        self.frame.body()
    }

    /// Set when the subscription needs acknowledgements.
    #[must_use]
    pub fn ack(&self) -> Option<AckRef<'a>> {
        self.ack
    }

    /// Where the body starts in the `data` of the `handle_data_with` call that handed this
    /// message out, when all of the body is in that `data` (so the caller may take it from its
    /// own copy); `None` when part of it came in an earlier call.
    #[must_use]
    pub fn body_in_input(&self) -> Option<usize> {
        self.body_in_input
    }

    /// The owned [`Event::Message`].
    #[must_use]
    pub fn to_event(&self) -> Event {
        Event::Message {
            subscription: lossy(self.subscription),
            headers: owned_headers(&self.frame),
            body: self.frame.body().to_vec(),
            ack: self.ack.map(|a| a.to_token()),
        }
    }
}

/// The [`MessageRef`] for MESSAGE frame `f`, whose input chunk (`len` bytes) began at stream
/// offset `input`.
fn message_ref<'a>(
    subs: &StrMap<Sub>,
    connection: u32,
    f: FrameRef<'a>,
    input: u64,
    len: usize,
) -> MessageRef<'a> {
    let subscription = f.header(b"subscription").unwrap_or_default();
    let ack_header = f.header(b"ack");
    let mode = match core::str::from_utf8(subscription) {
        Ok(id) => subs.get(id).map(|s| s.ack),
        Err(_) => subs.get(&lossy(subscription)).map(|s| s.ack),
    };
    let wants_ack = match mode {
        Some(AckMode::Auto) => false,
        Some(_) => true,
        None => ack_header.is_some(),
    };
    let ack = wants_ack.then(|| AckRef {
        message_id: f.header(b"message-id").unwrap_or_default(),
        subscription,
        ack: ack_header,
        connection,
    });
    let body = f.body();
    let body_in_input = f
        .body_offset()
        .checked_sub(input)
        .and_then(|at| usize::try_from(at).ok())
        .filter(|at| at.checked_add(body.len()).is_some_and(|end| end <= len));
    MessageRef {
        frame: f,
        subscription,
        ack,
        body_in_input,
    }
}

/// Something for the caller to do on the socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// Send these bytes as one WebSocket message; `text` when they are valid UTF-8.
    Frame { data: Vec<u8>, text: bool },
    /// Close the socket with this code and reason.
    Close { code: u16, reason: &'static str },
    /// Open a WebSocket to `url`, offering [`Session::subprotocols`]; it replaces any earlier
    /// socket (which is closed by then). Its events go to `handle_open` etc. as usual.
    Open { url: String },
}

/// Something that happened, for the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// CONNECTED arrived; `reconnected` from the second connection on (subscriptions are
    /// already restored then).
    Connected {
        version: Version,
        headers: Vec<(String, String)>,
        reconnected: bool,
    },
    /// A MESSAGE; `ack` is set when the subscription needs acknowledgements.
    Message {
        subscription: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        ack: Option<AckToken>,
    },
    /// A RECEIPT for a command that asked for one (followed by its `Completed`).
    Receipt {
        receipt_id: String,
        headers: Vec<(String, String)>,
    },
    /// The op is done: its receipt arrived, or (without receipt) its frame was polled.
    Completed { op: OpId },
    /// The op cannot complete.
    Failed { op: OpId, reason: &'static str },
    /// An ERROR frame; a `Transmit::Close` follows, then pending ops fail. Not retried.
    ServerError {
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Bad bytes, a breached limit, an unexpected frame or a timeout; the session asks to close.
    /// Timeouts are retried when reconnection is on; the others are not.
    ProtocolError { error: Error },
    /// The connection was lost (`code`, `reason`, `clean` as the socket reported) and retry
    /// number `attempt` will go to `url` (any `user:password@` masked) after `delay_ms`
    /// (`None`: once the network is back).
    Reconnecting {
        attempt: u32,
        delay_ms: Option<u64>,
        url: String,
        code: u16,
        reason: String,
        clean: bool,
    },
    /// The socket closed for good; the session is over. Only `Failed` events of commands
    /// issued afterwards can follow.
    Closed {
        code: u16,
        reason: String,
        clean: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// No socket yet, or one asked for ([`Transmit::Open`]) and not open yet.
    Idle,
    /// CONNECT sent, waiting for CONNECTED.
    Connecting,
    Connected,
    /// DISCONNECT sent.
    Disconnecting,
    /// We asked the caller to close the socket.
    Closing,
    /// The connection is gone and a retry is scheduled (or waits for the network).
    Waiting,
    /// Over for good.
    Closed,
}

type Pairs = Vec<(String, String)>;

#[derive(Debug)]
enum Cmd {
    Send {
        dest: String,
        tx: Option<String>,
        headers: Pairs,
        body: Vec<u8>,
    },
    Subscribe {
        id: String,
    },
    Unsubscribe {
        id: String,
    },
    Ack {
        token: AckToken,
        tx: Option<String>,
        nack: bool,
    },
    Tx {
        command: Command,
        tx: String,
    },
}

#[derive(Debug)]
struct Queued {
    op: OpId,
    cmd: Cmd,
    receipt: bool,
}

/// Where a subscription's SUBSCRIBE stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SubOn {
    /// In the outbox, never sent.
    Queued,
    /// Sent on connection number `n`.
    Live(u32),
    /// Its connection was lost: to be re-sent on the next one.
    Restore,
}

#[derive(Debug)]
struct Sub {
    seq: u64,
    dest: String,
    ack: AckMode,
    headers: Pairs,
    on: SubOn,
    /// SUBSCRIBE ops whose receipt was lost with a connection: they complete on the
    /// restoring SUBSCRIBE's receipt.
    waiting: Vec<OpId>,
}

/// What a pending receipt confirms.
#[derive(Debug)]
enum Confirms {
    /// A SEND outside a transaction: re-sent after a lost connection.
    Send(Cmd),
    /// A SEND in a transaction: lost with the connection.
    SendInTx,
    Subscribe(String),
    Unsubscribe,
    Ack,
    Tx,
}

#[derive(Debug)]
struct Pending {
    seq: u64,
    ops: Vec<OpId>,
    confirms: Confirms,
}

/// A STOMP client session over one WebSocket at a time. Its `Debug` output is a summary
/// (state and counts): frames waiting to go out, CONNECT's passcode among them, are not shown.
pub struct Session {
    opts: ConnectOptions,
    versions: Vec<Version>,
    state: State,
    version: Option<Version>,
    decoder: Decoder,
    now: Millis,
    last_tx: Millis,
    last_rx: Millis,
    out_interval: u64,
    in_interval: u64,
    connect_deadline: Option<Millis>,
    disconnect_deadline: Option<Millis>,
    close_deadline: Option<(Millis, &'static str)>,
    next_op: u32,
    next_sub: u32,
    next_tx: u32,
    next_receipt: u32,
    next_seq: u64,
    queue: VecDeque<Queued>,
    resend: VecDeque<Queued>,
    transmits: VecDeque<(Transmit, Option<OpId>)>,
    events: VecDeque<Event>,
    pending: StrMap<Pending>,
    subs: StrMap<Sub>,
    open_txs: StrSet,
    dead_txs: StrSet,
    claimable: Vec<String>,
    disconnect_op: Option<OpId>,
    disconnect_receipt: Option<String>,
    reconnect: Reconnect,
    started: bool,
    stopping: bool,
    fatal: bool,
    retry_planned: bool,
    generation: u32,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("opts", &self.opts)
            .field("state", &self.state)
            .field("version", &self.version)
            .field("connection", &self.generation)
            .field("queued", &self.queue.len())
            .field("unconfirmed", &self.resend.len())
            .field("transmits", &self.transmits.len())
            .field("events", &self.events.len())
            .field("pending_receipts", &self.pending.len())
            .field("subscriptions", &self.subs.keys().collect::<Vec<_>>())
            .field("reconnect", &self.reconnect)
            .finish_non_exhaustive()
    }
}

const R_OUTBOX_FULL: &str = "outbox full";
const R_CLOSED: &str = "session closed";
const R_CONN_CLOSED: &str = "connection closed";
const R_SERVER_ERROR: &str = "server sent ERROR";
const R_NACK_10: &str = "NACK needs STOMP 1.1 or later";
const R_UNENCODABLE: &str = "header not representable in this STOMP version";
const R_UNKNOWN_SUB: &str = "unknown subscription";
const R_SUB_TAKEN: &str = "subscription id already in use";
const R_DISCONNECTING: &str = "disconnect already requested";
const R_TX_LOST: &str = "transaction lost with the connection (the broker aborted it)";
const R_ACK_LOST: &str =
    "connection lost before the broker confirmed the acknowledgement (the message will be redelivered)";
const R_ACK_STALE: &str =
    "message received on an earlier connection (the broker redelivers it; acknowledge the new copy)";
const R_REPLACED: &str = "replaced by a new connection";
const R_UNSUBSCRIBED: &str = "unsubscribed before the broker confirmed the subscription";

fn id_string(prefix: &str, n: u32) -> String {
    let mut v = Vec::with_capacity(prefix.len().saturating_add(10));
    v.extend_from_slice(prefix.as_bytes());
    push_decimal(&mut v, usize::try_from(n).unwrap_or(usize::MAX));
    String::from_utf8(v).unwrap_or_default()
}

fn owned_headers(f: &FrameRef<'_>) -> Pairs {
    let headers = f.headers();
    let mut out = Vec::with_capacity(headers.len());
    for (k, v) in headers {
        out.push((lossy(k), lossy(v)));
    }
    out
}

/// Sorts by `key` (a heap sort: no allocation, O(n log n), and far less code in the wasm
/// than an instantiation of the standard library's sort).
fn sort_by_seq<T>(v: &mut [T], key: impl Fn(&T) -> u64) {
    let k = |v: &[T], i: usize| v.get(i).map(&key);
    let sift = |v: &mut [T], mut root: usize, end: usize| loop {
        let mut child = root.saturating_mul(2).saturating_add(1);
        if child >= end {
            break;
        }
        let right = child.saturating_add(1);
        if right < end && k(v, child) < k(v, right) {
            child = right;
        }
        if k(v, root) >= k(v, child) {
            break;
        }
        swap(v, root, child);
        root = child;
    };
    let n = v.len();
    for start in (0..n / 2).rev() {
        sift(v, start, n);
    }
    for end in (1..n).rev() {
        swap(v, 0, end);
        sift(v, 0, end);
    }
}

/// Swaps elements `i < j` (no panic path, unlike `slice::swap`).
fn swap<T>(v: &mut [T], i: usize, j: usize) {
    if let Some([a, .., b]) = v.get_mut(i..=j) {
        core::mem::swap(a, b);
    }
}

fn first<'a>(headers: &'a Pairs, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Parses `heart-beat: x,y`; anything malformed counts as `0,0`.
fn parse_heartbeat(v: Option<&str>) -> (u64, u64) {
    v.and_then(|v| {
        let v = v.as_bytes();
        let comma = find_byte(v, b',')?;
        let (a, b) = (v.get(..comma)?, v.get(comma.saturating_add(1)..)?);
        Some((parse_u64(a)?, parse_u64(b)?))
    })
    .unwrap_or((0, 0))
}

fn negotiate(ours: u32, theirs: u64) -> u64 {
    if ours == 0 || theirs == 0 {
        0
    } else {
        theirs.max(u64::from(ours))
    }
}

fn to_owned_pairs(headers: &[(&str, &str)]) -> Pairs {
    let mut out = Vec::with_capacity(headers.len());
    for (k, v) in headers {
        out.push(((*k).to_owned(), (*v).to_owned()));
    }
    out
}

/// Whether two header lists are the same apart from `receipt`.
fn same_headers(a: &Pairs, b: &Pairs) -> bool {
    let mut a = a.iter().filter(|(k, _)| k != "receipt");
    let mut b = b.iter().filter(|(k, _)| k != "receipt");
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == y => {}
            _ => return false,
        }
    }
}

impl Session {
    /// A session that will connect with `opts` once the socket opens.
    #[must_use]
    pub fn new(opts: ConnectOptions) -> Self {
        // Newest first, each once (no sort: there are only three).
        let mut versions = Vec::with_capacity(Version::ALL.len());
        for v in Version::ALL {
            if opts.accept_versions.is_empty() || opts.accept_versions.contains(&v) {
                versions.push(v);
            }
        }
        let reconnect = Reconnect::new(opts.reconnect.clone(), opts.urls.clone(), opts.seed);
        Session {
            decoder: Decoder::new(opts.limits),
            opts,
            versions,
            state: State::Idle,
            version: None,
            now: Millis::ZERO,
            last_tx: Millis::ZERO,
            last_rx: Millis::ZERO,
            out_interval: 0,
            in_interval: 0,
            connect_deadline: None,
            disconnect_deadline: None,
            close_deadline: None,
            next_op: 0,
            next_sub: 0,
            next_tx: 0,
            next_receipt: 0,
            next_seq: 0,
            queue: VecDeque::new(),
            resend: VecDeque::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            pending: StrMap::default(),
            subs: StrMap::default(),
            open_txs: StrSet::default(),
            dead_txs: StrSet::default(),
            claimable: Vec::new(),
            disconnect_op: None,
            disconnect_receipt: None,
            reconnect,
            started: false,
            stopping: false,
            fatal: false,
            retry_planned: false,
            generation: 0,
        }
    }

    /// WebSocket subprotocols to offer, newest version first.
    #[must_use]
    pub fn subprotocols(&self) -> Vec<&'static str> {
        let mut out = Vec::with_capacity(self.versions.len());
        for v in &self.versions {
            out.push(v.subprotocol());
        }
        out
    }

    /// The negotiated version, while connected.
    #[must_use]
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// Whether CONNECTED arrived and the session is not closing.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// Whether the session is over for good.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Whether a lost connection is being replaced (waiting for a retry, or connecting again).
    #[must_use]
    pub fn is_reconnecting(&self) -> bool {
        self.generation > 0
            && (matches!(self.state, State::Waiting | State::Idle | State::Connecting)
                || (self.state == State::Closing && self.retry_planned))
    }

    /// The number of the current connection: 1 for the first CONNECTED, 2 after a reconnect…
    #[must_use]
    pub fn connection(&self) -> u32 {
        self.generation
    }

    /// Commands waiting in the outbox for a connection / `flush_queued`.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// SENDs whose receipt was lost with a connection, to be re-sent on the next one.
    #[must_use]
    pub fn unconfirmed(&self) -> usize {
        self.resend.len()
    }

    fn bump(&mut self, now: Millis) {
        if now > self.now {
            self.now = now;
        }
    }

    fn new_op(&mut self) -> OpId {
        let op = OpId(self.next_op);
        self.next_op = self.next_op.wrapping_add(1);
        op
    }

    fn new_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        s
    }

    #[inline(never)]
    fn fail(&mut self, op: OpId, reason: &'static str) {
        self.events.push_back(Event::Failed { op, reason });
    }

    #[inline(never)]
    fn complete(&mut self, op: OpId) {
        self.events.push_back(Event::Completed { op });
    }

    fn push_frame(&mut self, data: Vec<u8>, op: Option<OpId>) {
        let text = core::str::from_utf8(&data).is_ok();
        self.transmits
            .push_back((Transmit::Frame { data, text }, op));
        self.last_tx = self.now;
    }

    /// Asks for a socket to `url`, bounded by the connect timeout.
    fn open(&mut self, url: String) {
        self.arm_connect_deadline();
        self.transmits.push_back((Transmit::Open { url }, None));
    }

    fn arm_connect_deadline(&mut self) {
        self.connect_deadline = (self.opts.connect_timeout_ms > 0)
            .then(|| self.now + u64::from(self.opts.connect_timeout_ms));
    }

    /// Asks for the socket to the first URL ([`Transmit::Open`]). Without URLs, or once
    /// started, it does nothing (the caller may also open the socket itself and call
    /// `handle_open`).
    pub fn connect(&mut self, now: Millis) {
        self.bump(now);
        if self.started || self.state != State::Idle {
            return;
        }
        if let Some(url) = self.reconnect.url().map(str::to_owned) {
            self.started = true;
            self.open(url);
        }
    }

    /// The socket opened (with the server's chosen `subprotocol`, possibly empty): writes
    /// CONNECT. Ignored unless a socket is awaited.
    pub fn handle_open(&mut self, now: Millis, subprotocol: &str) {
        self.bump(now);
        let _ = subprotocol;
        if self.state != State::Idle {
            return;
        }
        self.started = true;
        self.state = State::Connecting;
        self.last_rx = self.now;
        self.arm_connect_deadline();
        let mut accept = String::new();
        for v in self.versions.iter().rev() {
            // `push_str`, not `push(',')`: that would pull `String::push` into the wasm.
            accept.push_str(if accept.is_empty() { "" } else { "," });
            accept.push_str(v.as_str());
        }
        let mut hb = Vec::new();
        push_decimal(
            &mut hb,
            usize::try_from(self.opts.heartbeat_outgoing_ms).unwrap_or(0),
        );
        hb.push(b',');
        push_decimal(
            &mut hb,
            usize::try_from(self.opts.heartbeat_incoming_ms).unwrap_or(0),
        );
        let hb = String::from_utf8(hb).unwrap_or_default();
        let mut headers: Vec<(&str, &str)> = vec![("accept-version", &accept)];
        if let Some(h) = &self.opts.host {
            headers.push(("host", h));
        }
        if let Some(l) = &self.opts.login {
            headers.push(("login", l));
        }
        if let Some(p) = &self.opts.passcode {
            headers.push(("passcode", p));
        }
        headers.push(("heart-beat", &hb));
        for (k, v) in &self.opts.headers {
            headers.push((k, v));
        }
        let mut data = Vec::new();
        let res = encode(Command::Connect, &headers, b"", Version::V1_2, &mut data);
        match res {
            Ok(()) => self.push_frame(data, None),
            Err(e) => {
                // Our own options cannot be written: retrying cannot help.
                self.fatal = true;
                self.protocol_fail(e);
            }
        }
    }

    /// One WebSocket message's bytes (text or binary).
    pub fn handle_data(&mut self, now: Millis, data: &[u8]) {
        self.receive(now, data, None);
    }

    /// Like [`Session::handle_data`], but MESSAGE frames are handed to `sink` as they are
    /// decoded, borrowed from the decoder's buffer ([`MessageRef`]: nothing copied or
    /// allocated), instead of being queued as [`Event::Message`]. Order is kept: once any
    /// other event is waiting to be polled, later MESSAGEs are queued as events behind it, so
    /// a caller that hands out sunk messages before polled events sees them in wire order.
    pub fn handle_data_with(
        &mut self,
        now: Millis,
        data: &[u8],
        sink: &mut dyn FnMut(&MessageRef<'_>),
    ) {
        self.receive(now, data, Some(sink));
    }

    fn receive(
        &mut self,
        now: Millis,
        data: &[u8],
        mut sink: Option<&mut dyn FnMut(&MessageRef<'_>)>,
    ) {
        self.bump(now);
        if !matches!(
            self.state,
            State::Connecting | State::Connected | State::Disconnecting
        ) {
            return;
        }
        self.last_rx = self.now;
        let input = self.decoder.received();
        self.decoder.push(data);
        while matches!(
            self.state,
            State::Connecting | State::Connected | State::Disconnecting
        ) {
            let version = self
                .version
                .or_else(|| self.versions.first().copied())
                .unwrap_or(Version::V1_2);
            let parsed = match self.decoder.next_ref(version) {
                Ok(None) => break,
                Ok(Some(ItemRef::Heartbeat)) => continue,
                Ok(Some(ItemRef::Frame(f)))
                    if f.command() == Command::Message
                        && matches!(self.state, State::Connected | State::Disconnecting) =>
                {
                    let m = message_ref(&self.subs, self.generation, f, input, data.len());
                    match sink.as_mut() {
                        Some(sink) if self.events.is_empty() => sink(&m),
                        _ => self.events.push_back(m.to_event()),
                    }
                    continue;
                }
                Ok(Some(ItemRef::Frame(f))) => {
                    Ok((f.command(), owned_headers(&f), f.body().to_vec()))
                }
                Err(e) => Err(e),
            };
            match parsed {
                Ok((command, headers, body)) => self.on_frame(command, headers, body),
                Err(e) => self.protocol_fail(e),
            }
        }
    }

    /// The browser reports the network gone (`false`) or back (`true`): no attempts are made
    /// offline, and a waiting one is made at once when the network returns.
    pub fn handle_network(&mut self, now: Millis, online: bool) {
        self.bump(now);
        self.reconnect.set_online(self.now, online);
    }

    /// The page became visible (`true`) or hidden: becoming visible cuts a retry wait short.
    pub fn handle_visibility(&mut self, now: Millis, visible: bool) {
        self.bump(now);
        self.reconnect.set_visible(self.now, visible);
    }

    fn on_frame(&mut self, command: Command, headers: Pairs, body: Vec<u8>) {
        match (self.state, command) {
            (State::Connecting, Command::Connected) => self.on_connected(headers),
            (_, Command::Error) => {
                self.events.push_back(Event::ServerError { headers, body });
                // The broker refused us or something we sent: the same would happen again.
                self.fatal = true;
                self.request_close(CLOSE_NORMAL, "server error", R_SERVER_ERROR);
            }
            (State::Connected | State::Disconnecting, Command::Receipt) => self.on_receipt(headers),
            _ => self.protocol_fail(Error::UnexpectedFrame),
        }
    }

    fn on_connected(&mut self, headers: Pairs) {
        let version = match first(&headers, "version") {
            None => Some(Version::V1_0),
            Some(v) => Version::parse(v.as_bytes()),
        };
        let Some(version) = version.filter(|v| self.versions.contains(v)) else {
            self.fatal = true;
            self.protocol_fail(Error::UnsupportedVersion);
            return;
        };
        let (sx, sy) = parse_heartbeat(first(&headers, "heart-beat"));
        self.out_interval = negotiate(self.opts.heartbeat_outgoing_ms, sy);
        self.in_interval = negotiate(self.opts.heartbeat_incoming_ms, sx);
        self.version = Some(version);
        self.state = State::Connected;
        self.connect_deadline = None;
        let reconnected = self.generation > 0;
        self.generation = self.generation.wrapping_add(1);
        self.reconnect.connected(self.now);
        if reconnected {
            self.restore_subscriptions();
        }
        self.events.push_back(Event::Connected {
            version,
            headers,
            reconnected,
        });
    }

    /// Re-sends SUBSCRIBE for every subscription of a lost connection, under its old id and
    /// with a receipt, before the page hears of the new connection.
    fn restore_subscriptions(&mut self) {
        // In subscription order (a sort: a page may hold thousands of subscriptions).
        let mut ids: Vec<(u64, String)> = Vec::new();
        for (id, s) in self.subs.iter() {
            if s.on == SubOn::Restore {
                ids.push((s.seq, id.clone()));
            }
        }
        sort_by_seq(&mut ids, |(seq, _)| *seq);
        for (_, id) in ids {
            let waiting = self
                .subs
                .get_mut(&id)
                .map(|s| core::mem::take(&mut s.waiting))
                .unwrap_or_default();
            self.write_subscribe(&id, waiting, true);
            self.claimable.push(id);
        }
    }

    fn on_receipt(&mut self, headers: Pairs) {
        let receipt_id = first(&headers, "receipt-id").unwrap_or("").to_owned();
        if self.disconnect_receipt.as_deref() == Some(receipt_id.as_str()) {
            self.disconnect_receipt = None;
            if let Some(op) = self.disconnect_op.take() {
                self.complete(op);
            }
            self.request_close(CLOSE_NORMAL, "disconnect", R_CLOSED);
            return;
        }
        let ops = match self.pending.remove(&receipt_id) {
            // A receipt the session asked for itself (a restoring SUBSCRIBE nobody waits on).
            Some(p) if p.ops.is_empty() => return,
            Some(p) => p.ops,
            None => Vec::new(),
        };
        self.events.push_back(Event::Receipt {
            receipt_id,
            headers,
        });
        for op in ops {
            self.complete(op);
        }
    }

    /// Drops the frames not yet polled; their ops fail with `reason`.
    fn fail_unsent(&mut self, reason: &'static str) {
        while let Some((_, op)) = self.transmits.pop_front() {
            if let Some(op) = op {
                self.fail(op, reason);
            }
        }
    }

    /// Empties the pending receipts, in the order they were asked for.
    fn take_pending(&mut self) -> Vec<(String, Pending)> {
        let mut all = core::mem::take(&mut self.pending).into_vec();
        sort_by_seq(&mut all, |(_, p)| p.seq);
        all
    }

    /// Fails everything pending with `reason`; the disconnect op (if any) completes.
    fn fail_pending(&mut self, reason: &'static str) {
        self.fail_unsent(reason);
        while let Some(q) = self.resend.pop_front() {
            self.fail(q.op, reason);
        }
        while let Some(q) = self.queue.pop_front() {
            self.fail(q.op, reason);
        }
        for (_, p) in self.take_pending() {
            for op in p.ops {
                self.fail(op, reason);
            }
        }
        for s in self.subs.values_mut() {
            for op in core::mem::take(&mut s.waiting) {
                self.events.push_back(Event::Failed { op, reason });
            }
        }
        if let Some(op) = self.disconnect_op.take() {
            self.complete(op);
        }
        self.claimable.clear();
        self.disconnect_receipt = None;
        self.connect_deadline = None;
        self.disconnect_deadline = None;
    }

    /// A connection was lost and another will be tried: keeps what can be carried over
    /// (outbox, unconfirmed SENDs, subscriptions) and fails what cannot.
    fn drop_connection(&mut self) {
        self.fail_unsent(R_CONN_CLOSED);
        for (_, p) in self.take_pending() {
            match p.confirms {
                Confirms::Send(cmd) => {
                    if let Some(&op) = p.ops.first() {
                        self.resend.push_back(Queued {
                            op,
                            cmd,
                            receipt: true,
                        });
                    }
                }
                Confirms::Subscribe(id) => match self.subs.get_mut(&id) {
                    Some(sub) => sub.waiting.extend(p.ops),
                    None => {
                        for op in p.ops {
                            self.fail(op, R_UNSUBSCRIBED);
                        }
                    }
                },
                // The old connection's subscription is gone with it.
                Confirms::Unsubscribe => {
                    for op in p.ops {
                        self.complete(op);
                    }
                }
                Confirms::Ack => {
                    for op in p.ops {
                        self.fail(op, R_ACK_LOST);
                    }
                }
                Confirms::SendInTx | Confirms::Tx => {
                    for op in p.ops {
                        self.fail(op, R_TX_LOST);
                    }
                }
            }
        }
        for sub in self.subs.values_mut() {
            if matches!(sub.on, SubOn::Live(_)) {
                sub.on = SubOn::Restore;
            }
        }
        let open = core::mem::take(&mut self.open_txs);
        for tx in open.into_keys() {
            self.dead_txs.add(tx);
        }
        self.claimable.clear();
        self.decoder = Decoder::new(self.opts.limits);
        self.version = None;
        self.out_interval = 0;
        self.in_interval = 0;
        self.connect_deadline = None;
        self.disconnect_deadline = None;
        self.retry_planned = false;
    }

    /// Whether the current connection's end will be followed by a retry.
    fn will_retry(&self) -> bool {
        !self.stopping && !self.fatal && self.reconnect.would_retry(self.now)
    }

    fn request_close(&mut self, code: u16, reason: &'static str, fail_reason: &'static str) {
        self.state = State::Closing;
        self.retry_planned = self.will_retry();
        if !self.retry_planned {
            self.fail_pending(fail_reason);
        }
        self.connect_deadline = None;
        self.disconnect_deadline = None;
        self.close_deadline = Some((self.now + CLOSE_GRACE_MS, reason));
        self.transmits
            .push_back((Transmit::Close { code, reason }, None));
    }

    fn protocol_fail(&mut self, error: Error) {
        if matches!(self.state, State::Closing | State::Closed | State::Waiting) {
            return;
        }
        self.events.push_back(Event::ProtocolError { error });
        let code = match error {
            Error::HeartbeatTimeout | Error::ConnectTimeout => CLOSE_TIMEOUT,
            _ => {
                // Bad bytes from this server would come again.
                self.fatal = true;
                CLOSE_PROTOCOL_ERROR
            }
        };
        self.request_close(code, error.as_str(), error.as_str());
    }

    /// The socket closed (by either side). A lost connection is retried when reconnection is
    /// on (a `Reconnecting` event); otherwise what is pending fails and `Closed` follows.
    pub fn handle_close(&mut self, now: Millis, code: u16, reason: &str, clean: bool) {
        self.bump(now);
        if matches!(self.state, State::Closed | State::Waiting) {
            return;
        }
        self.close_deadline = None;
        if !self.stopping && !self.fatal {
            let delay_ms = match self.reconnect.disconnected(self.now) {
                Next::Retry { delay_ms, .. } => Some(Some(delay_ms)),
                Next::WaitOnline { .. } => Some(None),
                Next::GiveUp => None,
            };
            if let Some(delay_ms) = delay_ms {
                self.drop_connection();
                self.state = State::Waiting;
                self.events.push_back(Event::Reconnecting {
                    attempt: self.reconnect.attempt(),
                    delay_ms,
                    url: redact_url(self.reconnect.url().unwrap_or("")).into_owned(),
                    code,
                    reason: reason.to_owned(),
                    clean,
                });
                return;
            }
        }
        self.finish(code, reason, clean);
    }

    /// The socket could not even be created (the browser refused the URL): retrying cannot
    /// help, so the session closes for good with code 1006 and the browser's `reason`.
    pub fn handle_open_failed(&mut self, now: Millis, reason: &str) {
        self.fatal = true;
        self.handle_close(now, 1006, reason, false);
    }

    /// The caller replaces this session with another one: stops reconnecting, fails what is
    /// pending (`reason` "replaced by a new connection") and asks to close, without a `Closed`
    /// event (the caller drops the session and its socket).
    pub fn abandon(&mut self, now: Millis) {
        self.bump(now);
        if self.state == State::Closed {
            return;
        }
        self.stopping = true;
        self.retry_planned = false;
        self.reconnect.stop();
        self.fail_pending(R_REPLACED);
        let had_socket = !matches!(self.state, State::Waiting);
        self.state = State::Closed;
        if had_socket {
            self.transmits.push_back((
                Transmit::Close {
                    code: CLOSE_NORMAL,
                    reason: "replaced",
                },
                None,
            ));
        }
    }

    fn finish(&mut self, code: u16, reason: &str, clean: bool) {
        self.state = State::Closed;
        self.reconnect.stop();
        self.fail_pending(R_CONN_CLOSED);
        self.events.push_back(Event::Closed {
            code,
            reason: reason.to_owned(),
            clean,
        });
    }

    /// Runs timers due at `now`: heart-beat send, server silence, connect/disconnect timeouts,
    /// the next reconnect attempt. A call before the deadline is a no-op.
    pub fn handle_timeout(&mut self, now: Millis) {
        self.bump(now);
        let now = self.now;
        match self.state {
            State::Idle | State::Connecting => {
                if self.connect_deadline.is_some_and(|d| now >= d) {
                    self.protocol_fail(Error::ConnectTimeout);
                }
            }
            State::Connected | State::Disconnecting => {
                if self.in_interval > 0
                    && now.since(self.last_rx) >= self.in_interval.saturating_mul(2)
                {
                    self.protocol_fail(Error::HeartbeatTimeout);
                    return;
                }
                if self.disconnect_deadline.is_some_and(|d| now >= d) {
                    self.request_close(CLOSE_NORMAL, "disconnect", R_CLOSED);
                    return;
                }
                if self.out_interval > 0 && now.since(self.last_tx) >= self.out_interval {
                    self.push_frame(b"\n".to_vec(), None);
                }
            }
            State::Waiting => {
                if let Some(url) = self.reconnect.handle_timeout(now).map(str::to_owned) {
                    self.state = State::Idle;
                    self.open(url);
                }
            }
            State::Closing => {
                if let Some((at, reason)) = self.close_deadline {
                    if now >= at {
                        self.handle_close(now, 1006, reason, false);
                    }
                }
            }
            State::Closed => {}
        }
    }

    /// The next instant `handle_timeout` must be called, if any.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        match self.state {
            State::Idle | State::Connecting => self.connect_deadline,
            State::Connected | State::Disconnecting => {
                let incoming = (self.in_interval > 0)
                    .then(|| self.last_rx + self.in_interval.saturating_mul(2));
                let outgoing = (self.out_interval > 0).then(|| self.last_tx + self.out_interval);
                let mut next = self.disconnect_deadline;
                for t in [incoming, outgoing].into_iter().flatten() {
                    if next.map_or(true, |n| t < n) {
                        next = Some(t);
                    }
                }
                next
            }
            State::Waiting => self.reconnect.poll_timeout(),
            State::Closing => self.close_deadline.map(|(at, _)| at),
            State::Closed => None,
        }
    }

    /// The next thing to do on the socket. Polling a frame of an op without receipt completes
    /// that op.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let (t, op) = self.transmits.pop_front()?;
        if let Some(op) = op {
            self.complete(op);
        }
        Some(t)
    }

    /// The next event for the page.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether commands go to the outbox now (not connected, but not over either).
    fn offline(&self) -> bool {
        match self.state {
            State::Idle | State::Connecting | State::Waiting => true,
            State::Closing => self.retry_planned,
            State::Connected | State::Disconnecting | State::Closed => false,
        }
    }

    fn submit(&mut self, cmd: Cmd, receipt: bool) -> OpId {
        self.try_submit(cmd, receipt).0
    }

    /// Queues or dispatches; the flag tells whether the op is still alive (not failed).
    fn try_submit(&mut self, cmd: Cmd, receipt: bool) -> (OpId, bool) {
        let op = self.new_op();
        let alive = if self.state == State::Connected {
            self.dispatch(op, cmd, receipt)
        } else if self.offline() {
            if self.queue.len() >= self.opts.max_outbox {
                self.fail(op, R_OUTBOX_FULL);
                false
            } else {
                self.queue.push_back(Queued { op, cmd, receipt });
                true
            }
        } else {
            self.fail(op, R_CLOSED);
            false
        };
        (op, alive)
    }

    /// Sends what waited for the connection, in order: first the SENDs whose receipt a lost
    /// connection took along, then the outbox. Call after CONNECTED, once the page's connect
    /// handler ran (so what it sends goes first); before CONNECTED it does nothing.
    pub fn flush_queued(&mut self) {
        if self.state != State::Connected {
            return;
        }
        self.claimable.clear();
        while let Some(q) = self.resend.pop_front() {
            self.dispatch(q.op, q.cmd, q.receipt);
        }
        while let Some(q) = self.queue.pop_front() {
            let sub = match &q.cmd {
                Cmd::Subscribe { id } => Some(id.clone()),
                _ => None,
            };
            if !self.dispatch(q.op, q.cmd, q.receipt) {
                if let Some(id) = sub {
                    self.subs.remove(&id);
                }
            }
        }
    }

    /// A receipt id: the caller's `wanted` one when it is free, else the next `rcpt-N`.
    fn receipt_id(&mut self, wanted: Option<&str>) -> String {
        if let Some(w) = wanted {
            if !w.is_empty()
                && !self.pending.contains_key(w)
                && self.disconnect_receipt.as_deref() != Some(w)
            {
                return w.to_owned();
            }
        }
        loop {
            let id = id_string("rcpt-", self.next_receipt);
            self.next_receipt = self.next_receipt.wrapping_add(1);
            if !self.pending.contains_key(&id) {
                return id;
            }
        }
    }

    /// Writes SUBSCRIBE for subscription `id` on this connection. `ops` complete on its
    /// receipt when `receipt` (which callers ask for whenever more than one op waits), else
    /// the first completes when the frame is polled.
    fn write_subscribe(&mut self, id: &str, ops: Vec<OpId>, receipt: bool) -> bool {
        let version = self.version.unwrap_or(Version::V1_2);
        let generation = self.generation;
        let Some(sub) = self.subs.get(id) else {
            for op in ops {
                self.fail(op, R_UNKNOWN_SUB);
            }
            return false;
        };
        let wanted = first(&sub.headers, "receipt").map(str::to_owned);
        let rid = if receipt {
            Some(self.receipt_id(wanted.as_deref()))
        } else {
            None
        };
        let Some(sub) = self.subs.get(id) else {
            return false;
        };
        let mut h: Vec<(&str, &str)> = vec![
            ("id", id),
            ("destination", &sub.dest),
            ("ack", sub.ack.as_str()),
        ];
        for (k, v) in &sub.headers {
            if !["id", "destination", "ack", "receipt"].contains(&k.as_str()) {
                h.push((k, v));
            }
        }
        if let Some(rid) = &rid {
            h.push(("receipt", rid));
        }
        let mut data = Vec::new();
        let ok = encode(Command::Subscribe, &h, b"", version, &mut data).is_ok();
        drop(h);
        let confirms = Confirms::Subscribe(id.to_owned());
        if !self.sent(ok, data, rid, ops, confirms) {
            return false;
        }
        if let Some(sub) = self.subs.get_mut(id) {
            sub.on = SubOn::Live(generation);
        }
        true
    }

    /// Queues frame `data` for `ops` (or fails them when `!ok`: the frame could not be
    /// written in this version). With receipt id `rid` they complete on that receipt
    /// (`confirms` says what it confirms); without, the first completes when the frame is
    /// polled. Returns `ok`.
    fn sent(
        &mut self,
        ok: bool,
        data: Vec<u8>,
        rid: Option<String>,
        ops: Vec<OpId>,
        confirms: Confirms,
    ) -> bool {
        if !ok {
            for op in ops {
                self.fail(op, R_UNENCODABLE);
            }
            return false;
        }
        match rid {
            Some(rid) => {
                let seq = self.new_seq();
                self.pending.insert(rid, Pending { seq, ops, confirms });
                self.push_frame(data, None);
            }
            None => self.push_frame(data, ops.first().copied()),
        }
        true
    }

    /// Encodes and queues the frame; false when the op failed.
    fn dispatch(&mut self, op: OpId, cmd: Cmd, receipt: bool) -> bool {
        let version = self.version.unwrap_or(Version::V1_2);
        let dead = |tx: &Option<String>| tx.as_ref().is_some_and(|t| self.dead_txs.contains_key(t));
        let lost = match &cmd {
            Cmd::Send { tx, .. } | Cmd::Ack { tx, .. } => dead(tx),
            Cmd::Tx { tx, .. } => self.dead_txs.contains_key(tx),
            Cmd::Subscribe { .. } | Cmd::Unsubscribe { .. } => false,
        };
        if lost {
            self.fail(op, R_TX_LOST);
            return false;
        }
        if let Cmd::Subscribe { id } = &cmd {
            return self.write_subscribe(id, vec![op], receipt);
        }
        if let Cmd::Ack { token, nack, .. } = &cmd {
            if token.connection != self.generation {
                self.fail(op, R_ACK_STALE);
                return false;
            }
            if *nack && version == Version::V1_0 {
                self.fail(op, R_NACK_10);
                return false;
            }
        }
        let wanted = match &cmd {
            Cmd::Send { headers, .. } => first(headers, "receipt"),
            _ => None,
        };
        let rid = if receipt {
            Some(self.receipt_id(wanted))
        } else {
            None
        };
        let mut h: Vec<(&str, &str)> = Vec::new();
        let mut body: &[u8] = b"";
        let command = match &cmd {
            Cmd::Send {
                dest,
                tx,
                headers,
                body: b,
            } => {
                h.push(("destination", dest));
                if let Some(tx) = tx {
                    h.push(("transaction", tx));
                }
                for (k, v) in headers {
                    if !["destination", "receipt", "transaction"].contains(&k.as_str()) {
                        h.push((k, v));
                    }
                }
                body = b;
                Command::Send
            }
            Cmd::Subscribe { .. } => return false,
            Cmd::Unsubscribe { id } => {
                h.push(("id", id));
                Command::Unsubscribe
            }
            Cmd::Ack { token, tx, nack } => {
                match version {
                    Version::V1_2 => {
                        h.push(("id", token.ack.as_deref().unwrap_or(&token.message_id)));
                    }
                    Version::V1_1 => {
                        h.push(("message-id", &token.message_id));
                        h.push(("subscription", &token.subscription));
                    }
                    Version::V1_0 => h.push(("message-id", &token.message_id)),
                }
                if let Some(tx) = tx {
                    h.push(("transaction", tx));
                }
                if *nack {
                    Command::Nack
                } else {
                    Command::Ack
                }
            }
            Cmd::Tx { command, tx } => {
                h.push(("transaction", tx));
                *command
            }
        };
        if let Some(rid) = &rid {
            h.push(("receipt", rid));
        }
        let mut data = Vec::new();
        let ok = encode(command, &h, body, version, &mut data).is_ok();
        drop(h);
        if ok {
            if let Cmd::Tx { command, tx } = &cmd {
                if *command == Command::Begin {
                    self.open_txs.add(tx.clone());
                } else {
                    self.open_txs.remove(tx);
                }
            }
        }
        let confirms = match cmd {
            Cmd::Send { tx: None, .. } => Confirms::Send(cmd),
            Cmd::Send { .. } => Confirms::SendInTx,
            Cmd::Subscribe { id } => Confirms::Subscribe(id),
            Cmd::Unsubscribe { .. } => Confirms::Unsubscribe,
            Cmd::Ack { .. } => Confirms::Ack,
            Cmd::Tx { .. } => Confirms::Tx,
        };
        self.sent(ok, data, rid, vec![op], confirms)
    }

    /// SEND `body` to `destination` with extra `headers` (`content-length` is computed). With
    /// `receipt`, a `receipt` header among `headers` names the receipt (when that id is free).
    pub fn send(
        &mut self,
        destination: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        receipt: bool,
    ) -> OpId {
        self.send_tx(None, destination, headers, body, receipt)
    }

    /// SEND inside transaction `tx`.
    pub fn send_in(
        &mut self,
        tx: &str,
        destination: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        receipt: bool,
    ) -> OpId {
        self.send_tx(Some(tx), destination, headers, body, receipt)
    }

    fn send_tx(
        &mut self,
        tx: Option<&str>,
        destination: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        receipt: bool,
    ) -> OpId {
        let cmd = Cmd::Send {
            dest: destination.to_owned(),
            tx: tx.map(str::to_owned),
            headers: to_owned_pairs(headers),
            body: body.to_vec(),
        };
        self.submit(cmd, receipt)
    }

    /// SUBSCRIBE; returns the new subscription id (`sub-0`, `sub-1`, …). With `receipt`, a
    /// `receipt` header among `headers` names the receipt (when that id is free).
    pub fn subscribe(
        &mut self,
        destination: &str,
        ack: AckMode,
        headers: &[(&str, &str)],
        receipt: bool,
    ) -> (String, OpId) {
        let id = loop {
            let id = id_string("sub-", self.next_sub);
            self.next_sub = self.next_sub.wrapping_add(1);
            if !self.subs.contains_key(&id) {
                break id;
            }
        };
        self.subscribe_with_id(&id, destination, ack, headers, receipt)
    }

    /// SUBSCRIBE under the caller's id (fails when that id is live). Returns the id in use:
    /// right after a reconnection, while the page's connect handler runs, a subscribe that
    /// repeats a restored subscription (same destination, ack mode and headers) returns that
    /// one instead of subscribing twice, so code that subscribes in its connect handler keeps
    /// working across reconnects.
    pub fn subscribe_with_id(
        &mut self,
        id: &str,
        destination: &str,
        ack: AckMode,
        headers: &[(&str, &str)],
        receipt: bool,
    ) -> (String, OpId) {
        let headers = to_owned_pairs(headers);
        if self.state == State::Connected {
            let found = self.claimable.iter().find(|c| {
                self.subs.get(c).is_some_and(|s| {
                    s.dest == destination && s.ack == ack && same_headers(&s.headers, &headers)
                })
            });
            if let Some(id) = found.cloned() {
                // Ids are unique in the list (no `Vec::remove`: its panic path costs code).
                self.unclaim(&id);
                let op = self.new_op();
                let waiting = receipt
                    .then(|| {
                        self.pending
                            .values_mut()
                            .find(|p| matches!(&p.confirms, Confirms::Subscribe(s) if *s == id))
                    })
                    .flatten();
                match waiting {
                    Some(p) => p.ops.push(op),
                    None => self.complete(op),
                }
                return (id, op);
            }
        }
        if self.subs.contains_key(id) {
            let op = self.new_op();
            self.fail(op, R_SUB_TAKEN);
            return (id.to_owned(), op);
        }
        let seq = self.new_seq();
        self.subs.insert(
            id.to_owned(),
            Sub {
                seq,
                dest: destination.to_owned(),
                ack,
                headers,
                on: SubOn::Queued,
                waiting: Vec::new(),
            },
        );
        let (op, alive) = self.try_submit(Cmd::Subscribe { id: id.to_owned() }, receipt);
        if !alive {
            self.subs.remove(id);
        }
        (id.to_owned(), op)
    }

    /// Takes `id` off the restored subscriptions a subscribe may claim.
    fn unclaim(&mut self, id: &str) {
        // Ids are unique in the list; `position` found `i`, so `remove` cannot panic.
        if let Some(i) = self.claimable.iter().position(|c| c == id) {
            if i < self.claimable.len() {
                self.claimable.remove(i);
            }
        }
    }

    /// UNSUBSCRIBE `sub_id`. An id this session never handed out (or already unsubscribed)
    /// fails at once. A subscription of a lost connection is simply dropped (it is not
    /// restored), completing at once.
    pub fn unsubscribe(&mut self, sub_id: &str, receipt: bool) -> OpId {
        let over = matches!(
            self.state,
            State::Disconnecting | State::Closed | State::Closing
        ) && !self.offline();
        let send = match self.subs.remove(sub_id) {
            None if over => true,
            None => {
                let op = self.new_op();
                self.fail(op, R_UNKNOWN_SUB);
                return op;
            }
            Some(sub) => {
                self.unclaim(sub_id);
                for op in sub.waiting {
                    self.fail(op, R_UNSUBSCRIBED);
                }
                if sub.on == SubOn::Queued && !over {
                    // Never sent: take the SUBSCRIBE back out of the outbox; nothing goes on
                    // the wire. One turn of the queue, dropping the first match (no
                    // `VecDeque::remove`, whose code is large).
                    let mut found = false;
                    for _ in 0..self.queue.len() {
                        let Some(q) = self.queue.pop_front() else {
                            break;
                        };
                        if !found && matches!(&q.cmd, Cmd::Subscribe { id } if id == sub_id) {
                            found = true;
                            self.fail(q.op, R_UNSUBSCRIBED);
                        } else {
                            self.queue.push_back(q);
                        }
                    }
                }
                over || (sub.on == SubOn::Live(self.generation) && self.state == State::Connected)
            }
        };
        if send {
            let cmd = Cmd::Unsubscribe {
                id: sub_id.to_owned(),
            };
            return self.submit(cmd, receipt);
        }
        let op = self.new_op();
        self.complete(op);
        op
    }

    /// ACK a message (headers per negotiated version).
    pub fn ack(&mut self, token: &AckToken, transaction: Option<&str>, receipt: bool) -> OpId {
        self.ack_nack(token, transaction, receipt, false)
    }

    /// NACK a message; fails on STOMP 1.0.
    pub fn nack(&mut self, token: &AckToken, transaction: Option<&str>, receipt: bool) -> OpId {
        self.ack_nack(token, transaction, receipt, true)
    }

    fn ack_nack(
        &mut self,
        token: &AckToken,
        transaction: Option<&str>,
        receipt: bool,
        nack: bool,
    ) -> OpId {
        let cmd = Cmd::Ack {
            token: token.clone(),
            tx: transaction.map(str::to_owned),
            nack,
        };
        self.submit(cmd, receipt)
    }

    /// BEGIN a transaction; returns its id (`tx-0`, `tx-1`, …).
    pub fn begin(&mut self, receipt: bool) -> (String, OpId) {
        let tx = id_string("tx-", self.next_tx);
        self.next_tx = self.next_tx.wrapping_add(1);
        let op = self.begin_with_id(&tx, receipt);
        (tx, op)
    }

    /// BEGIN a transaction named by the caller (the JS layer names it at once, before the
    /// wasm module has loaded, so sends in it can be issued straight away).
    pub fn begin_with_id(&mut self, tx: &str, receipt: bool) -> OpId {
        self.submit(
            Cmd::Tx {
                command: Command::Begin,
                tx: tx.to_owned(),
            },
            receipt,
        )
    }

    /// COMMIT transaction `tx`.
    pub fn commit(&mut self, tx: &str, receipt: bool) -> OpId {
        let cmd = Cmd::Tx {
            command: Command::Commit,
            tx: tx.to_owned(),
        };
        self.submit(cmd, receipt)
    }

    /// ABORT transaction `tx`.
    pub fn abort(&mut self, tx: &str, receipt: bool) -> OpId {
        let cmd = Cmd::Tx {
            command: Command::Abort,
            tx: tx.to_owned(),
        };
        self.submit(cmd, receipt)
    }

    /// Ends the session for good, stopping any reconnection. When connected: sends queued
    /// commands, then DISCONNECT with a receipt; the op completes on that receipt (then asks
    /// to close) or on the socket's close (RabbitMQ never sends the receipt). While waiting
    /// for a retry: fails what waited and closes at once. Before CONNECTED: fails queued
    /// commands and asks to close; the op completes on close.
    pub fn disconnect(&mut self, now: Millis) -> OpId {
        self.bump(now);
        let op = self.new_op();
        let was_retrying = self.retry_planned;
        self.stopping = true;
        self.retry_planned = false;
        self.reconnect.stop();
        match self.state {
            State::Idle | State::Connecting => {
                self.request_close(CLOSE_NORMAL, "disconnect", R_CLOSED);
                self.disconnect_op = Some(op);
            }
            State::Waiting => {
                self.disconnect_op = Some(op);
                self.state = State::Closed;
                self.fail_pending(R_CLOSED);
                self.events.push_back(Event::Closed {
                    code: CLOSE_NORMAL,
                    reason: "disconnect".to_owned(),
                    clean: true,
                });
            }
            State::Connected => {
                self.flush_queued();
                let rid = self.receipt_id(None);
                let mut data = Vec::new();
                let res = encode(
                    Command::Disconnect,
                    &[("receipt", rid.as_str())],
                    b"",
                    self.version.unwrap_or(Version::V1_2),
                    &mut data,
                );
                if res.is_ok() {
                    self.push_frame(data, None);
                }
                self.disconnect_receipt = Some(rid);
                self.disconnect_op = Some(op);
                self.state = State::Disconnecting;
                if self.opts.disconnect_timeout_ms > 0 {
                    self.disconnect_deadline =
                        Some(self.now + u64::from(self.opts.disconnect_timeout_ms));
                }
            }
            // The socket is already closing for a retry: make that close the last one.
            State::Closing if was_retrying => {
                self.fail_pending(R_CLOSED);
                self.disconnect_op = Some(op);
            }
            State::Disconnecting => self.fail(op, R_DISCONNECTING),
            State::Closing | State::Closed => self.fail(op, R_CLOSED),
        }
        op
    }
}

/// Renders a frame for a debug log with the `passcode` header value replaced by `***`.
#[must_use]
pub fn redact(frame: &[u8]) -> String {
    let mut out = String::with_capacity(frame.len());
    let mut rest = frame;
    let mut first_line = true;
    while let Some(lf) = rest.iter().position(|&b| b == b'\n') {
        let (line, tail) = rest
            .split_at_checked(lf.saturating_add(1))
            .unwrap_or((rest, b""));
        rest = tail;
        let content = line.get(..lf).unwrap_or_default();
        let content = match content.split_last() {
            Some((b'\r', head)) => head,
            _ => content,
        };
        if !first_line && content.is_empty() {
            push_lossy(&mut out, line);
            break;
        }
        if !first_line && content.starts_with(b"passcode:") {
            out.push_str("passcode:***\n");
        } else {
            push_lossy(&mut out, line);
        }
        first_line = false;
    }
    push_lossy(&mut out, rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_negotiation() {
        assert_eq!(parse_heartbeat(Some("100,200")), (100, 200));
        assert_eq!(parse_heartbeat(Some(" 1,2")), (0, 0));
        assert_eq!(parse_heartbeat(Some("1")), (0, 0));
        assert_eq!(parse_heartbeat(Some("1,2,3")), (0, 0));
        assert_eq!(parse_heartbeat(Some("99999999999999999999,1")), (0, 0));
        assert_eq!(parse_heartbeat(Some(",")), (0, 0));
        assert_eq!(
            parse_heartbeat(Some("0,18446744073709551615")),
            (0, u64::MAX)
        );
        assert_eq!(parse_heartbeat(None), (0, 0));
        assert_eq!(negotiate(0, 5), 0);
        assert_eq!(negotiate(5, 0), 0);
        assert_eq!(negotiate(5, 10), 10);
        assert_eq!(negotiate(50, 10), 50);
    }

    #[test]
    fn heap_sort_orders_by_seq() {
        let mut x = 12_345u64;
        for n in 0..70 {
            let mut v: Vec<(u64, usize)> = (0..n)
                .map(|i| {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    (x >> 40, i)
                })
                .collect();
            let mut want = v.clone();
            want.sort_by_key(|p| p.0);
            sort_by_seq(&mut v, |p| p.0);
            assert_eq!(
                v.iter().map(|p| p.0).collect::<Vec<_>>(),
                want.iter().map(|p| p.0).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn ids() {
        assert_eq!(id_string("sub-", 0), "sub-0");
        assert_eq!(id_string("tx-", 42), "tx-42");
    }

    #[test]
    fn redacts_passcode() {
        let f = b"CONNECT\nlogin:guest\npasscode:secret\n\npasscode:body\0";
        assert_eq!(
            redact(f),
            "CONNECT\nlogin:guest\npasscode:***\n\npasscode:body\0"
        );
        assert_eq!(redact(b"\n"), "\n");
        assert_eq!(
            redact(b"CONNECT\r\npasscode:x\r\n\r\n\0"),
            "CONNECT\r\npasscode:***\n\r\n\0"
        );
    }

    #[test]
    fn debug_output_hides_the_passcode() {
        let opts = ConnectOptions {
            login: Some("guest".into()),
            passcode: Some("s3cret".into()),
            ..ConnectOptions::default()
        };
        let mut s = Session::new(opts.clone());
        s.handle_open(Millis(0), "");
        // The CONNECT frame waits in the session: its Debug output must not show it either,
        // as text or as bytes.
        let bytes: Vec<String> = b"s3cret".iter().map(u8::to_string).collect();
        let as_numbers = bytes.join(", ");
        for text in [format!("{opts:?}"), format!("{s:?}"), format!("{s:#?}")] {
            assert!(!text.contains("s3cret"), "{text}");
            assert!(!text.contains(&as_numbers), "{text}");
        }
        assert!(format!("{opts:?}").contains("passcode: Some(\"***\")"));
    }

    #[test]
    fn subprotocols_newest_first() {
        let s = Session::new(ConnectOptions::default());
        assert_eq!(
            s.subprotocols(),
            vec!["v12.stomp", "v11.stomp", "v10.stomp"]
        );
        let s = Session::new(ConnectOptions {
            accept_versions: vec![Version::V1_1, Version::V1_2, Version::V1_1],
            ..ConnectOptions::default()
        });
        assert_eq!(s.subprotocols(), vec!["v12.stomp", "v11.stomp"]);
    }
}
