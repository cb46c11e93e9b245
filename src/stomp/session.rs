//! The STOMP client session: a sans-IO state machine that writes CONNECT when the socket opens,
//! negotiates the version and heart-beats from CONNECTED, queues commands issued before that
//! (bounded), tracks subscriptions, receipts and transactions, detects a silent server, and
//! turns server frames into [`Event`]s. The caller feeds socket events and the time in
//! (`handle_*`), issues commands, and polls [`Transmit`]s, events and the next deadline out.
//! Every command returns an [`OpId`] that ends in exactly one `Completed` or `Failed` event.

use std::collections::{BTreeMap, VecDeque};

use super::codec::{encode, push_decimal, Decoder, Error, Item, Limits};
use super::frame::{Command, Frame, Version};
use crate::time::Millis;

/// Close code for a normal close (DISCONNECT done, or after a server ERROR frame).
pub const CLOSE_NORMAL: u16 = 1000;
/// Close code we ask for after a protocol error (bad bytes, breached limit, unexpected frame).
pub const CLOSE_PROTOCOL_ERROR: u16 = 4000;
/// Close code we ask for when the server stays silent (heart-beat or connect timeout).
pub const CLOSE_TIMEOUT: u16 = 4001;

/// How to open the session.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// Most commands held before CONNECTED; more fail with "outbox full". Default 1000.
    pub max_outbox: usize,
    /// Give up when CONNECTED has not arrived this long after the socket opened (0: never).
    /// Default 30 000.
    pub connect_timeout_ms: u32,
    /// After DISCONNECT, close the socket ourselves if neither the receipt nor the server's
    /// close arrived within this many ms (0: wait for the server). Default 5 000.
    pub disconnect_timeout_ms: u32,
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
        }
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
}

/// Something for the caller to do on the socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// Send these bytes as one WebSocket message; `text` when they are valid UTF-8.
    Frame { data: Vec<u8>, text: bool },
    /// Close the socket with this code and reason.
    Close { code: u16, reason: &'static str },
}

/// Something that happened, for the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// CONNECTED arrived.
    Connected {
        version: Version,
        headers: Vec<(String, String)>,
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
    /// An ERROR frame; a `Transmit::Close` follows, then pending ops fail.
    ServerError {
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Bad bytes, a breached limit, an unexpected frame or a timeout; the session asks to close.
    ProtocolError { error: Error },
    /// The socket closed; the session is over. Only `Failed` events of commands issued
    /// afterwards can follow.
    Closed {
        code: u16,
        reason: String,
        clean: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Socket not open yet.
    Idle,
    /// CONNECT sent, waiting for CONNECTED.
    Connecting,
    Connected,
    /// DISCONNECT sent.
    Disconnecting,
    /// We asked the caller to close the socket.
    Closing,
    /// `handle_close` happened.
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
        dest: String,
        ack: AckMode,
        headers: Pairs,
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

/// A STOMP client session over one WebSocket.
#[derive(Debug)]
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
    next_op: u32,
    next_sub: u32,
    next_tx: u32,
    next_receipt: u32,
    queue: VecDeque<Queued>,
    transmits: VecDeque<(Transmit, Option<OpId>)>,
    events: VecDeque<Event>,
    receipts: BTreeMap<String, OpId>,
    subs: BTreeMap<String, AckMode>,
    disconnect_op: Option<OpId>,
    disconnect_receipt: Option<String>,
}

const R_OUTBOX_FULL: &str = "outbox full";
const R_CLOSED: &str = "session closed";
const R_CONN_CLOSED: &str = "connection closed";
const R_SERVER_ERROR: &str = "server sent ERROR";
const R_NACK_10: &str = "NACK needs STOMP 1.1 or later";
const R_UNENCODABLE: &str = "header not representable in this STOMP version";
const R_UNKNOWN_SUB: &str = "unknown subscription";
const R_DISCONNECTING: &str = "disconnect already requested";

fn id_string(prefix: &str, n: u32) -> String {
    let mut v = Vec::with_capacity(prefix.len().saturating_add(10));
    v.extend_from_slice(prefix.as_bytes());
    push_decimal(&mut v, usize::try_from(n).unwrap_or(usize::MAX));
    String::from_utf8(v).unwrap_or_default()
}

fn owned_headers(f: &Frame<'_>) -> Pairs {
    f.headers
        .iter()
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect()
}

fn first<'a>(headers: &'a Pairs, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Parses `heart-beat: x,y`; anything malformed counts as `0,0`.
fn parse_heartbeat(v: Option<&str>) -> (u64, u64) {
    let parse = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    v.and_then(|v| {
        let (a, b) = v.split_once(',')?;
        Some((parse(a)?, parse(b)?))
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
    headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl Session {
    /// A session that will connect with `opts` once the socket opens.
    #[must_use]
    pub fn new(opts: ConnectOptions) -> Self {
        let mut versions: Vec<Version> = if opts.accept_versions.is_empty() {
            Version::ALL.to_vec()
        } else {
            opts.accept_versions.clone()
        };
        versions.sort_unstable_by(|a, b| b.cmp(a));
        versions.dedup();
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
            next_op: 0,
            next_sub: 0,
            next_tx: 0,
            next_receipt: 0,
            queue: VecDeque::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            receipts: BTreeMap::new(),
            subs: BTreeMap::new(),
            disconnect_op: None,
            disconnect_receipt: None,
        }
    }

    /// WebSocket subprotocols to offer, newest version first.
    #[must_use]
    pub fn subprotocols(&self) -> Vec<&'static str> {
        self.versions.iter().map(|v| v.subprotocol()).collect()
    }

    /// The negotiated version, once CONNECTED arrived.
    #[must_use]
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// Whether CONNECTED arrived and the session is not closing.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// Whether `handle_close` happened.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Commands waiting for CONNECTED / `flush_queued`.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.queue.len()
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

    fn fail(&mut self, op: OpId, reason: &'static str) {
        self.events.push_back(Event::Failed { op, reason });
    }

    fn push_frame(&mut self, data: Vec<u8>, op: Option<OpId>) {
        let text = core::str::from_utf8(&data).is_ok();
        self.transmits
            .push_back((Transmit::Frame { data, text }, op));
        self.last_tx = self.now;
    }

    /// The socket opened (with the server's chosen `subprotocol`, possibly empty): writes
    /// CONNECT. Ignored unless the session is fresh.
    pub fn handle_open(&mut self, now: Millis, subprotocol: &str) {
        self.bump(now);
        let _ = subprotocol;
        if self.state != State::Idle {
            return;
        }
        self.state = State::Connecting;
        self.last_rx = self.now;
        if self.opts.connect_timeout_ms > 0 {
            self.connect_deadline = Some(self.now + u64::from(self.opts.connect_timeout_ms));
        }
        let mut accept = String::new();
        for v in self.versions.iter().rev() {
            if !accept.is_empty() {
                accept.push(',');
            }
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
            Err(e) => self.protocol_fail(e),
        }
    }

    /// One WebSocket message's bytes (text or binary).
    pub fn handle_data(&mut self, now: Millis, data: &[u8]) {
        self.bump(now);
        if !matches!(
            self.state,
            State::Connecting | State::Connected | State::Disconnecting
        ) {
            return;
        }
        self.last_rx = self.now;
        self.decoder.push(data);
        while matches!(
            self.state,
            State::Connecting | State::Connected | State::Disconnecting
        ) {
            let version = self
                .version
                .or_else(|| self.versions.first().copied())
                .unwrap_or(Version::V1_2);
            let parsed = match self.decoder.next_item(version) {
                Ok(None) => break,
                Ok(Some(Item::Heartbeat)) => continue,
                Ok(Some(Item::Frame(f))) => Ok((f.command, owned_headers(&f), f.body.to_vec())),
                Err(e) => Err(e),
            };
            match parsed {
                Ok((command, headers, body)) => self.on_frame(command, headers, body),
                Err(e) => self.protocol_fail(e),
            }
        }
    }

    fn on_frame(&mut self, command: Command, headers: Pairs, body: Vec<u8>) {
        match (self.state, command) {
            (State::Connecting, Command::Connected) => self.on_connected(headers),
            (_, Command::Error) => {
                self.events.push_back(Event::ServerError { headers, body });
                self.request_close(CLOSE_NORMAL, "server error", R_SERVER_ERROR);
            }
            (State::Connected | State::Disconnecting, Command::Message) => {
                self.on_message(headers, body);
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
            self.protocol_fail(Error::UnsupportedVersion);
            return;
        };
        let (sx, sy) = parse_heartbeat(first(&headers, "heart-beat"));
        self.out_interval = negotiate(self.opts.heartbeat_outgoing_ms, sy);
        self.in_interval = negotiate(self.opts.heartbeat_incoming_ms, sx);
        self.version = Some(version);
        self.state = State::Connected;
        self.connect_deadline = None;
        self.events.push_back(Event::Connected { version, headers });
    }

    fn on_message(&mut self, headers: Pairs, body: Vec<u8>) {
        let subscription = first(&headers, "subscription").unwrap_or("").to_owned();
        let ack_header = first(&headers, "ack").map(str::to_owned);
        let wants_ack = match self.subs.get(&subscription) {
            Some(AckMode::Auto) => false,
            Some(_) => true,
            None => ack_header.is_some(),
        };
        let ack = wants_ack.then(|| AckToken {
            message_id: first(&headers, "message-id").unwrap_or("").to_owned(),
            subscription: subscription.clone(),
            ack: ack_header,
        });
        self.events.push_back(Event::Message {
            subscription,
            headers,
            body,
            ack,
        });
    }

    fn on_receipt(&mut self, headers: Pairs) {
        let receipt_id = first(&headers, "receipt-id").unwrap_or("").to_owned();
        if self.disconnect_receipt.as_deref() == Some(receipt_id.as_str()) {
            self.disconnect_receipt = None;
            if let Some(op) = self.disconnect_op.take() {
                self.events.push_back(Event::Completed { op });
            }
            self.request_close(CLOSE_NORMAL, "disconnect", R_CLOSED);
            return;
        }
        let op = self.receipts.remove(&receipt_id);
        self.events.push_back(Event::Receipt {
            receipt_id,
            headers,
        });
        if let Some(op) = op {
            self.events.push_back(Event::Completed { op });
        }
    }

    /// Fails everything pending with `reason`; the disconnect op (if any) completes.
    fn fail_pending(&mut self, reason: &'static str) {
        let unsent: Vec<OpId> = self.transmits.drain(..).filter_map(|(_, op)| op).collect();
        for op in unsent {
            self.fail(op, reason);
        }
        while let Some(q) = self.queue.pop_front() {
            self.fail(q.op, reason);
        }
        let mut waiting: Vec<OpId> = core::mem::take(&mut self.receipts).into_values().collect();
        waiting.sort_unstable();
        for op in waiting {
            self.fail(op, reason);
        }
        if let Some(op) = self.disconnect_op.take() {
            self.events.push_back(Event::Completed { op });
        }
        self.disconnect_receipt = None;
        self.connect_deadline = None;
        self.disconnect_deadline = None;
    }

    fn request_close(&mut self, code: u16, reason: &'static str, fail_reason: &'static str) {
        self.state = State::Closing;
        self.fail_pending(fail_reason);
        self.transmits
            .push_back((Transmit::Close { code, reason }, None));
    }

    fn protocol_fail(&mut self, error: Error) {
        if matches!(self.state, State::Closing | State::Closed) {
            return;
        }
        self.events.push_back(Event::ProtocolError { error });
        let code = match error {
            Error::HeartbeatTimeout | Error::ConnectTimeout => CLOSE_TIMEOUT,
            _ => CLOSE_PROTOCOL_ERROR,
        };
        self.request_close(code, error.as_str(), error.as_str());
    }

    /// The socket closed (by either side). Fails what is pending and emits `Closed`.
    pub fn handle_close(&mut self, now: Millis, code: u16, reason: &str, clean: bool) {
        self.bump(now);
        if self.state == State::Closed {
            return;
        }
        self.state = State::Closed;
        self.fail_pending(R_CONN_CLOSED);
        self.events.push_back(Event::Closed {
            code,
            reason: reason.to_owned(),
            clean,
        });
    }

    /// Runs timers due at `now`: heart-beat send, server silence, connect/disconnect timeouts.
    /// A call before the deadline is a no-op.
    pub fn handle_timeout(&mut self, now: Millis) {
        self.bump(now);
        let now = self.now;
        match self.state {
            State::Connecting => {
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
            State::Idle | State::Closing | State::Closed => {}
        }
    }

    /// The next instant `handle_timeout` must be called, if any.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        match self.state {
            State::Connecting => self.connect_deadline,
            State::Connected | State::Disconnecting => {
                let incoming = (self.in_interval > 0)
                    .then(|| self.last_rx + self.in_interval.saturating_mul(2));
                let outgoing = (self.out_interval > 0).then(|| self.last_tx + self.out_interval);
                [incoming, outgoing, self.disconnect_deadline]
                    .into_iter()
                    .flatten()
                    .min()
            }
            State::Idle | State::Closing | State::Closed => None,
        }
    }

    /// The next thing to do on the socket. Polling a frame of an op without receipt completes
    /// that op.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let (t, op) = self.transmits.pop_front()?;
        if let Some(op) = op {
            self.events.push_back(Event::Completed { op });
        }
        Some(t)
    }

    /// The next event for the page.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn submit(&mut self, cmd: Cmd, receipt: bool) -> OpId {
        self.try_submit(cmd, receipt).0
    }

    /// Queues or dispatches; the flag tells whether the op is still alive (not failed).
    fn try_submit(&mut self, cmd: Cmd, receipt: bool) -> (OpId, bool) {
        let op = self.new_op();
        let alive = match self.state {
            State::Idle | State::Connecting => {
                if self.queue.len() >= self.opts.max_outbox {
                    self.fail(op, R_OUTBOX_FULL);
                    false
                } else {
                    self.queue.push_back(Queued { op, cmd, receipt });
                    true
                }
            }
            State::Connected => self.dispatch(op, cmd, receipt),
            State::Disconnecting | State::Closing | State::Closed => {
                self.fail(op, R_CLOSED);
                false
            }
        };
        (op, alive)
    }

    /// Sends queued commands (issued before CONNECTED) in order. Call after CONNECTED, once the
    /// page's connect handler ran; before CONNECTED it does nothing.
    pub fn flush_queued(&mut self) {
        if self.state != State::Connected {
            return;
        }
        while let Some(q) = self.queue.pop_front() {
            let sub = match &q.cmd {
                Cmd::Subscribe { id, .. } => Some(id.clone()),
                _ => None,
            };
            if !self.dispatch(q.op, q.cmd, q.receipt) {
                if let Some(id) = sub {
                    self.subs.remove(&id);
                }
            }
        }
    }

    fn next_receipt_id(&mut self) -> String {
        let id = id_string("rcpt-", self.next_receipt);
        self.next_receipt = self.next_receipt.wrapping_add(1);
        id
    }

    /// Encodes and queues the frame; false when the op failed.
    fn dispatch(&mut self, op: OpId, cmd: Cmd, receipt: bool) -> bool {
        let version = self.version.unwrap_or(Version::V1_2);
        let rid = receipt.then(|| self.next_receipt_id());
        let mut h: Vec<(&str, &str)> = Vec::new();
        let mut body: &[u8] = b"";
        let mut reserved: &[&str] = &[];
        let mut extra: &[(String, String)] = &[];
        let command = match &cmd {
            Cmd::Send {
                dest,
                tx,
                headers,
                body: b,
            } => {
                h.push(("destination", dest));
                reserved = &["destination", "receipt"];
                if let Some(tx) = tx {
                    h.push(("transaction", tx));
                    reserved = &["destination", "receipt", "transaction"];
                }
                extra = headers;
                body = b;
                Command::Send
            }
            Cmd::Subscribe {
                id,
                dest,
                ack,
                headers,
            } => {
                h.push(("id", id));
                h.push(("destination", dest));
                h.push(("ack", ack.as_str()));
                reserved = &["id", "destination", "ack", "receipt"];
                extra = headers;
                Command::Subscribe
            }
            Cmd::Unsubscribe { id } => {
                h.push(("id", id));
                Command::Unsubscribe
            }
            Cmd::Ack { token, tx, nack } => {
                if *nack && version == Version::V1_0 {
                    self.fail(op, R_NACK_10);
                    return false;
                }
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
        for (k, v) in extra {
            if !reserved.contains(&k.as_str()) {
                h.push((k, v));
            }
        }
        if let Some(rid) = &rid {
            h.push(("receipt", rid));
        }
        let mut data = Vec::new();
        let res = encode(command, &h, body, version, &mut data);
        drop(h);
        if res.is_err() {
            self.fail(op, R_UNENCODABLE);
            return false;
        }
        match rid {
            Some(rid) => {
                self.receipts.insert(rid, op);
                self.push_frame(data, None);
            }
            None => self.push_frame(data, Some(op)),
        }
        true
    }

    /// SEND `body` to `destination` with extra `headers` (`content-length` is computed).
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

    /// SUBSCRIBE; returns the new subscription id (`sub-0`, `sub-1`, …).
    pub fn subscribe(
        &mut self,
        destination: &str,
        ack: AckMode,
        headers: &[(&str, &str)],
        receipt: bool,
    ) -> (String, OpId) {
        let id = id_string("sub-", self.next_sub);
        self.next_sub = self.next_sub.wrapping_add(1);
        self.subs.insert(id.clone(), ack);
        let cmd = Cmd::Subscribe {
            id: id.clone(),
            dest: destination.to_owned(),
            ack,
            headers: to_owned_pairs(headers),
        };
        let (op, alive) = self.try_submit(cmd, receipt);
        if !alive {
            self.subs.remove(&id);
        }
        (id, op)
    }

    /// UNSUBSCRIBE `sub_id`. An id this session never handed out (or already unsubscribed)
    /// fails at once.
    pub fn unsubscribe(&mut self, sub_id: &str, receipt: bool) -> OpId {
        if self.subs.remove(sub_id).is_none()
            && matches!(
                self.state,
                State::Idle | State::Connecting | State::Connected
            )
        {
            let op = self.new_op();
            self.fail(op, R_UNKNOWN_SUB);
            return op;
        }
        self.submit(
            Cmd::Unsubscribe {
                id: sub_id.to_owned(),
            },
            receipt,
        )
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
        let op = self.submit(
            Cmd::Tx {
                command: Command::Begin,
                tx: tx.clone(),
            },
            receipt,
        );
        (tx, op)
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

    /// Ends the session. When connected: sends queued commands, then DISCONNECT with a
    /// receipt; the op completes on that receipt (then asks to close) or on the socket's close
    /// (RabbitMQ never sends the receipt). Before CONNECTED: fails queued commands and asks to
    /// close; the op completes on close.
    pub fn disconnect(&mut self, now: Millis) -> OpId {
        self.bump(now);
        let op = self.new_op();
        match self.state {
            State::Idle | State::Connecting => {
                self.request_close(CLOSE_NORMAL, "disconnect", R_CLOSED);
                self.disconnect_op = Some(op);
            }
            State::Connected => {
                self.flush_queued();
                let rid = self.next_receipt_id();
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
        let (line, tail) = rest.split_at(lf.saturating_add(1).min(rest.len()));
        rest = tail;
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if !first_line && content.is_empty() {
            out.push_str(&String::from_utf8_lossy(line));
            break;
        }
        if !first_line && content.starts_with(b"passcode:") {
            out.push_str("passcode:***\n");
        } else {
            out.push_str(&String::from_utf8_lossy(line));
        }
        first_line = false;
    }
    out.push_str(&String::from_utf8_lossy(rest));
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
        assert_eq!(parse_heartbeat(None), (0, 0));
        assert_eq!(negotiate(0, 5), 0);
        assert_eq!(negotiate(5, 0), 0);
        assert_eq!(negotiate(5, 10), 10);
        assert_eq!(negotiate(50, 10), 50);
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
