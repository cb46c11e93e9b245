// The SharedWorker of shared mode for the classic-script build (a classic worker, started
// from beside fullduplex.global.js): the wasm is fetched from beside this script.
import init, * as glue from "fullduplex-glue/all/fullduplex.js";
import { configure, setWasmUrl } from "../loader.js";
import { startSharedWorker } from "../shared/worker.js";

setWasmUrl(new URL("fullduplex_bg.wasm", self.location.href));
configure(init, glue);
startSharedWorker();
