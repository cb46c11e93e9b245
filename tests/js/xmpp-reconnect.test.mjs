// Automatic XMPP reconnection against the real Prosody (issue #7): Prosody is restarted under
// two connected XmppClients, alice and bob, who are roster contacts. Without any page code
// reconnecting, each client gets onreconnecting, then onopen(jid, {reconnected: true}); alice's
// roster is delivered again (onroster(items, {reloaded: true})) with bob in it, bob sees alice
// available again with the status she had set, and a message alice sent while Prosody was down
// (queued by the client) arrives at bob afterwards.
//
// Environment (scripts/with-servers.sh exports it): XMPP_WS_URL, XMPP_DOMAIN and SERVERS_DIR
// (the servers of that directory; the test restarts its Prosody). Skipped without SERVERS_DIR.
// The package comes from FULLDUPLEX_DIST (default: dist/).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, launch, openPage } from "./harness.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const WS = process.env.XMPP_WS_URL ?? "ws://127.0.0.1:5280/xmpp-websocket";
const DOMAIN = process.env.XMPP_DOMAIN ?? "localhost";
const SERVERS_DIR = process.env.SERVERS_DIR ?? "";
/** Bound on each wait. */
const T = 20_000;

let server, browser;
const users = [];

before(async () => {
  if (!SERVERS_DIR) return;
  server = await serve({
    "/dist/": process.env.FULLDUPLEX_DIST ?? join(ROOT, "dist"),
    "/fixtures/": join(HERE, "fixtures"),
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  for (const u of users) {
    try {
      prosodyctl("deluser", `${u}@${DOMAIN}`);
    } catch {}
  }
});

function prosodyctl(...args) {
  return execFileSync("bash", [join(ROOT, "scripts", "servers.sh"), "prosodyctl", SERVERS_DIR, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: T,
  });
}

/** Runs scripts/servers.sh CMD SERVERS_DIR; resolves with its run time in ms. */
function servers(cmd) {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    execFile("bash", [join(ROOT, "scripts", "servers.sh"), cmd, SERVERS_DIR], { timeout: 120_000 }, (err, _o, stderr) =>
      err ? reject(new Error(`${cmd}: ${err.message}\n${stderr}`)) : resolve(Date.now() - t0),
    );
  });
}

function freshUser(prefix) {
  const username = `${prefix}${randomBytes(4).toString("hex")}`;
  const password = `pw-${randomBytes(6).toString("hex")}`;
  prosodyctl("register", username, DOMAIN, password);
  users.push(username);
  return { username, password, jid: `${username}@${DOMAIN}` };
}

const bare = (jid) => String(jid).split("/")[0];

/** Waits until `fn(events of name, arg)` (run in the page) is truthy; returns its value. */
async function until(page, name, what, fn, arg, timeout = T) {
  try {
    const h = await page.waitForFunction(
      ([n, src, a]) => new Function("ev", "a", `return (${src})(ev, a);`)(window.R.events(n), a),
      [name, fn.toString(), arg],
      { timeout, polling: 50 },
    );
    return await h.jsonValue();
  } catch (e) {
    const evs = await page.evaluate((n) => window.R.events(n), name).catch(() => "(page gone)");
    assert.fail(`${name}: ${what} within ${timeout} ms (${e.message.split("\n")[0]}); events: ${JSON.stringify(evs)}`);
  }
}

async function call(page, name, method, ...args) {
  const r = await page.evaluate(([n, m, a]) => window.R.call(n, m, a), [name, method, args]);
  assert.equal(r.ok, true, `${name}.${method} failed: ${r.error}`);
  return r.value;
}

async function clientPage(name, user, reconnectDelay) {
  const page = await openPage(browser);
  await page.goto(`${server.url}/fixtures/xmpp-reconnect-page.html`);
  await page.waitForFunction(() => window.moduleLoaded === true, null, { timeout: T });
  // Short back-off so the test does not wait long for the server to come back.
  const options = {
    username: user.username,
    password: user.password,
    resource: "web",
    reconnectDelay,
    maxReconnectDelay: 2 * reconnectDelay,
  };
  await page.evaluate(([n, u, d, o]) => window.R.make(n, u, d, o), [name, WS, DOMAIN, options]);
  await until(page, name, "onopen", (ev) => ev.find((e) => e.t === "open"));
  return page;
}

test(
  "Prosody restarted under two XmppClients: they reconnect by themselves, roster and presence are restored, a message sent meanwhile arrives",
  { skip: SERVERS_DIR ? false : "SERVERS_DIR is not set (the test restarts that Prosody)", timeout: 120_000 },
  async () => {
    const alice = freshUser("rca");
    const bob = freshUser("rcb");
    // alice waits longer between retries than bob (first retry after 4-8 s: she goes offline
    // before it, see below).
    const pa = await clientPage("a", alice, 8000);
    const pb = await clientPage("b", bob, 300);
    try {
      // Become contacts with a mutual subscription (the pages approve requests).
      // Both available first: subscription requests reach available resources.
      await call(pb, "b", "setStatus", null, "bob here");
      await call(pa, "a", "setStatus", null, "alice here");
      await call(pa, "a", "addContact", bob.jid, "Bob");
      await call(pa, "a", "subscribe", bob.jid);
      await call(pb, "b", "subscribe", alice.jid);
      const both = async (page, name, other) => {
        for (let i = 0; i < 100; i++) {
          const items = await call(page, name, "getRoster");
          if (items.some((it) => it.jid === other && it.subscription === "both")) return;
          await new Promise((r) => setTimeout(r, 100));
        }
        const ev = await page.evaluate((n) => window.R.events(n), name);
        assert.fail(`${name}: no mutual subscription with ${other}: ${JSON.stringify(ev)}`);
      };
      await both(pa, "a", bob.jid);
      await both(pb, "b", alice.jid);
      // alice's presence, as bob sees it before the restart.
      const status = `lunch ${randomBytes(3).toString("hex")}`;
      await call(pa, "a", "setStatus", "away", status, 5);
      await until(pb, "b", "alice's presence", (ev, a) => ev.find((e) => e.t === "presence" && e.status === a), status);
      // A message alice's page sends as soon as she notices the outage (the server is down).
      await pa.evaluate(([to]) => window.R.sendWhenDown("a", to, "sent while down"), [bob.jid]);
      const marks = {
        a: (await pa.evaluate(() => window.R.events("a"))).length,
        b: (await pb.evaluate(() => window.R.events("b"))).length,
      };

      const restart = servers("restart-prosody");

      // alice: onreconnecting (page code does nothing), then onopen({reconnected: true}).
      const reconnecting = await until(pa, "a", "onreconnecting", (ev) => ev.find((e) => e.t === "reconnecting"));
      // This Prosody keeps no offline messages (mod_offline is disabled), so bob must be back
      // before alice sends her queue: as soon as her socket is gone, alice's browser goes
      // offline until bob is back, which her client obeys (no attempts offline, one at once
      // when the network returns). Her first retry waits 4-8 s, far longer than this takes.
      // (Offline before the drop would hide the server's close from the page.)
      await pa.context().setOffline(true);
      const took = await restart;
      assert.equal(reconnecting.attempt, 1);
      assert.equal(reconnecting.connected, false);
      assert.equal(reconnecting.url, WS);
      const sent = await until(pa, "a", "the message queued while down", (ev) =>
        ev.find((e) => e.t === "sent-while-down" || e.t === "send-failed"),
      );
      assert.equal(sent.t, "sent-while-down", JSON.stringify(sent));
      await until(pb, "b", "onopen again", (ev) => ev.find((e) => e.t === "open" && e.reconnected === true));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await pa.evaluate(() => window.R.connected("a")), false, "alice stays away while offline");
      await pa.context().setOffline(false);
      const reopened = await until(pa, "a", "onopen again", (ev) => ev.find((e) => e.t === "open" && e.reconnected === true));
      assert.match(reopened.jid, new RegExp(`^${alice.jid}/`));
      assert.equal(await pa.evaluate(() => window.R.connected("a")), true);
      // Her roster is delivered again, with bob in it.
      const roster = await until(pa, "a", "the roster again", (ev) => ev.find((e) => e.t === "roster" && e.reloaded === true));
      assert.ok(roster.items.some((i) => i.jid === bob.jid && i.subscription === "both"), JSON.stringify(roster));
      // bob (reconnected too) sees alice available again with her status.
      const again = await until(
        pb,
        "b",
        "alice available again",
        (ev, [from, m]) =>
          ev.slice(m).find((e) => e.t === "presence" && String(e.from).split("/")[0] === from && e.type == null),
        [alice.jid, marks.b],
      );
      assert.equal(again.status, status);
      assert.equal(again.show, "away");
      // The message alice sent while Prosody was down arrives.
      const msg = await until(pb, "b", "the message sent while down", (ev) =>
        ev.find((e) => e.t === "message" && e.body === "sent while down"),
      );
      assert.equal(bare(msg.from), alice.jid);
      // No close on either side; no page code reconnected.
      for (const [p, n] of [
        [pa, "a"],
        [pb, "b"],
      ]) {
        const ev = await p.evaluate((x) => window.R.events(x), n);
        assert.deepEqual(
          ev.filter((e) => e.t === "close"),
          [],
          `${n}: ${JSON.stringify(ev.slice(marks[n]))}`,
        );
        assert.equal(ev.filter((e) => e.t === "open").length, 2, `${n}: one onopen per connection`);
      }
      const evA = await pa.evaluate(() => window.R.events("a"));
      const openAt = evA.find((e) => e.t === "open" && e.reconnected).at;
      console.log(`# restart-prosody took ${took} ms; alice back ${openAt - reconnecting.at} ms after onreconnecting`);
      await call(pa, "a", "disconnect");
      await call(pb, "b", "disconnect");
      const closed = await until(pa, "a", "onclose after disconnect", (ev) => ev.find((e) => e.t === "close"));
      assert.ok(closed);
    } finally {
      await pa.context().close().catch(() => {});
      await pb.context().close().catch(() => {});
    }
  },
);
