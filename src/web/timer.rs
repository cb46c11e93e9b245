//! One cancellable timeout, cleared when dropped, that keeps its time in background tabs.
//!
//! Each session owns at most one [`Timeout`], re-armed from the core's `poll_timeout` after
//! every input. Browsers throttle `setTimeout` in hidden tabs (Chrome aligns it to 1 s, then
//! to 1 min after five minutes), which would starve heart-beats and reconnect timers; timers
//! inside a dedicated Worker are not throttled that way. So while the page is hidden (or when
//! told to by [`set_ticker_mode`]) timeouts go through one small shared Worker, built from an
//! inline Blob URL; the driver re-arms its timer when visibility changes. A page whose
//! Content-Security-Policy forbids `blob:` workers makes the Worker fail (at construction or
//! with an error event): from then on every timeout uses `setTimeout`, and those that were
//! waiting on the Worker fire at once — an early `handle_timeout` is a no-op for the cores,
//! which then re-arm. Closures are owned here, so nothing leaks when a session ends.

use std::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::error::{js_message, WebError};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout, catch)]
    fn set_timeout(handler: &JsValue, ms: i32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);

    #[wasm_bindgen(js_name = Worker)]
    type JsWorker;
    #[wasm_bindgen(constructor, js_class = "Worker", catch)]
    fn new(url: &str) -> Result<JsWorker, JsValue>;
    #[wasm_bindgen(method, js_class = "Worker", js_name = postMessage, catch)]
    fn post_message(this: &JsWorker, message: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, js_class = "Worker", setter = onmessage)]
    fn set_onmessage(this: &JsWorker, handler: Option<&js_sys::Function>);
    #[wasm_bindgen(method, js_class = "Worker", setter = onerror)]
    fn set_onerror(this: &JsWorker, handler: Option<&js_sys::Function>);
    #[wasm_bindgen(method, js_class = "Worker")]
    fn terminate(this: &JsWorker);

    #[wasm_bindgen(js_name = Blob)]
    type JsBlob;
    #[wasm_bindgen(constructor, js_class = "Blob", catch)]
    fn new(parts: &js_sys::Array, options: &JsValue) -> Result<JsBlob, JsValue>;
    #[wasm_bindgen(js_namespace = URL, js_name = createObjectURL, catch)]
    fn create_object_url(blob: &JsBlob) -> Result<String, JsValue>;
}

/// The Worker: `[id, ms]` arms timer `id` (replacing it), `[id, -1]` cancels it; it posts
/// `id` back when the timer fires.
const TICKER_JS: &str = "var t={};onmessage=function(e){var i=e.data[0],m=e.data[1];\
clearTimeout(t[i]);delete t[i];if(m>=0)t[i]=setTimeout(function(){delete t[i];postMessage(i)},m)}";

/// When timeouts go through the Worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TickerMode {
    /// While the page is hidden (the default).
    WhenHidden,
    /// Always (tests, or pages that want it).
    Always,
    /// Never: plain `setTimeout`.
    Never,
}

struct WorkerParts {
    worker: JsWorker,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut(JsValue)>,
}

/// Worker timeouts: id and callback.
type Waiting = Vec<(u32, Box<dyn FnOnce()>)>;

struct Ticker {
    mode: TickerMode,
    worker: Option<WorkerParts>,
    /// The Worker could not be used here (CSP, no Worker): `setTimeout` from now on.
    broken: bool,
    next_id: u32,
    /// Armed Worker timeouts in arming order (a few: one per session; a `Vec` is far less
    /// wasm than a `BTreeMap`).
    waiting: Waiting,
}

thread_local! {
    // `const`: no lazy-initialisation code in the wasm.
    static TICKER: RefCell<Ticker> = const {
        RefCell::new(Ticker {
            mode: TickerMode::WhenHidden,
            worker: None,
            broken: false,
            next_id: 0,
            waiting: Vec::new(),
        })
    };
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

/// Chooses when timeouts go through the Worker (affects timeouts armed afterwards).
pub fn set_ticker_mode(mode: TickerMode) {
    TICKER.with(|t| t.borrow_mut().mode = mode);
}

/// `"idle"` (no Worker started), `"worker"` (running) or `"fallback"` (refused here).
#[must_use]
pub fn ticker_state() -> &'static str {
    TICKER.with(|t| {
        let t = t.borrow();
        if t.broken {
            "fallback"
        } else if t.worker.is_some() {
            "worker"
        } else {
            "idle"
        }
    })
}

/// Timeouts alive now (armed and not yet fired or dropped), for leak checks.
#[must_use]
pub fn live_timeouts() -> usize {
    LIVE.with(Cell::get)
}

fn page_hidden() -> bool {
    let global = js_sys::global();
    let Ok(doc) = js_sys::Reflect::get(&global, &JsValue::from_str("document")) else {
        return false;
    };
    if !doc.is_object() {
        // A worker scope has no document and no throttling of this kind; keep it simple.
        return false;
    }
    js_sys::Reflect::get(&doc, &JsValue::from_str("hidden"))
        .ok()
        .and_then(|h| h.as_bool())
        .unwrap_or(false)
}

/// Runs the callbacks of every waiting Worker timeout (the Worker failed).
fn fire_all_waiting() {
    let waiting = TICKER.with(|t| {
        let mut t = t.borrow_mut();
        t.broken = true;
        if let Some(parts) = t.worker.take() {
            parts.worker.set_onmessage(None);
            parts.worker.set_onerror(None);
            parts.worker.terminate();
        }
        core::mem::take(&mut t.waiting)
    });
    for (_, f) in waiting {
        f();
    }
}

/// Removes and returns the callback of Worker timeout `id`.
fn take_waiting(waiting: &mut Waiting, id: u32) -> Option<Box<dyn FnOnce()>> {
    let at = waiting.iter().position(|(k, _)| *k == id)?;
    Some(waiting.remove(at).1)
}

fn on_tick(id: u32) {
    let f = TICKER.with(|t| take_waiting(&mut t.borrow_mut().waiting, id));
    if let Some(f) = f {
        f();
    }
}

fn start_worker() -> Option<WorkerParts> {
    let global = js_sys::global();
    if !js_sys::Reflect::has(&global, &JsValue::from_str("Worker")).unwrap_or(false) {
        return None;
    }
    let parts = js_sys::Array::of1(&JsValue::from_str(TICKER_JS));
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(
        &options,
        &JsValue::from_str("type"),
        &JsValue::from_str("text/javascript"),
    );
    let blob = JsBlob::new(&parts, &options).ok()?;
    let url = create_object_url(&blob).ok()?;
    // A CSP without `blob:` in worker-src/script-src makes this throw (or error later).
    let worker = JsWorker::new(&url).ok()?;
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(|e: web_sys::MessageEvent| {
            // Ids are the small integers we sent; anything else is ignored.
            if let Some(id) = e.data().as_f64().and_then(to_u32) {
                on_tick(id);
            }
        });
    // Blocked by the page's policy after construction, or crashed: fall back for good. (The
    // closure may be dropped while it runs; wasm-bindgen defers that until it returns.)
    let on_error = Closure::<dyn FnMut(JsValue)>::new(|_e: JsValue| fire_all_waiting());
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Some(WorkerParts {
        worker,
        _on_message: on_message,
        _on_error: on_error,
    })
}

/// A JS number that is an exact `u32`.
fn to_u32(v: f64) -> Option<u32> {
    if v.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&v) {
        return None;
    }
    // Checked above: integral and in range, so the conversion is exact.
    #[allow(
        clippy::as_conversions,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    Some(v as u32)
}

/// Arms `callback` on the Worker, or hands it back when the Worker is not to be used.
fn schedule_on_worker(ms: i32, callback: Box<dyn FnOnce()>) -> Result<u32, Box<dyn FnOnce()>> {
    TICKER.with(|t| {
        let mut t = t.borrow_mut();
        let wanted = match t.mode {
            TickerMode::Always => true,
            TickerMode::Never => false,
            TickerMode::WhenHidden => page_hidden(),
        };
        if !wanted || t.broken {
            return Err(callback);
        }
        if t.worker.is_none() {
            match start_worker() {
                Some(parts) => t.worker = Some(parts),
                None => {
                    t.broken = true;
                    return Err(callback);
                }
            }
        }
        let id = t.next_id;
        t.next_id = t.next_id.wrapping_add(1);
        let msg = js_sys::Array::of2(&JsValue::from(id), &JsValue::from(ms));
        let sent = t
            .worker
            .as_ref()
            .is_some_and(|p| p.worker.post_message(&msg).is_ok());
        if !sent {
            return Err(callback);
        }
        t.waiting.push((id, callback));
        Ok(id)
    })
}

fn cancel_on_worker(id: u32) {
    TICKER.with(|t| {
        // A timeout dropped from inside a tick callback: the ticker is not borrowed then
        // (callbacks run after the borrow is released), but stay safe if it ever were.
        let Ok(mut t) = t.try_borrow_mut() else {
            return;
        };
        if take_waiting(&mut t.waiting, id).is_some() {
            if let Some(p) = &t.worker {
                let msg = js_sys::Array::of2(&JsValue::from(id), &JsValue::from(-1));
                let _ = p.worker.post_message(&msg);
            }
        }
    });
}

enum Inner {
    Browser {
        id: JsValue,
        _closure: Closure<dyn FnMut()>,
    },
    Worker {
        id: u32,
    },
}

/// A pending timeout; dropping it cancels it.
pub struct Timeout {
    inner: Inner,
}

impl Timeout {
    /// Calls `callback` once after `ms` milliseconds (clamped to the browser's range).
    ///
    /// # Errors
    /// When the browser refuses to set the timer.
    pub fn new(ms: u64, callback: impl FnOnce() + 'static) -> Result<Timeout, WebError> {
        let delay = i32::try_from(ms).unwrap_or(i32::MAX);
        let callback = match schedule_on_worker(delay, Box::new(callback)) {
            Ok(id) => {
                LIVE.with(|l| l.set(l.get().saturating_add(1)));
                return Ok(Timeout {
                    inner: Inner::Worker { id },
                });
            }
            Err(callback) => callback,
        };
        let mut callback = Some(callback);
        let closure = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = callback.take() {
                f();
            }
        });
        let id =
            set_timeout(closure.as_ref(), delay).map_err(|e| WebError::Timer(js_message(&e)))?;
        LIVE.with(|l| l.set(l.get().saturating_add(1)));
        Ok(Timeout {
            inner: Inner::Browser {
                id,
                _closure: closure,
            },
        })
    }

    /// Whether this timeout runs on the Worker.
    #[must_use]
    pub fn on_worker(&self) -> bool {
        matches!(self.inner, Inner::Worker { .. })
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        match &self.inner {
            Inner::Browser { id, .. } => clear_timeout(id),
            Inner::Worker { id } => cancel_on_worker(*id),
        }
        LIVE.with(|l| l.set(l.get().saturating_sub(1)));
    }
}
