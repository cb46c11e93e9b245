//! Variant `socket` (and, with features, `timer` and `collections`): roughly the minimum the
//! fullduplex browser layer does. A struct owns a `WebSocket` (binaryType arraybuffer) and its
//! four event `Closure`s; messages (text or bytes) are copied into a `Vec<u8>` in Rust, and
//! a JS callback gets strings.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{ArrayBuffer, Function, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

struct State {
    ws: WebSocket,
    callback: Function,
    /// Bytes of the last message (or of the unparsed stream, with `collections`).
    received: Vec<u8>,
    #[cfg(feature = "timer")]
    beat: Option<Beat>,
    #[cfg(feature = "collections")]
    frames: std::collections::VecDeque<Vec<u8>>,
    #[cfg(feature = "collections")]
    subscriptions: Vec<String>,
}

#[cfg(feature = "timer")]
struct Beat {
    window: web_sys::Window,
    /// The timer closure's function, so the closure can re-arm itself.
    handler: Function,
    period: i32,
    id: i32,
}

impl State {
    fn emit(&self, text: &str) {
        // A throwing callback is the page's problem, not ours.
        let _ = self
            .callback
            .call1(&JsValue::NULL, &JsValue::from_str(text));
    }

    fn on_bytes(&mut self, bytes: Vec<u8>) {
        #[cfg(not(feature = "collections"))]
        {
            self.received = bytes;
            let text = std::str::from_utf8(&self.received).unwrap_or("");
            self.emit(text);
        }
        #[cfg(feature = "collections")]
        {
            // A typical small state machine: buffer the stream, cut NUL-terminated frames,
            // queue them, then hand them out.
            self.received.extend_from_slice(&bytes);
            while let Some(end) = self.received.iter().position(|&b| b == 0) {
                let mut frame: Vec<u8> = self.received.drain(..=end).collect();
                frame.pop();
                self.frames.push_back(frame);
            }
            while let Some(frame) = self.frames.pop_front() {
                let text = String::from_utf8_lossy(&frame);
                self.emit(&text);
            }
        }
    }

    #[cfg(feature = "timer")]
    fn arm(&mut self) {
        if let Some(beat) = &mut self.beat {
            beat.window.clear_timeout_with_handle(beat.id);
            beat.id = beat
                .window
                .set_timeout_with_callback_and_timeout_and_arguments_0(&beat.handler, beat.period)
                .unwrap_or(0);
        }
    }
}

#[wasm_bindgen]
pub struct Floor {
    state: Rc<RefCell<State>>,
    _open: Closure<dyn FnMut(Event)>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _error: Closure<dyn FnMut(Event)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
    #[cfg(feature = "timer")]
    _beat: Option<Closure<dyn FnMut()>>,
}

#[wasm_bindgen]
impl Floor {
    /// Opens `url`; `callback` gets "open", each message's text, "error" and "close".
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str, callback: Function) -> Result<Floor, JsValue> {
        let ws = WebSocket::new(url)?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let state = Rc::new(RefCell::new(State {
            ws: ws.clone(),
            callback,
            received: Vec::new(),
            #[cfg(feature = "timer")]
            beat: None,
            #[cfg(feature = "collections")]
            frames: std::collections::VecDeque::new(),
            #[cfg(feature = "collections")]
            subscriptions: Vec::new(),
        }));

        let s = state.clone();
        let open = Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
            #[cfg(feature = "timer")]
            s.borrow_mut().arm();
            s.borrow().emit("open");
        });
        let s = state.clone();
        let message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let data = e.data();
            let bytes = if let Some(text) = data.as_string() {
                text.into_bytes()
            } else if let Some(buf) = data.dyn_ref::<ArrayBuffer>() {
                Uint8Array::new(buf).to_vec()
            } else {
                return;
            };
            s.borrow_mut().on_bytes(bytes);
        });
        let s = state.clone();
        let error = Closure::<dyn FnMut(Event)>::new(move |_e: Event| s.borrow().emit("error"));
        let s = state.clone();
        let close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            let st = s.borrow();
            st.emit(if e.was_clean() {
                "close"
            } else {
                "close:unclean"
            });
        });
        ws.set_onopen(Some(open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(message.as_ref().unchecked_ref()));
        ws.set_onerror(Some(error.as_ref().unchecked_ref()));
        ws.set_onclose(Some(close.as_ref().unchecked_ref()));
        Ok(Floor {
            state,
            _open: open,
            _message: message,
            _error: error,
            _close: close,
            #[cfg(feature = "timer")]
            _beat: None,
        })
    }

    /// Sends one text message (with `collections`: a frame built from `body`).
    pub fn send(&self, body: &str) -> Result<(), JsValue> {
        let st = self.state.borrow();
        #[cfg(not(feature = "collections"))]
        {
            st.ws.send_with_str(body)
        }
        #[cfg(feature = "collections")]
        {
            let mut frame = String::with_capacity(body.len() + 64);
            frame.push_str("SEND\n");
            for dest in &st.subscriptions {
                frame.push_str("destination:");
                frame.push_str(dest);
                frame.push('\n');
            }
            frame.push('\n');
            frame.push_str(body);
            frame.push('\0');
            st.ws.send_with_str(&frame)
        }
    }

    /// Sends "\n" every `ms` milliseconds, re-armed from setTimeout (a STOMP heart-beat).
    #[cfg(feature = "timer")]
    pub fn heartbeat(&mut self, ms: i32) -> Result<(), JsValue> {
        let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
        let s = self.state.clone();
        let beat = Closure::<dyn FnMut()>::new(move || {
            let mut st = s.borrow_mut();
            let _ = st.ws.send_with_str("\n");
            st.arm();
        });
        let handler: Function = beat.as_ref().unchecked_ref::<Function>().clone();
        let mut st = self.state.borrow_mut();
        st.beat = Some(Beat {
            window,
            handler,
            period: ms,
            id: 0,
        });
        st.arm();
        drop(st);
        self._beat = Some(beat);
        Ok(())
    }

    /// Remembers a destination; `send` addresses every remembered one.
    #[cfg(feature = "collections")]
    pub fn subscribe(&self, destination: &str) -> u32 {
        let mut st = self.state.borrow_mut();
        if !st.subscriptions.iter().any(|d| d == destination) {
            st.subscriptions.push(destination.to_owned());
        }
        u32::try_from(st.subscriptions.len()).unwrap_or(u32::MAX)
    }

    pub fn close(&self) {
        let _ = self.state.borrow().ws.close();
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        let st = self.state.borrow();
        #[cfg(feature = "timer")]
        if let Some(beat) = &st.beat {
            beat.window.clear_timeout_with_handle(beat.id);
        }
        st.ws.set_onopen(None);
        st.ws.set_onmessage(None);
        st.ws.set_onerror(None);
        st.ws.set_onclose(None);
        let _ = st.ws.close();
    }
}
