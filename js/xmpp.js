// XmppClient: the talk's callback API (onopen, onclose, onmessage, onpresence,
// connect(url, domain)) plus Promises, over the wasm XmppCore. Types and docs: index.d.ts.
import { CoreHandle, call } from "./common.js";
import { sharedXmpp } from "./shared/tab-xmpp.js";

// Event kinds emitted by src/web/xmpp_client.rs.
const READY = 1, ONLINE = 2, MESSAGE = 3, PRESENCE = 4, ROSTER = 5, COMPLETED = 6;
const FAILED = 7, AUTH_FAILED = 8, STREAM_ERROR = 9, PROTOCOL_ERROR = 10, CLOSE = 11;
const DEBUG = 12, UNDELIVERED = 13, RECONNECT = 14, RESUMED = 15, UNACKED = 16, OCCUPANT = 17;
const RECEIPT = 18, CHATSTATE = 19, DISCO_INFO = 20, DISCO_ITEMS = 21, ARCHIVE = 22;
const RECONNECTING = 23, ROSTER_ALL = 24;
// XmppCore.ext command kinds (src/web/xmpp_client.rs X_*).
const X_JOIN = 1, X_LEAVE = 2, X_CARBONS_ON = 3, X_CARBONS_OFF = 4, X_DISCO_INFO = 5, X_DISCO_ITEMS = 6, X_ARCHIVE = 7;
// connect() flags (src/web/xmpp_client.rs F_*).
const F_ALLOW_PLAIN = 1, F_DEBUG = 2, F_NO_SM = 4, F_NO_RECEIPTS = 8, F_NO_RECONNECT = 16;

// The fields of a record from src/web/xmpp_client.rs `Record`: each ends in NUL; U+0001 is null.
function fields(record) {
  const a = record.split("\0");
  for (let i = 0; i < a.length; i++) if (a[i] === "\u0001") a[i] = null;
  return a;
}

// A message from its record, fields as src/web/xmpp_client.rs `message` lists them.
function message(record) {
  const f = fields(record);
  return {
    from: f[0], to: f[1], type: f[2], id: f[3], body: f[4], subject: f[5], thread: f[6], carbon: f[7],
    chatState: f[8], receiptRequested: f[9] !== null, delay: f[10], archiveId: f[11], xml: f[12],
  };
}

// A non-negative integer argument, else undefined.
function num(v) {
  return typeof v === "number" && v >= 0 ? Math.floor(v) : undefined;
}

function xmppError(condition, text, stanzas) {
  const e = new Error(text ? `${condition}: ${text}` : condition);
  e.condition = condition;
  e.text = text ?? null;
  if (stanzas) e.stanzas = stanzas;
  return e;
}

export class XmppClient {
  constructor(options) {
    // `{ shared: true }`: a proxy to the one session in the SharedWorker (js/shared/), if any.
    const shared = options && options.shared ? sharedXmpp(XmppClient) : null;
    if (shared) return shared;
    this.onopen = null;
    this.onclose = null;
    this.onmessage = null;
    this.onpresence = null;
    this.onroster = null;
    this.onerror = null;
    this.onreconnecting = null;
    this.onresumed = null;
    this.onoccupant = null;
    this.onreceipt = null;
    this.onchatstate = null;
    this.debug = null;
    this.username = null;
    this.password = null;
    this.resource = null;
    this._debugOption = null;
    this._ending = null; // condition/text of the error that ends the session
    this._h = new CoreHandle((w) => new w.XmppCore((...a) => this._event(...a)));
  }

  get jid() {
    return (this._h.core && this._h.core.jid()) || null;
  }

  get connected() {
    return this._h.core ? this._h.core.online() : false;
  }

  connect(url, domain, options) {
    const o = options || {};
    // One URL or a list: reconnections go through the list in turn.
    const urls = (Array.isArray(url) ? url : [url]).map(String);
    const delay = (v) => (typeof v === "number" && v >= 0 ? Math.min(Math.floor(v), 0xfffffffe) : 0xffffffff);
    const nums = new Uint32Array([o.reconnectDelay, o.maxReconnectDelay, o.maxReconnectAttempts].map(delay));
    this._debugOption = typeof o.debug === "function" ? o.debug : null;
    this._ending = null;
    const debug = !!(this._debugOption || this.debug);
    const username = o.username ?? this.username ?? undefined;
    const password = o.password ?? this.password ?? undefined;
    const resource = o.resource ?? this.resource ?? undefined;
    const timeout = typeof o.iqTimeout === "number" && o.iqTimeout >= 0 ? Math.floor(o.iqTimeout) : undefined;
    this._h.run((core) =>
      core.connect(
        urls.join("\n"),
        String(domain),
        username,
        password,
        resource,
        Array.isArray(o.mechanisms) ? o.mechanisms.join(",") : undefined,
        timeout,
        (o.allowPlainInsecure ? F_ALLOW_PLAIN : 0) |
          (debug ? F_DEBUG : 0) |
          (o.streamManagement === false ? F_NO_SM : 0) |
          (o.receipts === false ? F_NO_RECEIPTS : 0) |
          (o.reconnect === false ? F_NO_RECONNECT : 0),
        nums,
      ),
    );
  }

  _op(fn, map) {
    return this._h.op(fn, map);
  }

  login(username, password, resource) {
    return this._op((c) => c.login(String(username), String(password), resource ?? undefined), () => this.jid);
  }
  loginAnonymous() {
    return this._op((c) => c.loginAnonymous(), () => this.jid);
  }
  register(username, password) {
    return this._op((c) => c.register(String(username), String(password)), () => undefined);
  }
  changePassword(password) {
    return this._op((c) => c.changePassword(String(password)), () => undefined);
  }
  unregister() {
    return this._op((c) => c.unregister(), () => undefined);
  }
  getRoster() {
    return this._op((c) => c.getRoster(), (r) => r.roster || []);
  }
  addContact(jid, name, groups) {
    return this._op(
      (c) => c.addContact(String(jid), name ?? undefined, (groups || []).map(String)),
      () => undefined,
    );
  }
  removeContact(jid) {
    return this._op((c) => c.removeContact(String(jid)), () => undefined);
  }
  iq(type, to, payloadXml) {
    return this._op((c) => c.iq(String(type), to ?? undefined, String(payloadXml)), (r) => r.xml);
  }
  disconnect() {
    return this._op((c) => c.disconnect(), () => undefined);
  }
  // Extension commands: one wasm export, `ext(kind, a, b, c, d, e, f, n, m)`.
  _ext(kind, args, n, m, map) {
    const s = (v) => (v == null ? undefined : String(v));
    const [a, b, c, d, e, f] = args.map(s);
    return this._op((core) => core.ext(kind, a, b, c, d, e, f, num(n), num(m)), map);
  }
  joinRoom(room, nick, options) {
    const o = options || {};
    return this._ext(X_JOIN, [room, nick, o.password, o.since], o.maxStanzas, o.seconds, () => undefined);
  }
  leaveRoom(room, status) {
    return this._ext(X_LEAVE, [room, status], undefined, undefined, () => undefined);
  }
  discoInfo(jid, node) {
    return this._ext(X_DISCO_INFO, [jid, node]);
  }
  discoItems(jid, node) {
    return this._ext(X_DISCO_ITEMS, [jid, node]);
  }
  queryArchive(options) {
    const o = options || {};
    const before = o.before === true ? "" : o.before;
    return this._ext(X_ARCHIVE, [o.archive, o.with, o.start, o.end, before, o.after], o.max);
  }
  enableCarbons() {
    return this._ext(X_CARBONS_ON, [], undefined, undefined, () => undefined);
  }
  disableCarbons() {
    return this._ext(X_CARBONS_OFF, [], undefined, undefined, () => undefined);
  }

  // Stanza commands: sent now, or queued until online; they throw if neither is possible.
  _stanza(fn) {
    if (this._h.core) return fn(this._h.core);
    this._h.ready.then(() => {
      try {
        fn(this._h.core);
      } catch (e) {
        call(this.onerror, this, xmppError("not-sent", e.message));
      }
    });
    return undefined;
  }
  sendMessage(to, body, options) {
    const o = options || {};
    return this._stanza((c) =>
      c.sendMessage(
        String(to),
        String(body),
        o.type ?? undefined,
        o.subject ?? undefined,
        o.thread ?? undefined,
        (o.receipt ? 1 : 0) | (o.id ? 2 : 0),
        o.chatState ?? undefined,
      ),
    ) ?? null;
  }
  sendChatState(to, state, type) {
    return this._stanza((c) =>
      c.sendMessage(String(to), undefined, type ?? "chat", undefined, undefined, 0, String(state)),
    ) ?? null;
  }
  setStatus(show, status, priority) {
    this._stanza((c) =>
      c.setStatus(show ?? undefined, status ?? undefined, typeof priority === "number" ? priority : undefined),
    );
  }
  subscribe(jid) {
    this._stanza((c) => c.presence("subscribe", String(jid)));
  }
  approve(jid) {
    this._stanza((c) => c.presence("approve", String(jid)));
  }
  deny(jid) {
    this._stanza((c) => c.presence("deny", String(jid)));
  }
  unsubscribe(jid) {
    this._stanza((c) => c.presence("unsubscribe", String(jid)));
  }
  sendRaw(xml) {
    this._stanza((c) => c.sendRaw(String(xml)));
  }
  setRoomSubject(room, subject) {
    return this._stanza((c) =>
      c.sendMessage(String(room), undefined, "groupchat", String(subject), undefined, 0, undefined),
    ) ?? null;
  }

  _event(kind, a, b, c, d, e, f, g, h, i, j, k, l) {
    switch (kind) {
      case READY:
        call(this.onopen, this, null);
        break;
      case ONLINE:
        // After an automatic reconnection `a` is a fresh session's JID; the client has
        // already restored presence, carbons, roster and rooms.
        this._ending = null;
        call(this.onopen, this, a, { reconnected: !!b });
        break;
      case MESSAGE:
        call(this.onmessage, this, message(a));
        break;
      case DISCO_INFO:
        this._h.settle(a, true, {
          identities: b.map(([category, type, name]) => ({ category, type, name })),
          features: c,
        });
        break;
      case DISCO_ITEMS:
        this._h.settle(a, true, b.map(([jid, node, name]) => ({ jid, node, name })));
        break;
      case ARCHIVE:
        this._h.settle(a, true, { messages: b.map(message), complete: c, first: d, last: e, count: f });
        break;
      case RECEIPT:
        call(this.onreceipt, this, a, b);
        break;
      case CHATSTATE:
        call(this.onchatstate, this, a, b);
        break;
      case PRESENCE: {
        const f = fields(a);
        call(this.onpresence, this, { from: f[0], to: f[1], type: f[2], show: f[3], status: f[4], priority: b, xml: f[5] });
        break;
      }
      case ROSTER:
        call(this.onroster, this, a, { reloaded: false });
        break;
      case ROSTER_ALL:
        // The whole roster again, fetched by the client after a reconnection.
        call(this.onroster, this, a, { reloaded: true });
        break;
      case OCCUPANT:
        call(this.onoccupant, this, {
          room: a, nick: b, jid: c, role: d, affiliation: e, type: f, show: g, status: h,
          codes: i, self: j, newNick: k, xml: l,
        });
        break;
      case COMPLETED:
        this._h.settle(a, true, { roster: b, xml: c });
        break;
      case FAILED:
        this._h.settle(a, false, xmppError(b, c));
        break;
      case AUTH_FAILED:
      case STREAM_ERROR:
        this._ending = { condition: a, text: b ?? null };
        call(this.onerror, this, xmppError(a, b));
        break;
      case PROTOCOL_ERROR:
        this._ending = { condition: "protocol-error", text: a };
        call(this.onerror, this, xmppError("protocol-error", a));
        break;
      case UNDELIVERED:
        call(this.onerror, this, xmppError("undelivered", `${a.length} stanza(s) were not sent`, a));
        break;
      case UNACKED:
        call(this.onerror, this, xmppError("unacknowledged", `${a.length} stanza(s) may not have arrived`, a));
        break;
      case RECONNECT:
        call(this.onreconnecting, this, { attempt: a, delay: 0, url: null, code: null, reason: null, wasClean: null });
        break;
      case RECONNECTING:
        call(this.onreconnecting, this, { attempt: a, delay: b, url: c, code: d, reason: e, wasClean: f });
        break;
      case RESUMED:
        call(this.onresumed, this);
        break;
      case CLOSE: {
        const end = this._ending || { condition: null, text: null };
        call(this.onclose, this, { code: a, reason: b, wasClean: c, condition: end.condition, text: end.text });
        break;
      }
      case DEBUG:
        call(this._debugOption || this.debug, this, a, b);
        break;
    }
  }
}
