//! A password or other secret the session keeps: usable as a `&str` where it is needed (SASL,
//! a room join), shown as `***` by `Debug`, so a `{:?}` of the session, a login in progress or a
//! SCRAM exchange never prints it.

use core::fmt;
use core::ops::Deref;

/// A string whose `Debug` output is `***`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Forgets the secret (the string is emptied; its buffer is not zeroed).
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(String::from(s))
    }
}

impl Deref for Secret {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret_and_deref_shows_it() {
        let mut s = Secret::from("hunter2");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(&*s, "hunter2");
        s.clear();
        assert_eq!(&*s, "");
    }
}
