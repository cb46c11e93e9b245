// Shared mode (`{ shared: true }`, js/shared/): pages of one origin share one session run in a
// SharedWorker, against the real servers. STOMP: five pages subscribed to one topic make one
// broker connection and one consumer (counted with rabbitmqctl in a vhost of this test's own),
// every page gets every message, closing the opener and crashing another page leave the rest
// running, the last page leaving closes the connection; with SharedWorker deleted each page
// falls back to its own connection and the same checks pass. XMPP: two pages share one
// session (same full JID), both receive a message sent to it, identical presence goes out once,
// and a page asking for another resource gets its own session. The classic-script build starts
// its own (classic) worker; client-ack subscriptions stay one per page so acks are routed to
// the page that got the message, and a page leaving with unacknowledged ones neither breaks
// the connection nor loses them. A dropped connection (rabbitmqctl close_all_connections)
// reconnects once for all pages.
//
// Connections are counted from `rabbitmqctl list_channels` (3.x lists web-STOMP there).
// Environment (scripts/with-servers.sh): STOMP_WS_URL, XMPP_WS_URL, XMPP_DOMAIN, SERVERS_DIR.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, launch } from "./harness.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const WS_URL = process.env.STOMP_WS_URL ?? "ws://127.0.0.1:15674/ws";
const XMPP_URL = process.env.XMPP_WS_URL ?? "ws://127.0.0.1:5280/xmpp-websocket";
const DOMAIN = process.env.XMPP_DOMAIN ?? "localhost";
const SERVERS_DIR = process.env.SERVERS_DIR;

let server, browser;

before(async () => {
  server = await serve({
    "/dist/": process.env.FULLDUPLEX_DIST ?? join(ROOT, "dist"),
    "/": join(HERE, "fixtures"),
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const step = (s) => process.env.SHARED_TEST_LOG && appendFileSync(process.env.SHARED_TEST_LOG, new Date().toISOString() + " " + s + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const unique = (name) => `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

function servers(tool, ...args) {
  return execFileSync("bash", [join(ROOT, "scripts", "servers.sh"), tool, SERVERS_DIR, ...args], {
    encoding: "utf8",
    timeout: 60000,
    stdio: ["ignore", "pipe", "pipe"],
  });
}
/** Data rows of a `rabbitmqctl -q --no-table-headers ...` as arrays of columns. */
function rows(...args) {
  const out = servers("rabbitmqctl", "-q", "--no-table-headers", ...args);
  return out.split("\n").filter((l) => l.trim()).map((l) => l.split("\t"));
}
// RabbitMQ 3.x does not list web-STOMP connections in list_connections; each has one channel
// (named "peer -> listener (1)"), so connections are counted from list_channels.
const connections = (vhost) =>
  new Set(rows("list_channels", "vhost", "name").filter((r) => r[0] === vhost).map((r) => r[1].replace(/ \(\d+\)$/, ""))).size;
const consumers = (vhost) => rows("list_consumers", "-p", vhost, "queue_name").length;

/** Pages in one browser context (one origin, one SharedWorker), SharedWorker removed if asked. */
async function openPages(context, n, { noSharedWorker = false } = {}) {
  const pages = [];
  for (let i = 0; i < n; i++) {
    const page = await context.newPage();
    page.problems = [];
    page.on("pageerror", (e) => page.problems.push(String(e)));
    if (noSharedWorker) await page.addInitScript(() => delete window.SharedWorker);
    await page.goto(`${server.url}/shared-page.html`);
    await page.waitForFunction(() => window.ready === true, null, { timeout: 5000 });
    pages.push(page);
  }
  return pages;
}

/** Publishes `count` messages from `from` and waits until every page in `pages` has them all. */
async function publishAndCheck(from, pages, dest, tag, count) {
  await from.evaluate(
    async ({ dest, tag, count }) => {
      for (let i = 0; i < count; i++) await window.stomp.send(`${tag}-${i}`, dest);
    },
    { dest, tag, count },
  );
  for (const p of pages) {
    const got = await p.evaluate(
      async ({ tag, count }) => {
        await window.until(() => window.got.filter((b) => b.startsWith(tag + "-")).length >= count, 10000, tag);
        return window.got.filter((b) => b.startsWith(tag + "-"));
      },
      { tag, count },
    );
    assert.deepEqual(got, Array.from({ length: count }, (_, i) => `${tag}-${i}`));
  }
}

/** Debugging aid (SHARED_TEST_LOG set): the SharedWorker's console and exceptions into the log. */
async function watchWorker() {
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = await cdp.send("Target.getTargets");
  for (const w of targetInfos.filter((t) => t.type === "shared_worker")) {
    const { sessionId } = await cdp.send("Target.attachToTarget", { targetId: w.targetId, flatten: false });
    cdp.on("Target.receivedMessageFromTarget", (e) => {
      const m = JSON.parse(e.message);
      if (m.method === "Runtime.consoleAPICalled" || m.method === "Runtime.exceptionThrown") step("worker " + JSON.stringify(m.params).slice(0, 600));
    });
    await cdp.send("Target.sendMessageToTarget", { sessionId, message: JSON.stringify({ id: 1, method: "Runtime.enable" }) });
  }
}

/** Waits until `fn()` equals `want` (rabbitmqctl's view lags a little). */
async function eventually(fn, want, ms = 15000) {
  const end = Date.now() + ms;
  let v;
  while ((v = fn()) !== want && Date.now() < end) await sleep(300);
  return v;
}

/** The whole STOMP scenario, shared or each page on its own. */
async function stompScenario(shared) {
  const vhost = unique(shared ? "fd-shared" : "fd-dedicated");
  servers("rabbitmqctl", "add_vhost", vhost);
  servers("rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
  const context = await browser.newContext();
  try {
    const dest = "/topic/shared-test";
    const expected = shared ? 1 : 5;
    // Two pages first, then five.
    step('const pages = await openPages(context, 2');
    const pages = await openPages(context, 2, { noSharedWorker: !shared });
    for (const p of pages) {
      const r = await p.evaluate(({ url, vhost, dest }) => window.startStomp(url, vhost, dest, true), { url: WS_URL, vhost, dest });
      assert.equal(r.instance, true);
      assert.equal(r.version, "1.2");
      assert.equal(r.id, "sub-0");
    }
    assert.equal(await eventually(() => connections(vhost), shared ? 1 : 2), shared ? 1 : 2);
    step('await publishAndCheck(pages[1], pages, d');
    await publishAndCheck(pages[1], pages, dest, "two", 5);
    pages.push(...(await openPages(context, 3, { noSharedWorker: !shared })));
    for (const p of pages.slice(2)) {
      await p.evaluate(({ url, vhost, dest }) => window.startStomp(url, vhost, dest, true), { url: WS_URL, vhost, dest });
    }
    assert.equal(await eventually(() => connections(vhost), expected), expected, "broker connections");
    assert.equal(await eventually(() => consumers(vhost), expected), expected, "broker consumers");
    step('await publishAndCheck(pages[3], pages, d');
    await publishAndCheck(pages[3], pages, dest, "five", 20);
    // Every page opened once.
    for (const p of pages) assert.equal(await p.evaluate(() => window.opens), 1);

    // The page that opened the connection closes: the others carry on.
    step('await pages[0].close();');
    await pages[0].close();
    const rest = pages.slice(1);
    await publishAndCheck(rest[0], rest, dest, "after-close", 5);
    assert.equal(await eventually(() => connections(vhost), shared ? 1 : 4), shared ? 1 : 4);

    // A page crashes (its renderer dies without pagehide): the others carry on.
    step('const cdp = await context.newCDPSession(');
    const cdp = await context.newCDPSession(rest[1]);
    // Page.crash never answers: wait for the page's crash event instead.
    const crashed = new Promise((resolve) => rest[1].once("crash", resolve));
    cdp.send("Page.crash").catch(() => {});
    await crashed;
    const alive = [rest[0], rest[2], rest[3]];
    await publishAndCheck(rest[2], alive, dest, "after-crash", 5);
    if (shared) {
      // The crashed page's subscription was given back: still one consumer, one connection.
      assert.equal(await eventually(() => consumers(vhost), 1), 1);
      assert.equal(connections(vhost), 1);
    }

    // One page unsubscribes: in shared mode the broker subscription stays for the others.
    step('await alive[0].evaluate(() => window.sub');
    await alive[0].evaluate(() => window.sub.unsubscribe());
    await publishAndCheck(alive[1], alive.slice(1), dest, "after-unsub", 3);
    assert.equal(await alive[0].evaluate(() => window.got.some((b) => b.startsWith("after-unsub"))), false);

    // A page disconnects: it gets its own onclose; the others keep the connection.
    step('const closed = await alive[0].evaluate(a');
    const closed = await alive[0].evaluate(async () => {
      await window.stomp.disconnect();
      await window.until(() => window.closes.length, 5000, "onclose");
      return [window.closes[0].wasClean, window.stomp.connected];
    });
    // (wasClean is the broker's word for an ordinary client; the shared detach is always clean.)
    assert.deepEqual(shared ? closed : [true, closed[1]], [true, false]);
    await publishAndCheck(alive[2], alive.slice(1), dest, "after-disconnect", 3);
    for (const p of [...pages, ...alive]) assert.deepEqual(p.isClosed() || p === rest[1] ? [] : p.problems, []);

    // The last pages leave: the connection closes (after the grace period).
    step('for (const p of alive.slice(1)) await p.');
    for (const p of alive.slice(1)) await p.close();
    assert.equal(await eventually(() => connections(vhost), 0), 0, "connection closed after the last page");
  } finally {
    await context.close();
    servers("rabbitmqctl", "delete_vhost", vhost);
  }
}

test("STOMP shared: five pages, one connection and one consumer; survives close and crash", { timeout: 120000 }, () =>
  stompScenario(true));

test("STOMP without SharedWorker: each page falls back to its own connection", { timeout: 120000 }, () =>
  stompScenario(false));

test("STOMP shared: classic-script build, and ack routing of client-ack subscriptions", { timeout: 120000 }, async () => {
  const vhost = unique("fd-shared-classic");
  servers("rabbitmqctl", "add_vhost", vhost);
  servers("rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
  const context = await browser.newContext();
  try {
    const pages = [];
    for (let i = 0; i < 2; i++) {
      const page = await context.newPage();
      page.problems = [];
      page.on("pageerror", (e) => page.problems.push(String(e)));
      await page.goto(`${server.url}/shared-classic.html`);
      await page.waitForFunction(() => window.ready === true, null, { timeout: 5000 });
      assert.equal(await page.evaluate(({ url, vhost }) => window.start(url, vhost, "/topic/classic"), { url: WS_URL, vhost }), "1.2");
      pages.push(page);
    }
    assert.equal(await eventually(() => connections(vhost), 1), 1);
    assert.equal(consumers(vhost), 1);
    if (process.env.SHARED_TEST_WATCH) await watchWorker();
    await pages[0].evaluate(() => window.stomp.send("hello", "/topic/classic"));
    for (const p of pages) {
      const got = await p.evaluate(
        () =>
          new Promise((resolve) => {
            const t = setInterval(() => window.got.length && (clearInterval(t), resolve(window.got)), 10);
          }),
      );
      assert.deepEqual(got, ["hello"]);
    }

    // client-individual subscriptions are not merged: each page has its own consumer, and a
    // message is acknowledged by the page that got it (one queue, two competing consumers).
    step('const queue = "/queue/" + uniq');
    const queue = "/queue/" + unique("acks");
    for (const p of pages) {
      await p.evaluate((queue) => {
        window.acked = [];
        window.stomp.subscribe(queue, (headers, body, message) => {
          message.ack().then(() => window.acked.push(body));
        }, { ack: "client-individual" }).receipt;
      }, queue);
    }
    assert.equal(await eventually(() => consumers(vhost), 3), 3);
    await pages[1].evaluate(async (queue) => {
      for (let i = 0; i < 10; i++) await window.stomp.send(`m${i}`, queue);
    }, queue);
    const deadline = Date.now() + 10000;
    let acked = [];
    while (Date.now() < deadline) {
      acked = (await Promise.all(pages.map((p) => p.evaluate(() => window.acked)))).flat().sort();
      if (acked.length >= 10) break;
      await sleep(100);
    }
    assert.deepEqual(acked, Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
    // Nothing left unacknowledged in the queue.
    await sleep(500);
    const q = rows("list_queues", "-p", vhost, "name", "messages_unacknowledged").filter((r) => r[0] !== "" && !r[0].startsWith("stomp-subscription"));
    for (const r of q) assert.equal(r[1], "0", `unacked in ${r[0]}`);
    for (const p of pages) assert.deepEqual(p.problems, []);

    // A page that leaves with a message it never acknowledged: the shared connection stays up
    // for the other page (no ERROR), and the message is not lost: once the last page has left
    // and the connection closed, a new client gets it redelivered.
    step('const held = "/queue/" + uniqu');
    const held = "/queue/" + unique("held");
    await pages[0].evaluate((held) => {
      window.held = [];
      window.stomp.subscribe(held, (h, body) => window.held.push(body), { ack: "client-individual" });
    }, held);
    step("held subscribed");
    assert.equal(await eventually(() => consumers(vhost), 4), 4);
    step("4 consumers");
    const sentHeld = await pages[1].evaluate(
      (held) =>
        Promise.race([
          window.stomp.send("unacked", held).then(() => "sent", (e) => e.message),
          new Promise((r) => setTimeout(() => r(`pending; connected ${window.stomp.connected}, ops ${window.stomp._ops.size}`), 5000)),
        ]),
      held,
    );
    step("held send: " + sentHeld);
    assert.equal(sentHeld, "sent");
    const heldGot = await pages[0].evaluate(async () => {
      const end = Date.now() + 5000;
      while (!window.held.length && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      return window.held;
    });
    assert.deepEqual(heldGot, ["unacked"]);
    await pages[1].evaluate(() => {
      window.errs = [];
      window.stomp.onerror = (h, body) => window.errs.push(`error ${JSON.stringify(h)} ${body}`);
      window.stomp.onclose = (e) => window.errs.push(`close ${JSON.stringify(e)}`);
    });
    await pages[0].close();
    await sleep(300);
    const up = await pages[1].evaluate(async () => {
      const sent = await Promise.race([
        window.stomp.send("still up", "/topic/classic").then(() => "sent", (e) => e.message),
        new Promise((r) => setTimeout(() => r("send pending"), 5000)),
      ]);
      const end = Date.now() + 5000;
      while (!window.got.includes("still up") && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      return [sent, window.got.includes("still up"), window.errs];
    });
    step("still up: " + JSON.stringify(up));
    assert.deepEqual(up, ["sent", true, []]);
    assert.equal(await pages[1].evaluate(() => window.stomp.connected), true);
    step('await pages[1].close();\n    as');
    await pages[1].close();
    assert.equal(await eventually(() => connections(vhost), 0), 0);
    step('const [fresh] = await openPage');
    const [fresh] = await openPages(await browser.newContext(), 1);
    const redelivered = await fresh.evaluate(
      ({ url, vhost, held }) =>
        new Promise((resolve) => {
          const c = new window.fd.StompClient({ shared: true });
          c.connect(url, { login: "guest", passcode: "guest", host: vhost });
          c.subscribe(held, (h, body) => resolve([body, h.redelivered]));
          setTimeout(() => resolve(["nothing after 10 s", c.connected]), 10000);
        }),
      { url: WS_URL, vhost, held },
    );
    step("redelivered: " + JSON.stringify(redelivered));
    assert.deepEqual(redelivered, ["unacked", "true"]);
    await fresh.context().close();
  } finally {
    await context.close();
    servers("rabbitmqctl", "delete_vhost", vhost);
  }
});

test("STOMP shared: a dropped connection reconnects once for every page; a repeat subscribe in onopen is not doubled", { timeout: 60000 }, async () => {
  const vhost = unique("fd-shared-reconnect");
  servers("rabbitmqctl", "add_vhost", vhost);
  servers("rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
  const context = await browser.newContext();
  const dest = "/topic/reconnect";
  try {
    const pages = await openPages(context, 2);
    for (const p of pages) {
      await p.evaluate(({ url, vhost, dest }) => window.startStomp(url, vhost, dest, true), { url: WS_URL, vhost, dest });
      // The talk's pattern: (re)subscribe in onopen.
      await p.evaluate((dest) => {
        window.reconnecting = 0;
        window.stomp.onreconnecting = () => window.reconnecting++;
        window.stomp.onopen = (headers, info) => {
          window.opens++;
          window.reopened = info.reconnected;
          window.again = window.stomp.subscribe(dest, (h, body) => window.got.push(body));
        };
      }, dest);
    }
    servers("rabbitmqctl", "close_all_connections", "-p", vhost, "test");
    for (const p of pages) {
      const r = await p.evaluate(async () => {
        await window.until(() => window.opens === 2 && window.stomp.connected, 15000, "reconnected");
        return [window.reconnecting, window.reopened, window.again.id === window.sub.id];
      });
      assert.deepEqual(r, [1, true, true]);
    }
    assert.equal(await eventually(() => connections(vhost), 1), 1);
    assert.equal(await eventually(() => consumers(vhost), 1), 1);
    await publishAndCheck(pages[0], pages, dest, "after-reconnect", 5);
    await sleep(300);
    for (const p of pages) assert.equal(await p.evaluate(() => window.got.length), 5);
  } finally {
    await context.close();
    servers("rabbitmqctl", "delete_vhost", vhost);
  }
});

test("XMPP shared: one session per account across pages, presence sent once", { timeout: 60000 }, async () => {
  const user = unique("sh").toLowerCase();
  servers("prosodyctl", "register", user, DOMAIN, "pw-" + user);
  const context = await browser.newContext();
  const other = await browser.newContext();
  try {
    const pages = await openPages(context, 2);
    const login = (p, resource) =>
      p.evaluate(
        ({ url, domain, user, resource }) => window.startXmpp(url, domain, user, "pw-" + user, resource, true),
        { url: XMPP_URL, domain: DOMAIN, user, resource },
      );
    const a = await login(pages[0]);
    const b = await login(pages[1]);
    assert.equal(a.instance, true);
    assert.equal(a.connected, true);
    assert.ok(a.jid.startsWith(`${user}@${DOMAIN}/`), a.jid);
    assert.equal(b.jid, a.jid, "the second page shares the first page's session");
    assert.equal(b.getter, a.jid);

    // Identical presence from both pages goes out once.
    for (const p of pages) await p.evaluate(() => window.xmpp.setStatus("chat", "shared"));
    await sleep(500);
    assert.equal(await pages[0].evaluate(() => window.presenceOut), 1);

    // A message to the shared JID reaches both pages. The sender is an ordinary client.
    const [sender] = await openPages(other, 1);
    await sender.evaluate(
      ({ url, domain, user }) => window.startXmpp(url, domain, user, "pw-" + user, "sender", false),
      { url: XMPP_URL, domain: DOMAIN, user },
    );
    await sender.evaluate((to) => window.xmpp.sendMessage(to, "to both"), a.jid);
    for (const p of pages) {
      assert.deepEqual(await p.evaluate(() => window.until(() => window.xgot.length, 5000, "message").then(() => window.xgot)), ["to both"]);
    }

    // A page that asks for its own resource gets its own session.
    const [third] = await openPages(context, 1);
    const c = await login(third, "mine");
    assert.equal(c.jid, `${user}@${DOMAIN}/mine`);
    for (const p of [...pages, third]) assert.deepEqual(p.problems, []);
  } finally {
    await context.close();
    await other.close();
    try {
      servers("prosodyctl", "deluser", `${user}@${DOMAIN}`);
    } catch {
      // best effort
    }
  }
});
