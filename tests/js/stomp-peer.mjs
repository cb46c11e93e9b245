// A minimal, independent STOMP 1.2 client over plain TCP (node:net), used by the browser tests
// as a second peer: it shares no code with the SDK. It writes frames with `content-length` and
// the STOMP 1.2 header escapes, and reads frames (heart-beat EOLs skipped, bodies by
// `content-length` or up to the NUL) into a queue that tests wait on.
import { connect as tcpConnect } from "node:net";

const ESCAPES = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", ":": "\\c" };
const UNESCAPES = { "\\\\": "\\", "\\n": "\n", "\\r": "\r", "\\c": ":" };

function escapeValue(s) {
  return String(s).replace(/[\\\n\r:]/g, (c) => ESCAPES[c]);
}

function unescapeValue(s) {
  return s.replace(/\\[\\nrc]/g, (e) => UNESCAPES[e]);
}

/** Encodes one frame; `body` is a string (UTF-8) or bytes. CONNECT headers are not escaped. */
export function encodeFrame(command, headers = {}, body = "") {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
  const esc = command === "CONNECT" || command === "STOMP" ? String : escapeValue;
  let head = command + "\n";
  for (const [k, v] of Object.entries(headers)) head += esc(k) + ":" + esc(v) + "\n";
  if (command === "SEND" || bytes.length > 0) head += "content-length:" + bytes.length + "\n";
  return Buffer.concat([Buffer.from(head + "\n", "utf8"), bytes, Buffer.from([0])]);
}

/** Incremental frame reader: `push(chunk)` returns the frames completed by it. */
export class FrameReader {
  constructor() {
    this.buf = Buffer.alloc(0);
  }

  push(chunk) {
    this.buf = Buffer.concat([this.buf, chunk]);
    const frames = [];
    for (;;) {
      // Heart-beats: bare EOLs between frames.
      let start = 0;
      while (start < this.buf.length && (this.buf[start] === 10 || this.buf[start] === 13)) start++;
      this.buf = this.buf.subarray(start);
      if (this.buf.length === 0) break;
      const headEnd = this.buf.indexOf("\n\n");
      const headEndCr = this.buf.indexOf("\r\n\r\n");
      let end, sep;
      if (headEndCr !== -1 && (headEnd === -1 || headEndCr < headEnd)) [end, sep] = [headEndCr, 4];
      else if (headEnd !== -1) [end, sep] = [headEnd, 2];
      else break;
      const lines = this.buf.subarray(0, end).toString("utf8").split(/\r?\n/);
      const command = lines.shift();
      const raw = command === "CONNECTED";
      const headers = {};
      for (const line of lines) {
        const i = line.indexOf(":");
        if (i < 0) throw new Error(`bad header line ${JSON.stringify(line)}`);
        const k = raw ? line.slice(0, i) : unescapeValue(line.slice(0, i));
        const v = raw ? line.slice(i + 1) : unescapeValue(line.slice(i + 1));
        if (!(k in headers)) headers[k] = v;
      }
      const bodyStart = end + sep;
      let bodyEnd;
      if (headers["content-length"] !== undefined) {
        bodyEnd = bodyStart + Number(headers["content-length"]);
        if (this.buf.length < bodyEnd + 1) break;
        if (this.buf[bodyEnd] !== 0) throw new Error("frame body not followed by NUL");
      } else {
        bodyEnd = this.buf.indexOf(0, bodyStart);
        if (bodyEnd === -1) break;
      }
      const body = Buffer.from(this.buf.subarray(bodyStart, bodyEnd));
      this.buf = this.buf.subarray(bodyEnd + 1);
      frames.push({ command, headers, body, text: body.toString("utf8") });
    }
    return frames;
  }
}

/** One STOMP 1.2 session over TCP. */
export class StompPeer {
  /** Connects (CONNECT, guest/guest by default) and resolves once CONNECTED arrives. */
  static async connect({
    host = "127.0.0.1",
    port = Number(process.env.STOMP_TCP_PORT ?? 61613),
    login = "guest",
    passcode = "guest",
    timeout = 5000,
  } = {}) {
    const socket = tcpConnect({ host, port });
    const peer = new StompPeer(socket);
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    peer.write("CONNECT", {
      "accept-version": "1.2",
      host: "/",
      login,
      passcode,
      "heart-beat": "0,0",
    });
    const frame = await peer.next(timeout);
    if (frame.command !== "CONNECTED") {
      peer.close();
      throw new Error(`expected CONNECTED, got ${frame.command}: ${frame.headers.message}`);
    }
    peer.connected = frame.headers;
    return peer;
  }

  constructor(socket) {
    this.socket = socket;
    this.reader = new FrameReader();
    this.frames = [];
    this.waiters = [];
    this.closed = false;
    this.receiptSeq = 0;
    socket.on("data", (chunk) => {
      let frames;
      try {
        frames = this.reader.push(chunk);
      } catch (e) {
        this.fail(e);
        return;
      }
      for (const f of frames) this.frames.push(f);
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", (e) => this.fail(e));
  }

  fail(e) {
    this.error = e;
    this.socket.destroy();
    this.closed = true;
    this.wake();
  }

  wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  write(command, headers = {}, body = "") {
    this.socket.write(encodeFrame(command, headers, body));
  }

  /** Resolves with the next frame for which `match(frame)` is true (others stay queued). */
  async next(timeout = 5000, match = () => true) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const i = this.frames.findIndex(match);
      if (i >= 0) return this.frames.splice(i, 1)[0];
      if (this.closed) throw new Error(`peer connection closed${this.error ? ": " + this.error.message : ""}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("peer: timed out waiting for a frame");
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends a frame with a `receipt` header and waits for its RECEIPT. */
  async withReceipt(command, headers = {}, body = "", timeout = 5000) {
    const id = `peer-${++this.receiptSeq}`;
    this.write(command, { ...headers, receipt: id }, body);
    const f = await this.next(
      timeout,
      (f) => f.command === "ERROR" || (f.command === "RECEIPT" && f.headers["receipt-id"] === id),
    );
    if (f.command === "ERROR") throw new Error(`peer got ERROR: ${f.headers.message}`);
    return f;
  }

  subscribe(destination, id, headers = {}) {
    return this.withReceipt("SUBSCRIBE", { destination, id, ack: "auto", ...headers });
  }

  send(destination, body, headers = {}) {
    return this.withReceipt("SEND", { destination, ...headers }, body);
  }

  nextMessage(timeout = 5000) {
    return this.next(timeout, (f) => f.command === "MESSAGE" || f.command === "ERROR");
  }

  close() {
    this.socket.destroy();
    this.closed = true;
  }
}
