// In-page WebSocket stand-ins for the benchmark page (browser ES module).
//
// `install()` replaces `globalThis.WebSocket` with a switch: URLs under FAKE ("ws://127.0.0.1:9/
// fake/stomp" or ".../fake/xmpp") get a FakeSocket, any other URL a real WebSocket that records
// what the page sends (`wire`). The libraries all look `WebSocket` up when they connect
// (wasm-bindgen's glue too), so every library — fullduplex included — meets the same fake with
// no hook in its API.
//
// A FakeSocket is driven by a tiny in-page server: FakeStomp answers CONNECT, SUBSCRIBE, SEND
// and DISCONNECT like a STOMP 1.2 broker; FakeXmpp plays an RFC 7395 server up to resource
// binding (SASL PLAIN, any password). Replies arrive asynchronously (a task each, in order), as
// from a network. `blast(data, n)` then delivers captured messages `n` times, synchronously,
// straight into the page's handlers — the library's receive path with no network or browser
// WebSocket cost.
export const FAKE = "ws://127.0.0.1:9/fake/";
export const fakes = [];
export const wire = { on: false, sockets: [] };

const Real = globalThis.WebSocket;
const enc = new TextEncoder();
const dec = new TextDecoder();

function asText(data) {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return dec.decode(new Uint8Array(data));
  if (ArrayBuffer.isView(data)) return dec.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return String(data);
}

/** Bytes a sent message puts in the WebSocket payload. */
export function payloadBytes(data) {
  if (typeof data === "string") return enc.encode(data).length;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (data instanceof Blob) return data.size;
  return 0;
}

/** A copy of what was sent, safe to keep (wasm passes views into its own memory). */
function keep(data) {
  if (typeof data === "string") return { text: data, binary: false, bytes: payloadBytes(data) };
  const u8 = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { text: dec.decode(u8), binary: true, bytes: u8.byteLength };
}

export class FakeSocket {
  constructor(url, protocols) {
    this.url = String(url);
    this.readyState = 0;
    this.binaryType = "blob";
    this.bufferedAmount = 0;
    this.extensions = "";
    this.onopen = null;
    this.onmessage = null;
    this.onclose = null;
    this.onerror = null;
    this.listeners = { open: [], message: [], close: [], error: [] };
    this.sent = [];
    const offered = protocols == null ? [] : typeof protocols === "string" ? [protocols] : Array.from(protocols);
    const kind = this.url.slice(FAKE.length).split(/[/?#]/)[0];
    this.server = kind === "xmpp" ? new FakeXmpp(this) : new FakeStomp(this);
    this.protocol = this.server.choose(offered);
    fakes.push(this);
    setTimeout(() => {
      if (this.readyState !== 0) return;
      this.readyState = 1;
      this.emit("open", { type: "open", target: this });
    }, 0);
  }

  addEventListener(type, fn) {
    this.listeners[type]?.push(fn);
  }

  removeEventListener(type, fn) {
    const l = this.listeners[type];
    if (!l) return;
    const i = l.indexOf(fn);
    if (i >= 0) l.splice(i, 1);
  }

  emit(type, ev) {
    const h = this["on" + type];
    if (h) h.call(this, ev);
    const l = this.listeners[type];
    if (l.length) for (const fn of l.slice()) fn.call(this, ev);
  }

  send(data) {
    if (this.readyState !== 1) throw new DOMException("WebSocket is not open", "InvalidStateError");
    const k = keep(data);
    this.sent.push(k);
    this.server.receive(k.text);
  }

  close(code = 1000, reason = "") {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    setTimeout(() => {
      this.readyState = 3;
      this.emit("close", { type: "close", code, reason, wasClean: true, target: this });
    }, 0);
  }

  /** Server side: one message, delivered in its own task (after earlier ones). */
  push(data) {
    setTimeout(() => {
      if (this.readyState === 1) this.emit("message", { type: "message", data, target: this });
    }, 0);
  }

  /** Server side: the server closes the connection. */
  serverClose(code = 1000, reason = "") {
    setTimeout(() => {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.emit("close", { type: "close", code, reason, wasClean: true, target: this });
    }, 0);
  }

  /**
   * Delivers `n` messages, synchronously, to the page's message handlers: `data`, or the
   * messages of an array `data` in turn.
   */
  blast(data, n) {
    const evs = (Array.isArray(data) ? data : [data]).map((d) => ({ type: "message", data: d, target: this }));
    const k = evs.length;
    const h = this.onmessage;
    const l = this.listeners.message.slice();
    if (l.length === 0) {
      if (h) for (let i = 0; i < n; i++) h.call(this, evs[i % k]);
    } else if (!h && l.length === 1) {
      const fn = l[0];
      for (let i = 0; i < n; i++) fn.call(this, evs[i % k]);
    } else {
      for (let i = 0; i < n; i++) {
        if (h) h.call(this, evs[i % k]);
        for (const fn of l) fn.call(this, evs[i % k]);
      }
    }
  }
}
for (const [k, v] of Object.entries({ CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 })) {
  FakeSocket[k] = v;
  FakeSocket.prototype[k] = v;
}

/** Header value of a STOMP frame's text (first occurrence). */
function stompHeader(text, name) {
  const m = new RegExp(`\\n${name}:([^\\n]*)\\n`).exec(text);
  return m ? m[1] : undefined;
}

class FakeStomp {
  constructor(sock) {
    this.sock = sock;
    this.subs = [];
    this.sends = [];
  }

  choose(offered) {
    return ["v12.stomp", "v11.stomp", "v10.stomp"].find((p) => offered.includes(p)) ?? "";
  }

  receive(text) {
    const t = text.replace(/^[\r\n]+/, "");
    if (t === "") return; // heart-beat
    const command = t.slice(0, t.indexOf("\n"));
    const receipt = stompHeader(t, "receipt");
    const ack = () => {
      if (receipt !== undefined) this.sock.push(`RECEIPT\nreceipt-id:${receipt}\n\n\0`);
    };
    switch (command) {
      case "CONNECT":
      case "STOMP":
        this.sock.push("CONNECTED\nserver:RabbitMQ/3.10.8\nsession:session-bench\nheart-beat:0,0\nversion:1.2\n\n\0");
        break;
      case "SUBSCRIBE":
        this.subs.push({ id: stompHeader(t, "id"), destination: stompHeader(t, "destination") });
        ack();
        break;
      case "SEND":
        this.sends.push(text);
        ack();
        break;
      case "DISCONNECT":
        ack();
        this.sock.serverClose(1000, "");
        break;
      default:
        ack();
    }
  }
}

const NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";
const NS_STREAMS = "http://etherx.jabber.org/streams";
const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind";

class FakeXmpp {
  constructor(sock) {
    this.sock = sock;
    this.authed = false;
    this.user = "alice";
    this.jid = null;
  }

  choose(offered) {
    return offered.includes("xmpp") ? "xmpp" : "";
  }

  receive(xml) {
    const push = (s) => this.sock.push(s);
    const id = /\sid=["']([^"']*)["']/.exec(xml)?.[1] ?? "";
    if (/^\s*<open[\s/>]/.test(xml)) {
      push(`<open xmlns="${NS_FRAMING}" from="localhost" id="fake-${fakes.length}" version="1.0" xml:lang="en"/>`);
      push(
        this.authed
          ? `<stream:features xmlns:stream="${NS_STREAMS}" xmlns="jabber:client"><bind xmlns="${NS_BIND}"><required/></bind></stream:features>`
          : `<stream:features xmlns:stream="${NS_STREAMS}" xmlns="jabber:client"><mechanisms xmlns="${NS_SASL}"><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
      );
    } else if (/^\s*<auth[\s/>]/.test(xml)) {
      const m = />([^<]*)</.exec(xml);
      if (m) {
        const parts = atob(m[1]).split("\0");
        if (parts[1]) this.user = parts[1];
      }
      this.authed = true;
      push(`<success xmlns="${NS_SASL}"/>`);
    } else if (/^\s*<iq[\s/>]/.test(xml) && xml.includes(NS_BIND)) {
      const res = /<resource>([^<]*)<\/resource>/.exec(xml)?.[1] ?? "fake";
      this.jid = `${this.user}@localhost/${res}`;
      push(`<iq xmlns="jabber:client" type="result" id="${id}"><bind xmlns="${NS_BIND}"><jid>${this.jid}</jid></bind></iq>`);
    } else if (/^\s*<iq[\s/>]/.test(xml) && /type=["'](get|set)["']/.test(xml)) {
      const roster = xml.includes("jabber:iq:roster") ? `<query xmlns="jabber:iq:roster"/>` : "";
      push(`<iq xmlns="jabber:client" type="result" id="${id}"${this.jid ? ` to="${this.jid}"` : ""}>${roster}</iq>`);
    } else if (/^\s*<close[\s/>]/.test(xml)) {
      push(`<close xmlns="${NS_FRAMING}"/>`);
      this.sock.serverClose(1000, "");
    }
  }
}

/** A real WebSocket that keeps the first messages each connection sends (when `wire.on`). */
class RecordingSocket extends Real {
  constructor(url, protocols) {
    super(url, protocols);
    this.sentLog = [];
    if (wire.on) wire.sockets.push(this);
  }

  send(data) {
    if (wire.on && this.sentLog.length < 50) this.sentLog.push(keep(data));
    return super.send(data);
  }
}

/** Makes `new WebSocket(url, …)` build a FakeSocket for FAKE URLs, a RecordingSocket otherwise. */
export function install() {
  function SwitchSocket(url, protocols) {
    if (String(url).startsWith(FAKE)) return new FakeSocket(url, protocols);
    return protocols === undefined ? new RecordingSocket(url) : new RecordingSocket(url, protocols);
  }
  SwitchSocket.prototype = Real.prototype;
  for (const [k, v] of Object.entries({ CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 })) {
    Object.defineProperty(SwitchSocket, k, { value: v });
  }
  globalThis.WebSocket = SwitchSocket;
}

export { Real as RealWebSocket };
