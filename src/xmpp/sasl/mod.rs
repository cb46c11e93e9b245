//! SASL for XMPP (RFC 6120 §6): mechanism names, selection by preference, base64, and the
//! client steps of PLAIN ([`plain`]) and SCRAM-SHA-1/-256 ([`scram`], over the small SHA-1 and
//! SHA-256 of [`sha`], also used for stanza ids and entity-capability hashes).
//!
//! Selection picks the first mechanism of the caller's preference list that the server offers
//! and that the situation allows (credentials present; PLAIN only over a secure transport
//! unless explicitly allowed). Unknown offers (DIGEST-MD5, X-OAUTH2, SCRAM-SHA-512…) are
//! ignored. Nothing here does I/O; the session sends the strings these steps produce.

pub mod plain;
pub mod scram;
pub mod sha;

/// A SASL mechanism this client implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// SCRAM-SHA-256 (RFC 7677), no channel binding.
    ScramSha256,
    /// SCRAM-SHA-1 (RFC 5802), no channel binding.
    ScramSha1,
    /// PLAIN (RFC 4616).
    Plain,
    /// ANONYMOUS (RFC 4505).
    Anonymous,
}

impl Mechanism {
    /// The default preference: strongest first.
    pub const DEFAULT_PREFERENCE: [Mechanism; 4] = [
        Mechanism::ScramSha256,
        Mechanism::ScramSha1,
        Mechanism::Plain,
        Mechanism::Anonymous,
    ];

    /// The IANA name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha1 => "SCRAM-SHA-1",
            Mechanism::Plain => "PLAIN",
            Mechanism::Anonymous => "ANONYMOUS",
        }
    }

    /// Parses an IANA name (exact, upper case as the registry spells it).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Mechanism> {
        for m in &Mechanism::DEFAULT_PREFERENCE {
            if m.name() == name.trim_ascii() {
                return Some(*m);
            }
        }
        None
    }
}

/// A SASL failure on the client side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaslError {
    /// Server data is not valid base64.
    BadBase64,
    /// A server SCRAM message is malformed.
    MalformedServerMessage,
    /// The server nonce does not start with the client nonce.
    NonceMismatch,
    /// The iteration count is outside the accepted range.
    BadIterationCount,
    /// The server signature (`v=`) does not match: the server does not know the password.
    ServerSignatureMismatch,
    /// The server sent `e=` in its final message.
    ServerError,
    /// The server asks for a mandatory extension (`m=`) we do not support.
    UnsupportedExtension,
    /// The username or password is empty or contains characters refused (controls).
    BadCredentials,
    /// A message arrived in the wrong step.
    UnexpectedMessage,
}

impl SaslError {
    /// A short static description.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SaslError::BadBase64 => "SASL: invalid base64 from server",
            SaslError::MalformedServerMessage => "SCRAM: malformed server message",
            SaslError::NonceMismatch => "SCRAM: server nonce does not extend client nonce",
            SaslError::BadIterationCount => "SCRAM: iteration count out of range",
            SaslError::ServerSignatureMismatch => "SCRAM: server signature mismatch",
            SaslError::ServerError => "SCRAM: server reported an error (e=)",
            SaslError::UnsupportedExtension => "SCRAM: unsupported mandatory extension",
            SaslError::BadCredentials => "SASL: empty or invalid username or password",
            SaslError::UnexpectedMessage => "SASL: unexpected message",
        }
    }
}

/// Picks the mechanism to use: the first of `preference` that is in `offered` and allowed.
/// `have_credentials` false leaves only ANONYMOUS; `plain_ok` false removes PLAIN;
/// `anonymous` false removes ANONYMOUS (when logging in with a password).
#[must_use]
pub fn select<'a>(
    offered: impl Iterator<Item = &'a str> + Clone,
    preference: &[Mechanism],
    have_credentials: bool,
    plain_ok: bool,
) -> Option<Mechanism> {
    // Plain loops: the `find`/`any` adapters this replaces were two more generics in the wasm.
    for &m in preference {
        let allowed = match m {
            Mechanism::Anonymous => !have_credentials,
            Mechanism::Plain => have_credentials && plain_ok,
            Mechanism::ScramSha1 | Mechanism::ScramSha256 => have_credentials,
        };
        if allowed {
            for o in offered.clone() {
                if o.trim_ascii() == m.name() {
                    return Some(m);
                }
            }
        }
    }
    None
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64_char(i: u32) -> char {
    B64.get(usize::try_from(i & 63).unwrap_or(0))
        .map_or('A', |b| char::from(*b))
}

/// Standard base64 with padding (RFC 4648 §4), appended to `out`.
pub fn base64_encode_into(out: &mut String, data: &[u8]) {
    for chunk in data.chunks(3) {
        let b0 = u32::from(chunk.first().copied().unwrap_or(0));
        let b1 = u32::from(chunk.get(1).copied().unwrap_or(0));
        let b2 = u32::from(chunk.get(2).copied().unwrap_or(0));
        let n = (b0 << 16) | (b1 << 8) | b2;
        out.push(b64_char(n >> 18));
        out.push(b64_char(n >> 12));
        out.push(if chunk.len() > 1 {
            b64_char(n >> 6)
        } else {
            '='
        });
        out.push(if chunk.len() > 2 { b64_char(n) } else { '=' });
    }
}

/// Standard base64 with padding.
#[must_use]
pub fn base64_encode(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len().div_ceil(3).saturating_mul(4));
    base64_encode_into(&mut s, data);
    s
}

fn b64_val(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Strict standard base64 decoding (padding required, XML whitespace ignored; a lone `=`
/// decodes to nothing, as RFC 6120 §6.4.2 uses it for empty data).
///
/// # Errors
/// [`SaslError::BadBase64`] on any other character, bad padding or bad length.
pub fn base64_decode(s: &str) -> Result<Vec<u8>, SaslError> {
    let mut clean = Vec::with_capacity(s.len());
    for b in s.bytes() {
        if !matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            clean.push(b);
        }
    }
    if clean == b"=" {
        return Ok(Vec::new());
    }
    if clean.len() % 4 != 0 {
        return Err(SaslError::BadBase64);
    }
    let mut out = Vec::with_capacity(clean.len() / 4 * 3);
    let groups = clean.len() / 4;
    for (gi, g) in clean.chunks(4).enumerate() {
        let last = gi + 1 == groups;
        let mut n: u32 = 0;
        let mut pad = 0usize;
        for (i, &c) in g.iter().enumerate() {
            if c == b'=' {
                // Padding only in the last group, only in the last two places, contiguous.
                if !last || i < 2 {
                    return Err(SaslError::BadBase64);
                }
                pad += 1;
                n <<= 6;
            } else {
                if pad > 0 {
                    return Err(SaslError::BadBase64);
                }
                n = (n << 6) | b64_val(c).ok_or(SaslError::BadBase64)?;
            }
        }
        let bytes = n.to_be_bytes();
        let take = 3 - pad;
        // Non-canonical trailing bits are refused.
        let tail_mask: u32 = match pad {
            1 => 0xff,
            2 => 0xffff,
            _ => 0,
        };
        if n & tail_mask != 0 {
            return Err(SaslError::BadBase64);
        }
        out.extend_from_slice(bytes.get(1..=take).unwrap_or(&[]));
    }
    Ok(out)
}

/// Checks a username or password: non-empty, no control characters (the subset of SASLprep,
/// RFC 4013, that can be enforced without Unicode tables; NFKC mapping is not applied).
#[must_use]
pub fn credential_ok(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_vectors() {
        let v: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
        ];
        for (raw, enc) in v {
            assert_eq!(base64_encode(raw), enc);
            assert_eq!(base64_decode(enc).unwrap(), raw);
        }
        assert_eq!(base64_decode("=").unwrap(), b"");
        for bad in ["Zg=", "Zg=a", "Z===", "Zh==", "Zm9v!", "=Zm9", "Zg==Zg=="] {
            assert!(base64_decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn selection() {
        let offered = [
            "DIGEST-MD5",
            "PLAIN",
            "SCRAM-SHA-1",
            "X-OAUTH2",
            "ANONYMOUS",
        ];
        let pref = Mechanism::DEFAULT_PREFERENCE;
        let s = |creds, plain| select(offered.iter().copied(), &pref, creds, plain);
        assert_eq!(s(true, true), Some(Mechanism::ScramSha1));
        assert_eq!(s(false, true), Some(Mechanism::Anonymous));
        let only_plain = ["PLAIN"];
        assert_eq!(select(only_plain.iter().copied(), &pref, true, false), None);
        assert_eq!(
            select(only_plain.iter().copied(), &pref, true, true),
            Some(Mechanism::Plain)
        );
        assert_eq!(
            select(offered.iter().copied(), &[Mechanism::Plain], true, true),
            Some(Mechanism::Plain)
        );
        assert_eq!(
            Mechanism::from_name("SCRAM-SHA-256"),
            Some(Mechanism::ScramSha256)
        );
        assert_eq!(Mechanism::from_name("SCRAM-SHA-512"), None);
    }
}
