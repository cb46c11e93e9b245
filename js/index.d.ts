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
  /** Give up if CONNECTED has not arrived this long after the socket opened. Default 30000. */
  connectTimeout?: number;
  /** Commands held before the session is open; more are rejected. Default 1000. */
  maxOutbox?: number;
  /** Largest incoming frame in bytes. Default 16 MiB. */
  maxFrameSize?: number;
  /** Shows every frame in and out (`passcode` redacted). */
  debug?: (direction: "in" | "out", frame: string) => void;
}

/** One received MESSAGE. */
export interface StompMessage {
  readonly headers: StompHeaders;
  /** The body decoded as UTF-8. */
  readonly body: string;
  /** The body's raw bytes. */
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

/**
 * A STOMP 1.0–1.2 client over one WebSocket, in the callback style of the 2010 talk.
 *
 * Commands may be called before the connection is open: they are queued (bounded) and sent,
 * in order, after CONNECTED and after `onopen` has run. Every command's Promise resolves when
 * its frame is written, or — when the headers carry `receipt` — when the broker's RECEIPT
 * arrives; it rejects if the command cannot complete (closed first, outbox full…). Nothing is
 * dropped silently.
 */
export class StompClient {
  constructor();
  /** CONNECTED arrived; `headers` are its headers. */
  onopen: ((headers: StompHeaders) => void) | null;
  /** A MESSAGE for a subscription that has no handler of its own. */
  onmessage: StompMessageHandler | null;
  /** The broker sent ERROR (the connection is then closed), or the client hit a protocol error. */
  onerror: ((headers: StompHeaders, body: string) => void) | null;
  /** The connection closed. */
  onclose: ((event: StompCloseEvent) => void) | null;
  /** A RECEIPT arrived. */
  onreceipt: ((headers: StompHeaders) => void) | null;
  /** Shows every frame in and out (`passcode` redacted); same as the `debug` option. */
  debug: ((direction: "in" | "out", frame: string) => void) | null;
  /** True between CONNECTED and the close. */
  readonly connected: boolean;
  /** The negotiated STOMP version, once connected. */
  readonly version: StompVersion | null;
  /** Opens the WebSocket and sends CONNECT. */
  connect(url: string, options?: StompConnectOptions): void;
  /**
   * SUBSCRIBE. Header `ack` sets the mode ("auto", "client", "client-individual");
   * header `receipt` (any value) asks for a receipt (the returned `receipt` Promise).
   */
  subscribe(
    destination: string,
    handlerOrHeaders?: StompMessageHandler | StompHeaders,
    headers?: StompHeaders,
  ): StompSubscription & { readonly receipt: Promise<void> };
  /** SEND with a text (sent as UTF-8) or binary body. Header `receipt` asks for a RECEIPT. */
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
  /** How long an IQ (and each negotiation step) may take, in ms. Default 30000. */
  iqTimeout?: number;
  /** Shows every stanza in and out (passwords and SASL payloads redacted). */
  debug?: (direction: "in" | "out", xml: string) => void;
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
  /** The whole stanza as XML. */
  readonly xml: string;
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

export interface RosterItem {
  readonly jid: string;
  readonly name: string | null;
  /** "none", "to", "from", "both" or "remove". */
  readonly subscription: string;
  /** "subscribe" while our request is pending. */
  readonly ask: string | null;
  readonly groups: string[];
}

/** A failed XMPP command: the error condition (e.g. "not-authorized", "conflict"). */
export interface XmppError extends Error {
  readonly condition: string;
  readonly text: string | null;
}

export interface XmppCloseEvent {
  readonly code: number;
  readonly reason: string;
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
  constructor();
  /** Online (with credentials) or stream ready (without); `jid` is null in the latter case. */
  onopen: ((jid: string | null) => void) | null;
  /** The session ended. */
  onclose: ((event: XmppCloseEvent) => void) | null;
  onmessage: ((msg: XmppMessage) => void) | null;
  onpresence: ((p: XmppPresence) => void) | null;
  /** A roster push from the server (only those from the account itself are accepted). */
  onroster: ((items: RosterItem[]) => void) | null;
  /** Failures that do not close the session, and the reason before a close. */
  onerror: ((error: XmppError) => void) | null;
  debug: ((direction: "in" | "out", xml: string) => void) | null;
  /** Credentials read by `connect` when its options carry none. */
  username: string | null;
  password: string | null;
  resource: string | null;
  /** The bound full JID once online. */
  readonly jid: string | null;
  readonly connected: boolean;
  connect(url: string, domain: string, options?: XmppConnectOptions): void;
  login(username: string, password: string, resource?: string): Promise<string>;
  loginAnonymous(): Promise<string>;
  /** In-band registration (XEP-0077), before logging in. */
  register(username: string, password: string): Promise<void>;
  changePassword(newPassword: string): Promise<void>;
  unregister(): Promise<void>;
  getRoster(): Promise<RosterItem[]>;
  addContact(jid: string, name?: string, groups?: string[]): Promise<void>;
  removeContact(jid: string): Promise<void>;
  /** Sends a message; returns its id. */
  sendMessage(
    to: string,
    body: string,
    options?: { type?: string; subject?: string; thread?: string },
  ): string;
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
}
