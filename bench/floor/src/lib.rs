//! Size floor of fullduplex's browser architecture: each cargo feature builds one variant
//! (see README.md and run.sh). No protocol code lives here on purpose.

#[cfg(feature = "bump")]
mod bump;
#[cfg(all(feature = "empty", not(feature = "socket")))]
mod empty;
#[cfg(feature = "raw")]
mod raw;
#[cfg(feature = "socket")]
mod socket;
