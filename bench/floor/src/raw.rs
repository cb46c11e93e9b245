//! Variant `raw`: the same job as `socket` without wasm-bindgen. The JS loader (js/raw.js)
//! owns the WebSocket; Rust sees handles, pointers and lengths through C-ABI exports and
//! calls two imports back.
#![allow(unsafe_code)]

#[link(wasm_import_module = "env")]
extern "C" {
    /// Sends `len` UTF-8 bytes at `ptr` as one text message on socket `handle`.
    fn ws_send(handle: u32, ptr: *const u8, len: usize);
    /// Calls the page's callback of socket `handle` with the UTF-8 string at `ptr`.
    fn callback(handle: u32, ptr: *const u8, len: usize);
}

pub struct Floor {
    handle: u32,
    received: Vec<u8>,
}

impl Floor {
    fn emit(&self, text: &str) {
        // SAFETY: the import only reads `len` bytes at `ptr` before returning.
        unsafe { callback(self.handle, text.as_ptr(), text.len()) }
    }
}

/// Creates the Rust side of socket `handle` (the loader's own id).
#[no_mangle]
pub extern "C" fn fd_new(handle: u32) -> *mut Floor {
    Box::into_raw(Box::new(Floor {
        handle,
        received: Vec::new(),
    }))
}

/// # Safety
/// `floor` comes from `fd_new` and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn fd_free(floor: *mut Floor) {
    drop(Box::from_raw(floor));
}

/// A buffer of `len` bytes for the loader to fill; ownership passes back with the next call.
#[no_mangle]
pub extern "C" fn fd_alloc(len: usize) -> *mut u8 {
    let mut buf = Vec::<u8>::with_capacity(len);
    let ptr = buf.as_mut_ptr();
    std::mem::forget(buf);
    ptr
}

/// # Safety
/// `floor` comes from `fd_new`; `ptr`/`len` from `fd_alloc(len)`, filled by the loader.
#[no_mangle]
pub unsafe extern "C" fn fd_on_message(floor: *mut Floor, ptr: *mut u8, len: usize) {
    let floor = &mut *floor;
    floor.received = Vec::from_raw_parts(ptr, len, len);
    let text = std::str::from_utf8(&floor.received).unwrap_or("");
    floor.emit(text);
}

/// # Safety
/// `floor` comes from `fd_new`; `ptr`/`len` from `fd_alloc(len)`, filled by the loader.
#[no_mangle]
pub unsafe extern "C" fn fd_send(floor: *mut Floor, ptr: *mut u8, len: usize) {
    let floor = &*floor;
    let body = Vec::from_raw_parts(ptr, len, len);
    ws_send(floor.handle, body.as_ptr(), body.len());
}

/// `what`: 0 open, 1 error, 2 clean close, 3 unclean close.
///
/// # Safety
/// `floor` comes from `fd_new`.
#[no_mangle]
pub unsafe extern "C" fn fd_on_event(floor: *mut Floor, what: u32) {
    let floor = &*floor;
    floor.emit(match what {
        0 => "open",
        1 => "error",
        2 => "close",
        _ => "close:unclean",
    });
}
