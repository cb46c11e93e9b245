// A loopback WebSocket server for the benchmarks (127.0.0.1 only). It shares no code with the
// SDK or the tests: the RFC 6455 handshake and framing are written here on node:http's
// `upgrade` event. It plays just enough of a STOMP 1.2 broker for a client to connect and
// subscribe; then a SEND to destination `/blast` whose body is JSON `{ "size": "1k", "n": 1000,
// "binary": false }` makes it write `n` copies of the captured MESSAGE frame for that body size
// (with the client's subscription id) back-to-back, one frame per WebSocket message, as text or
// binary messages. Frame templates come from `setTemplates` (see run.mjs: captured from
// RabbitMQ, or synthesised in its shape).
import { createServer } from "node:http";
import { createHash } from "node:crypto";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** One unmasked server frame header for a payload of `len` bytes. */
function frameHead(opcode, len) {
  if (len < 126) return Buffer.from([0x80 | opcode, len]);
  if (len < 65536) {
    const h = Buffer.alloc(4);
    h[0] = 0x80 | opcode;
    h[1] = 126;
    h.writeUInt16BE(len, 2);
    return h;
  }
  const h = Buffer.alloc(10);
  h[0] = 0x80 | opcode;
  h[1] = 127;
  h.writeBigUInt64BE(BigInt(len), 2);
  return h;
}

function frame(opcode, payload) {
  return Buffer.concat([frameHead(opcode, payload.length), payload]);
}

/** Reads masked client frames; yields whole messages `{ opcode, payload }` (fragments joined). */
class Reader {
  constructor() {
    this.buf = Buffer.alloc(0);
    this.parts = [];
    this.partOpcode = 0;
  }

  push(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out = [];
    for (;;) {
      const b = this.buf;
      if (b.length < 2) break;
      const fin = (b[0] & 0x80) !== 0;
      const opcode = b[0] & 0x0f;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      const masked = (b[1] & 0x80) !== 0;
      const need = off + (masked ? 4 : 0) + len;
      if (b.length < need) break;
      const payload = Buffer.from(b.subarray(need - len, need));
      if (masked) {
        const m = b.subarray(off, off + 4);
        for (let i = 0; i < payload.length; i++) payload[i] ^= m[i & 3];
      }
      this.buf = b.subarray(need);
      if (opcode >= 0x8) {
        out.push({ opcode, payload });
        continue;
      }
      if (opcode !== 0) this.partOpcode = opcode;
      this.parts.push(payload);
      if (fin) {
        out.push({ opcode: this.partOpcode, payload: Buffer.concat(this.parts) });
        this.parts = [];
      }
    }
    return out;
  }
}

/** Splits a STOMP frame's text into command and headers (first value wins). */
function parseStomp(text) {
  const t = text.replace(/^[\r\n]+/, "");
  const end = t.indexOf("\n\n");
  const head = (end < 0 ? t : t.slice(0, end)).split(/\r?\n/);
  const headers = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(":");
    if (i > 0 && !(line.slice(0, i) in headers)) headers[line.slice(0, i)] = line.slice(i + 1);
  }
  const body = end < 0 ? "" : t.slice(end + 2).replace(/\0[\r\n]*$/, "");
  return { command: head[0], headers, body };
}

class StompConnection {
  constructor(server, socket) {
    this.server = server;
    this.socket = socket;
    this.reader = new Reader();
    this.sub = null;
    socket.on("data", (c) => {
      for (const m of this.reader.push(c)) this.onMessage(m);
    });
    socket.on("error", () => {});
  }

  sendText(text) {
    if (!this.socket.destroyed) this.socket.write(frame(0x1, Buffer.from(text, "utf8")));
  }

  onMessage({ opcode, payload }) {
    if (opcode === 0x8) {
      if (!this.socket.destroyed) this.socket.end(frame(0x8, payload.subarray(0, 2)));
      return;
    }
    if (opcode === 0x9) {
      this.socket.write(frame(0xa, payload));
      return;
    }
    if (opcode !== 0x1 && opcode !== 0x2) return;
    this.server.received.push({ opcode, bytes: payload.length, text: payload.toString("utf8") });
    if (this.server.received.length > 1000) this.server.received.shift();
    const text = payload.toString("utf8");
    if (/^[\r\n]*$/.test(text)) return; // heart-beat
    const f = parseStomp(text);
    const receipt = () => {
      if (f.headers.receipt !== undefined) {
        this.sendText(`RECEIPT\nreceipt-id:${f.headers.receipt}\n\n\0`);
      }
    };
    switch (f.command) {
      case "CONNECT":
      case "STOMP":
        this.sendText("CONNECTED\nserver:bench-loopback\nsession:bench\nheart-beat:0,0\nversion:1.2\n\n\0");
        break;
      case "SUBSCRIBE":
        this.sub = f.headers.id;
        receipt();
        break;
      case "SEND":
        if (f.headers.destination === "/blast") this.blast(JSON.parse(f.body));
        else receipt();
        break;
      case "DISCONNECT":
        receipt();
        break;
      default:
        receipt();
    }
  }

  blast({ size, n, binary }) {
    const template = this.server.templates[size];
    if (!template || this.sub === null) return;
    const text = template.replaceAll("@SUB@", this.sub);
    const one = frame(binary ? 0x2 : 0x1, Buffer.from(text, "utf8"));
    // Write in chunks of about 1 MiB so memory stays bounded for 1 MiB bodies.
    const per = Math.max(1, Math.floor((1 << 20) / one.length));
    const chunk = Buffer.concat(Array(per).fill(one));
    let left = n;
    const pump = () => {
      while (left > 0 && !this.socket.destroyed) {
        const k = Math.min(per, left);
        left -= k;
        const ok = this.socket.write(k === per ? chunk : chunk.subarray(0, k * one.length));
        if (!ok) {
          this.socket.once("drain", pump);
          return;
        }
      }
    };
    pump();
  }
}

/** Starts the server; resolves with `{ url, setTemplates(map), received, close() }`. */
export async function startLoopback({ port = 0 } = {}) {
  const sockets = new Set();
  const state = { templates: {}, received: [] };
  const server = createServer((req, res) => res.writeHead(426).end("WebSocket only"));
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req, socket) => {
    const key = req.headers["sec-websocket-key"];
    if (!key) {
      socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
      return;
    }
    const offered = String(req.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    const protocol = ["v12.stomp", "v11.stomp", "v10.stomp"].find((p) => offered.includes(p));
    const accept = createHash("sha1").update(key + GUID).digest("base64");
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${accept}\r\n` +
        (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : "") +
        "\r\n",
    );
    socket.setNoDelay(true);
    new StompConnection(state, socket);
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `ws://127.0.0.1:${server.address().port}`,
    received: state.received,
    setTemplates(t) {
      state.templates = t;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
