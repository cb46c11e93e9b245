//! Bytes to text for both cores: lossy UTF-8 decoding (invalid sequences become U+FFFD,
//! exactly as `String::from_utf8_lossy` and the browser's `TextDecoder` do it), written out
//! so that the shipped wasm does not carry the standard library's `Cow`-returning version.

/// Appends `bytes` to `out`, each invalid sequence as one U+FFFD.
pub fn push_lossy(out: &mut String, mut bytes: &[u8]) {
    loop {
        match core::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return;
            }
            Err(e) => {
                let (good, rest) = bytes
                    .split_at_checked(e.valid_up_to())
                    .unwrap_or((bytes, b""));
                out.push_str(core::str::from_utf8(good).unwrap_or_default());
                out.push('\u{FFFD}');
                match e.error_len() {
                    Some(n) => bytes = rest.get(n..).unwrap_or_default(),
                    None => return,
                }
            }
        }
    }
}

/// `bytes` as text, each invalid sequence as one U+FFFD.
#[must_use]
pub fn lossy(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    push_lossy(&mut out, bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::lossy;

    #[test]
    fn lossy_matches_std() {
        let cases: [&[u8]; 10] = [
            b"",
            b"plain",
            "é€😀".as_bytes(),
            b"a\xffb",
            b"\xff\xfe",
            b"ab\xe2\x82",
            b"\xe2\x82a\xf0\x9f\x98",
            b"\xc0\x80\xed\xa0\x80x",
            b"\xf4\x90\x80\x80",
            b"\xe2\x82x\xf0\x9f\x98\x80\xc0\x80",
        ];
        for c in cases {
            assert_eq!(lossy(c), String::from_utf8_lossy(c), "{c:?}");
        }
    }
}
