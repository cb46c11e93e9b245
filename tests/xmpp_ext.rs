#![cfg(feature = "xmpp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]
//! Transcripts of the everyday extensions against scripted server replies (fake clock, fixed
//! entropy): stream management with resumption (XEP-0198), multi-user chat (XEP-0045),
//! carbons (XEP-0280), delivery receipts (XEP-0184), chat states (XEP-0085), disco and caps
//! (XEP-0030, XEP-0115), message archives with paging (XEP-0313, XEP-0059).

#[path = "common/xmpp.rs"]
mod common;
use common::{caps, el, events, feed, one, texts};
use fullduplex::time::Millis;
use fullduplex::xmpp::disco;
use fullduplex::xmpp::mam::Query;
use fullduplex::xmpp::muc::{History, Occupant};
use fullduplex::xmpp::{
    Config, Credentials, Error, Event, Mechanism, Message, MessageOptions, Session,
};

const T0: Millis = Millis(1000);
const OPEN: &str =
    "<open xmlns=\"urn:ietf:params:xml:ns:xmpp-framing\" to=\"example.com\" version=\"1.0\"/>";
const SERVER_OPEN: &str =
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s1' version='1.0'/>";
const PLAIN_FEATURES: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>";
const SM_FEATURES: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:2'><optional/></sm><sm xmlns='urn:xmpp:sm:3'><optional/></sm></stream:features>";
const ENABLE: &str = "<enable xmlns=\"urn:xmpp:sm:3\" resume=\"true\"/>";
const R: &str = "<r xmlns=\"urn:xmpp:sm:3\"/>";
const ME: &str = "user@example.com/web";

fn config() -> Config {
    let mut c = Config::new("example.com");
    c.credentials = Some(Credentials {
        username: "user".into(),
        password: "pencil".into(),
        resource: Some("web".into()),
    });
    c.mechanisms = vec![Mechanism::Plain];
    c.transport_secure = true;
    c
}

/// Opens the stream and authenticates with PLAIN; returns after the post-auth `<open/>`.
fn authenticate(s: &mut Session, now: Millis) {
    s.handle_open(now);
    assert_eq!(one(s), OPEN);
    feed(s, now, SERVER_OPEN);
    feed(s, now, PLAIN_FEATURES);
    assert!(one(s).starts_with("<auth "));
    feed(
        s,
        now,
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    );
    assert_eq!(one(s), OPEN);
    feed(s, now, SERVER_OPEN);
}

/// Binds after `features`; returns what was sent after the bind result.
fn bind(s: &mut Session, now: Millis, features: &str) -> Vec<String> {
    feed(s, now, features);
    let iq = el(&one(s));
    let id = iq.attr("id").unwrap();
    feed(
        s,
        now,
        &format!("<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>{ME}</jid></bind></iq>"),
    );
    texts(s)
}

/// Online with stream management enabled (resumable, id `sm1`).
fn online_sm() -> Session {
    let mut s = Session::new(config(), [7; 32]);
    authenticate(&mut s, T0);
    assert_eq!(bind(&mut s, T0, SM_FEATURES), [ENABLE]);
    assert_eq!(
        events(&mut s),
        [Event::Online {
            jid: ME.into(),
            reconnected: false
        }]
    );
    feed(
        &mut s,
        T0,
        "<enabled xmlns='urn:xmpp:sm:3' id='sm1' resume='true' max='600'/>",
    );
    assert!(texts(&mut s).is_empty());
    assert!(events(&mut s).is_empty());
    s
}

fn msg(s: &mut Session, body: &str) -> String {
    s.send_message("peer@example.com", body, Some("chat"), None, None)
        .unwrap();
    one(s)
}

fn incoming(n: u32) -> String {
    format!("<message from='peer@example.com/x' to='{ME}' type='chat' id='in{n}'><body>{n}</body></message>")
}

#[test]
fn sm_not_enabled_unless_offered_or_configured() {
    let mut s = Session::new(config(), [7; 32]);
    authenticate(&mut s, T0);
    let plain = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";
    assert!(bind(&mut s, T0, plain).is_empty());
    let mut c = config();
    c.stream_management = false;
    let mut s = Session::new(c, [7; 32]);
    authenticate(&mut s, T0);
    assert!(bind(&mut s, T0, SM_FEATURES).is_empty());
    let _ = msg(&mut s, "x");
    assert_eq!(s.poll_timeout(), None, "no ack requested");
}

#[test]
fn sm_counts_requests_and_answers_acks() {
    let mut s = online_sm();
    // The server's <r/> is answered with the count of stanzas handled since <enabled/>.
    feed(&mut s, T0, R);
    assert_eq!(one(&mut s), "<a xmlns=\"urn:xmpp:sm:3\" h=\"0\"/>");
    for n in 1..=3 {
        feed(&mut s, T0, &incoming(n));
    }
    assert_eq!(events(&mut s).len(), 3);
    feed(&mut s, T0, R);
    assert_eq!(one(&mut s), "<a xmlns=\"urn:xmpp:sm:3\" h=\"3\"/>");
    // A burst of our stanzas gets one <r/> at the end of the burst (the deadline is "now").
    let t1 = T0 + 10;
    s.handle_timeout(t1);
    let _ = msg(&mut s, "a");
    let _ = msg(&mut s, "b");
    assert_eq!(s.poll_timeout(), Some(t1));
    s.handle_timeout(t1);
    assert_eq!(one(&mut s), R);
    // One <r/> at a time; the ack deadline is the IQ timeout.
    let _ = msg(&mut s, "c");
    assert_eq!(s.poll_timeout(), Some(t1 + 30_000));
    feed(&mut s, t1, "<a xmlns='urn:xmpp:sm:3' h='2'/>");
    // "c" is still unacknowledged: another <r/> follows.
    assert_eq!(s.poll_timeout(), Some(t1));
    s.handle_timeout(t1);
    assert_eq!(one(&mut s), R);
    feed(&mut s, t1, "<a xmlns='urn:xmpp:sm:3' h='3'/>");
    assert_eq!(s.poll_timeout(), None);
    assert!(texts(&mut s).is_empty());
    // An ack for more than was sent is a protocol violation.
    feed(&mut s, t1, "<a xmlns='urn:xmpp:sm:3' h='4'/>");
    assert!(matches!(&events(&mut s)[..], [Event::ProtocolError { .. }]));
    assert!(texts(&mut s)[0].starts_with("CLOSE 1000"));
}

#[test]
fn sm_drop_resume_resends_exactly_the_unacked() {
    let mut s = online_sm();
    let _m1 = msg(&mut s, "one");
    let m2 = msg(&mut s, "two");
    let m3 = msg(&mut s, "three");
    feed(&mut s, T0, "<a xmlns='urn:xmpp:sm:3' h='1'/>");
    feed(&mut s, T0, &incoming(1));
    feed(&mut s, T0, &incoming(2));
    let _ = events(&mut s);
    // The socket drops: no Closed, a reconnection at once instead.
    let t1 = T0 + 100;
    s.handle_close(t1, 1006, "", false);
    assert!(events(&mut s).is_empty());
    assert!(!s.is_online());
    assert_eq!(s.jid(), None);
    assert_eq!(s.poll_timeout(), Some(t1));
    // Stanzas sent meanwhile are queued.
    let queued = s
        .send_message("peer@example.com", "four", Some("chat"), None, None)
        .unwrap();
    assert!(texts(&mut s).is_empty());
    s.handle_timeout(t1);
    assert_eq!(events(&mut s), [Event::Reconnect { attempt: 1 }]);
    assert_eq!(s.poll_timeout(), None);
    // The new socket: authenticate, then <resume/> instead of binding.
    authenticate(&mut s, t1);
    feed(&mut s, t1, SM_FEATURES);
    assert_eq!(
        one(&mut s),
        "<resume xmlns=\"urn:xmpp:sm:3\" h=\"2\" previd=\"sm1\"/>"
    );
    // The server had handled "one" and "two": only "three" is sent again, then "four".
    feed(
        &mut s,
        t1,
        "<resumed xmlns='urn:xmpp:sm:3' h='2' previd='sm1'/>",
    );
    let out = texts(&mut s);
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[0], m3);
    assert!(out[1].contains(&format!("id=\"{queued}\"")));
    assert_ne!(out[0], m2);
    assert_eq!(events(&mut s), [Event::Resumed]);
    assert!(s.is_online());
    assert_eq!(s.jid(), Some(ME));
    // Counting goes on from the server's h: it handled one more, then the last two.
    feed(&mut s, t1, &incoming(3));
    feed(&mut s, t1, R);
    let _ = events(&mut s);
    assert_eq!(one(&mut s), "<a xmlns=\"urn:xmpp:sm:3\" h=\"3\"/>");
    s.handle_timeout(t1);
    assert_eq!(one(&mut s), R);
    feed(&mut s, t1, "<a xmlns='urn:xmpp:sm:3' h='4'/>");
    assert_eq!(s.poll_timeout(), None, "all acknowledged");
}

#[test]
fn sm_resume_refused_reports_unacked_then_fresh_session() {
    let mut s = online_sm();
    let m1 = msg(&mut s, "one");
    let m2 = msg(&mut s, "two");
    let m3 = msg(&mut s, "three");
    let op = s.get_roster(T0);
    let roster_iq = one(&mut s);
    s.handle_close(T0, 1006, "", false);
    s.handle_timeout(T0);
    assert_eq!(events(&mut s), [Event::Reconnect { attempt: 1 }]);
    authenticate(&mut s, T0);
    feed(&mut s, T0, SM_FEATURES);
    assert!(one(&mut s).starts_with("<resume "));
    // Refused, but the server says it had handled one of ours.
    feed(&mut s, T0, "<failed xmlns='urn:xmpp:sm:3' h='1'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
    let ev = events(&mut s);
    assert_eq!(
        ev[0],
        Event::Unacknowledged {
            stanzas: vec![m2, m3, roster_iq]
        }
    );
    assert!(
        matches!(&ev[1], Event::Failed { op: o, condition, .. } if *o == op && condition == "closed")
    );
    assert_eq!(ev.len(), 2);
    let _ = m1;
    // A fresh session: bind, Online again, stream management enabled anew.
    let bind_iq = el(&one(&mut s));
    assert_eq!(bind_iq.attr("type"), Some("set"));
    let id = bind_iq.attr("id").unwrap();
    feed(
        &mut s,
        T0,
        &format!("<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@example.com/web2</jid></bind></iq>"),
    );
    assert_eq!(one(&mut s), ENABLE);
    assert_eq!(
        events(&mut s),
        [Event::Online {
            jid: "user@example.com/web2".into(),
            reconnected: true
        }]
    );
}

#[test]
fn sm_reconnect_backs_off_then_gives_up() {
    let mut s = online_sm();
    let m1 = msg(&mut s, "one");
    s.handle_close(T0, 1006, "gone", false);
    let queued = s
        .send_message("peer@example.com", "later", None, None, None)
        .unwrap();
    let mut now = T0;
    let mut attempts = Vec::new();
    let mut rest = Vec::new();
    while let Some(at) = s.poll_timeout() {
        assert!(at >= now);
        now = at;
        s.handle_timeout(now);
        for e in events(&mut s) {
            match e {
                Event::Reconnect { attempt } => {
                    attempts.push((attempt, now.0 - T0.0));
                    // The socket fails to open.
                    s.handle_close(now, 1006, "", false);
                    rest.extend(events(&mut s));
                }
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(
        attempts,
        [
            (1, 0),
            (2, 500),
            (3, 1500),
            (4, 3500),
            (5, 7500),
            (6, 15500),
            (7, 30500),
            (8, 60500)
        ]
    );
    // Then it gives up: what may not have arrived, what was never sent, and the first close.
    assert_eq!(rest.len(), 3, "{rest:?}");
    assert_eq!(rest[0], Event::Unacknowledged { stanzas: vec![m1] });
    assert!(
        matches!(&rest[1], Event::Undelivered { stanzas } if stanzas.len() == 1 && stanzas[0].contains(&queued))
    );
    assert_eq!(
        rest[2],
        Event::Closed {
            code: 1006,
            reason: "gone".into(),
            clean: false
        }
    );
    assert!(s.send_message("a@b", "x", None, None, None).is_err());
}

#[test]
fn sm_ack_timeout_drops_the_socket_and_resumes() {
    let mut s = online_sm();
    let m1 = msg(&mut s, "one");
    s.handle_timeout(T0);
    assert_eq!(one(&mut s), R);
    s.handle_timeout(T0 + 30_000);
    assert_eq!(texts(&mut s), ["CLOSE 1000 ack timeout"]);
    s.handle_close(T0 + 30_010, 1000, "", true);
    s.handle_timeout(T0 + 30_010);
    assert_eq!(events(&mut s), [Event::Reconnect { attempt: 1 }]);
    authenticate(&mut s, T0 + 30_010);
    feed(&mut s, T0 + 30_010, SM_FEATURES);
    assert!(one(&mut s).starts_with("<resume "));
    feed(
        &mut s,
        T0 + 30_010,
        "<resumed xmlns='urn:xmpp:sm:3' h='0' previd='sm1'/>",
    );
    assert_eq!(texts(&mut s), [m1]);
    assert_eq!(events(&mut s), [Event::Resumed]);
}

#[test]
fn sm_disconnect_while_reconnecting() {
    let mut s = online_sm();
    let m1 = msg(&mut s, "one");
    s.handle_close(T0, 1006, "x", false);
    s.handle_timeout(T0);
    assert_eq!(events(&mut s), [Event::Reconnect { attempt: 1 }]);
    s.handle_close(T0, 1006, "", false);
    assert!(events(&mut s).is_empty());
    // Waiting 500 ms for the second attempt: disconnect ends it at once.
    let op = s.disconnect(T0);
    let ev = events(&mut s);
    assert_eq!(
        ev,
        [
            Event::Completed {
                op,
                roster: None,
                xml: None
            },
            Event::Unacknowledged { stanzas: vec![m1] },
            Event::Closed {
                code: 1006,
                reason: "x".into(),
                clean: false
            }
        ]
    );
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn sm_clean_close_is_not_resumed() {
    let mut s = online_sm();
    let _ = msg(&mut s, "one");
    // The server acknowledges, then closes the stream: no reconnection.
    feed(&mut s, T0, "<a xmlns='urn:xmpp:sm:3' h='1'/>");
    feed(
        &mut s,
        T0,
        "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
    );
    let _ = texts(&mut s);
    s.handle_close(T0, 1000, "", true);
    assert!(matches!(&events(&mut s)[..], [Event::Closed { .. }]));
    // Nor after our own disconnect.
    let mut s = online_sm();
    let _ = msg(&mut s, "one");
    let op = s.disconnect(T0);
    let _ = texts(&mut s);
    s.handle_close(T0, 1006, "", false);
    let ev = events(&mut s);
    assert_eq!(
        ev[0],
        Event::Completed {
            op,
            roster: None,
            xml: None
        }
    );
    assert!(matches!(&ev[1], Event::Unacknowledged { stanzas } if stanzas.len() == 1));
    assert!(matches!(&ev[2], Event::Closed { .. }));
}

// ------------------------------------------------------------------------------------ MUC

const BIND_ONLY: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";

/// Online without stream management.
fn online() -> Session {
    let mut s = Session::new(config(), [7; 32]);
    authenticate(&mut s, T0);
    assert!(bind(&mut s, T0, BIND_ONLY).is_empty());
    assert_eq!(
        events(&mut s),
        [Event::Online {
            jid: ME.into(),
            reconnected: false
        }]
    );
    s
}

fn occupant(e: &Event) -> &Occupant {
    match e {
        Event::Occupant(o) => o,
        other => panic!("not an occupant: {other:?}"),
    }
}

#[test]
fn muc_join_occupants_subject_leave() {
    let mut s = online();
    let history = History {
        max_stanzas: Some(5),
        ..History::default()
    };
    let op = s.join_room(T0, "room@muc.example.com", "romeo", None, &history);
    assert_eq!(
        one(&mut s),
        format!("<presence xmlns=\"jabber:client\" to=\"room@muc.example.com/romeo\"><x xmlns=\"http://jabber.org/protocol/muc\"><history maxstanzas=\"5\"/></x>{}</presence>", caps())
    );
    // Existing occupants first, then our own presence (110) completes the join.
    feed(&mut s, T0, "<presence from='room@muc.example.com/juliet'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator' jid='juliet@example.com/b'/></x></presence>");
    feed(&mut s, T0, "<presence from='room@muc.example.com/romeo'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant'/><status code='110'/></x></presence>");
    let ev = events(&mut s);
    assert_eq!(ev.len(), 3, "{ev:?}");
    let j = occupant(&ev[0]);
    assert_eq!(
        (j.room.as_str(), j.nick.as_str(), j.me),
        ("room@muc.example.com", "juliet", false)
    );
    assert_eq!(j.jid.as_deref(), Some("juliet@example.com/b"));
    assert_eq!(j.role.as_deref(), Some("moderator"));
    let me = occupant(&ev[1]);
    assert!(me.me);
    assert_eq!(me.codes, [110]);
    assert!(
        matches!(&ev[2], Event::Completed { op: o, xml: Some(x), .. } if *o == op && x.contains("110"))
    );
    // Room history and subject are ordinary groupchat messages.
    feed(&mut s, T0, "<message from='room@muc.example.com/juliet' type='groupchat' id='s'><subject>Balcony</subject></message>");
    assert!(
        matches!(&events(&mut s)[..], [Event::Message(m)] if m.subject.as_deref() == Some("Balcony") && m.kind.as_deref() == Some("groupchat"))
    );
    let id = s
        .set_room_subject("room@muc.example.com", "Garden")
        .unwrap();
    assert_eq!(one(&mut s), format!("<message xmlns=\"jabber:client\" to=\"room@muc.example.com\" id=\"{id}\" type=\"groupchat\"><subject>Garden</subject></message>"));
    // Someone leaves.
    feed(&mut s, T0, "<presence from='room@muc.example.com/juliet' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='none'/></x></presence>");
    let ev = events(&mut s);
    assert_eq!(occupant(&ev[0]).kind.as_deref(), Some("unavailable"));
    // Joining twice is refused.
    let again = s.join_room(
        T0,
        "room@muc.example.com",
        "other",
        None,
        &History::default(),
    );
    assert!(
        matches!(&events(&mut s)[..], [Event::Failed { op, condition, .. }] if *op == again && condition == "unexpected-request")
    );
    assert!(texts(&mut s).is_empty());
    // We leave.
    let op = s.leave_room(T0, "room@muc.example.com", Some("bye"));
    assert_eq!(one(&mut s), "<presence xmlns=\"jabber:client\" type=\"unavailable\" to=\"room@muc.example.com/romeo\"><status>bye</status></presence>");
    feed(&mut s, T0, "<presence from='room@muc.example.com/romeo' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none'/><status code='110'/></x></presence>");
    let ev = events(&mut s);
    assert!(occupant(&ev[0]).me);
    assert!(matches!(&ev[1], Event::Completed { op: o, .. } if *o == op));
    // The room is forgotten: its presences are ordinary again.
    feed(&mut s, T0, "<presence from='room@muc.example.com/juliet'/>");
    assert!(matches!(&events(&mut s)[..], [Event::Presence(_)]));
    let op = s.leave_room(T0, "room@muc.example.com", None);
    assert!(
        matches!(&events(&mut s)[..], [Event::Failed { op: o, condition, .. }] if *o == op && condition == "item-not-found")
    );
}

#[test]
fn muc_create_accepts_instant_room() {
    let mut s = online();
    let op = s.join_room(
        T0,
        "new@muc.example.com",
        "romeo",
        None,
        &History::default(),
    );
    let _ = texts(&mut s);
    feed(&mut s, T0, "<presence from='new@muc.example.com/romeo'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/><status code='110'/><status code='201'/></x></presence>");
    assert!(occupant(&events(&mut s)[0]).codes.contains(&201));
    let iq = el(&one(&mut s));
    assert_eq!(iq.attr("to"), Some("new@muc.example.com"));
    assert_eq!(iq.attr("type"), Some("set"));
    assert_eq!(
        iq.elements().next().unwrap().to_xml(),
        "<query xmlns=\"http://jabber.org/protocol/muc#owner\"><x xmlns=\"jabber:x:data\" type=\"submit\"/></query>"
    );
    let id = iq.attr("id").unwrap();
    feed(
        &mut s,
        T0,
        &format!("<iq type='result' id='{id}' from='new@muc.example.com'/>"),
    );
    assert!(matches!(&events(&mut s)[..], [Event::Completed { op: o, .. }] if *o == op));
}

#[test]
fn muc_nick_conflict_timeout_kick_and_close() {
    let mut s = online();
    let op = s.join_room(
        T0,
        "room@muc.example.com",
        "juliet",
        None,
        &History::default(),
    );
    let _ = texts(&mut s);
    feed(&mut s, T0, "<presence from='room@muc.example.com/juliet' type='error'><x xmlns='http://jabber.org/protocol/muc'/><error by='room@muc.example.com' type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>");
    assert_eq!(
        events(&mut s),
        [Event::Failed {
            op,
            condition: "conflict".into(),
            text: Some("the nickname is already in use in this room".into())
        }]
    );
    // A room that never answers.
    let op = s.join_room(T0, "slow@muc.example.com", "x", None, &History::default());
    let _ = texts(&mut s);
    assert_eq!(s.poll_timeout(), Some(T0 + 30_000));
    s.handle_timeout(T0 + 30_000);
    assert!(
        matches!(&events(&mut s)[..], [Event::Failed { op: o, condition, .. }] if *o == op && condition == "remote-server-timeout")
    );
    assert_eq!(s.poll_timeout(), None);
    // Kicked.
    let _ = s.join_room(
        T0,
        "room@muc.example.com",
        "romeo",
        None,
        &History::default(),
    );
    feed(&mut s, T0, "<presence from='room@muc.example.com/romeo'><x xmlns='http://jabber.org/protocol/muc#user'><item role='participant'/><status code='110'/></x></presence>");
    let _ = events(&mut s);
    feed(&mut s, T0, "<presence from='room@muc.example.com/romeo' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'><item role='none'/><status code='307'/><status code='110'/></x></presence>");
    let ev = events(&mut s);
    assert_eq!(occupant(&ev[0]).codes, [307, 110]);
    assert_eq!(ev.len(), 1);
    // Bad arguments.
    let op = s.join_room(
        T0,
        "room@muc.example.com/x",
        "romeo",
        None,
        &History::default(),
    );
    assert!(
        matches!(&events(&mut s)[..], [Event::Failed { op: o, condition, .. }] if *o == op && condition == "jid-malformed")
    );
    let op = s.join_room(T0, "room@muc.example.com", "", None, &History::default());
    assert!(
        matches!(&events(&mut s)[..], [Event::Failed { op: o, condition, .. }] if *o == op && condition == "jid-malformed")
    );
    // The socket closes during a join.
    let op = s.join_room(
        T0,
        "room@muc.example.com",
        "romeo",
        None,
        &History::default(),
    );
    let _ = texts(&mut s);
    s.handle_close(T0, 1006, "", false);
    let ev = events(&mut s);
    assert!(
        matches!(&ev[0], Event::Failed { op: o, condition, .. } if *o == op && condition == "closed")
    );
    assert!(matches!(&ev[1], Event::Closed { .. }));
}

#[test]
fn sm_network_back_reconnects_at_once() {
    let mut s = online_sm();
    s.handle_close(T0, 1006, "", false);
    s.handle_timeout(T0);
    assert_eq!(events(&mut s), [Event::Reconnect { attempt: 1 }]);
    s.handle_close(T0, 1006, "", false);
    assert_eq!(s.poll_timeout(), Some(T0 + 500));
    s.handle_network(T0 + 10, false);
    assert_eq!(s.poll_timeout(), Some(T0 + 500));
    s.handle_network(T0 + 20, true);
    assert_eq!(s.poll_timeout(), Some(T0 + 20));
    s.handle_timeout(T0 + 20);
    assert_eq!(events(&mut s), [Event::Reconnect { attempt: 2 }]);
    // While a socket is opening, nothing changes.
    s.handle_network(T0 + 30, true);
    assert_eq!(s.poll_timeout(), None);
}

// ------------------------------------------------------- carbons, receipts, chat states

fn only_message(ev: &[Event]) -> &Message {
    match ev {
        [Event::Message(m)] => m,
        other => panic!("{other:?}"),
    }
}

#[test]
fn carbons_enable_unwrap_and_forgery() {
    let mut s = online();
    let op = s.carbons(T0, true);
    let iq = el(&one(&mut s));
    assert_eq!(iq.attr("type"), Some("set"));
    assert_eq!(iq.attr("to"), None);
    assert_eq!(
        iq.elements().next().unwrap().to_xml(),
        "<enable xmlns=\"urn:xmpp:carbons:2\"/>"
    );
    feed(
        &mut s,
        T0,
        &format!("<iq type='result' id='{}'/>", iq.attr("id").unwrap()),
    );
    assert!(matches!(&events(&mut s)[..], [Event::Completed { op: o, .. }] if *o == op));
    // A copy of a message bob sent to our other resource.
    feed(&mut s, T0, "<message from='user@example.com' to='user@example.com/web' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='bob@example.com/x' to='user@example.com/phone' type='chat' id='b1'><body>hi phone</body><request xmlns='urn:xmpp:receipts'/></message></forwarded></received></message>");
    let ev = events(&mut s);
    let m = only_message(&ev);
    assert_eq!(m.carbon, Some("received"));
    assert_eq!(m.from.as_deref(), Some("bob@example.com/x"));
    assert_eq!(m.to.as_deref(), Some("user@example.com/phone"));
    assert_eq!(m.body.as_deref(), Some("hi phone"));
    assert!(m
        .xml
        .starts_with("<message xmlns=\"jabber:client\" from=\"bob@example.com/x\""));
    assert!(
        texts(&mut s).is_empty(),
        "a carbon's receipt request is not ours to answer"
    );
    // A copy of what our other resource sent.
    feed(&mut s, T0, "<message from='user@example.com'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='user@example.com/phone' to='bob@example.com' type='chat'><body>from phone</body></message></forwarded></sent></message>");
    let ev = events(&mut s);
    assert_eq!(only_message(&ev).carbon, Some("sent"));
    // Forged by bob (his own JID as sender), or from our full JID: dropped without a trace.
    for from in ["bob@example.com/x", "user@example.com/phone", "example.com"] {
        feed(&mut s, T0, &format!("<message from='{from}' to='user@example.com/web'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='eve@example.com/e' to='user@example.com/web' type='chat'><body>forged</body></message></forwarded></received></message>"));
        assert!(events(&mut s).is_empty(), "{from}");
        assert!(texts(&mut s).is_empty());
    }
    // A copy of a pure chat state is not worth an event.
    feed(&mut s, T0, "<message from='user@example.com'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='bob@example.com/x' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message></forwarded></received></message>");
    assert!(events(&mut s).is_empty());
    let op = s.carbons(T0, false);
    assert!(one(&mut s).contains("<disable xmlns=\"urn:xmpp:carbons:2\"/>"));
    let _ = op;
}

#[test]
fn receipts_requested_answered_and_reported() {
    let mut s = online();
    let o = MessageOptions {
        kind: Some("chat"),
        receipt: true,
        chat_state: Some("active"),
        ..MessageOptions::default()
    };
    let id = s
        .send_message_with("bob@example.com", Some("hello"), &o)
        .unwrap()
        .unwrap();
    assert_eq!(one(&mut s), format!("<message xmlns=\"jabber:client\" to=\"bob@example.com\" id=\"{id}\" type=\"chat\"><body>hello</body><request xmlns=\"urn:xmpp:receipts\"/><active xmlns=\"http://jabber.org/protocol/chatstates\"/></message>"));
    // bob's receipt: an event, no message.
    feed(&mut s, T0, &format!("<message from='bob@example.com/x' to='{ME}' type='chat' id='r9'><received xmlns='urn:xmpp:receipts' id='{id}'/></message>"));
    assert_eq!(
        events(&mut s),
        [Event::Receipt {
            from: "bob@example.com/x".into(),
            id: id.clone()
        }]
    );
    // bob asks for one: answered at once, and the message delivered with its state.
    feed(&mut s, T0, &format!("<message from='bob@example.com/x' to='{ME}' type='chat' id='b7'><body>yo</body><request xmlns='urn:xmpp:receipts'/><active xmlns='http://jabber.org/protocol/chatstates'/></message>"));
    let ev = events(&mut s);
    assert_eq!(ev.len(), 2, "{ev:?}");
    let m = match &ev[0] {
        Event::Message(m) => m,
        other => panic!("{other:?}"),
    };
    assert!(m.receipt_request);
    assert_eq!(m.chat_state, Some("active"));
    assert_eq!(
        ev[1],
        Event::ChatState {
            from: "bob@example.com/x".into(),
            state: "active"
        }
    );
    let answer = el(&one(&mut s));
    assert_eq!(answer.attr("to"), Some("bob@example.com/x"));
    assert_eq!(answer.attr("type"), Some("chat"));
    assert_eq!(
        answer.elements().next().unwrap().to_xml(),
        "<received xmlns=\"urn:xmpp:receipts\" id=\"b7\"/>"
    );
    // Not for groupchat, and not when configured off.
    feed(&mut s, T0, "<message from='room@muc.example.com/bob' type='groupchat' id='g1'><body>x</body><request xmlns='urn:xmpp:receipts'/></message>");
    let _ = events(&mut s);
    assert!(texts(&mut s).is_empty());
    let mut c = config();
    c.answer_receipts = false;
    let mut s2 = Session::new(c, [7; 32]);
    authenticate(&mut s2, T0);
    let _ = bind(&mut s2, T0, BIND_ONLY);
    let _ = events(&mut s2);
    feed(&mut s2, T0, "<message from='bob@example.com/x' id='b8'><body>x</body><request xmlns='urn:xmpp:receipts'/></message>");
    assert!(matches!(&events(&mut s2)[..], [Event::Message(m)] if m.receipt_request));
    assert!(texts(&mut s2).is_empty());
}

#[test]
fn chat_states_sent_and_received() {
    let mut s = online();
    for state in ["composing", "paused", "active", "inactive", "gone"] {
        let o = MessageOptions {
            kind: Some("chat"),
            chat_state: Some(state),
            ..MessageOptions::default()
        };
        // Nothing refers to a chat state: it goes without an id.
        assert_eq!(
            s.send_message_with("bob@example.com", None, &o).unwrap(),
            None
        );
        assert_eq!(one(&mut s), format!("<message xmlns=\"jabber:client\" to=\"bob@example.com\" type=\"chat\"><{state} xmlns=\"http://jabber.org/protocol/chatstates\"/></message>"));
        feed(&mut s, T0, &format!("<message from='bob@example.com/x' type='chat'><{state} xmlns='http://jabber.org/protocol/chatstates'/></message>"));
        assert_eq!(
            events(&mut s),
            [Event::ChatState {
                from: "bob@example.com/x".into(),
                state
            }]
        );
    }
    let o = MessageOptions {
        chat_state: Some("typing"),
        ..MessageOptions::default()
    };
    assert!(matches!(
        s.send_message_with("bob@example.com", None, &o),
        Err(Error::BadArgument(_))
    ));
    assert!(texts(&mut s).is_empty());
    // An unknown element in the namespace is no state; the message is passed on as is.
    feed(&mut s, T0, "<message from='bob@example.com/x'><typing xmlns='http://jabber.org/protocol/chatstates'/></message>");
    assert!(matches!(&events(&mut s)[..], [Event::Message(m)] if m.chat_state.is_none()));
}

// --------------------------------------------------------------------- disco and caps

#[test]
fn disco_info_answered_with_our_features_and_caps_announced() {
    let mut s = online();
    let ver = disco::ver(true);
    s.set_status(None, None, None).unwrap();
    let p = el(&one(&mut s));
    let c = p.child("c", disco::NS_CAPS).unwrap();
    assert_eq!(c.attr("ver"), Some(ver.as_str()));
    assert_eq!(c.attr("hash"), Some("sha-1"));
    // Queried plainly, then through the caps node: the same identity and features.
    for node in [String::new(), format!(" node='{}#{ver}'", disco::NODE)] {
        feed(&mut s, T0, &format!("<iq type='get' id='d1' from='bob@example.com/x'><query xmlns='http://jabber.org/protocol/disco#info'{node}/></iq>"));
        let answer = el(&one(&mut s));
        assert_eq!(answer.attr("type"), Some("result"));
        assert_eq!(answer.attr("to"), Some("bob@example.com/x"));
        let info = disco::parse_info(&answer);
        assert_eq!(info.identities.len(), 1);
        assert_eq!(
            (
                info.identities[0].category.as_str(),
                info.identities[0].kind.as_str()
            ),
            ("client", "web")
        );
        assert_eq!(
            info.features,
            [
                "http://jabber.org/protocol/caps",
                "http://jabber.org/protocol/chatstates",
                "http://jabber.org/protocol/disco#info",
                "http://jabber.org/protocol/muc",
                "urn:xmpp:ping",
                "urn:xmpp:receipts"
            ]
        );
        assert!(events(&mut s).is_empty());
    }
    // Another node: item-not-found.
    feed(&mut s, T0, "<iq type='get' id='d2' from='bob@example.com/x'><query xmlns='http://jabber.org/protocol/disco#info' node='urn:other'/></iq>");
    let answer = one(&mut s);
    assert!(
        answer.contains("type=\"error\"") && answer.contains("<item-not-found "),
        "{answer}"
    );
}

#[test]
fn disco_queries_parse_results() {
    let mut s = online();
    let op = s.disco_info(T0, None, None);
    let iq = el(&one(&mut s));
    assert_eq!(iq.attr("to"), Some("example.com"));
    assert_eq!(iq.attr("type"), Some("get"));
    let id = iq.attr("id").unwrap();
    feed(&mut s, T0, &format!("<iq type='result' id='{id}' from='example.com'><query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' type='im' name='Prosody'/><feature var='urn:xmpp:carbons:2'/><feature var='urn:xmpp:ping'/></query></iq>"));
    match &events(&mut s)[..] {
        [Event::DiscoInfo { op: o, info }] => {
            assert_eq!(*o, op);
            assert_eq!(info.features, ["urn:xmpp:carbons:2", "urn:xmpp:ping"]);
            assert_eq!(info.identities[0].name.as_deref(), Some("Prosody"));
        }
        other => panic!("{other:?}"),
    }
    let op = s.disco_items(T0, Some("example.com"), Some("n"));
    let iq = el(&one(&mut s));
    assert_eq!(
        iq.elements().next().unwrap().to_xml(),
        "<query xmlns=\"http://jabber.org/protocol/disco#items\" node=\"n\"/>"
    );
    let id = iq.attr("id").unwrap();
    // An answer from someone else is ignored; the server's is taken.
    feed(&mut s, T0, &format!("<iq type='result' id='{id}' from='evil.example.com'><query xmlns='http://jabber.org/protocol/disco#items'><item jid='x'/></query></iq>"));
    assert!(events(&mut s).is_empty());
    feed(&mut s, T0, &format!("<iq type='result' id='{id}' from='example.com'><query xmlns='http://jabber.org/protocol/disco#items'><item jid='conference.example.com' name='Rooms'/></query></iq>"));
    match &events(&mut s)[..] {
        [Event::DiscoItems { op: o, items }] => {
            assert_eq!(*o, op);
            assert_eq!(items.len(), 1);
            assert_eq!(items[0].jid, "conference.example.com");
        }
        other => panic!("{other:?}"),
    }
    let op = s.disco_info(T0, Some("not a jid@"), None);
    assert!(
        matches!(&events(&mut s)[..], [Event::Failed { op: o, condition, .. }] if *o == op && condition == "jid-malformed")
    );
}

// ------------------------------------------------------------------------------------ MAM

fn result_msg(from: &str, queryid: &str, id: &str, body: &str) -> String {
    format!("<message from='{from}' to='{ME}'><result xmlns='urn:xmpp:mam:2' queryid='{queryid}' id='{id}'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2024-01-01T00:00:0{id}Z'/><message xmlns='jabber:client' from='bob@example.com/x' to='{ME}' type='chat'><body>{body}</body></message></forwarded></result></message>")
}

#[test]
fn mam_pages_and_forged_results() {
    let mut s = online();
    let q = Query {
        with: Some("bob@example.com".into()),
        max: Some(2),
        before: Some(String::new()),
        ..Query::default()
    };
    let op = s.query_archive(T0, None, &q);
    let iq = el(&one(&mut s));
    assert_eq!(iq.attr("type"), Some("set"));
    assert_eq!(iq.attr("to"), None);
    let query = iq.child("query", "urn:xmpp:mam:2").unwrap();
    let qid = query.attr("queryid").unwrap().to_string();
    assert!(query.to_xml().contains("<max>2</max><before/>"));
    let id = iq.attr("id").unwrap().to_string();
    // Results from our archive (bare JID, or no from) are gathered; none surfaces as a message.
    feed(
        &mut s,
        T0,
        &result_msg("user@example.com", &qid, "1", "one"),
    );
    feed(&mut s, T0, &format!("<message to='{ME}'><result xmlns='urn:xmpp:mam:2' queryid='{qid}' id='2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='{ME}' to='bob@example.com'><body>two</body></message></forwarded></result></message>"));
    // Forged results (from bob, from our full JID, another queryid) are dropped.
    feed(
        &mut s,
        T0,
        &result_msg("bob@example.com", &qid, "3", "forged"),
    );
    feed(&mut s, T0, &result_msg(ME, &qid, "4", "forged"));
    feed(
        &mut s,
        T0,
        &result_msg("user@example.com", "other", "5", "stale"),
    );
    assert!(events(&mut s).is_empty());
    feed(&mut s, T0, &format!("<iq type='result' id='{id}'><fin xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'><first index='0'>1</first><last>2</last><count>7</count></set></fin></iq>"));
    match &events(&mut s)[..] {
        [Event::Archive { op: o, page }] => {
            assert_eq!(*o, op);
            let bodies: Vec<_> = page
                .messages
                .iter()
                .map(|m| m.body.clone().unwrap())
                .collect();
            assert_eq!(bodies, ["one", "two"]);
            assert_eq!(page.messages[0].archive_id.as_deref(), Some("1"));
            assert_eq!(
                page.messages[0].delay.as_deref(),
                Some("2024-01-01T00:00:01Z")
            );
            assert_eq!(page.messages[0].from.as_deref(), Some("bob@example.com/x"));
            assert_eq!(page.messages[1].to.as_deref(), Some("bob@example.com"));
            assert!(!page.complete);
            assert_eq!(page.first.as_deref(), Some("1"));
            assert_eq!(page.last.as_deref(), Some("2"));
            assert_eq!(page.count, Some(7));
        }
        other => panic!("{other:?}"),
    }
    // The previous page of a room's archive: results must come from the room.
    let q = Query {
        max: Some(2),
        before: Some("1".into()),
        ..Query::default()
    };
    let op = s.query_archive(T0, Some("room@muc.example.com"), &q);
    let iq = el(&one(&mut s));
    assert_eq!(iq.attr("to"), Some("room@muc.example.com"));
    let qid = iq
        .child("query", "urn:xmpp:mam:2")
        .unwrap()
        .attr("queryid")
        .unwrap()
        .to_string();
    let id = iq.attr("id").unwrap().to_string();
    feed(
        &mut s,
        T0,
        &result_msg("user@example.com", &qid, "6", "not the room"),
    );
    feed(
        &mut s,
        T0,
        &result_msg("room@muc.example.com", &qid, "7", "room"),
    );
    feed(&mut s, T0, &format!("<iq type='result' id='{id}' from='room@muc.example.com'><fin xmlns='urn:xmpp:mam:2' complete='true'/></iq>"));
    match &events(&mut s)[..] {
        [Event::Archive { op: o, page }] => {
            assert_eq!(*o, op);
            assert_eq!(page.messages.len(), 1);
            assert_eq!(page.messages[0].body.as_deref(), Some("room"));
            assert!(page.complete);
            assert_eq!(page.first, None);
        }
        other => panic!("{other:?}"),
    }
    // An error fails the command; later results for it are dropped.
    let op = s.query_archive(T0, None, &Query::default());
    let iq = el(&one(&mut s));
    let id = iq.attr("id").unwrap();
    feed(&mut s, T0, &format!("<iq type='error' id='{id}'><error type='cancel'><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"));
    assert!(
        matches!(&events(&mut s)[..], [Event::Failed { op: o, condition, .. }] if *o == op && condition == "feature-not-implemented")
    );
    let op = s.query_archive(T0, Some("@"), &Query::default());
    assert!(
        matches!(&events(&mut s)[..], [Event::Failed { op: o, condition, .. }] if *o == op && condition == "jid-malformed")
    );
}

#[test]
fn sm_enable_refused_then_no_acks() {
    let mut s = Session::new(config(), [7; 32]);
    authenticate(&mut s, T0);
    assert_eq!(bind(&mut s, T0, SM_FEATURES), [ENABLE]);
    let _ = events(&mut s);
    feed(&mut s, T0, "<failed xmlns='urn:xmpp:sm:3'><unexpected-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
    let _ = msg(&mut s, "x");
    assert_eq!(s.poll_timeout(), None, "no <r/> without stream management");
    feed(&mut s, T0, R);
    assert!(texts(&mut s).is_empty(), "<r/> is not answered");
    // A drop is then final.
    s.handle_close(T0, 1006, "", false);
    assert!(matches!(&events(&mut s)[..], [Event::Closed { .. }]));
}

#[test]
fn sm_server_without_sm_after_reconnect_or_hanging_attempt() {
    let mut s = online_sm();
    let m1 = msg(&mut s, "one");
    s.handle_close(T0, 1006, "", false);
    s.handle_timeout(T0);
    assert_eq!(events(&mut s), [Event::Reconnect { attempt: 1 }]);
    // The new socket opens but the server never answers: the attempt is abandoned.
    s.handle_open(T0);
    let _ = texts(&mut s);
    s.handle_timeout(T0 + 30_000);
    assert_eq!(texts(&mut s), ["CLOSE 1000 negotiation timeout"]);
    assert!(
        events(&mut s).is_empty(),
        "no stream error: it is only an attempt"
    );
    s.handle_close(T0 + 30_010, 1006, "", false);
    assert_eq!(s.poll_timeout(), Some(T0 + 30_510));
    s.handle_timeout(T0 + 30_510);
    assert_eq!(events(&mut s), [Event::Reconnect { attempt: 2 }]);
    // This server no longer offers stream management: a fresh session.
    let t = T0 + 30_510;
    authenticate(&mut s, t);
    let sent = bind(&mut s, t, BIND_ONLY);
    assert!(sent.is_empty(), "{sent:?}");
    assert_eq!(
        events(&mut s),
        [
            Event::Unacknowledged { stanzas: vec![m1] },
            Event::Online {
                jid: ME.into(),
                reconnected: true
            }
        ]
    );
}

#[test]
fn muc_nick_change_is_followed() {
    let mut s = online();
    let _ = s.join_room(
        T0,
        "room@muc.example.com",
        "romeo",
        None,
        &History::default(),
    );
    feed(&mut s, T0, "<presence from='room@muc.example.com/romeo'><x xmlns='http://jabber.org/protocol/muc#user'><item role='participant'/><status code='110'/></x></presence>");
    let _ = events(&mut s);
    let _ = texts(&mut s);
    // The room renames us (303 with the new nick), then we are present under it.
    feed(&mut s, T0, "<presence from='room@muc.example.com/romeo' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'><item role='participant' nick='montague'/><status code='303'/><status code='110'/></x></presence>");
    feed(&mut s, T0, "<presence from='room@muc.example.com/montague'><x xmlns='http://jabber.org/protocol/muc#user'><item role='participant'/><status code='110'/></x></presence>");
    let ev = events(&mut s);
    assert_eq!(occupant(&ev[0]).new_nick.as_deref(), Some("montague"));
    assert!(occupant(&ev[1]).me);
    // Leaving goes to the new nick.
    let _ = s.leave_room(T0, "room@muc.example.com", None);
    assert!(one(&mut s).contains("to=\"room@muc.example.com/montague\""));
}
