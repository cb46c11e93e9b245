//! SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677) client steps, without channel
//! binding (GS2 header `n,,`).
//!
//! The client nonce is passed in by the caller (the session derives it from its entropy, tests
//! inject the RFC values). The client escapes `=` and `,` in the username (`=3D`, `=2C`),
//! refuses empty credentials and control characters (a subset of SASLprep; no NFKC mapping),
//! refuses a server nonce that does not extend ours, a mandatory extension (`m=`), and an
//! iteration count outside [`MIN_ITERATIONS`]`..=`[`MAX_ITERATIONS`], and verifies the
//! server signature `v=` (constant-time comparison); `e=` fails the exchange. Messages here
//! are the raw SCRAM strings; base64 for the XMPP wire is the session's job.

use super::sha::{Digest, Sha};
use super::{base64_decode, base64_encode, credential_ok, SaslError};
use crate::xmpp::secret::Secret;
use crate::xmpp::xml::split_once;

/// Fewest PBKDF2 iterations accepted (RFC 7677 §4: SHOULD be at least 4096). A lower count
/// would let a rogue server obtain a cheaply crackable hash.
pub const MIN_ITERATIONS: u32 = 4096;
/// Most PBKDF2 iterations accepted: more would freeze the page for seconds.
pub const MAX_ITERATIONS: u32 = 1_000_000;

/// The hash function of a SCRAM variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    /// SHA-1 (SCRAM-SHA-1).
    Sha1,
    /// SHA-256 (SCRAM-SHA-256).
    Sha256,
}

/// Both hashes work on 64-byte blocks.
const BLOCK: usize = 64;

/// An HMAC key (RFC 2104): the inner and outer hashes with the padded key already absorbed,
/// cloned for each message (PBKDF2 runs thousands of them).
struct HmacKey {
    inner: Sha,
    outer: Sha,
}

impl HmacKey {
    fn new(hash: Hash, key: &[u8]) -> HmacKey {
        let mut block = [0u8; BLOCK];
        let long;
        let key = if key.len() > BLOCK {
            long = Sha::digest(hash, key);
            long.bytes()
        } else {
            key
        };
        for (b, k) in block.iter_mut().zip(key) {
            *b = *k;
        }
        let mut inner = Sha::new(hash);
        let mut outer = inner.clone();
        // ipad, then opad from it (0x36 ^ 0x6a = 0x5c).
        for b in &mut block {
            *b ^= 0x36;
        }
        inner.update(&block);
        for b in &mut block {
            *b ^= 0x6a;
        }
        outer.update(&block);
        HmacKey { inner, outer }
    }

    /// `HMAC(key, parts concatenated)`.
    fn mac(&self, parts: &[&[u8]]) -> Digest {
        let mut inner = self.inner.clone();
        for p in parts {
            inner.update(p);
        }
        let mut outer = self.outer.clone();
        outer.update(inner.finish().bytes());
        outer.finish()
    }
}

impl Hash {
    /// `H(data)`.
    #[must_use]
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        Sha::digest(self, data).bytes().to_vec()
    }

    /// `HMAC(key, data)`.
    #[must_use]
    pub fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        HmacKey::new(self, key).mac(&[data]).bytes().to_vec()
    }

    /// PBKDF2-HMAC (RFC 8018) with one output block (`dkLen` = hash length), as SCRAM's `Hi`.
    #[must_use]
    pub fn pbkdf2(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        let key = HmacKey::new(self, password);
        let mut u = key.mac(&[salt, &1u32.to_be_bytes()]);
        let mut acc = u.bytes().to_vec();
        for _ in 1..iterations {
            u = key.mac(&[u.bytes()]);
            for (a, b) in acc.iter_mut().zip(u.bytes()) {
                *a ^= b;
            }
        }
        acc
    }
}

/// Derives a client nonce from 32 bytes of entropy and a per-login counter:
/// base64(SHA-256(seed || "scram" || counter)[..24]), 32 printable characters.
#[must_use]
pub fn derive_nonce(seed: &[u8; 32], counter: u32) -> String {
    let mut h = Sha::new(Hash::Sha256);
    h.update(seed);
    h.update(b"scram");
    h.update(&counter.to_be_bytes());
    let d = h.finish();
    base64_encode(d.bytes().get(..24).unwrap_or(&[]))
}

/// Escapes a SCRAM `saslname`: `=` → `=3D`, `,` → `=2C`.
#[must_use]
pub fn escape_username(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '=' => s.push_str("=3D"),
            ',' => s.push_str("=2C"),
            _ => s.push(c),
        }
    }
    s
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Initial,
    AwaitServerFirst,
    /// Server-first parsed; waiting for the SaltedPassword (see [`ScramClient::key_request`]).
    AwaitKey,
    AwaitServerFinal,
    Done,
}

/// What PBKDF2 needs to make SCRAM's SaltedPassword, `Hi(password, salt, iterations)`, when
/// the caller derives it itself (the browser's WebCrypto runs it natively and off the main
/// thread).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRequest {
    /// The hash of the HMAC.
    pub hash: Hash,
    /// The password (UTF-8).
    pub password: Secret,
    /// The server's salt.
    pub salt: Vec<u8>,
    /// The iteration count, within the accepted range.
    pub iterations: u32,
}

/// One SCRAM exchange, client side.
#[derive(Clone, Debug)]
pub struct ScramClient {
    hash: Hash,
    password: Secret,
    nonce: String,
    client_first_bare: String,
    /// The server-first message and its combined nonce, kept between the two halves of
    /// [`ScramClient::handle_server_first`].
    server_first: String,
    combined_nonce: String,
    salt: Vec<u8>,
    iterations: u32,
    server_signature: Vec<u8>,
    step: Step,
    verified: bool,
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    // Indexed (the lengths are equal): a `zip` here is one more generic in the wasm.
    let mut acc = 0u8;
    for (i, x) in a.iter().enumerate() {
        acc |= x ^ b.get(i).copied().unwrap_or(0);
    }
    acc == 0
}

fn nonce_ok(n: &str) -> bool {
    for b in n.bytes() {
        if !(0x21..=0x7e).contains(&b) || b == b',' {
            return false;
        }
    }
    !n.is_empty()
}

impl ScramClient {
    /// Starts an exchange.
    ///
    /// # Errors
    /// [`SaslError::BadCredentials`] for an empty or control-character credential or a bad
    /// nonce.
    pub fn new(
        hash: Hash,
        username: &str,
        password: &str,
        client_nonce: &str,
    ) -> Result<ScramClient, SaslError> {
        if !credential_ok(username) || !credential_ok(password) || !nonce_ok(client_nonce) {
            return Err(SaslError::BadCredentials);
        }
        let mut bare = String::from("n=");
        bare.push_str(&escape_username(username));
        bare.push_str(",r=");
        bare.push_str(client_nonce);
        Ok(ScramClient {
            hash,
            password: Secret::from(password),
            nonce: String::from(client_nonce),
            client_first_bare: bare,
            server_first: String::new(),
            combined_nonce: String::new(),
            salt: Vec::new(),
            iterations: 0,
            server_signature: Vec::new(),
            step: Step::Initial,
            verified: false,
        })
    }

    /// The client-first message (`n,,n=user,r=nonce`), raw.
    pub fn client_first(&mut self) -> String {
        self.step = Step::AwaitServerFirst;
        let mut s = String::from("n,,");
        s.push_str(&self.client_first_bare);
        s
    }

    /// Takes the raw server-first message, returns the raw client-final message
    /// ([`ScramClient::key_request`] then [`ScramClient::client_final`], with PBKDF2 run here).
    ///
    /// # Errors
    /// Malformed message, nonce mismatch, bad iteration count, `m=` extension, wrong step.
    pub fn handle_server_first(&mut self, server_first: &str) -> Result<String, SaslError> {
        self.key_request(server_first)?;
        self.client_final_derived()
    }

    /// [`ScramClient::client_final`] with the SaltedPassword derived here (our own PBKDF2).
    ///
    /// # Errors
    /// [`SaslError::UnexpectedMessage`] out of step.
    pub fn client_final_derived(&mut self) -> Result<String, SaslError> {
        if self.step != Step::AwaitKey {
            return Err(SaslError::UnexpectedMessage);
        }
        let salted = self
            .hash
            .pbkdf2(self.password.as_bytes(), &self.salt, self.iterations);
        self.client_final(&salted)
    }

    /// Takes the raw server-first message and says what the SaltedPassword is derived from;
    /// the exchange then waits for [`ScramClient::client_final`].
    ///
    /// # Errors
    /// Malformed message, nonce mismatch, bad iteration count, `m=` extension, wrong step.
    pub fn key_request(&mut self, server_first: &str) -> Result<KeyRequest, SaslError> {
        if self.step != Step::AwaitServerFirst {
            return Err(SaslError::UnexpectedMessage);
        }
        self.step = Step::Done;
        let (mut r, mut s, mut i) = (None, None, None);
        // A loop over byte splits, not `str::split` (its char searcher costs wasm).
        let mut rest = Some(server_first);
        let mut idx = 0usize;
        while let Some(cur) = rest {
            let part = match split_once(cur, b',') {
                Some((p, next)) => {
                    rest = Some(next);
                    p
                }
                None => {
                    rest = None;
                    cur
                }
            };
            let (k, v) = split_once(part, b'=').ok_or(SaslError::MalformedServerMessage)?;
            match (idx, k) {
                (_, "m") => return Err(SaslError::UnsupportedExtension),
                (0, "r") => r = Some(v),
                (1, "s") => s = Some(v),
                (2, "i") => i = Some(v),
                (0..=2, _) => return Err(SaslError::MalformedServerMessage),
                _ => {}
            }
            idx = idx.saturating_add(1);
        }
        let (Some(r), Some(s), Some(i)) = (r, s, i) else {
            return Err(SaslError::MalformedServerMessage);
        };
        if !nonce_ok(r) || !r.starts_with(self.nonce.as_str()) || r.len() <= self.nonce.len() {
            return Err(SaslError::NonceMismatch);
        }
        let salt = base64_decode(s)?;
        if salt.is_empty() {
            return Err(SaslError::MalformedServerMessage);
        }
        // Digits only: `parse_radix` refuses an empty string and any other byte.
        let iterations =
            crate::xmpp::xml::parse_radix(i, 10).ok_or(SaslError::BadIterationCount)?;
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
            return Err(SaslError::BadIterationCount);
        }
        self.combined_nonce = String::from(r);
        self.server_first = String::from(server_first);
        self.salt.clone_from(&salt);
        self.iterations = iterations;
        self.step = Step::AwaitKey;
        Ok(KeyRequest {
            hash: self.hash,
            password: self.password.clone(),
            salt,
            iterations,
        })
    }

    /// The raw client-final message from the SaltedPassword that [`ScramClient::key_request`]
    /// asked for.
    ///
    /// # Errors
    /// [`SaslError::UnexpectedMessage`] out of step; [`SaslError::BadCredentials`] for a key of
    /// the wrong length.
    pub fn client_final(&mut self, salted: &[u8]) -> Result<String, SaslError> {
        if self.step != Step::AwaitKey {
            return Err(SaslError::UnexpectedMessage);
        }
        self.step = Step::Done;
        let h = self.hash;
        let want = match h {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
        };
        if salted.len() != want {
            return Err(SaslError::BadCredentials);
        }
        let client_key = h.hmac(salted, b"Client Key");
        let stored_key = h.digest(&client_key);
        let mut without_proof = String::from("c=biws,r=");
        without_proof.push_str(&self.combined_nonce);
        let mut auth = String::with_capacity(
            self.client_first_bare.len() + self.server_first.len() + without_proof.len() + 2,
        );
        auth.push_str(&self.client_first_bare);
        auth.push(',');
        auth.push_str(&self.server_first);
        auth.push(',');
        auth.push_str(&without_proof);
        let client_sig = h.hmac(&stored_key, auth.as_bytes());
        let mut proof = client_key;
        for (a, b) in proof.iter_mut().zip(&client_sig) {
            *a ^= b;
        }
        let server_key = h.hmac(salted, b"Server Key");
        self.server_signature = h.hmac(&server_key, auth.as_bytes());
        self.step = Step::AwaitServerFinal;
        let mut out = without_proof;
        out.push_str(",p=");
        out.push_str(&base64_encode(&proof));
        Ok(out)
    }

    /// Whether the exchange waits for [`ScramClient::client_final`].
    #[must_use]
    pub fn awaiting_key(&self) -> bool {
        self.step == Step::AwaitKey
    }

    /// Verifies the raw server-final message (`v=…` or `e=…`).
    ///
    /// # Errors
    /// [`SaslError::ServerError`] for `e=`, [`SaslError::ServerSignatureMismatch`], malformed
    /// or out-of-step messages.
    pub fn handle_server_final(&mut self, server_final: &str) -> Result<(), SaslError> {
        if self.step != Step::AwaitServerFinal {
            return Err(SaslError::UnexpectedMessage);
        }
        self.step = Step::Done;
        let first = split_once(server_final, b',').map_or(server_final, |(f, _)| f);
        if first.starts_with("e=") {
            return Err(SaslError::ServerError);
        }
        let v = first
            .strip_prefix("v=")
            .ok_or(SaslError::MalformedServerMessage)?;
        let sig = base64_decode(v)?;
        if constant_time_eq(&sig, &self.server_signature) && !sig.is_empty() {
            self.verified = true;
            self.password.clear();
            Ok(())
        } else {
            Err(SaslError::ServerSignatureMismatch)
        }
    }

    /// Whether the server signature has been verified.
    #[must_use]
    pub fn verified(&self) -> bool {
        self.verified
    }

    /// Whether the exchange waits for the server-final message.
    #[must_use]
    pub fn awaiting_final(&self) -> bool {
        self.step == Step::AwaitServerFinal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5802_sha1() {
        let mut c =
            ScramClient::new(Hash::Sha1, "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL").unwrap();
        assert_eq!(c.client_first(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
        let fin = c
            .handle_server_first(
                "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
            )
            .unwrap();
        assert_eq!(
            fin,
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
        );
        assert!(!c.verified());
        c.handle_server_final("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")
            .unwrap();
        assert!(c.verified());
    }

    #[test]
    fn rfc7677_sha256() {
        let mut c =
            ScramClient::new(Hash::Sha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO").unwrap();
        assert_eq!(c.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let fin = c
            .handle_server_first(
                "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            )
            .unwrap();
        assert_eq!(
            fin,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        c.handle_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
        assert!(c.verified());
    }

    fn started() -> ScramClient {
        let mut c = ScramClient::new(Hash::Sha1, "user", "pencil", "abc").unwrap();
        let _ = c.client_first();
        c
    }

    #[test]
    fn refusals() {
        let sf = |s: &str| started().handle_server_first(s).unwrap_err();
        assert_eq!(
            sf("r=xyzdef,s=QSXCR+Q6sek8bf92,i=4096"),
            SaslError::NonceMismatch
        );
        assert_eq!(
            sf("r=abc,s=QSXCR+Q6sek8bf92,i=4096"),
            SaslError::NonceMismatch
        );
        assert_eq!(
            sf("r=abcd,s=QSXCR+Q6sek8bf92,i=4095"),
            SaslError::BadIterationCount
        );
        assert_eq!(
            sf("r=abcd,s=QSXCR+Q6sek8bf92,i=1000001"),
            SaslError::BadIterationCount
        );
        assert_eq!(
            sf("r=abcd,s=QSXCR+Q6sek8bf92,i=-1"),
            SaslError::BadIterationCount
        );
        assert_eq!(
            sf("r=abcd,s=QSXCR+Q6sek8bf92,i=99999999999"),
            SaslError::BadIterationCount
        );
        assert_eq!(
            sf("m=x,r=abcd,s=QSXCR+Q6sek8bf92,i=4096"),
            SaslError::UnsupportedExtension
        );
        assert_eq!(sf("r=abcd,s=!!,i=4096"), SaslError::BadBase64);
        assert_eq!(sf("r=abcd,i=4096"), SaslError::MalformedServerMessage);
        assert_eq!(sf(""), SaslError::MalformedServerMessage);
        let mut c = started();
        c.handle_server_first("r=abcd,s=QSXCR+Q6sek8bf92,i=4096")
            .unwrap();
        assert_eq!(
            c.clone()
                .handle_server_final("e=invalid-proof")
                .unwrap_err(),
            SaslError::ServerError
        );
        assert_eq!(
            c.clone().handle_server_final("v=AAAA").unwrap_err(),
            SaslError::ServerSignatureMismatch
        );
        assert_eq!(
            c.handle_server_final("x").unwrap_err(),
            SaslError::MalformedServerMessage
        );
        assert!(!c.verified());
        assert!(ScramClient::new(Hash::Sha1, "", "p", "n").is_err());
        assert_eq!(escape_username("a=b,c"), "a=3Db=2Cc");
    }

    #[test]
    fn nonce_derivation() {
        let a = derive_nonce(&[7; 32], 0);
        assert_eq!(a.len(), 32);
        assert_ne!(a, derive_nonce(&[7; 32], 1));
        assert!(nonce_ok(&a));
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn hmac_and_pbkdf2_vectors() {
        // RFC 4231 test case 2 and 6 (key longer than a block), RFC 2202 test case 6.
        assert_eq!(
            hex(&Hash::Sha256.hmac(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let data = b"Test Using Larger Than Block-Size Key - Hash Key First";
        assert_eq!(
            hex(&Hash::Sha256.hmac(&[0xaa; 131], data)),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert_eq!(
            hex(&Hash::Sha1.hmac(&[0xaa; 80], data)),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112"
        );
        assert_eq!(hex(&Hash::Sha1.hmac(&[0x0b; 64], b"x")).len(), 40);
        // RFC 6070 (PBKDF2-HMAC-SHA1), c = 4096.
        assert_eq!(
            hex(&Hash::Sha1.pbkdf2(b"password", b"salt", 4096)),
            "4b007901b765489abead49d926f721d065a429c1"
        );
        assert_eq!(
            hex(&Hash::Sha1.pbkdf2(b"password", b"salt", 1)),
            "0c60c80f961f0e71f3a9b524af6012062fe037a6"
        );
        assert_eq!(
            hex(&Hash::Sha256.digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
