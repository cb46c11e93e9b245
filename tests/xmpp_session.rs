#![cfg(feature = "xmpp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]
//! Session transcripts against scripted server replies, with a fake clock and fixed entropy.

#[path = "common/xmpp.rs"]
mod common;
use common::{caps, el, events, feed, one, texts};
use fullduplex::time::Millis;
use fullduplex::xmpp::sasl::scram::Hash;
use fullduplex::xmpp::sasl::{base64_decode, base64_encode};
use fullduplex::xmpp::{Config, Credentials, Error, Event, Mechanism, OpId, Session};

const T0: Millis = Millis(1000);
const OPEN: &str =
    "<open xmlns=\"urn:ietf:params:xml:ns:xmpp-framing\" to=\"example.com\" version=\"1.0\"/>";
const CLOSE: &str = "<close xmlns=\"urn:ietf:params:xml:ns:xmpp-framing\"/>";
const SERVER_OPEN: &str = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s1' version='1.0' xml:lang='en'/>";
const BIND_FEATURES: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><required/></bind><session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session></stream:features>";

fn config(creds: bool) -> Config {
    let mut c = Config::new("example.com");
    if creds {
        c.credentials = Some(Credentials {
            username: "user".into(),
            password: "pencil".into(),
            resource: Some("web".into()),
        });
    }
    c
}

fn features(mechs: &[&str]) -> String {
    let mut f = String::from("<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>");
    for m in mechs {
        f.push_str(&format!("<mechanism>{m}</mechanism>"));
    }
    f.push_str(
        "</mechanisms><register xmlns='http://jabber.org/features/iq-register'/></stream:features>",
    );
    f
}

/// A minimal SCRAM server: returns (server-first, expected client-final check, v=).
struct ScramServer {
    hash: Hash,
    client_first_bare: String,
    server_first: String,
    salted: Vec<u8>,
}

impl ScramServer {
    fn first(hash: Hash, client_first: &str, password: &str) -> ScramServer {
        let bare = client_first.strip_prefix("n,,").unwrap().to_string();
        let nonce = bare.split(",r=").nth(1).unwrap();
        let salt = b"saltsalt";
        let server_first = format!("r={nonce}srvNONCE,s={},i=4096", base64_encode(salt));
        ScramServer {
            hash,
            client_first_bare: bare,
            server_first,
            salted: hash.pbkdf2(password.as_bytes(), salt, 4096),
        }
    }

    /// Verifies the client proof; returns the server-final message.
    fn finish(&self, client_final: &str) -> Option<String> {
        let (without, proof) = client_final.rsplit_once(",p=").unwrap();
        let auth = format!(
            "{},{},{}",
            self.client_first_bare, self.server_first, without
        );
        let h = self.hash;
        let client_key = h.hmac(&self.salted, b"Client Key");
        let sig = h.hmac(&h.digest(&client_key), auth.as_bytes());
        let proof = base64_decode(proof).unwrap();
        let recovered: Vec<u8> = proof.iter().zip(&sig).map(|(a, b)| a ^ b).collect();
        if h.digest(&recovered) != h.digest(&client_key) {
            return None;
        }
        let server_sig = h.hmac(&h.hmac(&self.salted, b"Server Key"), auth.as_bytes());
        Some(format!("v={}", base64_encode(&server_sig)))
    }
}

/// `server`'s server-first message, as a SASL challenge.
fn send_server_first(s: &mut Session, server: &ScramServer) {
    feed(
        s,
        T0,
        &format!(
            "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
            base64_encode(server.server_first.as_bytes())
        ),
    );
}

/// SASL success carrying the server-final message `fin`.
fn send_success(s: &mut Session, fin: &str) {
    feed(
        s,
        T0,
        &format!(
            "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</success>",
            base64_encode(fin.as_bytes())
        ),
    );
}

fn sasl_text(x: &str) -> String {
    String::from_utf8(base64_decode(&el(x).text()).unwrap()).unwrap()
}

/// Open, features with `mechs`, returns the `<auth>` sent.
fn open_until_auth(s: &mut Session, mechs: &[&str]) -> String {
    s.handle_open(T0);
    assert_eq!(one(s), OPEN);
    feed(s, T0, SERVER_OPEN);
    assert!(texts(s).is_empty());
    feed(s, T0, &features(mechs));
    one(s)
}

/// After SASL success: restart, bind; returns the session online.
fn restart_and_bind(s: &mut Session, features: &str, expect_session: bool) {
    assert_eq!(one(s), OPEN, "stream restart after success");
    feed(s, T0, SERVER_OPEN);
    feed(s, T0, features);
    let bind = el(&one(s));
    assert_eq!(bind.attr("type"), Some("set"));
    let b = bind
        .child("bind", "urn:ietf:params:xml:ns:xmpp-bind")
        .unwrap();
    let resource = b
        .child("resource", "urn:ietf:params:xml:ns:xmpp-bind")
        .map(|r| r.text());
    assert_eq!(resource.as_deref(), Some("web"));
    let id = bind.attr("id").unwrap();
    feed(
        s,
        T0,
        &format!("<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@example.com/web</jid></bind></iq>"),
    );
    if expect_session {
        let sess = el(&one(s));
        assert!(sess
            .child("session", "urn:ietf:params:xml:ns:xmpp-session")
            .is_some());
        assert_eq!(sess.attr("to"), Some("example.com"));
        let id = sess.attr("id").unwrap();
        assert!(events(s).is_empty());
        feed(
            s,
            T0,
            &format!("<iq type='result' id='{id}' from='example.com'/>"),
        );
    }
    assert_eq!(
        events(s),
        vec![Event::Online {
            jid: "user@example.com/web".into(),
            reconnected: false
        }]
    );
    assert_eq!(s.jid(), Some("user@example.com/web"));
}

fn scram_login(
    s: &mut Session,
    hash: Hash,
    mech: &str,
    mechs: &[&str],
    features: &str,
    sess: bool,
) {
    let auth = open_until_auth(s, mechs);
    assert_eq!(el(&auth).attr("mechanism"), Some(mech));
    let client_first = sasl_text(&auth);
    assert!(client_first.starts_with("n,,n=user,r="));
    let server = ScramServer::first(hash, &client_first, "pencil");
    send_server_first(s, &server);
    let response = one(s);
    assert!(response.starts_with("<response xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"));
    let fin = server
        .finish(&sasl_text(&response))
        .expect("proof verifies");
    send_success(s, &fin);
    restart_and_bind(s, features, sess);
}

fn online() -> Session {
    let mut s = Session::new(config(true), [9; 32]);
    scram_login(
        &mut s,
        Hash::Sha1,
        "SCRAM-SHA-1",
        &["SCRAM-SHA-1", "PLAIN"],
        BIND_FEATURES,
        false,
    );
    s
}

#[test]
fn login_scram_sha1_prosody_style() {
    let s = online();
    assert!(s.is_online());
    assert_eq!(Session::SUBPROTOCOL, "xmpp");
}

#[test]
fn login_scram_sha256_ejabberd_style() {
    let mut s = Session::new(config(true), [3; 32]);
    // ejabberd: no default namespace on features, bind without <required/>, session required,
    // extra mechanisms to ignore.
    let features = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>";
    scram_login(
        &mut s,
        Hash::Sha256,
        "SCRAM-SHA-256",
        &[
            "DIGEST-MD5",
            "PLAIN",
            "SCRAM-SHA-512",
            "SCRAM-SHA-256",
            "SCRAM-SHA-1",
            "X-OAUTH2",
        ],
        features,
        true,
    );
}

/// With `derive_keys_outside`, the SaltedPassword is asked for (Event::DeriveKey) instead of
/// computed; a stale or repeated answer is ignored, the right one continues the login, and
/// `None` makes the session derive it itself.
#[test]
fn scram_key_derived_outside() {
    for given in [true, false] {
        let mut c = config(true);
        c.derive_keys_outside = true;
        let mut s = Session::new(c, [9; 32]);
        let auth = open_until_auth(&mut s, &["SCRAM-SHA-1", "PLAIN"]);
        let server = ScramServer::first(Hash::Sha1, &sasl_text(&auth), "pencil");
        send_server_first(&mut s, &server);
        assert!(
            texts(&mut s).is_empty(),
            "nothing is sent before the key is there"
        );
        let (id, request) = match events(&mut s).as_slice() {
            [Event::DeriveKey { id, request }] => (*id, request.clone()),
            other => panic!("{other:?}"),
        };
        assert_eq!(request.hash, Hash::Sha1);
        assert_eq!(request.password.as_bytes(), b"pencil");
        assert_eq!(request.salt, b"saltsalt");
        assert_eq!(request.iterations, 4096);
        let salted = Hash::Sha1.pbkdf2(b"pencil", &request.salt, request.iterations);
        s.key_derived(T0, id.wrapping_add(1), Some(&salted));
        assert!(texts(&mut s).is_empty(), "a stale id is ignored");
        s.key_derived(T0, id, given.then_some(salted.as_slice()));
        let response = one(&mut s);
        s.key_derived(T0, id, Some(&salted));
        assert!(texts(&mut s).is_empty(), "a second answer is ignored");
        let fin = server
            .finish(&sasl_text(&response))
            .expect("proof verifies");
        send_success(&mut s, &fin);
        restart_and_bind(&mut s, BIND_FEATURES, false);
    }
}

/// A SaltedPassword of the wrong length aborts the exchange and fails the login.
#[test]
fn scram_key_of_wrong_length_aborts() {
    let mut c = config(true);
    c.derive_keys_outside = true;
    let mut s = Session::new(c, [9; 32]);
    let auth = open_until_auth(&mut s, &["SCRAM-SHA-1"]);
    let server = ScramServer::first(Hash::Sha1, &sasl_text(&auth), "pencil");
    send_server_first(&mut s, &server);
    let Some(Event::DeriveKey { id, .. }) = events(&mut s).into_iter().next() else {
        panic!("no DeriveKey");
    };
    s.key_derived(T0, id, Some(&[0; 19]));
    assert!(texts(&mut s).iter().any(|t| t.starts_with("<abort")));
    assert!(events(&mut s)
        .iter()
        .any(|e| matches!(e, Event::AuthFailed { .. })));
}

#[test]
fn scram_nonce_is_deterministic_per_entropy() {
    let first = |seed| {
        let mut s = Session::new(config(true), seed);
        sasl_text(&open_until_auth(&mut s, &["SCRAM-SHA-1"]))
    };
    assert_eq!(first([1; 32]), first([1; 32]));
    assert_ne!(first([1; 32]), first([2; 32]));
}

#[test]
fn login_plain_secure_only() {
    let mut c = config(true);
    c.transport_secure = true;
    let mut s = Session::new(c, [0; 32]);
    let auth = open_until_auth(&mut s, &["PLAIN"]);
    assert_eq!(el(&auth).attr("mechanism"), Some("PLAIN"));
    assert_eq!(base64_decode(&el(&auth).text()).unwrap(), b"\0user\0pencil");
    feed(
        &mut s,
        T0,
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    );
    restart_and_bind(&mut s, BIND_FEATURES, false);

    // Insecure transport: PLAIN refused unless opted in.
    let mut s = Session::new(config(true), [0; 32]);
    s.handle_open(T0);
    let _ = texts(&mut s);
    feed(&mut s, T0, SERVER_OPEN);
    feed(&mut s, T0, &features(&["PLAIN", "DIGEST-MD5"]));
    assert_eq!(texts(&mut s), vec![CLOSE.to_string()]);
    assert!(
        matches!(&events(&mut s)[..], [Event::AuthFailed { condition, .. }] if condition == "invalid-mechanism")
    );

    let mut c = config(true);
    c.allow_plain_insecure = true;
    let mut s = Session::new(c, [0; 32]);
    assert_eq!(
        el(&open_until_auth(&mut s, &["PLAIN"])).attr("mechanism"),
        Some("PLAIN")
    );

    // Preference override.
    let mut c = config(true);
    c.transport_secure = true;
    c.mechanisms = vec![Mechanism::Plain];
    let mut s = Session::new(c, [0; 32]);
    let auth = open_until_auth(&mut s, &["SCRAM-SHA-1", "PLAIN"]);
    assert_eq!(el(&auth).attr("mechanism"), Some("PLAIN"));
}

#[test]
fn auth_failure_then_close() {
    let mut s = Session::new(config(true), [0; 32]);
    open_until_auth(&mut s, &["SCRAM-SHA-1"]);
    feed(
        &mut s,
        T0,
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text xml:lang='en'>Invalid username or password</text></failure>",
    );
    assert_eq!(
        events(&mut s),
        vec![Event::AuthFailed {
            condition: "not-authorized".into(),
            text: Some("Invalid username or password".into())
        }]
    );
    assert_eq!(texts(&mut s), vec![CLOSE.to_string()]);
    // The server answers our close; we close the socket.
    feed(
        &mut s,
        T0,
        "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
    );
    assert_eq!(texts(&mut s), vec!["CLOSE 1000 ".to_string()]);
    s.handle_close(T0, 1000, "", true);
    assert_eq!(
        events(&mut s),
        vec![Event::Closed {
            code: 1000,
            reason: String::new(),
            clean: true
        }]
    );
}

#[test]
fn auth_failure_close_times_out() {
    let mut s = Session::new(config(true), [0; 32]);
    open_until_auth(&mut s, &["SCRAM-SHA-1"]);
    feed(
        &mut s,
        T0,
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>",
    );
    let _ = texts(&mut s);
    let deadline = s.poll_timeout().unwrap();
    assert_eq!(deadline, T0 + 5000);
    s.handle_timeout(deadline - 1);
    assert!(texts(&mut s).is_empty());
    s.handle_timeout(deadline);
    assert_eq!(texts(&mut s), vec!["CLOSE 1000 close timeout".to_string()]);
}

#[test]
fn bad_server_signature_fails_login() {
    let mut s = Session::new(config(true), [4; 32]);
    let auth = open_until_auth(&mut s, &["SCRAM-SHA-1"]);
    let server = ScramServer::first(Hash::Sha1, &sasl_text(&auth), "pencil");
    send_server_first(&mut s, &server);
    let _ = texts(&mut s);
    feed(
        &mut s,
        T0,
        &format!(
            "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</success>",
            base64_encode(b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        ),
    );
    assert!(
        matches!(&events(&mut s)[..], [Event::AuthFailed { condition, .. }] if condition == "aborted")
    );
    assert_eq!(texts(&mut s), vec![CLOSE.to_string()]);
    // Empty success without server signature is refused too.
    let mut s = Session::new(config(true), [4; 32]);
    let auth = open_until_auth(&mut s, &["SCRAM-SHA-1"]);
    let server = ScramServer::first(Hash::Sha1, &sasl_text(&auth), "pencil");
    send_server_first(&mut s, &server);
    let _ = texts(&mut s);
    feed(
        &mut s,
        T0,
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    );
    assert!(matches!(&events(&mut s)[..], [Event::AuthFailed { .. }]));
}

#[test]
fn server_final_in_challenge() {
    let mut s = Session::new(config(true), [5; 32]);
    let auth = open_until_auth(&mut s, &["SCRAM-SHA-1"]);
    let server = ScramServer::first(Hash::Sha1, &sasl_text(&auth), "pencil");
    send_server_first(&mut s, &server);
    let fin = server.finish(&sasl_text(&one(&mut s))).unwrap();
    feed(
        &mut s,
        T0,
        &format!(
            "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
            base64_encode(fin.as_bytes())
        ),
    );
    assert_eq!(
        one(&mut s),
        "<response xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\"/>"
    );
    feed(
        &mut s,
        T0,
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    );
    restart_and_bind(&mut s, BIND_FEATURES, false);
}

#[test]
fn stream_ready_then_register_and_login() {
    let mut s = Session::new(config(false), [6; 32]);
    s.handle_open(T0);
    let _ = texts(&mut s);
    feed(&mut s, T0, SERVER_OPEN);
    feed(&mut s, T0, &features(&["SCRAM-SHA-1", "ANONYMOUS"]));
    assert_eq!(events(&mut s), vec![Event::StreamReady]);
    assert_eq!(s.poll_timeout(), None);
    assert!(s.register_offered());
    assert_eq!(s.offered_mechanisms(), ["SCRAM-SHA-1", "ANONYMOUS"]);

    let op = s.register(T0, "newbie", "secret");
    let iq = el(&one(&mut s));
    assert_eq!(iq.attr("to"), None);
    let q = iq.child("query", "jabber:iq:register").unwrap();
    assert_eq!(
        q.child("username", "jabber:iq:register").unwrap().text(),
        "newbie"
    );
    let id = iq.attr("id").unwrap();
    feed(&mut s, T0, &format!("<iq type='result' id='{id}'/>"));
    assert!(matches!(&events(&mut s)[..], [Event::Completed { op: o, .. }] if *o == op));

    let op = s.login(T0, "user", "pencil", Some("web"));
    let auth = one(&mut s);
    assert_eq!(el(&auth).attr("mechanism"), Some("SCRAM-SHA-1"));
    let server = ScramServer::first(Hash::Sha1, &sasl_text(&auth), "pencil");
    send_server_first(&mut s, &server);
    let fin = server.finish(&sasl_text(&one(&mut s))).unwrap();
    send_success(&mut s, &fin);
    assert_eq!(one(&mut s), OPEN);
    feed(&mut s, T0, SERVER_OPEN);
    feed(&mut s, T0, BIND_FEATURES);
    let bind = el(&one(&mut s));
    let id = bind.attr("id").unwrap();
    feed(&mut s, T0, &format!("<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@example.com/web</jid></bind></iq>"));
    let ev = events(&mut s);
    assert_eq!(ev.len(), 2);
    assert!(matches!(&ev[1], Event::Completed { op: o, .. } if *o == op));

    // Login in the wrong state fails at once.
    let op = s.login(T0, "user", "pencil", None);
    assert!(
        matches!(&events(&mut s)[..], [Event::Failed { op: o, condition, .. }] if *o == op && condition == "unexpected-request")
    );
}

#[test]
fn anonymous_login_server_chosen_resource() {
    let mut s = Session::new(config(false), [6; 32]);
    s.handle_open(T0);
    let _ = texts(&mut s);
    feed(&mut s, T0, SERVER_OPEN);
    feed(&mut s, T0, &features(&["SCRAM-SHA-1", "ANONYMOUS"]));
    let _ = events(&mut s);
    s.login_anonymous(T0);
    assert_eq!(
        one(&mut s),
        "<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" mechanism=\"ANONYMOUS\">=</auth>"
    );
    feed(
        &mut s,
        T0,
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    );
    assert_eq!(one(&mut s), OPEN);
    feed(&mut s, T0, SERVER_OPEN);
    feed(&mut s, T0, BIND_FEATURES);
    let bind = el(&one(&mut s));
    assert!(bind
        .child("bind", "urn:ietf:params:xml:ns:xmpp-bind")
        .unwrap()
        .children
        .is_empty());
    let id = bind.attr("id").unwrap();
    feed(&mut s, T0, &format!("<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>a1b2@example.com/r42</jid></bind></iq>"));
    assert_eq!(s.jid(), Some("a1b2@example.com/r42"));
}

#[test]
fn roster_get_push_and_forged_push() {
    let mut s = online();
    let op = s.get_roster(T0);
    let iq = el(&one(&mut s));
    assert_eq!(iq.attr("type"), Some("get"));
    assert!(iq.child("query", "jabber:iq:roster").is_some());
    let id = iq.attr("id").unwrap();
    // A result with the right id from someone else is ignored.
    feed(&mut s, T0, &format!("<iq type='result' id='{id}' from='evil@example.org'><query xmlns='jabber:iq:roster'/></iq>"));
    assert!(events(&mut s).is_empty());
    feed(&mut s, T0, &format!("<iq type='result' id='{id}' to='user@example.com/web'><query xmlns='jabber:iq:roster'><item jid='juliet@example.com' name='Juliet' subscription='both'><group>Friends</group></item></query></iq>"));
    match &events(&mut s)[..] {
        [Event::Completed {
            op: o,
            roster: Some(items),
            xml: Some(_),
        }] => {
            assert_eq!(*o, op);
            assert_eq!(items.len(), 1);
            assert_eq!(items[0].jid, "juliet@example.com");
            assert_eq!(items[0].groups, vec!["Friends".to_string()]);
        }
        other => panic!("{other:?}"),
    }

    // Push from our bare JID: accepted and acknowledged.
    feed(&mut s, T0, "<iq type='set' id='push1' from='user@example.com'><query xmlns='jabber:iq:roster'><item jid='nurse@example.com' subscription='none' ask='subscribe'/></query></iq>");
    match &events(&mut s)[..] {
        [Event::RosterPush(items)] => assert_eq!(items[0].ask.as_deref(), Some("subscribe")),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        one(&mut s),
        "<iq xmlns=\"jabber:client\" type=\"result\" id=\"push1\" to=\"user@example.com\"/>"
    );
    // Push without from: accepted.
    feed(&mut s, T0, "<iq type='set' id='push2'><query xmlns='jabber:iq:roster'><item jid='a@b' subscription='remove'/></query></iq>");
    assert_eq!(events(&mut s).len(), 1);
    assert_eq!(
        one(&mut s),
        "<iq xmlns=\"jabber:client\" type=\"result\" id=\"push2\"/>"
    );
    // Forged pushes: ignored, not answered.
    for from in ["evil@example.org", "user@example.com/other", "example.com"] {
        feed(&mut s, T0, &format!("<iq type='set' id='f' from='{from}'><query xmlns='jabber:iq:roster'><item jid='x@y'/></query></iq>"));
        assert!(events(&mut s).is_empty(), "{from}");
        assert!(texts(&mut s).is_empty(), "{from}");
    }

    // add / remove contact.
    let op = s.add_contact(
        T0,
        "romeo@example.net",
        Some("Romeo"),
        &["Friends", "Lovers"],
    );
    let iq = el(&one(&mut s));
    let item = iq
        .child("query", "jabber:iq:roster")
        .unwrap()
        .child("item", "jabber:iq:roster")
        .unwrap();
    assert_eq!(item.attr("name"), Some("Romeo"));
    assert_eq!(item.elements().count(), 2);
    feed(&mut s, T0, &format!("<iq type='error' id='{}'><error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>nope</text></error></iq>", iq.attr("id").unwrap()));
    assert_eq!(
        events(&mut s),
        vec![Event::Failed {
            op,
            condition: "not-acceptable".into(),
            text: Some("nope".into())
        }]
    );
    s.remove_contact(T0, "romeo@example.net");
    assert!(one(&mut s).contains("subscription=\"remove\""));
}

#[test]
fn ping_and_unknown_iq_answered() {
    let mut s = online();
    feed(
        &mut s,
        T0,
        "<iq type='get' id='p1' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>",
    );
    assert_eq!(
        one(&mut s),
        "<iq xmlns=\"jabber:client\" type=\"result\" id=\"p1\" to=\"example.com\"/>"
    );
    feed(
        &mut s,
        T0,
        "<iq type='get' id='v1' from='x@y/z'><query xmlns='jabber:iq:version'/></iq>",
    );
    assert_eq!(
        one(&mut s),
        "<iq xmlns=\"jabber:client\" type=\"error\" id=\"v1\" to=\"x@y/z\"><error type=\"cancel\"><service-unavailable xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/></error></iq>"
    );
    // Results nobody asked for are ignored.
    feed(&mut s, T0, "<iq type='result' id='zzz'/>");
    assert!(texts(&mut s).is_empty());
    assert!(events(&mut s).is_empty());
}

#[test]
fn messages_and_presence() {
    let mut s = online();
    feed(&mut s, T0, "<message from='juliet@example.com/balcony' to='user@example.com/web' type='chat' id='m1'><body>Art thou not Romeo &amp; a Montague?</body><thread>t1</thread></message>");
    match &events(&mut s)[..] {
        [Event::Message(m)] => {
            assert_eq!(m.body.as_deref(), Some("Art thou not Romeo & a Montague?"));
            assert_eq!(m.kind.as_deref(), Some("chat"));
            assert_eq!(m.thread.as_deref(), Some("t1"));
            assert!(m.xml.starts_with("<message xmlns=\"jabber:client\""));
        }
        other => panic!("{other:?}"),
    }
    feed(&mut s, T0, "<presence from='juliet@example.com/balcony'><show>away</show><priority>5</priority></presence>");
    match &events(&mut s)[..] {
        [Event::Presence(p)] => {
            assert_eq!(p.show.as_deref(), Some("away"));
            assert_eq!(p.priority, Some(5));
        }
        other => panic!("{other:?}"),
    }
    let id = s
        .send_message("juliet@example.com", "<3 & more", Some("chat"), None, None)
        .unwrap();
    assert_eq!(
        one(&mut s),
        format!("<message xmlns=\"jabber:client\" to=\"juliet@example.com\" id=\"{id}\" type=\"chat\"><body>&lt;3 &amp; more</body></message>")
    );
    s.set_status(Some("dnd"), Some("busy"), Some(1)).unwrap();
    assert_eq!(
        one(&mut s),
        format!("<presence xmlns=\"jabber:client\"><show>dnd</show><status>busy</status><priority>1</priority>{}</presence>", caps())
    );
    s.subscribe("romeo@example.net").unwrap();
    assert_eq!(
        one(&mut s),
        "<presence xmlns=\"jabber:client\" type=\"subscribe\" to=\"romeo@example.net\"/>"
    );
    s.approve("romeo@example.net").unwrap();
    assert!(one(&mut s).contains("type=\"subscribed\""));
    s.unsubscribe("romeo@example.net").unwrap();
    assert!(one(&mut s).contains("type=\"unsubscribe\""));
    s.deny("romeo@example.net").unwrap();
    assert!(one(&mut s).contains("type=\"unsubscribed\""));
    s.send_raw("<message to='a@b'><body>raw</body></message>")
        .unwrap();
    assert_eq!(
        one(&mut s),
        "<message xmlns=\"jabber:client\" to=\"a@b\"><body>raw</body></message>"
    );
    s.send_raw("<r xmlns='urn:xmpp:sm:3'/>").unwrap();
    assert_eq!(one(&mut s), "<r xmlns=\"urn:xmpp:sm:3\"/>");
    assert!(s.send_raw("<message>").is_err());
    assert!(s.send_raw("<a/><b/>").is_err());
}

/// The `<message>` that `send_message(to, body, None, None, None)` writes with `id`.
fn plain_message(id: &str, to: &str, body: &str) -> String {
    format!(
        "<message xmlns=\"jabber:client\" to=\"{to}\" id=\"{id}\"><body>{body}</body></message>"
    )
}

#[test]
fn stanzas_sent_before_open_are_delivered_after_login() {
    let mut s = Session::new(config(true), [9; 32]);
    // The page calls sendMessage right after connect, before the socket opens.
    let early = s.send_message("a@b", "early", None, None, None).unwrap();
    s.set_status(None, None, None).unwrap();
    assert!(texts(&mut s).is_empty());
    // And more while the stream is negotiated.
    let auth = open_until_auth(&mut s, &["SCRAM-SHA-1"]);
    let mid = s.send_message("a@b", "mid", None, None, None).unwrap();
    s.subscribe("c@d").unwrap();
    assert!(texts(&mut s).is_empty());
    let server = ScramServer::first(Hash::Sha1, &sasl_text(&auth), "pencil");
    send_server_first(&mut s, &server);
    let fin = server.finish(&sasl_text(&one(&mut s))).unwrap();
    send_success(&mut s, &fin);
    assert!(
        s.send_raw("<presence to='e@f' type='probe'/>").is_ok(),
        "queued during the restart too"
    );
    restart_and_bind(&mut s, BIND_FEATURES, false);
    assert_eq!(
        texts(&mut s),
        vec![
            plain_message(&early, "a@b", "early"),
            format!("<presence xmlns=\"jabber:client\">{}</presence>", caps()),
            plain_message(&mid, "a@b", "mid"),
            "<presence xmlns=\"jabber:client\" type=\"subscribe\" to=\"c@d\"/>".to_string(),
            "<presence xmlns=\"jabber:client\" to=\"e@f\" type=\"probe\"/>".to_string(),
        ]
    );
    assert!(events(&mut s).is_empty(), "nothing reported undelivered");
}

#[test]
fn outbox_overflow_is_refused() {
    let mut s = Session::new(config(true), [9; 32]);
    let mut ids = Vec::new();
    for i in 0..256 {
        ids.push(
            s.send_message("a@b", &i.to_string(), None, None, None)
                .unwrap(),
        );
    }
    assert_eq!(
        s.send_message("a@b", "one too many", None, None, None),
        Err(Error::OutboxFull)
    );
    assert_eq!(s.set_status(None, None, None), Err(Error::OutboxFull));
    assert_eq!(s.subscribe("c@d"), Err(Error::OutboxFull));
    assert_eq!(s.approve("c@d"), Err(Error::OutboxFull));
    assert_eq!(s.deny("c@d"), Err(Error::OutboxFull));
    assert_eq!(s.unsubscribe("c@d"), Err(Error::OutboxFull));
    assert_eq!(s.send_raw("<presence/>"), Err(Error::OutboxFull));
    assert!(!Error::OutboxFull.as_str().is_empty());
    assert_ne!(Error::OutboxFull.as_str(), Error::NotConnected.as_str());
    // Still full while negotiating; the 256 queued go out in order once online.
    scram_login(
        &mut s,
        Hash::Sha1,
        "SCRAM-SHA-1",
        &["SCRAM-SHA-1"],
        BIND_FEATURES,
        false,
    );
    let sent = texts(&mut s);
    let expected: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| plain_message(id, "a@b", &i.to_string()))
        .collect();
    assert_eq!(sent, expected);
    // Online: sent at once, no limit.
    for _ in 0..300 {
        s.send_message("a@b", "x", None, None, None).unwrap();
    }
    assert_eq!(texts(&mut s).len(), 300);
}

fn closed(code: u16, clean: bool) -> Event {
    Event::Closed {
        code,
        reason: String::new(),
        clean,
    }
}

#[test]
fn close_before_online_reports_undelivered() {
    // Socket lost during negotiation.
    let mut s = Session::new(config(true), [9; 32]);
    let a = s.send_message("a@b", "one", None, None, None).unwrap();
    s.handle_open(T0);
    assert_eq!(one(&mut s), OPEN);
    s.approve("c@d").unwrap();
    s.send_raw("<message to='x@y'><body>raw</body></message>")
        .unwrap();
    s.handle_close(T0, 1006, "", false);
    assert_eq!(
        events(&mut s),
        vec![
            Event::Undelivered {
                stanzas: vec![
                    plain_message(&a, "a@b", "one"),
                    "<presence xmlns=\"jabber:client\" type=\"subscribed\" to=\"c@d\"/>"
                        .to_string(),
                    "<message xmlns=\"jabber:client\" to=\"x@y\"><body>raw</body></message>"
                        .to_string(),
                ]
            },
            closed(1006, false)
        ]
    );
    // Reported once: a reconnect that goes online sends nothing of it.
    scram_login(
        &mut s,
        Hash::Sha1,
        "SCRAM-SHA-1",
        &["SCRAM-SHA-1"],
        BIND_FEATURES,
        false,
    );
    assert!(texts(&mut s).is_empty());

    // The socket never opened (the browser refused the URL).
    let mut s = Session::new(config(true), [9; 32]);
    let a = s.send_message("a@b", "one", None, None, None).unwrap();
    s.handle_close(T0, 1006, "bad url", false);
    assert_eq!(
        events(&mut s),
        vec![
            Event::Undelivered {
                stanzas: vec![plain_message(&a, "a@b", "one")]
            },
            Event::Closed {
                code: 1006,
                reason: "bad url".into(),
                clean: false
            }
        ]
    );

    // Authentication failure: AuthFailed, close handshake, then Undelivered before Closed.
    let mut s = Session::new(config(true), [9; 32]);
    let a = s.send_message("a@b", "one", None, None, None).unwrap();
    open_until_auth(&mut s, &["SCRAM-SHA-1"]);
    feed(
        &mut s,
        T0,
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>",
    );
    assert!(matches!(&events(&mut s)[..], [Event::AuthFailed { .. }]));
    assert_eq!(
        s.send_message("a@b", "two", None, None, None),
        Err(Error::NotConnected),
        "closing"
    );
    feed(&mut s, T0, CLOSE);
    assert_eq!(
        texts(&mut s),
        vec![CLOSE.to_string(), "CLOSE 1000 ".to_string()]
    );
    s.handle_close(T0, 1000, "", true);
    assert_eq!(
        events(&mut s),
        vec![
            Event::Undelivered {
                stanzas: vec![plain_message(&a, "a@b", "one")]
            },
            closed(1000, true)
        ]
    );

    // Stream error during negotiation.
    let mut s = Session::new(config(true), [9; 32]);
    s.handle_open(T0);
    let _ = texts(&mut s);
    s.set_status(Some("away"), None, None).unwrap();
    feed(&mut s, T0, "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>");
    assert!(matches!(&events(&mut s)[..], [Event::StreamError { .. }]));
    s.handle_close(T0, 1000, "", true);
    assert_eq!(
        events(&mut s),
        vec![
            Event::Undelivered {
                stanzas: vec![format!(
                    "<presence xmlns=\"jabber:client\"><show>away</show>{}</presence>",
                    caps()
                )]
            },
            closed(1000, true)
        ]
    );

    // Nothing queued: no Undelivered.
    let mut s = Session::new(config(true), [9; 32]);
    s.handle_open(T0);
    s.handle_close(T0, 1006, "", false);
    assert_eq!(events(&mut s), vec![closed(1006, false)]);
}

#[test]
fn disconnect_before_open_reports_undelivered() {
    let mut s = Session::new(config(true), [9; 32]);
    let a = s.send_message("a@b", "one", None, None, None).unwrap();
    let op = s.disconnect(T0);
    assert_eq!(
        events(&mut s),
        vec![
            Event::Undelivered {
                stanzas: vec![plain_message(&a, "a@b", "one")]
            },
            Event::Completed {
                op,
                roster: None,
                xml: None
            }
        ]
    );
    assert_eq!(
        s.send_message("a@b", "two", None, None, None),
        Err(Error::NotConnected)
    );
    // The connecting socket's close event follows: nothing more to report.
    s.handle_close(T0, 1006, "", false);
    assert_eq!(events(&mut s), vec![closed(1006, false)]);
}

#[test]
fn send_after_close_is_refused() {
    let mut s = online();
    s.handle_close(T0, 1006, "", false);
    assert_eq!(events(&mut s), vec![closed(1006, false)]);
    assert_eq!(
        s.send_message("a@b", "late", None, None, None),
        Err(Error::NotConnected)
    );
    assert_eq!(s.set_status(None, None, None), Err(Error::NotConnected));
    assert_eq!(s.subscribe("c@d"), Err(Error::NotConnected));
    assert_eq!(s.approve("c@d"), Err(Error::NotConnected));
    assert_eq!(s.deny("c@d"), Err(Error::NotConnected));
    assert_eq!(s.unsubscribe("c@d"), Err(Error::NotConnected));
    assert_eq!(s.send_raw("<presence/>"), Err(Error::NotConnected));
    assert!(texts(&mut s).is_empty());
    assert!(events(&mut s).is_empty());

    // Closing (after disconnect) refuses too.
    let mut s = online();
    let _ = s.disconnect(T0);
    let _ = texts(&mut s);
    assert_eq!(
        s.send_message("a@b", "late", None, None, None),
        Err(Error::NotConnected)
    );
    assert!(texts(&mut s).is_empty());

    // A new socket on the same session queues again.
    let mut s = online();
    s.handle_close(T0, 1006, "", false);
    s.handle_open(T0);
    let _ = texts(&mut s);
    assert!(s.send_message("a@b", "again", None, None, None).is_ok());
}

#[test]
fn redirect_keeps_queue_for_the_next_stream() {
    const REDIRECT: &str = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='wss://other.example.com/ws'/>";
    // The web layer follows the redirect on the same session: it opens the new URL and does
    // not report the old socket's close.
    let mut s = Session::new(config(true), [9; 32]);
    let a = s.send_message("a@b", "one", None, None, None).unwrap();
    s.handle_open(T0);
    let _ = texts(&mut s);
    feed(&mut s, T0, REDIRECT);
    assert_eq!(
        texts(&mut s),
        vec![CLOSE.to_string(), "CLOSE 1000 ".to_string()]
    );
    assert_eq!(
        events(&mut s),
        vec![Event::Redirect {
            url: "wss://other.example.com/ws".into()
        }]
    );
    // Until the new socket opens the page can still queue.
    let b = s.send_message("a@b", "two", None, None, None).unwrap();
    scram_login(
        &mut s,
        Hash::Sha1,
        "SCRAM-SHA-1",
        &["SCRAM-SHA-1"],
        BIND_FEATURES,
        false,
    );
    assert_eq!(
        texts(&mut s),
        vec![
            plain_message(&a, "a@b", "one"),
            plain_message(&b, "a@b", "two")
        ]
    );

    // The new socket fails: reported then.
    let mut s = Session::new(config(true), [9; 32]);
    let a = s.send_message("a@b", "one", None, None, None).unwrap();
    s.handle_open(T0);
    feed(&mut s, T0, REDIRECT);
    let _ = events(&mut s);
    s.handle_close(T0, 1006, "refused", false);
    assert_eq!(
        events(&mut s),
        vec![
            Event::Undelivered {
                stanzas: vec![plain_message(&a, "a@b", "one")]
            },
            Event::Closed {
                code: 1006,
                reason: "refused".into(),
                clean: false
            }
        ]
    );
    assert_eq!(
        s.send_message("a@b", "two", None, None, None),
        Err(Error::NotConnected)
    );

    // A plain server <close/> (no redirect) refuses new stanzas until its close arrives.
    let mut s = Session::new(config(true), [9; 32]);
    s.handle_open(T0);
    feed(&mut s, T0, CLOSE);
    assert_eq!(
        s.send_message("a@b", "x", None, None, None),
        Err(Error::NotConnected)
    );
}

#[test]
fn iq_timeout_and_generic_iq() {
    let mut s = online();
    let t = Millis(5000);
    let op = s
        .iq(
            t,
            "get",
            Some("example.com"),
            "<query xmlns='http://jabber.org/protocol/disco#info'/>",
        )
        .unwrap();
    let iq = el(&one(&mut s));
    assert_eq!(iq.attr("to"), Some("example.com"));
    assert_eq!(s.poll_timeout(), Some(t + 30_000));
    s.handle_timeout(t + 29_999);
    assert!(events(&mut s).is_empty());
    s.handle_timeout(t + 30_000);
    assert_eq!(
        events(&mut s),
        vec![Event::Failed {
            op,
            condition: "remote-server-timeout".into(),
            text: None
        }]
    );
    assert_eq!(s.poll_timeout(), None);
    // A late answer is ignored.
    feed(
        &mut s,
        t + 31_000,
        &format!(
            "<iq type='result' id='{}' from='example.com'/>",
            iq.attr("id").unwrap()
        ),
    );
    assert!(events(&mut s).is_empty());

    // A normal round trip returns the whole result.
    let op = s.iq(t, "get", None, "").unwrap();
    let iq = el(&one(&mut s));
    assert!(iq.children.is_empty());
    feed(
        &mut s,
        t,
        &format!(
            "<iq type='result' id='{}' from='user@example.com'><x xmlns='u:x'/></iq>",
            iq.attr("id").unwrap()
        ),
    );
    match &events(&mut s)[..] {
        [Event::Completed {
            op: o,
            roster: None,
            xml: Some(x),
        }] => {
            assert_eq!(*o, op);
            assert!(x.contains("<x xmlns=\"u:x\"/>"));
        }
        other => panic!("{other:?}"),
    }
    assert!(s.iq(t, "result", None, "").is_err());
    assert!(s.iq(t, "get", None, "<a>").is_err());
    assert!(s.iq(t, "get", Some("@@"), "").is_err());
}

#[test]
fn client_close_handshake() {
    let mut s = online();
    s.set_status(None, None, None).unwrap();
    let _ = texts(&mut s);
    let pending = s.get_roster(T0);
    let _ = texts(&mut s);
    let answered = s.get_roster(T0);
    let answered_id = el(&one(&mut s)).attr("id").unwrap().to_string();
    let op = s.disconnect(T0);
    assert_eq!(
        texts(&mut s),
        vec![
            "<presence xmlns=\"jabber:client\" type=\"unavailable\"/>".to_string(),
            CLOSE.to_string()
        ]
    );
    // ejabberd may keep sending after our close: delivered, but nothing is answered.
    feed(
        &mut s,
        T0,
        "<message from='a@b'><body>late</body></message>",
    );
    feed(
        &mut s,
        T0,
        "<iq type='get' id='p' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>",
    );
    feed(
        &mut s,
        T0,
        &format!("<iq type='result' id='{answered_id}'><query xmlns='jabber:iq:roster'/></iq>"),
    );
    assert!(
        matches!(&events(&mut s)[..], [Event::Message(_), Event::Completed { op, .. }] if *op == answered)
    );
    assert!(texts(&mut s).is_empty());
    assert!(
        s.iq(T0, "get", None, "").is_err(),
        "no new IQs while closing"
    );
    feed(
        &mut s,
        T0,
        "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
    );
    assert_eq!(texts(&mut s), vec!["CLOSE 1000 ".to_string()]);
    assert_eq!(
        events(&mut s),
        vec![Event::Completed {
            op,
            roster: None,
            xml: None
        }]
    );
    // Both <close/>s were exchanged: a clean end even if the WebSocket says otherwise (the
    // server's TCP close can race the browser's closing handshake).
    s.handle_close(T0, 1000, "Stream closed", false);
    assert_eq!(
        events(&mut s),
        vec![
            Event::Failed {
                op: pending,
                condition: "closed".into(),
                text: None
            },
            Event::Closed {
                code: 1000,
                reason: "Stream closed".into(),
                clean: true
            }
        ]
    );
    assert_eq!(s.jid(), None);
    assert!(s.get_roster(T0) > op);
}

#[test]
fn server_close_answered() {
    let mut s = online();
    feed(
        &mut s,
        T0,
        "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
    );
    assert_eq!(
        texts(&mut s),
        vec![CLOSE.to_string(), "CLOSE 1000 ".to_string()]
    );
    s.handle_close(T0, 1006, "", false);
    assert!(matches!(
        &events(&mut s)[..],
        [Event::Closed { clean: true, .. }]
    ));
    // A socket that just drops is not clean.
    let mut s = online();
    s.handle_close(T0, 1006, "", false);
    assert!(matches!(
        &events(&mut s)[..],
        [Event::Closed { clean: false, .. }]
    ));
}

#[test]
fn see_other_uri_followed_once() {
    let mut s = Session::new(config(true), [0; 32]);
    s.handle_open(T0);
    let _ = texts(&mut s);
    feed(&mut s, T0, "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='wss://other.example.com/ws'/>");
    assert_eq!(
        events(&mut s),
        vec![Event::Redirect {
            url: "wss://other.example.com/ws".into()
        }]
    );
    assert_eq!(
        texts(&mut s),
        vec![CLOSE.to_string(), "CLOSE 1000 ".to_string()]
    );
    s.handle_close(T0, 1000, "", true);
    let _ = events(&mut s);
    // The web layer reconnects to the new URL and opens again.
    s.handle_open(T0);
    assert_eq!(one(&mut s), OPEN);
    feed(&mut s, T0, "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='wss://third.example.com/ws'/>");
    assert!(events(&mut s).is_empty(), "second redirect not followed");
}

#[test]
fn redirect_downgrade_refused() {
    let mut c = config(true);
    c.transport_secure = true;
    let mut s = Session::new(c, [0; 32]);
    s.handle_open(T0);
    feed(&mut s, T0, "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='ws://other.example.com/ws'/>");
    assert!(events(&mut s).is_empty());
}

#[test]
fn stream_error_surfaces_and_closes() {
    let mut s = online();
    feed(&mut s, T0, "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new connection</text></stream:error>");
    assert_eq!(
        events(&mut s),
        vec![Event::StreamError {
            condition: "conflict".into(),
            text: Some("Replaced by new connection".into())
        }]
    );
    assert_eq!(
        texts(&mut s),
        vec![CLOSE.to_string(), "CLOSE 1000 stream error".to_string()]
    );
    // Nothing more is processed.
    feed(&mut s, T0, "<message><body>x</body></message>");
    assert!(events(&mut s).is_empty());
}

#[test]
fn malformed_xml_is_protocol_error() {
    let mut s = online();
    feed(&mut s, T0, "<message><body>x</message>");
    assert!(matches!(&events(&mut s)[..], [Event::ProtocolError { .. }]));
    assert_eq!(texts(&mut s).len(), 1);
    feed(&mut s, T0, "<message><body>x</body></message>");
    assert!(events(&mut s).is_empty(), "sticky");
}

#[test]
fn negotiation_timeout() {
    let mut s = Session::new(config(true), [0; 32]);
    s.handle_open(T0);
    let _ = texts(&mut s);
    assert_eq!(s.poll_timeout(), Some(T0 + 30_000));
    s.handle_timeout(T0 + 30_000);
    assert!(
        matches!(&events(&mut s)[..], [Event::StreamError { condition, .. }] if condition == "connection-timeout")
    );
    assert_eq!(
        texts(&mut s),
        vec!["CLOSE 1000 negotiation timeout".to_string()]
    );
}

#[test]
fn commands_when_offline() {
    let mut s = Session::new(config(false), [0; 32]);
    let op = s.get_roster(T0);
    assert_eq!(op, OpId(1));
    assert!(
        matches!(&events(&mut s)[..], [Event::Failed { condition, .. }] if condition == "unexpected-request")
    );
    assert!(s.iq(T0, "get", None, "").is_err());
    let id = s.send_message("a@b", "x", None, None, None).unwrap();
    assert!(texts(&mut s).is_empty());
    let op = s.disconnect(T0);
    assert_eq!(texts(&mut s), vec!["CLOSE 1000 ".to_string()]);
    assert_eq!(
        events(&mut s),
        vec![
            Event::Undelivered {
                stanzas: vec![plain_message(&id, "a@b", "x")]
            },
            Event::Completed {
                op,
                roster: None,
                xml: None
            }
        ]
    );
}

#[test]
fn password_change_and_unregister() {
    let mut s = online();
    s.change_password(T0, "newpw");
    let iq = el(&one(&mut s));
    assert_eq!(iq.attr("to"), Some("example.com"));
    let q = iq.child("query", "jabber:iq:register").unwrap();
    assert_eq!(
        q.child("username", "jabber:iq:register").unwrap().text(),
        "user"
    );
    assert_eq!(
        q.child("password", "jabber:iq:register").unwrap().text(),
        "newpw"
    );
    assert!(fullduplex::xmpp::redact(&iq.to_xml()).contains("<password>***</password>"));
    s.unregister(T0);
    assert!(one(&mut s).contains("<remove/>"));
}

#[test]
fn reconnect_logs_in_again_with_login_credentials() {
    let mut s = Session::new(config(false), [6; 32]);
    s.handle_open(T0);
    let _ = texts(&mut s);
    feed(&mut s, T0, SERVER_OPEN);
    feed(&mut s, T0, &features(&["PLAIN"]));
    assert_eq!(events(&mut s), vec![Event::StreamReady]);
    let op = s.login(T0, "user", "pencil", None);
    assert!(
        matches!(&events(&mut s)[..], [Event::AuthFailed { .. }, Event::Failed { op: o, .. }] if *o == op)
    );
    s.handle_close(T0, 1000, "", true);
    let _ = events(&mut s);
    // A failed login's credentials are forgotten: the next stream waits for the page again.
    s.handle_open(T0);
    let _ = texts(&mut s);
    feed(&mut s, T0, SERVER_OPEN);
    feed(&mut s, T0, &features(&["SCRAM-SHA-1"]));
    assert_eq!(events(&mut s), vec![Event::StreamReady]);
    s.login(T0, "user", "pencil", None);
    let _ = texts(&mut s);
    s.handle_close(T0, 1006, "", false);
    let _ = events(&mut s);
    // Socket lost mid-login: credentials kept, the next stream logs in by itself.
    s.handle_open(T0);
    let _ = texts(&mut s);
    feed(&mut s, T0, SERVER_OPEN);
    feed(&mut s, T0, &features(&["SCRAM-SHA-1"]));
    assert!(events(&mut s).is_empty());
    assert!(one(&mut s).contains("SCRAM-SHA-1"));
}

#[test]
fn debug_output_never_shows_the_password() {
    let mut s = Session::new(config(true), [9; 32]);
    let auth = open_until_auth(&mut s, &["SCRAM-SHA-1", "PLAIN"]);
    assert!(auth.contains("SCRAM-SHA-1"), "{auth}");
    // Mid-SCRAM: the session holds the password in its login and in the SCRAM exchange.
    let mid = format!("{s:?}");
    assert!(mid.contains("***"), "{mid}");
    assert!(!mid.contains("pencil"), "{mid}");
    let on = format!("{:?}", online());
    assert!(!on.contains("pencil"), "{on}");
    assert!(!format!("{:?}", config(true)).contains("pencil"));
}
