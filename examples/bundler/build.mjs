// Builds the bundler example the way an application would: pack the npm package, install the
// tarball into a fresh app folder, then build index.html + main.js with Vite and with webpack 5
// using their command lines and no plugin or config file.
//
// Usage: node examples/bundler/build.mjs [OUT]   (OUT default: $FULLDUPLEX_BUILD/examples/bundler,
//        FULLDUPLEX_BUILD default build/). Writes OUT/vite/ and OUT/webpack/ (the built sites),
//        OUT/index.html (links to both) and OUT/app/ (the app folder with node_modules/fullduplex).
// The demo serves OUT at /bundler/.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ROOT, pack, install, distDir } from "./pack.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin");

function run(cmd, args, cwd) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

/**
 * Builds both sites into `out`; returns timings in ms and the bundlers' output.
 * `bundlers` picks which to build (default both).
 */
export function buildBundlerExample(out, { dist = distDir(), bundlers = ["vite", "webpack"] } = {}) {
  out = resolve(out);
  const app = join(out, "app");
  const times = {};
  const logs = {};
  let t = Date.now();
  rmSync(out, { recursive: true, force: true });
  mkdirSync(app, { recursive: true });
  const tarball = pack(out, dist);
  for (const f of ["index.html", "main.js"]) copyFileSync(join(HERE, f), join(app, f));
  install(tarball, app);
  times.packAndInstall = Date.now() - t;

  if (bundlers.includes("vite")) {
    t = Date.now();
    // --base ./ : the site works under any path (the demo serves it at /bundler/vite/).
    logs.vite = run(join(BIN, "vite"), ["build", "--base", "./", "--outDir", join(out, "vite"), "--emptyOutDir"], app);
    times.vite = Date.now() - t;
  }
  if (bundlers.includes("webpack")) {
    t = Date.now();
    logs.webpack = run(
      join(BIN, "webpack"),
      ["--entry", "./main.js", "--mode", "production", "--output-path", join(out, "webpack")],
      app,
    );
    // webpack 5 has no HTML step of its own without a plugin: the same page is copied.
    copyFileSync(join(app, "index.html"), join(out, "webpack", "index.html"));
    times.webpack = Date.now() - t;
  }
  writeFileSync(
    join(out, "index.html"),
    `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>bundler example</title>
<h1>The bundler example, built</h1>
<ul>${bundlers.map((b) => `<li><a href="${b}/">${b}</a></li>`).join("")}</ul>
<p>Built by <code>node examples/bundler/build.mjs</code> from the packed tarball.</p>\n`,
  );
  return { times, logs, tarball };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? join(process.env.FULLDUPLEX_BUILD ?? join(ROOT, "build"), "examples", "bundler");
  const { times } = buildBundlerExample(out);
  console.log(`bundler example built in ${out} (ms: ${JSON.stringify(times)})`);
}
