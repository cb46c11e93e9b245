// The XMPP everyday extensions of the built package (dist/xmpp.js) in headless Chromium against
// the real Prosody (XMPP_WS_URL, XMPP_DOMAIN, XMPP_MUC_DOMAIN, XMPP_MAM, SERVERS_DIR from
// scripts/with-servers.sh): stream management with resumption (through a TCP proxy this file
// runs, which can black-hole and reset a connection), MUC, carbons, receipts, chat states,
// disco and caps, MAM. Every test uses fresh accounts, so runs never see each other's state.
//
// The page is fixtures/xmpp-ext-page.html with fixtures/xmpp-ext-harness.js (window.X).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, launch, openPage } from "./harness.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const WS = process.env.XMPP_WS_URL ?? "ws://127.0.0.1:5280/xmpp-websocket";
const DOMAIN = process.env.XMPP_DOMAIN ?? "localhost";
const MUC = process.env.XMPP_MUC_DOMAIN ?? `conference.${DOMAIN}`;
const MAM = (process.env.XMPP_MAM ?? "1") !== "0";
const SERVERS_DIR = process.env.SERVERS_DIR ?? "";
/** Bound on every wait. */
const T = 15000;

let server, browser, proxy;
const pages = [];
const createdUsers = [];

before(async () => {
  server = await serve({
    "/dist/": process.env.FULLDUPLEX_DIST ?? join(ROOT, "dist"),
    "/fixtures/": join(HERE, "fixtures"),
  });
  browser = await launch();
  proxy = await startProxy(new URL(WS));
});

after(async () => {
  for (const p of pages) await p.context().close().catch(() => {});
  await browser?.close();
  await server?.close();
  await proxy?.close();
  if (SERVERS_DIR) {
    for (const u of createdUsers) {
      try {
        prosodyctl("deluser", `${u}@${DOMAIN}`);
      } catch {
        // already gone
      }
    }
  }
});

// ------------------------------------------------------------------------------- proxy

/**
 * A TCP proxy to the WebSocket server. `holes` black-holes both directions of the current
 * connections (bytes are dropped, the sockets stay open); `reset` destroys them with a TCP RST;
 * `refuse` makes new connections fail at once.
 */
async function startProxy(target) {
  const conns = new Set();
  const state = { refuse: false, accepted: 0 };
  const srv = net.createServer((client) => {
    state.accepted += 1;
    if (state.refuse) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(Number(target.port || 80), target.hostname);
    const c = { client, upstream, hole: false };
    conns.add(c);
    client.on("data", (d) => c.hole || upstream.write(d));
    upstream.on("data", (d) => c.hole || client.write(d));
    const end = () => {
      conns.delete(c);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", () => {});
    upstream.on("error", () => {});
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const url = new URL(target);
  url.host = `127.0.0.1:${srv.address().port}`;
  return {
    url: url.href,
    state,
    count: () => conns.size,
    hole() {
      for (const c of conns) c.hole = true;
    },
    reset() {
      for (const c of [...conns]) {
        conns.delete(c);
        c.client.resetAndDestroy();
        c.upstream.resetAndDestroy();
      }
    },
    close() {
      this.reset();
      return new Promise((r) => srv.close(r));
    },
  };
}

// ------------------------------------------------------------------------------- helpers

function prosodyctl(...args) {
  return execFileSync(
    "bash",
    [join(ROOT, "scripts", "servers.sh"), "prosodyctl", SERVERS_DIR, ...args],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: T },
  );
}

function bare(jid) {
  return jid.split("/")[0];
}

function summarize(v) {
  const s = JSON.stringify(v, (k, x) => (typeof x === "string" && x.length > 200 ? x.slice(0, 200) + "…" : x));
  return String(s).slice(0, 4000);
}

async function xmppPage() {
  const page = await openPage(browser);
  pages.push(page);
  await page.goto(`${server.url}/fixtures/xmpp-ext-page.html`);
  await page.waitForFunction(() => window.moduleLoaded === true, null, { timeout: T });
  return page;
}

async function make(page, name) {
  await page.evaluate((n) => X.make(n), name);
}

async function call(page, name, method, ...args) {
  return page.evaluate(([n, m, a]) => X.call(n, m, a), [name, method, args]);
}

async function ok(page, name, method, ...args) {
  const r = await call(page, name, method, ...args);
  assert.equal(r.ok, true, `${name}.${method}(${summarize(args)}) failed: ${summarize(r.error)}`);
  return r.value;
}

async function fails(page, name, method, ...args) {
  const r = await call(page, name, method, ...args);
  assert.equal(r.ok, false, `${name}.${method} succeeded with ${summarize(r.value)}`);
  assert.notEqual(r.timeout, true, `${name}.${method} neither resolved nor rejected`);
  return r.error;
}

async function events(page, name) {
  return page.evaluate((n) => X.events(n), name);
}

/** Waits until `fn(arg)` (run in the page) is truthy; returns its value. */
async function until(page, what, fn, arg, timeout = T) {
  try {
    const h = await page.waitForFunction(fn, arg, { timeout, polling: 25 });
    return await h.jsonValue();
  } catch (e) {
    assert.fail(`${what}: not within ${timeout} ms (${e.message.split("\n")[0]})`);
  }
}

/** Waits for an event `t` on `name` whose first argument matches `match`; returns it. */
async function waitEvent(page, name, t, match, timeout = T) {
  try {
    const h = await page.waitForFunction(
      ([n, ty, m]) => X.find(n, ty, m === null ? undefined : m)[0] || null,
      [name, t, match ?? null],
      { timeout, polling: 25 },
    );
    return await h.jsonValue();
  } catch {
    const evs = await events(page, name).catch(() => "(page gone)");
    assert.fail(`${name}: no "${t}" matching ${summarize(match)} within ${timeout} ms; events: ${summarize(evs)}`);
  }
}

/** A fresh account on the real server. */
async function freshUser(page, prefix) {
  const username = `${prefix.toLowerCase()}${randomBytes(5).toString("hex")}`;
  const password = `pw-${randomBytes(6).toString("hex")}`;
  if (SERVERS_DIR) {
    prosodyctl("register", username, DOMAIN, password);
  } else {
    const n = `reg-${username}`;
    await make(page, n);
    await page.evaluate(([c, u, d]) => X.connect(c, u, d), [n, WS, DOMAIN]);
    await waitEvent(page, n, "open");
    await ok(page, n, "register", username, password);
    await ok(page, n, "disconnect");
  }
  createdUsers.push(username);
  return { username, password };
}

/** Makes client `name` and logs in; returns the full JID. */
async function online(page, name, user, options = {}, url = WS) {
  await make(page, name);
  await page.evaluate(([n, u, d, o]) => X.connect(n, u, d, o), [
    name,
    url,
    DOMAIN,
    { username: user.username, password: user.password, ...options },
  ]);
  const ev = await waitEvent(page, name, "open");
  assert.match(ev.a, new RegExp(`^${user.username}@${DOMAIN}/.+$`));
  return ev.a;
}

function noErrors(evs, what) {
  const bad = evs.filter((e) => e.t === "error" || e.t === "close");
  assert.deepEqual(bad, [], `${what}: ${summarize(bad)}`);
}

function seq(prefix, n) {
  return Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
}

// ------------------------------------------------------------------- stream management

test("stream management: the WebSocket is killed while 100 messages flow each way; after resume each arrived exactly once, in order", async () => {
  const page = await xmppPage();
  const A = await freshUser(page, "sma");
  const B = await freshUser(page, "smb");
  // alice goes through the proxy; bob connects directly.
  const aJid = await online(page, "a", A, { resource: "sm" }, proxy.url);
  const bJid = await online(page, "b", B, { resource: "sm" });
  // Stream management is on: the server acknowledges (no ack traffic is visible to the page).
  const N = 100;
  const floods = page.evaluate(
    ([a, b, n]) => Promise.all([X.flood("a", b, "a", n, 15), X.flood("b", a, "b", n, 15)]),
    [aJid, bJid, N],
  );
  // Mid-conversation: black-hole alice's connection (messages in flight both ways are lost in
  // the network), then reset it.
  await until(page, "bob receives 30 of alice's messages", (a) => X.bodies("b", a).length >= 30, bare(aJid));
  proxy.hole();
  await new Promise((r) => setTimeout(r, 400));
  proxy.reset();
  const [fa, fb] = await floods;
  assert.deepEqual([fa.errors, fb.errors], [[], []], "sendMessage never throws during the outage");
  await until(
    page,
    "both sides receive all 100 messages",
    ([a, b, n]) => X.bodies("b", a).length >= n && X.bodies("a", b).length >= n,
    [bare(aJid), bare(bJid), N],
  );
  // Let duplicates, if any, arrive before judging.
  await new Promise((r) => setTimeout(r, 1000));
  const toB = await page.evaluate((a) => X.bodies("b", a), bare(aJid));
  const toA = await page.evaluate((b) => X.bodies("a", b), bare(bJid));
  assert.deepEqual(toB, seq("a", N), "alice → bob: each message exactly once, in order");
  assert.deepEqual(toA, seq("b", N), "bob → alice: each message exactly once, in order");
  const evA = await events(page, "a");
  assert.equal(evA.filter((e) => e.t === "resumed").length, 1, summarize(evA.filter((e) => e.t !== "message")));
  assert.ok(evA.some((e) => e.t === "reconnecting" && e.a.attempt === 1));
  assert.equal(evA.filter((e) => e.t === "open").length, 1, "no fresh session");
  noErrors(evA, "alice");
  noErrors(await events(page, "b"), "bob");
  assert.equal(await page.evaluate(() => X.prop("a", "jid")), aJid, "same full JID after resume");
  assert.equal(await page.evaluate(() => X.prop("a", "connected")), true);
  assert.ok(proxy.state.accepted >= 2, "alice reconnected through the proxy");
  // The resumed session works both ways.
  await ok(page, "a", "sendMessage", bJid, "after", { type: "chat" });
  await until(page, "bob gets 'after'", (a) => X.bodies("b", a).includes("after"), bare(aJid));
  await ok(page, "a", "disconnect");
  await ok(page, "b", "disconnect");
  assert.deepEqual(page.problems, []);
});

test("stream management: resumption refused → unacknowledged stanzas reported, fresh session", async () => {
  const page = await xmppPage();
  const A = await freshUser(page, "smfa");
  const B = await freshUser(page, "smfb");
  const aJid = await online(page, "a", A, { resource: "r1", debug: true }, proxy.url);
  const bJid = await online(page, "b", B);
  await ok(page, "a", "sendMessage", bJid, "before", { type: "chat" });
  await until(page, "bob gets 'before'", (a) => X.bodies("b", a).includes("before"), bare(aJid));
  await until(page, "the server acknowledges it", () =>
    X.debugLines("a").some(([d, x]) => d === "in" && /^<a [^>]*h=["']1["']/.test(x)),
  );
  // alice's stanzas now vanish on the way: they are sent but never acknowledged.
  proxy.hole();
  const lost = [];
  for (const body of ["lost1", "lost2", "lost3"]) {
    lost.push(await ok(page, "a", "sendMessage", bJid, body, { type: "chat", id: true }));
  }
  // The drop; new connections are refused while another login with the same resource
  // replaces the hibernating session, so it cannot be resumed.
  proxy.state.refuse = true;
  proxy.reset();
  await waitEvent(page, "a", "reconnecting");
  const kicker = await online(page, "a2", A, { resource: "r1" });
  assert.equal(kicker, aJid);
  await ok(page, "a2", "disconnect");
  proxy.state.refuse = false;
  // alice reconnects, the server refuses the resumption: the three may not have arrived.
  const err = await waitEvent(page, "a", "error", { condition: "unacknowledged" });
  const stanzas = err.a.stanzas;
  assert.equal(stanzas.length, 3, summarize(stanzas));
  lost.forEach((id, i) => {
    assert.match(stanzas[i], new RegExp(`id="${id}"`));
    assert.match(stanzas[i], new RegExp(`<body>lost${i + 1}</body>`));
  });
  // Then a fresh session: onopen again with a JID, and it works.
  await until(page, "second onopen", () => X.find("a", "open").length === 2);
  const again = (await events(page, "a")).filter((e) => e.t === "open")[1].a;
  assert.match(again, new RegExp(`^${A.username}@${DOMAIN}/`));
  assert.equal(await page.evaluate(() => X.prop("a", "connected")), true);
  await ok(page, "a", "sendMessage", bJid, "fresh", { type: "chat" });
  await until(page, "bob gets 'fresh'", (a) => X.bodies("b", a).includes("fresh"), bare(aJid));
  const toB = await page.evaluate((a) => X.bodies("b", a), bare(aJid));
  assert.deepEqual(toB, ["before", "fresh"], "the black-holed messages really were lost");
  const evA = await events(page, "a");
  assert.equal(evA.filter((e) => e.t === "resumed").length, 0);
  assert.equal(evA.filter((e) => e.t === "close").length, 0);
  await ok(page, "a", "disconnect");
  await ok(page, "b", "disconnect");
  // Chromium logs each refused reconnection attempt (as a reset, or "not connected"); nothing else.
  const refused = `WebSocket connection to '${proxy.url}' failed`;
  assert.deepEqual(page.problems.filter((p) => !p.startsWith(refused)), []);
});

// ------------------------------------------------------------------------------------ MUC

test("MUC: three clients join a room, see each other come and go, exchange messages; a nickname clash is a clear error", async () => {
  const page = await xmppPage();
  const [A, B, C] = [await freshUser(page, "muca"), await freshUser(page, "mucb"), await freshUser(page, "mucc")];
  const aJid = await online(page, "a", A);
  const bJid = await online(page, "b", B);
  const cJid = await online(page, "c", C);
  const room = `room${randomBytes(4).toString("hex")}@${MUC}`;

  // alice creates the room (the client accepts the default configuration, unlocking it).
  assert.equal(await ok(page, "a", "joinRoom", room, "alice"), "(undefined)");
  const aSelf = await waitEvent(page, "a", "occupant", { room, nick: "alice", self: true });
  assert.equal(aSelf.a.affiliation, "owner");
  assert.equal(aSelf.a.role, "moderator");
  assert.equal(aSelf.a.type, null);
  assert.ok(aSelf.a.codes.includes(110) && aSelf.a.codes.includes(201), summarize(aSelf.a.codes));

  await ok(page, "b", "joinRoom", room, "bob", { maxStanzas: 0 });
  // bob sees alice (already there) then himself; alice sees bob arrive.
  const bSeesA = await waitEvent(page, "b", "occupant", { room, nick: "alice" });
  assert.equal(bSeesA.a.self, false);
  assert.equal(bSeesA.a.affiliation, "owner");
  await waitEvent(page, "b", "occupant", { room, nick: "bob", self: true });
  const aSeesB = await waitEvent(page, "a", "occupant", { room, nick: "bob", type: null });
  assert.equal(aSeesB.a.role, "participant");
  assert.equal(aSeesB.a.self, false);

  // carol asks for "bob": the nickname is taken.
  const clash = await fails(page, "c", "joinRoom", room, "bob");
  assert.equal(clash.condition, "conflict");
  assert.equal(clash.isError, true);
  assert.match(clash.message, /conflict/);
  assert.match(clash.text, /nickname/i);
  // She joins as carol instead; everyone sees her.
  await ok(page, "c", "joinRoom", room, "carol");
  for (const n of ["a", "b"]) await waitEvent(page, n, "occupant", { room, nick: "carol", type: null });
  for (const nick of ["alice", "bob", "carol"]) await waitEvent(page, "c", "occupant", { room, nick });

  // Each sends a groupchat message; everyone (the sender too) receives all three, in order.
  const said = { a: "hello from alice <&>", b: "bob here 🌍", c: "carol says hi" };
  for (const n of ["a", "b", "c"]) {
    const id = await ok(page, n, "sendMessage", room, said[n], { type: "groupchat" });
    assert.equal(typeof id, "string");
    // Wait for the room's echo so the order is fixed.
    await until(page, `${n}'s message echoed`, ([x, b]) => X.find(x, "message", { body: b }).length > 0, [n, said[n]]);
  }
  const nickOf = { a: "alice", b: "bob", c: "carol" };
  for (const n of ["a", "b", "c"]) {
    await until(page, `${n} receives 3 groupchat messages`, (x) => X.find(x, "message", { type: "groupchat" }).filter((e) => e.a.body !== null).length >= 3, n);
    const got = (await page.evaluate((x) => X.find(x, "message", { type: "groupchat" }), n))
      .filter((e) => e.a.body !== null)
      .map((e) => [e.a.from, e.a.body]);
    assert.deepEqual(got, ["a", "b", "c"].map((s) => [`${room}/${nickOf[s]}`, said[s]]), `${n}: ${summarize(got)}`);
  }

  // The subject reaches everyone.
  await ok(page, "a", "setRoomSubject", room, "Today: tests");
  for (const n of ["a", "b", "c"]) await waitEvent(page, n, "message", { from: `${room}/alice`, subject: "Today: tests" });

  // carol leaves: the others see her go.
  assert.equal(await ok(page, "c", "leaveRoom", room, "bye"), "(undefined)");
  for (const n of ["a", "b"]) {
    const gone = await waitEvent(page, n, "occupant", { room, nick: "carol", type: "unavailable" });
    assert.equal(gone.a.status, "bye");
  }
  const cGone = await waitEvent(page, "c", "occupant", { room, nick: "carol", self: true, type: "unavailable" });
  assert.ok(cGone.a.codes.includes(110));
  // Leaving again: not in the room.
  assert.equal((await fails(page, "c", "leaveRoom", room)).condition, "item-not-found");

  // She comes back asking for the last two messages of history.
  await ok(page, "c", "joinRoom", room, "carol", { maxStanzas: 2 });
  await until(page, "carol gets history", (x) => X.find(x, "message").filter((e) => /urn:xmpp:delay/.test(e.a.xml)).length >= 2, "c");
  await new Promise((r) => setTimeout(r, 300));
  const history = (await page.evaluate(() => X.find("c", "message"))).filter((e) => /urn:xmpp:delay/.test(e.a.xml) && e.a.body !== null);
  assert.deepEqual(history.map((e) => e.a.body), [said.b, said.c]);

  // Private presence of ordinary contacts still arrives through onpresence, not onoccupant.
  const occFromOutside = (await events(page, "a")).filter((e) => e.t === "occupant" && !e.a.room.startsWith(room));
  assert.deepEqual(occFromOutside, []);
  for (const n of ["a", "b", "c"]) noErrors(await events(page, n), n);
  void [aJid, bJid, cJid];
  for (const n of ["a", "b", "c"]) await ok(page, n, "disconnect");
  assert.deepEqual(page.problems, []);
});

// ------------------------------------------------------------------------------- carbons

test("carbons: alice on two resources sees, on one, copies of what the other receives and sends; a forged carbon is ignored", async () => {
  const page = await xmppPage();
  const A = await freshUser(page, "cara");
  const B = await freshUser(page, "carb");
  const a1 = await online(page, "a1", A, { resource: "one" });
  const a2 = await online(page, "a2", A, { resource: "two", debug: true });
  const bJid = await online(page, "b", B);
  assert.equal(await ok(page, "a1", "enableCarbons"), "(undefined)");
  assert.equal(await ok(page, "a2", "enableCarbons"), "(undefined)");

  // bob writes to alice's first resource: it arrives there, and as a carbon on the second.
  await ok(page, "b", "sendMessage", a1, "to one", { type: "chat" });
  const direct = await waitEvent(page, "a1", "message", { body: "to one" });
  assert.equal(direct.a.carbon, null);
  assert.equal(direct.a.from, bJid);
  const copy = await waitEvent(page, "a2", "message", { body: "to one" });
  assert.equal(copy.a.carbon, "received");
  assert.equal(copy.a.from, bJid);
  assert.equal(copy.a.to, a1);
  assert.equal(copy.a.type, "chat");

  // alice answers from the first: the second sees a "sent" carbon, bob the message.
  await ok(page, "a1", "sendMessage", bJid, "from one", { type: "chat" });
  await waitEvent(page, "b", "message", { body: "from one", from: a1 });
  const sent = await waitEvent(page, "a2", "message", { body: "from one" });
  assert.equal(sent.a.carbon, "sent");
  assert.equal(sent.a.from, a1);
  assert.equal(sent.a.to, bJid);

  // bob forges carbons ("received" and "sent") to alice's second resource, then a sentinel.
  const forged = (dir, body) =>
    `<message to='${a2}' type='chat'><${dir} xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
    `<message xmlns='jabber:client' from='${dir === "sent" ? a1 : `mallory@${DOMAIN}/x`}' to='${dir === "sent" ? bJid : a2}' type='chat'>` +
    `<body>${body}</body></message></forwarded></${dir}></message>`;
  await ok(page, "b", "sendRaw", forged("received", "forged received"));
  await ok(page, "b", "sendRaw", forged("sent", "forged sent"));
  await ok(page, "b", "sendMessage", a2, "sentinel", { type: "chat" });
  await waitEvent(page, "a2", "message", { body: "sentinel" });
  // The forgeries did reach alice's client (so it is the client that dropped them)…
  const lines = await page.evaluate(() => X.debugLines("a2"));
  assert.ok(lines.some(([d, x]) => d === "in" && x.includes("forged received")), "the server did not deliver the forgery");
  assert.ok(lines.some(([d, x]) => d === "in" && x.includes("forged sent")));
  // …and nothing of them surfaced.
  const evs = await events(page, "a2");
  const leaked = evs.filter((e) => JSON.stringify(e).includes("forged"));
  assert.deepEqual(leaked, [], summarize(leaked));
  const fromBob = evs.filter((e) => e.t === "message" && e.a.from === bJid).map((e) => [e.a.body, e.a.carbon]);
  assert.deepEqual(fromBob, [["to one", "received"], ["sentinel", null]]);

  // Carbons off: the second resource no longer gets copies.
  await ok(page, "a2", "disableCarbons");
  await ok(page, "b", "sendMessage", a1, "after disable", { type: "chat" });
  await waitEvent(page, "a1", "message", { body: "after disable" });
  await ok(page, "b", "sendMessage", a2, "sentinel 2", { type: "chat" });
  await waitEvent(page, "a2", "message", { body: "sentinel 2" });
  assert.equal((await page.evaluate(() => X.find("a2", "message", { body: "after disable" }))).length, 0);
  for (const n of ["a1", "a2", "b"]) noErrors(await events(page, n), n);
  for (const n of ["a1", "a2", "b"]) await ok(page, n, "disconnect");
  assert.deepEqual(page.problems, []);
});

// ------------------------------------------------------------- receipts and chat states

test("receipts: a request gets its receipt (answered automatically); chat states arrive", async () => {
  const page = await xmppPage();
  const A = await freshUser(page, "rcpa");
  const B = await freshUser(page, "rcpb");
  const C = await freshUser(page, "rcpc");
  const aJid = await online(page, "a", A);
  const bJid = await online(page, "b", B);
  const cJid = await online(page, "c", C, { receipts: false });

  const id = await ok(page, "a", "sendMessage", bJid, "did you get this?", { type: "chat", receipt: true, chatState: "active" });
  const m = await waitEvent(page, "b", "message", { body: "did you get this?" });
  assert.equal(m.a.receiptRequested, true);
  assert.equal(m.a.chatState, "active");
  assert.equal(m.a.id, id);
  // bob's client answered by itself: alice gets onreceipt(from, id).
  const r = await waitEvent(page, "a", "receipt");
  assert.deepEqual(r.args, [bJid, id]);
  // bob also saw the "active" state.
  assert.deepEqual((await waitEvent(page, "b", "chatstate")).args, [aJid, "active"]);
  // The receipt is not a message.
  assert.deepEqual((await events(page, "a")).filter((e) => e.t === "message"), []);

  // Chat states alone: composing, paused — onchatstate only, no onmessage.
  await ok(page, "a", "sendChatState", bJid, "composing");
  await ok(page, "a", "sendChatState", bJid, "paused");
  await until(page, "bob sees two more states", () => X.find("b", "chatstate").length >= 3);
  const states = (await page.evaluate(() => X.find("b", "chatstate"))).map((e) => e.args);
  assert.deepEqual(states, [[aJid, "active"], [aJid, "composing"], [aJid, "paused"]]);
  assert.equal((await page.evaluate(() => X.find("b", "message"))).length, 1);
  // An unknown state is refused at once.
  const bad = await fails(page, "a", "sendChatState", bJid, "typing");
  assert.match(bad.message, /chat state/);

  // carol does not answer receipt requests (receipts: false).
  const id2 = await ok(page, "a", "sendMessage", cJid, "and you?", { type: "chat", receipt: true });
  const mc = await waitEvent(page, "c", "message", { body: "and you?" });
  assert.equal(mc.a.receiptRequested, true);
  await new Promise((res) => setTimeout(res, 700));
  assert.deepEqual((await page.evaluate(() => X.find("a", "receipt"))).map((e) => e.args[1]), [id]);
  void id2;
  for (const n of ["a", "b", "c"]) noErrors(await events(page, n), n);
  for (const n of ["a", "b", "c"]) await ok(page, n, "disconnect");
  assert.deepEqual(page.problems, []);
});

// --------------------------------------------------------------------- disco and caps

test("disco: the server's features and items, a room service; a client answers with what it supports and its caps hash verifies", async () => {
  const page = await xmppPage();
  const A = await freshUser(page, "disa");
  const B = await freshUser(page, "disb");
  const aJid = await online(page, "a", A);
  const bJid = await online(page, "b", B);

  const server = await ok(page, "a", "discoInfo");
  assert.ok(server.identities.some((i) => i.category === "server" && i.type === "im"), summarize(server));
  for (const f of ["urn:xmpp:ping", "urn:xmpp:carbons:2", "http://jabber.org/protocol/disco#info"]) {
    assert.ok(server.features.includes(f), `server lacks ${f}: ${summarize(server.features)}`);
  }
  const account = await ok(page, "a", "discoInfo", bare(aJid));
  if (MAM) assert.ok(account.features.includes("urn:xmpp:mam:2"), summarize(account.features));
  const items = await ok(page, "a", "discoItems");
  assert.ok(items.some((i) => i.jid === MUC), summarize(items));
  const muc = await ok(page, "a", "discoInfo", MUC);
  assert.ok(muc.identities.some((i) => i.category === "conference" && i.type === "text"), summarize(muc));
  assert.ok(muc.features.includes("http://jabber.org/protocol/muc"));
  // An entity that does not exist: an error, not a hang.
  const missing = await fails(page, "a", "discoInfo", `nobody${randomBytes(3).toString("hex")}@${MUC}`);
  assert.equal(typeof missing.condition, "string");

  // bob asks alice's client directly.
  const client = await ok(page, "b", "discoInfo", aJid);
  assert.deepEqual(client.identities, [{ category: "client", type: "web", name: "fullduplex" }]);
  const expected = [
    "http://jabber.org/protocol/caps",
    "http://jabber.org/protocol/chatstates",
    "http://jabber.org/protocol/disco#info",
    "http://jabber.org/protocol/muc",
    "urn:xmpp:ping",
    "urn:xmpp:receipts",
  ];
  assert.deepEqual(client.features, expected);

  // alice's presence (seen by bob through a room) carries caps; the hash matches the
  // features, and a query of the caps node gives the same answer.
  const room = `caps${randomBytes(4).toString("hex")}@${MUC}`;
  await ok(page, "a", "joinRoom", room, "alice");
  await ok(page, "b", "joinRoom", room, "bob");
  const seen = await waitEvent(page, "b", "occupant", { nick: "alice" });
  const c = /<c xmlns="http:\/\/jabber.org\/protocol\/caps"[^>]*>/.exec(seen.a.xml);
  assert.ok(c, `no caps in ${seen.a.xml}`);
  const attr = (n) => new RegExp(`\\s${n}="([^"]+)"`).exec(c[0])?.[1];
  const [node, ver] = [attr("node"), attr("ver")];
  assert.equal(attr("hash"), "sha-1");
  const s = "client/web//fullduplex<" + expected.map((f) => f + "<").join("");
  assert.equal(ver, createHash("sha1").update(s).digest("base64"));
  const byNode = await ok(page, "b", "discoInfo", aJid, `${node}#${ver}`);
  assert.deepEqual(byNode.features, expected);
  const wrong = await fails(page, "b", "discoInfo", aJid, `${node}#nope`);
  assert.equal(wrong.condition, "item-not-found");
  for (const n of ["a", "b"]) noErrors(await events(page, n), n);
  for (const n of ["a", "b"]) await ok(page, n, "disconnect");
  void bJid;
  assert.deepEqual(page.problems, []);
});

// ------------------------------------------------------------------------------------ MAM

test("MAM: the last N messages with a conversation partner, paged backwards (and forwards) with RSM", { skip: MAM ? false : "Prosody runs without mod_mam (XMPP_MAM=0)" }, async () => {
  const page = await xmppPage();
  const A = await freshUser(page, "mama");
  const B = await freshUser(page, "mamb");
  const C = await freshUser(page, "mamc");
  const aJid = await online(page, "a", A);
  const bJid = await online(page, "b", B);
  const cJid = await online(page, "c", C);
  // 25 messages, alternating: odd ones alice → bob, even ones bob → alice; and one from carol.
  const N = 25;
  for (let i = 1; i <= N; i++) {
    const [from, to] = i % 2 ? ["a", bJid] : ["b", aJid];
    await ok(page, from, "sendMessage", to, `m${i}`, { type: "chat" });
    // One at a time, so the archive order is the sending order.
    await waitEvent(page, from === "a" ? "b" : "a", "message", { body: `m${i}` });
  }
  await ok(page, "c", "sendMessage", aJid, "not with bob", { type: "chat" });
  await waitEvent(page, "a", "message", { body: "not with bob" });

  const bobBare = bare(bJid);
  const p1 = await ok(page, "a", "queryArchive", { with: bobBare, max: 10, before: true });
  const bodies = (p) => p.messages.map((m) => m.body);
  assert.deepEqual(bodies(p1), seq("m", N).slice(15), summarize(p1));
  assert.equal(p1.complete, false);
  assert.equal(typeof p1.first, "string");
  assert.equal(p1.first, p1.messages[0].archiveId);
  assert.equal(p1.last, p1.messages[9].archiveId);
  if (p1.count !== null) assert.equal(p1.count, N);
  for (const m of p1.messages) {
    assert.equal(typeof m.archiveId, "string");
    assert.match(m.delay, /^\d{4}-\d\d-\d\dT/);
    const i = Number(m.body.slice(1));
    assert.equal(bare(m.from), i % 2 ? bare(aJid) : bobBare, `direction of ${m.body}`);
    assert.equal(m.type, "chat");
    assert.equal(m.carbon, null);
  }
  const p2 = await ok(page, "a", "queryArchive", { with: bobBare, max: 10, before: p1.first });
  assert.deepEqual(bodies(p2), seq("m", N).slice(5, 15));
  assert.equal(p2.complete, false);
  const p3 = await ok(page, "a", "queryArchive", { with: bobBare, max: 10, before: p2.first });
  assert.deepEqual(bodies(p3), seq("m", N).slice(0, 5));
  assert.equal(p3.complete, true);
  // Forwards from the oldest page.
  const f2 = await ok(page, "a", "queryArchive", { with: bobBare, max: 10, after: p3.last });
  assert.deepEqual(bodies(f2), seq("m", N).slice(5, 15));
  // bob's archive holds the same conversation.
  const pb = await ok(page, "b", "queryArchive", { with: bare(aJid), max: 3, before: true });
  assert.deepEqual(bodies(pb), ["m23", "m24", "m25"]);
  // Archive results never surface as live messages.
  const live = (await page.evaluate(() => X.find("a", "message"))).filter((e) => e.a.archiveId !== null);
  assert.deepEqual(live, []);
  void cJid;
  for (const n of ["a", "b", "c"]) noErrors(await events(page, n), n);
  for (const n of ["a", "b", "c"]) await ok(page, n, "disconnect");
  assert.deepEqual(page.problems, []);
});
