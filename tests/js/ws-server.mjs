// The server side of RFC 6455 for our own loopback servers (the hostile STOMP and XMPP servers
// of the tests, the benchmark's loopback broker): the opening handshake on node:http's
// `upgrade` event, unmasked server frames out, masked client frames in (fragments joined),
// and the answers to ping and close. It shares no code with the SDK on purpose: the servers
// test the SDK's WebSocket use, so they must not inherit its assumptions.
import { createServer } from "node:http";
import { createHash } from "node:crypto";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Opcodes. */
export const TEXT = 0x1, BINARY = 0x2, CLOSE = 0x8, PING = 0x9, PONG = 0xa;

/** Encodes one unmasked server frame (`fin` false: a fragment to be continued). */
export function encodeFrame(opcode, payload, fin = true) {
  const len = payload.length;
  let head;
  if (len < 126) head = Buffer.from([0, len]);
  else if (len < 65536) {
    head = Buffer.alloc(4);
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  head[0] = (fin ? 0x80 : 0) | opcode;
  return Buffer.concat([head, payload]);
}

/**
 * Incremental reader of client frames. `push(chunk)` returns the complete messages as
 * `{ opcode, payload }`: control frames as they come, data messages with their fragments
 * joined. Throws on an unmasked frame (when `requireMask`) or one over `maxFrame` bytes.
 */
export class MessageReader {
  constructor({ requireMask = true, maxFrame = 64 * 1024 * 1024 } = {}) {
    this.requireMask = requireMask;
    this.maxFrame = maxFrame;
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
        if (big > BigInt(this.maxFrame)) throw new Error("client frame too large");
        len = Number(big);
        off = 10;
      }
      if (!masked && this.requireMask) throw new Error("unmasked client frame");
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
      if (opcode !== 0) {
        this.partOpcode = opcode;
        this.parts = [];
      }
      this.parts.push(payload);
      if (fin) {
        out.push({ opcode: this.partOpcode, payload: Buffer.concat(this.parts) });
        this.parts = [];
      }
    }
    return out;
  }
}

/**
 * Answers a control message the usual way: a ping gets its pong; a close is echoed (its
 * status code only) and the TCP connection ended. Returns true when `message` was a control
 * message (nothing more to do with it).
 */
export function answerControl(socket, { opcode, payload }) {
  if (opcode === PING) {
    if (!socket.destroyed) socket.write(encodeFrame(PONG, payload));
    return true;
  }
  if (opcode === CLOSE) {
    if (!socket.destroyed) socket.end(encodeFrame(CLOSE, payload.subarray(0, 2)));
    return true;
  }
  return opcode === PONG;
}

/** The status code of a close frame's payload, or null. */
export const closeCode = (payload) => (payload.length >= 2 ? payload.readUInt16BE(0) : null);

/**
 * Starts a WebSocket server on 127.0.0.1 (port 0: a free one). `pickProtocol(offered)` gets the
 * client's subprotocols and returns the one to accept, `undefined` for none, or `null` to refuse
 * the handshake (400). `onSocket(socket, { path, protocol, req })` takes each upgraded
 * connection. Resolves with `{ url, port, close() }` (`close` also ends open connections).
 */
export async function startWsServer({ port = 0, pickProtocol = () => undefined, onSocket }) {
  const sockets = new Set();
  const server = createServer((req, res) => res.writeHead(426).end("WebSocket only"));
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req, socket) => {
    const key = req.headers["sec-websocket-key"];
    const offered = String(req.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    const protocol = pickProtocol(offered);
    if (!key || String(req.headers.upgrade).toLowerCase() !== "websocket" || protocol === null) {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      return;
    }
    const accept = createHash("sha1").update(key + GUID).digest("base64");
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${accept}\r\n` +
        (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : "") +
        "\r\n",
    );
    socket.setNoDelay(true);
    onSocket(socket, { path: new URL(req.url, "http://x").pathname, protocol, req });
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const bound = server.address().port;
  return {
    url: `ws://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
