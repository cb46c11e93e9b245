// The benchmark page (browser ES module): loads ONE library (`?lib=`), exposes `window.bench`
// for bench/run.mjs to drive with page.evaluate, and measures in the page with
// performance.now(). Every timed run ends after a MessageChannel hop, so work a library defers
// to microtasks is counted too.
import { FAKE, fakes, wire, install } from "./fake-ws.js";
import * as adapters from "./adapters.js";

install();

const params = new URLSearchParams(location.search);
const LIB = params.get("lib");
const DIST = params.get("dist") ?? "/dist/";

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(s);
  });
}

const channel = new MessageChannel();
const hops = [];
channel.port1.onmessage = () => hops.shift()?.();
/** Resolves after one macrotask (quicker than setTimeout's clamp). */
const hop = () =>
  new Promise((r) => {
    hops.push(r);
    channel.port2.postMessage(0);
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Copies of a MESSAGE frame with message-ids 1, 2, … (RabbitMQ numbers them so): replaying one
 * frame with one id would let a library gain from seeing the same header value every time. As
 * many as fit in 8 MB, at most 256.
 */
function numbered(text) {
  const k = Math.max(1, Math.min(256, Math.floor(8e6 / text.length)));
  return Array.from({ length: k }, (_, i) => text.replace(/(\nmessage-id:[^\n]*@@)1\n/, `$1${i + 1}\n`));
}

const sizeOf = (b) => (b == null ? 0 : typeof b === "string" ? b.length : b.byteLength);

let lib = null; // the adapter
const state = {};

async function load() {
  switch (LIB) {
    case "fullduplex-stomp": {
      const fd = await import(`${DIST}stomp.js`);
      await fd.init();
      lib = adapters.stomp.fullduplex(fd);
      break;
    }
    case "fullduplex-xmpp": {
      const fd = await import(`${DIST}xmpp.js`);
      await fd.init();
      lib = adapters.xmpp.fullduplex(fd);
      break;
    }
    case "stompjs":
      await loadScript("/node_modules/@stomp/stompjs/bundles/stomp.umd.min.js");
      lib = adapters.stomp.stompjs(window.StompJs);
      break;
    case "raw":
      lib = adapters.stomp.raw();
      break;
    case "strophe":
      await loadScript("/node_modules/strophe.js/dist/strophe.umd.min.js");
      lib = adapters.xmpp.strophe({ Strophe: window.Strophe, $msg: window.$msg });
      break;
    case "xmppjs":
      await loadScript("/node_modules/@xmpp/client/dist/xmpp.min.js");
      lib = adapters.xmpp.xmppjs(window.XMPP);
      break;
    default:
      throw new Error(`unknown lib ${LIB}`);
  }
}

/** A counter the handlers bump; `until(n)` resolves when the n-th item has been handled. */
function counter() {
  const c = {
    count: 0,
    bytes: 0,
    target: Infinity,
    resolve: null,
    on: (b) => {
      c.count++;
      c.bytes += sizeOf(b);
      if (c.count === c.target) c.resolve(performance.now());
    },
    reset(target) {
      c.count = 0;
      c.bytes = 0;
      c.target = target;
      return new Promise((r) => (c.resolve = r));
    },
  };
  return c;
}

async function closeAll() {
  for (const k of ["client", "pub", "sub"]) {
    if (state[k]) await state[k].close();
    state[k] = null;
  }
  await sleep(20);
}

const bench = {
  ready: load().then(() => true),

  // ---- capture (raw page): MESSAGE frames exactly as RabbitMQ sends them -------------------
  async capture({ url, login, passcode, bodies }) {
    const ws = new WebSocket(url, ["v12.stomp"]);
    ws.binaryType = "arraybuffer";
    const inbox = [];
    let wake = null;
    ws.onmessage = (e) => {
      inbox.push({ binary: typeof e.data !== "string", text: typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data) });
      wake?.();
    };
    const next = async (ms = 5000) => {
      const end = performance.now() + ms;
      while (!inbox.length) {
        if (performance.now() > end) throw new Error("capture: timeout");
        await new Promise((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
      return inbox.shift();
    };
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`cannot open ${url}`));
    });
    ws.send(`CONNECT\naccept-version:1.2\nlogin:${login}\npasscode:${passcode}\nheart-beat:0,0\n\n\0`);
    const connected = await next();
    if (!connected.text.startsWith("CONNECTED")) throw new Error(connected.text);
    const dest = `/topic/bench-capture-${Math.random().toString(36).slice(2)}`;
    ws.send(`SUBSCRIBE\nid:@SUB@\ndestination:${dest}\nreceipt:r1\n\n\0`);
    await next();
    const out = {};
    for (const [key, body] of Object.entries(bodies)) {
      ws.send(`SEND\ndestination:${dest}\ncontent-type:text/plain\ncontent-length:${body.length}\n\n${body}\0`);
      try {
        const m = await next();
        if (m.text.startsWith("MESSAGE") && m.text.includes(body)) out[key] = { text: m.text, binary: m.binary };
      } catch {
        // too big for the broker's limits: run.mjs synthesises this one
      }
    }
    ws.close();
    return out;
  },

  // ---- 1. STOMP decode --------------------------------------------------------------------
  /** Connects (fake socket or loopback server), subscribes; `template` has "@SUB@". */
  async decodeSetup({ url, template, binary, size, login, passcode }) {
    await closeAll();
    const c = counter();
    const client = await lib.open(url, { login, passcode });
    const id = await client.subscribe("/topic/bench", c.on, binary);
    await hop();
    state.client = client;
    state.c = c;
    state.size = size;
    state.binary = binary;
    if (url.startsWith(FAKE)) {
      const fake = fakes.at(-1);
      const sub = fake.server.subs.at(-1)?.id ?? id;
      state.fake = fake;
      const texts = numbered(template.replaceAll("@SUB@", sub));
      state.data = binary ? texts.map((t) => new TextEncoder().encode(t).buffer) : texts;
    } else {
      state.fake = null;
    }
    return true;
  },

  /** Delivers n frames; resolves with { ms, n, bytes } measured until the n-th body is handled. */
  async decodeRun(n) {
    const { c } = state;
    const done = c.reset(n);
    let t0;
    if (state.fake) {
      t0 = performance.now();
      state.fake.blast(state.data, n);
    } else {
      t0 = performance.now();
      state.client.send(JSON.stringify({ size: state.size, n, binary: state.binary }), "/blast");
    }
    const timeout = sleep(120000).then(() => -1);
    const tn = await Promise.race([done, timeout]);
    if (tn < 0) throw new Error(`decode: ${c.count}/${n} frames handled before timeout`);
    await hop();
    const t1 = performance.now();
    return { ms: t1 - t0, n, bytes: c.bytes };
  },

  async teardown() {
    await closeAll();
    return true;
  },

  // ---- 2. STOMP end to end through RabbitMQ -----------------------------------------------
  async e2eSetup({ url, login, passcode }) {
    await closeAll();
    const c = counter();
    state.c = c;
    state.lat = null;
    state.dest = `/topic/bench-e2e-${Math.random().toString(36).slice(2)}`;
    state.pub = await lib.open(url, { login, passcode });
    state.sub = await lib.open(url, { login, passcode });
    const onBody = (b) => {
      if (state.lat) {
        const t = performance.now();
        const s = typeof b === "string" ? b : new TextDecoder().decode(b);
        const i = s.indexOf("~");
        const seq = parseInt(s.slice(i + 1), 10);
        state.lat.recv[seq] = t;
      }
      c.on(b);
    };
    await state.sub.subscribe(state.dest, onBody, false);
    // Wait until the subscription is live at the broker: probes until one comes back.
    const end = performance.now() + 10000;
    c.reset(1);
    while (c.count === 0) {
      if (performance.now() > end) throw new Error("e2e: subscription never became live");
      state.pub.send(bench.body100(0), state.dest);
      await sleep(50);
    }
    await sleep(200);
    return true;
  },

  body100(seq) {
    const head = `~${seq}:`;
    return head + "x".repeat(100 - head.length);
  },

  /** Publishes m 100 B messages (batches of `batch` per task); time until all are received. */
  async e2eThroughput(m, batch = 100) {
    const { c } = state;
    const done = c.reset(m);
    const body = bench.body100(1);
    const t0 = performance.now();
    for (let i = 0; i < m; ) {
      const k = Math.min(batch, m - i);
      for (let j = 0; j < k; j++) state.pub.send(body, state.dest);
      i += k;
      await hop();
    }
    const tn = await Promise.race([done, sleep(60000).then(() => -1)]);
    if (tn < 0) throw new Error(`e2e: ${c.count}/${m} received before timeout`);
    return { ms: tn - t0, n: m };
  },

  /** Publishes at `rate` msg/s for `ms`; returns latency percentiles (ms). */
  async e2eLatency({ rate, ms }) {
    const total = Math.round((rate * ms) / 1000);
    const lat = { sent: new Float64Array(total), recv: new Float64Array(total) };
    state.lat = lat;
    const done = state.c.reset(total);
    const t0 = performance.now();
    let seq = 0;
    await new Promise((resolve) => {
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
        while (seq < due) {
          lat.sent[seq] = performance.now();
          state.pub.send(bench.body100(seq), state.dest);
          seq++;
        }
        if (seq >= total) {
          clearInterval(timer);
          resolve();
        }
      };
      const timer = setInterval(tick, 1);
      tick();
    });
    const got = await Promise.race([done, sleep(10000).then(() => -1)]);
    state.lat = null;
    if (got < 0) throw new Error(`latency: ${state.c.count}/${total} received`);
    const d = Array.from(lat.recv, (r, i) => r - lat.sent[i]).sort((a, b) => a - b);
    const q = (p) => d[Math.min(d.length - 1, Math.floor(p * d.length))];
    return { n: total, p50: q(0.5), p99: q(0.99), max: d.at(-1), elapsed: performance.now() - t0 };
  },

  // ---- 3. XMPP stanza parse and login -----------------------------------------------------
  async xparseSetup({ kind, stanza }) {
    await closeAll();
    const c = counter();
    state.c = c;
    const client = await lib.open(`${FAKE}xmpp`, "localhost", "alice", "alicepw");
    state.client = client;
    state.fake = fakes.at(-1);
    if (kind === "message") client.onMessage(c.on);
    else client.onPresence(c.on);
    state.data = stanza;
    await hop();
    return true;
  },

  async xparseRun(n) {
    const { c } = state;
    const done = c.reset(n);
    const t0 = performance.now();
    state.fake.blast(state.data, n);
    const tn = await Promise.race([done, sleep(60000).then(() => -1)]);
    if (tn < 0) throw new Error(`parse: ${c.count}/${n} stanzas handled`);
    await hop();
    return { ms: performance.now() - t0, n, bytes: c.bytes };
  },

  /** Logs in to the real server; returns the time to online and the SASL mechanism used. */
  async xlogin({ url, domain, user, password }) {
    await closeAll();
    wire.on = true;
    wire.sockets.length = 0;
    const t0 = performance.now();
    let client;
    try {
      client = await lib.open(url, domain, user, password);
    } finally {
      wire.on = false;
    }
    const ms = performance.now() - t0;
    const sent = wire.sockets.flatMap((s) => s.sentLog.map((m) => m.text));
    const mech = sent.map((t) => /<(?:auth|authenticate)\b[^>]*mechanism=["']([^"']+)["']/.exec(t)?.[1]).find(Boolean);
    await client.close();
    return { ms, mechanism: mech ?? "?" };
  },

  // ---- 5. Wire bytes ---------------------------------------------------------------------
  /** What the library writes for one SEND of `body` to `dest` (fake broker). */
  async wireStomp({ body, dest }) {
    await closeAll();
    const client = await lib.open(`${FAKE}stomp`, {});
    const fake = fakes.at(-1);
    await hop();
    const before = fake.sent.length;
    client.send(body, dest);
    await sleep(10);
    const sent = fake.sent.slice(before).filter((m) => m.text.replace(/[\r\n]/g, "") !== "");
    await client.close();
    return sent.map((m) => ({ bytes: m.bytes, binary: m.binary, text: m.text }));
  },

  /** What the library writes for one chat message (fake XMPP server, after login). */
  async wireXmpp({ to, body }) {
    await closeAll();
    const client = await lib.open(`${FAKE}xmpp`, "localhost", "alice", "alicepw");
    const fake = fakes.at(-1);
    await sleep(20);
    const before = fake.sent.length;
    client.sendChat(to, body);
    await sleep(20);
    const sent = fake.sent.slice(before);
    await client.close();
    return sent.map((m) => ({ bytes: m.bytes, binary: m.binary, text: m.text }));
  },
};

window.bench = bench;
