//! XMPP session harness: a session logged in by a scripted server (or left before login),
//! then driven by fuzzed WebSocket messages, page commands and time. Server messages may
//! contain placeholder bytes the harness replaces, so the fuzzer can answer the client's
//! IQs and SCRAM exchange without guessing ids: 0x01 the id of the last IQ request the
//! client sent, 0x02 the client's full JID, 0x03 its bare JID, 0x04 the SCRAM client nonce.
//! (XML forbids these control characters, so nothing of value is lost.)

use std::collections::BTreeMap;

use fullduplex::time::Millis;
use fullduplex::xmpp::muc::History;
use fullduplex::xmpp::sasl::{base64_decode, base64_encode};
use fullduplex::xmpp::xml::{self, NS_CLIENT};
use fullduplex::xmpp::{Config, Credentials, Event, Mechanism, OpId, Session, Transmit};

use crate::input::Input;
use crate::xml::{tight_limits, wide_limits};

/// The entropy every fuzz session uses (ids and SCRAM nonces are derived from it).
pub const ENTROPY: [u8; 32] = *b"fullduplex-fuzz-entropy-32-bytes";

const DOMAIN: &str = "localhost";
// The scripted login is kept short (the reader costs per byte and every input pays for the
// login); the committed seeds carry Prosody's real, longer stanzas.
const SERVER_OPEN: &str = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' id='s1'/>";
const FEATURES_PLAIN: &str = "<stream:features><mechanisms \
    xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>\
    </stream:features>";
const SUCCESS: &str = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";

fn features_bind(session_optional: bool) -> &'static str {
    if session_optional {
        "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm \
         xmlns='urn:xmpp:sm:3'/></stream:features>"
    } else {
        "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session \
         xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>"
    }
}

struct XmppRun {
    s: Session,
    now: Millis,
    last_iq: String,
    nonce: String,
    issued: Vec<OpId>,
    ended: BTreeMap<OpId, u32>,
    /// Check every transmit (off during the scripted login, for speed).
    checking: bool,
}

impl XmppRun {
    fn drain(&mut self) {
        while let Some(t) = self.s.poll_transmit() {
            match t {
                Transmit::Text(x) if !self.checking => {
                    // The scripted login: only pick up the IQ id, quickly.
                    if let Some((id, _)) = x
                        .strip_prefix("<iq ")
                        .and_then(|rest| rest.split_once(" id=\""))
                        .and_then(|(_, rest)| rest.split_once('"'))
                    {
                        self.last_iq = id.to_owned();
                    }
                }
                Transmit::Text(x) => {
                    // The client only ever writes well-formed XML.
                    let el = match xml::parse(x.as_bytes(), &wide_limits(), NS_CLIENT) {
                        Ok(el) => el,
                        Err(e) => panic!("client wrote XML it cannot read back: {e:?} in {x}"),
                    };
                    if el.name == "iq" && matches!(el.attr("type"), Some("get" | "set")) {
                        if let Some(id) = el.attr("id") {
                            self.last_iq = id.to_owned();
                        }
                    }
                    if el.name == "auth" {
                        let first = base64_decode(el.text().trim()).unwrap_or_default();
                        let first = String::from_utf8_lossy(&first);
                        if let Some((_, r)) = first.split_once(",r=") {
                            self.nonce = r.to_owned();
                        }
                    }
                }
                Transmit::Close { code, reason } => {
                    assert!(code == 1000 || (3000..=4999).contains(&code), "close code");
                    assert!(reason.len() <= 123, "close reason too long for a WebSocket");
                }
                // Automatic reconnection asks for a socket (only with URLs in the config).
                Transmit::Open { .. } => {}
            }
        }
        while let Some(e) = self.s.poll_event() {
            match e {
                Event::Completed { op, .. } | Event::Failed { op, .. } => {
                    let n = self.ended.entry(op).or_insert(0);
                    *n += 1;
                    assert!(*n == 1, "op {op:?} ended twice");
                    assert!(self.issued.contains(&op), "event for an op never issued");
                }
                Event::ProtocolError { error } => assert!(!error.is_empty()),
                _ => {}
            }
        }
    }

    fn issue(&mut self, op: OpId) {
        self.issued.push(op);
    }

    /// Replaces the placeholder bytes.
    fn expand(&self, raw: &[u8]) -> Vec<u8> {
        let full = self.s.jid().unwrap_or("alice@localhost/fuzz").to_owned();
        let bare = full.split('/').next().unwrap_or_default().to_owned();
        let mut out = Vec::with_capacity(raw.len() + 16);
        for &b in raw {
            match b {
                1 => out.extend_from_slice(self.last_iq.as_bytes()),
                2 => out.extend_from_slice(full.as_bytes()),
                3 => out.extend_from_slice(bare.as_bytes()),
                4 => out.extend_from_slice(self.nonce.as_bytes()),
                _ => out.push(b),
            }
        }
        out
    }

    fn feed(&mut self, data: &[u8]) {
        self.s.handle_data(self.now, data);
        self.drain();
    }

    fn feed_str(&mut self, data: &str) {
        self.feed(data.as_bytes());
    }

    /// The scripted PLAIN login; returns whether it ended online.
    fn scripted_login(&mut self, session_optional: bool) -> bool {
        self.feed_str(SERVER_OPEN);
        self.feed_str(FEATURES_PLAIN);
        self.feed_str(SUCCESS);
        self.feed_str(SERVER_OPEN);
        self.feed_str(features_bind(session_optional));
        let bind = format!(
            "<iq type='result' id='{}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
             <jid>alice@localhost/fuzz</jid></bind></iq>",
            self.last_iq
        );
        self.feed_str(&bind);
        if !session_optional {
            let sess = format!("<iq type='result' id='{}'/>", self.last_iq);
            self.feed_str(&sess);
        }
        self.s.is_online()
    }
}

/// `xmpp_session`: `[config] ops…`; see fuzz/README.md for the opcodes.
pub fn session_target(data: &[u8]) {
    let mut inp = Input::new(data);
    let cfg = inp.byte();
    let mode = cfg & 3;
    let mut config = Config::new(DOMAIN);
    if mode != 2 {
        config.credentials = Some(Credentials {
            username: "alice".into(),
            password: "alicepw".into(),
            resource: Some("fuzz".into()),
        });
    }
    if mode == 1 {
        config.mechanisms = vec![Mechanism::ScramSha1, Mechanism::ScramSha256];
    } else {
        config.mechanisms = Mechanism::DEFAULT_PREFERENCE.to_vec();
        config.mechanisms.retain(|m| *m != Mechanism::ScramSha1);
        config.mechanisms.retain(|m| *m != Mechanism::ScramSha256);
        config.allow_plain_insecure = true;
    }
    if cfg & 4 != 0 {
        config.limits = tight_limits();
        // The scripted login needs room for its features.
        config.limits.max_size = 4096;
        config.limits.max_depth = 4;
        config.limits.max_attrs = 6;
    }
    config.transport_secure = cfg & 8 != 0;
    config.stream_management = cfg & 32 != 0;
    let mut r = XmppRun {
        s: Session::new(config, ENTROPY),
        now: Millis(1_000),
        last_iq: String::new(),
        nonce: String::new(),
        issued: Vec::new(),
        ended: BTreeMap::new(),
        checking: mode == 1 || mode == 2,
    };
    if cfg & 16 != 0 {
        // Commands before the socket opens are queued.
        let _ =
            r.s.send_message("bob@localhost", "early", Some("chat"), None, None);
        let _ = r.s.set_status(Some("away"), Some("early"), Some(1));
    }
    r.s.handle_open(r.now);
    r.drain();
    if mode == 0 || mode == 3 {
        let online = r.scripted_login(mode == 0);
        assert!(
            online,
            "harness: the scripted login no longer reaches Online"
        );
    }
    r.checking = true;
    let mut steps = 0;
    while !inp.is_empty() && steps < 256 {
        steps += 1;
        let op = inp.byte();
        match op & 15 {
            1 => {
                r.now = r.now + u64::from(inp.u16());
                r.s.handle_timeout(r.now);
            }
            2 => {
                if let Some(t) = r.s.poll_timeout() {
                    r.now = r.now.max(t);
                    r.s.handle_timeout(r.now);
                }
            }
            3 => {
                let flags = inp.byte();
                let payload = r.expand(inp.chunk16());
                let name = ["challenge", "success", "failure", "challenge"][usize::from(flags & 3)];
                let mut x = format!("<{name} xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>");
                if flags & 3 == 2 {
                    x.push_str(&String::from_utf8_lossy(&payload));
                } else {
                    x.push_str(&base64_encode(&payload));
                }
                x.push_str("</");
                x.push_str(name);
                x.push('>');
                r.s.handle_data(r.now, x.as_bytes());
            }
            4 => {
                let flags = inp.byte();
                let to = inp.string8();
                let body = inp.string8();
                let kind =
                    [None, Some("chat"), Some("groupchat"), Some("")][usize::from(flags & 3)];
                let subject = (flags & 4 != 0).then_some("subj");
                let thread = (flags & 8 != 0).then_some("thread-1");
                let _ = r.s.send_message(&to, &body, kind, subject, thread);
            }
            5 => {
                let flags = inp.byte();
                let show = [None, Some("away"), Some("dnd"), Some("<bad>")][usize::from(flags & 3)];
                let status = (flags & 4 != 0).then_some("busy & \"fuzzing\"");
                let priority = (flags & 8 != 0).then_some(i8::from_le_bytes([flags]));
                let _ = r.s.set_status(show, status, priority);
            }
            6 => {
                let flags = inp.byte();
                let op = match flags % 3 {
                    0 => r.s.get_roster(r.now),
                    1 => {
                        let jid = inp.string8();
                        let name = inp.string8();
                        let groups = ["Friends", ""];
                        r.s.add_contact(
                            r.now,
                            &jid,
                            Some(&name),
                            &groups[..usize::from(flags >> 6) % 3],
                        )
                    }
                    _ => {
                        let jid = inp.string8();
                        r.s.remove_contact(r.now, &jid)
                    }
                };
                r.issue(op);
            }
            7 => {
                let flags = inp.byte();
                let kind = ["get", "set", "result", ""][usize::from(flags & 3)];
                let to = (flags & 4 != 0).then(|| inp.string8());
                let payload = inp.string8();
                if let Ok(op) = r.s.iq(r.now, kind, to.as_deref(), &payload) {
                    r.issue(op);
                }
            }
            8 => {
                let x = String::from_utf8_lossy(inp.chunk8()).into_owned();
                let _ = r.s.send_raw(&x);
            }
            9 => {
                let flags = inp.byte();
                let jid = inp.string8();
                let _ = match flags & 3 {
                    0 => r.s.subscribe(&jid),
                    1 => r.s.approve(&jid),
                    2 => r.s.deny(&jid),
                    _ => r.s.unsubscribe(&jid),
                };
            }
            10 => {
                let op = r.s.disconnect(r.now);
                r.issue(op);
            }
            11 => {
                let code = inp.u16();
                let clean = inp.byte() & 1 != 0;
                r.s.handle_close(r.now, code, "closed by fuzzer", clean);
            }
            12 => r.s.handle_open(r.now),
            13 => {
                let flags = inp.byte();
                let op = match flags % 5 {
                    0 => {
                        let (u, p) = (inp.string8(), inp.string8());
                        r.s.login(r.now, &u, &p, (flags & 8 != 0).then_some("res"))
                    }
                    1 => r.s.login_anonymous(r.now),
                    2 => {
                        let (u, p) = (inp.string8(), inp.string8());
                        r.s.register(r.now, &u, &p)
                    }
                    3 => {
                        let p = inp.string8();
                        r.s.change_password(r.now, &p)
                    }
                    _ => r.s.unregister(r.now),
                };
                r.issue(op);
            }
            14 => {
                r.now = r.now - u64::from(inp.byte());
                r.s.handle_timeout(r.now);
            }
            15 => {
                let flags = inp.byte();
                let room = inp.string8();
                match flags & 3 {
                    0 | 1 => {
                        let nick = inp.string8();
                        let history = History {
                            max_stanzas: (flags & 4 != 0).then_some(u32::from(flags)),
                            seconds: (flags & 8 != 0).then_some(60),
                            since: (flags & 16 != 0).then(|| "2024-01-01T00:00:00Z".into()),
                        };
                        let password = (flags & 1 != 0).then_some("secret");
                        let op = r.s.join_room(r.now, &room, &nick, password, &history);
                        r.issue(op);
                    }
                    2 => {
                        let op = r.s.leave_room(r.now, &room, Some("bye"));
                        r.issue(op);
                    }
                    _ => {
                        let subject = inp.string8();
                        let _ = r.s.set_room_subject(&room, &subject);
                    }
                }
            }
            _ => {
                let raw = inp.chunk16();
                let data = r.expand(raw);
                r.s.handle_data(r.now, &data);
            }
        }
        let _ = (
            r.s.jid(),
            r.s.is_online(),
            r.s.register_offered(),
            r.s.offered_mechanisms().len(),
        );
        r.drain();
    }
    // Once the socket is closed every op issued has ended exactly once.
    r.s.handle_close(r.now, 1006, "", false);
    r.drain();
    for op in &r.issued {
        assert!(
            r.ended.contains_key(op),
            "op {op:?} never completed or failed"
        );
    }
}
