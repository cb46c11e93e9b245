// Shared mode, tab side, XMPP: the proxy that `new XmppClient({ shared: true })` returns
// (see js/shared/tab.js for the port and op bookkeeping it uses).
import { call } from "../common.js";
import { clean, sharedProxy } from "./tab.js";

function xmppError(e) {
  const err = new Error((e && e.message) || "error");
  err.condition = (e && e.condition) ?? null;
  err.text = (e && e.text) ?? null;
  if (e && e.stanzas) err.stanzas = e.stanzas;
  return err;
}

const XMPP_ASYNC = [
  "register", "changePassword", "unregister", "getRoster", "addContact", "removeContact", "iq",
  "joinRoom", "leaveRoom", "discoInfo", "discoItems", "queryArchive", "enableCarbons", "disableCarbons",
];

class XmppProxy {
  constructor() {
    this._init();
    for (const h of ["open", "close", "message", "presence", "roster", "error", "reconnecting", "resumed", "occupant", "receipt", "chatstate"]) {
      this["on" + h] = null;
    }
    this.debug = null;
    this.username = null;
    this.password = null;
    this.resource = null;
    this._debugOption = null;
    this._jid = null;
    this._connected = false;
    this._ids = new Map(); // worker's message id → the id this proxy returned
    this._nextId = 0;
  }
  get jid() {
    return this._jid;
  }
  get connected() {
    return this._connected;
  }
  connect(url, domain, options) {
    const o = { ...(options || {}) };
    this._debugOption = typeof o.debug === "function" ? o.debug : null;
    o.username = o.username ?? this.username ?? undefined;
    o.password = o.password ?? this.password ?? undefined;
    o.resource = o.resource ?? this.resource ?? undefined;
    const opts = clean(o);
    delete opts.shared;
    this._join("xmpp", [String(url), String(domain), opts]);
  }
  _x(m, args, map) {
    return this._op(m, args, map, xmppError);
  }
  login(username, password, resource) {
    return this._x("login", [String(username), String(password), resource ?? undefined], (j) => (this._jid = j));
  }
  loginAnonymous() {
    return this._x("loginAnonymous", [], (j) => (this._jid = j));
  }
  disconnect() {
    return this._x("disconnect", [], () => undefined);
  }
  /** A stanza command: returns at once (an id where the ordinary client returns one). */
  _stanza(m, args, withId) {
    const local = withId ? `fd-${tabId}-${this._nextId++}` : undefined;
    this._x(m, args).then(
      (real) => {
        if (withId && typeof real === "string") this._ids.set(real, local);
      },
      (e) => call(this.onerror, this, Object.assign(xmppError(e), { condition: "not-sent" })),
    );
    return local;
  }
  sendMessage(to, body, options) {
    // The same rule as XmppClient: an id only when something refers to it.
    const o = options || {};
    const withId = !!(o.receipt || o.id || o.type === "groupchat");
    return this._stanza("sendMessage", [String(to), String(body), clean(options)], withId) ?? null;
  }
  sendChatState(to, state, type) {
    this._stanza("sendChatState", [String(to), String(state), type ?? undefined]);
    return null;
  }
  setRoomSubject(room, subject) {
    return this._stanza("setRoomSubject", [String(room), String(subject)], true);
  }
  setStatus(show, status, priority) {
    this._stanza("setStatus", [show ?? null, status ?? null, typeof priority === "number" ? priority : null]);
  }
  subscribe(jid) {
    this._stanza("subscribe", [String(jid)]);
  }
  approve(jid) {
    this._stanza("approve", [String(jid)]);
  }
  deny(jid) {
    this._stanza("deny", [String(jid)]);
  }
  unsubscribe(jid) {
    this._stanza("unsubscribe", [String(jid)]);
  }
  sendRaw(xml) {
    this._stanza("sendRaw", [String(xml)]);
  }
  _msg() {}
  _ev(name, a) {
    switch (name) {
      case "state":
        this._connected = !!a[0];
        this._jid = a[1] || null;
        return;
      case "error":
        call(this.onerror, this, xmppError(a[0]));
        return;
      case "receipt": {
        const local = this._ids.get(a[1]);
        call(this.onreceipt, this, a[0], local ?? a[1]);
        return;
      }
      case "close":
        this._joined = false;
        this._connected = false;
        call(this.onclose, this, a[0]);
        return;
      case "debug":
        call(this._debugOption || this.debug, this, a[0], a[1]);
        return;
      default:
        call(this["on" + name], this, ...a);
    }
  }
}
for (const m of XMPP_ASYNC) {
  XmppProxy.prototype[m] = function (...args) {
    return this._x(m, args.map((v) => (v && typeof v === "object" && !Array.isArray(v) ? clean(v) : v)));
  };
}

/** The shared-mode proxy for `new XmppClient({ shared: true })`, or null (see sharedProxy). */
export function sharedXmpp(cls) {
  return sharedProxy(XmppProxy, cls);
}
