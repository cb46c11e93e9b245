//! Bytes between wasm memory and JavaScript, one call each way: a WebSocket message's data
//! written straight into a Rust buffer ([`receive_into`]), and a callback handed a view of
//! Rust bytes ([`call_with_view`]). Both use one small JavaScript helper module that keeps a
//! `Uint8Array` over wasm memory (renewed when the memory grows), so neither direction needs
//! wasm-bindgen's per-call `memory()`/`buffer`/view round trips.

use std::sync::atomic::{AtomicBool, Ordering};

use js_sys::Function;
use wasm_bindgen::prelude::*;
use web_sys::MessageEvent;

#[wasm_bindgen(inline_js = "
let memory = null, bytes = null, view = null;
function fresh() {
  // Growing the memory detaches its old buffer, which empties the views over it.
  if (bytes === null || bytes.length === 0) {
    bytes = new Uint8Array(memory.buffer);
    view = new DataView(memory.buffer);
  }
}
export function fd_init(m) { memory = m; }
const enc = new TextEncoder();
export function fd_rx(e, at, cap, time) {
  const data = e.data;
  fresh();
  const t = e.timeStamp;
  view.setFloat64(time, typeof t === 'number' && t > 0 ? t : performance.now(), true);
  if (typeof data === 'string') {
    const n = data.length;
    if (n > cap) return -n;
    // A short string's ASCII by hand (faster than a call to encodeInto in Chromium); long
    // strings and whatever is not ASCII by encodeInto. All ASCII (one byte per unit) adds 2.
    let i = 0;
    for (const m = n <= 1024 ? n : 0; i < m; i++) {
      const c = data.charCodeAt(i);
      if (c > 127) break;
      bytes[at + i] = c;
    }
    if (i === n) return 4 * n + 2;
    const r = enc.encodeInto(data.slice(i), bytes.subarray(at + i, at + cap));
    return r.read === n - i ? 4 * (i + r.written) + (r.written === r.read ? 2 : 0) : -3 * n;
  }
  if (!(data instanceof ArrayBuffer)) return NaN;
  const n = data.byteLength;
  if (n > cap) return -n;
  bytes.set(new Uint8Array(data), at);
  return 4 * n + 1;
}
export function fd_view_call(f, kind, at, len, source) {
  fresh();
  try { f(kind, bytes.subarray(at, at + len), source); } catch (e) {}
}
")]
extern "C" {
    /// Tells the helpers where wasm memory is (the memory object never changes).
    fn fd_init(memory: &JsValue);
    /// Writes message event `e`'s data (a string as UTF-8, or an `ArrayBuffer`'s bytes) at
    /// wasm address `at`, if it fits in `cap` bytes: four times the byte count, plus one for
    /// binary data, plus two for a string that is all ASCII; else minus the room needed
    /// (NaN: neither a string nor an `ArrayBuffer`). Its `timeStamp` goes to address `time`
    /// as a little-endian f64 (saving a call to read the clock). One call into JavaScript per
    /// message, and no copy on the way but this one.
    fn fd_rx(e: &MessageEvent, at: u32, cap: u32, time: u32) -> f64;
    /// `f(kind, view, source)` with a `Uint8Array` view of the `len` bytes of wasm memory at
    /// `at` (valid only during the call: JavaScript reads it at once). What `f` throws is
    /// swallowed, as by [`super::emit`].
    fn fd_view_call(f: &Function, kind: u32, at: u32, len: u32, source: &JsValue);
}

static READY: AtomicBool = AtomicBool::new(false);

fn init() {
    if !READY.swap(true, Ordering::Relaxed) {
        fd_init(&wasm_bindgen::memory());
    }
}

/// `f(kind, view of bytes, source)`, the view made without copying `bytes`.
#[cfg(feature = "stomp")]
pub(crate) fn call_with_view(f: &Function, kind: u32, bytes: &[u8], source: &JsValue) {
    init();
    // The address of the bytes, as wasm memory offsets are.
    #[allow(clippy::as_conversions)]
    let at = u32::try_from(bytes.as_ptr() as usize);
    match (at, u32::try_from(bytes.len())) {
        (Ok(at), Ok(len)) => fd_view_call(f, kind, at, len, source),
        _ => super::emit(
            f,
            kind,
            &[js_sys::Uint8Array::from(bytes).into(), source.clone()],
        ),
    }
}

/// How [`receive_into`] found a message's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Received {
    /// It came as a binary message (an `ArrayBuffer`).
    pub(crate) binary: bool,
    /// It came as a string of ASCII characters only: its bytes are its UTF-16 units, so a
    /// byte offset is also an offset into the string.
    pub(crate) ascii: bool,
}

/// Message event `e`'s bytes written into `rx` (grown as needed; it is reused from message to
/// message, so receiving allocates nothing once it is big enough), and how they came (see
/// [`Received`]); `None` for data that is neither a string nor an `ArrayBuffer`. A string
/// gets room for one byte per UTF-16 unit first (ASCII), then for three (the most UTF-8
/// needs) if that was not enough.
pub(crate) fn receive_into<'a>(
    rx: &'a mut Vec<u8>,
    time: &mut [u8; 8],
    e: &MessageEvent,
) -> Option<(&'a [u8], Received)> {
    init();
    for _ in 0..3 {
        // The addresses are handed to JavaScript, which writes there (exposed provenance).
        #[allow(clippy::as_conversions)]
        let at = u32::try_from(rx.as_mut_ptr() as usize).ok()?;
        #[allow(clippy::as_conversions)]
        let time_at = u32::try_from(time.as_mut_ptr() as usize).ok()?;
        let cap = u32::try_from(rx.len()).unwrap_or(u32::MAX);
        let n = fd_rx(e, at, cap, time_at);
        if n.is_nan() {
            return None;
        }
        // Whole numbers within ±3 × 2^34: the casts are exact.
        #[allow(
            clippy::as_conversions,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let n = if n >= 0.0 {
            Ok(n as u64)
        } else {
            Err((-n) as usize)
        };
        match n {
            Ok(n) => {
                let len = usize::try_from(n / 4).ok()?;
                let how = Received {
                    binary: n & 1 == 1,
                    ascii: n & 2 == 2,
                };
                return rx.get(..len).map(|d| (d, how));
            }
            Err(room) => rx.resize(room, 0),
        }
    }
    None
}
