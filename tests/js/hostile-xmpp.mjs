// A small hostile XMPP-over-WebSocket server (RFC 7395) on 127.0.0.1, used by the browser tests.
// It shares no code with the SDK: the WebSocket handshake and framing (RFC 6455) are written
// here on top of node:http's `upgrade` event and node:crypto. It requires the `xmpp`
// subprotocol, plays a polite server up to resource binding (any PLAIN login succeeds; the
// bound JID is `<user>@localhost/hostile`), then sends the payload chosen by the URL path:
//
//   /big    a 2 MiB <message> in one WebSocket text frame (over the client's 1 MiB limit)
//   /bomb   a <message> preceded by a billion-laughs <!DOCTYPE> with nested <!ENTITY>s
//   /deep   a <message> nested 100 000 elements deep
//   /none   nothing (a well-behaved server, to check the harness itself)
//
// It never closes a connection on its own: a close is always the client's doing. Everything a
// connection sees is recorded in `server.connections` (frames in and out, the close frame's
// code and reason, the TCP end) for the tests to inspect.
//
// Run by hand: `node tests/js/hostile-xmpp.mjs [port]` prints the base URL.
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";
const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const NS_STREAMS = "http://etherx.jabber.org/streams";
const NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind";

/** The hostile payloads, by URL path; `to` is the bound JID. */
export const PAYLOADS = {
  big: (to) =>
    `<message xmlns="jabber:client" from="evil@localhost/x" to="${to}" type="chat" id="big">` +
    `<body>${"A".repeat(2 * 1024 * 1024)}</body></message>`,
  bomb: (to) => {
    let dtd = `<!ENTITY lol "lol">`;
    for (let i = 1; i <= 9; i++) {
      const prev = i === 1 ? "lol" : `lol${i - 1}`;
      dtd += `<!ENTITY lol${i} "${`&${prev};`.repeat(10)}">`;
    }
    return (
      `<!DOCTYPE lolz [${dtd}]>` +
      `<message xmlns="jabber:client" from="evil@localhost/x" to="${to}" type="chat" id="bomb">` +
      `<body>&lol9;</body></message>`
    );
  },
  deep: (to) =>
    `<message xmlns="jabber:client" from="evil@localhost/x" to="${to}" type="chat" id="deep">` +
    "<x>".repeat(100000) +
    "</x>".repeat(100000) +
    `</message>`,
  none: () => null,
};

/** Encodes one unmasked server frame. */
function encodeFrame(opcode, payload) {
  const len = payload.length;
  let head;
  if (len < 126) {
    head = Buffer.from([0x80 | opcode, len]);
  } else if (len < 65536) {
    head = Buffer.alloc(4);
    head[0] = 0x80 | opcode;
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

/**
 * Incremental reader of (masked) client frames. `push(chunk)` returns the complete frames as
 * `{ fin, opcode, payload }`, or throws on a protocol violation.
 */
class FrameReader {
  constructor() {
    this.buf = Buffer.alloc(0);
  }

  push(chunk) {
    this.buf = Buffer.concat([this.buf, chunk]);
    const frames = [];
    for (;;) {
      const b = this.buf;
      if (b.length < 2) break;
      const fin = (b[0] & 0x80) !== 0;
      const opcode = b[0] & 0x0f;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        const big = b.readBigUInt64BE(2);
        if (big > 64n * 1024n * 1024n) throw new Error("client frame too large");
        len = Number(big);
        off = 10;
      }
      if (!masked) throw new Error("unmasked client frame");
      if (b.length < off + 4 + len) break;
      const mask = b.subarray(off, off + 4);
      const payload = Buffer.from(b.subarray(off + 4, off + 4 + len));
      for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      frames.push({ fin, opcode, payload });
      this.buf = b.subarray(off + 4 + len);
    }
    return frames;
  }
}

/** One WebSocket connection speaking the polite part of RFC 7395, then the payload. */
class Connection {
  constructor(socket, mode, record) {
    this.socket = socket;
    this.mode = mode;
    this.record = record;
    this.reader = new FrameReader();
    this.fragments = [];
    this.fragOpcode = 0;
    this.authenticated = false;
    this.user = "mallory";
    this.closed = false;
    socket.on("data", (chunk) => this.onData(chunk));
    socket.on("end", () => this.log({ t: "end" }));
    socket.on("close", () => {
      this.closed = true;
      this.log({ t: "tcp-close" });
    });
    socket.on("error", (e) => this.log({ t: "socket-error", message: String(e) }));
  }

  log(e) {
    e.at = Date.now();
    this.record.events.push(e);
  }

  sendText(text) {
    if (this.closed || this.socket.destroyed) return;
    this.log({ t: "out", size: Buffer.byteLength(text), xml: text.slice(0, 300) });
    this.socket.write(encodeFrame(0x1, Buffer.from(text, "utf8")));
  }

  onData(chunk) {
    let frames;
    try {
      frames = this.reader.push(chunk);
    } catch (e) {
      this.log({ t: "protocol-error", message: String(e) });
      this.socket.destroy();
      return;
    }
    for (const f of frames) this.onFrame(f);
  }

  onFrame({ fin, opcode, payload }) {
    if (opcode === 0x8) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : null;
      const reason = payload.length > 2 ? payload.subarray(2).toString("utf8") : "";
      this.log({ t: "ws-close", code, reason });
      this.record.clientClosed = true;
      // Echo the close frame and end the TCP connection (the server side of the handshake).
      if (!this.socket.destroyed) this.socket.end(encodeFrame(0x8, payload.subarray(0, 2)));
      return;
    }
    if (opcode === 0x9) {
      this.socket.write(encodeFrame(0xa, payload));
      return;
    }
    if (opcode === 0xa) return;
    if (opcode === 0x1 || opcode === 0x2) {
      this.fragOpcode = opcode;
      this.fragments = [payload];
    } else if (opcode === 0x0) {
      this.fragments.push(payload);
    }
    if (!fin) return;
    const text = Buffer.concat(this.fragments).toString("utf8");
    this.fragments = [];
    this.log({ t: "in", opcode: this.fragOpcode, xml: text });
    this.onStanza(text);
  }

  onStanza(xml) {
    if (/^\s*<open[\s/>]/.test(xml)) {
      this.sendText(
        `<open xmlns="${NS_FRAMING}" from="localhost" id="hostile-${Date.now()}" version="1.0" xml:lang="en"/>`,
      );
      if (!this.authenticated) {
        this.sendText(
          `<stream:features xmlns:stream="${NS_STREAMS}">` +
            `<mechanisms xmlns="${NS_SASL}"><mechanism>PLAIN</mechanism></mechanisms>` +
            `</stream:features>`,
        );
      } else {
        this.sendText(
          `<stream:features xmlns:stream="${NS_STREAMS}"><bind xmlns="${NS_BIND}"><required/></bind></stream:features>`,
        );
      }
    } else if (/^\s*<auth[\s/>]/.test(xml)) {
      const m = />([^<]*)</.exec(xml);
      if (m) {
        const parts = Buffer.from(m[1], "base64").toString("utf8").split("\0");
        if (parts[1] && /^[a-z0-9._-]+$/i.test(parts[1])) this.user = parts[1];
      }
      this.authenticated = true;
      this.sendText(`<success xmlns="${NS_SASL}"/>`);
    } else if (/^\s*<iq[\s/>]/.test(xml) && xml.includes(NS_BIND)) {
      const id = /\sid=["']([^"']*)["']/.exec(xml)?.[1] ?? "";
      const jid = `${this.user}@localhost/hostile`;
      this.sendText(
        `<iq xmlns="jabber:client" type="result" id="${id}"><bind xmlns="${NS_BIND}"><jid>${jid}</jid></bind></iq>`,
      );
      const payload = (PAYLOADS[this.mode] ?? PAYLOADS.none)(jid);
      if (payload !== null) {
        setTimeout(() => this.sendText(payload), 100);
      }
    } else if (/^\s*<iq[\s/>]/.test(xml) && /type=["'](get|set)["']/.test(xml)) {
      const id = /\sid=["']([^"']*)["']/.exec(xml)?.[1] ?? "";
      this.sendText(`<iq xmlns="jabber:client" type="result" id="${id}"/>`);
    } else if (/^\s*<close[\s/>]/.test(xml)) {
      this.sendText(`<close xmlns="${NS_FRAMING}"/>`);
    }
  }
}

/**
 * Starts the server on 127.0.0.1 (port 0: a free one). Resolves with `{ url, port,
 * connections, close() }`; `url` has no path (append `/big`, `/bomb`, `/deep` or `/none`).
 * Each element of `connections` is `{ path, protocol, events, clientClosed }`.
 */
export async function startHostileXmpp({ port = 0 } = {}) {
  const connections = [];
  const sockets = new Set();
  const server = createServer((req, res) => {
    res.writeHead(426, { "content-type": "text/plain" }).end("WebSocket only");
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req, socket) => {
    const key = req.headers["sec-websocket-key"];
    const protocols = String(req.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((p) => p.trim());
    if (
      !key ||
      String(req.headers.upgrade).toLowerCase() !== "websocket" ||
      !protocols.includes("xmpp")
    ) {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      return;
    }
    const accept = createHash("sha1")
      .update(key + GUID)
      .digest("base64");
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\n" +
        "Upgrade: websocket\r\n" +
        "Connection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${accept}\r\n` +
        "Sec-WebSocket-Protocol: xmpp\r\n\r\n",
    );
    const path = new URL(req.url, "http://x").pathname;
    const record = { path, protocol: "xmpp", events: [], clientClosed: false };
    connections.push(record);
    socket.setNoDelay(true);
    new Connection(socket, path.replace(/^\//, ""), record);
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const bound = server.address().port;
  return {
    url: `ws://127.0.0.1:${bound}`,
    port: bound,
    connections,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? 0);
  const srv = await startHostileXmpp({ port });
  console.log(`hostile XMPP server: ${srv.url}/{big,bomb,deep,none}`);
}
