// Shared mode, tab side, STOMP: the proxy that `new StompClient({ shared: true })` returns
// (see js/shared/tab.js for the port and op bookkeeping it uses).
import { call } from "../common.js";
import { clean, hasOwn, sharedProxy } from "./tab.js";

const decoder = new TextDecoder();

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

/** The shared-mode proxy for `new StompClient({ shared: true })`, or null (see sharedProxy). */
export function sharedStomp(cls) {
  return sharedProxy(StompProxy, cls);
}
