//! STOMP wire codec: [`decode`] turns bytes into a borrowed [`Frame`] (or a heart-beat EOL, or
//! `Partial` when more bytes are needed); [`Decoder`] decodes a byte stream incrementally (a
//! frame split into any number of pushes costs time linear in its length) and hands frames out
//! as [`FrameRef`]s into its buffer without allocating; [`encode`] appends a frame to a caller
//! buffer. It enforces the [`Limits`] as soon as a breach is detectable and reports every
//! problem as a typed [`Error`] naming the rule and offset. It knows nothing of sessions: the
//! caller says which [`Version`]'s escaping applies.

use super::frame::{
    escape_into, unescape, unescape_in_place, Command, Escaping, Frame, FrameRef, Header, Span,
    Version,
};

/// Size limits for incoming frames. Exceeding any is an [`Error`] as soon as it is detectable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest whole frame (command, headers, body and NUL), in bytes. Default 16 MiB.
    pub max_frame_len: usize,
    /// Most headers in one frame. Default 64.
    pub max_headers: usize,
    /// Longest command or header line, without its EOL. Default 8 KiB.
    pub max_line_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_len: 16 * 1024 * 1024,
            max_headers: 64,
            max_line_len: 8 * 1024,
        }
    }
}

/// Why bytes could not be decoded or a frame encoded, or why a session failed. Offsets count
/// bytes from the start of the frame being decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The command line is not a STOMP command.
    UnknownCommand { offset: usize },
    /// A CR that is not part of a CRLF line end (and, in 1.2 headers, not escaped as `\r`).
    BareCr { offset: usize },
    /// A header line without `:`.
    MissingColon { offset: usize },
    /// A header line starting with `:`.
    EmptyHeaderName { offset: usize },
    /// A `\` escape other than those the version defines, or a trailing `\`.
    InvalidEscape { offset: usize },
    /// `content-length` is not a decimal number that fits in memory.
    InvalidContentLength { offset: usize },
    /// The byte after a `content-length` body is not NUL.
    MissingNul { offset: usize },
    /// A command or header line longer than [`Limits::max_line_len`].
    LineTooLong { offset: usize },
    /// More headers than [`Limits::max_headers`].
    TooManyHeaders { offset: usize },
    /// The frame is (or declares itself) longer than [`Limits::max_frame_len`].
    FrameTooLarge { offset: usize },
    /// A header cannot be written in this version (e.g. LF without escaping, empty name).
    Unencodable,
    /// The server sent a frame that is not valid at this point (e.g. MESSAGE before CONNECTED).
    UnexpectedFrame,
    /// CONNECTED named a version we did not offer.
    UnsupportedVersion,
    /// The server was silent for twice its heart-beat interval.
    HeartbeatTimeout,
    /// No CONNECTED frame within the connect timeout.
    ConnectTimeout,
}

impl Error {
    /// A short fixed description (no formatting machinery needed).
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Error::UnknownCommand { .. } => "unknown STOMP command",
            Error::BareCr { .. } => "CR not part of CRLF (1.2 headers must escape CR as \\r)",
            Error::MissingColon { .. } => "header line without ':'",
            Error::EmptyHeaderName { .. } => "empty header name",
            Error::InvalidEscape { .. } => "invalid header escape sequence",
            Error::InvalidContentLength { .. } => "invalid content-length",
            Error::MissingNul { .. } => "no NUL after content-length body",
            Error::LineTooLong { .. } => "header line too long",
            Error::TooManyHeaders { .. } => "too many headers",
            Error::FrameTooLarge { .. } => "frame too large",
            Error::Unencodable => "header not representable in this STOMP version",
            Error::UnexpectedFrame => "unexpected frame from server",
            Error::UnsupportedVersion => "server chose a STOMP version we did not offer",
            Error::HeartbeatTimeout => "server heart-beat timeout",
            Error::ConnectTimeout => "no CONNECTED frame in time",
        }
    }

    /// The byte offset in the frame, when the error has one.
    #[must_use]
    pub fn offset(&self) -> Option<usize> {
        match *self {
            Error::UnknownCommand { offset }
            | Error::BareCr { offset }
            | Error::MissingColon { offset }
            | Error::EmptyHeaderName { offset }
            | Error::InvalidEscape { offset }
            | Error::InvalidContentLength { offset }
            | Error::MissingNul { offset }
            | Error::LineTooLong { offset }
            | Error::TooManyHeaders { offset }
            | Error::FrameTooLarge { offset } => Some(offset),
            _ => None,
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for Error {}

/// The outcome of [`decode`] when the input is not (yet) known to be bad.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status<T> {
    /// More bytes are needed.
    Partial,
    /// A heart-beat EOL (LF or CRLF) of this many bytes was consumed.
    Heartbeat(usize),
    /// A frame was decoded from the first `usize` bytes.
    Complete(usize, T),
}

/// Internal result of the one-shot decoder.
enum Parsed<'a> {
    Partial,
    Beat(usize),
    Frame(usize, Frame<'a>),
}

/// Decodes one heart-beat or frame from the start of `input`, escaping per `version`.
///
/// # Errors
/// Any malformed input or breached limit; incomplete input is `Ok(Status::Partial)`.
pub fn decode<'a>(
    input: &'a [u8],
    version: Version,
    limits: &Limits,
) -> Result<Status<Frame<'a>>, Error> {
    Ok(match decode_impl(input, version, limits)? {
        Parsed::Partial => Status::Partial,
        Parsed::Beat(n) => Status::Heartbeat(n),
        Parsed::Frame(n, f) => Status::Complete(n, f),
    })
}

/// Reads the line starting at `start`: returns its content without EOL and the offset after
/// the LF, `None` when no LF has arrived yet.
fn read_line<'a>(
    input: &'a [u8],
    start: usize,
    limits: &Limits,
) -> Result<Option<(&'a [u8], usize)>, Error> {
    let rest = input.get(start..).unwrap_or_default();
    // Content, optional CR, LF: never look further than that.
    let window_len = limits.max_line_len.saturating_add(2);
    let window = rest.get(..window_len).unwrap_or(rest);
    match find_byte(window, b'\n') {
        Some(lf) => {
            let line = window.get(..lf).unwrap_or_default();
            let line = match line.split_last() {
                Some((b'\r', head)) => head,
                _ => line,
            };
            if line.len() > limits.max_line_len {
                return Err(Error::LineTooLong { offset: start });
            }
            Ok(Some((line, start.saturating_add(lf).saturating_add(1))))
        }
        None => {
            let too_long = window.len() > limits.max_line_len.saturating_add(1)
                || (window.len() > limits.max_line_len && window.last() != Some(&b'\r'));
            if too_long {
                Err(Error::LineTooLong { offset: start })
            } else {
                Ok(None)
            }
        }
    }
}

/// Parses a `content-length` value: ASCII digits only, no sign, no spaces, no overflow.
fn parse_len(v: &[u8]) -> Option<usize> {
    parse_u64(v).and_then(|n| usize::try_from(n).ok())
}

/// Parses a decimal number: ASCII digits only (at least one), no sign, no spaces, no overflow.
pub(crate) fn parse_u64(v: &[u8]) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?
                .checked_add(u64::from(b.wrapping_sub(b'0')))
        } else {
            None
        }
    })
}

/// Checks a header line (without its EOL) starting at frame offset `pos` and returns where its first `:` is and whether it holds a `\\` (so needs unescaping): 1.2
/// escaping forbids raw CR, the colon must be there and the name not empty.
fn header_colon(line: &[u8], esc: Escaping, pos: usize) -> Result<(usize, bool), Error> {
    if esc == Escaping::V12 {
        if let Some(i) = find_byte(line, b'\r') {
            return Err(Error::BareCr {
                offset: pos.saturating_add(i),
            });
        }
    }
    match find_byte(line, b':') {
        None => Err(Error::MissingColon { offset: pos }),
        Some(0) => Err(Error::EmptyHeaderName { offset: pos }),
        Some(colon) => Ok((
            colon,
            esc != Escaping::None && find_byte(line, b'\\').is_some(),
        )),
    }
}

/// The first `needle` in `hay`, eight bytes at a time (the classic "has zero byte" trick on
/// a `u64`), then byte by byte for the tail. (`split_first_chunk` rather than `chunks_exact`:
/// at `opt-level = "z"` the latter's `next` stays a call per word.)
pub(crate) fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = u64::from_ne_bytes([0x01; 8]);
    const HI: u64 = u64::from_ne_bytes([0x80; 8]);
    let pattern = LO.wrapping_mul(u64::from(needle));
    let mut rest = hay;
    while let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
        let word = u64::from_ne_bytes(*chunk) ^ pattern;
        if word.wrapping_sub(LO) & !word & HI != 0 {
            break;
        }
        rest = tail;
    }
    let at = hay.len().saturating_sub(rest.len());
    rest.iter()
        .position(|&b| b == needle)
        .map(|i| at.saturating_add(i))
}

/// An incomplete frame of `len` bytes so far: an error once it reaches the frame limit.
fn partial(len: usize, limits: &Limits) -> Result<(), Error> {
    if len >= limits.max_frame_len {
        return Err(Error::FrameTooLarge {
            offset: limits.max_frame_len,
        });
    }
    Ok(())
}

fn decode_impl<'a>(
    input: &'a [u8],
    version: Version,
    limits: &Limits,
) -> Result<Parsed<'a>, Error> {
    match input.first() {
        None => return Ok(Parsed::Partial),
        Some(b'\n') => return Ok(Parsed::Beat(1)),
        Some(b'\r') => {
            return match input.get(1) {
                None => Ok(Parsed::Partial),
                Some(b'\n') => Ok(Parsed::Beat(2)),
                Some(_) => Err(Error::BareCr { offset: 0 }),
            }
        }
        Some(_) => {}
    }
    let Some((line, mut pos)) = read_line(input, 0, limits)? else {
        return partial(input.len(), limits).map(|()| Parsed::Partial);
    };
    let command = Command::parse(line).ok_or(Error::UnknownCommand { offset: 0 })?;
    let esc = Escaping::for_frame(version, command);
    let mut headers: Vec<Header<'a>> = Vec::new();
    let mut content_length: Option<(usize, usize)> = None; // (header index, value offset)
    loop {
        let Some((line, next)) = read_line(input, pos, limits)? else {
            return partial(input.len(), limits).map(|()| Parsed::Partial);
        };
        if line.is_empty() {
            pos = next;
            break;
        }
        if headers.len() >= limits.max_headers {
            return Err(Error::TooManyHeaders { offset: pos });
        }
        let (colon, _) = header_colon(line, esc, pos)?;
        let raw_name = line.get(..colon).unwrap_or_default();
        let value_at = pos.saturating_add(colon).saturating_add(1);
        let raw_value = line.get(colon.saturating_add(1)..).unwrap_or_default();
        let name = unescape(raw_name, esc, pos)?;
        let value = unescape(raw_value, esc, value_at)?;
        if content_length.is_none() && name.as_ref() == b"content-length" {
            content_length = Some((headers.len(), value_at));
        }
        headers.push((name, value));
        pos = next;
    }
    if pos > limits.max_frame_len {
        return Err(Error::FrameTooLarge { offset: pos });
    }
    let body_end = match content_length {
        Some((idx, at)) => {
            let n = headers
                .get(idx)
                .and_then(|(_, v)| parse_len(v))
                .ok_or(Error::InvalidContentLength { offset: at })?;
            let end = pos
                .checked_add(n)
                .filter(|&e| e < limits.max_frame_len)
                .ok_or(Error::FrameTooLarge { offset: pos })?;
            match input.get(end) {
                None => return Ok(Parsed::Partial),
                Some(0) => end,
                Some(_) => return Err(Error::MissingNul { offset: end }),
            }
        }
        None => {
            let rest = input.get(pos..).unwrap_or_default();
            match find_byte(rest, 0) {
                Some(i) => {
                    let end = pos.saturating_add(i);
                    if end >= limits.max_frame_len {
                        return Err(Error::FrameTooLarge {
                            offset: limits.max_frame_len,
                        });
                    }
                    end
                }
                None => return partial(input.len(), limits).map(|()| Parsed::Partial),
            }
        }
    };
    let body = input.get(pos..body_end).unwrap_or_default();
    Ok(Parsed::Frame(
        body_end.saturating_add(1),
        Frame {
            command,
            headers,
            body,
        },
    ))
}

/// Appends a decimal number.
pub(crate) fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i = i.saturating_sub(1);
        if let Some(d) = digits.get_mut(i) {
            // n % 10 < 10, so the conversion cannot fail.
            *d = b'0'.saturating_add(u8::try_from(n % 10).unwrap_or(0));
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(i..).unwrap_or_default());
}

/// Appends one frame to `out`, escaping headers per `version` and `command`. A caller-given
/// `content-length` header is dropped; every non-empty body gets an exact `content-length`
/// (so bodies may contain NUL). On error `out` is left as it was.
///
/// # Errors
/// [`Error::Unencodable`] when a header cannot be represented in this version.
pub fn encode<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    command: Command,
    headers: &[(K, V)],
    body: &[u8],
    version: Version,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let start = out.len();
    let res = encode_inner(command, headers, body, version, out);
    if res.is_err() {
        out.truncate(start);
    }
    res
}

fn encode_inner<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    command: Command,
    headers: &[(K, V)],
    body: &[u8],
    version: Version,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let esc = Escaping::for_frame(version, command);
    out.reserve(body.len().saturating_add(64));
    out.extend_from_slice(command.as_str().as_bytes());
    out.push(b'\n');
    for (k, v) in headers {
        let (k, v) = (k.as_ref(), v.as_ref());
        if k == b"content-length" {
            continue;
        }
        escape_into(k, esc, true, out)?;
        out.push(b':');
        escape_into(v, esc, false, out)?;
        out.push(b'\n');
    }
    if !body.is_empty() {
        out.extend_from_slice(b"content-length:");
        push_decimal(out, body.len());
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(body);
    out.push(0);
    Ok(())
}

/// One item from a [`Decoder`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// A heart-beat EOL between frames.
    Heartbeat,
    /// A whole frame.
    Frame(Frame<'a>),
}

/// One item from [`Decoder::next_ref`]: like [`Item`], but the frame is a [`FrameRef`] into
/// the decoder's buffer, so nothing is allocated.
#[derive(Clone, Copy, Debug)]
pub enum ItemRef<'a> {
    /// A heart-beat EOL between frames.
    Heartbeat,
    /// A whole frame.
    Frame(FrameRef<'a>),
}

/// How far the decoder got in the frame at the front of its buffer. Offsets count from the
/// frame's first byte, so compacting the buffer does not move them.
#[derive(Clone, Copy, Debug, Default)]
struct Progress {
    /// The command (and the escaping for its headers), once its line was read.
    command: Option<(Command, Escaping)>,
    /// Start of the command or header line being read.
    line: usize,
    /// Bytes before this were already searched (for LF in the head, NUL in a body without
    /// `content-length`) and are never looked at again.
    scanned: usize,
    /// Start of the body, once the blank line ending the headers was read.
    body: Option<usize>,
    /// End of the body (where its NUL must be) when `content-length` gave its length.
    body_end: Option<usize>,
    /// The first `content-length` header: its index and the offset of its raw value.
    content_length: Option<(usize, usize)>,
}

/// What one decoding step found.
enum Step {
    Partial,
    Beat(usize),
    Frame {
        len: usize,
        command: Command,
        body: (usize, usize),
    },
}

fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// A streaming decoder: buffers bytes across chunks (a frame may be split anywhere, several
/// frames may share a chunk) and yields items in order. Errors are sticky.
///
/// Decoding is incremental: each command and header line is checked (and unescaped, in place)
/// once when its LF arrives, the search for the body's NUL resumes where the last one stopped,
/// and a `content-length` body is not looked at until all of it is there. So a frame that
/// arrives one byte per message costs time linear in its length, and every limit is enforced
/// as soon as it is crossed. Consumed bytes are dropped from the front of the buffer only when
/// they are at least as many as those kept, so moving bytes costs O(1) per byte overall.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Start of the current frame in `buf`; bytes before it were consumed.
    pos: usize,
    limits: Limits,
    failed: Option<Error>,
    progress: Progress,
    /// The current frame's headers; reused from frame to frame.
    spans: Vec<Span>,
    examined: u64,
    /// Stream offset of `buf[0]`: how many bytes were dropped from the front so far.
    base: u64,
}

impl Decoder {
    /// A decoder enforcing `limits`.
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        Decoder {
            limits,
            ..Decoder::default()
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        let kept = self.buf.len().saturating_sub(self.pos);
        if kept == 0 {
            let cap = self.buf.capacity();
            self.base = self.base.saturating_add(len_u64(self.buf.len()));
            if cap > 64 * 1024 && cap / 2 > data.len() {
                // Everything consumed and the new bytes are much smaller: give a large
                // frame's memory back (a stream of large frames keeps reusing it).
                self.buf = Vec::new();
            } else {
                self.buf.clear();
            }
            self.pos = 0;
        } else if self.pos >= kept {
            // Moving `kept` bytes is paid for by the at least as many consumed ones.
            let dropped = self.pos.min(self.buf.len());
            self.base = self.base.saturating_add(len_u64(dropped));
            self.buf.drain(..dropped);
            self.pos = 0;
            self.count(kept);
        }
        self.buf.extend_from_slice(data);
        self.count(data.len());
    }

    /// How many bytes were pushed so far: the stream offset the next pushed byte will have
    /// (see [`FrameRef::offset`]).
    #[must_use]
    pub fn received(&self) -> u64 {
        self.base.saturating_add(len_u64(self.buf.len()))
    }

    /// Bytes held that do not yet form a whole item.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// How many bytes the decoder has copied or looked at so far (a diagnostic for tests: it
    /// must stay within a small multiple of the bytes pushed, however they were split).
    #[doc(hidden)]
    #[must_use]
    pub fn bytes_examined(&self) -> u64 {
        self.examined
    }

    fn count(&mut self, n: usize) {
        self.examined = self.examined.saturating_add(len_u64(n));
    }

    /// The next heart-beat or frame, `Ok(None)` when more bytes are needed.
    ///
    /// # Errors
    /// The first decode error, again on every later call.
    pub fn next_item(&mut self, version: Version) -> Result<Option<Item<'_>>, Error> {
        Ok(self.next_ref(version)?.map(|item| match item {
            ItemRef::Heartbeat => Item::Heartbeat,
            ItemRef::Frame(f) => Item::Frame(f.to_frame()),
        }))
    }

    /// Like [`Decoder::next_item`], but the frame stays in the decoder's buffer: no allocation.
    ///
    /// # Errors
    /// The first decode error, again on every later call.
    pub fn next_ref(&mut self, version: Version) -> Result<Option<ItemRef<'_>>, Error> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let mut p = self.progress;
        let step = self.step(&mut p, version);
        self.progress = p;
        match step {
            Err(e) => {
                self.failed = Some(e);
                Err(e)
            }
            Ok(Step::Partial) => Ok(None),
            Ok(Step::Beat(n)) => {
                self.pos = self.pos.saturating_add(n);
                Ok(Some(ItemRef::Heartbeat))
            }
            Ok(Step::Frame { len, command, body }) => {
                let start = self.pos;
                self.pos = start.saturating_add(len);
                self.progress = Progress::default();
                Ok(Some(ItemRef::Frame(FrameRef {
                    command,
                    offset: self.base.saturating_add(len_u64(start)),
                    bytes: self.buf.get(start..self.pos).unwrap_or_default(),
                    spans: &self.spans,
                    body,
                })))
            }
        }
    }

    /// The bytes of the current frame from offset `from` on.
    #[inline(always)]
    fn frame_from(&self, from: usize) -> &[u8] {
        self.buf
            .get(self.pos.saturating_add(from)..)
            .unwrap_or_default()
    }

    /// Decodes as far as the buffered bytes allow, recording progress in `p`.
    fn step(&mut self, p: &mut Progress, version: Version) -> Result<Step, Error> {
        let avail = self.buffered();
        if p.command.is_none() && p.scanned == 0 {
            // Between frames: a heart-beat, or the first byte of a frame.
            let input = self.frame_from(0);
            match input.first() {
                None => return Ok(Step::Partial),
                Some(b'\n') => return Ok(Step::Beat(1)),
                Some(b'\r') => {
                    return match input.get(1) {
                        None => Ok(Step::Partial),
                        Some(b'\n') => Ok(Step::Beat(2)),
                        Some(_) => Err(Error::BareCr { offset: 0 }),
                    }
                }
                Some(_) => self.spans.clear(),
            }
        }
        let max_line = self.limits.max_line_len;
        while p.body.is_none() {
            // Content, optional CR, LF: never look further than that for the LF.
            let window_end = avail.min(p.line.saturating_add(max_line).saturating_add(2));
            let from = p.scanned.max(p.line);
            let hay = self
                .frame_from(from)
                .get(..window_end.saturating_sub(from))
                .unwrap_or_default();
            match find_byte(hay, b'\n') {
                Some(i) => {
                    self.count(i.saturating_add(1));
                    let lf = from.saturating_add(i);
                    self.take_line(p, version, lf)?;
                    p.line = lf.saturating_add(1);
                    p.scanned = p.line;
                }
                None => {
                    let seen = hay.len();
                    self.count(seen);
                    p.scanned = window_end;
                    let len = window_end.saturating_sub(p.line);
                    let last = self
                        .frame_from(window_end.saturating_sub(1))
                        .first()
                        .copied();
                    if len > max_line.saturating_add(1) || (len > max_line && last != Some(b'\r')) {
                        return Err(Error::LineTooLong { offset: p.line });
                    }
                    return partial(avail, &self.limits).map(|()| Step::Partial);
                }
            }
        }
        let body = p.body.unwrap_or_default();
        let Some((command, _)) = p.command else {
            return Ok(Step::Partial);
        };
        if let Some(end) = p.body_end {
            return match self.frame_from(end).first() {
                None => Ok(Step::Partial),
                Some(0) => Ok(Step::Frame {
                    len: end.saturating_add(1),
                    command,
                    body: (body, end),
                }),
                Some(_) => Err(Error::MissingNul { offset: end }),
            };
        }
        let from = p.scanned.max(body);
        let hay = self.frame_from(from);
        match find_byte(hay, 0) {
            Some(i) => {
                self.count(i.saturating_add(1));
                let end = from.saturating_add(i);
                if end >= self.limits.max_frame_len {
                    return Err(Error::FrameTooLarge {
                        offset: self.limits.max_frame_len,
                    });
                }
                Ok(Step::Frame {
                    len: end.saturating_add(1),
                    command,
                    body: (body, end),
                })
            }
            None => {
                let seen = hay.len();
                self.count(seen);
                p.scanned = avail;
                partial(avail, &self.limits).map(|()| Step::Partial)
            }
        }
    }

    /// Handles the complete line that ends with the LF at frame offset `lf`: the command line,
    /// a header (checked and unescaped in place, once) or the blank line before the body.
    fn take_line(&mut self, p: &mut Progress, version: Version, lf: usize) -> Result<(), Error> {
        let start = p.line;
        let mut end = lf;
        if end > start && self.frame_from(end.saturating_sub(1)).first() == Some(&b'\r') {
            end = end.saturating_sub(1);
        }
        if end.saturating_sub(start) > self.limits.max_line_len {
            return Err(Error::LineTooLong { offset: start });
        }
        let base = self.pos;
        let range = base.saturating_add(start)..base.saturating_add(end);
        self.count(end.saturating_sub(start).saturating_mul(2));
        let Some((_, esc)) = p.command else {
            let line = self.buf.get(range).unwrap_or_default();
            let command = Command::parse(line).ok_or(Error::UnknownCommand { offset: 0 })?;
            p.command = Some((command, Escaping::for_frame(version, command)));
            return Ok(());
        };
        if start == end {
            return self.end_of_headers(p, lf.saturating_add(1));
        }
        if self.spans.len() >= self.limits.max_headers {
            return Err(Error::TooManyHeaders { offset: start });
        }
        let line = self.buf.get_mut(range).unwrap_or_default();
        let (colon, escaped) = header_colon(line, esc, start)?;
        let (name, value) = line.split_at_mut(colon);
        let value = value.get_mut(1..).unwrap_or_default();
        let value_at = start.saturating_add(colon).saturating_add(1);
        let (name_len, value_len) = if escaped {
            (
                unescape_in_place(name, esc, start)?,
                unescape_in_place(value, esc, value_at)?,
            )
        } else {
            (name.len(), value.len())
        };
        if p.content_length.is_none() && name.get(..name_len) == Some(b"content-length") {
            p.content_length = Some((self.spans.len(), value_at));
        }
        self.spans.push(Span {
            name: (start, start.saturating_add(name_len)),
            value: (value_at, value_at.saturating_add(value_len)),
        });
        Ok(())
    }

    /// The headers ended; the body starts at frame offset `body`.
    fn end_of_headers(&mut self, p: &mut Progress, body: usize) -> Result<(), Error> {
        if body > self.limits.max_frame_len {
            return Err(Error::FrameTooLarge { offset: body });
        }
        p.body = Some(body);
        p.scanned = body;
        if let Some((idx, at)) = p.content_length {
            let value = self.spans.get(idx).and_then(|s| {
                self.frame_from(s.value.0)
                    .get(..s.value.1.saturating_sub(s.value.0))
            });
            let n = value
                .and_then(parse_len)
                .ok_or(Error::InvalidContentLength { offset: at })?;
            let end = body
                .checked_add(n)
                .filter(|&e| e < self.limits.max_frame_len)
                .ok_or(Error::FrameTooLarge { offset: body })?;
            p.body_end = Some(end);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V12: Version = Version::V1_2;

    fn lim() -> Limits {
        Limits::default()
    }

    fn frame(input: &[u8], v: Version) -> (usize, Frame<'_>) {
        match decode(input, v, &lim()).unwrap() {
            Status::Complete(n, f) => (n, f),
            other => panic!("not complete: {other:?}"),
        }
    }

    fn err(input: &[u8], v: Version) -> Error {
        decode(input, v, &lim()).unwrap_err()
    }

    #[test]
    fn simple_frame() {
        let (n, f) = frame(b"MESSAGE\ndestination:/q\n\nhello\0\n", V12);
        assert_eq!(n, 30);
        assert_eq!(f.command, Command::Message);
        assert_eq!(f.header(b"destination"), Some(&b"/q"[..]));
        assert_eq!(f.body, b"hello");
    }

    #[test]
    fn crlf_lines() {
        let (_, f) = frame(b"MESSAGE\r\na:b\r\n\r\nx\0", V12);
        assert_eq!(f.header(b"a"), Some(&b"b"[..]));
        assert_eq!(f.body, b"x");
    }

    #[test]
    fn heartbeats() {
        assert_eq!(decode(b"\n", V12, &lim()).unwrap(), Status::Heartbeat(1));
        assert_eq!(decode(b"\r\nX", V12, &lim()).unwrap(), Status::Heartbeat(2));
        assert_eq!(decode(b"\r", V12, &lim()).unwrap(), Status::Partial);
        assert_eq!(err(b"\rX", V12), Error::BareCr { offset: 0 });
        assert_eq!(decode(b"", V12, &lim()).unwrap(), Status::Partial);
    }

    #[test]
    fn no_trimming_and_first_header_wins() {
        let (_, f) = frame(b"MESSAGE\n a : b \na:1\na:2\n\n\0", V12);
        assert_eq!(f.header(b" a "), Some(&b" b "[..]));
        assert_eq!(f.header(b"a"), Some(&b"1"[..]));
        assert_eq!(f.headers.len(), 3);
    }

    #[test]
    fn colon_in_value_is_kept() {
        let (_, f) = frame(b"MESSAGE\na:b:c\n\n\0", V12);
        assert_eq!(f.header(b"a"), Some(&b"b:c"[..]));
    }

    #[test]
    fn escaping_per_version_and_command() {
        let (_, f) = frame(b"MESSAGE\nk\\c:v\\n\\r\\\\\n\n\0", V12);
        assert_eq!(f.header(b"k:"), Some(&b"v\n\r\\"[..]));
        assert_eq!(
            err(b"MESSAGE\nk:\\r\n\n\0", Version::V1_1),
            Error::InvalidEscape { offset: 10 }
        );
        assert_eq!(
            err(b"MESSAGE\nk:\\t\n\n\0", V12),
            Error::InvalidEscape { offset: 10 }
        );
        let (_, f) = frame(b"MESSAGE\nk:\\t\n\n\0", Version::V1_0);
        assert_eq!(f.header(b"k"), Some(&b"\\t"[..]));
        // CONNECTED is never unescaped.
        let (_, f) = frame(b"CONNECTED\nserver:a\\tb\n\n\0", V12);
        assert_eq!(f.header(b"server"), Some(&b"a\\tb"[..]));
    }

    #[test]
    fn raw_cr_in_header() {
        assert_eq!(
            err(b"MESSAGE\nk:a\rb\n\n\0", V12),
            Error::BareCr { offset: 11 }
        );
        let (_, f) = frame(b"MESSAGE\nk:a\rb\n\n\0", Version::V1_1);
        assert_eq!(f.header(b"k"), Some(&b"a\rb"[..]));
        // Only the CR right before LF is part of the EOL.
        let (_, f) = frame(b"MESSAGE\nk:a\r\r\n\n\0", Version::V1_1);
        assert_eq!(f.header(b"k"), Some(&b"a\r"[..]));
    }

    #[test]
    fn cr_in_body_is_kept() {
        let (_, f) = frame(b"MESSAGE\n\na\r\nb\r\0", V12);
        assert_eq!(f.body, b"a\r\nb\r");
    }

    #[test]
    fn content_length_body_with_nul() {
        let (n, f) = frame(b"MESSAGE\ncontent-length:3\n\na\0b\0rest", V12);
        assert_eq!(n, 30);
        assert_eq!(f.body, b"a\0b");
    }

    #[test]
    fn content_length_missing_nul() {
        assert_eq!(
            err(b"MESSAGE\ncontent-length:1\n\nabc\0", V12),
            Error::MissingNul { offset: 27 }
        );
    }

    #[test]
    fn content_length_invalid() {
        for v in [
            &b"x"[..],
            b"",
            b" 1",
            b"1 ",
            b"-1",
            b"+1",
            b"99999999999999999999999",
        ] {
            let mut input = b"MESSAGE\ncontent-length:".to_vec();
            input.extend_from_slice(v);
            input.extend_from_slice(b"\n\n\0");
            assert_eq!(
                err(&input, V12),
                Error::InvalidContentLength { offset: 23 },
                "{v:?}"
            );
        }
    }

    #[test]
    fn content_length_too_large_errors_at_once() {
        let l = Limits {
            max_frame_len: 100,
            ..Limits::default()
        };
        let r = decode(b"MESSAGE\ncontent-length:1000\n\n", V12, &l);
        assert_eq!(r, Err(Error::FrameTooLarge { offset: 29 }));
        // Exactly at the limit is fine.
        let mut f = b"MESSAGE\ncontent-length:70\n\n".to_vec();
        f.extend_from_slice(&[b'a'; 70]);
        f.push(0);
        assert_eq!(f.len(), 98);
        assert!(matches!(decode(&f, V12, &l), Ok(Status::Complete(98, _))));
    }

    #[test]
    fn body_without_nul_errors_at_limit() {
        let l = Limits {
            max_frame_len: 100,
            ..Limits::default()
        };
        let mut f = b"MESSAGE\n\n".to_vec();
        f.extend_from_slice(&[b'a'; 80]);
        assert_eq!(decode(&f, V12, &l), Ok(Status::Partial));
        f.extend_from_slice(&[b'a'; 20]);
        assert_eq!(
            decode(&f, V12, &l),
            Err(Error::FrameTooLarge { offset: 100 })
        );
    }

    #[test]
    fn endless_line_errors_at_line_limit() {
        let l = Limits {
            max_line_len: 16,
            ..Limits::default()
        };
        let mut f = b"MESSAGE\nk:".to_vec();
        f.extend_from_slice(&[b'v'; 14]);
        assert_eq!(decode(&f, V12, &l), Ok(Status::Partial));
        f.push(b'\r');
        assert_eq!(decode(&f, V12, &l), Ok(Status::Partial));
        f.pop();
        f.push(b'v');
        assert_eq!(decode(&f, V12, &l), Err(Error::LineTooLong { offset: 8 }));
        assert_eq!(
            decode(&[b'A'; 40], V12, &l),
            Err(Error::LineTooLong { offset: 0 })
        );
    }

    #[test]
    fn too_many_headers() {
        let l = Limits {
            max_headers: 2,
            ..Limits::default()
        };
        assert!(decode(b"MESSAGE\na:1\nb:2\n\n\0", V12, &l).is_ok());
        assert_eq!(
            decode(b"MESSAGE\na:1\nb:2\nc:3\n", V12, &l),
            Err(Error::TooManyHeaders { offset: 16 })
        );
    }

    #[test]
    fn bad_lines() {
        assert_eq!(err(b"FOO\n\n\0", V12), Error::UnknownCommand { offset: 0 });
        assert_eq!(
            err(b"message\n\n\0", V12),
            Error::UnknownCommand { offset: 0 }
        );
        assert_eq!(
            err(b"MESSAGE\nab\n\n\0", V12),
            Error::MissingColon { offset: 8 }
        );
        assert_eq!(
            err(b"MESSAGE\n:b\n\n\0", V12),
            Error::EmptyHeaderName { offset: 8 }
        );
    }

    #[test]
    fn partial_everywhere() {
        let whole = b"MESSAGE\ncontent-length:2\n\nab\0";
        for i in 0..whole.len() {
            assert_eq!(decode(&whole[..i], V12, &lim()), Ok(Status::Partial), "{i}");
        }
    }

    #[test]
    fn encode_adds_content_length_and_escapes() {
        let mut out = Vec::new();
        encode(
            Command::Send,
            &[("destination", "/q/a:b"), ("content-length", "999")],
            b"x\0y",
            V12,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            out,
            b"SEND\ndestination:/q/a\\cb\ncontent-length:3\n\nx\0y\0"
        );
        out.clear();
        encode(Command::Connect, &[("login", "a:b")], b"", V12, &mut out).unwrap();
        assert_eq!(out, b"CONNECT\nlogin:a:b\n\n\0");
    }

    #[test]
    fn encode_error_leaves_buffer() {
        let mut out = b"keep".to_vec();
        let r = encode(Command::Connect, &[("login", "a\nb")], b"", V12, &mut out);
        assert_eq!(r, Err(Error::Unencodable));
        assert_eq!(out, b"keep");
    }

    #[test]
    fn decimal() {
        for n in [0usize, 7, 10, 1234567890, usize::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    #[test]
    fn decoder_streams_and_sticks() {
        let mut d = Decoder::new(lim());
        d.push(b"\nMESSAGE\n\nab");
        assert_eq!(d.next_item(V12), Ok(Some(Item::Heartbeat)));
        assert_eq!(d.next_item(V12), Ok(None));
        d.push(b"c\0\r\n");
        match d.next_item(V12).unwrap() {
            Some(Item::Frame(f)) => assert_eq!(f.body, b"abc"),
            other => panic!("{other:?}"),
        }
        assert_eq!(d.next_item(V12), Ok(Some(Item::Heartbeat)));
        assert_eq!(d.next_item(V12), Ok(None));
        assert_eq!(d.buffered(), 0);
        d.push(b"BAD\n");
        assert!(d.next_item(V12).is_err());
        d.push(b"\n");
        assert_eq!(d.next_item(V12), Err(Error::UnknownCommand { offset: 0 }));
    }

    #[test]
    fn decoder_gives_large_buffers_back_and_keeps_working_ones() {
        let mut big = b"MESSAGE\n\n".to_vec();
        big.extend_from_slice(&[b'x'; 200_000]);
        big.push(0);
        let mut d = Decoder::new(lim());
        d.push(&big);
        assert!(matches!(d.next_ref(V12), Ok(Some(ItemRef::Frame(_)))));
        // Another frame as large: the buffer is reused.
        d.push(&big);
        assert!(d.buf.capacity() >= big.len());
        assert!(matches!(d.next_ref(V12), Ok(Some(ItemRef::Frame(_)))));
        // A heart-beat after it: the large buffer goes.
        d.push(b"\n");
        assert!(d.buf.capacity() < 64 * 1024);
        assert!(matches!(d.next_ref(V12), Ok(Some(ItemRef::Heartbeat))));
        assert!(matches!(d.next_ref(V12), Ok(None)));
    }

    #[test]
    fn decoder_compacts_only_when_consumed_bytes_dominate() {
        let mut d = Decoder::new(lim());
        d.push(b"\n\nMESSAGE\n\nabc");
        assert!(matches!(d.next_ref(V12), Ok(Some(ItemRef::Heartbeat))));
        assert!(matches!(d.next_ref(V12), Ok(Some(ItemRef::Heartbeat))));
        assert!(matches!(d.next_ref(V12), Ok(None)));
        // 2 bytes consumed, 12 kept: no move yet.
        d.push(b"d");
        assert_eq!(d.pos, 2);
        let f = b"\0RECEIPT\nreceipt-id:77\n\n\0MESSAGE\n\n";
        d.push(f);
        match d.next_ref(V12) {
            Ok(Some(ItemRef::Frame(f))) => assert_eq!(f.body(), b"abcd"),
            other => panic!("{other:?}"),
        }
        match d.next_ref(V12) {
            Ok(Some(ItemRef::Frame(f))) => assert_eq!(f.header(b"receipt-id"), Some(&b"77"[..])),
            other => panic!("{other:?}"),
        }
        assert!(matches!(d.next_ref(V12), Ok(None)));
        // Now most bytes are consumed: the next push moves the partial frame to the front,
        // and decoding resumes where it was.
        d.push(b"x\0");
        assert_eq!(d.pos, 0);
        match d.next_ref(V12) {
            Ok(Some(ItemRef::Frame(f))) => assert_eq!(f.body(), b"x"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn find_byte_agrees_with_position() {
        let mut hay = Vec::new();
        for len in 0..40 {
            for at in 0..=len {
                hay.clear();
                hay.extend((0..len).map(|i| if i == at { b'\n' } else { 0x8a }));
                let want = hay.iter().position(|&b| b == b'\n');
                assert_eq!(find_byte(&hay, b'\n'), want, "{len} {at}");
                assert_eq!(find_byte(&hay, 0), None);
            }
        }
        assert_eq!(find_byte(b"abcdefgh\0ij\0", 0), Some(8));
        assert_eq!(find_byte(b"\xff\xfe\x80\x81\x7f\x00", 0), Some(5));
        assert_eq!(
            find_byte(b"\x01\x01\x01\x01\x01\x01\x01\x01\x00", 0),
            Some(8)
        );
    }

    #[test]
    fn errors_have_text() {
        assert_eq!(
            Error::HeartbeatTimeout.as_str(),
            "server heart-beat timeout"
        );
        assert_eq!(Error::MissingNul { offset: 3 }.offset(), Some(3));
        assert_eq!(Error::Unencodable.offset(), None);
    }
}
