// One-to-one XMPP chat in the 2010 talk's callback style: new XmppClient(), onopen, onclose,
// onmessage(msg), onpresence(p), connect(url, domain). Log in (or register first), the roster
// with each contact's presence (show and status), your own status, and chat.
// Uses the XMPP-only entry (a smaller wasm than the combined one).
import { XmppClient } from "/dist/xmpp.js";
import { XMPP_URL, XMPP_DOMAIN, params, checkSupport, el, clock } from "../common.js";

const $ = (id) => document.getElementById(id);
const bare = (jid) => (jid ?? "").split("/")[0];
const resourceOf = (jid) => (jid ?? "").split("/").slice(1).join("/");

const SHOW_TEXT = { available: "available", chat: "free to chat", away: "away", xa: "extended away", dnd: "do not disturb", offline: "offline" };

let client = null;
let myJid = "";
let selected = null; // bare JID of the open conversation
const roster = new Map(); // bare JID → RosterItem
const presence = new Map(); // bare JID → Map(resource → { show, status, priority })
const chats = new Map(); // bare JID → [{ me, text, time }]
const unread = new Map(); // bare JID → count
const requests = new Set(); // bare JIDs asking to see our presence

function setStatus(text, kind = "") {
  $("status").textContent = text;
  $("status").className = `status ${kind}`;
}

// ---------------------------------------------------------------------------------- session

function logIn(event) {
  event.preventDefault();
  const url = $("url").value.trim();
  const domain = $("domain").value.trim();
  const username = $("username").value.trim();
  const password = $("password").value;
  const registerFirst = $("register").checked;
  $("login-button").disabled = true;
  setStatus(`connecting to ${url}…`);

  client = new XmppClient();
  // onopen fires twice here: with null when the stream is ready (no credentials were given
  // to connect), then with our full JID once logged in.
  client.onopen = async function (jid) {
    if (jid === null) {
      try {
        if (registerFirst) {
          setStatus(`creating ${username}@${domain}…`);
          await client.register(username, password);
        }
        setStatus("logging in…");
        await client.login(username, password);
      } catch (e) {
        setStatus(`${registerFirst ? "registration or login" : "login"} failed: ${e.condition ?? e.message}`, "bad");
        client.disconnect().catch(() => {});
      }
      return;
    }
    online(jid);
  };
  client.onclose = function (e) {
    const why = e.condition ? `: ${e.condition}${e.text ? ` (${e.text})` : ""}` : "";
    const failed = $("status").classList.contains("bad");
    if (!failed || why) setStatus(`disconnected${why}`, why ? "bad" : "");
    offline();
  };
  client.onerror = function (e) {
    setStatus(`error: ${e.condition}${e.text ? ` (${e.text})` : ""}`, "bad");
  };
  client.onmessage = onMessage;
  client.onpresence = onPresence;
  client.onroster = function (items) {
    for (const item of items) {
      if (item.subscription === "remove") roster.delete(item.jid);
      else roster.set(item.jid, item);
    }
    renderRoster();
  };
  client.connect(url, domain);
}

async function online(jid) {
  myJid = jid;
  setStatus("online", "ok");
  $("me").textContent = jid;
  $("login").classList.add("hidden");
  $("app").classList.remove("hidden");
  // RFC 6121 order: fetch the roster, then send initial presence (which brings the
  // contacts' presence in).
  try {
    for (const item of await client.getRoster()) roster.set(item.jid, item);
  } catch (e) {
    setStatus(`could not fetch the roster: ${e.condition ?? e.message}`, "bad");
  }
  renderRoster();
  sendStatus();
}

function offline() {
  client = null;
  myJid = "";
  selected = null;
  roster.clear();
  presence.clear();
  requests.clear();
  chats.clear();
  unread.clear();
  $("login-button").disabled = false;
  $("login").classList.remove("hidden");
  $("app").classList.add("hidden");
  renderRoster();
  renderRequests();
  renderChat();
}

function sendStatus(event) {
  event?.preventDefault();
  if (!client) return;
  client.setStatus($("show").value || null, $("status-text").value.trim() || null);
}

// ---------------------------------------------------------------------------------- presence

function onPresence(p) {
  const from = bare(p.from);
  if (!from || from === bare(myJid)) return; // our own presence, echoed back
  switch (p.type) {
    case null:
    case "unavailable": {
      const resources = presence.get(from) ?? new Map();
      if (p.type === "unavailable") resources.delete(resourceOf(p.from));
      else resources.set(resourceOf(p.from), { show: p.show, status: p.status, priority: p.priority ?? 0 });
      presence.set(from, resources);
      renderRoster();
      break;
    }
    case "subscribe":
      requests.add(from);
      renderRequests();
      break;
    case "subscribed":
      note(from, "accepted your request: you now see their presence");
      break;
    case "unsubscribed":
      note(from, "refused or withdrew your request");
      break;
    case "error":
      note(from, "presence error");
      break;
  }
}

/** The contact's best resource: highest priority, then the most available. */
function bestPresence(jid) {
  const rank = { chat: 0, available: 1, away: 2, xa: 3, dnd: 4 };
  let best = null;
  for (const r of presence.get(jid)?.values() ?? []) {
    const show = r.show ?? "available";
    if (!best || r.priority > best.priority || (r.priority === best.priority && rank[show] < rank[best.show])) {
      best = { show, status: r.status, priority: r.priority };
    }
  }
  return best ?? { show: "offline", status: null };
}

function accept(jid) {
  client.approve(jid);
  const item = roster.get(jid);
  // Ask for theirs in return, unless we already see it or asked.
  if (!item || (item.subscription !== "to" && item.subscription !== "both" && item.ask !== "subscribe")) {
    client.subscribe(jid);
  }
  requests.delete(jid);
  renderRequests();
}

function deny(jid) {
  client.deny(jid);
  requests.delete(jid);
  renderRequests();
}

async function addContact(event) {
  event.preventDefault();
  let jid = $("add-jid").value.trim();
  if (!jid.includes("@")) jid += `@${$("domain").value.trim()}`;
  try {
    await client.addContact(jid);
    client.subscribe(jid);
    $("add-jid").value = "";
  } catch (e) {
    setStatus(`could not add ${jid}: ${e.condition ?? e.message}`, "bad");
  }
}

// ---------------------------------------------------------------------------------- messages

function onMessage(msg) {
  const from = bare(msg.from);
  if (msg.type === "error") {
    note(from, "could not deliver a message");
    return;
  }
  if (msg.body === null) return; // typing notifications and other payloads
  record(from, { me: false, text: msg.body });
}

function record(jid, entry) {
  if (!chats.has(jid)) chats.set(jid, []);
  chats.get(jid).push({ ...entry, time: clock() });
  if (jid === selected) renderChat();
  else if (!entry.note && !entry.me) unread.set(jid, (unread.get(jid) ?? 0) + 1);
  renderRoster();
}

function note(jid, text) {
  record(jid, { note: true, text });
}

function sendChat(event) {
  event.preventDefault();
  const text = $("chat-input").value.trim();
  if (!text || !client || !selected) return;
  client.sendMessage(selected, text, { type: "chat" });
  $("chat-input").value = "";
  record(selected, { me: true, text });
}

function select(jid) {
  selected = jid;
  unread.delete(jid);
  renderRoster();
  renderChat();
  $("chat-input").focus();
}

// ---------------------------------------------------------------------------------- rendering

function renderRoster() {
  const list = $("roster");
  list.replaceChildren();
  const jids = new Set([...roster.keys(), ...chats.keys()]);
  if (jids.size === 0) list.append(el("li", { class: "empty" }, "No contacts yet: add one below."));
  for (const jid of [...jids].sort()) {
    const item = roster.get(jid);
    const p = bestPresence(jid);
    const sub = item?.subscription ?? "none";
    let detail = SHOW_TEXT[p.show] + (p.status ? ` — ${p.status}` : "");
    if (!item) detail = "not in your contacts";
    else if (sub === "none" || sub === "from") detail = item.ask === "subscribe" ? "waiting for approval" : "presence not shared";
    const n = unread.get(jid);
    const li = el(
      "li",
      { class: jid === selected ? "selected" : "", "data-jid": jid, "data-show": p.show, "data-subscription": sub, title: jid },
      el("span", { class: "dot" }),
      el("span", { class: "name" }, item?.name || jid),
      n ? el("span", { class: "unread" }, String(n)) : el("span"),
      el("span", { class: "presence" }, detail),
    );
    li.addEventListener("click", () => select(jid));
    list.append(li);
  }
}

function renderRequests() {
  const box = $("requests");
  const list = box.querySelector("ul");
  list.replaceChildren();
  for (const jid of requests) {
    const ok = el("button", { type: "button", className: "accept" }, "Accept");
    const no = el("button", { type: "button", className: "secondary deny" }, "Deny");
    ok.addEventListener("click", () => accept(jid));
    no.addEventListener("click", () => deny(jid));
    list.append(el("li", { "data-jid": jid }, el("span", {}, `${jid} wants to see your presence`), ok, no));
  }
  box.classList.toggle("hidden", requests.size === 0);
}

function renderChat() {
  $("chat-title").textContent = selected ? `Chat with ${selected}` : "Pick a contact to chat with";
  $("chat-input").disabled = $("chat-send").disabled = !selected;
  const log = $("chat-log");
  log.replaceChildren();
  for (const m of chats.get(selected) ?? []) {
    log.append(
      el(
        "li",
        { class: m.me ? "me" : "" },
        el("span", { class: "time" }, m.time),
        m.note ? null : el("span", { class: "who" }, m.me ? "me" : selected.split("@")[0]),
        el("span", { class: m.note ? "note" : "text" }, m.text),
      ),
    );
  }
  log.scrollTop = log.scrollHeight;
}

// ---------------------------------------------------------------------------------- start

if (checkSupport()) {
  $("url").value = XMPP_URL;
  $("domain").value = XMPP_DOMAIN;
  $("username").value = params.get("user") ?? "";
  $("login").addEventListener("submit", logIn);
  $("presence").addEventListener("submit", sendStatus);
  $("add").addEventListener("submit", addContact);
  $("chat").addEventListener("submit", sendChat);
  $("logout").addEventListener("click", () => client?.disconnect());
  renderRoster();
} else {
  $("login-button").disabled = true;
}
