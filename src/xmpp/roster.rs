//! The roster (RFC 6121 §2): items parsed from `jabber:iq:roster` queries and the
//! `<query/>` payloads for get, add/update and remove.
//!
//! Whether a roster push may be trusted (its `from`) is decided by the session; this module
//! only converts between XML and [`RosterItem`].

use super::xml::Element;

/// The roster namespace.
pub const NS_ROSTER: &str = "jabber:iq:roster";

/// One roster entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterItem {
    /// The contact's bare JID.
    pub jid: String,
    /// The user-chosen name.
    pub name: Option<String>,
    /// `none`, `to`, `from`, `both` or `remove` (in pushes).
    pub subscription: String,
    /// `subscribe` while a request is pending.
    pub ask: Option<String>,
    /// Groups.
    pub groups: Vec<String>,
}

/// The items of a `<query xmlns='jabber:iq:roster'>` (items without a `jid` are skipped).
#[must_use]
pub fn parse_items(query: &Element) -> Vec<RosterItem> {
    let mut items = Vec::new();
    for e in query.elements() {
        if !e.is("item", NS_ROSTER) {
            continue;
        }
        let Some(jid) = e.attr("jid") else {
            continue;
        };
        items.push(RosterItem {
            jid: String::from(jid),
            name: e.attr("name").map(String::from),
            subscription: String::from(e.attr("subscription").unwrap_or("none")),
            ask: e.attr("ask").map(String::from),
            groups: e.texts("group", NS_ROSTER),
        });
    }
    items
}

/// `<query xmlns='jabber:iq:roster'/>` for a roster get.
#[must_use]
pub fn get_query() -> Element {
    Element::new("query", NS_ROSTER)
}

/// A roster set adding or updating `jid`.
#[must_use]
pub fn set_query(jid: &str, name: Option<&str>, groups: &[&str]) -> Element {
    let mut item = Element::new("item", NS_ROSTER)
        .with_attr("jid", jid)
        .with_opt_attr("name", name);
    for g in groups {
        item = item.with_text_child("group", NS_ROSTER, g);
    }
    Element::new("query", NS_ROSTER).with_child(item)
}

/// A roster set removing `jid`.
#[must_use]
pub fn remove_query(jid: &str) -> Element {
    Element::new("query", NS_ROSTER).with_child(
        Element::new("item", NS_ROSTER)
            .with_attr("jid", jid)
            .with_attr("subscription", "remove"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmpp::xml::{parse, Limits, NS_CLIENT};

    #[test]
    fn parse_and_build() {
        let q = parse(
            b"<query xmlns='jabber:iq:roster' ver='1'><item jid='a@b' name='A' subscription='both'><group>G1</group><group>G2</group></item><item jid='c@d' ask='subscribe'/><item/></query>",
            &Limits::default(),
            NS_CLIENT,
        )
        .unwrap();
        let items = parse_items(&q);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].groups, ["G1", "G2"]);
        assert_eq!(items[0].name.as_deref(), Some("A"));
        assert_eq!(items[1].subscription, "none");
        assert_eq!(items[1].ask.as_deref(), Some("subscribe"));
        let s = set_query("x@y", Some("X"), &["F"]).to_xml();
        assert_eq!(
            s,
            "<query xmlns=\"jabber:iq:roster\"><item jid=\"x@y\" name=\"X\"><group>F</group></item></query>"
        );
        assert!(remove_query("x@y")
            .to_xml()
            .contains("subscription=\"remove\""));
        assert!(parse_items(&get_query()).is_empty());
    }
}
