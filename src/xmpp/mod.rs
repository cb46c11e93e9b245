//! XMPP over WebSocket (RFC 7395) protocol core, sans-IO: the XML reader/writer ([`xml`]),
//! JIDs ([`jid`]), SASL ([`sasl`]), message/presence models ([`stanza`]), the roster
//! ([`roster`]) and the session state machine ([`session`]) that the browser layer drives with
//! WebSocket messages, commands and the current time.

pub mod jid;
pub mod roster;
pub mod sasl;
pub mod session;
pub mod stanza;
pub mod xml;

pub use jid::Jid;
pub use roster::RosterItem;
pub use sasl::Mechanism;
pub use session::{redact, Config, Credentials, Error, Event, OpId, Session, Transmit};
pub use stanza::{Message, Presence};
