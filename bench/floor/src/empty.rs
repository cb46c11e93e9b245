//! Variant `empty`: the wasm-bindgen glue floor, one exported struct and one `&str` method.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
#[derive(Default)]
pub struct Floor {
    total: u32,
}

#[wasm_bindgen]
impl Floor {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Floor {
        Floor::default()
    }

    /// Adds the UTF-8 length of `text` to a running total and returns it.
    pub fn feed(&mut self, text: &str) -> u32 {
        let n = u32::try_from(text.len()).unwrap_or(u32::MAX);
        self.total = self.total.wrapping_add(n);
        self.total
    }
}
