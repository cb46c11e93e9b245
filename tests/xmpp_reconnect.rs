#![cfg(feature = "xmpp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]
//! Automatic reconnection of the XMPP session (with URLs in its config): a server restart
//! under an online session, then back-off with jitter (fixed seed), URL rotation, SCRAM login
//! again, resumption tried first, else a fresh session with the page's roster, presence,
//! carbons and rooms restored before `Online { reconnected: true }`, and the stanzas sent
//! meanwhile flushed in order. Also: `disconnect` during a wait, offline/online, visibility,
//! outbox overflow, and what stops retrying (bad credentials, fatal stream errors).

#[path = "common/xmpp.rs"]
mod common;
use common::{el, events, feed, one, texts};
use fullduplex::reconnect::ReconnectConfig;
use fullduplex::time::Millis;
use fullduplex::xmpp::muc::History;
use fullduplex::xmpp::sasl::scram::Hash;
use fullduplex::xmpp::sasl::{base64_decode, base64_encode};
use fullduplex::xmpp::{Config, Credentials, Error, Event, Session};

const T0: Millis = Millis(1000);
const URLS: [&str; 2] = ["ws://user:secret@a.example/ws", "wss://b.example/ws"];
const OPEN: &str =
    "<open xmlns=\"urn:ietf:params:xml:ns:xmpp-framing\" to=\"example.com\" version=\"1.0\"/>";
const SERVER_OPEN: &str =
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s1' version='1.0'/>";
const SASL_FEATURES: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>SCRAM-SHA-256</mechanism></mechanisms></stream:features>";
const SM_FEATURES: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'><optional/></sm></stream:features>";
const BIND_ONLY: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";
const ENABLE: &str = "<enable xmlns=\"urn:xmpp:sm:3\" resume=\"true\"/>";
const ENABLED: &str = "<enabled xmlns='urn:xmpp:sm:3' id='sm1' resume='true' max='600'/>";
const SHUTDOWN: &str = "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>";
const ME: &str = "user@example.com/web";
const ROOM: &str = "room@muc.example.com";

fn config() -> Config {
    let mut c = Config::new("example.com");
    c.credentials = Some(Credentials {
        username: "user".into(),
        password: "pencil".into(),
        resource: Some("web".into()),
    });
    c.urls = URLS.iter().map(|u| (*u).to_owned()).collect();
    c.reconnect = ReconnectConfig {
        enabled: true,
        initial_delay_ms: 1000,
        max_delay_ms: 8000,
        max_attempts: 0,
    };
    c.reconnect_seed = 42;
    c
}

fn sasl_text(x: &str) -> String {
    String::from_utf8(base64_decode(&el(x).text()).unwrap()).unwrap()
}

/// Plays a SCRAM-SHA-256 server for `pencil`, checking the client's proof: opens the stream,
/// authenticates, restarts it and offers `features`. Returns the client nonce.
fn login(s: &mut Session, now: Millis, features: &str) -> String {
    s.handle_open(now);
    assert_eq!(one(s), OPEN);
    feed(s, now, SERVER_OPEN);
    feed(s, now, SASL_FEATURES);
    let auth = one(s);
    assert_eq!(el(&auth).attr("mechanism"), Some("SCRAM-SHA-256"));
    let first = sasl_text(&auth);
    let bare = first.strip_prefix("n,,").unwrap().to_owned();
    let nonce = bare.split(",r=").nth(1).unwrap().to_owned();
    let hash = Hash::Sha256;
    let salt = b"NaClNaCl";
    let server_first = format!("r={nonce}srv,s={},i=4096", base64_encode(salt));
    feed(
        s,
        now,
        &format!(
            "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
            base64_encode(server_first.as_bytes())
        ),
    );
    let client_final = sasl_text(&one(s));
    let (without, proof) = client_final.rsplit_once(",p=").unwrap();
    let auth_msg = format!("{bare},{server_first},{without}");
    let salted = hash.pbkdf2(b"pencil", salt, 4096);
    let client_key = hash.hmac(&salted, b"Client Key");
    let sig = hash.hmac(&hash.digest(&client_key), auth_msg.as_bytes());
    let recovered: Vec<u8> = base64_decode(proof)
        .unwrap()
        .iter()
        .zip(&sig)
        .map(|(a, b)| a ^ b)
        .collect();
    assert_eq!(hash.digest(&recovered), hash.digest(&client_key), "proof");
    let server_sig = hash.hmac(&hash.hmac(&salted, b"Server Key"), auth_msg.as_bytes());
    let fin = format!("v={}", base64_encode(&server_sig));
    feed(
        s,
        now,
        &format!(
            "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</success>",
            base64_encode(fin.as_bytes())
        ),
    );
    assert_eq!(one(s), OPEN);
    feed(s, now, SERVER_OPEN);
    feed(s, now, features);
    nonce
}

/// Answers the bind IQ `iq` with `jid`.
fn bind_result(s: &mut Session, now: Millis, iq: &str, jid: &str) {
    let iq = el(iq);
    assert!(iq
        .child("bind", "urn:ietf:params:xml:ns:xmpp-bind")
        .is_some());
    let id = iq.attr("id").unwrap();
    feed(
        s,
        now,
        &format!("<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>{jid}</jid></bind></iq>"),
    );
}

fn online_with(c: Config) -> Session {
    let mut s = Session::new(c, [5; 32]);
    login(&mut s, T0, SM_FEATURES);
    let iq = one(&mut s);
    bind_result(&mut s, T0, &iq, ME);
    assert_eq!(texts(&mut s), [ENABLE]);
    assert_eq!(
        events(&mut s),
        [Event::Online {
            jid: ME.into(),
            reconnected: false
        }]
    );
    feed(&mut s, T0, ENABLED);
    s
}

fn online() -> Session {
    online_with(config())
}

/// The `Reconnecting` event's attempt, delay and URL (asserting the close it reports).
fn reconnecting(ev: &[Event], code: u16) -> (u32, Option<u64>, String) {
    match ev.last() {
        Some(Event::Reconnecting {
            attempt,
            delay_ms,
            url,
            code: c,
            ..
        }) => {
            assert_eq!(*c, code);
            (*attempt, *delay_ms, url.clone())
        }
        other => panic!("not reconnecting: {other:?} in {ev:?}"),
    }
}

/// Waits out the back-off: returns the URL the session asks to open.
fn wait_for_open(s: &mut Session, delay: u64, since: Millis) -> (Millis, String) {
    let at = since + delay;
    assert_eq!(s.poll_timeout(), Some(at));
    s.handle_timeout(at - 1);
    assert!(texts(s).is_empty(), "early is a no-op");
    s.handle_timeout(at);
    let open = one(s);
    (at, open.strip_prefix("OPEN ").unwrap().to_owned())
}

/// Like the browser test: Prosody restarts under an online, stream-managed session whose page
/// fetched the roster, set a presence, turned carbons on and joined a room.
#[test]
fn server_restart_relogin_restores_roster_presence_carbons_rooms_and_flushes() {
    let mut s = online();
    // The page's setup.
    let roster_op = s.get_roster(T0);
    let iq = el(&texts(&mut s)[0]);
    let id = iq.attr("id").unwrap().to_owned();
    feed(&mut s, T0, &format!("<iq type='result' id='{id}'><query xmlns='jabber:iq:roster'><item jid='bob@example.com' subscription='both'/></query></iq>"));
    assert!(
        matches!(&events(&mut s)[..], [Event::Completed { op, roster: Some(r), .. }] if *op == roster_op && r.len() == 1)
    );
    s.set_status(Some("away"), Some("lunch"), Some(5)).unwrap();
    let presence = one(&mut s);
    let carbons_op = s.carbons(T0, true);
    let iq = el(&one(&mut s));
    let id = iq.attr("id").unwrap().to_owned();
    feed(&mut s, T0, &format!("<iq type='result' id='{id}'/>"));
    let _ = s.join_room(T0, ROOM, "romeo", Some("pw"), &History::default());
    let _ = texts(&mut s);
    feed(&mut s, T0, &format!("<presence from='{ROOM}/romeo'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>"));
    let ev = events(&mut s);
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::Completed { op, .. } if *op == carbons_op)));
    assert_eq!(ev.len(), 3, "{ev:?}");
    let _ = texts(&mut s);

    // Prosody shuts down: a stream error, then the socket goes.
    let t1 = T0 + 5000;
    feed(&mut s, t1, SHUTDOWN);
    assert!(texts(&mut s).iter().any(|t| t.starts_with("CLOSE 1000")));
    s.handle_close(t1, 1006, "", false);
    let ev = events(&mut s);
    assert!(
        matches!(&ev[0], Event::StreamError { condition, .. } if condition == "system-shutdown")
    );
    let (attempt, delay, url) = reconnecting(&ev, 1006);
    assert_eq!(ev.len(), 2, "nothing closed or failed: {ev:?}");
    assert_eq!(attempt, 1);
    let delay = delay.unwrap();
    assert!((500..=1000).contains(&delay), "{delay}");
    // The second URL, as given (no credentials in it).
    assert_eq!(url, URLS[1]);
    assert!(s.is_reconnecting() && !s.is_online());

    // A message sent while the server is down is queued.
    let queued = s
        .send_message("bob@example.com", "while down", Some("chat"), None, None)
        .unwrap();
    assert!(texts(&mut s).is_empty());

    // The wait, then a socket to the next URL.
    let (t2, open) = wait_for_open(&mut s, delay, t1);
    assert_eq!(open, URLS[1]);
    // The restarted server: SCRAM again (a new nonce), then the resumption it no longer knows.
    let nonce = login(&mut s, t2, SM_FEATURES);
    assert!(!nonce.is_empty());
    assert_eq!(
        one(&mut s),
        "<resume xmlns=\"urn:xmpp:sm:3\" h=\"3\" previd=\"sm1\"/>"
    );
    feed(&mut s, t2, "<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
    let ev = events(&mut s);
    // Nothing was acknowledged in this script (roster, presence, carbons, join).
    assert!(
        matches!(&ev[..], [Event::Unacknowledged { stanzas }] if stanzas.len() == 4),
        "{ev:?}"
    );
    let iq = one(&mut s);
    bind_result(&mut s, t2, &iq, "user@example.com/web2");
    // Before Online: stream management, then what the page had set up, then the queue.
    let out = texts(&mut s);
    assert_eq!(out.len(), 6, "{out:?}");
    assert_eq!(out[0], ENABLE);
    assert_eq!(
        out[1], presence,
        "the same presence: away, lunch, priority 5"
    );
    assert!(out[1].contains("<show>away</show>") && out[1].contains("<status>lunch</status>"));
    assert!(out[2].contains("urn:xmpp:carbons:2") && out[2].contains("<enable "));
    assert!(out[3].contains("jabber:iq:roster") && out[3].contains("type=\"get\""));
    let join = el(&out[4]);
    assert_eq!(join.attr("to"), Some("room@muc.example.com/romeo"));
    assert!(out[4].contains("<password>pw</password>"));
    assert!(out[4].contains("maxstanzas=\"0\""), "no history again");
    assert!(out[5].contains(&format!("id=\"{queued}\"")) && out[5].contains("while down"));
    assert_eq!(
        events(&mut s),
        [Event::Online {
            jid: "user@example.com/web2".into(),
            reconnected: true
        }]
    );
    assert!(s.is_online() && !s.is_reconnecting());
    // The roster arrives: reported whole, as the page had fetched it.
    let id = el(&out[3]).attr("id").unwrap().to_owned();
    feed(&mut s, t2, &format!("<iq type='result' id='{id}'><query xmlns='jabber:iq:roster'><item jid='bob@example.com' subscription='both'/></query></iq>"));
    match &events(&mut s)[..] {
        [Event::Roster(items)] => assert_eq!(items[0].jid, "bob@example.com"),
        other => panic!("{other:?}"),
    }
    // The carbons answer is swallowed; the room shows us in again.
    let id = el(&out[2]).attr("id").unwrap().to_owned();
    feed(&mut s, t2, &format!("<iq type='result' id='{id}'/>"));
    assert!(events(&mut s).is_empty());
    feed(&mut s, t2, &format!("<presence from='{ROOM}/romeo'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>"));
    assert!(matches!(&events(&mut s)[..], [Event::Occupant(o)] if o.me));
    // Stream management works on the new session; a later drop starts over at attempt 1
    // only once the connection lasted max_delay.
    feed(&mut s, t2, ENABLED);
    s.handle_close(t2 + 100, 1006, "", false);
    let (attempt, _, url) = reconnecting(&events(&mut s), 1006);
    assert_eq!(attempt, 2);
    assert_eq!(url, "ws://***@a.example/ws", "credentials masked");
}

#[test]
fn backoff_is_jittered_doubling_seeded_and_rotates_urls() {
    let run = || {
        let mut s = online();
        let mut now = T0;
        s.handle_close(now, 1006, "gone", false);
        let mut seen = Vec::new();
        for n in 1..=6u32 {
            let (attempt, delay, url) = reconnecting(&events(&mut s), 1006);
            assert_eq!(attempt, n);
            let delay = delay.unwrap();
            let ceiling = (1000u64 << (n - 1)).min(8000);
            assert!(delay >= ceiling / 2 && delay <= ceiling, "{n}: {delay}");
            let (at, open) = wait_for_open(&mut s, delay, now);
            // The event masks credentials; the socket gets the real URL.
            let i = if n % 2 == 1 { 1 } else { 0 };
            assert_eq!(open, URLS[i]);
            assert_eq!(url, fullduplex::reconnect::redact_url(URLS[i]));
            seen.push(delay);
            // The socket fails to open.
            now = at;
            s.handle_close(now, 1006, "", false);
        }
        seen
    };
    let a = run();
    assert_eq!(a, run(), "same seed, same schedule");
    let mut c = config();
    c.reconnect_seed = 43;
    let mut s = online_with(c);
    s.handle_close(T0, 1006, "", false);
    let _ = reconnecting(&events(&mut s), 1006);
}

#[test]
fn disconnect_during_a_wait_or_an_attempt_stops_for_good() {
    let mut s = online();
    let m = s.send_message("bob@example.com", "x", None, None, None);
    assert!(m.is_ok());
    let _ = texts(&mut s);
    s.handle_close(T0, 1006, "gone", false);
    let _ = events(&mut s);
    let queued = s.send_message("bob@example.com", "later", None, None, None);
    assert!(queued.is_ok());
    let op = s.disconnect(T0 + 10);
    let ev = events(&mut s);
    assert!(matches!(ev[0], Event::Completed { op: o, .. } if o == op));
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::Undelivered { stanzas } if stanzas.len() == 1)));
    assert!(matches!(ev.last(), Some(Event::Closed { code: 1006, .. })));
    assert_eq!(s.poll_timeout(), None);
    s.handle_timeout(T0 + 100_000);
    assert!(texts(&mut s).is_empty(), "no socket is opened");
    assert!(events(&mut s).is_empty());
    assert_eq!(
        s.send_message("bob@example.com", "y", None, None, None),
        Err(Error::NotConnected)
    );

    // During an attempt (the socket is opening): it is closed, and its close ends all.
    let mut s = online();
    s.handle_close(T0, 1006, "", false);
    let (_, delay, _) = reconnecting(&events(&mut s), 1006);
    let (at, _) = wait_for_open(&mut s, delay.unwrap(), T0);
    let op = s.disconnect(at);
    assert_eq!(texts(&mut s), ["CLOSE 1000 "]);
    s.handle_close(at + 5, 1006, "", false);
    let ev = events(&mut s);
    assert!(matches!(ev[0], Event::Completed { op: o, .. } if o == op));
    assert!(matches!(ev.last(), Some(Event::Closed { .. })));
    assert!(!ev.iter().any(|e| matches!(e, Event::Reconnecting { .. })));
    assert_eq!(s.poll_timeout(), None);

    // While logging in again on the new socket: the usual close handshake, no retry.
    let mut s = online();
    s.handle_close(T0, 1006, "", false);
    let (_, delay, _) = reconnecting(&events(&mut s), 1006);
    let (at, _) = wait_for_open(&mut s, delay.unwrap(), T0);
    s.handle_open(at);
    let _ = texts(&mut s);
    let op = s.disconnect(at);
    assert!(texts(&mut s)[0].contains("<close "));
    feed(
        &mut s,
        at,
        "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
    );
    s.handle_close(at, 1000, "", true);
    let ev = events(&mut s);
    assert!(matches!(ev[0], Event::Completed { op: o, .. } if o == op));
    assert!(matches!(ev.last(), Some(Event::Closed { .. })));
    assert!(!ev.iter().any(|e| matches!(e, Event::Reconnecting { .. })));
}

#[test]
fn offline_waits_for_the_network_and_visible_cuts_the_wait() {
    let mut s = online();
    s.handle_network(T0, false);
    s.handle_close(T0, 1006, "", false);
    // Offline: no delay, no timer.
    let (attempt, delay, _) = reconnecting(&events(&mut s), 1006);
    assert_eq!((attempt, delay), (1, None));
    assert_eq!(s.poll_timeout(), None);
    s.handle_timeout(T0 + 60_000);
    assert!(texts(&mut s).is_empty());
    // Back online: at once.
    s.handle_network(T0 + 60_000, true);
    assert_eq!(s.poll_timeout(), Some(T0 + 60_000));
    s.handle_timeout(T0 + 60_000);
    assert_eq!(one(&mut s), format!("OPEN {}", URLS[1]));
    // That attempt fails; a wait of 1-2 s; going offline suspends it.
    let t = T0 + 60_100;
    s.handle_close(t, 1006, "", false);
    let (attempt, delay, _) = reconnecting(&events(&mut s), 1006);
    assert_eq!(attempt, 2);
    assert!(delay.unwrap() >= 1000);
    s.handle_network(t + 10, false);
    assert_eq!(s.poll_timeout(), None);
    s.handle_network(t + 20, true);
    assert_eq!(s.poll_timeout(), Some(t + 20));
    s.handle_timeout(t + 20);
    assert_eq!(one(&mut s), format!("OPEN {}", URLS[0]));
    // The page coming into view cuts a pending wait short.
    s.handle_close(t + 30, 1006, "", false);
    let (_, delay, _) = reconnecting(&events(&mut s), 1006);
    assert!(delay.unwrap() >= 2000);
    s.handle_visibility(t + 40, false);
    assert_eq!(s.poll_timeout(), Some(t + 30 + delay.unwrap()));
    s.handle_visibility(t + 50, true);
    assert_eq!(s.poll_timeout(), Some(t + 50));
}

#[test]
fn outbox_overflow_is_refused_and_the_rest_flushed_in_order() {
    let mut s = online();
    s.handle_close(T0, 1006, "", false);
    let (_, delay, _) = reconnecting(&events(&mut s), 1006);
    let mut ids = Vec::new();
    for i in 0..256 {
        ids.push(
            s.send_message("bob@example.com", &format!("m{i}"), None, None, None)
                .unwrap(),
        );
    }
    // The 257th is refused (the caller is told; nothing is dropped silently).
    assert_eq!(
        s.send_message("bob@example.com", "too many", None, None, None),
        Err(Error::OutboxFull)
    );
    let (at, _) = wait_for_open(&mut s, delay.unwrap(), T0);
    // This server has no stream management: a fresh session at once.
    login(&mut s, at, BIND_ONLY);
    let iq = one(&mut s);
    bind_result(&mut s, at, &iq, ME);
    let out = texts(&mut s);
    assert_eq!(out.len(), 256);
    for (x, id) in out.iter().zip(&ids) {
        assert!(x.contains(&format!("id=\"{id}\"")), "in order");
    }
    assert!(matches!(
        &events(&mut s)[..],
        [Event::Online {
            reconnected: true,
            ..
        }]
    ));
}

#[test]
fn queued_stanzas_are_reported_when_retrying_gives_up() {
    let mut c = config();
    c.reconnect.max_attempts = 2;
    let mut s = online_with(c);
    s.handle_close(T0, 1006, "first", false);
    let mut now = T0;
    let id = s
        .send_message("bob@example.com", "never", None, None, None)
        .unwrap();
    for _ in 0..2 {
        let (_, delay, _) = reconnecting(&events(&mut s), 1006);
        now = wait_for_open(&mut s, delay.unwrap(), now).0;
        s.handle_close(now, 1006, "", false);
    }
    let ev = events(&mut s);
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::Undelivered { stanzas } if stanzas[0].contains(&id))));
    assert_eq!(
        ev.last(),
        Some(&Event::Closed {
            code: 1006,
            reason: "first".into(),
            clean: false
        })
    );
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn resumption_after_a_network_drop_restores_nothing_twice() {
    let mut s = online();
    s.set_status(None, Some("here"), None).unwrap();
    let _ = texts(&mut s);
    feed(&mut s, T0, "<a xmlns='urn:xmpp:sm:3' h='1'/>");
    s.handle_close(T0, 1006, "", false);
    let (_, delay, _) = reconnecting(&events(&mut s), 1006);
    let (at, _) = wait_for_open(&mut s, delay.unwrap(), T0);
    login(&mut s, at, SM_FEATURES);
    assert!(one(&mut s).starts_with("<resume "));
    feed(
        &mut s,
        at,
        "<resumed xmlns='urn:xmpp:sm:3' h='1' previd='sm1'/>",
    );
    assert!(texts(&mut s).is_empty(), "presence not re-sent");
    assert_eq!(events(&mut s), [Event::Resumed]);
    assert_eq!(s.jid(), Some(ME));
}

#[test]
fn bad_credentials_or_a_fatal_stream_error_stop_retrying() {
    // The password was changed meanwhile: the retry's login fails, and that is final.
    let mut s = online();
    s.handle_close(T0, 1006, "", false);
    let (_, delay, _) = reconnecting(&events(&mut s), 1006);
    let (at, _) = wait_for_open(&mut s, delay.unwrap(), T0);
    s.handle_open(at);
    feed(&mut s, at, SERVER_OPEN);
    feed(&mut s, at, SASL_FEATURES);
    let _ = texts(&mut s);
    feed(
        &mut s,
        at,
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>",
    );
    let _ = texts(&mut s);
    s.handle_close(at, 1000, "", true);
    let ev = events(&mut s);
    assert!(matches!(&ev[0], Event::AuthFailed { condition, .. } if condition == "not-authorized"));
    assert!(matches!(ev.last(), Some(Event::Closed { .. })));
    assert_eq!(s.poll_timeout(), None);

    // Another login took the resource over: reconnecting would take it back, forever.
    let mut s = online();
    feed(&mut s, T0, "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>");
    let _ = texts(&mut s);
    s.handle_close(T0, 1000, "", true);
    let ev = events(&mut s);
    assert!(matches!(ev.last(), Some(Event::Closed { .. })), "{ev:?}");
    assert!(!ev.iter().any(|e| matches!(e, Event::Reconnecting { .. })));
}

#[test]
fn first_connection_refused_is_retried_and_reconnect_false_is_final() {
    // The server is down when the page connects: the first socket fails, retries follow.
    let mut s = Session::new(config(), [5; 32]);
    s.set_status(None, Some("early"), None).unwrap();
    s.handle_close(T0, 1006, "", false);
    let (attempt, delay, _) = reconnecting(&events(&mut s), 1006);
    assert_eq!(attempt, 1);
    let (at, _) = wait_for_open(&mut s, delay.unwrap(), T0);
    login(&mut s, at, BIND_ONLY);
    let iq = one(&mut s);
    bind_result(&mut s, at, &iq, ME);
    let out = texts(&mut s);
    assert_eq!(
        out.len(),
        1,
        "the presence queued before the first socket: {out:?}"
    );
    assert!(out[0].contains("early"));
    assert!(matches!(
        &events(&mut s)[..],
        [Event::Online {
            reconnected: false,
            ..
        }]
    ));

    // Off switch: a drop ends the session, even a resumable one.
    let mut c = config();
    c.reconnect.enabled = false;
    let mut s = online_with(c);
    s.handle_close(T0, 1006, "", false);
    assert!(matches!(events(&mut s).last(), Some(Event::Closed { .. })));
    assert_eq!(s.poll_timeout(), None);
}

/// Online without stream management, in `ROOM` as romeo.
fn online_in_room() -> Session {
    let mut s = Session::new(config(), [5; 32]);
    login(&mut s, T0, BIND_ONLY);
    let iq = one(&mut s);
    bind_result(&mut s, T0, &iq, ME);
    let _ = events(&mut s);
    let _ = s.join_room(T0, ROOM, "romeo", None, &History::default());
    let _ = texts(&mut s);
    feed(&mut s, T0, &format!("<presence from='{ROOM}/romeo'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant'/><status code='110'/></x></presence>"));
    assert_eq!(events(&mut s).len(), 2, "occupant and completion");
    s
}

/// Reconnects a session that had no stream management; returns the join presence re-sent.
fn reconnect_fresh(s: &mut Session) -> (Millis, String) {
    s.handle_close(T0, 1006, "", false);
    let (_, delay, _) = reconnecting(&events(s), 1006);
    let (at, _) = wait_for_open(s, delay.unwrap(), T0);
    login(s, at, BIND_ONLY);
    let iq = one(s);
    bind_result(s, at, &iq, ME);
    let out = texts(s);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(matches!(
        &events(s)[..],
        [Event::Online {
            reconnected: true,
            ..
        }]
    ));
    (at, out[0].clone())
}

#[test]
fn a_room_that_cannot_be_rejoined_is_reported_as_left() {
    // Refused (the room is gone, members only now…): the error, then our own departure.
    let mut s = online_in_room();
    let (at, join) = reconnect_fresh(&mut s);
    assert!(join.contains("to=\"room@muc.example.com/romeo\""));
    feed(&mut s, at, &format!("<presence from='{ROOM}/romeo' type='error'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"));
    let ev = events(&mut s);
    assert!(matches!(&ev[0], Event::Presence(p) if p.kind.as_deref() == Some("error")));
    match &ev[1] {
        Event::Occupant(o) => {
            assert!(o.me);
            assert_eq!(o.kind.as_deref(), Some("unavailable"));
            assert_eq!(o.room, ROOM);
        }
        other => panic!("{other:?}"),
    }
    // Out of the room: joining again is possible.
    let _ = s.join_room(at, ROOM, "romeo", None, &History::default());
    assert!(texts(&mut s)[0].contains("romeo"));

    // No answer at all: after the IQ timeout, the same departure.
    let mut s = online_in_room();
    let (at, _) = reconnect_fresh(&mut s);
    s.handle_timeout(at + 30_000);
    assert!(
        matches!(&events(&mut s)[..], [Event::Occupant(o)] if o.me && o.kind.as_deref() == Some("unavailable"))
    );
}

#[test]
fn a_url_the_browser_refuses_is_not_retried() {
    let mut s = online();
    s.handle_close(T0, 1006, "", false);
    let (_, delay, _) = reconnecting(&events(&mut s), 1006);
    let (at, _) = wait_for_open(&mut s, delay.unwrap(), T0);
    s.handle_open_failed(at, "SyntaxError");
    match events(&mut s).last() {
        Some(Event::Closed { code, .. }) => assert_eq!(*code, 1006),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.poll_timeout(), None);
}
