// XmppClient: the talk's callback API (onopen, onclose, onmessage, onpresence,
// connect(url, domain)) plus Promises, over the wasm XmppCore. Types and docs: index.d.ts.
import { CoreHandle, call } from "./common.js";

// Event kinds emitted by src/web/xmpp_client.rs.
const READY = 1, ONLINE = 2, MESSAGE = 3, PRESENCE = 4, ROSTER = 5, COMPLETED = 6;
const FAILED = 7, AUTH_FAILED = 8, STREAM_ERROR = 9, PROTOCOL_ERROR = 10, CLOSE = 11;
const DEBUG = 12, UNDELIVERED = 13;

function xmppError(condition, text) {
  const e = new Error(text ? `${condition}: ${text}` : condition);
  e.condition = condition;
  e.text = text ?? null;
  return e;
}

export class XmppClient {
  constructor() {
    this.onopen = null;
    this.onclose = null;
    this.onmessage = null;
    this.onpresence = null;
    this.onroster = null;
    this.onerror = null;
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
    this._debugOption = typeof o.debug === "function" ? o.debug : null;
    this._ending = null;
    const debug = !!(this._debugOption || this.debug);
    const username = o.username ?? this.username ?? undefined;
    const password = o.password ?? this.password ?? undefined;
    const resource = o.resource ?? this.resource ?? undefined;
    const timeout = typeof o.iqTimeout === "number" && o.iqTimeout >= 0 ? Math.floor(o.iqTimeout) : undefined;
    this._h.run((core) =>
      core.connect(
        String(url),
        String(domain),
        username,
        password,
        resource,
        Array.isArray(o.mechanisms) ? o.mechanisms.join(",") : undefined,
        !!o.allowPlainInsecure,
        timeout,
        debug,
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
      c.sendMessage(String(to), String(body), o.type ?? undefined, o.subject ?? undefined, o.thread ?? undefined),
    );
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

  _event(kind, a, b, c, d, e, f, g, h) {
    switch (kind) {
      case READY:
        call(this.onopen, this, null);
        break;
      case ONLINE:
        call(this.onopen, this, a);
        break;
      case MESSAGE:
        call(this.onmessage, this, { from: a, to: b, type: c, id: d, body: e, subject: f, thread: g, xml: h });
        break;
      case PRESENCE:
        call(this.onpresence, this, { from: a, to: b, type: c, show: d, status: e, priority: f, xml: g });
        break;
      case ROSTER:
        call(this.onroster, this, a);
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
        call(this.onerror, this, Object.assign(xmppError("undelivered", `${a.length} stanza(s) were not sent`), { stanzas: a }));
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
