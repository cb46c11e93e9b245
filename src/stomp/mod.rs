//! STOMP 1.0–1.2 protocol core (sans-IO): the frame model ([`frame`]), the wire codec with its
//! limits ([`codec`]) and the client session state machine ([`session`], with its small
//! sorted-`Vec` maps in `map`). Nothing here touches a socket or a clock; the browser layer
//! feeds bytes and time in and polls frames, events and deadlines out.

pub mod codec;
pub mod frame;
mod map;
pub mod session;

pub use codec::{decode, encode, Decoder, Error, Item, ItemRef, Limits, Status};
pub use frame::{Command, Frame, FrameRef, HeaderIter, Version};

pub use crate::reconnect::ReconnectConfig;
pub use session::{
    redact, AckMode, AckRef, AckToken, ConnectOptions, Event, MessageRef, OpId, Session, Transmit,
};
