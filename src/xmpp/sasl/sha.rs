//! SHA-1 and SHA-256 (FIPS 180-4) for SCRAM, PBKDF2/HMAC and entity-capability hashes, in one
//! small rolled-loop implementation: one running-hash type ([`Sha`]) for both functions, so
//! the code that feeds it (HMAC, PBKDF2) is compiled once. It replaces the `sha1`/`sha2`
//! crates, whose unrolled rounds and generic `digest` plumbing cost about 10 KB of wasm before
//! optimisation; speed is ample for a login (PBKDF2 at 4096 iterations is ~16 k blocks). The
//! FIPS/RFC test vectors are in the unit tests; nothing here is secret-dependent in its
//! control flow.

use super::scram::Hash;

/// A digest: 20 bytes (SHA-1) or 32 bytes (SHA-256).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digest {
    buf: [u8; 32],
    len: usize,
}

impl Digest {
    /// The digest bytes.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// A running hash.
#[derive(Clone, Debug)]
pub struct Sha {
    hash: Hash,
    state: [u32; 8],
    block: [u8; 64],
    /// Bytes waiting in `block`.
    used: usize,
    /// Message length so far, in bytes.
    total: u64,
}

const SHA1_INIT: [u32; 8] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
    0,
    0,
    0,
];

const SHA256_INIT: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

const K256: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

fn word(w: &[u32; 80], i: usize) -> u32 {
    w.get(i).copied().unwrap_or(0)
}

/// The message schedule's first 16 words: the block, big-endian.
fn load(block: &[u8; 64]) -> [u32; 80] {
    // Byte by byte into the zeroed words (no `zip` of chunks: one more generic in the wasm).
    let mut w = [0u32; 80];
    for (i, b) in block.iter().enumerate() {
        if let Some(wi) = w.get_mut(i / 4) {
            *wi = (*wi << 8) | u32::from(*b);
        }
    }
    w
}

fn sha1_block(state: &mut [u32; 8], block: &[u8; 64]) {
    let mut w = load(block);
    for i in 16..80 {
        let v = (word(&w, i - 3) ^ word(&w, i - 8) ^ word(&w, i - 14) ^ word(&w, i - 16))
            .rotate_left(1);
        if let Some(slot) = w.get_mut(i) {
            *slot = v;
        }
    }
    let [mut a, mut b, mut c, mut d, mut e, ..] = *state;
    for (i, wi) in w.iter().enumerate() {
        let (f, k) = match i / 20 {
            0 => ((b & c) | (!b & d), 0x5A82_7999),
            1 => (b ^ c ^ d, 0x6ED9_EBA1),
            2 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
            _ => (b ^ c ^ d, 0xCA62_C1D6),
        };
        let t = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(*wi);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = t;
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e]) {
        *s = s.wrapping_add(v);
    }
}

fn sha256_block(state: &mut [u32; 8], block: &[u8; 64]) {
    let mut w = load(block);
    for i in 16..64 {
        let x = word(&w, i - 15);
        let s0 = x.rotate_right(7) ^ x.rotate_right(18) ^ (x >> 3);
        let y = word(&w, i - 2);
        let s1 = y.rotate_right(17) ^ y.rotate_right(19) ^ (y >> 10);
        let v = word(&w, i - 16)
            .wrapping_add(s0)
            .wrapping_add(word(&w, i - 7))
            .wrapping_add(s1);
        if let Some(slot) = w.get_mut(i) {
            *slot = v;
        }
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for (i, k) in K256.iter().enumerate() {
        let wi = word(&w, i);
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = h
            .wrapping_add(s1)
            .wrapping_add(ch)
            .wrapping_add(*k)
            .wrapping_add(wi);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(maj);
        h = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *s = s.wrapping_add(v);
    }
}

impl Sha {
    /// A new running hash of kind `hash`.
    #[must_use]
    pub fn new(hash: Hash) -> Sha {
        Sha {
            hash,
            state: match hash {
                Hash::Sha1 => SHA1_INIT,
                Hash::Sha256 => SHA256_INIT,
            },
            block: [0; 64],
            used: 0,
            total: 0,
        }
    }

    /// `H(data)` in one call.
    #[must_use]
    pub fn digest(hash: Hash, data: &[u8]) -> Digest {
        let mut h = Sha::new(hash);
        h.update(data);
        h.finish()
    }

    /// Feeds `data`.
    pub fn update(&mut self, mut data: &[u8]) {
        self.total = self
            .total
            .wrapping_add(u64::try_from(data.len()).unwrap_or(u64::MAX));
        while !data.is_empty() {
            let free = self.block.get_mut(self.used..).unwrap_or(&mut []);
            let take = free.len().min(data.len());
            let (head, rest) = data.split_at_checked(take).unwrap_or((data, &[]));
            for (d, s) in free.iter_mut().zip(head) {
                *d = *s;
            }
            self.used = self.used.saturating_add(take);
            data = rest;
            if self.used >= 64 {
                match self.hash {
                    Hash::Sha1 => sha1_block(&mut self.state, &self.block),
                    Hash::Sha256 => sha256_block(&mut self.state, &self.block),
                }
                self.used = 0;
            }
        }
    }

    /// Pads (a 1 bit, zeros, the 64-bit big-endian bit length) and returns the digest.
    #[must_use]
    pub fn finish(mut self) -> Digest {
        let bits = self.total.wrapping_mul(8);
        let mut pad = [0u8; 64];
        if let Some(first) = pad.first_mut() {
            *first = 0x80;
        }
        // Enough to leave exactly 8 bytes free in the last block (1..=64 bytes).
        let n = if self.used < 56 {
            56usize.saturating_sub(self.used)
        } else {
            120usize.saturating_sub(self.used)
        };
        self.update(pad.get(..n).unwrap_or(&[]));
        self.update(&bits.to_be_bytes());
        let words = match self.hash {
            Hash::Sha1 => 5,
            Hash::Sha256 => 8,
        };
        let mut out = Digest {
            buf: [0; 32],
            len: words * 4,
        };
        // All 32 bytes, big-endian (SHA-1 leaves the unused words zero): no zips of chunks.
        for (i, d) in out.buf.iter_mut().enumerate() {
            let w = self.state.get(i / 4).copied().unwrap_or(0);
            *d = w.to_be_bytes().get(i % 4).copied().unwrap_or(0);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(h: Hash, data: &[u8]) -> String {
        Sha::digest(h, data)
            .bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn fips_vectors() {
        let two_block = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(
            hex(Hash::Sha1, b""),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            hex(Hash::Sha1, b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(Hash::Sha1, two_block),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(
            hex(Hash::Sha256, b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(Hash::Sha256, b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(Hash::Sha256, two_block),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        let million = vec![b'a'; 1_000_000];
        assert_eq!(
            hex(Hash::Sha1, &million),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
        assert_eq!(
            hex(Hash::Sha256, &million),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    #[test]
    fn split_updates_match_one_shot() {
        // Every length around the padding boundaries, fed in uneven pieces, against the
        // RustCrypto crates.
        let data: Vec<u8> = (0..200u8).collect();
        for h in [Hash::Sha1, Hash::Sha256] {
            for len in 0..data.len() {
                let msg = &data[..len];
                let mut s = Sha::new(h);
                for piece in msg.chunks(7) {
                    s.update(piece);
                }
                let one = Sha::digest(h, msg);
                assert_eq!(s.finish(), one, "{h:?} {len}");
                let reference = match h {
                    Hash::Sha1 => <sha1::Sha1 as sha1::Digest>::digest(msg).to_vec(),
                    Hash::Sha256 => <sha2::Sha256 as sha2::Digest>::digest(msg).to_vec(),
                };
                assert_eq!(one.bytes(), reference, "{h:?} {len}");
            }
        }
    }
}
