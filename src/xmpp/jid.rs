//! JIDs (RFC 7622 `local@domain/resource`): parsing, the bare form and comparison.
//!
//! This is a structural check only: it splits the address, refuses empty parts, parts longer
//! than 1023 bytes, characters XMPP never allows in a localpart (`"&'/:<>@` and spaces,
//! RFC 7622 §3.3.1) and control characters. Full PRECIS/stringprep normalisation is left to
//! the server; comparison lowercases ASCII in the localpart and domain only.

/// A parsed JID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jid {
    /// The localpart (`user` in `user@example.com`).
    pub local: Option<String>,
    /// The domainpart.
    pub domain: String,
    /// The resourcepart.
    pub resource: Option<String>,
}

use super::xml::split_once;

const MAX_PART: usize = 1023;

fn part_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_PART && !s.chars().any(char::is_control)
}

/// Whether `s` holds `@` or whitespace, or in a localpart any of `"&'/:<>` (one loop for
/// both parts: two `contains` with closures were two char searchers in the wasm).
fn forbidden(s: &str, local: bool) -> bool {
    for c in s.chars() {
        if c == '@'
            || c.is_whitespace()
            || (local && matches!(c, '"' | '&' | '\'' | '/' | ':' | '<' | '>'))
        {
            return true;
        }
    }
    false
}

impl Jid {
    /// Parses `s`; `None` when it is not a structurally valid JID.
    #[must_use]
    pub fn parse(s: &str) -> Option<Jid> {
        let (before_res, resource) = match split_once(s, b'/') {
            Some((a, r)) => (a, Some(r)),
            None => (s, None),
        };
        let (local, domain) = match split_once(before_res, b'@') {
            Some((l, d)) => (Some(l), d),
            None => (None, before_res),
        };
        // One final dot is stripped (RFC 7622 §3.2); a second one is an empty label, refused
        // (else the stripped form would parse to yet another domain).
        let domain = domain.strip_suffix('.').unwrap_or(domain);
        if !part_ok(domain) || domain.ends_with('.') || forbidden(domain, false) {
            return None;
        }
        if let Some(l) = local {
            if !part_ok(l) || forbidden(l, true) {
                return None;
            }
        }
        if let Some(r) = resource {
            if !part_ok(r) {
                return None;
            }
        }
        Some(Jid {
            local: local.map(String::from),
            domain: String::from(domain),
            resource: resource.map(String::from),
        })
    }

    /// `local@domain` (or `domain`).
    #[must_use]
    pub fn bare(&self) -> String {
        let mut s = String::new();
        if let Some(l) = &self.local {
            s.push_str(l);
            s.push('@');
        }
        s.push_str(&self.domain);
        s
    }

    /// The full form.
    #[must_use]
    pub fn full(&self) -> String {
        let mut s = self.bare();
        if let Some(r) = &self.resource {
            s.push('/');
            s.push_str(r);
        }
        s
    }

    /// Whether `self` and `other` have the same bare JID (ASCII case-insensitive).
    #[must_use]
    pub fn same_bare(&self, other: &Jid) -> bool {
        self.domain.eq_ignore_ascii_case(&other.domain)
            && match (&self.local, &other.local) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
    }

    /// Whether the two are the same full JID (resource compared exactly).
    #[must_use]
    pub fn same_full(&self, other: &Jid) -> bool {
        self.same_bare(other) && self.resource == other.resource
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        let j = Jid::parse("Alice@Example.com/phone/x").unwrap();
        assert_eq!(j.local.as_deref(), Some("Alice"));
        assert_eq!(j.domain, "Example.com");
        assert_eq!(j.resource.as_deref(), Some("phone/x"));
        assert_eq!(j.bare(), "Alice@Example.com");
        assert_eq!(j.full(), "Alice@Example.com/phone/x");
        assert!(j.same_bare(&Jid::parse("alice@example.com").unwrap()));
        assert!(!j.same_bare(&Jid::parse("example.com").unwrap()));
        assert_eq!(Jid::parse("example.com").unwrap().local, None);
        for bad in ["", "@a", "a@", "a/", "a b@c", "a@b@c", "a<b@c", "x@\u{1}"] {
            assert!(Jid::parse(bad).is_none(), "{bad}");
        }
    }
}
