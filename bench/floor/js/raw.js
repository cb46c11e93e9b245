// Hand-written loader for the `raw` variant (no wasm-bindgen): owns the WebSockets and
// passes bytes into wasm memory by pointer.
let x;
const live = new Map(), enc = new TextEncoder(), dec = new TextDecoder();
const str = (p, n) => dec.decode(new Uint8Array(x.memory.buffer, p, n));
const put = (b) => { const p = x.fd_alloc(b.length); new Uint8Array(x.memory.buffer, p, b.length).set(b); return p; };
export async function init(url = new URL("floor_bg.wasm", import.meta.url)) {
  const env = { ws_send: (h, p, n) => live.get(h).ws.send(str(p, n)), callback: (h, p, n) => live.get(h).cb(str(p, n)) };
  x = (await WebAssembly.instantiateStreaming(fetch(url), { env })).instance.exports;
}
let next = 1;
export class Floor {
  constructor(url, cb) {
    const h = next++, ws = new WebSocket(url), f = (this.f = x.fd_new(h));
    live.set((this.h = h), { ws, cb });
    ws.binaryType = "arraybuffer";
    ws.onopen = () => x.fd_on_event(f, 0);
    ws.onerror = () => x.fd_on_event(f, 1);
    ws.onclose = (e) => x.fd_on_event(f, e.wasClean ? 2 : 3);
    ws.onmessage = (e) => { const b = typeof e.data == "string" ? enc.encode(e.data) : new Uint8Array(e.data); x.fd_on_message(f, put(b), b.length); };
    this.ws = ws;
  }
  send(s) { const b = enc.encode(s); x.fd_send(this.f, put(b), b.length); }
  close() { this.ws.close(); }
  free() { const ws = this.ws; ws.onopen = ws.onerror = ws.onclose = ws.onmessage = null; ws.close(); live.delete(this.h); x.fd_free(this.f); }
}
