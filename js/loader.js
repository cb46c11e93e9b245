// Loads the wasm module once, on first use, and hands out its exports.
//
// The ES module entry lets wasm-bindgen's glue find `fullduplex_bg.wasm` beside itself
// (`new URL(..., import.meta.url)`, which Vite, webpack 5 and plain browsers all understand);
// the classic-script build has no `import.meta` and sets the URL from its own <script src>.
import init, * as wasm from "../build/bindgen/fullduplex.js";

let wasmUrl;
let loading = null;
let loaded = null;

/** Where to fetch the .wasm from (the classic build calls this before any use). */
export function setWasmUrl(url) {
  wasmUrl = url;
}

/** Resolves with the wasm exports once the module is instantiated. */
export function load() {
  if (!loading) {
    loading = init(wasmUrl ? { module_or_path: wasmUrl } : undefined).then(() => {
      loaded = wasm;
      return wasm;
    });
  }
  return loading;
}

/** The wasm exports if already loaded, else null. */
export function loadedModule() {
  return loaded;
}
