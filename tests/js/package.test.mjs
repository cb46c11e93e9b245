// The packed npm module (`npm pack`) in a plain HTML page with no bundler, loaded once as an
// ES module and once as a classic script; and the tarball's file list.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, launch, openPage } from "./harness.mjs";

let dir, server, browser;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "fullduplex-pack-"));
  const out = execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], {
    encoding: "utf8",
  }).trim();
  execFileSync("tar", ["xzf", join(dir, out.split("\n").pop()), "-C", dir]);
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
    "dist/stomp.d.ts",
    "dist/stomp.js",
    "dist/xmpp.d.ts",
    "dist/xmpp.js",
    "package.json",
  ]);
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
