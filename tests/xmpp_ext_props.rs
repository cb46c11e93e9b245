#![cfg(feature = "xmpp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]
//! Property tests of the extensions: a model of stream management over a lossy connection
//! (random drops, acks and resumptions: every stanza arrives exactly once, in order, both
//! ways), and random extension traffic never panics and only produces well-formed output.

use fullduplex::time::Millis;
use fullduplex::xmpp::mam::Query;
use fullduplex::xmpp::muc::History;
use fullduplex::xmpp::xml::{self, Limits, NS_CLIENT};
use fullduplex::xmpp::{Config, Credentials, Event, Mechanism, MessageOptions, Session, Transmit};
use proptest::prelude::*;

const ME: &str = "user@example.com/web";
const SERVER_OPEN: &str =
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s1' version='1.0'/>";
const PLAIN_FEATURES: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>";
const SM_FEATURES: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>";

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

/// A scripted server with stream management, over a connection that can lose what is in
/// flight.
struct Server {
    /// Client → server, not yet read.
    inflight_up: Vec<String>,
    /// Server → client, not yet read.
    inflight_down: Vec<String>,
    /// Bodies of the client's messages handled, in order.
    handled: Vec<String>,
    /// Client stanzas handled since `<enable/>` (the server's h).
    h: u32,
    /// Messages sent to the client since `<enabled/>`, by sequence number (1-based).
    sent: Vec<String>,
    /// The client's last h.
    acked: u32,
    connected: bool,
    /// Waiting for the client's <resume/> on a new stream.
    resuming: bool,
}

impl Server {
    fn new() -> Server {
        Server {
            inflight_up: Vec::new(),
            inflight_down: Vec::new(),
            handled: Vec::new(),
            h: 0,
            sent: Vec::new(),
            acked: 0,
            connected: true,
            resuming: false,
        }
    }

    fn collect(&mut self, s: &mut Session) {
        while let Some(t) = s.poll_transmit() {
            if let Transmit::Text(x) = t {
                if self.connected {
                    self.inflight_up.push(x);
                }
            }
        }
    }

    /// Reads up to `n` client elements.
    fn read(&mut self, n: usize) {
        let take = n.min(self.inflight_up.len());
        for x in self.inflight_up.drain(..take).collect::<Vec<_>>() {
            let e = xml::parse(x.as_bytes(), &Limits::default(), NS_CLIENT).unwrap();
            match (e.ns.as_str(), e.name.as_str()) {
                (NS_CLIENT, "message") => {
                    self.h += 1;
                    if let Some(b) = e.child("body", NS_CLIENT) {
                        self.handled.push(b.text());
                    }
                }
                (NS_CLIENT, _) => self.h += 1,
                ("urn:xmpp:sm:3", "r") => self
                    .inflight_down
                    .push(format!("<a xmlns='urn:xmpp:sm:3' h='{}'/>", self.h)),
                ("urn:xmpp:sm:3", "a") => {
                    self.acked = e.attr("h").unwrap().parse().unwrap();
                    assert!(
                        self.acked as usize <= self.sent.len(),
                        "client acked too much"
                    );
                }
                ("urn:xmpp:sm:3", "resume") => {
                    assert!(self.resuming);
                    self.resuming = false;
                    let client_h: u32 = e.attr("h").unwrap().parse().unwrap();
                    assert!(client_h as usize <= self.sent.len());
                    assert!(client_h >= self.acked);
                    self.acked = client_h;
                    self.inflight_down.push(format!(
                        "<resumed xmlns='urn:xmpp:sm:3' h='{}' previd='sm1'/>",
                        self.h
                    ));
                    // Re-send what the client did not count.
                    for x in self.sent.iter().skip(client_h as usize) {
                        self.inflight_down.push(x.clone());
                    }
                }
                _ => {}
            }
        }
    }

    fn push_message(&mut self, body: &str) {
        let x = format!(
            "<message from='peer@example.com/p' to='{ME}' type='chat'><body>{body}</body></message>"
        );
        self.sent.push(x.clone());
        if self.connected && !self.resuming {
            self.inflight_down.push(x);
        }
    }

    /// Delivers up to `n` server elements to the client.
    fn deliver(&mut self, s: &mut Session, now: Millis, n: usize) {
        let take = n.min(self.inflight_down.len());
        for x in self.inflight_down.drain(..take).collect::<Vec<_>>() {
            s.handle_data(now, x.as_bytes());
        }
    }

    fn drop_connection(&mut self, s: &mut Session, now: Millis) {
        self.inflight_up.clear();
        self.inflight_down.clear();
        self.connected = false;
        s.handle_close(now, 1006, "", false);
    }

    /// The client reconnects: a new stream, authentication, features with stream management.
    fn reconnect(&mut self, s: &mut Session, now: Millis) {
        self.connected = true;
        self.resuming = true;
        s.handle_open(now);
        s.handle_data(now, SERVER_OPEN.as_bytes());
        s.handle_data(now, PLAIN_FEATURES.as_bytes());
        s.handle_data(now, b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        s.handle_data(now, SERVER_OPEN.as_bytes());
        // Drop the negotiation output; the <resume/> follows the features.
        while s.poll_transmit().is_some() {}
        s.handle_data(now, SM_FEATURES.as_bytes());
    }
}

fn online_sm(server: &mut Server) -> Session {
    let now = Millis(0);
    let mut s = Session::new(config(), [5; 32]);
    s.handle_open(now);
    s.handle_data(now, SERVER_OPEN.as_bytes());
    s.handle_data(now, PLAIN_FEATURES.as_bytes());
    s.handle_data(now, b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    s.handle_data(now, SERVER_OPEN.as_bytes());
    s.handle_data(now, SM_FEATURES.as_bytes());
    let mut bind_id = String::new();
    while let Some(t) = s.poll_transmit() {
        if let Transmit::Text(x) = t {
            if x.starts_with("<iq ") {
                let e = xml::parse(x.as_bytes(), &Limits::default(), NS_CLIENT).unwrap();
                bind_id = e.attr("id").unwrap().to_string();
            }
        }
    }
    s.handle_data(
        now,
        format!("<iq type='result' id='{bind_id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>{ME}</jid></bind></iq>").as_bytes(),
    );
    // <enable/> goes out with the bind result handled; the server enables.
    let mut enabled = false;
    while let Some(t) = s.poll_transmit() {
        if let Transmit::Text(x) = t {
            enabled |= x.starts_with("<enable ");
        }
    }
    assert!(enabled);
    s.handle_data(
        now,
        b"<enabled xmlns='urn:xmpp:sm:3' id='sm1' resume='true' max='600'/>",
    );
    server.h = 0;
    while s.poll_event().is_some() {}
    s
}

#[derive(Clone, Debug)]
enum Step {
    PageSends,
    ServerSends,
    Read(usize),
    Deliver(usize),
    Tick,
    Drop,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => Just(Step::PageSends),
        4 => Just(Step::ServerSends),
        3 => (1usize..6).prop_map(Step::Read),
        3 => (1usize..6).prop_map(Step::Deliver),
        3 => Just(Step::Tick),
        1 => Just(Step::Drop),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sm_exactly_once_in_order_over_lossy_connection(steps in proptest::collection::vec(step(), 0..80)) {
        let mut server = Server::new();
        let mut s = online_sm(&mut server);
        let mut now = Millis(0);
        let mut sent_by_page = Vec::new();
        let mut received_by_page = Vec::new();
        let mut counter = 0u32;
        let events = |s: &mut Session, server: &mut Server, now: Millis, got: &mut Vec<String>| {
            while let Some(e) = s.poll_event() {
                match e {
                    Event::Message(m) => got.push(m.body.unwrap()),
                    Event::Reconnect { .. } => server.reconnect(s, now),
                    Event::Resumed => {}
                    other => panic!("unexpected {other:?}"),
                }
            }
        };
        for st in steps {
            now = now + 10;
            match st {
                Step::PageSends => {
                    counter += 1;
                    let body = format!("c{counter}");
                    s.send_message("peer@example.com", &body, Some("chat"), None, None).unwrap();
                    sent_by_page.push(body);
                }
                Step::ServerSends => {
                    counter += 1;
                    server.push_message(&format!("s{counter}"));
                }
                Step::Read(n) => server.read(n),
                Step::Deliver(n) => server.deliver(&mut s, now, n),
                Step::Tick => s.handle_timeout(now),
                Step::Drop => {
                    if server.connected {
                        server.drop_connection(&mut s, now);
                    }
                }
            }
            server.collect(&mut s);
            events(&mut s, &mut server, now, &mut received_by_page);
            server.collect(&mut s);
        }
        // Heal: let timers fire (reconnecting if needed) and drain both ways until quiet.
        for _ in 0..50 {
            now = now + 1000;
            s.handle_timeout(now);
            server.collect(&mut s);
            events(&mut s, &mut server, now, &mut received_by_page);
            server.collect(&mut s);
            server.read(usize::MAX);
            server.deliver(&mut s, now, usize::MAX);
            server.collect(&mut s);
            events(&mut s, &mut server, now, &mut received_by_page);
            server.collect(&mut s);
        }
        prop_assert!(s.is_online());
        prop_assert_eq!(&server.handled, &sent_by_page);
        let expected: Vec<String> = server
            .sent
            .iter()
            .map(|x| {
                let e = xml::parse(x.as_bytes(), &Limits::default(), NS_CLIENT).unwrap();
                e.child("body", NS_CLIENT).unwrap().text()
            })
            .collect();
        prop_assert_eq!(&received_by_page, &expected);
    }

    #[test]
    fn extension_traffic_never_panics(
        inputs in proptest::collection::vec(prop_oneof![
            Just("<r xmlns='urn:xmpp:sm:3'/>".to_string()),
            Just("<a xmlns='urn:xmpp:sm:3' h='1'/>".to_string()),
            Just("<a xmlns='urn:xmpp:sm:3' h='x'/>".to_string()),
            Just("<enabled xmlns='urn:xmpp:sm:3' id='i' resume='1' max='9'/>".to_string()),
            Just("<failed xmlns='urn:xmpp:sm:3' h='3'/>".to_string()),
            Just("<resumed xmlns='urn:xmpp:sm:3' h='0' previd='i'/>".to_string()),
            Just(SM_FEATURES.to_string()),
            Just("<presence from='r@m.x/n'><x xmlns='http://jabber.org/protocol/muc#user'><item role='participant' nick='m'/><status code='110'/><status code='303'/><status code='201'/></x></presence>".to_string()),
            Just("<presence from='r@m.x/n' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'><status code='110'/><status code='303'/></x></presence>".to_string()),
            Just("<presence from='r@m.x/n' type='error'><error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>".to_string()),
            Just("<message from='user@example.com'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='b@x/y'><body>c</body><request xmlns='urn:xmpp:receipts'/></message></forwarded></received></message>".to_string()),
            Just("<message from='b@x/y' id='1'><received xmlns='urn:xmpp:receipts' id='q'/><composing xmlns='http://jabber.org/protocol/chatstates'/><request xmlns='urn:xmpp:receipts'/></message>".to_string()),
            Just("<message from='user@example.com'><result xmlns='urn:xmpp:mam:2' queryid='q' id='1'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'><body>m</body></message></forwarded></result></message>".to_string()),
            Just("<iq type='get' id='d' from='b@x/y'><query xmlns='http://jabber.org/protocol/disco#info' node='n'/></iq>".to_string()),
            Just("<iq type='result' id='x'><fin xmlns='urn:xmpp:mam:2' complete='true'/><query xmlns='http://jabber.org/protocol/disco#info'/></iq>".to_string()),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ], 0..30),
        cmds in proptest::collection::vec(0u8..14, 0..30),
    ) {
        let mut server = Server::new();
        let mut s = online_sm(&mut server);
        let mut now = Millis(0);
        for (i, m) in inputs.iter().enumerate() {
            now = now + 700;
            s.handle_data(now, m.as_bytes());
            match cmds.get(i).copied().unwrap_or(0) {
                0 => { let _ = s.join_room(now, "r@m.x", m, Some(m), &History { max_stanzas: Some(3), seconds: None, since: Some(m.clone()) }); }
                1 => { let _ = s.leave_room(now, "r@m.x", Some(m)); }
                2 => { let _ = s.set_room_subject("r@m.x", m); }
                3 => { let _ = s.carbons(now, i % 2 == 0); }
                4 => { let _ = s.send_message_with("b@x", Some(m), &MessageOptions { receipt: true, chat_state: Some("composing"), ..MessageOptions::default() }); }
                5 => { let _ = s.send_message_with(m, None, &MessageOptions { chat_state: Some(m), ..MessageOptions::default() }); }
                6 => { let _ = s.disco_info(now, Some(m), Some(m)); }
                7 => { let _ = s.disco_items(now, None, None); }
                8 => { let _ = s.query_archive(now, None, &Query { with: Some(m.clone()), max: Some(5), before: Some(String::new()), ..Query::default() }); }
                9 => s.handle_timeout(now + 40_000),
                10 => s.handle_close(now, 1006, "", false),
                11 => s.handle_open(now),
                12 => s.handle_network(now, i % 2 == 0),
                _ => { let _ = s.disconnect(now); }
            }
            while let Some(t) = s.poll_transmit() {
                if let Transmit::Text(t) = t {
                    prop_assert!(xml::parse(t.as_bytes(), &Limits::default(), NS_CLIENT).is_ok(), "{}", t);
                }
            }
            while s.poll_event().is_some() {}
            let _ = s.poll_timeout();
        }
    }
}
