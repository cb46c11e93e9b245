// StompClient: the talk's callback API (onopen, onmessage, connect, subscribe, send) plus
// Promises and automatic reconnection, over the wasm StompCore. Types and documentation:
// index.d.ts. Reconnect decisions, re-subscribing and re-sending are the core's; this file
// keeps the page's handlers bound to subscription ids, which survive reconnects.
import { CoreHandle, call } from "./common.js";
import { sharedStomp } from "./shared/tab-stomp.js";
import { load, loadedModule } from "./loader.js";

// Event kinds emitted by src/web/stomp_client.rs.
const OPEN = 1, MESSAGES = 2, RECEIPT = 3, COMPLETED = 4, FAILED = 5;
const SERVER_ERROR = 6, PROTOCOL_ERROR = 7, CLOSE = 8, DEBUG = 9, RECONNECTING = 10;

// Body kinds in a MESSAGE record (src/web/stomp_client.rs).
const IN_SOURCE = 0xfffffffe, BYTES = 0xffffffff, IN_SOURCE_WITH_TEXT = 0xfffffffd;
// A string field with this bit is a part of the message's own string: length, then start.
const STR_IN_SOURCE = 0x40000000, STR_LEN = 0x3fffffff;
// A value field meaning: the same value as the last one of this header name (by number); a
// subscription field: the last record's id.
const STR_SAME = 0x80000000;
// A batch's flags (BATCH_* in src/web/stomp_client.rs).
const BATCH_NAMES_AFRESH = 1, BATCH_ASCII_BINARY = 2;
// Header names remembered by number (MAX_NAMES in src/web/stomp_client.rs).
const MAX_NAMES = 64;

const decoder = new TextDecoder();
// For header text: keeps a leading U+FEFF, so the UTF-16 lengths from the wasm side match.
const exact = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();
const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const EMPTY = new Uint8Array(0);

/**
 * Reads the `n` header lengths at `p` (pairs of UTF-16 lengths, see src/web/stomp_client.rs)
 * and slices the names and values from `text` from `at` on; the first of repeated headers
 * wins. Returns the text offset after them.
 */
function fill(o, dv, p, n, text, at) {
  for (let i = 0; i < n; i++, p += 8) {
    const k = text.slice(at, (at += dv.getUint32(p, true)));
    const v = text.slice(at, (at += dv.getUint32(p + 4, true)));
    if (!hasOwn(o, k)) o[k] = v;
  }
  return at;
}

/** A headers block with its text (CONNECTED, RECEIPT, ERROR) → object. */
function headersOf(u8) {
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const n = dv.getUint32(0, true);
  const o = {};
  fill(o, dv, 4, n, exact.decode(u8.subarray(4 + 8 * n)), 0);
  return o;
}

/** Headers object → NUL-separated name, value list without the names the client manages. */
function toFlat(headers, skip) {
  let out = "";
  if (headers) {
    for (const k of Object.keys(headers)) {
      if (!skip.includes(k)) out += (out ? "\0" : "") + k + "\0" + String(headers[k]);
    }
  }
  return out;
}

/** One received MESSAGE (StompMessage in index.d.ts). */
class Message {
  constructor(client, subscription, headers) {
    this.headers = headers;
    this.subscription = subscription;
    this._client = client;
    this._token = null; // bytes for the wasm side's ack, or null
    this._raw = null; // the body's text as received (a UTF-8 body), or null
    this._bin = null; // the body's bytes: a body that is not UTF-8, or once asked for
    this._text = null;
  }
  get binaryBody() {
    // A UTF-8 body arrives as text only; its bytes are that text encoded back, exactly.
    if (this._bin === null) this._bin = encoder.encode(this._raw);
    return this._bin;
  }
  get body() {
    if (this._text === null) {
      const r = this._raw;
      // Like TextDecoder's default: a leading byte order mark is not part of the text.
      this._text = r === null ? decoder.decode(this._bin) : r.charCodeAt(0) === 0xfeff ? r.slice(1) : r;
    }
    return this._text;
  }
  ack(h) {
    return this._client._ack(this, h, undefined, false);
  }
  nack(h) {
    return this._client._ack(this, h, undefined, true);
  }
}

const wants = (headers, name) =>
  !!headers && Object.prototype.hasOwnProperty.call(headers, name);

export class StompClient {
  constructor(options) {
    // `{ shared: true }`: a proxy to the one session in the SharedWorker (js/shared/), if any.
    const shared = options && options.shared ? sharedStomp(StompClient) : null;
    if (shared) return shared;
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
    // Fixed arity (no rest array per call: a MESSAGES batch comes per WebSocket message).
    this._h = new CoreHandle((w) => new w.StompCore((k, a, b, c, d, e, f) => this._event(k, a, b, c, d, e, f)));
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
    const num = (v) => (typeof v === "number" && v >= 0 ? Math.min(Math.floor(v), 0xfffffffe) : 0xffffffff);
    // One string and one number list instead of sixteen arguments (see StompCore::connect).
    let flags = (o.reconnect !== false ? 16 : 0) | (debug ? 32 : 0);
    let text = "";
    const given = [o.login, o.passcode, o.host, Array.isArray(o.acceptVersions) ? o.acceptVersions.join(",") : null];
    given.forEach((v, i) => {
      if (v != null) flags |= 1 << i;
      text += (v != null ? String(v) : "") + "\0";
    });
    text += toFlat(o.headers, []);
    const nums = new Uint32Array(
      [o.heartbeatOutgoing, o.heartbeatIncoming, o.connectTimeout, o.maxOutbox, o.maxFrameSize,
        o.reconnectDelay, o.maxReconnectDelay, o.maxReconnectAttempts].map(num),
    );
    this._h.run((core) => core.connect(urls.join("\n"), text, nums, flags));
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
    // Text goes in as UTF-8 from the browser's encoder: no string crosses into the wasm.
    const bytes = body instanceof Uint8Array ? body : body == null ? EMPTY : encoder.encode(String(body));
    return this._h.op((core) => core.send(dest, bytes, flat, tx ?? "", receipt));
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
    return this._h.op((core) => core.ack(token, tx ?? "", receipt, nack));
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

  /**
   * One WebSocket message's MESSAGE frames (layout: src/web/stomp_client.rs): one text
   * decode for all their headers and bodies, then each to its handler. `u8` is a view of wasm
   * memory, valid only until a handler calls back in: everything is read from it first.
   */
  _messages(u8, src) {
    const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    const last = u8.length - 8;
    const end = dv.getUint32(last, true);
    const flags = dv.getUint32(last + 4, true);
    if (flags & BATCH_NAMES_AFRESH) {
      this._names = [];
      this._values = [];
      this._sub = "";
    }
    const names = this._names;
    const values = this._values; // the last value of each numbered name
    // Strings that are parts of the message's own text (STR_IN_SOURCE) need no decoding; a
    // small all-ASCII binary message is decoded once, whole.
    const str = typeof src === "string" ? src : flags & BATCH_ASCII_BINARY ? exact.decode(src) : "";
    const text = end < last ? exact.decode(u8.subarray(end, last)) : "";
    const list = [];
    let at = 0;
    for (let p = 0; p < end; ) {
      let w = dv.getUint32(p, true), a;
      let subscription;
      if (w === STR_SAME) {
        subscription = this._sub;
        p += 4;
      } else if (w & STR_IN_SOURCE) {
        a = dv.getUint32(p + 4, true);
        subscription = str.slice(a, a + (w & STR_LEN));
        p += 8;
      } else {
        subscription = text.slice(at, (at += w));
        p += 4;
      }
      this._sub = subscription;
      // HEADERS_CHECKED (src/web/stomp_client.rs): a name may repeat.
      const nw = dv.getUint32(p, true);
      const n = nw & 0x7fffffff, checked = nw >= 0x80000000;
      const headers = {};
      p += 4;
      for (let i = 0; i < n; i++) {
        // A name sent before goes by its number (NAME_KNOWN in src/web/stomp_client.rs).
        w = dv.getUint32(p, true);
        let k, j = -1;
        if (w >= 0x80000000) {
          j = w - 0x80000000;
          k = names[j];
          p += 4;
        } else {
          if (w & STR_IN_SOURCE) {
            a = dv.getUint32(p + 4, true);
            k = str.slice(a, a + (w & STR_LEN));
            p += 8;
          } else {
            k = text.slice(at, (at += w));
            p += 4;
          }
          if (names.length < MAX_NAMES) j = names.push(k) - 1;
        }
        w = dv.getUint32(p, true);
        let v;
        if (w === STR_SAME) {
          v = values[j];
          p += 4;
        } else if (w & STR_IN_SOURCE) {
          a = dv.getUint32(p + 4, true);
          v = str.slice(a, a + (w & STR_LEN));
          p += 8;
        } else {
          v = text.slice(at, (at += w));
          p += 4;
        }
        if (j >= 0) values[j] = v;
        // The first of repeated headers wins (header values are strings, inherited
        // properties are not).
        if (!checked || typeof headers[k] !== "string") headers[k] = v;
      }
      const m = new Message(this, subscription, headers);
      const units = dv.getUint32(p, true);
      p += 4;
      if (units === IN_SOURCE) {
        // A part of the WebSocket message itself: a substring, or a view of its ArrayBuffer.
        const a = dv.getUint32(p, true), n = dv.getUint32(p + 4, true);
        p += 8;
        if (typeof src === "string") m._raw = src.slice(a, a + n);
        else {
          m._bin = new Uint8Array(src, a, n);
          // All ASCII: the body's text is that part of the message's text.
          if (flags & BATCH_ASCII_BINARY) m._raw = str.slice(a, a + n);
        }
      } else if (units === IN_SOURCE_WITH_TEXT) {
        // A view of the ArrayBuffer, and its text (decoded with the headers).
        const a = dv.getUint32(p, true), n = dv.getUint32(p + 4, true);
        const r = text.slice(at, (at += dv.getUint32(p + 8, true)));
        p += 12;
        m._bin = new Uint8Array(src, a, n);
        // Like TextDecoder's default: a leading byte order mark is not part of the text.
        m._text = r.charCodeAt(0) === 0xfeff ? r.slice(1) : r;
      } else if (units === BYTES) {
        const len = dv.getUint32(p, true);
        m._bin = u8.slice(p + 4, (p += 4 + len));
      } else {
        m._raw = text.slice(at, (at += units));
      }
      const tlen = dv.getUint32(p, true);
      if (tlen) m._token = u8.slice(p + 4, p + 4 + tlen);
      p += 4 + tlen;
      list.push(m);
    }
    for (const m of list) {
      const handler = this._subs.get(m.subscription) || this.onmessage;
      // As common.js's call(), without its per-call argument array.
      if (typeof handler === "function") {
        try {
          handler.call(this, m.headers, m.body, m);
        } catch (err) {
          setTimeout(() => {
            throw err;
          });
        }
      }
    }
  }

  _event(kind, a, b, c, d, e, f) {
    switch (kind) {
      case OPEN:
        call(this.onopen, this, headersOf(a), { reconnected: !!c });
        break;
      case MESSAGES:
        this._messages(a, b);
        break;
      case RECEIPT:
        call(this.onreceipt, this, headersOf(a));
        break;
      case COMPLETED:
        this._h.settle(a, true, undefined);
        break;
      case FAILED:
        this._h.settle(a, false, new Error(b));
        break;
      case SERVER_ERROR:
        call(this.onerror, this, headersOf(a), decoder.decode(b));
        break;
      case PROTOCOL_ERROR:
        call(this.onerror, this, { message: a }, "");
        break;
      case RECONNECTING:
        call(this.onreconnecting, this, { attempt: a, delay: b, url: c, code: d, reason: e, wasClean: f });
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
