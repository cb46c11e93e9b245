// Shared mode, worker side: runs inside one SharedWorker per origin and owns the real
// sessions. Each tab's StompClient / XmppClient built with `{ shared: true }` is a proxy
// (js/shared/tab.js) talking to this over a MessagePort; here the ordinary classes of
// js/stomp.js and js/xmpp.js (the same wasm core) run once per distinct set of connect
// parameters, and their events are fanned out to every tab attached to them.
//
// STOMP rules: auto-ack subscriptions with the same destination and headers become one broker
// subscription, reference-counted across tabs; client / client-individual subscriptions are
// never merged (each gets its own broker subscription), so an ack always belongs to the one
// tab that received the message. Sends go out once. A tab that leaves (pagehide, disconnect,
// or dies: its Web Lock is released) gives back its subscriptions (its unacknowledged messages
// are requeued by the broker when the connection closes), and when no tab is left the
// connection closes after a short grace period. XMPP: one session per account (URL, domain, username, password,
// resource); every tab sees every stanza; identical presence is sent once.
import { StompClient } from "../stomp.js";
import { XmppClient } from "../xmpp.js";
import { loadedModule } from "../loader.js";

/** How long a connection no tab uses stays open (a reload comes back within it). */
const GRACE_MS = 2000;

const conns = new Map(); // key → StompConn | XmppConn
const tabs = new Set();

/** Sorted-key JSON, so option objects written in another order still match. */
function stable(v) {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return "[" + v.map(stable).join(",") + "]";
  return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + stable(v[k])).join(",") + "}";
}

const errorOut = (e) =>
  e && typeof e === "object"
    ? { message: String(e.message ?? e), condition: e.condition, text: e.text, stanzas: e.stanzas }
    : { message: String(e) };

/** One tab: its port and its attached clients (client id → Attach). */
class Tab {
  constructor(port) {
    this.port = port;
    this.clients = new Map();
    this.gone = false;
  }
  post(m) {
    if (this.gone) return;
    try {
      this.port.postMessage(m);
    } catch {
      // An uncloneable value: never let one tab's message stop the fan-out.
    }
  }
  leave() {
    if (this.gone) return;
    for (const a of this.clients.values()) a.conn.detach(a, false);
    this.clients.clear();
    this.gone = true;
    tabs.delete(this);
    try {
      this.port.close();
    } catch {
      // already closed
    }
  }
}

/** One proxy client of one tab attached to one connection. */
class Attach {
  constructor(tab, c, conn, debug) {
    this.tab = tab;
    this.c = c;
    this.conn = conn;
    this.debug = debug;
    this.subs = new Map(); // local subscription id → entry
    this.acks = new Map(); // ack key → Message (STOMP)
    this.txs = new Map(); // local tx id → transaction (STOMP)
  }
  ev(name, args) {
    this.tab.post({ t: "ev", c: this.c, name, args });
  }
}

class Conn {
  constructor(key) {
    this.key = key;
    this.members = new Set();
    this.timer = null;
    this.over = false;
  }
  fan(name, args) {
    for (const a of this.members) a.ev(name, args);
  }
  debugFan(dir, text) {
    for (const a of this.members) if (a.debug) a.ev("debug", [dir, text]);
  }
  attach(a) {
    clearTimeout(this.timer);
    this.timer = null;
    this.members.add(a);
  }
  /** Drops a member; with `now` (an explicit disconnect) the last one closes at once. */
  detach(a, now) {
    if (!this.members.delete(a)) return Promise.resolve();
    this.release(a);
    if (this.members.size || this.over) return Promise.resolve();
    if (now) return this.end();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.members.size) this.end().catch(() => {});
    }, GRACE_MS);
    return Promise.resolve();
  }
  end() {
    this.over = true;
    conns.delete(this.key);
    return this.client.disconnect();
  }
  closed(event) {
    this.over = true;
    if (conns.get(this.key) === this) conns.delete(this.key);
    for (const a of this.members) {
      a.tab.clients.delete(a.c);
      a.ev("state", [false, null]);
      a.ev("close", [event]);
    }
    this.members.clear();
  }
}

class StompConn extends Conn {
  constructor(key, urls, options, debug) {
    super(key);
    this.merged = new Map(); // destination + headers → { sub, members: Map<Attach, Set<id>>, receipt }
    this.nextAck = 0;
    this.openHeaders = null;
    const c = (this.client = new StompClient());
    c.onopen = (h, info) => {
      this.openHeaders = h;
      for (const a of this.members) {
        a.ev("state", [true, c.version]);
        a.ev("open", [h, info]);
      }
    };
    c.onerror = (h, body) => this.fan("error", [h, body]);
    c.onreceipt = (h) => this.fan("receipt", [h]);
    c.onreconnecting = (info) => {
      this.openHeaders = null;
      for (const a of this.members) {
        a.ev("state", [false, null]);
        a.ev("reconnecting", [info]);
      }
    };
    c.onclose = (e) => this.closed({ code: e.code, reason: e.reason, wasClean: e.wasClean });
    if (debug) c.debug = (dir, text) => this.debugFan(dir, text);
    c.connect(urls, options);
  }

  join(a) {
    this.attach(a);
    if (this.openHeaders && this.client.connected) {
      a.ev("state", [true, this.client.version]);
      a.ev("open", [this.openHeaders, { reconnected: false }]);
    }
  }

  deliver(a, id, headers, msg, token) {
    // binaryBody may be a view of the whole WebSocket message: send only the body's bytes.
    a.tab.post({ t: "msg", c: a.c, s: id, h: { ...headers, subscription: id }, b: msg.binaryBody.slice(), k: token });
  }

  subscribe(a, id, destination, headers) {
    const h = { ...(headers || {}) };
    delete h.id;
    const ack = h.ack ? String(h.ack) : "auto";
    if (ack !== "auto") {
      const entry = { own: true, sub: null };
      entry.sub = this.client.subscribe(
        destination,
        (hs, _body, msg) => {
          // In flight when its tab left: the broker requeues it when the connection closes.
          if (!this.members.has(a)) return;
          const k = String(this.nextAck++);
          a.acks.set(k, msg);
          this.deliver(a, id, hs, msg, k);
        },
        h,
      );
      a.subs.set(id, entry);
      return entry.sub.receipt;
    }
    const plain = { ...h };
    delete plain.receipt;
    const mk = destination + "\0" + stable(plain);
    let entry = this.merged.get(mk);
    if (!entry) {
      entry = { own: false, mk, members: new Map(), sub: null, receipt: null };
      const members = entry.members;
      entry.sub = this.client.subscribe(
        destination,
        (hs, _body, msg) => {
          const b = msg.binaryBody.slice();
          for (const [m, ids] of members) {
            for (const s of ids) m.tab.post({ t: "msg", c: m.c, s, h: { ...hs, subscription: s }, b, k: null });
          }
        },
        h,
      );
      entry.receipt = entry.sub.receipt;
      this.merged.set(mk, entry);
    }
    let ids = entry.members.get(a);
    if (!ids) entry.members.set(a, (ids = new Set()));
    ids.add(id);
    a.subs.set(id, entry);
    return entry.receipt;
  }

  unsubscribe(a, id, opts) {
    const entry = a.subs.get(id);
    if (!entry) return Promise.resolve();
    a.subs.delete(id);
    if (entry.own) return entry.sub.unsubscribe(opts);
    const ids = entry.members.get(a);
    if (ids) {
      ids.delete(id);
      if (!ids.size) entry.members.delete(a);
    }
    if (entry.members.size) return Promise.resolve();
    this.merged.delete(entry.mk);
    return entry.sub.unsubscribe(opts);
  }

  release(a) {
    // Its subscriptions go back; what it received but never acknowledged stays unacknowledged
    // until the connection closes, when the broker requeues it. (A NACK here would requeue it
    // straight back to the subscription being cancelled, and RabbitMQ answers a delivery that
    // meets the UNSUBSCRIBE with ERROR "Subscription not found", closing the connection for
    // every tab.)
    a.acks.clear();
    for (const tx of a.txs.values()) tx.abort().catch(() => {});
    a.txs.clear();
    for (const id of [...a.subs.keys()]) this.unsubscribe(a, id).catch(() => {});
  }

  op(a, m, args) {
    const c = this.client;
    switch (m) {
      case "subscribe":
        return this.subscribe(a, args[0], args[1], args[2]);
      case "unsubscribe":
        return this.unsubscribe(a, args[0], args[1]);
      case "send": {
        const [body, dest, headers, tx] = args;
        if (tx != null) {
          const t = a.txs.get(tx);
          return t ? t.send(body, dest, headers) : Promise.reject(new Error("no such transaction"));
        }
        return c.send(body, dest, headers);
      }
      case "ack":
      case "nack": {
        const [k, headers, tx] = args;
        const msg = a.acks.get(k);
        if (!msg) return Promise.reject(new Error("this message needs no acknowledgement"));
        a.acks.delete(k);
        const t = tx != null ? a.txs.get(tx) : null;
        if (tx != null && !t) return Promise.reject(new Error("no such transaction"));
        if (t) return m === "ack" ? t.ack(msg, headers) : t.nack(msg, headers);
        return m === "ack" ? msg.ack(headers) : msg.nack(headers);
      }
      case "begin":
        a.txs.set(args[0], c.begin());
        return Promise.resolve();
      case "commit":
      case "abort": {
        const t = a.txs.get(args[0]);
        a.txs.delete(args[0]);
        return t ? t[m]() : Promise.reject(new Error("no such transaction"));
      }
    }
    return Promise.reject(new Error("unknown operation"));
  }
}

// XMPP methods forwarded as they are; their Promise's value goes back to the tab.
const XMPP_ASYNC = new Set([
  "register", "changePassword", "unregister", "getRoster", "addContact", "removeContact", "iq",
  "joinRoom", "leaveRoom", "discoInfo", "discoItems", "queryArchive", "enableCarbons", "disableCarbons",
]);
// Stanza methods: synchronous, may return a message id.
const XMPP_SYNC = new Set([
  "sendMessage", "sendChatState", "setRoomSubject", "subscribe", "approve", "deny", "unsubscribe", "sendRaw",
]);

class XmppConn extends Conn {
  constructor(key, url, domain, options, debug) {
    super(key);
    this.jid = undefined; // undefined: not open; null: stream ready; string: online
    this.status = null; // the last presence sent, to send an identical one once
    const c = (this.client = new XmppClient());
    c.onopen = (jid) => {
      this.jid = jid;
      for (const a of this.members) {
        a.ev("state", [true, jid]);
        a.ev("open", [jid]);
      }
    };
    for (const name of ["message", "presence", "roster", "occupant", "receipt", "chatstate", "resumed"]) {
      c["on" + name] = (...args) => this.fan(name, args);
    }
    c.onreconnecting = (n) => {
      for (const a of this.members) {
        a.ev("state", [false, c.jid]);
        a.ev("reconnecting", [n]);
      }
    };
    c.onerror = (e) => this.fan("error", [errorOut(e)]);
    c.onclose = (e) => this.closed({ ...e });
    if (debug) c.debug = (dir, text) => this.debugFan(dir, text);
    c.connect(url, domain, options);
  }

  join(a) {
    this.attach(a);
    if (this.jid !== undefined) {
      a.ev("state", [this.client.connected, this.client.jid]);
      a.ev("open", [this.jid]);
    }
  }

  release() {}

  op(a, m, args) {
    const c = this.client;
    if (m === "login" || m === "loginAnonymous") {
      // One session per account: a tab logging in to a session already online shares it.
      if (c.jid && c.connected) return Promise.resolve(c.jid);
      return c[m](...args);
    }
    if (m === "setStatus") {
      const s = stable(args);
      if (s === this.status) return Promise.resolve();
      this.status = s;
      c.setStatus(...args);
      return Promise.resolve();
    }
    if (XMPP_ASYNC.has(m)) return c[m](...args);
    if (XMPP_SYNC.has(m)) {
      try {
        return Promise.resolve(c[m](...args));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return Promise.reject(new Error("unknown operation"));
  }
}

function onConnect(tab, msg) {
  const { c, kind, args, debug } = msg;
  const old = tab.clients.get(c);
  if (old) old.conn.detach(old, false);
  let key, make;
  if (kind === "stomp") {
    const [urls, options] = args;
    key = "stomp " + stable([urls, options]);
    make = () => new StompConn(key, urls, options, debug);
  } else {
    const [url, domain, options] = args;
    key = "xmpp " + stable([url, domain, options]);
    make = () => new XmppConn(key, url, domain, options, debug);
  }
  let conn = conns.get(key);
  if (!conn || conn.over) {
    conn = make();
    if (!conn.over) conns.set(key, conn);
  }
  const a = new Attach(tab, c, conn, debug);
  tab.clients.set(c, a);
  conn.join(a);
}

function onMessage(tab, msg) {
  if (!msg || typeof msg !== "object") return;
  switch (msg.t) {
    case "hello":
      // The tab holds this lock for its whole life: ours is granted when the tab is gone,
      // closed or crashed alike.
      if (typeof navigator !== "undefined" && navigator.locks && msg.lock) {
        navigator.locks.request(msg.lock, () => tab.leave()).catch(() => {});
      }
      break;
    case "bye":
      tab.leave();
      break;
    case "connect":
      onConnect(tab, msg);
      break;
    case "op": {
      const a = tab.clients.get(msg.c);
      const reply = (ok, v) => tab.post({ t: "done", c: msg.c, op: msg.op, ok, v });
      if (msg.m === "disconnect") {
        if (!a) return reply(true);
        tab.clients.delete(msg.c);
        a.conn.detach(a, true).then(
          () => {
            reply(true);
            a.ev("state", [false, null]);
            a.ev("close", [a.conn.kind === "xmpp" ? { code: 1000, reason: "", wasClean: true, condition: null, text: null } : { code: 1000, reason: "", wasClean: true }]);
          },
          (e) => reply(false, errorOut(e)),
        );
        return;
      }
      if (!a) return reply(false, { message: "not connected" });
      let p;
      try {
        p = a.conn.op(a, msg.m, msg.args || []);
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (v) => reply(true, v),
        (e) => reply(false, errorOut(e)),
      );
      break;
    }
  }
}

XmppConn.prototype.kind = "xmpp";
StompConn.prototype.kind = "stomp";

/** Installs the SharedWorker `connect` handler. */
export function startSharedWorker(scope = globalThis) {
  scope.onconnect = (e) => {
    const port = e.ports[0];
    const tab = new Tab(port);
    tabs.add(tab);
    port.onmessage = (ev) => onMessage(tab, ev.data);
    // Chromium 122+: fired when the other side's document goes away.
    port.addEventListener("close", () => tab.leave());
    port.start();
  };
  // Test and bench hook (CDP Runtime.evaluate in the worker), left out of the typings.
  scope.__fullduplexShared = sharedStats;
}

/** Test hook: live connections and tabs, and the wasm side's resources. */
export function sharedStats() {
  const w = loadedModule();
  return { connections: conns.size, tabs: tabs.size, wasm: w ? w.__stats() : null };
}
