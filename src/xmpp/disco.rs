//! Service discovery (XEP-0030) and entity capabilities (XEP-0115): what this client answers
//! to `disco#info` (the features it really implements), the caps `ver` hash announced in its
//! presence, and the parsing of other entities' `disco#info` and `disco#items` results.

use super::jid::Jid;
#[cfg(test)]
use super::sasl::base64_encode;
use super::xml::Element;

/// `disco#info`.
pub const NS_DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";
/// `disco#items`.
pub const NS_DISCO_ITEMS: &str = "http://jabber.org/protocol/disco#items";
/// Entity capabilities.
pub const NS_CAPS: &str = "http://jabber.org/protocol/caps";
/// Our caps node (names the software).
pub const NODE: &str = "https://www.npmjs.com/package/fullduplex";

/// Our identity: category, type, name.
const IDENTITY: [&str; 3] = ["client", "web", "fullduplex"];

/// What the client implements, sorted (the caps hash needs byte order); receipts last, as
/// they are only announced when answered.
const FEATURES: [&str; 6] = [
    "http://jabber.org/protocol/caps",
    "http://jabber.org/protocol/chatstates",
    "http://jabber.org/protocol/disco#info",
    "http://jabber.org/protocol/muc",
    "urn:xmpp:ping",
    "urn:xmpp:receipts",
];

/// An identity in a `disco#info` result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// `category` (`server`, `conference`, `client`, `pubsub`…).
    pub category: String,
    /// `type` (`im`, `text`, `web`, `pep`…).
    pub kind: String,
    /// `name`.
    pub name: Option<String>,
}

/// A `disco#info` result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Info {
    /// Identities.
    pub identities: Vec<Identity>,
    /// Feature namespaces.
    pub features: Vec<String>,
}

/// An item in a `disco#items` result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The item's JID.
    pub jid: String,
    /// Its node.
    pub node: Option<String>,
    /// Its name.
    pub name: Option<String>,
}

/// Our features (`receipts`: whether we answer receipt requests).
pub fn features(receipts: bool) -> impl Iterator<Item = &'static str> {
    let n = if receipts { 6 } else { 5 };
    FEATURES.get(..n).unwrap_or(&[]).iter().copied()
}

/// Our `ver` with and without receipts, computed at build time of the source: they only
/// depend on constants (the unit tests check both against [`ver_of`] and the `sha1` crate).
const VER: [&str; 2] = [
    "t7idqSpF1Q1Mm/A9O8Ebf1vZUHo=",
    "AFl22q7TiPxhe+M3dNd124UzxpA=",
];

/// The XEP-0115 `ver` of our identity and features.
#[must_use]
pub fn ver(receipts: bool) -> String {
    String::from(VER.get(usize::from(receipts)).copied().unwrap_or(""))
}

/// The XEP-0115 `ver` hash computed from [`IDENTITY`] and [`FEATURES`] (what [`VER`] holds).
#[cfg(test)]
fn ver_of(receipts: bool) -> String {
    use crate::xmpp::sasl::{scram::Hash, sha::Sha};
    let mut h = Sha::new(Hash::Sha1);
    let [category, kind, name] = IDENTITY;
    for part in &[category, "/", kind, "//", name, "<"] {
        h.update(part.as_bytes());
    }
    for f in features(receipts) {
        h.update(f.as_bytes());
        h.update(b"<");
    }
    base64_encode(h.finish().bytes())
}

/// The caps element for our presence.
#[must_use]
pub fn caps(ver: &str) -> Element {
    Element::new("c", NS_CAPS)
        .with_attr("hash", "sha-1")
        .with_attr("node", NODE)
        .with_attr("ver", ver)
}

/// Whether a `disco#info` query for `node` is about us (no node, or our caps node).
#[must_use]
pub fn is_our_node(node: Option<&str>, ver: &str) -> bool {
    match node {
        None => true,
        Some(n) => n
            .strip_prefix(NODE)
            .and_then(|r| r.strip_prefix('#'))
            .is_some_and(|v| v == ver),
    }
}

/// The `<query/>` answering a `disco#info` request (echoing its `node`).
#[must_use]
pub fn info_query(node: Option<&str>, receipts: bool) -> Element {
    let [category, kind, name] = IDENTITY;
    let mut q = Element::new("query", NS_DISCO_INFO)
        .with_opt_attr("node", node)
        .with_child(
            Element::new("identity", NS_DISCO_INFO)
                .with_attr("category", category)
                .with_attr("type", kind)
                .with_attr("name", name),
        );
    for f in features(receipts) {
        q = q.with_child(Element::new("feature", NS_DISCO_INFO).with_attr("var", f));
    }
    q
}

/// A request for `disco#info` or `disco#items` (`items`), optionally of `node`.
#[must_use]
pub fn request(items: bool, node: Option<&str>) -> Element {
    Element::new("query", if items { NS_DISCO_ITEMS } else { NS_DISCO_INFO })
        .with_opt_attr("node", node)
}

fn attr(e: &Element, n: &str) -> Option<String> {
    e.attr(n).map(String::from)
}

/// The identities and features of a `disco#info` result IQ.
#[must_use]
pub fn parse_info(iq: &Element) -> Info {
    let mut info = Info::default();
    let Some(q) = iq.child("query", NS_DISCO_INFO) else {
        return info;
    };
    for c in q.elements() {
        if c.is("identity", NS_DISCO_INFO) {
            if let (Some(category), Some(kind)) = (attr(c, "category"), attr(c, "type")) {
                info.identities.push(Identity {
                    category,
                    kind,
                    name: attr(c, "name"),
                });
            }
        } else if let Some(v) = c.attr("var").filter(|_| c.is("feature", NS_DISCO_INFO)) {
            info.features.push(String::from(v));
        }
    }
    info
}

/// The items of a `disco#items` result IQ (items without a valid JID are skipped).
#[must_use]
pub fn parse_items(iq: &Element) -> Vec<Item> {
    let mut items = Vec::new();
    let Some(q) = iq.child("query", NS_DISCO_ITEMS) else {
        return items;
    };
    for c in q.elements() {
        if !c.is("item", NS_DISCO_ITEMS) {
            continue;
        }
        let Some(jid) = c.attr("jid").filter(|j| Jid::parse(j).is_some()) else {
            continue;
        };
        items.push(Item {
            jid: String::from(jid),
            node: attr(c, "node"),
            name: attr(c, "name"),
        });
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmpp::xml::{parse, Limits, NS_CLIENT};

    #[test]
    fn caps_ver_follows_xep_0115() {
        // The XEP-0115 §5.2 example, recomputed with the same algorithm.
        use sha1::Digest;
        let s = "client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<";
        assert_eq!(
            base64_encode(&sha1::Sha1::digest(s.as_bytes())),
            "QgayPKawpkPSDYmwT/WM94uAlu0="
        );
        // Ours: the same construction over our identity and features.
        let mut ours = String::from("client/web//fullduplex<");
        for f in features(true) {
            ours.push_str(f);
            ours.push('<');
        }
        assert_eq!(
            ver(true),
            base64_encode(&sha1::Sha1::digest(ours.as_bytes()))
        );
        assert_ne!(ver(true), ver(false));
        assert_eq!(ver(true), ver_of(true));
        assert_eq!(ver(false), ver_of(false));
        let mut sorted = FEATURES;
        sorted.sort_unstable();
        assert_eq!(sorted, FEATURES);
        let c = caps("abc=").to_xml();
        assert_eq!(c, format!("<c xmlns=\"http://jabber.org/protocol/caps\" hash=\"sha-1\" node=\"{NODE}\" ver=\"abc=\"/>"));
        assert!(is_our_node(None, "v"));
        assert!(is_our_node(Some(&format!("{NODE}#v")), "v"));
        assert!(!is_our_node(Some(&format!("{NODE}#w")), "v"));
        assert!(!is_our_node(Some("x"), "v"));
    }

    #[test]
    fn answers_and_parses() {
        let q = info_query(Some("n"), false).to_xml();
        assert!(q.starts_with("<query xmlns=\"http://jabber.org/protocol/disco#info\" node=\"n\"><identity category=\"client\" type=\"web\" name=\"fullduplex\"/><feature var=\"http://jabber.org/protocol/caps\"/>"));
        assert!(!q.contains("receipts"));
        let iq = parse(b"<iq type='result'><query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' type='im' name='Prosody'/><identity category='x'/><feature var='urn:xmpp:ping'/><feature/><x xmlns='jabber:x:data'/></query></iq>", &Limits::default(), NS_CLIENT).unwrap();
        let info = parse_info(&iq);
        assert_eq!(info.identities.len(), 1);
        assert_eq!(info.identities[0].kind, "im");
        assert_eq!(info.features, ["urn:xmpp:ping"]);
        let iq = parse(b"<iq type='result'><query xmlns='http://jabber.org/protocol/disco#items'><item jid='conference.localhost' name='Chatrooms'/><item jid='@bad'/><item jid='pubsub.localhost' node='n'/></query></iq>", &Limits::default(), NS_CLIENT).unwrap();
        let items = parse_items(&iq);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].name.as_deref(), Some("Chatrooms"));
        assert_eq!(items[1].node.as_deref(), Some("n"));
        assert_eq!(
            request(true, None).to_xml(),
            "<query xmlns=\"http://jabber.org/protocol/disco#items\"/>"
        );
    }
}
