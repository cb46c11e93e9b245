//! Message archive management (XEP-0313, `urn:xmpp:mam:2`) with result set management paging
//! (XEP-0059): the query form, the archived messages that arrive as `<result/>` wrappers, and
//! the `<fin/>` that closes a page with its first and last ids.
//!
//! The session gathers the results of each query (only from the archive queried — our own
//! account or the room — and with the query's id) and completes the command with one
//! [`Page`].

use super::carbons::NS_FORWARD;
use super::jid::Jid;
use super::stanza::{delay_of, push_i64, Message};
use super::xml::{Element, NS_CLIENT};

/// The MAM namespace.
pub const NS_MAM: &str = "urn:xmpp:mam:2";
/// Result set management.
pub const NS_RSM: &str = "http://jabber.org/protocol/rsm";
const NS_DATA: &str = "jabber:x:data";

/// Most messages kept for one page (a server ignoring `max` cannot flood memory).
pub const PAGE_MAX: usize = 1000;

/// What to fetch from an archive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Only messages with this JID (a contact).
    pub with: Option<String>,
    /// Only messages at or after this XEP-0082 time.
    pub start: Option<String>,
    /// Only messages at or before this time.
    pub end: Option<String>,
    /// At most this many messages.
    pub max: Option<u32>,
    /// The page before this archive id; `Some("")` for the last (most recent) page.
    pub before: Option<String>,
    /// The page after this archive id.
    pub after: Option<String>,
}

/// One page of archived messages, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// The messages (each with `archive_id` and `delay`).
    pub messages: Vec<Message>,
    /// The archive says there is nothing further in the direction asked.
    pub complete: bool,
    /// Archive id of the first message of the page (for `before`: the previous page).
    pub first: Option<String>,
    /// Archive id of the last message (for `after`: the next page).
    pub last: Option<String>,
    /// How many messages match in all, when the archive tells.
    pub count: Option<u32>,
}

/// A query in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// Our `queryid`.
    pub queryid: String,
    /// The archive queried (`None`: our own account).
    pub archive: Option<Jid>,
    /// Results so far.
    pub page: Page,
}

fn field(var: &str, value: &str) -> Element {
    Element::new("field", NS_DATA)
        .with_attr("var", var)
        .with_text_child("value", NS_DATA, value)
}

/// The `<query/>` for an IQ set.
#[must_use]
pub fn query(queryid: &str, q: &Query) -> Element {
    let mut x = Element::new("x", NS_DATA)
        .with_attr("type", "submit")
        .with_child(field("FORM_TYPE", NS_MAM).with_attr("type", "hidden"));
    for (var, v) in &[("with", &q.with), ("start", &q.start), ("end", &q.end)] {
        if let Some(v) = v {
            x = x.with_child(field(var, v));
        }
    }
    let mut out = Element::new("query", NS_MAM)
        .with_attr("queryid", queryid)
        .with_child(x);
    if q.max.is_some() || q.before.is_some() || q.after.is_some() {
        let mut set = Element::new("set", NS_RSM);
        if let Some(m) = q.max {
            let mut s = String::new();
            push_i64(&mut s, i64::from(m));
            set = set.with_text_child("max", NS_RSM, &s);
        }
        for (name, v) in &[("after", &q.after), ("before", &q.before)] {
            if let Some(v) = v {
                let mut e = Element::new(name, NS_RSM);
                if !v.is_empty() {
                    e = e.with_text(v);
                }
                set = set.with_child(e);
            }
        }
        out = out.with_child(set);
    }
    out
}

/// The `<result/>` of a message, if it is an archive result: `(queryid, message)`.
#[must_use]
pub fn result(msg: &Element) -> Option<(&str, &Element)> {
    let r = msg.child("result", NS_MAM)?;
    Some((r.attr("queryid").unwrap_or(""), r))
}

/// The archived message inside a `<result/>`, with its archive id and original time.
#[must_use]
pub fn archived(result: &Element) -> Option<Message> {
    let fwd = result.child("forwarded", NS_FORWARD)?;
    let inner = fwd.child("message", NS_CLIENT)?;
    let mut m = Message::from_element(inner);
    m.archive_id = result.attr("id").map(String::from);
    m.delay = delay_of(fwd).or(m.delay);
    Some(m)
}

/// Completes `page` from the `<fin/>` of the result IQ.
pub fn finish(iq: &Element, page: &mut Page) {
    let Some(fin) = iq.child("fin", NS_MAM) else {
        return;
    };
    page.complete = matches!(fin.attr("complete"), Some("true" | "1"));
    if let Some(set) = fin.child("set", NS_RSM) {
        let text = |n: &str| set.child(n, NS_RSM).map(Element::text);
        page.first = text("first");
        page.last = text("last");
        page.count = text("count").and_then(|c| crate::xmpp::xml::parse_u32(&c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmpp::xml::{parse, Limits};

    fn el(x: &str) -> Element {
        parse(x.as_bytes(), &Limits::default(), NS_CLIENT).unwrap()
    }

    #[test]
    fn builds_queries() {
        let q = Query {
            with: Some("bob@x".into()),
            max: Some(10),
            before: Some(String::new()),
            ..Query::default()
        };
        assert_eq!(
            query("q1", &q).to_xml(),
            "<query xmlns=\"urn:xmpp:mam:2\" queryid=\"q1\"><x xmlns=\"jabber:x:data\" type=\"submit\"><field var=\"FORM_TYPE\" type=\"hidden\"><value>urn:xmpp:mam:2</value></field><field var=\"with\"><value>bob@x</value></field></x><set xmlns=\"http://jabber.org/protocol/rsm\"><max>10</max><before/></set></query>"
        );
        let q = Query {
            after: Some("a9".into()),
            start: Some("2020-01-01T00:00:00Z".into()),
            ..Query::default()
        };
        let x = query("q2", &q).to_xml();
        assert!(x.contains("<field var=\"start\"><value>2020-01-01T00:00:00Z</value></field>"));
        assert!(x.ends_with(
            "<set xmlns=\"http://jabber.org/protocol/rsm\"><after>a9</after></set></query>"
        ));
        assert!(!query("q3", &Query::default()).to_xml().contains("<set"));
    }

    #[test]
    fn parses_results_and_fin() {
        let m = el("<message from='a@x' to='a@x/r'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='28482-98726-73623'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/><message xmlns='jabber:client' from='a@x/r' to='b@x' type='chat'><body>Hail</body></message></forwarded></result></message>");
        let (qid, r) = result(&m).unwrap();
        assert_eq!(qid, "q1");
        let a = archived(r).unwrap();
        assert_eq!(a.body.as_deref(), Some("Hail"));
        assert_eq!(a.archive_id.as_deref(), Some("28482-98726-73623"));
        assert_eq!(a.delay.as_deref(), Some("2010-07-10T23:08:25Z"));
        assert_eq!(a.to.as_deref(), Some("b@x"));
        assert!(archived(&el("<result xmlns='urn:xmpp:mam:2'/>")).is_none());
        assert!(result(&el("<message><body/></message>")).is_none());
        let mut page = Page::default();
        finish(&el("<iq type='result'><fin xmlns='urn:xmpp:mam:2' complete='true'><set xmlns='http://jabber.org/protocol/rsm'><first index='0'>f</first><last>l</last><count>25</count></set></fin></iq>"), &mut page);
        assert!(page.complete);
        assert_eq!(
            (page.first.as_deref(), page.last.as_deref(), page.count),
            (Some("f"), Some("l"), Some(25))
        );
        let mut page = Page::default();
        finish(
            &el("<iq type='result'><fin xmlns='urn:xmpp:mam:2'/></iq>"),
            &mut page,
        );
        assert_eq!(page, Page::default());
    }
}
