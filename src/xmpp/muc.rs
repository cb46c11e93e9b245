//! Multi-user chat (XEP-0045): the rooms this session joined or is joining, the join and leave
//! presences, the instant-room configuration a room creator submits, and occupant presences
//! (nick, real JID, role, affiliation, status codes) parsed from `muc#user` payloads.
//!
//! The session routes presences from a tracked room here and sends what these builders make;
//! groupchat messages and subjects are ordinary messages (`type="groupchat"`).

use super::jid::Jid;
use super::secret::Secret;
use super::session::OpId;
use super::stanza::{self, push_i64};
use super::xml::{Element, NS_CLIENT};
use crate::time::Millis;

/// The MUC namespace (join requests).
pub const NS_MUC: &str = "http://jabber.org/protocol/muc";
/// Occupant information in room presences.
pub const NS_MUC_USER: &str = "http://jabber.org/protocol/muc#user";
/// Room owner operations.
pub const NS_MUC_OWNER: &str = "http://jabber.org/protocol/muc#owner";

/// Discussion history to ask for when joining (all `None`: the room's default).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// At most this many messages (`maxstanzas`; 0 for none).
    pub max_stanzas: Option<u32>,
    /// Only messages of the last this many seconds.
    pub seconds: Option<u32>,
    /// Only messages since this XEP-0082 timestamp.
    pub since: Option<String>,
}

/// A presence of a room occupant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occupant {
    /// The room's bare JID.
    pub room: String,
    /// The occupant's nickname (resource of `from`).
    pub nick: String,
    /// The occupant's real JID, when the room shows it.
    pub jid: Option<String>,
    /// `moderator`, `participant`, `visitor` or `none`.
    pub role: Option<String>,
    /// `owner`, `admin`, `member`, `outcast` or `none`.
    pub affiliation: Option<String>,
    /// `None` when available, else `unavailable`.
    pub kind: Option<String>,
    /// `<show/>`.
    pub show: Option<String>,
    /// `<status/>`.
    pub status: Option<String>,
    /// Status codes (110: this is us, 201: room created, 303: nick change, 307: kicked…).
    pub codes: Vec<u16>,
    /// This presence is about our own occupant.
    pub me: bool,
    /// The new nickname on a nick change (303).
    pub new_nick: Option<String>,
    /// The whole stanza.
    pub xml: String,
}

/// A room joined or being joined.
#[derive(Clone, Debug)]
pub struct Room {
    /// The room's bare JID.
    pub jid: Jid,
    /// Our nickname.
    pub nick: String,
    /// The pending join or leave command.
    pub op: Option<OpId>,
    /// Deadline of the pending command.
    pub deadline: Option<Millis>,
    /// Our self-presence arrived.
    pub joined: bool,
    /// A leave was asked.
    pub leaving: bool,
    /// The join password, kept to rejoin after a reconnection.
    pub password: Option<Secret>,
    /// Being rejoined after a reconnection (no command waits for it).
    pub rejoin: bool,
}

impl Room {
    /// `room@service/nick`.
    #[must_use]
    pub fn occupant_jid(&self) -> String {
        let mut s = self.jid.bare();
        s.push('/');
        s.push_str(&self.nick);
        s
    }
}

/// The join presence to `room/nick` (`caps`: an entity capabilities element to include).
#[must_use]
pub fn join(to: &str, password: Option<&str>, history: &History, caps: Option<Element>) -> Element {
    let mut x = Element::new("x", NS_MUC);
    if let Some(p) = password {
        x = x.with_text_child("password", NS_MUC, p);
    }
    if *history != History::default() {
        let mut h = Element::new("history", NS_MUC);
        for (name, v) in &[
            ("maxstanzas", history.max_stanzas),
            ("seconds", history.seconds),
        ] {
            if let Some(v) = v {
                let mut s = String::new();
                push_i64(&mut s, i64::from(*v));
                h.set_attr(name, &s);
            }
        }
        x = x.with_child(h.with_opt_attr("since", history.since.as_deref()));
    }
    let mut p = stanza::presence(None, Some(to), None, None, None).with_child(x);
    if let Some(c) = caps {
        p = p.with_child(c);
    }
    p
}

/// The `<query/>` that accepts the default configuration of a room we created (an instant
/// room, XEP-0045 §10.1.2), which unlocks it for others.
#[must_use]
pub fn instant_room() -> Element {
    Element::new("query", NS_MUC_OWNER)
        .with_child(Element::new("x", "jabber:x:data").with_attr("type", "submit"))
}

/// A groupchat message setting the subject.
#[must_use]
pub fn subject(id: &str, room: &str, subject: &str) -> Element {
    Element::new("message", NS_CLIENT)
        .with_attr("to", room)
        .with_attr("id", id)
        .with_attr("type", "groupchat")
        .with_text_child("subject", NS_CLIENT, subject)
}

impl Occupant {
    /// From a presence sent by `room/nick`.
    #[must_use]
    pub fn from_presence(p: &Element, room: &Jid, nick: &str, our_nick: &str) -> Occupant {
        let x = p.child("x", NS_MUC_USER);
        let item = x.and_then(|x| x.child("item", NS_MUC_USER));
        let mut codes: Vec<u16> = Vec::new();
        if let Some(x) = x {
            for c in x.elements() {
                if c.is("status", NS_MUC_USER) {
                    if let Some(code) = c.attr("code").and_then(crate::xmpp::xml::parse_u32) {
                        if let Ok(code) = u16::try_from(code) {
                            codes.push(code);
                        }
                    }
                }
            }
        }
        let attr = |n: &str| item.and_then(|i| i.attr(n)).map(String::from);
        let m = stanza::Presence::from_element(p);
        Occupant {
            room: room.bare(),
            nick: String::from(nick),
            jid: attr("jid"),
            role: attr("role"),
            affiliation: attr("affiliation"),
            me: has_code(&codes, 110) || nick == our_nick,
            new_nick: attr("nick"),
            codes,
            kind: m.kind,
            show: m.show,
            status: m.status,
            xml: m.xml,
        }
    }
}

/// Whether `codes` holds `code` (a loop: `<[u16]>::contains` is a larger specialised search).
#[must_use]
pub fn has_code(codes: &[u16], code: u16) -> bool {
    for c in codes {
        if *c == code {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmpp::xml::{parse, Limits};

    #[test]
    fn builders() {
        let h = History {
            max_stanzas: Some(20),
            seconds: None,
            since: Some("2020-01-01T00:00:00Z".into()),
        };
        assert_eq!(
            join("r@muc.x/me", Some("s&cret"), &h, None).to_xml(),
            "<presence xmlns=\"jabber:client\" to=\"r@muc.x/me\"><x xmlns=\"http://jabber.org/protocol/muc\"><password>s&amp;cret</password><history maxstanzas=\"20\" since=\"2020-01-01T00:00:00Z\"/></x></presence>"
        );
        assert_eq!(
            join("r@muc.x/me", None, &History::default(), None).to_xml(),
            "<presence xmlns=\"jabber:client\" to=\"r@muc.x/me\"><x xmlns=\"http://jabber.org/protocol/muc\"/></presence>"
        );
        assert_eq!(
            instant_room().to_xml(),
            "<query xmlns=\"http://jabber.org/protocol/muc#owner\"><x xmlns=\"jabber:x:data\" type=\"submit\"/></query>"
        );
        assert!(subject("i", "r@m", "topic")
            .to_xml()
            .contains("<subject>topic</subject>"));
    }

    #[test]
    fn occupants() {
        let room = Jid::parse("r@muc.x").unwrap();
        let p = parse(b"<presence from='r@muc.x/me'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator' jid='a@x/w'/><status code='110'/><status code='201'/><status code='x'/></x></presence>", &Limits::default(), NS_CLIENT).unwrap();
        let o = Occupant::from_presence(&p, &room, "me", "other");
        assert_eq!(o.codes, [110, 201]);
        assert!(o.me);
        assert_eq!(o.role.as_deref(), Some("moderator"));
        assert_eq!(o.affiliation.as_deref(), Some("owner"));
        assert_eq!(o.jid.as_deref(), Some("a@x/w"));
        assert_eq!(o.room, "r@muc.x");
        let p = parse(
            b"<presence from='r@muc.x/bob' type='unavailable'><show>away</show></presence>",
            &Limits::default(),
            NS_CLIENT,
        )
        .unwrap();
        let o = Occupant::from_presence(&p, &room, "bob", "me");
        assert!(!o.me);
        assert_eq!(o.kind.as_deref(), Some("unavailable"));
        assert_eq!(o.role, None);
        assert!(o.codes.is_empty());
    }
}
