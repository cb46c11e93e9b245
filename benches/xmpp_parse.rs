//! Native XMPP stanza parse speed: a typical ~300-byte chat message and a presence stanza,
//! through the XML reader and the stanza model, as the session does for each WebSocket
//! message; and SCRAM's PBKDF2, which the browser build hands to WebCrypto but the core runs
//! itself where WebCrypto is missing. Prints stanzas/s, MB/s and ms per derivation. Run with
//! `cargo bench --bench xmpp_parse` (`-- --quick` for a short smoke run).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::as_conversions
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use fullduplex::xmpp::sasl::scram::Hash;
use fullduplex::xmpp::xml::{parse, Limits, NS_CLIENT};
use fullduplex::xmpp::{Message, Presence};

const MESSAGE: &str = "<message xmlns='jabber:client' from='bob@localhost/phone' \
to='alice@localhost/web' type='chat' id='a1b2c3d4-e5f6'><body>Are we still on for \
lunch at noon? I booked the table by the window &amp; told them we'd be two.</body>\
<thread>7f1c9e</thread><active xmlns='http://jabber.org/protocol/chatstates'/>\
<request xmlns='urn:xmpp:receipts'/></message>";

const PRESENCE: &str = "<presence xmlns='jabber:client' from='bob@localhost/phone' \
to='alice@localhost'><show>away</show><status>At lunch, back at 1</status>\
<priority>5</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' \
node='https://example.org/client' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>";

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let budget = Duration::from_millis(if quick { 50 } else { 1000 });
    let limits = Limits::default();
    println!("XMPP stanza parse (native): XML reader + stanza model");
    println!(
        "{:>10} {:>7} {:>14} {:>10}",
        "stanza", "bytes", "stanzas/s", "MB/s"
    );
    for (name, text, is_message) in [("message", MESSAGE, true), ("presence", PRESENCE, false)] {
        let bytes = text.as_bytes();
        let mut n = 0u64;
        let start = Instant::now();
        while start.elapsed() < budget {
            for _ in 0..64 {
                let e = parse(bytes, &limits, NS_CLIENT).unwrap();
                if is_message {
                    black_box(Message::from_element(&e).body);
                } else {
                    black_box(Presence::from_element(&e).show);
                }
                n += 1;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let per_s = n as f64 / secs;
        println!(
            "{name:>10} {:>7} {per_s:>14.0} {:>10.1}",
            bytes.len(),
            per_s * bytes.len() as f64 / 1e6
        );
    }
    // SCRAM's key derivation, the bulk of a login's own CPU time.
    println!("PBKDF2 (SCRAM Hi), 4096 iterations (native)");
    for (name, hash) in [("SHA-1", Hash::Sha1), ("SHA-256", Hash::Sha256)] {
        let mut n = 0u32;
        let start = Instant::now();
        while start.elapsed() < budget || n == 0 {
            black_box(hash.pbkdf2(b"pencil", b"salt-salt-salt", 4096));
            n += 1;
        }
        let ms = start.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
        println!("{name:>10} {ms:>10.2} ms per derivation");
    }
}
