// The SharedWorker of shared mode (module worker): `new StompClient({ shared: true })` pages
// start it from `new URL("./shared-worker.js", import.meta.url)`. It runs the full wasm
// (both protocols) once per origin; js/shared/worker.js owns the sessions.
import init, * as glue from "fullduplex-glue/all/fullduplex.js";
import { configure } from "../loader.js";
import { startSharedWorker } from "../shared/worker.js";

configure(init, glue);
startSharedWorker();
