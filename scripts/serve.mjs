// Serves the examples for the demo on 127.0.0.1, until Ctrl-C:
//   /           examples/
//   /dist/      the built package (FULLDUPLEX_DIST, default dist/)
//   /bundler/   the bundler example as built by examples/bundler/build.mjs
//               (FULLDUPLEX_BUILD/examples/bundler, default build/examples/bundler)
// Usage: node scripts/serve.mjs [port]     (port default 8080; 0 picks a free one)
import { serve } from "../tests/js/harness.mjs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The URL prefix → folder map of the demo (the tests serve the same). */
export function demoMounts({
  dist = process.env.FULLDUPLEX_DIST ?? join(root, "dist"),
  bundler = join(process.env.FULLDUPLEX_BUILD ?? join(root, "build"), "examples", "bundler"),
} = {}) {
  return { "/dist/": resolve(dist), "/bundler/": resolve(bundler), "/": join(root, "examples") };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? 8080);
  const server = await serve(demoMounts(), { port });
  console.log(`fullduplex demo: open ${server.url}/`);
  const stop = () => server.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
