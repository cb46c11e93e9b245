// Serves examples/ and the built package (dist/) on 127.0.0.1 for the demo, until Ctrl-C.
// Usage: node scripts/serve.mjs [port]
import { serve } from "../tests/js/harness.mjs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const port = Number(process.argv[2] ?? 8080);
const server = await serve({ "/dist/": `${root}dist`, "/": `${root}examples` }, { port });
console.log(`fullduplex demo: open ${server.url}/`);
process.on("SIGINT", () => server.close().then(() => process.exit(0)));
process.on("SIGTERM", () => server.close().then(() => process.exit(0)));
