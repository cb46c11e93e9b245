// A loopback WebSocket server for the benchmarks (127.0.0.1 only), on the SDK-independent
// WebSocket server of tests/js/ws-server.mjs. It plays just enough of a STOMP 1.2 broker for a client to connect and
// subscribe; then a SEND to destination `/blast` whose body is JSON `{ "size": "1k", "n": 1000,
// "binary": false }` makes it write `n` copies of the captured MESSAGE frame for that body size
// (with the client's subscription id) back-to-back, one frame per WebSocket message, as text or
// binary messages. Frame templates come from `setTemplates` (see run.mjs: captured from
// RabbitMQ, or synthesised in its shape).
import {
  BINARY, TEXT, MessageReader, answerControl, encodeFrame, startWsServer,
} from "../tests/js/ws-server.mjs";

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
    this.reader = new MessageReader({ requireMask: false });
    this.sub = null;
    socket.on("data", (c) => {
      for (const m of this.reader.push(c)) this.onMessage(m);
    });
    socket.on("error", () => {});
  }

  sendText(text) {
    if (!this.socket.destroyed) this.socket.write(encodeFrame(TEXT, Buffer.from(text, "utf8")));
  }

  onMessage(m) {
    const { opcode, payload } = m;
    if (answerControl(this.socket, m) || (opcode !== TEXT && opcode !== BINARY)) return;
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
    const frame = (t) => encodeFrame(binary ? BINARY : TEXT, Buffer.from(t, "utf8"));
    const one = frame(text);
    // Write in chunks of about 1 MiB so memory stays bounded for 1 MiB bodies. The frames of a
    // chunk carry message-ids 1, 2, … (as RabbitMQ numbers them), all of one length.
    const per = Math.max(1, Math.floor((1 << 20) / one.length));
    const ids = (i) => text.replace(/(\nmessage-id:[^\n]*@@)1\n/, `$1${String(i + 1).padStart(String(per).length, "0")}\n`);
    const chunk = Buffer.concat(Array.from({ length: per }, (_, i) => frame(ids(i))));
    let left = n;
    const pump = () => {
      while (left > 0 && !this.socket.destroyed) {
        const k = Math.min(per, left);
        left -= k;
        const ok = this.socket.write(k === per ? chunk : chunk.subarray(0, (k * chunk.length) / per));
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
  const state = { templates: {}, received: [] };
  const server = await startWsServer({
    port,
    pickProtocol: (offered) => ["v12.stomp", "v11.stomp", "v10.stomp"].find((p) => offered.includes(p)),
    onSocket: (socket) => new StompConnection(state, socket),
  });
  return {
    url: server.url,
    received: state.received,
    setTemplates(t) {
      state.templates = t;
    },
    close: server.close,
  };
}
