// Loads an entry's wasm module once, on first use, and hands out its exports.
//
// Each entry (index.js, stomp.js, xmpp.js) is bundled on its own and calls `configure` with
// its wasm-bindgen glue. The glue finds its `.wasm` beside itself (`new URL(..., import.meta.url)`,
// which Vite, webpack 5 and plain browsers all understand); the classic-script build has no
// `import.meta` and sets the URL from its own <script src>.
let glue = null;
let wasmUrl;
let loading = null;
let loaded = null;

/** Binds this bundle to its wasm-bindgen glue (`init` function and exports namespace). */
export function configure(init, exports) {
  glue = { init, exports };
}

/** Where to fetch the .wasm from (the classic build calls this before any use). */
export function setWasmUrl(url) {
  wasmUrl = url;
}

/** Resolves with the wasm exports once the module is instantiated. */
export function load() {
  if (!loading) {
    loading = glue.init(wasmUrl ? { module_or_path: wasmUrl } : undefined).then(() => {
      loaded = glue.exports;
      return loaded;
    });
  }
  return loading;
}

/** The wasm exports if already loaded, else null. */
export function loadedModule() {
  return loaded;
}

/** The talk's `if (window.WebSocket)`, answered by the wasm module. */
export async function isSupported() {
  const wasm = await load();
  return wasm.isSupported();
}
