// A small hostile STOMP-over-WebSocket server on 127.0.0.1, used by the browser tests, on the
// SDK-independent WebSocket server of ws-server.mjs. It accepts the STOMP subprotocols (v12.stomp, v11.stomp,
// v10.stomp), answers CONNECT with CONNECTED (version 1.2, heart-beat 0,0), answers DISCONNECT's
// receipt and echoes the client's close frame. On the first SEND it misbehaves as the URL path
// says (see MODES). SENDs are never acknowledged: a SEND with `receipt` stays pending until the
// client gives up on it. Each connection is recorded in `server.connections`: `{ path, frames
// (client STOMP frames in), hostileBytes (payload bytes written), closeFrame (the client's close
// code), closedAt, tcpClosedAt, hostileAt }`.
//
// Run by hand: `node tests/js/hostile-stomp.mjs [port]` prints the base URL.
import { pathToFileURL } from "node:url";
import {
  BINARY, CLOSE, TEXT, MessageReader, answerControl, closeCode, encodeFrame, startWsServer,
} from "./ws-server.mjs";

const PROTOCOLS = ["v12.stomp", "v11.stomp", "v10.stomp"];

/** The body of the valid MESSAGEs (multi-byte UTF-8, to be split by the drip). */
export const DRIP_BODY = "héllo € 🎉";
/** The body of the binary MESSAGE: invalid UTF-8 and a NUL (sent with content-length). */
export const BINARY_BODY = [0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, 0xf5, 0x41];

/**
 * The bodies of the "several" mode: frames sharing one WebSocket message, first three in a
 * text message, then two in a binary one (bytes; the last is not UTF-8), then two more in a
 * binary one.
 */
export const SEVERAL = {
  text: ["a😀b", "héllo € 🎉", ""],
  binary: [[0x6f, 0x6b, 0xf0, 0x9f, 0x98, 0x80], [0xff, 0x00, 0x41]],
  // Then two in a binary message that is all ASCII (given as parts of its text).
  ascii: ["plain ascii body", "second"],
};

const message = (sub, extra, body) =>
  Buffer.concat([
    Buffer.from(`MESSAGE\nsubscription:${sub}\nmessage-id:m-1\ndestination:/queue/hostile\n${extra}\n`),
    Buffer.from(body),
    Buffer.from([0]),
  ]);

/**
 * The misbehaviours, by URL path. Each gets the connection `c` (with `c.text(buf)`,
 * `c.binary(buf)`, `c.raw(buf)`, `c.stream(chunk, everyMs)`) and the subscription id.
 */
export const MODES = {
  none: () => {},
  "unknown-command": (c) => c.text(Buffer.from("EXPLODE\nfoo:bar\n\n\0")),
  "missing-colon": (c, sub) => c.text(Buffer.from(`MESSAGE\nsubscription:${sub}\nno colon here\n\nx\0`)),
  // A WebSocket frame announcing 200 bytes, 40 of them sent, then the TCP connection ends.
  truncated: (c, sub) => {
    const whole = encodeFrame(TEXT, Buffer.concat([message(sub, "", "A".repeat(200))]));
    c.raw(whole.subarray(0, 44));
    setTimeout(() => c.socket.end(), 50);
  },
  // 1 MiB in one text frame (the tests set maxFrameSize 65536).
  oversized: (c, sub) => c.text(message(sub, "", "B".repeat(1024 * 1024))),
  // The same without content-length, streamed 4 KiB per WebSocket message.
  "oversized-stream": (c, sub) => {
    c.text(Buffer.from(`MESSAGE\nsubscription:${sub}\nmessage-id:m-1\n\n`));
    c.stream(Buffer.from("C".repeat(4096)), 2);
  },
  // A valid MESSAGE, one byte per (binary) WebSocket message every 50 ms.
  drip: (c, sub) => {
    const bytes = Buffer.concat([Buffer.from(`MESSAGE\nsubscription:${sub}\nmessage-id:m-1\n\n${DRIP_BODY}`), Buffer.from([0])]);
    let i = 0;
    const t = setInterval(() => {
      if (c.closed || i >= bytes.length) return clearInterval(t);
      c.binary(bytes.subarray(i, i + 1));
      i++;
    }, 50);
  },
  // A text frame whose payload is not UTF-8 (the browser fails the connection).
  "bad-utf8-text": (c, sub) => c.text(message(sub, "", Buffer.from([0xc3, 0x28, 0xff]))),
  // A binary frame with a body that is not UTF-8 (legal: delivered as bytes).
  "binary-body": (c, sub) =>
    c.binary(message(sub, `content-length:${BINARY_BODY.length}\ncontent-type:application/octet-stream\n`, Buffer.from(BINARY_BODY))),
  // content-length far beyond any limit, a short body, then more body bytes forever.
  "huge-length": (c, sub) => {
    c.text(message(sub, "content-length:99999999999\n", "short").subarray(0, -1));
    c.stream(Buffer.from("D".repeat(1024)), 2);
  },
  // A header line that never ends.
  "endless-header": (c, sub) => {
    c.text(Buffer.from(`MESSAGE\nsubscription:${sub}\nx-endless:`));
    c.stream(Buffer.from("E".repeat(1024)), 2);
  },
  // Not hostile: several frames per WebSocket message, non-ASCII text, repeated headers and
  // header names that objects inherit, bodies with and without content-length.
  several: (c, sub) => {
    const [a, b, e] = SEVERAL.text;
    c.text(
      Buffer.concat([
        message(sub, "x-name:välue\nx-dup:first\nx-dup:second\nconstructor:yes\n", a),
        Buffer.from("\n"),
        message(sub, `content-length:${Buffer.byteLength(b)}\n`, b),
        message(sub, "x-name:other\n", e),
      ]),
    );
    const [x, y] = SEVERAL.binary.map((v) => Buffer.from(v));
    c.binary(Buffer.concat([message(sub, "", x), message(sub, `content-length:${y.length}\n`, y)]));
    const [p, q] = SEVERAL.ascii;
    c.binary(
      Buffer.concat([
        message(sub, "x-esc:a\\cb\\\\c\nx-dup:one\nx-dup:two\n", p),
        message(sub, `content-length:${q.length}\n`, q),
      ]),
    );
  },
  error: (c) =>
    c.text(Buffer.from("ERROR\nmessage:hostile error\ncontent-type:text/plain\ncontent-length:11\n\nbad things!\0")),
};

/** Client STOMP frames in one message → `{ command, headers }` (bodies ignored). */
function parseStomp(text) {
  const frames = [];
  for (const part of text.split("\0")) {
    const lines = part.replace(/^[\r\n]+/, "").split(/\r?\n/);
    if (!lines[0]) continue;
    const headers = {};
    for (const l of lines.slice(1)) {
      if (l === "") break;
      const i = l.indexOf(":");
      if (i > 0 && !(l.slice(0, i) in headers)) headers[l.slice(0, i)] = l.slice(i + 1);
    }
    frames.push({ command: lines[0], headers });
  }
  return frames;
}

function accept(socket, mode, record) {
  const reader = new MessageReader({ requireMask: false });
  let sub = "sub-0";
  let triggered = false;
  const timers = [];
  const c = {
    socket,
    closed: false,
    raw(buf) {
      if (c.closed || socket.destroyed) return;
      if (triggered) record.hostileBytes += buf.length;
      socket.write(buf);
    },
    text: (buf) => c.raw(encodeFrame(TEXT, buf)),
    binary: (buf) => c.raw(encodeFrame(BINARY, buf)),
    /** Sends `chunk` as a text message every `ms` until the connection closes (cap 64 MiB). */
    stream(chunk, ms) {
      const t = setInterval(() => {
        if (c.closed || record.hostileBytes > 64 * 1024 * 1024) return clearInterval(t);
        c.text(chunk);
      }, ms);
      timers.push(t);
    },
  };
  const gone = () => {
    c.closed = true;
    record.tcpClosedAt ??= Date.now();
    timers.forEach(clearInterval);
  };
  socket.on("close", gone);
  socket.on("error", gone);
  socket.on("data", (chunk) => {
    for (const m of reader.push(chunk)) {
      const { opcode, payload } = m;
      if (opcode === CLOSE) {
        record.closeFrame = closeCode(payload);
        record.closedAt = Date.now();
        c.closed = true;
      }
      if (answerControl(socket, m) || (opcode !== TEXT && opcode !== BINARY)) continue;
      for (const f of parseStomp(payload.toString("utf8"))) {
        record.frames.push(f);
        if (f.command === "CONNECT" || f.command === "STOMP") {
          c.text(Buffer.from("CONNECTED\nversion:1.2\nheart-beat:0,0\nserver:hostile/1\n\n\0"));
        } else if (f.command === "SUBSCRIBE") {
          sub = f.headers.id ?? sub;
        } else if (f.command === "SEND" && !triggered) {
          triggered = true;
          record.hostileAt = Date.now();
          (MODES[mode] ?? MODES.none)(c, sub);
        } else if (f.command === "DISCONNECT" && f.headers.receipt) {
          c.text(Buffer.from(`RECEIPT\nreceipt-id:${f.headers.receipt}\n\n\0`));
        }
      }
    }
  });
}

/**
 * Starts the server on 127.0.0.1 (port 0: a free one). Resolves with `{ url, port,
 * connections, close() }`; `url` has no path (append `/<mode>`).
 */
export async function startHostileStomp({ port = 0 } = {}) {
  const connections = [];
  const server = await startWsServer({
    port,
    pickProtocol: (offered) => PROTOCOLS.find((p) => offered.includes(p)) ?? null,
    onSocket(socket, { path, protocol }) {
      const record = { path, protocol, frames: [], hostileBytes: 0, closeFrame: null, closedAt: null, tcpClosedAt: null, hostileAt: null };
      connections.push(record);
      accept(socket, path.replace(/^\//, ""), record);
    },
  });
  return { ...server, connections };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const srv = await startHostileStomp({ port: Number(process.argv[2] ?? 0) });
  console.log(`hostile STOMP server: ${srv.url}/{${Object.keys(MODES).join(",")}}`);
}
