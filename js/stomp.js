// StompClient: the talk's callback API (onopen, onmessage, connect, subscribe, send) plus
// Promises and automatic reconnection, over the wasm StompCore. Types and documentation:
// index.d.ts. Reconnect decisions, re-subscribing and re-sending are the core's; this file
// keeps the page's handlers bound to subscription ids, which survive reconnects.
import { CoreHandle, call } from "./common.js";
import { load, loadedModule } from "./loader.js";

// Event kinds emitted by src/web/stomp_client.rs.
const OPEN = 1, MESSAGE = 2, RECEIPT = 3, COMPLETED = 4, FAILED = 5;
const SERVER_ERROR = 6, PROTOCOL_ERROR = 7, CLOSE = 8, DEBUG = 9, RECONNECTING = 10;

const decoder = new TextDecoder();

/** Flat [k, v, k, v…] → object; the first of repeated headers wins. */
function toObject(flat) {
  const o = {};
  for (let i = 0; i < flat.length; i += 2) {
    if (!Object.prototype.hasOwnProperty.call(o, flat[i])) o[flat[i]] = flat[i + 1];
  }
  return o;
}

/** Headers object → flat list without the names the client manages itself. */
function toFlat(headers, skip) {
  const out = [];
  if (headers) {
    for (const k of Object.keys(headers)) {
      if (!skip.includes(k)) out.push(k, String(headers[k]));
    }
  }
  return out;
}

const wants = (headers, name) =>
  !!headers && Object.prototype.hasOwnProperty.call(headers, name);

export class StompClient {
  constructor() {
    this.onopen = null;
    this.onmessage = null;
    this.onerror = null;
    this.onclose = null;
    this.onreceipt = null;
    this.onreconnecting = null;
    this.debug = null;
    this._debugOption = null;
    this._subs = new Map(); // live subscription id → its handler (or null: onmessage)
    this._nextSub = 0;
    this._nextTx = 0;
    this._h = new CoreHandle((w) => new w.StompCore((...a) => this._event(...a)));
  }

  get connected() {
    return this._h.core ? this._h.core.connected() : false;
  }

  get version() {
    return (this._h.core && this._h.core.version()) || null;
  }

  connect(url, options = {}) {
    const o = options || {};
    const urls = (Array.isArray(url) ? url : [url]).map(String);
    this._debugOption = typeof o.debug === "function" ? o.debug : null;
    const debug = !!(this._debugOption || this.debug);
    const num = (v) => (typeof v === "number" && v >= 0 ? Math.floor(v) : undefined);
    this._h.run((core) =>
      core.connect(
        urls,
        o.login ?? undefined,
        o.passcode ?? undefined,
        o.host ?? undefined,
        toFlat(o.headers, []),
        Array.isArray(o.acceptVersions) ? o.acceptVersions.join(",") : undefined,
        num(o.heartbeatOutgoing),
        num(o.heartbeatIncoming),
        num(o.connectTimeout),
        num(o.maxOutbox),
        num(o.maxFrameSize),
        o.reconnect !== false,
        num(o.reconnectDelay),
        num(o.maxReconnectDelay),
        num(o.maxReconnectAttempts),
        debug,
      ),
    );
  }

  subscribe(destination, handlerOrHeaders, headers) {
    let handler = null;
    if (typeof handlerOrHeaders === "function") handler = handlerOrHeaders;
    else headers = handlerOrHeaders;
    const client = this;
    // The id is known at once (even before the wasm module has loaded).
    let wanted = headers && headers.id != null ? String(headers.id) : null;
    while (wanted === null || (!wants(headers, "id") && this._subs.has(wanted))) {
      wanted = `sub-${this._nextSub++}`;
    }
    const sub = {
      id: wanted,
      receipt: null,
      unsubscribe(opts) {
        const receipt = !!(opts && opts.receipt);
        return client._h.op((core) => {
          client._subs.delete(sub.id);
          return core.unsubscribe(sub.id, receipt);
        });
      },
    };
    const ack = headers && headers.ack ? String(headers.ack) : "auto";
    const receipt = wants(headers, "receipt");
    sub.receipt = this._h.op((core) => {
      const [id, op] = core.subscribe(
        wanted,
        String(destination),
        ack,
        toFlat(headers, receipt ? ["ack", "id"] : ["ack", "id", "receipt"]),
        receipt,
      );
      const refused = this._h.early.get(op);
      // A repeat of a restored subscription (in onopen after a reconnect) gets its old id.
      sub.id = id;
      if (!(refused && !refused[0])) this._subs.set(id, handler);
      return op;
    });
    // The receipt Promise is optional to observe; an unobserved failure is reported by onerror.
    sub.receipt.catch(() => {});
    return sub;
  }

  send(body, destination, headers) {
    return this._send(body, destination, headers, undefined);
  }

  _send(body, destination, headers, tx) {
    const receipt = wants(headers, "receipt");
    const skip = ["content-length", "transaction"];
    if (!receipt) skip.push("receipt");
    const flat = toFlat(headers, skip);
    const dest = String(destination);
    if (body instanceof ArrayBuffer) body = new Uint8Array(body);
    if (body instanceof Uint8Array) {
      return this._h.op((core) => core.sendBytes(dest, body, flat, receipt, tx));
    }
    const text = body == null ? "" : String(body);
    return this._h.op((core) => core.sendText(dest, text, flat, receipt, tx));
  }

  ack(message, headers) {
    return this._ack(message, headers, undefined, false);
  }

  nack(message, headers) {
    return this._ack(message, headers, undefined, true);
  }

  _ack(message, headers, tx, nack) {
    const token = message && message._token;
    if (!token) {
      return Promise.reject(new Error("this message needs no acknowledgement"));
    }
    const receipt = wants(headers, "receipt");
    return this._h.op((core) =>
      core.ack(token[0], token[1], token[2] ?? undefined, token[3], tx, receipt, nack),
    );
  }

  begin() {
    const client = this;
    // The id is known at once (even before the wasm module has loaded), so sends made in
    // the transaction straight away carry it.
    const tx = {
      id: `tx-${this._nextTx++}`,
      send: (body, destination, headers) => client._send(body, destination, headers, tx.id),
      ack: (message, headers) => client._ack(message, headers, tx.id, false),
      nack: (message, headers) => client._ack(message, headers, tx.id, true),
      commit: () => client._h.op((core) => core.end(tx.id, false, true)),
      abort: () => client._h.op((core) => core.end(tx.id, true, true)),
    };
    this._h.op((core) => core.begin(tx.id, false)).catch(() => {});
    return tx;
  }

  disconnect() {
    return this._h.op((core) => core.disconnect()).then(() => undefined);
  }

  _event(kind, a, b, c, d) {
    switch (kind) {
      case OPEN:
        call(this.onopen, this, toObject(a), { reconnected: !!c });
        break;
      case MESSAGE: {
        const headers = toObject(b);
        const message = {
          headers,
          binaryBody: c,
          subscription: a,
          _token: d,
          _text: null,
          get body() {
            if (this._text === null) this._text = decoder.decode(this.binaryBody);
            return this._text;
          },
          ack: (h) => this._ack(message, h, undefined, false),
          nack: (h) => this._ack(message, h, undefined, true),
        };
        call(this._subs.get(a) || this.onmessage, this, headers, message.body, message);
        break;
      }
      case RECEIPT:
        call(this.onreceipt, this, toObject(a));
        break;
      case COMPLETED:
        this._h.settle(a, true, undefined);
        break;
      case FAILED:
        this._h.settle(a, false, new Error(b));
        break;
      case SERVER_ERROR:
        call(this.onerror, this, toObject(a), decoder.decode(b));
        break;
      case PROTOCOL_ERROR:
        call(this.onerror, this, { message: a }, "");
        break;
      case RECONNECTING:
        call(this.onreconnecting, this, a);
        break;
      case CLOSE:
        // Over for good: no subscription outlives the session.
        this._subs.clear();
        call(this.onclose, this, { code: a, reason: b, wasClean: c });
        this._h.release();
        break;
      case DEBUG:
        call(this._debugOption || this.debug, this, a, b);
        break;
    }
  }
}

// Test hooks, deliberately left out of the typings: live resources of the wasm side
// (`{wasmMemory, socketHandlers, timers, listeners, drivers, ticker}`) and the choice of
// timer for background tabs ("worker", "timeout" or "auto").
StompClient.__stats = () => {
  const w = loadedModule();
  return w ? w.__stats() : null;
};
StompClient.__setTicker = (mode) => load().then((w) => w.__setTicker(String(mode)));
