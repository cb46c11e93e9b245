//! A cursor over the fuzzer's bytes. Every read succeeds: past the end it yields zeros and
//! empty slices, so a harness can read a whole operation without checking lengths and the
//! fuzzer's truncations stay meaningful.

/// Reads opcodes, integers and length-prefixed chunks from fuzz input.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte, 0 past the end.
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    /// A little-endian u16.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    /// Up to `n` bytes (fewer at the end).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    /// A chunk prefixed by its u16 length.
    pub fn chunk16(&mut self) -> &'a [u8] {
        let n = usize::from(self.u16());
        self.take(n)
    }

    /// A chunk prefixed by its u8 length.
    pub fn chunk8(&mut self) -> &'a [u8] {
        let n = usize::from(self.byte());
        self.take(n)
    }

    /// A short string (u8 length, lossy UTF-8).
    pub fn string8(&mut self) -> String {
        String::from_utf8_lossy(self.chunk8()).into_owned()
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(self.data.len())
    }
}

/// A tiny deterministic generator (xorshift32) for chunk sizes.
pub struct Rng(u32);

impl Rng {
    /// Seeded from one fuzz byte (never zero inside).
    pub fn new(seed: u8) -> Self {
        Rng(0x9E37_79B9 ^ u32::from(seed).wrapping_mul(0x0101_0101) | 1)
    }

    /// The next value.
    pub fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }

    /// A value in `1..=max`.
    pub fn size(&mut self, max: u32) -> usize {
        usize::try_from(self.next_u32() % max.max(1) + 1).unwrap_or(1)
    }
}
