// The packed npm module (`npm pack`, of FULLDUPLEX_DIST or dist/): the tarball's file list;
// the `exports` map as Node resolves it from a copy installed with npm into an empty folder;
// and the package in a plain HTML page with no bundler, loaded once as an ES module and once
// as a classic script.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readdirSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, launch, openPage } from "./harness.mjs";
import { pack, install } from "../../examples/bundler/pack.mjs";

let dir, server, browser, tarball, installed;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "fullduplex-pack-"));
  tarball = pack(dir);
  execFileSync("tar", ["xzf", tarball, "-C", dir]);
  installed = join(dir, "app");
  install(tarball, installed);
  writeFileSync(
    join(dir, "module.html"),
    `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>module</title>
<script type="module">
import { isSupported } from "/pkg/dist/index.js";
window.result = isSupported();
</script>`,
  );
  writeFileSync(
    join(dir, "classic.html"),
    `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>classic</title>
<script src="/pkg/dist/fullduplex.global.js"></script>
<script>
  window.hasGlobal = typeof window.fullduplex === "object";
  window.result = window.fullduplex.isSupported();
</script>`,
  );
  server = await serve({ "/pkg/": join(dir, "package"), "/": dir });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("the tarball holds only the package files", () => {
  const files = [];
  const walk = (d, p = "") => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), p + e.name + "/");
      else files.push(p + e.name);
    }
  };
  walk(join(dir, "package"));
  files.sort();
  assert.deepEqual(files, [
    "LICENSE",
    "README.md",
    "dist/fullduplex.global.js",
    "dist/fullduplex_bg.wasm",
    "dist/fullduplex_stomp_bg.wasm",
    "dist/fullduplex_xmpp_bg.wasm",
    "dist/index.d.ts",
    "dist/index.js",
    "dist/shared-worker.global.js",
    "dist/shared-worker.js",
    "dist/stomp.d.ts",
    "dist/stomp.js",
    "dist/xmpp.d.ts",
    "dist/xmpp.js",
    "package.json",
  ]);
});

// Run in a child Node process from the installed app's folder, as an application would.
const RESOLVE = `
const out = { resolved: {}, refused: {}, exports: {}, globals: {} };
for (const s of ["fullduplex", "fullduplex/stomp", "fullduplex/xmpp", "fullduplex/classic", "fullduplex/package.json"]) {
  out.resolved[s] = import.meta.resolve(s);
}
for (const s of ["fullduplex/dist/index.js", "fullduplex/js/stomp.js", "fullduplex/src/lib.rs", "fullduplex/index"]) {
  try { import.meta.resolve(s); out.refused[s] = "resolved"; } catch (e) { out.refused[s] = e.code; }
}
for (const s of ["fullduplex", "fullduplex/stomp", "fullduplex/xmpp"]) {
  const m = await import(s);
  out.exports[s] = Object.keys(m).sort();
}
await import("fullduplex/classic");
for (const g of ["StompClient", "XmppClient", "fullduplex"]) out.globals[g] = typeof globalThis[g];
out.sameClass = globalThis.fullduplex.StompClient === globalThis.StompClient;
console.log(JSON.stringify(out));
`;

test("installed from the tarball, Node resolves the exports map and nothing else", () => {
  const pkgDir = join(installed, "node_modules", "fullduplex");
  writeFileSync(join(installed, "resolve.mjs"), RESOLVE);
  const out = JSON.parse(execFileSync("node", ["resolve.mjs"], { cwd: installed, encoding: "utf8" }));
  const url = (p) => new URL(`file://${join(pkgDir, p)}`).href;
  assert.deepEqual(out.resolved, {
    fullduplex: url("dist/index.js"),
    "fullduplex/stomp": url("dist/stomp.js"),
    "fullduplex/xmpp": url("dist/xmpp.js"),
    "fullduplex/classic": url("dist/fullduplex.global.js"),
    "fullduplex/package.json": url("package.json"),
  });
  // Deep imports are not part of the API.
  for (const [s, code] of Object.entries(out.refused)) {
    assert.equal(code, "ERR_PACKAGE_PATH_NOT_EXPORTED", `${s} should not resolve`);
  }
  // The combined entry has both clients; each per-protocol entry only its own.
  assert.deepEqual(out.exports.fullduplex, ["StompClient", "XmppClient", "init", "isSupported"]);
  assert.deepEqual(out.exports["fullduplex/stomp"], ["StompClient", "init", "isSupported"]);
  assert.deepEqual(out.exports["fullduplex/xmpp"], ["XmppClient", "init", "isSupported"]);
  // The classic build defines the globals.
  assert.deepEqual(out.globals, { StompClient: "function", XmppClient: "function", fullduplex: "object" });
  assert.equal(out.sameClass, true);
});

test("every exports target and types file is in the package", () => {
  const pkgDir = join(installed, "node_modules", "fullduplex");
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  const targets = [pkg.main, pkg.module, pkg.types];
  for (const v of Object.values(pkg.exports)) {
    if (typeof v === "string") targets.push(v);
    else targets.push(...Object.values(v));
  }
  for (const t of targets) assert.ok(existsSync(join(pkgDir, t)), `${t} is missing from the package`);
  assert.equal(pkg.exports["./stomp"].types, "./dist/stomp.d.ts");
  assert.equal(pkg.exports["./xmpp"].types, "./dist/xmpp.d.ts");
  // The per-protocol declarations re-export only their own client as a value.
  assert.match(readFileSync(join(pkgDir, "dist/stomp.d.ts"), "utf8"), /export \{[^}]*\bStompClient\b[^}]*\}/);
  assert.doesNotMatch(readFileSync(join(pkgDir, "dist/stomp.d.ts"), "utf8"), /export \{[^}]*\bXmppClient\b/);
  // The package has no dependencies: installing it fetches nothing.
  assert.equal(pkg.dependencies, undefined);
});

test("ES module entry in a bare <script type=module>: support check is true", async () => {
  const page = await openPage(browser);
  await page.goto(`${server.url}/module.html`);
  assert.equal(await page.evaluate(() => window.result), true);
  assert.deepEqual(page.problems, []);
});

test("classic <script src> build: global defined, support check is true", async () => {
  const page = await openPage(browser);
  await page.goto(`${server.url}/classic.html`);
  assert.equal(await page.evaluate(() => window.hasGlobal), true);
  assert.equal(await page.evaluate(() => window.result), true);
  assert.deepEqual(page.problems, []);
});

test("the support check answers false where WebSocket does not exist", async () => {
  const page = await openPage(browser);
  await page.addInitScript(() => {
    delete window.WebSocket;
  });
  await page.goto(`${server.url}/module.html`);
  assert.equal(await page.evaluate(() => window.result), false);
});
