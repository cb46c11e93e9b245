// StompClient: the talk's callback API (onopen, onmessage, connect, subscribe, send) plus
// Promises, over the wasm StompCore. Types and documentation: index.d.ts.
import { CoreHandle, call } from "./common.js";

// Event kinds emitted by src/web/stomp_client.rs.
const OPEN = 1, MESSAGE = 2, RECEIPT = 3, COMPLETED = 4, FAILED = 5;
const SERVER_ERROR = 6, PROTOCOL_ERROR = 7, CLOSE = 8, DEBUG = 9;

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
    this.debug = null;
    this._debugOption = null;
    this._handlers = new Map(); // subscription id → handler
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
    this._debugOption = typeof o.debug === "function" ? o.debug : null;
    const debug = !!(this._debugOption || this.debug);
    const num = (v) => (typeof v === "number" && v >= 0 ? Math.floor(v) : undefined);
    this._h.run((core) =>
      core.connect(
        String(url),
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
        debug,
      ),
    );
  }

  subscribe(destination, handlerOrHeaders, headers) {
    let handler = null;
    if (typeof handlerOrHeaders === "function") handler = handlerOrHeaders;
    else headers = handlerOrHeaders;
    const client = this;
    const sub = {
      id: null,
      receipt: null,
      unsubscribe(opts) {
        const receipt = !!(opts && opts.receipt);
        return client._h.op((core) => {
          client._handlers.delete(sub.id);
          return core.unsubscribe(sub.id, receipt);
        });
      },
    };
    const ack = headers && headers.ack ? String(headers.ack) : "auto";
    const receipt = wants(headers, "receipt");
    sub.receipt = this._h.op((core) => {
      const [id, op] = core.subscribe(
        String(destination),
        ack,
        toFlat(headers, ["ack", "receipt", "id"]),
        receipt,
      );
      sub.id = id;
      if (handler) this._handlers.set(id, handler);
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
    const flat = toFlat(headers, ["receipt", "content-length", "transaction"]);
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
      core.ack(token[0], token[1], token[2] ?? undefined, tx, receipt, nack),
    );
  }

  begin() {
    const client = this;
    const tx = {
      id: null,
      send: (body, destination, headers) => client._send(body, destination, headers, tx.id),
      ack: (message, headers) => client._ack(message, headers, tx.id, false),
      nack: (message, headers) => client._ack(message, headers, tx.id, true),
      commit: () => client._h.op((core) => core.end(tx.id, false, true)),
      abort: () => client._h.op((core) => core.end(tx.id, true, true)),
    };
    this._h
      .op((core) => {
        const [id, op] = core.begin(false);
        tx.id = id;
        return op;
      })
      .catch(() => {});
    return tx;
  }

  disconnect() {
    return this._h.op((core) => core.disconnect()).then(() => undefined);
  }

  _event(kind, a, b, c, d) {
    switch (kind) {
      case OPEN:
        call(this.onopen, this, toObject(a));
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
        call(this._handlers.get(a) || this.onmessage, this, headers, message.body, message);
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
      case CLOSE:
        call(this.onclose, this, { code: a, reason: b, wasClean: c });
        break;
      case DEBUG:
        call(this._debugOption || this.debug, this, a, b);
        break;
    }
  }
}
