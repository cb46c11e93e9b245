//! SASL PLAIN (RFC 4616) and ANONYMOUS (RFC 4505) initial responses.
//!
//! PLAIN sends the password in the clear (inside the TLS of `wss:`); whether it may be used is
//! decided by the session from `transport_secure` / `allow_plain_insecure`, not here.

use super::{base64_encode, credential_ok, SaslError};

/// The base64 initial response `\0username\0password` (empty authorisation identity).
///
/// # Errors
/// [`SaslError::BadCredentials`] if a part is empty or contains control characters (NUL
/// would split the message).
pub fn initial_response(username: &str, password: &str) -> Result<String, SaslError> {
    if !credential_ok(username) || !credential_ok(password) {
        return Err(SaslError::BadCredentials);
    }
    let mut raw = Vec::with_capacity(username.len() + password.len() + 2);
    raw.push(0);
    raw.extend_from_slice(username.as_bytes());
    raw.push(0);
    raw.extend_from_slice(password.as_bytes());
    Ok(base64_encode(&raw))
}

/// The ANONYMOUS initial response: empty (sent as `=`, RFC 6120 §6.4.2).
#[must_use]
pub fn anonymous_response() -> &'static str {
    "="
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_rfc4616() {
        // "\0tim\0tanstaaftanstaaf"
        assert_eq!(
            initial_response("tim", "tanstaaftanstaaf").unwrap(),
            "AHRpbQB0YW5zdGFhZnRhbnN0YWFm"
        );
        assert!(initial_response("", "x").is_err());
        assert!(initial_response("a\0b", "x").is_err());
    }
}
