// Public types of fullduplex (hand-written and checked: `tsc --strict` compiles a typed example
// against them in the tests).

/** Loads the wasm module (done automatically on first use); resolves when ready. */
export function init(): Promise<unknown>;

/** The talk's `if (window.WebSocket)`: true when the page can open WebSockets. */
export function isSupported(): Promise<boolean>;

// ---------------------------------------------------------------------------------------------
// STOMP

/** STOMP headers as a plain object. Where a frame repeats a header, the first value wins. */
export type StompHeaders = Record<string, string>;

export type StompVersion = "1.0" | "1.1" | "1.2";

export interface StompConnectOptions {
  /** `login` header; without it RabbitMQ uses its default user (guest). */
  login?: string;
  /** `passcode` header (redacted in debug output). */
  passcode?: string;
  /**
   * `host` header, sent only when given. RabbitMQ reads it as the virtual host, so leave it out
   * unless you mean a vhost (a host name such as "127.0.0.1" is refused there).
   */
  host?: string;
  /** Extra CONNECT headers. */
  headers?: StompHeaders;
  /** Versions offered, default ["1.0", "1.1", "1.2"]; also sets the WebSocket subprotocols. */
  acceptVersions?: StompVersion[];
  /** Heart-beat we offer to send, in ms (0: none). Default 10000. */
  heartbeatOutgoing?: number;
  /** Heart-beat we want from the server, in ms (0: none). Default 10000. */
  heartbeatIncoming?: number;
  /**
   * Give up on an attempt when the socket has not opened, or CONNECTED has not arrived, this
   * long (ms) after it was asked for (each phase gets the full time). Default 30000.
   */
  connectTimeout?: number;
  /**
   * Commands held while not connected (before the first CONNECTED and between reconnects);
   * more are rejected at once ("outbox full"). Default 1000.
   */
  maxOutbox?: number;
  /** Largest incoming frame in bytes. Default 16 MiB. */
  maxFrameSize?: number;
  /** Shows every frame in and out (`passcode` redacted). */
  debug?: (direction: "in" | "out", frame: string) => void;
  /**
   * Reconnect automatically when the connection is lost (default true). Not after
   * `disconnect()`, an ERROR frame from the broker (a refused login, say) or malformed data
   * from it: those close for good. Network loss, heart-beat and connect timeouts are retried.
   */
  reconnect?: boolean;
  /**
   * Upper bound (ms) of the first retry's delay, default 1000. Retry n waits a random time in
   * [d/2, d] with d = min(maxReconnectDelay, reconnectDelay · 2^(n-1)).
   */
  reconnectDelay?: number;
  /** Largest delay between retries (ms), default 30000. */
  maxReconnectDelay?: number;
  /**
   * Give up (onclose) after this many retries in a row without a lasting connection
   * (0: never), default 0. A connection that stayed up for maxReconnectDelay starts afresh.
   */
  maxReconnectAttempts?: number;
}

/** The second argument of `onopen`. */
export interface StompOpenInfo {
  /** True from the second connection on (after an automatic reconnect). */
  readonly reconnected: boolean;
}

/** What `onreconnecting` learns about a lost connection and the coming retry. */
export interface StompReconnectInfo {
  /** Retries in a row so far, this one included (1, 2, …). */
  readonly attempt: number;
  /** Milliseconds until the retry, or null while the browser is offline (it retries as soon
   * as the network is back). */
  readonly delay: number | null;
  /** Where the retry goes (the next URL of the list passed to `connect`). */
  readonly url: string;
  /** How the connection (or the attempt) ended, as the WebSocket reported it. */
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

/** One received MESSAGE. */
export interface StompMessage {
  readonly headers: StompHeaders;
  /** The body decoded as UTF-8. */
  readonly body: string;
  /**
   * The body's raw bytes. For a frame that came in a binary WebSocket message this is a view
   * of the received `ArrayBuffer` (no copy): its `buffer` also holds the frame's command and
   * headers, so `binaryBody.slice()` (or `.slice().buffer`) when you need bytes of its own.
   */
  readonly binaryBody: Uint8Array;
  /** The id of the subscription that received it. */
  readonly subscription: string;
  /** ACK this message (subscriptions with ack "client" or "client-individual"). */
  ack(headers?: StompHeaders): Promise<void>;
  /** NACK this message (STOMP 1.1 and later). */
  nack(headers?: StompHeaders): Promise<void>;
}

export type StompMessageHandler = (
  headers: StompHeaders,
  body: string,
  message: StompMessage,
) => void;

export interface StompSubscription {
  readonly id: string;
  /** UNSUBSCRIBE; with `{receipt: true}` resolves when the broker confirms. */
  unsubscribe(options?: { receipt?: boolean }): Promise<void>;
}

export interface StompTransaction {
  readonly id: string;
  send(body: string | Uint8Array, destination: string, headers?: StompHeaders): Promise<void>;
  ack(message: StompMessage, headers?: StompHeaders): Promise<void>;
  nack(message: StompMessage, headers?: StompHeaders): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface StompCloseEvent {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

/** Options of the client constructors. */
export interface ClientOptions {
  /**
   * Shared mode: the session runs once in a SharedWorker for every page of this origin that
   * connects with identical parameters, and this object is a proxy to it (same API, same
   * callbacks). Where SharedWorker is missing this is an ordinary client. See "Shared mode"
   * in the README.
   */
  shared?: boolean;
}

/**
 * A STOMP 1.0–1.2 client over one WebSocket, in the callback style of the 2010 talk.
 *
 * Commands may be called before the connection is open: they are queued (bounded) and sent,
 * in order, after CONNECTED and after `onopen` has run. Every command's Promise resolves when
 * its frame is written, or — when the headers carry `receipt` — when the broker's RECEIPT
 * arrives; it rejects if the command cannot complete (closed first, outbox full…). Nothing is
 * dropped silently.
 *
 * A lost connection is replaced automatically (see `reconnect` in the options; `disconnect()`
 * stops that for good, also during a retry wait). On the new connection, before `onopen(headers,
 * {reconnected: true})`: every live subscription is subscribed again under the same id, so
 * its handler keeps receiving (a `subscribe` in `onopen` that repeats one of them returns it
 * instead of subscribing twice, so code written for one connection keeps working). After
 * `onopen`: SENDs that asked for a receipt and had none when the connection dropped are sent
 * again (at least once: the broker may see them twice) and their Promises resolve on the new
 * receipt; then what was sent while offline. SENDs without receipt are at most once.
 * Transactions open at the drop are lost (the broker aborts them): their commands reject.
 * Acknowledging a message received on an earlier connection rejects: the broker redelivers it
 * (with `redelivered: true`) and the new copy is to be acknowledged. Offline (`navigator.onLine`
 * false) no attempt is made; coming back online, or the page becoming visible, retries at once.
 */
export class StompClient {
  constructor(options?: ClientOptions);
  /** CONNECTED arrived; `headers` are its headers. Called again after each reconnect. */
  onopen: ((headers: StompHeaders, info: StompOpenInfo) => void) | null;
  /** The connection was lost and a retry is scheduled (`onclose` comes only at the end). */
  onreconnecting: ((info: StompReconnectInfo) => void) | null;
  /** A MESSAGE for a subscription that has no handler of its own. */
  onmessage: StompMessageHandler | null;
  /** The broker sent ERROR (the connection is then closed), or the client hit a protocol error. */
  onerror: ((headers: StompHeaders, body: string) => void) | null;
  /** The session is over for good (disconnect, reconnect off or given up, ERROR…). */
  onclose: ((event: StompCloseEvent) => void) | null;
  /** A RECEIPT arrived. */
  onreceipt: ((headers: StompHeaders) => void) | null;
  /** Shows every frame in and out (`passcode` redacted); same as the `debug` option. */
  debug: ((direction: "in" | "out", frame: string) => void) | null;
  /** True while a connection is up (between CONNECTED and its loss or the close). */
  readonly connected: boolean;
  /** The negotiated STOMP version, once connected. */
  readonly version: StompVersion | null;
  /**
   * Opens the WebSocket and sends CONNECT. With a list of URLs the first is tried first and
   * each retry goes to the next one (failover across the brokers of a cluster).
   */
  connect(url: string | string[], options?: StompConnectOptions): void;
  /**
   * SUBSCRIBE. Header `ack` sets the mode ("auto", "client", "client-individual");
   * header `receipt` asks for a receipt (the returned `receipt` Promise; its value names the
   * receipt when no other pending receipt uses it); header `id` chooses the subscription id
   * (else `sub-0`, `sub-1`…, known as soon as this returns).
   */
  subscribe(
    destination: string,
    handlerOrHeaders?: StompMessageHandler | StompHeaders,
    headers?: StompHeaders,
  ): StompSubscription & { readonly receipt: Promise<void> };
  /**
   * SEND with a text (sent as UTF-8) or binary body. Header `receipt` asks for a RECEIPT (its
   * value names it when free); such a SEND survives a lost connection (sent again).
   */
  send(body: string | Uint8Array, destination: string, headers?: StompHeaders): Promise<void>;
  ack(message: StompMessage, headers?: StompHeaders): Promise<void>;
  nack(message: StompMessage, headers?: StompHeaders): Promise<void>;
  /** BEGIN a transaction. */
  begin(): StompTransaction;
  /** DISCONNECT; resolves when the broker confirms or closes the connection. */
  disconnect(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// XMPP

export type SaslMechanism = "SCRAM-SHA-256" | "SCRAM-SHA-1" | "PLAIN" | "ANONYMOUS";

export interface XmppConnectOptions {
  /** Log in right away with these (else `onopen` fires when the stream is ready). */
  username?: string;
  password?: string;
  /** Resource to request at bind; the server chooses when absent. */
  resource?: string;
  /** SASL preference, strongest first. Default SCRAM-SHA-256, SCRAM-SHA-1, PLAIN, ANONYMOUS. */
  mechanisms?: SaslMechanism[];
  /** Allow PLAIN over `ws://` to a non-loopback host (off: the password would travel in clear). */
  allowPlainInsecure?: boolean;
  /** How long an IQ (and each negotiation step, and a stream management ack) may take, in ms. Default 30000. */
  iqTimeout?: number;
  /**
   * Stream management (XEP-0198) when the server offers it: stanzas are counted and
   * acknowledged, and after a reconnection the stream is resumed, re-sending exactly the
   * stanzas the server did not get. Default true.
   */
  streamManagement?: boolean;
  /**
   * Reconnect automatically when the connection is lost (default true): back-off with jitter,
   * the URLs in turn, login again, resume or restore presence, carbons, roster and rooms.
   * Not after `disconnect()`, a failed login or a fatal stream error (`conflict`, …).
   */
  reconnect?: boolean;
  /**
   * Upper bound of the first retry's delay in ms (default 1000); retry n waits a random time in
   * [d/2, d] with d = min(maxReconnectDelay, reconnectDelay · 2^(n-1)).
   */
  reconnectDelay?: number;
  /** Largest delay between retries in ms (default 30000). */
  maxReconnectDelay?: number;
  /** Retries in a row before giving up (0: never), default 0. */
  maxReconnectAttempts?: number;
  /** Answer delivery receipt requests (XEP-0184) automatically. Default true. */
  receipts?: boolean;
  /** Shows every stanza in and out (passwords and SASL payloads redacted). */
  debug?: (direction: "in" | "out", xml: string) => void;
}

/** The second argument of the XMPP `onopen`. */
export interface XmppOpenInfo {
  /** A fresh session after an automatic reconnection (presence, carbons, roster, rooms restored). */
  readonly reconnected: boolean;
}

/** The second argument of `onroster`. */
export interface XmppRosterInfo {
  /** `items` is the whole roster, re-fetched after a reconnection (else a push). */
  readonly reloaded: boolean;
}

/** What the XMPP `onreconnecting` learns about a lost connection and the coming retry. */
export interface XmppReconnectInfo {
  /** Retries in a row, from 1. */
  readonly attempt: number;
  /** Wait before the retry in ms; null while the browser is offline (retried once online). */
  readonly delay: number | null;
  /** The URL of the retry, credentials masked. */
  readonly url: string | null;
  readonly code: number | null;
  readonly reason: string | null;
  readonly wasClean: boolean | null;
}

/** A received message stanza. Absent fields are null. */
export interface XmppMessage {
  readonly from: string | null;
  readonly to: string | null;
  readonly type: string | null;
  readonly id: string | null;
  readonly body: string | null;
  readonly subject: string | null;
  readonly thread: string | null;
  /**
   * A carbon copy (XEP-0280, after `enableCarbons()`): "received" — another resource of ours
   * received it; "sent" — another resource of ours sent it. Copies are only accepted from our
   * own account; forged ones never surface.
   */
  readonly carbon: "sent" | "received" | null;
  /** The chat state it carries (XEP-0085). */
  readonly chatState: ChatState | null;
  /** The sender asked for a delivery receipt (answered automatically unless `receipts: false`). */
  readonly receiptRequested: boolean;
  /** When it was first sent (XEP-0203): for offline, resumed, room history and archived messages. */
  readonly delay: string | null;
  /** Its id in the message archive (results of `queryArchive` only). */
  readonly archiveId: string | null;
  /** The whole stanza as XML (for a carbon: the forwarded message). */
  readonly xml: string;
}

/** Chat states (XEP-0085). */
export type ChatState = "active" | "composing" | "paused" | "inactive" | "gone";

export interface XmppMessageOptions {
  /** "chat", "groupchat", "normal" or "headline". */
  type?: string;
  subject?: string;
  thread?: string;
  /** Ask for a delivery receipt (XEP-0184): `onreceipt(from, id)` fires when it comes. */
  receipt?: boolean;
  /** Include a chat state (usually "active" with a message). */
  chatState?: ChatState;
  /** Give the message an id even without a receipt request (returned by `sendMessage`). */
  id?: boolean;
}

/** A received presence stanza. Absent fields are null. */
export interface XmppPresence {
  readonly from: string | null;
  readonly to: string | null;
  /** null for available; "unavailable", "subscribe", "subscribed", … */
  readonly type: string | null;
  /** "away", "chat", "dnd", "xa", or null. */
  readonly show: string | null;
  readonly status: string | null;
  readonly priority: number | null;
  readonly xml: string;
}

/** A presence from a multi-user chat room (XEP-0045) we joined or are joining. */
export interface XmppOccupant {
  /** The room's bare JID. */
  readonly room: string;
  readonly nick: string;
  /** The occupant's real JID, when the room shows it. */
  readonly jid: string | null;
  /** "moderator", "participant", "visitor" or "none". */
  readonly role: string | null;
  /** "owner", "admin", "member", "outcast" or "none". */
  readonly affiliation: string | null;
  /** null when present, "unavailable" when gone. */
  readonly type: string | null;
  readonly show: string | null;
  readonly status: string | null;
  /** Status codes: 110 this is us, 201 room created, 303 nick change, 307 kicked, 301 banned… */
  readonly codes: number[];
  /** This presence is about ourselves. */
  readonly self: boolean;
  /** The new nickname, on a nick change (303). */
  readonly newNick: string | null;
  readonly xml: string;
}

export interface XmppJoinOptions {
  password?: string;
  /** Ask for at most this many messages of history (0: none). */
  maxStanzas?: number;
  /** Ask for history of the last this many seconds. */
  seconds?: number;
  /** Ask for history since this time (XEP-0082, e.g. "2024-01-01T00:00:00Z"). */
  since?: string;
}

/** A `disco#info` result (XEP-0030). */
export interface XmppDiscoInfo {
  readonly identities: { readonly category: string; readonly type: string; readonly name: string | null }[];
  /** Feature namespaces, e.g. "urn:xmpp:mam:2". */
  readonly features: string[];
}

/** An item of a `disco#items` result. */
export interface XmppDiscoItem {
  readonly jid: string;
  readonly node: string | null;
  readonly name: string | null;
}

/** What to fetch from a message archive (XEP-0313); paging is XEP-0059's. */
export interface XmppArchiveQuery {
  /** Only the conversation with this JID (a contact's bare JID). */
  with?: string;
  /** A room's archive instead of our own. */
  archive?: string;
  /** Only messages at or after / before these times (XEP-0082, e.g. "2024-01-01T00:00:00Z"). */
  start?: string;
  end?: string;
  /** At most this many messages. */
  max?: number;
  /**
   * The page before this archive id (a previous page's `first`); `true` for the last, most
   * recent page.
   */
  before?: string | true;
  /** The page after this archive id (a previous page's `last`). */
  after?: string;
}

/** One page of archived messages. */
export interface XmppArchivePage {
  /** Oldest first; each has `archiveId` and `delay` (when it was sent). */
  readonly messages: XmppMessage[];
  /** Nothing further in the direction asked (the start of the archive, for `before`). */
  readonly complete: boolean;
  /** Archive id of the first message: pass it as `before` for the previous page. */
  readonly first: string | null;
  /** Archive id of the last message: pass it as `after` for the next page. */
  readonly last: string | null;
  /** How many messages match in all, if the server says. */
  readonly count: number | null;
}

export interface RosterItem {
  readonly jid: string;
  readonly name: string | null;
  /** "none", "to", "from", "both" or "remove". */
  readonly subscription: string;
  /** "subscribe" while our request is pending. */
  readonly ask: string | null;
  readonly groups: string[];
}

/**
 * A failed XMPP command: the error condition (e.g. "not-authorized", "conflict").
 *
 * `onerror` also reports, with `stanzas`: "undelivered" (queued, never sent: the session closed
 * first) and "unacknowledged" (sent on a stream-managed session that ended without resumption,
 * so they may not have arrived).
 */
export interface XmppError extends Error {
  readonly condition: string;
  readonly text: string | null;
  /** The stanzas concerned (XML), for "undelivered" and "unacknowledged". */
  readonly stanzas?: string[];
}

export interface XmppCloseEvent {
  readonly code: number;
  readonly reason: string;
  /**
   * The stream ended with the `<close/>` handshake (RFC 7395), or the WebSocket closed
   * cleanly. (A server such as Prosody closes TCP right after its close frame, which can make
   * the browser's own WebSocket flag false although nothing was lost.)
   */
  readonly wasClean: boolean;
  /** The stream error or authentication failure condition that ended the session, if any. */
  readonly condition: string | null;
  readonly text: string | null;
}

/**
 * An XMPP client over WebSocket (RFC 7395), in the callback style of the 2010 talk.
 *
 * `connect(url, domain)` opens the stream. With credentials (the options argument, or the
 * `username`/`password`/`resource` properties set beforehand), `onopen` fires once the session
 * is authenticated and bound; without them, `onopen` fires when the stream is ready and the
 * page may `register(...)`, then `login(...)` or `loginAnonymous()`, whose Promises resolve
 * with the bound JID.
 */
export class XmppClient {
  constructor(options?: ClientOptions);
  /** Online (with credentials) or stream ready (without); `jid` is null in the latter case. */
  onopen: ((jid: string | null, info: XmppOpenInfo) => void) | null;
  /** The session ended. */
  onclose: ((event: XmppCloseEvent) => void) | null;
  onmessage: ((msg: XmppMessage) => void) | null;
  onpresence: ((p: XmppPresence) => void) | null;
  /** A roster push from the server (only those from the account itself are accepted). */
  onroster: ((items: RosterItem[], info: XmppRosterInfo) => void) | null;
  /**
   * A presence from a room we joined or are joining (instead of `onpresence`): occupants
   * arriving, changing and leaving, ourselves included (`self`).
   */
  onoccupant: ((occupant: XmppOccupant) => void) | null;
  /** A delivery receipt (XEP-0184): `from` received our message `id`. */
  onreceipt: ((from: string, id: string) => void) | null;
  /**
   * A chat state (XEP-0085) from `from`. A message that carries only a chat state or a receipt
   * comes through `onchatstate`/`onreceipt` alone, not `onmessage`.
   */
  onchatstate: ((from: string, state: ChatState) => void) | null;
  /** Failures that do not close the session, and the reason before a close. */
  onerror: ((error: XmppError) => void) | null;
  /**
   * The connection was lost and a retry is scheduled. `onclose` fires only when retrying ends
   * (given up, `disconnect()`, a failed login, a fatal stream error).
   */
  onreconnecting: ((info: XmppReconnectInfo) => void) | null;
  /**
   * The stream was resumed after a drop: nothing was lost or duplicated. If the server refuses
   * to resume, `onerror` reports "unacknowledged" stanzas instead, and `onopen(jid, {reconnected:
   * true})` fires for a fresh session (presence, carbons, roster and rooms already restored).
   */
  onresumed: (() => void) | null;
  debug: ((direction: "in" | "out", xml: string) => void) | null;
  /** Credentials read by `connect` when its options carry none. */
  username: string | null;
  password: string | null;
  resource: string | null;
  /** The bound full JID once online. */
  readonly jid: string | null;
  readonly connected: boolean;
  /** `url` may be a list, tried in turn by reconnections. */
  connect(url: string | string[], domain: string, options?: XmppConnectOptions): void;
  login(username: string, password: string, resource?: string): Promise<string>;
  loginAnonymous(): Promise<string>;
  /** In-band registration (XEP-0077), before logging in. */
  register(username: string, password: string): Promise<void>;
  changePassword(newPassword: string): Promise<void>;
  unregister(): Promise<void>;
  getRoster(): Promise<RosterItem[]>;
  addContact(jid: string, name?: string, groups?: string[]): Promise<void>;
  removeContact(jid: string): Promise<void>;
  /**
   * Sends a message; returns its id, or null when it has none. A message carries an id when
   * something refers to it: a receipt request, a room (our echo is recognised by it), or
   * `{ id: true }`; a plain chat message goes without (15 bytes less on the wire). Null also
   * before the module has loaded (the message is queued). To a room: `{ type: "groupchat" }`
   * (room messages, with our own echoed back, and the subject arrive through `onmessage`).
   */
  sendMessage(to: string, body: string, options?: XmppMessageOptions): string | null;
  /** Sends a chat state alone (default type "chat"); returns null (such a message has no id). */
  sendChatState(to: string, state: ChatState, type?: "chat" | "groupchat"): string | null;
  /**
   * Message carbons (XEP-0280): copies of what the account's other resources send and
   * receive arrive through `onmessage` with `carbon` set.
   */
  enableCarbons(): Promise<void>;
  disableCarbons(): Promise<void>;
  /**
   * Service discovery (XEP-0030): identities and features of `jid` (default: our server; our
   * own bare JID lists account features such as MAM). The client itself answers such queries
   * with the features it implements, and announces them in its presence (XEP-0115 caps).
   */
  discoInfo(jid?: string | null, node?: string): Promise<XmppDiscoInfo>;
  /** The items of `jid` (default: our server, e.g. its room service). */
  discoItems(jid?: string | null, node?: string): Promise<XmppDiscoItem[]>;
  /**
   * A page of the message archive (XEP-0313): e.g. `{ with: contact, max: 20, before: true }`
   * for the last 20 messages with `contact`, then `{ with: contact, max: 20, before:
   * page.first }` for the 20 before those. Results come only from the archive asked (forged
   * ones are dropped) and never through `onmessage`.
   */
  queryArchive(query?: XmppArchiveQuery): Promise<XmppArchivePage>;
  /** Sends presence: show ("away", "chat", "dnd", "xa" or null), status text, priority. */
  setStatus(show?: string | null, status?: string | null, priority?: number | null): void;
  /** Asks to see `jid`'s presence. */
  subscribe(jid: string): void;
  /** Allows `jid` to see ours. */
  approve(jid: string): void;
  /** Refuses or revokes `jid`'s subscription to ours. */
  deny(jid: string): void;
  /** Stops seeing `jid`'s presence. */
  unsubscribe(jid: string): void;
  /** Sends a stanza as is (checked for well-formedness; `xmlns="jabber:client"` added). */
  sendRaw(xml: string): void;
  /** Sends an IQ with `payloadXml` inside; resolves with the result stanza's XML. */
  iq(type: "get" | "set", to: string | null, payloadXml: string): Promise<string>;
  /** Ends the session with the close handshake. */
  disconnect(): Promise<void>;
  /**
   * Joins a room (e.g. "room@conference.example.com") as `nick`; resolves once the room shows
   * us in. Creating a room accepts its default configuration (an instant room). Rejects with
   * the room's condition: "conflict" (the nickname is in use), "not-authorized" (password),
   * "registration-required", "forbidden" (banned), "item-not-found" (locked)…
   */
  joinRoom(room: string, nick: string, options?: XmppJoinOptions): Promise<void>;
  /** Leaves a room; resolves when the room confirms. */
  leaveRoom(room: string, status?: string): Promise<void>;
  /** Sets a room's subject (a moderator's right by default); returns the message id (null
   * before the module has loaded). */
  setRoomSubject(room: string, subject: string): string | null;
}
