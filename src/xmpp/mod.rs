//! XMPP over WebSocket (RFC 7395) protocol core, sans-IO: the XML reader/writer ([`xml`]),
//! JIDs ([`jid`]), SASL ([`sasl`]), message/presence models ([`stanza`]), the roster
//! ([`roster`]) and the session state machine ([`session`]) that the browser layer drives with
//! WebSocket messages, commands and the current time. The everyday extensions each have a
//! module the session uses: stream management with resumption ([`sm`], XEP-0198), multi-user
//! chat ([`muc`], XEP-0045), carbons ([`carbons`], XEP-0280), delivery receipts ([`receipts`],
//! XEP-0184), chat states ([`chatstates`], XEP-0085), service discovery and entity
//! capabilities ([`disco`], XEP-0030/0115) and message archives ([`mam`], XEP-0313).

pub mod carbons;
pub mod chatstates;
pub mod disco;
pub mod jid;
pub mod mam;
pub mod muc;
pub mod receipts;
pub mod roster;
pub mod sasl;
pub mod secret;
pub mod session;
pub mod sm;
pub mod stanza;
pub mod xml;

pub use jid::Jid;
pub use roster::RosterItem;
pub use sasl::Mechanism;
pub use session::{
    redact, Config, Credentials, Error, Event, MessageOptions, OpId, Session, Transmit,
};
pub use stanza::{Message, Presence};
