// The libraries under test behind one small interface each (browser ES module), written the
// way a page would use each library: its own connect call, its subscribe/handler API, its send.
//
// STOMP adapter: `open(url, {login, passcode})` → `{ subscribe(dest, onBody, binary), send(body,
// dest), close() }`. `onBody` receives what the page's handler has in hand: the body string
// (text mode) or the body bytes (binary mode); for "raw" (a bare browser WebSocket, no STOMP
// parsing at all — the ceiling) it is the WebSocket message's data.
//
// XMPP adapter: `open(url, domain, user, password)` → `{ onMessage(fn), onPresence(fn),
// sendChat(to, body), close() }`; `fn` receives the message body text or the presence's show.

const withTimeout = (p, ms, what) =>
  Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms))]);

// ---------------------------------------------------------------------------------------------
// STOMP

export const stomp = {
  fullduplex: (fd) => ({
    async open(url, { login, passcode } = {}) {
      const c = new fd.StompClient();
      await withTimeout(
        new Promise((resolve, reject) => {
          c.onopen = () => resolve();
          c.onerror = (h, b) => reject(new Error(`STOMP error ${JSON.stringify(h)} ${b}`));
          c.onclose = (e) => reject(new Error(`closed ${e.code} ${e.reason}`));
          c.connect(url, { login, passcode, heartbeatIncoming: 0, heartbeatOutgoing: 0 });
        }),
        10000,
        "fullduplex STOMP connect",
      );
      c.onclose = null;
      c.onerror = (h, b) => console.error("fullduplex STOMP error", JSON.stringify(h), b);
      return {
        async subscribe(dest, onBody, binary) {
          const s = binary
            ? c.subscribe(dest, (h, body, m) => onBody(m.binaryBody))
            : c.subscribe(dest, (h, body) => onBody(body));
          await s.receipt;
          return s.id;
        },
        send(body, dest) {
          c.send(body, dest);
        },
        close: () => withTimeout(c.disconnect(), 3000, "disconnect").catch(() => {}),
      };
    },
  }),

  stompjs: (StompJs) => ({
    async open(url, { login, passcode } = {}) {
      const options = {
        connectHeaders: login ? { login, passcode } : {},
        heartbeatIncoming: 0,
        heartbeatOutgoing: 0,
        reconnectDelay: 0,
        debug: () => {},
      };
      // Its own hook for a custom socket; the fake is also what `new WebSocket` would give.
      if (url.includes("/fake/")) {
        options.webSocketFactory = () => new WebSocket(url, ["v12.stomp", "v11.stomp", "v10.stomp"]);
      } else {
        options.brokerURL = url;
      }
      const c = new StompJs.Client(options);
      await withTimeout(
        new Promise((resolve, reject) => {
          c.onConnect = () => resolve();
          c.onStompError = (f) => reject(new Error(`STOMP error ${JSON.stringify(f.headers)}`));
          c.onWebSocketClose = (e) => reject(new Error(`closed ${e.code}`));
          c.activate();
        }),
        10000,
        "stompjs connect",
      );
      c.onWebSocketClose = () => {};
      return {
        async subscribe(dest, onBody, binary) {
          const s = binary
            ? c.subscribe(dest, (m) => onBody(m.binaryBody))
            : c.subscribe(dest, (m) => onBody(m.body));
          return s.id;
        },
        send(body, dest) {
          c.publish({ destination: dest, body });
        },
        close: () => withTimeout(c.deactivate(), 3000, "deactivate").catch(() => {}),
      };
    },
  }),

  raw: () => ({
    async open(url, { login, passcode } = {}) {
      const ws = new WebSocket(url, ["v12.stomp"]);
      ws.binaryType = "arraybuffer";
      await withTimeout(
        new Promise((resolve, reject) => {
          ws.onopen = () => {
            const auth = login ? `login:${login}\npasscode:${passcode}\n` : "";
            ws.send(`CONNECT\naccept-version:1.2\n${auth}heart-beat:0,0\n\n\0`);
          };
          ws.onmessage = (e) => {
            const t = typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data);
            if (t.startsWith("CONNECTED")) resolve();
            else reject(new Error(`raw STOMP: ${t.slice(0, 200)}`));
          };
          ws.onclose = (e) => reject(new Error(`closed ${e.code}`));
        }),
        10000,
        "raw connect",
      );
      ws.onclose = null;
      const enc = new TextEncoder();
      return {
        async subscribe(dest, onBody) {
          ws.onmessage = (e) => onBody(e.data);
          ws.send(`SUBSCRIBE\nid:sub-0\ndestination:${dest}\n\n\0`);
          return "sub-0";
        },
        send(body, dest) {
          ws.send(`SEND\ndestination:${dest}\ncontent-length:${enc.encode(body).length}\n\n${body}\0`);
        },
        async close() {
          ws.close();
        },
      };
    },
  }),
};

// ---------------------------------------------------------------------------------------------
// XMPP

export const xmpp = {
  fullduplex: (fd) => ({
    async open(url, domain, username, password) {
      const c = new fd.XmppClient();
      await withTimeout(
        new Promise((resolve, reject) => {
          c.onopen = () => resolve();
          c.onclose = (e) => reject(new Error(`closed ${e.code} ${e.condition ?? ""} ${e.text ?? ""}`));
          c.connect(url, domain, { username, password, resource: "bench", allowPlainInsecure: true });
        }),
        15000,
        "fullduplex XMPP login",
      );
      c.onclose = null;
      return {
        onMessage(fn) {
          c.onmessage = (m) => fn(m.body);
        },
        onPresence(fn) {
          c.onpresence = (p) => fn(p.show);
        },
        sendChat(to, body) {
          c.sendMessage(to, body, { type: "chat" });
        },
        close: () => withTimeout(c.disconnect(), 3000, "disconnect").catch(() => {}),
      };
    },
  }),

  strophe: (ns) => ({
    async open(url, domain, username, password) {
      const { Strophe } = ns;
      const conn = new Strophe.Connection(url);
      let onStatus = () => {};
      await withTimeout(
        new Promise((resolve, reject) => {
          onStatus = (status, cond) => {
            if (status === Strophe.Status.CONNECTED) resolve();
            else if (
              status === Strophe.Status.CONNFAIL ||
              status === Strophe.Status.AUTHFAIL ||
              status === Strophe.Status.ERROR ||
              status === Strophe.Status.DISCONNECTED
            ) {
              reject(new Error(`Strophe status ${status} ${cond ?? ""}`));
            }
          };
          conn.connect(`${username}@${domain}/bench`, password, (s, c) => onStatus(s, c));
        }),
        15000,
        "Strophe login",
      );
      const text = (el, name) => {
        const child = el.getElementsByTagName(name)[0];
        return child ? child.textContent : null;
      };
      return {
        onMessage(fn) {
          conn.addHandler((el) => (fn(text(el, "body")), true), null, "message");
        },
        onPresence(fn) {
          conn.addHandler((el) => (fn(text(el, "show")), true), null, "presence");
        },
        sendChat(to, body) {
          conn.send(ns.$msg({ to, type: "chat" }).c("body").t(body));
        },
        close: () =>
          withTimeout(
            new Promise((resolve) => {
              onStatus = (s) => {
                if (s === Strophe.Status.DISCONNECTED) resolve();
              };
              conn.disconnect();
            }),
            3000,
            "Strophe disconnect",
          ).catch(() => {}),
      };
    },
  }),

  xmppjs: (XMPP) => ({
    async open(url, domain, username, password) {
      const x = XMPP.client({ service: url, domain, username, password, resource: "bench" });
      x.on("error", () => {});
      x.reconnect.stop();
      await withTimeout(x.start(), 15000, "xmpp.js login");
      return {
        onMessage(fn) {
          x.on("stanza", (s) => {
            if (s.name === "message") fn(s.getChildText("body"));
          });
        },
        onPresence(fn) {
          x.on("stanza", (s) => {
            if (s.name === "presence") fn(s.getChildText("show"));
          });
        },
        sendChat(to, body) {
          x.send(XMPP.xml("message", { to, type: "chat" }, XMPP.xml("body", {}, body)));
        },
        close: () => withTimeout(x.stop(), 3000, "xmpp.js stop").catch(() => {}),
      };
    },
  }),
};
