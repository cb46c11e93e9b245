//! SASL harness: SCRAM server-first and server-final parsing, base64 (decode/encode round
//! trips both ways), and the credential checks, PLAIN and mechanism selection.
//!
//! PBKDF2 makes a valid server-first cost thousands of HMACs, which would slow the fuzzer to
//! a crawl once it learns the format; so a server-first whose iteration count the client
//! would accept runs only for the counts real servers use (4096 and Prosody's 10000), and
//! server-final messages are checked against exchanges computed once per process (the RFC
//! 5802 vector and one captured from Prosody).

use std::sync::OnceLock;

use fullduplex::xmpp::sasl::scram::{escape_username, Hash, ScramClient};
use fullduplex::xmpp::sasl::{
    base64_decode, base64_encode, credential_ok, plain, select, Mechanism,
};

/// The client nonce of the fuzz exchanges (fuzz/capture.py uses it too).
pub const NONCE: &str = "fuzzfuzzfuzzfuzzfuzzfuzz";

/// A SCRAM-SHA-1 exchange with the dev Prosody, captured by fuzz/capture.py.
pub const PROSODY_SERVER_FIRST: &str = "r=fuzzfuzzfuzzfuzzfuzzfuzz2439325a-a3e4-4ed5-9712-\
    f3274e986411,s=MWYzYjkyOTUtZDYyYi00M2QzLWExMTUtMjFjNzg0NWY3ZTc1,i=10000";
/// The matching server-final.
pub const PROSODY_SERVER_FINAL: &str = "v=JiBfCCIhEANVNgLyWyeJbMAN56o=";

/// RFC 5802 §5.
const RFC_NONCE: &str = "fyko+d2lbbFgONRv9qkxdawL";
const RFC_SERVER_FIRST: &str =
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";

fn after_first(user: &str, password: &str, nonce: &str, server_first: &str) -> ScramClient {
    let mut c = ScramClient::new(Hash::Sha1, user, password, nonce).expect("valid credentials");
    let _ = c.client_first();
    c.handle_server_first(server_first)
        .expect("captured server-first accepted");
    assert!(c.awaiting_final());
    c
}

fn clients() -> &'static [ScramClient; 2] {
    static C: OnceLock<[ScramClient; 2]> = OnceLock::new();
    C.get_or_init(|| {
        [
            after_first("alice", "alicepw", NONCE, PROSODY_SERVER_FIRST),
            after_first("user", "pencil", RFC_NONCE, RFC_SERVER_FIRST),
        ]
    })
}

/// Whether the client would run PBKDF2 with a count other than the real servers' ones.
fn costly(server_first: &str) -> bool {
    let Some(i) = server_first
        .split(',')
        .nth(2)
        .and_then(|p| p.strip_prefix("i="))
    else {
        return false;
    };
    if i.is_empty() || !i.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    match i.parse::<u32>() {
        Ok(4096 | 10000) => false,
        Ok(n) => (4096..=1_000_000).contains(&n),
        Err(_) => false,
    }
}

fn check_base64(s: &str, raw: &[u8]) {
    if let Ok(v) = base64_decode(s) {
        // Decoding is strict, so encoding what it gave reproduces the input (without the
        // ignored whitespace; a lone "=" is the empty message).
        let clean: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
            .collect();
        let expect = if clean == "=" { String::new() } else { clean };
        assert_eq!(base64_encode(&v), expect, "base64 decode/encode round trip");
    }
    let e = base64_encode(raw);
    assert_eq!(
        base64_decode(&e).as_deref(),
        Ok(raw),
        "base64 encode/decode round trip"
    );
}

/// `sasl_scram`: `[mode] message…`. Mode bits 0–1: 0 server-first to a fresh client
/// (bit 2: SHA-256), 1 server-final after a known server-first (bit 2: the RFC exchange),
/// 2 base64, 3 credentials (`user\0password\0nonce`).
pub fn target(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let msg = String::from_utf8_lossy(rest);
    match mode & 3 {
        0 => {
            if costly(&msg) {
                return;
            }
            let hash = if mode & 4 != 0 {
                Hash::Sha256
            } else {
                Hash::Sha1
            };
            let mut c = ScramClient::new(hash, "alice", "alicepw", NONCE).expect("credentials");
            // Out of step first: must be refused without changing anything.
            assert!(c.handle_server_final(&msg).is_err());
            let _ = c.client_first();
            match c.handle_server_first(&msg) {
                Ok(fin) => {
                    assert!(fin.starts_with("c=biws,r="), "client-final format");
                    assert!(c.awaiting_final());
                    // A second server-first is out of step.
                    assert!(c.handle_server_first(&msg).is_err());
                }
                Err(e) => {
                    let _ = e.as_str();
                    assert!(!c.awaiting_final());
                }
            }
        }
        1 => {
            let mut c = clients()[usize::from(mode >> 2 & 1)].clone();
            let ok = c.handle_server_final(&msg).is_ok();
            assert_eq!(ok, c.verified(), "verified() disagrees with the result");
            assert!(!c.awaiting_final(), "still awaiting final after one");
            let _ = c.handle_server_final(&msg);
        }
        2 => check_base64(&msg, rest),
        _ => {
            let mut parts = msg.splitn(3, '\0');
            let user = parts.next().unwrap_or_default();
            let pass = parts.next().unwrap_or_default();
            let nonce = parts.next().unwrap_or_default();
            let _ = escape_username(user);
            let ok = credential_ok(user) && credential_ok(pass);
            assert_eq!(plain::initial_response(user, pass).is_ok(), ok);
            if let Ok(mut c) = ScramClient::new(Hash::Sha256, user, pass, nonce) {
                assert!(ok);
                let first = c.client_first();
                assert!(first.starts_with("n,,n="), "client-first format");
            }
            let offered: Vec<&str> = msg.split(',').take(16).collect();
            let _ = select(
                offered.iter().copied(),
                &Mechanism::DEFAULT_PREFERENCE,
                mode & 4 != 0,
                mode & 8 != 0,
            );
            let _ = Mechanism::from_name(user);
        }
    }
}
