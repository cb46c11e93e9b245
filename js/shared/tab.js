// Shared mode, tab side: what `new StompClient({ shared: true })` / `new XmppClient({ shared:
// true })` return when the browser has SharedWorker. The proxies have the public surface of
// the ordinary classes (handlers, Promise-returning methods, subscription handles, getters)
// and turn each call into a message over the one MessagePort of this page to the origin's
// SharedWorker (js/shared/worker.js), which runs the real session once for every tab with the
// same connect parameters. Replies carry op ids; events carry the proxy's client id. The page
// holds a Web Lock for its whole life so the worker learns when it closes or crashes. Where
// SharedWorker is missing or refuses to start, `sharedClient` returns null and the caller
// builds an ordinary (dedicated) client instead.
import { call } from "../common.js";

const decoder = new TextDecoder();
const hasOwn = (o, k) => !!o && Object.prototype.hasOwnProperty.call(o, k);

// The classic-script build finds its worker beside itself (no import.meta there).
const script = typeof document !== "undefined" && document.currentScript ? document.currentScript.src : null;

let port = null;
let tabId = null;
let nextClient = 0;
const clients = new Map(); // client id → proxy

/** This page's port to the shared worker, started on first use; null where unavailable. */
function connectPort() {
  if (port) return port;
  // The worker bundles are built with this set: a worker never starts another.
  if (globalThis.FULLDUPLEX_SHARED_WORKER) return null;
  if (typeof SharedWorker !== "function") return null;
  let worker;
  try {
    worker = script
      ? new SharedWorker(new URL("shared-worker.global.js", script), { name: "fullduplex" })
      : new SharedWorker(new URL("./shared-worker.js", import.meta.url), { type: "module", name: "fullduplex" });
  } catch {
    return null;
  }
  // The worker script failed to load or start (a 404, a CSP refusing it or its wasm): every
  // client here is told, rather than waiting for ever.
  worker.onerror = () => {
    for (const c of clients.values()) c._fail("the shared worker failed to start");
  };
  port = worker.port;
  port.onmessage = (e) => {
    const m = e.data;
    const client = m && clients.get(m.c);
    if (client) client._in(m);
  };
  tabId = Math.random().toString(36).slice(2) + Date.now().toString(36);
  const lock = "fullduplex-tab-" + tabId;
  if (typeof navigator !== "undefined" && navigator.locks) {
    // Held until the page is gone; the worker asks for it and so learns of a crash.
    navigator.locks
      .request(lock, () => {
        port.postMessage({ t: "hello", lock });
        return new Promise(() => {});
      })
      .catch(() => {});
  }
  if (typeof addEventListener === "function") {
    addEventListener("pagehide", (e) => {
      if (!e.persisted) port.postMessage({ t: "bye" });
    });
  }
  return port;
}

/** Plain data only (no functions, no undefined): what crosses to the worker. */
function clean(o) {
  if (o == null) return undefined;
  const out = {};
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === undefined || typeof v === "function") continue;
    out[k] = Array.isArray(v) ? v.map(String) : typeof v === "object" && v !== null ? clean(v) : v;
  }
  return out;
}

function xmppError(e) {
  const err = new Error((e && e.message) || "error");
  err.condition = (e && e.condition) ?? null;
  err.text = (e && e.text) ?? null;
  if (e && e.stanzas) err.stanzas = e.stanzas;
  return err;
}

/** Op bookkeeping shared by both proxies (installed on their prototypes below). */
const base = {
  _init() {
    this._c = nextClient++;
    this._ops = new Map();
    this._nextOp = 0;
    this._queue = []; // ops made before connect(): sent right after it
    this._joined = false;
    clients.set(this._c, this);
  },
  _post(m) {
    m.c = this._c;
    port.postMessage(m);
  },
  _join(kind, args) {
    const debug = !!(this._debugOption || this.debug);
    this._post({ t: "connect", kind, args, debug });
    this._joined = true;
    const q = this._queue;
    this._queue = [];
    for (const m of q) this._send(m);
  },
  _send(m) {
    if (!this._joined) {
      this._queue.push(m);
      return;
    }
    try {
      this._post(m);
    } catch (e) {
      // An argument the structured clone refuses.
      const p = this._ops.get(m.op);
      this._ops.delete(m.op);
      if (p) p.reject(e);
    }
  },
  _op(m, args, map = (v) => v, error = (e) => Object.assign(new Error(e.message), e)) {
    return new Promise((resolve, reject) => {
      const op = this._nextOp++;
      this._ops.set(op, { resolve, reject, map, error });
      this._send({ t: "op", op, m, args });
    });
  },
  _fail(reason) {
    const ops = [...this._ops.values()];
    this._ops.clear();
    for (const p of ops) p.reject(p.error({ message: reason, condition: "shared-worker-failed" }));
    this._connected = false;
    this._ev("close", [{ code: 1006, reason, wasClean: false, condition: "shared-worker-failed", text: reason }]);
  },
  _in(m) {
    if (m.t === "done") {
      const p = this._ops.get(m.op);
      if (!p) return;
      this._ops.delete(m.op);
      if (m.ok) p.resolve(p.map(m.v));
      else p.reject(p.error(m.v || {}));
    } else if (m.t === "msg") {
      this._msg(m);
    } else if (m.t === "ev") {
      this._ev(m.name, m.args || []);
    }
  },
};

/** A MESSAGE as a StompMessage; `_token` names it in the worker for ack/nack. */
class SharedMessage {
  constructor(client, subscription, headers, binaryBody, token) {
    this.headers = headers;
    this.binaryBody = binaryBody;
    this.subscription = subscription;
    this._client = client;
    this._token = token;
    this._text = null;
  }
  get body() {
    if (this._text === null) this._text = this.binaryBody.length ? decoder.decode(this.binaryBody) : "";
    return this._text;
  }
  ack(h) {
    return this._client._ack(this, h, undefined, "ack");
  }
  nack(h) {
    return this._client._ack(this, h, undefined, "nack");
  }
}

class StompProxy {
  constructor() {
    this._init();
    this.onopen = null;
    this.onmessage = null;
    this.onerror = null;
    this.onclose = null;
    this.onreceipt = null;
    this.onreconnecting = null;
    this.debug = null;
    this._debugOption = null;
    this._subs = new Map();
    this._nextSub = 0;
    this._nextTx = 0;
    this._connected = false;
    this._version = null;
    this._byKey = new Map(); // destination + headers → handle, for repeats after a reconnect
    this._reopening = false;
  }
  get connected() {
    return this._connected;
  }
  get version() {
    return this._version;
  }
  connect(url, options) {
    const o = options || {};
    this._debugOption = typeof o.debug === "function" ? o.debug : null;
    const urls = (Array.isArray(url) ? url : [url]).map(String);
    const opts = clean(o);
    delete opts.shared;
    this._join("stomp", [urls, opts]);
  }
  subscribe(destination, handlerOrHeaders, headers) {
    let handler = null;
    if (typeof handlerOrHeaders === "function") handler = handlerOrHeaders;
    else headers = handlerOrHeaders;
    // A repeat in onopen after a reconnect gets the handle restored by the worker's session
    // (as the ordinary client does), not a second subscription.
    const key = String(destination) + "\0" + JSON.stringify(clean(headers) ?? null);
    const restored = this._reopening && this._byKey.get(key);
    if (restored && this._subs.has(restored.id)) {
      this._subs.set(restored.id, handler);
      return restored;
    }
    let id = headers && headers.id != null ? String(headers.id) : null;
    while (id === null || (!hasOwn(headers, "id") && this._subs.has(id))) id = `sub-${this._nextSub++}`;
    this._subs.set(id, handler);
    const sub = {
      id,
      receipt: null,
      unsubscribe: (opts) => {
        this._subs.delete(id);
        if (this._byKey.get(key) === sub) this._byKey.delete(key);
        return this._op("unsubscribe", [id, opts ? { receipt: !!opts.receipt } : undefined]).then(() => undefined);
      },
    };
    sub.receipt = this._op("subscribe", [id, String(destination), clean(headers)]);
    sub.receipt.catch(() => {});
    this._byKey.set(key, sub);
    return sub;
  }
  send(body, destination, headers) {
    return this._sendFrame(body, destination, headers, undefined);
  }
  _sendFrame(body, destination, headers, tx) {
    if (body instanceof ArrayBuffer) body = new Uint8Array(body);
    const b = body instanceof Uint8Array ? body : body == null ? "" : String(body);
    return this._op("send", [b, String(destination), clean(headers), tx]).then(() => undefined);
  }
  ack(message, headers) {
    return this._ack(message, headers, undefined, "ack");
  }
  nack(message, headers) {
    return this._ack(message, headers, undefined, "nack");
  }
  _ack(message, headers, tx, m) {
    const token = message && message._token;
    if (token == null) return Promise.reject(new Error("this message needs no acknowledgement"));
    return this._op(m, [token, clean(headers), tx]).then(() => undefined);
  }
  begin() {
    const id = `tx-${this._nextTx++}`;
    const tx = {
      id,
      send: (body, destination, headers) => this._sendFrame(body, destination, headers, id),
      ack: (message, headers) => this._ack(message, headers, id, "ack"),
      nack: (message, headers) => this._ack(message, headers, id, "nack"),
      commit: () => this._op("commit", [id]).then(() => undefined),
      abort: () => this._op("abort", [id]).then(() => undefined),
    };
    this._op("begin", [id]).catch(() => {});
    return tx;
  }
  disconnect() {
    return this._op("disconnect", []).then(() => undefined);
  }
  _msg(m) {
    const message = new SharedMessage(this, m.s, m.h, m.b, m.k);
    call(this._subs.get(m.s) || this.onmessage, this, m.h, message.body, message);
  }
  _ev(name, a) {
    switch (name) {
      case "state":
        this._connected = !!a[0];
        this._version = a[1] || null;
        break;
      case "open":
        this._reopening = !!(a[1] && a[1].reconnected);
        call(this.onopen, this, a[0], a[1]);
        this._reopening = false;
        break;
      case "error":
        call(this.onerror, this, a[0], a[1]);
        break;
      case "receipt":
        call(this.onreceipt, this, a[0]);
        break;
      case "reconnecting":
        call(this.onreconnecting, this, a[0]);
        break;
      case "close":
        this._subs.clear();
        this._byKey.clear();
        this._joined = false;
        call(this.onclose, this, a[0]);
        break;
      case "debug":
        call(this._debugOption || this.debug, this, a[0], a[1]);
        break;
    }
  }
}

// XMPP methods whose Promise comes back from the worker as is.
const XMPP_ASYNC = [
  "register", "changePassword", "unregister", "getRoster", "addContact", "removeContact", "iq",
  "joinRoom", "leaveRoom", "discoInfo", "discoItems", "queryArchive", "enableCarbons", "disableCarbons",
];

class XmppProxy {
  constructor() {
    this._init();
    for (const h of ["open", "close", "message", "presence", "roster", "error", "reconnecting", "resumed", "occupant", "receipt", "chatstate"]) {
      this["on" + h] = null;
    }
    this.debug = null;
    this.username = null;
    this.password = null;
    this.resource = null;
    this._debugOption = null;
    this._jid = null;
    this._connected = false;
    this._ids = new Map(); // worker's message id → the id this proxy returned
    this._nextId = 0;
  }
  get jid() {
    return this._jid;
  }
  get connected() {
    return this._connected;
  }
  connect(url, domain, options) {
    const o = { ...(options || {}) };
    this._debugOption = typeof o.debug === "function" ? o.debug : null;
    o.username = o.username ?? this.username ?? undefined;
    o.password = o.password ?? this.password ?? undefined;
    o.resource = o.resource ?? this.resource ?? undefined;
    const opts = clean(o);
    delete opts.shared;
    this._join("xmpp", [String(url), String(domain), opts]);
  }
  _x(m, args, map) {
    return this._op(m, args, map, xmppError);
  }
  login(username, password, resource) {
    return this._x("login", [String(username), String(password), resource ?? undefined], (j) => (this._jid = j));
  }
  loginAnonymous() {
    return this._x("loginAnonymous", [], (j) => (this._jid = j));
  }
  disconnect() {
    return this._x("disconnect", [], () => undefined);
  }
  /** A stanza command: returns at once (an id where the ordinary client returns one). */
  _stanza(m, args, withId) {
    const local = withId ? `fd-${tabId}-${this._nextId++}` : undefined;
    this._x(m, args).then(
      (real) => {
        if (withId && typeof real === "string") this._ids.set(real, local);
      },
      (e) => call(this.onerror, this, Object.assign(xmppError(e), { condition: "not-sent" })),
    );
    return local;
  }
  sendMessage(to, body, options) {
    // The same rule as XmppClient: an id only when something refers to it.
    const o = options || {};
    const withId = !!(o.receipt || o.id || o.type === "groupchat");
    return this._stanza("sendMessage", [String(to), String(body), clean(options)], withId) ?? null;
  }
  sendChatState(to, state, type) {
    this._stanza("sendChatState", [String(to), String(state), type ?? undefined]);
    return null;
  }
  setRoomSubject(room, subject) {
    return this._stanza("setRoomSubject", [String(room), String(subject)], true);
  }
  setStatus(show, status, priority) {
    this._stanza("setStatus", [show ?? null, status ?? null, typeof priority === "number" ? priority : null]);
  }
  subscribe(jid) {
    this._stanza("subscribe", [String(jid)]);
  }
  approve(jid) {
    this._stanza("approve", [String(jid)]);
  }
  deny(jid) {
    this._stanza("deny", [String(jid)]);
  }
  unsubscribe(jid) {
    this._stanza("unsubscribe", [String(jid)]);
  }
  sendRaw(xml) {
    this._stanza("sendRaw", [String(xml)]);
  }
  _msg() {}
  _ev(name, a) {
    switch (name) {
      case "state":
        this._connected = !!a[0];
        this._jid = a[1] || null;
        return;
      case "error":
        call(this.onerror, this, xmppError(a[0]));
        return;
      case "receipt": {
        const local = this._ids.get(a[1]);
        call(this.onreceipt, this, a[0], local ?? a[1]);
        return;
      }
      case "close":
        this._joined = false;
        this._connected = false;
        call(this.onclose, this, a[0]);
        return;
      case "debug":
        call(this._debugOption || this.debug, this, a[0], a[1]);
        return;
      default:
        call(this["on" + name], this, ...a);
    }
  }
}
for (const m of XMPP_ASYNC) {
  XmppProxy.prototype[m] = function (...args) {
    return this._x(m, args.map((v) => (v && typeof v === "object" && !Array.isArray(v) ? clean(v) : v)));
  };
}
for (const P of [StompProxy, XmppProxy]) {
  for (const [k, f] of Object.entries(base)) P.prototype[k] = f;
}

/**
 * The proxy for `new cls({ shared: true })` ("stomp" or "xmpp"), or null where SharedWorker is
 * unavailable (the caller then builds an ordinary client). `instanceof cls` holds.
 */
export function sharedClient(kind, cls) {
  if (!connectPort()) return null;
  const P = kind === "stomp" ? StompProxy : XmppProxy;
  if (cls && Object.getPrototypeOf(P.prototype) !== cls.prototype) Object.setPrototypeOf(P.prototype, cls.prototype);
  return new P();
}

/** True when clients built with `{ shared: true }` on this page really share a worker. */
export function sharedAvailable() {
  return !!connectPort();
}
