// A price ticker over STOMP with binary payloads: a publisher sends quotes (integers packed in
// a Uint8Array, see packing.js) at a high rate; the subscriber counts them and renders the
// table and the rate a few times a second, never once per message.
//
// Query string: ?rate=500|2000|5000|20000|max  ?packing=raw|7bit  ?publisher=page|off
//               ?topic=/topic/ticker  ?stomp=ws://… (the broker's web-STOMP endpoint)
import { StompClient } from "/dist/stomp.js";
import { STOMP_URL, params, checkSupport, el } from "../common.js";
import { SYMBOLS, encode, decode, ageMs, makeMarket } from "./packing.js";

const $ = (id) => document.getElementById(id);
const topic = params.get("topic") ?? "/topic/ticker";
const packing = params.get("packing") === "7bit" ? "7bit" : "raw";
const publishHere = params.get("publisher") !== "off";

// Counters, read by the render loop.
let received = 0;
let undecodable = 0;
let sent = 0;
let latencySum = 0;
let latencyN = 0;
const rows = SYMBOLS.map((name) => ({ name, price: 0, first: 0, quotes: 0, tr: null }));
const history = []; // messages per second, one entry per second
const buckets = []; // [time, received] samples for the rate over the last second

function setStatus(id, text, kind = "") {
  $(id).textContent = text;
  $(id).className = `status ${kind}`;
}

// ---------------------------------------------------------------------------------- subscriber

function subscribe() {
  const sub = new StompClient();
  sub.onopen = function (headers, info) {
    setStatus("status", "connected", "ok");
    // After an automatic reconnect the client has restored the subscription (and repeating
    // subscribe() here would be recognised as the same one); the publisher is running.
    if (info && info.reconnected) return;
    sub.subscribe(topic, function (headers, body, message) {
      const q = decode(message.binaryBody);
      if (!q || q.symbol >= rows.length) {
        undecodable++;
        return;
      }
      received++;
      const row = rows[q.symbol];
      if (row.quotes === 0) row.first = q.price;
      row.price = q.price;
      row.quotes++;
      if ((received & 63) === 0) {
        latencySum += ageMs(q.time);
        latencyN++;
      }
    });
    if (publishHere) publisher.start();
  };
  sub.onerror = function (headers, body) {
    setStatus("status", `broker error: ${headers.message ?? ""} ${body}`.trim(), "bad");
  };
  // A drop shows as onreconnecting while the client retries (clients that reconnect), and as
  // onclose (code 1006) once it gives up.
  sub.onreconnecting = function (info) {
    setStatus("status", `connection lost (code ${info.code}), reconnecting (attempt ${info.attempt})…`, "bad");
    explainDrop();
  };
  sub.onclose = function (e) {
    setStatus("status", `closed (code ${e.code}${e.reason ? `, ${e.reason}` : ""})`, "bad");
    publisher.stop();
    if (e.code === 1006) explainDrop();
  };
  sub.connect(STOMP_URL);
}

/** The likely cause of a drop when raw binary quotes meet a broker that sends text frames. */
function explainDrop() {
  if (packing !== "raw") return;
  $("hint").textContent =
    "The connection dropped. If the broker sends text WebSocket frames (RabbitMQ's default, " +
    "web_stomp.ws_frame = text), a binary body that is not UTF-8 makes the browser close the " +
    "socket: set web_stomp.ws_frame = binary (npm run demo does), or open this page with ?packing=7bit.";
  $("hint").classList.remove("hidden");
}

// ---------------------------------------------------------------------------------- publisher

const publisher = {
  client: null,
  timer: null,
  running: false,

  start() {
    if (this.running) return;
    this.running = true;
    $("toggle").textContent = "Stop publisher";
    const market = makeMarket();
    const client = (this.client = new StompClient());
    let inFlight = null; // the last send's Promise: wait for it before the next batch
    let failed = 0;
    const dropped = (e) => {
      if (failed++ === 0 && this.running) setStatus("pub-status", `stopped: ${e.message}`, "bad");
    };
    let credit = 0;
    let last = performance.now();
    const tick = () => {
      if (!this.running) return;
      const rateValue = $("rate").value;
      const now = performance.now();
      let n;
      if (rateValue === "max") {
        n = 500;
      } else {
        credit = Math.min(credit + ((now - last) * Number(rateValue)) / 1000, Number(rateValue) / 5);
        n = Math.floor(credit);
        credit -= n;
      }
      last = now;
      const time = Date.now() >>> 0;
      for (let i = 0; i < n; i++) {
        const [s, price, seq] = market.next();
        // Each send's Promise settles when its frame is written (or the session ends first).
        inFlight = client.send(encode(s, price, seq, time, packing), topic).catch(dropped);
      }
      sent += n;
      const next = () => (this.timer = setTimeout(tick, rateValue === "max" ? 0 : 10));
      // Wait for the batch to be written before making the next one: no unbounded queue.
      if (inFlight) inFlight.then(() => failed === 0 && next());
      else next();
      inFlight = null;
    };
    client.onopen = (headers, info) => {
      setStatus("pub-status", "publishing", "ok");
      if (!(info && info.reconnected)) tick(); // after a reconnect the loop is still running
    };
    client.onreconnecting = () => setStatus("pub-status", "reconnecting…", "bad");
    client.onclose = (e) => {
      if (this.running) setStatus("pub-status", `closed (code ${e.code})`, "bad");
    };
    // No heart-beats on the publishing connection: RabbitMQ 3.10's web-STOMP kills a
    // connection that has heart-beats when flow control throttles it (its heart-beat monitor
    // crashes on "resume"; the page sees code 1006). A busy publisher needs no heart-beats.
    client.connect(STOMP_URL, { heartbeatOutgoing: 0, heartbeatIncoming: 0 });
  },

  stop() {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.timer);
    $("toggle").textContent = "Start publisher";
    setStatus("pub-status", "off");
    const client = this.client;
    this.client = null;
    client?.disconnect().catch(() => {});
  },
};

// ---------------------------------------------------------------------------------- rendering

function buildTable() {
  for (const row of rows) {
    row.cells = [el("td", {}, row.name), el("td"), el("td"), el("td")];
    row.tr = el("tr", {}, ...row.cells);
    $("quotes").append(row.tr);
  }
}

const money = (cents) => (cents / 100).toFixed(2);

function render() {
  const now = performance.now();
  buckets.push([now, received]);
  while (buckets.length > 1 && now - buckets[0][0] > 1000) buckets.shift();
  const [t0, c0] = buckets[0];
  const rate = now - t0 > 0 ? Math.round(((received - c0) * 1000) / (now - t0)) : 0;
  $("rate-now").textContent = rate.toLocaleString("en");
  $("count").textContent = received.toLocaleString("en");
  $("sent").textContent = sent.toLocaleString("en");
  document.body.dataset.received = String(received);
  document.body.dataset.rate = String(rate);
  if (latencyN > 0) {
    $("latency").textContent = String(Math.round(latencySum / latencyN));
    latencySum = latencyN = 0;
  }
  for (const row of rows) {
    if (row.quotes === 0) continue;
    const change = row.price - row.first;
    row.cells[1].textContent = money(row.price);
    row.cells[2].textContent = `${change >= 0 ? "+" : ""}${money(change)}`;
    row.cells[2].className = change >= 0 ? "up" : "down";
    row.cells[3].textContent = row.quotes.toLocaleString("en");
  }
}

function sampleHistory() {
  history.push(Number(document.body.dataset.rate ?? 0));
  if (history.length > 60) history.shift();
  drawChart();
}

function drawChart() {
  const c = $("chart");
  const g = c.getContext("2d");
  const w = c.width, h = c.height, pad = 28;
  g.clearRect(0, 0, w, h);
  const max = Math.max(100, ...history) * 1.15;
  g.strokeStyle = "#d9dee7";
  g.fillStyle = "#5b6474";
  g.font = "12px system-ui, sans-serif";
  for (let i = 0; i <= 4; i++) {
    const y = h - pad - ((h - 2 * pad) * i) / 4;
    g.beginPath();
    g.moveTo(pad + 30, y);
    g.lineTo(w - 8, y);
    g.stroke();
    g.fillText(Math.round((max * i) / 4).toLocaleString("en"), 4, y + 4);
  }
  g.fillText("messages per second, last 60 s", pad + 36, 16);
  if (history.length < 2) return;
  g.strokeStyle = "#2f6fdb";
  g.lineWidth = 2;
  g.beginPath();
  history.forEach((v, i) => {
    const x = pad + 30 + ((w - pad - 38) * i) / 59;
    const y = h - pad - ((h - 2 * pad) * v) / max;
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.stroke();
}

// ---------------------------------------------------------------------------------- start

if (checkSupport()) {
  $("topic").textContent = topic;
  $("packing-desc").textContent =
    packing === "raw"
      ? "raw packing, 13 bytes a quote; needs binary WebSocket frames from the broker"
      : "7-bit packing, 16 bytes a quote, every byte below 0x80 so it survives text frames";
  const rate = params.get("rate");
  if ([...$("rate").options].some((o) => o.value === rate)) $("rate").value = rate;
  if (!publishHere) {
    $("toggle").textContent = "Start publisher";
    setStatus("pub-status", "off (external publisher)");
  }
  $("toggle").addEventListener("click", () => (publisher.running ? publisher.stop() : publisher.start()));
  buildTable();
  drawChart();
  setInterval(render, 250);
  setInterval(sampleHistory, 1000);
  subscribe();
} else {
  $("toggle").disabled = true;
}
