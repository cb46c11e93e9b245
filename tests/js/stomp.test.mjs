// The STOMP JavaScript API (the STOMP section of js/index.d.ts) in headless Chromium against a
// real RabbitMQ web-STOMP broker: the talk's slide code verbatim (classic script and ES
// module), errors, subscriptions, receipts, acks, transactions, bodies, header escapes,
// heart-beats, the pre-open queue, interop with an independent TCP client, and the close.
//
// Environment (scripts/with-servers.sh exports it): STOMP_WS_URL, STOMP_TCP_PORT,
// STOMP_WS_FRAME ("text" or "binary": how the broker frames what it sends), SERVERS_DIR.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, launch, openPage } from "./harness.mjs";
import { StompPeer } from "./stomp-peer.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const WS_URL = process.env.STOMP_WS_URL ?? "ws://127.0.0.1:15674/ws";
const WS_FRAME = process.env.STOMP_WS_FRAME ?? "text";
const SERVERS_DIR = process.env.SERVERS_DIR;
const SLIDE_URL = "ws://127.0.0.1:15674/ws";

let dir, server, browser;

before(async () => {
  // The fixtures, with the slide's broker URL swapped for this run's.
  dir = mkdtempSync(join(tmpdir(), "fullduplex-stomp-"));
  for (const f of ["stomp-page.html", "stomp-slide-classic.html", "stomp-slide-module.html"]) {
    const text = readFileSync(join(HERE, "fixtures", f), "utf8");
    writeFileSync(join(dir, f), text.replaceAll(SLIDE_URL, WS_URL));
  }
  server = await serve({ "/dist/": process.env.FULLDUPLEX_DIST ?? join(ROOT, "dist"), "/": dir });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const unique = (name) => `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** Opens the helper page (tests/js/fixtures/stomp-page.html), runs `fn(page)`, closes the page. */
async function withPage(fn) {
  const page = await openPage(browser);
  try {
    await page.addInitScript(
      ({ url, frame }) => {
        window.STOMP_WS_URL = url;
        window.STOMP_WS_FRAME = frame;
      },
      { url: WS_URL, frame: WS_FRAME },
    );
    await page.goto(`${server.url}/stomp-page.html`);
    await page.waitForFunction(() => window.ready === true, null, { timeout: 5000 });
    return await fn(page);
  } finally {
    await page.context().close();
  }
}

const T = { timeout: 20_000 };

// ---------------------------------------------------------------------------------------------
// 1. The talk's slide code, verbatim.

for (const kind of ["classic", "module"]) {
  test(`slide code verbatim (${kind} script) alerts "Hello Stomp!" exactly once`, T, async () => {
    const page = await openPage(browser);
    try {
      const alerts = [];
      page.on("dialog", (d) => {
        alerts.push({ type: d.type(), message: d.message() });
        d.accept().catch(() => {});
      });
      await page.goto(`${server.url}/stomp-slide-${kind}.html`);
      const end = Date.now() + 10_000;
      while (alerts.length === 0 && Date.now() < end) await sleep(20);
      await sleep(1000); // a second copy would arrive by now
      assert.deepEqual(alerts, [{ type: "alert", message: "Hello Stomp!" }]);
      assert.deepEqual(page.problems, []);
    } finally {
      await page.context().close();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// 2. Bad password.

test("bad password: onerror gets the broker's message, then onclose (client closes the socket)", T, async () => {
  await withPage(async (page) => {
    const r = await page.evaluate(async () => {
      const c = window.recorded();
      const order = [];
      const { onerror, onclose, onopen } = c;
      c.onopen = (h) => (order.push("open"), onopen(h));
      c.onerror = (h, b) => (order.push("error"), onerror(h, b));
      c.onclose = (e) => (order.push("close"), onclose(e));
      c.connect(window.STOMP_WS_URL, { login: "guest", passcode: "wrong" });
      const queued = window.settled(c.send("never", "/queue/never-sent"), 8000);
      await window.until(() => c.log.closes.length, 8000, "onclose").catch(() => {});
      return {
        order,
        errors: c.log.errors,
        closes: c.log.closes,
        connected: c.connected,
        queued: await queued,
      };
    });
    assert.deepEqual(r.order, ["error", "close"]);
    assert.equal(r.errors[0].headers.message, "Bad CONNECT");
    assert.equal(r.errors[0].body, "Access refused for user 'guest'\n");
    assert.ok(
      r.closes[0].at - r.errors[0].at < 3000,
      `onclose ${Math.round(r.closes[0].at - r.errors[0].at)} ms after onerror`,
    );
    assert.equal(r.connected, false);
    // A command queued before open can never complete: its Promise must reject, not hang.
    assert.match(r.queued, /^rejected/);
    assert.deepEqual(page.problems, []);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Subscribe / unsubscribe.

test("after unsubscribe({receipt:true}) resolves, the subscription gets nothing more", T, async () => {
  const dest = `/topic/${unique("unsub")}`;
  await withPage(async (page) => {
    const r = await page.evaluate(async (dest) => {
      const c = await window.openClient();
      // sub1 has its own handler; sub2 has none, so its messages go to onmessage.
      const { sub: sub1, got } = window.collect(c, dest, { receipt: "sub1" });
      const sub2 = c.subscribe(dest, { receipt: "sub2" });
      await window.within(Promise.all([sub1.receipt, sub2.receipt]), 5000, "subscribe receipts");
      await c.send("one", dest, { receipt: "s-one" });
      await window.until(() => got.length >= 1 && c.log.messages.length >= 1, 5000, "one");
      const unsub = await window.settled(sub1.unsubscribe({ receipt: true }), 5000);
      await c.send("two", dest, { receipt: "s-two" });
      await window.until(() => c.log.messages.length >= 2, 5000, "two via sub2");
      await window.sleep(500);
      return {
        ids: [typeof sub1.id, sub1.id !== sub2.id],
        unsub,
        got: got.map((m) => [m.body, m.subscription === sub1.id, m.headers.destination]),
        other: c.log.messages.map((m) => [m.body, m.subscription === sub2.id]),
        errors: c.log.errors,
        closes: c.log.closes,
      };
    }, dest);
    assert.deepEqual(r.ids, ["string", true]);
    assert.equal(r.unsub, "resolved");
    assert.deepEqual(r.got, [["one", true, dest]]);
    assert.deepEqual(r.other, [
      ["one", true],
      ["two", true],
    ]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.closes, []);
    assert.deepEqual(page.problems, []);
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Receipts.

test("receipts: send and subscribe Promises resolve on RECEIPT and onreceipt is called", T, async () => {
  const dest = `/queue/${unique("receipt")}`;
  await withPage(async (page) => {
    const r = await page.evaluate(async (dest) => {
      const c = await window.openClient();
      const { sub, got } = window.collect(c, dest, { receipt: "sub-r" });
      const subResult = await window.settled(sub.receipt, 5000);
      const afterSub = c.log.receipts.map((h) => ({ ...h }));
      const sendResult = await window.settled(c.send("x", dest, { receipt: "x" }), 5000);
      const afterSend = c.log.receipts.map((h) => ({ ...h }));
      await window.until(() => got.length >= 1, 5000, "the message");
      await window.sleep(300);
      return {
        subResult,
        sendResult,
        afterSub,
        afterSend,
        receipts: c.log.receipts,
        got: got.map((m) => m.body),
        errors: c.log.errors,
      };
    }, dest);
    assert.equal(r.subResult, "resolved");
    assert.equal(r.sendResult, "resolved");
    // Each Promise resolves once its RECEIPT has arrived (and onreceipt has seen it).
    assert.equal(r.afterSub.length, 1);
    assert.equal(r.afterSend.length, 2);
    // RabbitMQ copies the SEND's receipt header into the MESSAGE: no third receipt from that.
    assert.equal(r.receipts.length, 2);
    assert.deepEqual(r.got, ["x"]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(page.problems, []);
    // The RECEIPTs carry the ids the page asked for (a SEND's `receipt: "x"` comes back as
    // `receipt-id: "x"`), so onreceipt can be matched to the command.
    assert.deepEqual(r.receipts, [{ "receipt-id": "sub-r" }, { "receipt-id": "x" }]);
  });
});

test("a receipt Promise rejects when the broker answers ERROR instead; onerror then onclose", T, async () => {
  await withPage(async (page) => {
    const r = await page.evaluate(async () => {
      const c = await window.openClient();
      const p = c.send("x", "/nonsense/destination", { receipt: "never" });
      const result = await window.settled(p, 6000);
      await window.until(() => c.log.closes.length, 5000, "onclose").catch(() => {});
      return {
        result,
        errors: c.log.errors.map((e) => e.headers.message),
        closed: c.log.closes.length,
        connected: c.connected,
      };
    });
    assert.match(r.result, /^rejected/);
    assert.deepEqual(r.errors, ["Unknown destination"]);
    assert.equal(r.closed, 1);
    assert.equal(r.connected, false);
    assert.deepEqual(page.problems, []);
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Acknowledgements and transactions.

test("client-individual: an un-acked message is redelivered to the next subscriber", T, async () => {
  const dest = `/queue/${unique("ack")}`;
  await withPage(async (page) => {
    const r = await page.evaluate(async (dest) => {
      const a = await window.openClient();
      const { sub, got } = window.collect(a, dest, { ack: "client-individual", receipt: "a-sub" });
      await window.within(sub.receipt, 5000, "subscribe receipt");
      await a.send("m1", dest, { receipt: "m1" });
      await a.send("m2", dest, { receipt: "m2" });
      await window.until(() => got.length >= 2, 5000, "m1 and m2");
      const first = got.map((m) => [m.body, m.headers.redelivered]);
      const acked = await window.settled(got[0].message.ack({ receipt: "ack-m1" }), 5000);
      const disconnected = await window.settled(a.disconnect(), 5000);

      const b = await window.openClient();
      const { got: got2 } = window.collect(b, dest, { receipt: "b-sub" });
      await window.until(() => got2.length >= 1, 5000, "the redelivery").catch(() => {});
      await window.sleep(500);
      return {
        first,
        acked,
        disconnected,
        second: got2.map((m) => [m.body, m.headers.redelivered]),
        errors: [...a.log.errors, ...b.log.errors],
      };
    }, dest);
    assert.deepEqual(r.first, [
      ["m1", "false"],
      ["m2", "false"],
    ]);
    assert.equal(r.acked, "resolved");
    assert.equal(r.disconnected, "resolved");
    assert.deepEqual(r.second, [["m2", "true"]]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(page.problems, []);
  });
});

test("nack: the message comes back marked redelivered, and an ack ends it", T, async () => {
  const dest = `/queue/${unique("nack")}`;
  await withPage(async (page) => {
    const r = await page.evaluate(async (dest) => {
      const c = await window.openClient();
      const { sub, got } = window.collect(c, dest, { ack: "client-individual", receipt: "n-sub" });
      await window.within(sub.receipt, 5000, "subscribe receipt");
      await c.send("n1", dest, { receipt: "n1" });
      await window.until(() => got.length >= 1, 5000, "n1");
      const nacked = await window.settled(c.nack(got[0].message, { receipt: "nack-1" }), 5000);
      await window.until(() => got.length >= 2, 5000, "the redelivery").catch(() => {});
      const acked = got[1] ? await window.settled(got[1].message.ack({ receipt: "ack-2" }), 5000) : "no message";
      await window.sleep(500);
      return {
        nacked,
        acked,
        got: got.map((m) => [m.body, m.headers.redelivered]),
        errors: c.log.errors,
      };
    }, dest);
    assert.equal(r.nacked, "resolved");
    assert.deepEqual(r.got, [
      ["n1", "false"],
      ["n1", "true"],
    ]);
    assert.equal(r.acked, "resolved");
    assert.deepEqual(r.errors, []);
    assert.deepEqual(page.problems, []);
  });
});

test("transactions: committed sends arrive (at commit), aborted ones never do", T, async () => {
  const dest = `/queue/${unique("tx")}`;
  await withPage(async (page) => {
    const r = await page.evaluate(async (dest) => {
      const c = await window.openClient();
      const { sub, got } = window.collect(c, dest, { receipt: "t-sub" });
      await window.within(sub.receipt, 5000, "subscribe receipt");
      const tx = c.begin();
      await tx.send("t1", dest);
      await tx.send("t2", dest);
      await window.sleep(400);
      const beforeCommit = got.length;
      const committed = await window.settled(tx.commit(), 5000);
      const tx2 = c.begin();
      await tx2.send("aborted", dest);
      const aborted = await window.settled(tx2.abort(), 5000);
      await c.send("after", dest, { receipt: "after" });
      await window.until(() => got.length >= 3, 5000, "three messages").catch(() => {});
      await window.sleep(500);
      return {
        ids: [typeof tx.id, tx.id !== tx2.id],
        beforeCommit,
        committed,
        aborted,
        got: got.map((m) => m.body),
        errors: c.log.errors,
      };
    }, dest);
    assert.deepEqual(r.ids, ["string", true]);
    assert.equal(r.beforeCommit, 0);
    assert.equal(r.committed, "resolved");
    assert.equal(r.aborted, "resolved");
    assert.deepEqual(r.got, ["t1", "t2", "after"]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(page.problems, []);
  });
});

// ---------------------------------------------------------------------------------------------
// 6. Bodies.

test("bodies: UTF-8 (multi-byte, astral) and NUL bytes round-trip, as string and as bytes", T, async () => {
  const dest = `/queue/${unique("utf8")}`;
  await withPage(async (page) => {
    const r = await page.evaluate(async (dest) => {
      const c = await window.openClient();
      const { sub, got } = window.collect(c, dest, { receipt: "u-sub" });
      await window.within(sub.receipt, 5000, "subscribe receipt");
      const text = "Grüße — ünïcødé 日本語 Ελληνικά 😀🎉 𝄞 𝕏 \u{10FFFF}";
      const withNul = "before\u0000middle\u0000\u0000after";
      const bytes = new Uint8Array([0, 0x41, 0, 0, 0x42, 0xc3, 0xa9, 0]); // valid UTF-8, NULs
      await c.send(text, dest);
      await c.send(withNul, dest);
      await c.send(bytes, dest);
      await c.send("", dest, { receipt: "last" });
      await window.until(() => got.length >= 4, 5000, "four messages");
      const enc = new TextEncoder();
      const arr = (u8) => Array.from(u8);
      return {
        bodies: got.map((m) => m.body),
        binary: got.map((m) => arr(m.message.binaryBody)),
        isU8: got.every((m) => m.message.binaryBody instanceof Uint8Array),
        expectBinary: [arr(enc.encode(text)), arr(enc.encode(withNul)), arr(bytes), []],
        bytesAsText: new TextDecoder().decode(bytes),
        text,
        withNul,
        errors: c.log.errors,
      };
    }, dest);
    assert.deepEqual(r.bodies, [r.text, r.withNul, r.bytesAsText, ""]);
    assert.equal(r.isU8, true);
    assert.deepEqual(r.binary, r.expectBinary);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(page.problems, []);
  });
});

test(`bodies: a 1 MiB Uint8Array body round-trips byte-exact (${WS_FRAME} frames)`, T, async () => {
  const dest = `/queue/${unique("big")}`;
  await withPage(async (page) => {
    const r = await page.evaluate(
      async ({ dest, binary }) => {
        const size = 1 << 20;
        let bytes;
        if (binary) {
          // Random bytes (NULs and invalid UTF-8 included): needs binary WebSocket frames.
          bytes = new Uint8Array(size);
          for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
        } else {
          // RabbitMQ puts bodies in text frames here: random but valid UTF-8 (1–4 byte chars).
          const pool = ["a", "\u0000", "é", "ß", "€", "日", "😀", "𝄞", "\n", ":"];
          const rnd = new Uint8Array(size);
          crypto.getRandomValues(rnd.subarray(0, 65536));
          crypto.getRandomValues(rnd.subarray(65536, 131072));
          let s = "";
          for (let i = 0; s.length < size / 2; i++) s += pool[rnd[i % 131072] % pool.length];
          const full = new TextEncoder().encode(s);
          // Cut at a character boundary at or below 1 MiB, then pad with ASCII to exactly 1 MiB.
          let cut = Math.min(full.length, size);
          while (cut > 0 && (full[cut] & 0xc0) === 0x80) cut--;
          bytes = new Uint8Array(size).fill(0x7a);
          bytes.set(full.subarray(0, cut));
        }
        const c = await window.openClient();
        const { sub, got } = window.collect(c, dest, { receipt: "b-sub" });
        await window.within(sub.receipt, 5000, "subscribe receipt");
        const sent = await window.settled(c.send(bytes, dest, { receipt: "big" }), 8000);
        await window.until(() => got.length >= 1 || c.log.closes.length, 8000, "the message").catch(() => {});
        if (!got.length) return { sent, length: null, errors: c.log.errors, closes: c.log.closes };
        const back = got[0].message.binaryBody;
        let firstMismatch = -1;
        const n = Math.max(back.length, bytes.length);
        for (let i = 0; i < n; i++) {
          if (back[i] !== bytes[i]) {
            firstMismatch = i;
            break;
          }
        }
        let textOk = null;
        if (!binary) textOk = got[0].body === new TextDecoder().decode(bytes);
        return { sent, length: back.length, firstMismatch, textOk, errors: c.log.errors, closes: c.log.closes };
      },
      { dest, binary: WS_FRAME === "binary" },
    );
    assert.deepEqual(r.closes, []);
    assert.equal(r.sent, "resolved");
    assert.equal(r.length, 1 << 20);
    assert.equal(r.firstMismatch, -1);
    if (WS_FRAME !== "binary") assert.equal(r.textOk, true);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(page.problems, []);
  });
});

// ---------------------------------------------------------------------------------------------
// 7. Header escapes.

test("header values with ':', newline and backslash round-trip through the broker", T, async () => {
  const dest = `/queue/${unique("hdr")}`;
  const values = {
    "x-colon": "a:b::c:",
    "x-newline": "line1\nline2\n",
    "x-backslash": "C:\\path\\to\\n not a newline \\c",
    "x-all": "k:v\\\nnext: \\\\ end",
    "x-utf8": "Grüße 😀",
  };
  await withPage(async (page) => {
    const r = await page.evaluate(
      async ({ dest, values }) => {
        const c = await window.openClient();
        const { sub, got } = window.collect(c, dest, { receipt: "h-sub" });
        await window.within(sub.receipt, 5000, "subscribe receipt");
        await c.send("headers", dest, { ...values, receipt: "h" });
        await window.until(() => got.length >= 1, 5000, "the message");
        const h = got[0].headers;
        return { seen: Object.fromEntries(Object.keys(values).map((k) => [k, h[k]])), errors: c.log.errors };
      },
      { dest, values },
    );
    assert.deepEqual(r.seen, values);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(page.problems, []);
  });
});

// ---------------------------------------------------------------------------------------------
// 8. Heart-beats (the broker-stop case is last in the file, see the end).

test("heart-beats 1000/1000: the connection survives 5 s of idling and still carries messages", T, async () => {
  const dest = `/queue/${unique("hb")}`;
  await withPage(async (page) => {
    const r = await page.evaluate(async (dest) => {
      const c = await window.openClient({ heartbeatOutgoing: 1000, heartbeatIncoming: 1000 });
      const { sub, got } = window.collect(c, dest, { receipt: "hb-sub" });
      await window.within(sub.receipt, 5000, "subscribe receipt");
      await window.sleep(5000);
      const idle = { connected: c.connected, errors: [...c.log.errors], closes: [...c.log.closes] };
      const sent = await window.settled(c.send("still here", dest, { receipt: "hb" }), 3000);
      await window.until(() => got.length >= 1, 3000, "the message").catch(() => {});
      return { heartBeat: c.log.open[0].headers["heart-beat"], idle, sent, got: got.map((m) => m.body) };
    }, dest);
    assert.equal(r.heartBeat, "1000,1000");
    assert.deepEqual(r.idle, { connected: true, errors: [], closes: [] });
    assert.equal(r.sent, "resolved");
    assert.deepEqual(r.got, ["still here"]);
    assert.deepEqual(page.problems, []);
  });
});

test("heart-beats on: 500 messages coming in do not re-arm a timer per message", T, async () => {
  const dest = `/queue/${unique("hb-timers")}`;
  await withPage(async (page) => {
    const r = await page.evaluate(async (dest) => {
      // Plain setTimeout for every timer (a headless page may count as hidden, which moves
      // timers to the background ticker).
      await window.StompClient.__setTicker("timeout");
      // Incoming heart-beats only: the deadline (last byte in + 2 periods) moves with every
      // message received.
      const c = await window.openClient({ heartbeatOutgoing: 0, heartbeatIncoming: 10000 });
      const { sub, got } = window.collect(c, dest, { receipt: "hbt-sub" });
      await window.within(sub.receipt, 5000, "subscribe receipt");
      // Counted from here: every setTimeout made while 500 messages go out and come back.
      const real = window.setTimeout;
      let calls = 0;
      window.setTimeout = function (...a) {
        calls++;
        return real.apply(this, a);
      };
      const t0 = performance.now();
      for (let i = 0; i < 500; i++) c.send(`m${i}`, dest);
      while (got.length < 500 && performance.now() - t0 < 10000) await new Promise((f) => real(f, 50));
      window.setTimeout = real;
      await window.StompClient.__setTicker("auto");
      return { got: got.length, calls, connected: c.connected, ms: performance.now() - t0 };
    }, dest);
    assert.equal(r.got, 500);
    assert.equal(r.connected, true);
    // Re-arming on every move would take one setTimeout per millisecond with traffic.
    console.log(`# ${r.calls} setTimeout calls while 500 messages came in over ${Math.round(r.ms)} ms`);
    assert.ok(r.calls < 10, `${r.calls} setTimeout calls for 500 messages`);
    assert.deepEqual(page.problems, []);
  });
});

// ---------------------------------------------------------------------------------------------
// 9. The pre-open queue.

test("50 sends made before open arrive in order, exactly once", T, async () => {
  const dest = `/queue/${unique("queued")}`;
  await withPage(async (page) => {
    const r = await page.evaluate(async (dest) => {
      const b = await window.openClient();
      const { sub, got } = window.collect(b, dest, { receipt: "q-sub" });
      await window.within(sub.receipt, 5000, "subscribe receipt");

      const a = window.recorded();
      a.connect(window.STOMP_WS_URL, { login: "guest", passcode: "guest" });
      const connectedWhenQueued = a.connected;
      const sends = [];
      for (let i = 0; i < 50; i++) sends.push(a.send(`m${i}`, dest));
      const results = await Promise.all(sends.map((p) => window.settled(p, 8000)));
      await window.until(() => got.length >= 50, 8000, "50 messages").catch(() => {});
      await window.sleep(500);
      return {
        connectedWhenQueued,
        opened: a.log.open.length,
        results: [...new Set(results)],
        got: got.map((m) => m.body),
        errors: [...a.log.errors, ...b.log.errors],
      };
    }, dest);
    assert.equal(r.connectedWhenQueued, false);
    assert.equal(r.opened, 1);
    assert.deepEqual(r.results, ["resolved"]);
    assert.deepEqual(
      r.got,
      Array.from({ length: 50 }, (_, i) => `m${i}`),
    );
    assert.deepEqual(r.errors, []);
    assert.deepEqual(page.problems, []);
  });
});

test("a subscription made before open has its id at once and gets the queued send", T, async () => {
  const dest = `/topic/${unique("early")}`;
  await withPage(async (page) => {
    // The first client on a fresh page: the wasm module may not even be loaded yet.
    const r = await page.evaluate(async (dest) => {
      const c = window.recorded();
      c.connect(window.STOMP_WS_URL, { login: "guest", passcode: "guest" });
      const { sub, got } = window.collect(c, dest, { receipt: "early" });
      const idAtOnce = sub.id;
      const sent = window.settled(c.send("early bird", dest, { receipt: "eb" }), 8000);
      const subscribed = await window.settled(sub.receipt, 8000);
      await window.until(() => got.length >= 1, 5000, "the message").catch(() => {});
      await window.sleep(300);
      return {
        idAtOnce: typeof idAtOnce,
        sameId: idAtOnce === sub.id,
        subscribed,
        sent: await sent,
        got: got.map((m) => [m.body, m.subscription === sub.id]),
        onmessage: c.log.messages.length,
        errors: c.log.errors,
      };
    }, dest);
    assert.equal(r.subscribed, "resolved");
    assert.equal(r.sent, "resolved");
    assert.deepEqual(r.got, [["early bird", true]]);
    assert.equal(r.onmessage, 0);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(page.problems, []);
    // `StompSubscription.id` is a `readonly string`: usable as soon as subscribe() returns.
    assert.equal(r.idAtOnce, "string");
    assert.equal(r.sameId, true);
  });
});

test("a transaction begun before open has its id at once; its aborted send never arrives", T, async () => {
  const dest = `/topic/${unique("early-tx")}`;
  await withPage(async (page) => {
    // The first client on a fresh page: begin(), send in it and abort before the wasm loads.
    const r = await page.evaluate(async (dest) => {
      const c = window.recorded();
      c.connect(window.STOMP_WS_URL, { login: "guest", passcode: "guest" });
      const { sub, got } = window.collect(c, dest, { receipt: "early-tx" });
      const tx = c.begin();
      const idAtOnce = tx.id;
      const inTx = window.settled(tx.send("aborted", dest), 8000);
      const aborted = window.settled(tx.abort(), 8000);
      const after = window.settled(c.send("after", dest, { receipt: "after-tx" }), 8000);
      await window.settled(sub.receipt, 8000);
      await window.until(() => got.length >= 1, 5000, "the message").catch(() => {});
      await window.sleep(500);
      return {
        idAtOnce,
        inTx: await inTx,
        aborted: await aborted,
        after: await after,
        got: got.map((m) => m.body),
        errors: c.log.errors,
      };
    }, dest);
    assert.equal(typeof r.idAtOnce, "string");
    assert.equal(r.inTx, "resolved");
    assert.equal(r.aborted, "resolved");
    assert.equal(r.after, "resolved");
    assert.deepEqual(r.got, ["after"]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(page.problems, []);
  });
});

// ---------------------------------------------------------------------------------------------
// 10. Interop with an independent client (tests/js/stomp-peer.mjs, plain STOMP over TCP).

test("interop: a TCP STOMP peer receives what the browser sends, and the reverse", T, async () => {
  const toNode = `/queue/${unique("to-node")}`;
  const toBrowser = `/queue/${unique("to-browser")}`;
  const peer = await StompPeer.connect();
  try {
    await peer.subscribe(toNode, "peer-sub");
    await withPage(async (page) => {
      const setup = await page.evaluate(async (dest) => {
        const c = await window.openClient();
        window.c = c;
        const { sub, got } = window.collect(c, dest, { receipt: "i-sub" });
        window.got = got;
        return window.settled(sub.receipt, 5000);
      }, toBrowser);
      assert.equal(setup, "resolved");

      // Browser → peer.
      const sent = await page.evaluate(async (dest) => {
        const a = await window.settled(window.c.send("from the browser: ünï 😀", dest, { "x-from": "browser" }), 5000);
        const b = await window.settled(window.c.send(new Uint8Array([0x68, 0, 0x69]), dest), 5000);
        return [a, b];
      }, toNode);
      assert.deepEqual(sent, ["resolved", "resolved"]);
      const m1 = await peer.nextMessage(5000);
      assert.equal(m1.command, "MESSAGE");
      assert.equal(m1.headers.destination, toNode);
      assert.equal(m1.headers["x-from"], "browser");
      assert.equal(m1.text, "from the browser: ünï 😀");
      const m2 = await peer.nextMessage(5000);
      assert.equal(m2.command, "MESSAGE");
      assert.deepEqual([...m2.body], [0x68, 0, 0x69]);

      // Peer → browser.
      await peer.send(toBrowser, "from node: ¡hola! 🎉", { "x-from": "node", "x-esc": "a:b\nc\\d" });
      await peer.send(toBrowser, Buffer.from([0x6e, 0, 0x6f, 0]));
      const got = await page.evaluate(async () => {
        await window.until(() => window.got.length >= 2, 5000, "two messages").catch(() => {});
        await window.sleep(300);
        return window.got.map((m) => ({
          body: m.body,
          bytes: Array.from(m.message.binaryBody),
          from: m.headers["x-from"],
          esc: m.headers["x-esc"],
        }));
      });
      assert.deepEqual(got, [
        {
          body: "from node: ¡hola! 🎉",
          bytes: Array.from(Buffer.from("from node: ¡hola! 🎉")),
          from: "node",
          esc: "a:b\nc\\d",
        },
        { body: "n\u0000o\u0000", bytes: [0x6e, 0, 0x6f, 0], from: undefined, esc: undefined },
      ]);
      assert.deepEqual(await page.evaluate(() => window.c.log.errors), []);
      assert.deepEqual(page.problems, []);
    });
  } finally {
    peer.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 11. connected / version / disconnect / onclose.

test("connected and version; disconnect() resolves and onclose reports code, reason, wasClean", T, async () => {
  await withPage(async (page) => {
    const r = await page.evaluate(async () => {
      const c = window.recorded();
      const fresh = { connected: c.connected, version: c.version };
      c.connect(window.STOMP_WS_URL, { login: "guest", passcode: "guest" });
      const connecting = { connected: c.connected, version: c.version };
      await window.until(() => c.log.open.length || c.log.closes.length, 8000, "onopen");
      const open = { connected: c.connected, version: c.version };
      const t0 = performance.now();
      const disconnected = await window.settled(c.disconnect(), 5000);
      const took = performance.now() - t0;
      await window.until(() => c.log.closes.length, 3000, "onclose").catch(() => {});
      await window.sleep(200);
      const late = await window.settled(c.send("too late", "/queue/too-late"), 3000);
      return {
        fresh,
        connecting,
        open,
        inOnopen: c.log.open.map((o) => ({
          connected: o.connected,
          version: o.headers.version,
          server: o.headers.server,
        })),
        disconnected,
        took,
        closes: c.log.closes.map(({ code, reason, wasClean }) => ({ code, reason, wasClean })),
        after: c.connected,
        late,
        errors: c.log.errors,
      };
    });
    assert.deepEqual(r.fresh, { connected: false, version: null });
    assert.deepEqual(r.connecting, { connected: false, version: null });
    assert.deepEqual(r.open, { connected: true, version: "1.2" });
    assert.equal(r.inOnopen.length, 1);
    assert.equal(r.inOnopen[0].connected, true);
    assert.equal(r.inOnopen[0].version, "1.2");
    assert.match(r.inOnopen[0].server, /^RabbitMQ\/\d/);
    assert.equal(r.disconnected, "resolved");
    // RabbitMQ never sends the DISCONNECT receipt; it closes with 1000 "STOMP died". Whether
    // Chromium then calls the close clean varies run to run (a bare WebSocket doing the same
    // saw wasClean false in 7 of 30 tries), so only its type is fixed here.
    assert.deepEqual(
      r.closes.map(({ code, reason, wasClean }) => ({ code, reason, wasClean: typeof wasClean })),
      [{ code: 1000, reason: "STOMP died", wasClean: "boolean" }],
    );
    assert.equal(r.after, false);
    assert.match(r.late, /^rejected/);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(page.problems, []);
  });
});

test("acceptVersions picks the negotiated version", T, async () => {
  await withPage(async (page) => {
    const r = await page.evaluate(async () => {
      const out = [];
      for (const v of ["1.0", "1.1", "1.2"]) {
        const c = await window.openClient({ acceptVersions: [v] });
        out.push([v, c.version, c.log.open[0].headers.version ?? null]);
        await window.settled(c.disconnect(), 5000);
      }
      return out;
    });
    // A STOMP 1.0 server omits `version`; RabbitMQ sends it for every version.
    assert.deepEqual(r, [
      ["1.0", "1.0", "1.0"],
      ["1.1", "1.1", "1.1"],
      ["1.2", "1.2", "1.2"],
    ]);
    assert.deepEqual(page.problems, []);
  });
});

// ---------------------------------------------------------------------------------------------
// 8b. A broker that stops talking (SIGSTOP) is detected by the heart-beat watchdog. Last, so a
// slow recovery after SIGCONT cannot disturb the other tests.

function servers(cmd) {
  execFileSync("bash", [join(ROOT, "scripts", "servers.sh"), cmd, SERVERS_DIR], {
    stdio: ["ignore", "ignore", "pipe"],
    timeout: 10_000,
  });
}

// While RabbitMQ is stopped, any way out of this process resumes it first.
let rabbitStopped = false;
function resumeRabbit() {
  if (!rabbitStopped) return;
  servers("sigcont-rabbitmq");
  rabbitStopped = false;
}
process.on("exit", resumeRabbit);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    try {
      resumeRabbit();
    } finally {
      process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 })[sig]);
    }
  });
}

test("heart-beats 1000/1000: a broker that stops talking (SIGSTOP) is detected within ~2 intervals", {
  timeout: 30_000,
  skip: SERVERS_DIR ? false : "SERVERS_DIR is not set",
}, async (t) => {
  await withPage(async (page) => {
    await page.evaluate(async () => {
      window.c = await window.openClient({ heartbeatOutgoing: 1000, heartbeatIncoming: 1000 });
      await window.sleep(1500); // a few heart-beats each way first
    });
    let stoppedAt;
    try {
      stoppedAt = await page.evaluate(() => performance.now());
      rabbitStopped = true;
      servers("sigstop-rabbitmq");
      const r = await page.evaluate(async () => {
        const c = window.c;
        const end = performance.now() + 8000;
        while (!c.log.closes.length && !c.log.errors.length && performance.now() < end) await window.sleep(20);
        const first = Math.min(...[...c.log.closes, ...c.log.errors].map((e) => e.at));
        return { first, closes: c.log.closes.length, errors: c.log.errors.length, connected: c.connected };
      });
      assert.ok(r.closes + r.errors > 0, "neither onclose nor onerror within 8 s of SIGSTOP");
      const took = r.first - stoppedAt;
      t.diagnostic(`detected ${Math.round(took)} ms after SIGSTOP`);
      assert.ok(took <= 4000, `detected ${Math.round(took)} ms after SIGSTOP (limit 4000 ms)`);
      assert.equal(r.connected, false);
    } finally {
      rabbitStopped = true; // even if sigstop itself failed half-way
      resumeRabbit();
    }
    // The broker is back: a fresh connection works again (also guards the next test files).
    const peer = await StompPeer.connect({ timeout: 10_000 });
    peer.close();
  });
});
