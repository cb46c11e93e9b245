//! The protocol cores' only notion of time: a monotonic instant in milliseconds.
//!
//! The cores never read a clock. The browser layer passes `performance.now()` (rounded down)
//! into every call that may start or expire a timer, and tests pass a fake clock. Deadlines
//! that a core hands out (`poll_timeout`) are in the same unit.

use core::ops::{Add, Sub};

/// A monotonic instant, in whole milliseconds since an arbitrary origin chosen by the caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub u64);

impl Millis {
    /// The origin.
    pub const ZERO: Millis = Millis(0);

    /// Milliseconds since `earlier`, or zero if `earlier` is later than `self`.
    #[must_use]
    pub fn since(self, earlier: Millis) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<u64> for Millis {
    type Output = Millis;
    fn add(self, ms: u64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }
}

impl Sub<u64> for Millis {
    type Output = Millis;
    fn sub(self, ms: u64) -> Millis {
        Millis(self.0.saturating_sub(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Millis(5) + u64::MAX, Millis(u64::MAX));
        assert_eq!(Millis(5) - 10, Millis(0));
        assert_eq!(Millis(5).since(Millis(10)), 0);
        assert_eq!(Millis(15).since(Millis(10)), 5);
    }
}
