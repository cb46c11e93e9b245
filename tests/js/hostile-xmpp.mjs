// A small hostile XMPP-over-WebSocket server (RFC 7395) on 127.0.0.1, used by the browser tests.
// It runs on the SDK-independent WebSocket server of ws-server.mjs. It requires the `xmpp`
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
import { pathToFileURL } from "node:url";
import {
  CLOSE, TEXT, MessageReader, answerControl, closeCode, encodeFrame, startWsServer,
} from "./ws-server.mjs";

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

/** One WebSocket connection speaking the polite part of RFC 7395, then the payload. */
class Connection {
  constructor(socket, mode, record) {
    this.socket = socket;
    this.mode = mode;
    this.record = record;
    this.reader = new MessageReader();
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
    this.socket.write(encodeFrame(TEXT, Buffer.from(text, "utf8")));
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

  onFrame(m) {
    const { opcode, payload } = m;
    if (opcode === CLOSE) {
      const reason = payload.length > 2 ? payload.subarray(2).toString("utf8") : "";
      this.log({ t: "ws-close", code: closeCode(payload), reason });
      this.record.clientClosed = true;
    }
    if (answerControl(this.socket, m)) return;
    const text = payload.toString("utf8");
    this.log({ t: "in", opcode, xml: text });
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
  const server = await startWsServer({
    port,
    pickProtocol: (offered) => (offered.includes("xmpp") ? "xmpp" : null),
    onSocket(socket, { path, protocol }) {
      const record = { path, protocol, events: [], clientClosed: false };
      connections.push(record);
      new Connection(socket, path.replace(/^\//, ""), record);
    },
  });
  return { ...server, connections };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? 0);
  const srv = await startHostileXmpp({ port });
  console.log(`hostile XMPP server: ${srv.url}/{big,bomb,deep,none}`);
}
