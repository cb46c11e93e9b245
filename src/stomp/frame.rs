//! The STOMP frame model: protocol [`Version`], [`Command`], the borrowed [`Frame`] and the
//! allocation-free [`FrameRef`] view the decoders hand out, and header escaping/unescaping per
//! version (1.2: `\\ \n \c \r`; 1.1: no `\r`; 1.0 and CONNECT/CONNECTED: none), also in
//! place. It owns no I/O and no buffering; the codec drives it.

use std::borrow::Cow;

use super::codec::{find_byte, Error};

/// A STOMP protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// STOMP 1.0: no header escaping, no NACK, no heart-beats.
    V1_0,
    /// STOMP 1.1: escaping of `\\`, LF and `:`.
    V1_1,
    /// STOMP 1.2: 1.1 plus `\r`, `ack` header on MESSAGE.
    V1_2,
}

impl Version {
    /// All versions, newest first.
    pub const ALL: [Version; 3] = [Version::V1_2, Version::V1_1, Version::V1_0];

    /// The wire form used in `accept-version` and `version` headers.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1_0 => "1.0",
            Version::V1_1 => "1.1",
            Version::V1_2 => "1.2",
        }
    }

    /// The WebSocket subprotocol name (`v12.stomp`, …).
    #[must_use]
    pub fn subprotocol(self) -> &'static str {
        match self {
            Version::V1_0 => "v10.stomp",
            Version::V1_1 => "v11.stomp",
            Version::V1_2 => "v12.stomp",
        }
    }

    /// Parses `1.0`, `1.1` or `1.2` (exact bytes).
    #[must_use]
    pub fn parse(s: &[u8]) -> Option<Version> {
        match s {
            b"1.0" => Some(Version::V1_0),
            b"1.1" => Some(Version::V1_1),
            b"1.2" => Some(Version::V1_2),
            _ => None,
        }
    }
}

/// A STOMP command (client and server frames).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// Client: open a session.
    Connect,
    /// Client: 1.2 alias of CONNECT.
    Stomp,
    /// Client: publish.
    Send,
    /// Client: subscribe.
    Subscribe,
    /// Client: unsubscribe.
    Unsubscribe,
    /// Client: acknowledge.
    Ack,
    /// Client: negative acknowledge (1.1+).
    Nack,
    /// Client: begin transaction.
    Begin,
    /// Client: commit transaction.
    Commit,
    /// Client: abort transaction.
    Abort,
    /// Client: close the session.
    Disconnect,
    /// Server: session opened.
    Connected,
    /// Server: a message for a subscription.
    Message,
    /// Server: receipt for a client frame.
    Receipt,
    /// Server: error; the server closes afterwards.
    Error,
}

impl Command {
    /// The command line bytes.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Connect => "CONNECT",
            Command::Stomp => "STOMP",
            Command::Send => "SEND",
            Command::Subscribe => "SUBSCRIBE",
            Command::Unsubscribe => "UNSUBSCRIBE",
            Command::Ack => "ACK",
            Command::Nack => "NACK",
            Command::Begin => "BEGIN",
            Command::Commit => "COMMIT",
            Command::Abort => "ABORT",
            Command::Disconnect => "DISCONNECT",
            Command::Connected => "CONNECTED",
            Command::Message => "MESSAGE",
            Command::Receipt => "RECEIPT",
            Command::Error => "ERROR",
        }
    }

    /// Every command, server frames first (the decoder looks them up in this order).
    pub const ALL: [Command; 15] = [
        Command::Message,
        Command::Receipt,
        Command::Connected,
        Command::Error,
        Command::Connect,
        Command::Stomp,
        Command::Send,
        Command::Subscribe,
        Command::Unsubscribe,
        Command::Ack,
        Command::Nack,
        Command::Begin,
        Command::Commit,
        Command::Abort,
        Command::Disconnect,
    ];

    /// Parses a command line (without its EOL). Case-sensitive, as the spec says.
    #[must_use]
    pub fn parse(s: &[u8]) -> Option<Command> {
        // A table walk: far less code than a `match` on byte strings.
        Command::ALL
            .into_iter()
            .find(|c| c.as_str().as_bytes() == s)
    }

    /// Whether header escaping applies to this command (never on CONNECT/STOMP/CONNECTED).
    #[must_use]
    pub fn escapes(self) -> bool {
        !matches!(self, Command::Connect | Command::Stomp | Command::Connected)
    }
}

/// One header: name and value, borrowed from the input unless unescaping changed them.
pub type Header<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

/// A decoded frame borrowing the decoder's input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The command.
    pub command: Command,
    /// All headers in wire order, repeated ones included.
    pub headers: Vec<Header<'a>>,
    /// The body (without the terminating NUL).
    pub body: &'a [u8],
}

impl Frame<'_> {
    /// The first value of header `name` (STOMP: the first occurrence wins).
    #[must_use]
    pub fn header(&self, name: &[u8]) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.as_ref() == name)
            .map(|(_, v)| v.as_ref())
    }
}

/// Where one header sits in a frame's bytes: name and value as `(start, end)` offsets from the
/// frame's first byte, after unescaping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) name: (usize, usize),
    pub(crate) value: (usize, usize),
}

/// Whether `a` and `b` hold the same bytes, compared eight at a time (`==` on slices calls
/// `memcmp`, which in wasm is a loop over single bytes).
#[must_use]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a, mut b) = (a, b);
    while let (Some((x, ra)), Some((y, rb))) =
        (a.split_first_chunk::<8>(), b.split_first_chunk::<8>())
    {
        if u64::from_ne_bytes(*x) != u64::from_ne_bytes(*y) {
            return false;
        }
        (a, b) = (ra, rb);
    }
    a.iter().zip(b).all(|(p, q)| p == q)
}

fn span_bytes(bytes: &[u8], (start, end): (usize, usize)) -> &[u8] {
    bytes.get(start..end).unwrap_or_default()
}

/// A decoded frame as the [`Decoder`](super::Decoder) holds it: the headers were unescaped in
/// place in its buffer and the body is borrowed from it, so handing it out allocates nothing.
/// [`FrameRef::to_frame`] turns it into a [`Frame`] (one `Vec` for the headers).
#[derive(Clone, Copy, Debug)]
pub struct FrameRef<'a> {
    pub(crate) command: Command,
    /// Stream offset of the frame's first byte: bytes pushed into the decoder before it.
    pub(crate) offset: u64,
    /// The frame's bytes, from its command to its NUL.
    pub(crate) bytes: &'a [u8],
    pub(crate) spans: &'a [Span],
    pub(crate) body: (usize, usize),
}

impl<'a> FrameRef<'a> {
    /// The command.
    #[must_use]
    pub fn command(&self) -> Command {
        self.command
    }

    /// The body (without the terminating NUL).
    #[must_use]
    pub fn body(&self) -> &'a [u8] {
        span_bytes(self.bytes, self.body)
    }

    /// Where the frame starts in the decoder's input stream: how many bytes were pushed
    /// before its first byte (heart-beats and earlier frames included).
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Where the body starts in the decoder's input stream (see [`FrameRef::offset`]): a
    /// caller that still holds the bytes it pushed can take the body from its own copy.
    #[must_use]
    pub fn body_offset(&self) -> u64 {
        self.offset
            .saturating_add(u64::try_from(self.body.0).unwrap_or(u64::MAX))
    }

    /// All headers in wire order (repeated ones included), unescaped.
    #[must_use]
    pub fn headers(&self) -> HeaderIter<'a> {
        HeaderIter {
            bytes: self.bytes,
            spans: self.spans.iter(),
        }
    }

    /// The first value of header `name` (STOMP: the first occurrence wins).
    #[must_use]
    pub fn header(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.headers()
            .find(|(n, _)| same_bytes(n, name))
            .map(|(_, v)| v)
    }

    /// The same frame as a [`Frame`] (its headers borrowed from the decoder's buffer).
    #[must_use]
    pub fn to_frame(&self) -> Frame<'a> {
        Frame {
            command: self.command,
            headers: self
                .headers()
                .map(|(n, v)| (Cow::Borrowed(n), Cow::Borrowed(v)))
                .collect(),
            body: self.body(),
        }
    }
}

/// The headers of a [`FrameRef`], as `(name, value)` byte slices in wire order.
#[derive(Clone, Debug)]
pub struct HeaderIter<'a> {
    bytes: &'a [u8],
    spans: core::slice::Iter<'a, Span>,
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let s = self.spans.next()?;
        Some((
            span_bytes(self.bytes, s.name),
            span_bytes(self.bytes, s.value),
        ))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.spans.size_hint()
    }
}

impl ExactSizeIterator for HeaderIter<'_> {}

/// The escaping rules in force for a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Escaping {
    /// 1.0, or CONNECT/CONNECTED: bytes as they are.
    None,
    /// 1.1: `\\`, `\n`, `\c`.
    V11,
    /// 1.2: 1.1 plus `\r`.
    V12,
}

impl Escaping {
    pub(crate) fn for_frame(version: Version, command: Command) -> Escaping {
        if !command.escapes() {
            return Escaping::None;
        }
        match version {
            Version::V1_0 => Escaping::None,
            Version::V1_1 => Escaping::V11,
            Version::V1_2 => Escaping::V12,
        }
    }
}

/// Unescapes a header name or value in one left-to-right pass. `offset` is the position of
/// `raw` in the frame, for error reports. Borrows when there is nothing to unescape.
pub(crate) fn unescape(raw: &[u8], esc: Escaping, offset: usize) -> Result<Cow<'_, [u8]>, Error> {
    if esc == Escaping::None || find_byte(raw, b'\\').is_none() {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = raw.to_vec();
    let len = unescape_in_place(&mut out, esc, offset)?;
    out.truncate(len);
    Ok(Cow::Owned(out))
}

/// Unescapes `s` in place (the result is never longer) and returns the new length; the bytes
/// after it are left over. `offset` is the position of `s` in the frame, for error reports.
pub(crate) fn unescape_in_place(
    s: &mut [u8],
    esc: Escaping,
    offset: usize,
) -> Result<usize, Error> {
    if esc == Escaping::None {
        return Ok(s.len());
    }
    // Nothing to do up to the first backslash.
    let Some(first) = s.iter().position(|&b| b == b'\\') else {
        return Ok(s.len());
    };
    let (mut r, mut w) = (first, first);
    while let Some(&b) = s.get(r) {
        let decoded = if b == b'\\' {
            let d = match s.get(r.saturating_add(1)) {
                Some(b'\\') => b'\\',
                Some(b'n') => b'\n',
                Some(b'c') => b':',
                Some(b'r') if esc == Escaping::V12 => b'\r',
                _ => {
                    return Err(Error::InvalidEscape {
                        offset: offset.saturating_add(r),
                    })
                }
            };
            r = r.saturating_add(2);
            d
        } else {
            r = r.saturating_add(1);
            b
        };
        if let Some(slot) = s.get_mut(w) {
            *slot = decoded;
        }
        w = w.saturating_add(1);
    }
    Ok(w)
}

/// Appends `raw` escaped per `esc`. Fails (appending nothing useful) when the bytes cannot be
/// represented: an LF (or `:` in a name) without escaping, a value ending in CR unless 1.2
/// escapes it (it would read as CRLF), or an empty name.
pub(crate) fn escape_into(
    raw: &[u8],
    esc: Escaping,
    is_name: bool,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    // An empty name, or a value ending in CR unless 1.2 escapes it (it would read as CRLF).
    if (is_name && raw.is_empty())
        || (esc != Escaping::V12 && !is_name && raw.last() == Some(&b'\r'))
    {
        return Err(Error::Unencodable);
    }
    let mut start = 0;
    for (i, &b) in raw.iter().enumerate() {
        let rep: &[u8] = match (b, esc) {
            (b'\n', Escaping::None) => return Err(Error::Unencodable),
            (b':', Escaping::None) if is_name => return Err(Error::Unencodable),
            (_, Escaping::None) => continue,
            (b'\\', _) => b"\\\\",
            (b'\n', _) => b"\\n",
            (b':', _) => b"\\c",
            (b'\r', Escaping::V12) => b"\\r",
            _ => continue,
        };
        out.extend_from_slice(raw.get(start..i).unwrap_or_default());
        out.extend_from_slice(rep);
        start = i.saturating_add(1);
    }
    out.extend_from_slice(raw.get(start..).unwrap_or_default());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(raw: &[u8], e: Escaping, name: bool) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        escape_into(raw, e, name, &mut out).map(|()| out)
    }

    #[test]
    fn escape_matches_its_rules_on_every_short_input() {
        let alphabet = [b'a', b'\n', b':', b'\r', b'\\'];
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
        for len in 1..=4u32 {
            for mut n in 0..5usize.pow(len) {
                let mut v = Vec::new();
                for _ in 0..len {
                    v.push(alphabet[n % 5]);
                    n /= 5;
                }
                inputs.push(v);
            }
        }
        for raw in &inputs {
            for e in [Escaping::None, Escaping::V11, Escaping::V12] {
                for name in [false, true] {
                    let err = (name && raw.is_empty())
                        || (e == Escaping::None
                            && (raw.contains(&b'\n') || (name && raw.contains(&b':'))))
                        || (!name && e != Escaping::V12 && raw.last() == Some(&b'\r'));
                    match esc(raw, e, name) {
                        Err(got) => {
                            assert!(err, "{raw:?} {e:?} {name}");
                            assert_eq!(got, Error::Unencodable);
                        }
                        Ok(mut out) => {
                            assert!(!err, "{raw:?} {e:?} {name}");
                            let len = unescape_in_place(&mut out, e, 0).unwrap();
                            assert_eq!(&out[..len], &raw[..], "{e:?} {name}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn same_bytes_is_slice_equality() {
        let long = b"0123456789abcdefXYZ";
        for (a, b) in [
            (&b""[..], &b""[..]),
            (b"a", b"a"),
            (b"a", b"b"),
            (b"ab", b"a"),
            (&long[..], &long[..]),
            (&long[..16], &long[..16]),
            (&long[..], b"0123456789abcdefXYz"),
            (&long[..], b"0123456789abcdeFXYZ"),
            (&long[..8], b"01234568"),
        ] {
            assert_eq!(same_bytes(a, b), a == b, "{a:?} {b:?}");
        }
    }

    #[test]
    fn unescape_is_single_pass() {
        // `\\n` is a backslash followed by `n`, not a backslash and LF.
        let v = unescape(br"a\\nb", Escaping::V12, 0).unwrap();
        assert_eq!(v.as_ref(), b"a\\nb");
        let v = unescape(br"\c\n\r\\", Escaping::V12, 0).unwrap();
        assert_eq!(v.as_ref(), b":\n\r\\");
    }

    #[test]
    fn unescape_rejects_unknown_and_trailing() {
        assert_eq!(
            unescape(br"ab\t", Escaping::V12, 10),
            Err(Error::InvalidEscape { offset: 12 })
        );
        assert_eq!(
            unescape(br"ab\", Escaping::V12, 0),
            Err(Error::InvalidEscape { offset: 2 })
        );
        // 1.1 has no \r escape.
        assert_eq!(
            unescape(br"\r", Escaping::V11, 0),
            Err(Error::InvalidEscape { offset: 0 })
        );
        // 1.0: backslashes are plain bytes.
        assert_eq!(
            unescape(br"\t", Escaping::None, 0).unwrap().as_ref(),
            br"\t"
        );
    }

    #[test]
    fn unescape_borrows_when_clean() {
        assert!(matches!(
            unescape(b"plain", Escaping::V12, 0).unwrap(),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn escape_per_version() {
        assert_eq!(
            esc(b"a:b\n\\\r", Escaping::V12, false).unwrap(),
            br"a\cb\n\\\r"
        );
        assert_eq!(esc(b"a:\rb", Escaping::V11, false).unwrap(), b"a\\c\rb");
        assert_eq!(esc(b"a\r", Escaping::V11, false), Err(Error::Unencodable));
        assert_eq!(esc(b"a\n", Escaping::None, false), Err(Error::Unencodable));
        assert_eq!(esc(b"a:b", Escaping::None, false).unwrap(), b"a:b");
        assert_eq!(esc(b"a:b", Escaping::None, true), Err(Error::Unencodable));
        assert_eq!(esc(b"", Escaping::V12, true), Err(Error::Unencodable));
    }

    #[test]
    fn escaping_per_command() {
        assert_eq!(
            Escaping::for_frame(Version::V1_2, Command::Connected),
            Escaping::None
        );
        assert_eq!(
            Escaping::for_frame(Version::V1_2, Command::Message),
            Escaping::V12
        );
        assert_eq!(
            Escaping::for_frame(Version::V1_1, Command::Send),
            Escaping::V11
        );
        assert_eq!(
            Escaping::for_frame(Version::V1_0, Command::Send),
            Escaping::None
        );
    }

    #[test]
    fn names_round_trip() {
        for c in Command::ALL {
            assert_eq!(Command::parse(c.as_str().as_bytes()), Some(c));
        }
        assert_eq!(Command::parse(b""), None);
        assert_eq!(Command::parse(b"MESSAGEX"), None);
        assert_eq!(Command::parse(b"MESSAG"), None);
        for v in Version::ALL {
            assert_eq!(Version::parse(v.as_str().as_bytes()), Some(v));
        }
        assert_eq!(Command::parse(b"send"), None);
    }
}
