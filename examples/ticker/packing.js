// The ticker's payload: one quote per STOMP message, as integers packed in a Uint8Array (the
// talk's "optimized integer payloads") instead of JSON text. Shared by the page and the Node
// publisher (publisher.mjs).
//
// A quote is four integers: symbol index, price in cents, sequence number, and the send time
// (Date.now() modulo 2^32, in ms). Two packings:
//   "raw"  13 bytes: u8 symbol, then u32 price, u32 sequence, u32 time, big-endian.
//          Any byte value: needs a broker that sends binary WebSocket frames (RabbitMQ:
//          web_stomp.ws_frame = binary, as `npm run demo` starts it). A broker in its default
//          text-frame mode puts the bytes in a text frame; Chromium closes the socket on the
//          first one that is not UTF-8 (code 1006).
//   "7bit" 16 bytes: u8 symbol, then each u32 as five 7-bit groups, big-endian. Every byte is
//          below 0x80, so the body is valid UTF-8 and survives text frames.
// The receiver tells them apart by length.

export const SYMBOLS = ["ACME", "GLOBX", "INITC", "UMBRL", "WAYNE", "STARK", "WONKA", "TYREL"];
export const RAW_SIZE = 13;
export const SEVEN_BIT_SIZE = 16;

/** Packs one quote. */
export function encode(symbol, price, seq, time, packing = "raw") {
  if (packing === "7bit") {
    const b = new Uint8Array(SEVEN_BIT_SIZE);
    b[0] = symbol & 0x7f;
    let i = 1;
    for (const v of [price, seq, time]) {
      for (let shift = 28; shift >= 0; shift -= 7) b[i++] = Math.floor(v / 2 ** shift) & 0x7f;
    }
    return b;
  }
  const b = new Uint8Array(RAW_SIZE);
  const view = new DataView(b.buffer);
  b[0] = symbol;
  view.setUint32(1, price >>> 0);
  view.setUint32(5, seq >>> 0);
  view.setUint32(9, time >>> 0);
  return b;
}

/** Unpacks one quote, or returns null when the bytes are neither packing. */
export function decode(b) {
  if (b.length === RAW_SIZE) {
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return { symbol: b[0], price: view.getUint32(1), seq: view.getUint32(5), time: view.getUint32(9) };
  }
  if (b.length === SEVEN_BIT_SIZE) {
    const v = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      for (let j = 0; j < 5; j++) v[k] = v[k] * 128 + (b[1 + k * 5 + j] & 0x7f);
      v[k] = v[k] >>> 0;
    }
    return { symbol: b[0], price: v[0], seq: v[1], time: v[2] };
  }
  return null;
}

/** Milliseconds from a packed send time to now (wraps like the packed value). */
export function ageMs(time) {
  return ((Date.now() >>> 0) - time) >>> 0;
}

/** A random walk over the symbols' prices (cents), shared by both publishers. */
export function makeMarket() {
  const prices = SYMBOLS.map((_, i) => 5000 + i * 2375);
  let seq = 0;
  return {
    /** The next quote: [symbol, price, seq]. */
    next() {
      const s = Math.floor(Math.random() * SYMBOLS.length);
      const step = Math.round((Math.random() - 0.5) * prices[s] * 0.004);
      prices[s] = Math.max(100, prices[s] + step);
      seq = (seq + 1) >>> 0;
      return [s, prices[s], seq];
    },
  };
}
