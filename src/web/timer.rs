//! One cancellable `setTimeout`, cleared when dropped.
//!
//! Each session owns at most one [`Timeout`], re-armed from the core's `poll_timeout` after
//! every input. The closure is owned here, so nothing leaks when a session ends.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout, catch)]
    fn set_timeout(handler: &JsValue, ms: i32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// A pending timeout; dropping it cancels it.
pub struct Timeout {
    id: JsValue,
    _closure: Closure<dyn FnMut()>,
}

impl Timeout {
    /// Calls `callback` once after `ms` milliseconds (clamped to the browser's range).
    ///
    /// # Errors
    /// When the browser refuses to set the timer.
    pub fn new(
        ms: u64,
        callback: impl FnOnce() + 'static,
    ) -> Result<Timeout, super::error::WebError> {
        let mut callback = Some(callback);
        let closure = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = callback.take() {
                f();
            }
        });
        let delay = i32::try_from(ms).unwrap_or(i32::MAX);
        let id = set_timeout(closure.as_ref(), delay)
            .map_err(|e| super::error::WebError::Timer(super::error::js_message(&e)))?;
        Ok(Timeout {
            id,
            _closure: closure,
        })
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}
