// A chat room over a RabbitMQ topic, in the 2010 talk's callback style: new StompClient(),
// onopen / onmessage, connect(url), subscribe(destination), send(body, destination).
// Uses the STOMP-only entry (a smaller wasm than the combined one).
import { StompClient } from "/dist/stomp.js";
import { STOMP_URL, params, checkSupport, el, clock } from "../common.js";

const $ = (id) => document.getElementById(id);
let myStomp = null;
let nick = "";
let destination = "";

function setStatus(text, kind = "") {
  $("status").textContent = text;
  $("status").className = `status ${kind}`;
}

function show(who, text, { me = false, note = false } = {}) {
  const line = el(
    "li",
    { class: me ? "me" : "" },
    el("span", { class: "time" }, clock()),
    who ? el("span", { class: "who" }, who) : null,
    el("span", { class: note ? "note" : "text" }, text),
  );
  $("log").append(line);
  $("log").scrollTop = $("log").scrollHeight;
}

function join(event) {
  event.preventDefault();
  nick = $("nick").value.trim();
  destination = `/topic/chat.${$("room").value}`;
  $("join-button").disabled = true;
  setStatus(`connecting to ${STOMP_URL}…`);

  // The talk's code, with a chat room around it.
  myStomp = new StompClient();
  myStomp.onopen = function (headers, info) {
    setStatus(`connected as ${nick} to ${destination} (STOMP ${headers.version ?? "1.0"}, ${headers.server ?? "broker"})`, "ok");
    // After an automatic reconnect the client has restored the subscription already.
    if (info && info.reconnected) return;
    myStomp.subscribe(destination);
    myStomp.send("joined the room", destination, { nick, kind: "join" }).catch(() => {});
    $("chat").classList.remove("hidden");
    $("join").classList.add("hidden");
    $("message").focus();
  };
  myStomp.onmessage = function (headers, body) {
    const who = headers.nick || "someone";
    if (headers.kind === "join" || headers.kind === "leave") show(who, body, { note: true });
    else show(who, body, { me: who === nick });
  };
  myStomp.onerror = function (headers, body) {
    setStatus(`broker error: ${headers.message ?? ""} ${body}`.trim(), "bad");
  };
  myStomp.onreconnecting = function (info) {
    setStatus(`connection lost (code ${info.code}), reconnecting (attempt ${info.attempt})…`, "bad");
  };
  myStomp.onclose = function (e) {
    setStatus(`disconnected (code ${e.code}${e.reason ? `, ${e.reason}` : ""})`, e.code === 1000 ? "" : "bad");
    $("join").classList.remove("hidden");
    $("chat").classList.add("hidden");
    $("join-button").disabled = false;
  };
  myStomp.connect(STOMP_URL);
}

function say(event) {
  event.preventDefault();
  const text = $("message").value.trim();
  if (!text || !myStomp) return;
  myStomp.send(text, destination, { nick }).catch((e) => setStatus(`not sent: ${e.message}`, "bad"));
  $("message").value = "";
}

async function leave() {
  if (!myStomp) return;
  const client = myStomp;
  myStomp = null;
  await client.send("left the room", destination, { nick, kind: "leave" }).catch(() => {});
  await client.disconnect().catch(() => {});
}

if (checkSupport()) {
  $("nick").value = params.get("nick") ?? `guest-${Math.floor(1000 + Math.random() * 9000)}`;
  if (params.get("room")) $("room").value = params.get("room");
  $("join").addEventListener("submit", join);
  $("say").addEventListener("submit", say);
  $("leave").addEventListener("click", leave);
  addEventListener("pagehide", () => {
    if (myStomp) myStomp.send("left the room", destination, { nick, kind: "leave" }).catch(() => {});
  });
} else {
  $("join-button").disabled = true;
}
