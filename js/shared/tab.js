// Shared mode, tab side: what `new StompClient({ shared: true })` / `new XmppClient({ shared:
// true })` return when the browser has SharedWorker. The proxies (js/shared/tab-stomp.js,
// js/shared/tab-xmpp.js, one per protocol so each entry carries only its own) have the public
// surface of the ordinary classes (handlers, Promise-returning methods, subscription handles,
// getters) and turn each call into a message over the one MessagePort of this page to the
// origin's SharedWorker (js/shared/worker.js), which runs the real session once for every tab
// with the same connect parameters. This file holds what both share: the port, op bookkeeping,
// plain-data cleaning. Replies carry op ids; events carry the proxy's client id. The page
// holds a Web Lock for its whole life so the worker learns when it closes or crashes. Where
// SharedWorker is missing or refuses to start, `sharedProxy` returns null and the caller
// builds an ordinary (dedicated) client instead.

export const hasOwn = (o, k) => !!o && Object.prototype.hasOwnProperty.call(o, k);

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
export function clean(o) {
  if (o == null) return undefined;
  const out = {};
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === undefined || typeof v === "function") continue;
    out[k] = Array.isArray(v) ? v.map(String) : typeof v === "object" && v !== null ? clean(v) : v;
  }
  return out;
}

/** Op bookkeeping shared by both proxies (installed on their prototypes by `sharedProxy`). */
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

/**
 * A new proxy of class P for `new cls({ shared: true })`, or null where SharedWorker is
 * unavailable (the caller then builds an ordinary client). `instanceof cls` holds.
 */
export function sharedProxy(P, cls) {
  if (!connectPort()) return null;
  if (!hasOwn(P.prototype, "_init")) {
    for (const [k, f] of Object.entries(base)) P.prototype[k] = f;
  }
  if (cls && Object.getPrototypeOf(P.prototype) !== cls.prototype) Object.setPrototypeOf(P.prototype, cls.prototype);
  return new P();
}

/** True when clients built with `{ shared: true }` on this page really share a worker. */
export function sharedAvailable() {
  return !!connectPort();
}
