// The classic-script build: `<script src="fullduplex.global.js">` defines window.fullduplex
// and the globals StompClient and XmppClient, with no bundler and no module syntax. The
// wasm is fetched from beside this script.
import { setWasmUrl } from "../loader.js";
import * as api from "./index.js";

const script = typeof document !== "undefined" ? document.currentScript : null;
if (script && script.src) {
  setWasmUrl(new URL("fullduplex_bg.wasm", script.src));
}
const g = globalThis;
g.fullduplex = api;
g.StompClient = api.StompClient;
g.XmppClient = api.XmppClient;
