//! STOMP 1.0–1.2 protocol core (sans-IO): the frame model ([`frame`]), the wire codec with its
//! limits ([`codec`]) and the client session state machine ([`session`]). Nothing here touches
//! a socket or a clock; the browser layer feeds bytes and time in and polls frames, events and
//! deadlines out.

pub mod codec;
pub mod frame;
pub mod session;

pub use codec::{decode, encode, Decoder, Error, Item, Limits, Status};
pub use frame::{Command, Frame, Version};

pub use crate::reconnect::ReconnectConfig;
pub use session::{redact, AckMode, AckToken, ConnectOptions, Event, OpId, Session, Transmit};
