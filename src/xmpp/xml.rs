//! A small namespaced XML reader and writer for XMPP over WebSocket (RFC 7395).
//!
//! Each WebSocket message carries exactly one top-level element, so [`parse`] reads one whole
//! element from one message into an [`Element`] tree (an optional leading `<?xml …?>`
//! declaration and surrounding whitespace are allowed). It resolves namespaces (default
//! `xmlns`, prefixes, and the `stream` prefix even when a server forgets to declare it),
//! enforces [`Limits`] (size, depth, attributes per element), and refuses what RFC 6120 §11.1
//! forbids: comments, processing instructions, DTDs and entity references other than the five
//! predefined ones and numeric character references. CDATA sections are read as text. A prefix
//! of a valid element yields [`ErrorKind::Incomplete`], never a panic. The writer side escapes
//! text and attribute values and serialises an [`Element`] into a `String`; namespaces are
//! written as default `xmlns` declarations wherever an element's namespace differs from its
//! parent's.

/// `jabber:client`, the content namespace of a client stream.
pub const NS_CLIENT: &str = "jabber:client";
/// The stream namespace (`stream:features`, `stream:error`).
pub const NS_STREAMS: &str = "http://etherx.jabber.org/streams";
/// RFC 7395 framing namespace (`<open/>`, `<close/>`).
pub const NS_FRAMING: &str = "urn:ietf:params:xml:ns:xmpp-framing";
/// The namespace bound to the `xml` prefix.
pub const NS_XML: &str = "http://www.w3.org/XML/1998/namespace";

/// Hard cap on nesting, whatever the configuration says, so dropping or writing a tree can
/// never exhaust the stack.
const DEPTH_CAP: usize = 256;

/// Limits applied by [`parse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest element (one WebSocket message), in bytes.
    pub max_size: usize,
    /// Deepest nesting (the top-level element is depth 1); capped at 256.
    pub max_depth: usize,
    /// Most attributes (namespace declarations included) on one element.
    pub max_attrs: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_size: 1 << 20,
            max_depth: 32,
            max_attrs: 64,
        }
    }
}

/// What went wrong while reading XML.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input ended inside the element (a prefix of a well-formed element).
    Incomplete,
    /// The input is larger than [`Limits::max_size`].
    TooLarge,
    /// Nesting deeper than [`Limits::max_depth`].
    TooDeep,
    /// More attributes than [`Limits::max_attrs`].
    TooManyAttributes,
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// A character not allowed by XML 1.0 (`Char` production).
    InvalidChar,
    /// A `<!DOCTYPE` or other markup declaration (RFC 6120 §11.1).
    Doctype,
    /// A processing instruction other than the leading XML declaration (RFC 6120 §11.1).
    ProcessingInstruction,
    /// A comment (RFC 6120 §11.1).
    Comment,
    /// A malformed element or attribute name.
    InvalidName,
    /// No element where one was expected.
    ExpectedElement,
    /// An end tag that does not match its start tag.
    MismatchedEndTag,
    /// The same attribute twice on one element.
    DuplicateAttribute,
    /// Malformed attribute syntax (missing `=`, quote or whitespace).
    MalformedAttribute,
    /// A `<` inside an attribute value.
    LtInAttribute,
    /// An entity reference other than the five predefined ones (RFC 6120 §11.1).
    UnknownEntity,
    /// A numeric character reference to a code point XML does not allow.
    InvalidCharRef,
    /// A namespace prefix without a declaration.
    UnboundPrefix,
    /// An illegal namespace declaration (`xmlns:p=""`, binding `xmlns`).
    BadNamespaceDeclaration,
    /// Something other than whitespace after the element.
    TrailingData,
    /// `]]>` in character data.
    CdataEndInText,
    /// A malformed `<?xml …?>` declaration.
    BadXmlDeclaration,
}

impl ErrorKind {
    /// A short static description naming the rule.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Incomplete => "XML: input ends inside the element",
            ErrorKind::TooLarge => "XML: element larger than the size limit",
            ErrorKind::TooDeep => "XML: nesting deeper than the depth limit",
            ErrorKind::TooManyAttributes => "XML: more attributes than the limit",
            ErrorKind::InvalidUtf8 => "XML: input is not UTF-8",
            ErrorKind::InvalidChar => "XML: character not allowed (XML 1.0 Char)",
            ErrorKind::Doctype => "XML: DTD or markup declaration refused (RFC 6120 11.1)",
            ErrorKind::ProcessingInstruction => {
                "XML: processing instruction refused (RFC 6120 11.1)"
            }
            ErrorKind::Comment => "XML: comment refused (RFC 6120 11.1)",
            ErrorKind::InvalidName => "XML: malformed name",
            ErrorKind::ExpectedElement => "XML: expected an element",
            ErrorKind::MismatchedEndTag => "XML: end tag does not match start tag",
            ErrorKind::DuplicateAttribute => "XML: duplicate attribute",
            ErrorKind::MalformedAttribute => "XML: malformed attribute",
            ErrorKind::LtInAttribute => "XML: '<' in attribute value",
            ErrorKind::UnknownEntity => "XML: entity reference refused (RFC 6120 11.1)",
            ErrorKind::InvalidCharRef => "XML: invalid character reference",
            ErrorKind::UnboundPrefix => "XML: undeclared namespace prefix",
            ErrorKind::BadNamespaceDeclaration => "XML: illegal namespace declaration",
            ErrorKind::TrailingData => "XML: data after the element",
            ErrorKind::CdataEndInText => "XML: ']]>' in character data",
            ErrorKind::BadXmlDeclaration => "XML: malformed XML declaration",
        }
    }
}

/// An XML error: its kind and the byte offset in the input where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Byte offset into the input.
    pub offset: usize,
}

impl Error {
    /// The static description of the kind (the offset is in [`Error::offset`]).
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        self.kind.as_str()
    }
}

/// A child of an element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// A child element.
    Element(Element),
    /// Character data (entities decoded).
    Text(String),
}

/// An element: local name, resolved namespace, attributes and children.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Element {
    /// Local name (without prefix).
    pub name: String,
    /// Resolved namespace URI (empty for none).
    pub ns: String,
    /// Attributes as written (qualified names, e.g. `xml:lang`; prefix declarations
    /// `xmlns:p` are kept, the default `xmlns` becomes [`Element::ns`]), values decoded.
    pub attrs: Vec<(String, String)>,
    /// Children in document order.
    pub children: Vec<Node>,
}

// The builders are `#[inline(never)]`: inlined, each of their many call sites copied the
// element around (measured ~100 B of gzipped wasm).
impl Element {
    /// A new empty element.
    #[inline(never)]
    #[must_use]
    pub fn new(name: &str, ns: &str) -> Element {
        Element {
            name: String::from(name),
            ns: String::from(ns),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Builder: adds an attribute (replacing one with the same name).
    #[inline(never)]
    #[must_use]
    pub fn with_attr(mut self, name: &str, value: &str) -> Element {
        self.set_attr(name, value);
        self
    }

    /// Builder: adds an attribute when `value` is `Some`.
    #[inline(never)]
    #[must_use]
    pub fn with_opt_attr(mut self, name: &str, value: Option<&str>) -> Element {
        if let Some(v) = value {
            self.set_attr(name, v);
        }
        self
    }

    /// Builder: appends a child element.
    #[inline(never)]
    #[must_use]
    pub fn with_child(mut self, child: Element) -> Element {
        self.children.push(Node::Element(child));
        self
    }

    /// Builder: appends the child `<name xmlns=ns>text</name>` (one call where three were
    /// inlined at each site).
    #[inline(never)]
    #[must_use]
    pub fn with_text_child(self, name: &str, ns: &str, text: &str) -> Element {
        self.with_child(Element::new(name, ns).with_text(text))
    }

    /// Builder: appends text.
    #[inline(never)]
    #[must_use]
    pub fn with_text(mut self, text: &str) -> Element {
        self.children.push(Node::Text(String::from(text)));
        self
    }

    /// Sets an attribute (replacing one with the same name).
    pub fn set_attr(&mut self, name: &str, value: &str) {
        if let Some(slot) = self.attrs.iter_mut().find(|(n, _)| n == name) {
            slot.1 = String::from(value);
        } else {
            self.attrs.push((String::from(name), String::from(value)));
        }
    }

    /// The value of attribute `name` (qualified name as written, e.g. `xml:lang`).
    #[must_use]
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether this element has local name `name` in namespace `ns`.
    #[must_use]
    pub fn is(&self, name: &str, ns: &str) -> bool {
        self.name == name && self.ns == ns
    }

    /// Child elements in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element named `name` in namespace `ns`.
    #[must_use]
    #[allow(clippy::manual_find)] // a loop: `find` adds a generic per closure to the wasm
    pub fn child(&self, name: &str, ns: &str) -> Option<&Element> {
        for e in self.elements() {
            if e.is(name, ns) {
                return Some(e);
            }
        }
        None
    }

    /// The text of each child element named `name` in namespace `ns`, in order (a loop, not
    /// an iterator chain: one copy of this code serves every caller).
    #[must_use]
    pub fn texts(&self, name: &str, ns: &str) -> Vec<String> {
        let mut out = Vec::new();
        for n in &self.children {
            if let Node::Element(e) = n {
                if e.is(name, ns) {
                    out.push(e.text());
                }
            }
        }
        out
    }

    /// The concatenated direct text children.
    #[must_use]
    pub fn text(&self) -> String {
        let mut s = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                s.push_str(t);
            }
        }
        s
    }

    /// Serialises the element (with an `xmlns` declaration on the top element when its
    /// namespace is not empty).
    #[must_use]
    pub fn to_xml(&self) -> String {
        // A typical stanza fits, so the string is not regrown while it is written.
        let mut out = String::with_capacity(512);
        self.write_to(&mut out, None);
        out
    }

    /// Appends the serialised element to `out`; `parent_ns` is the default namespace in scope
    /// (`None` at the top).
    pub fn write_to(&self, out: &mut String, parent_ns: Option<&str>) {
        out.push('<');
        out.push_str(&self.name);
        let need_ns = match parent_ns {
            None => !self.ns.is_empty(),
            Some(p) => p != self.ns,
        };
        if need_ns {
            out.push_str(" xmlns=\"");
            escape_attr(out, &self.ns);
            out.push('"');
        }
        for (n, v) in &self.attrs {
            if n == "xmlns" {
                continue;
            }
            out.push(' ');
            out.push_str(n);
            out.push_str("=\"");
            escape_attr(out, v);
            out.push('"');
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for c in &self.children {
            match c {
                Node::Element(e) => e.write_to(out, Some(&self.ns)),
                Node::Text(t) => escape_text(out, t),
            }
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

/// Appends `s` escaped for character data (`&`, `<`, `>`; CR as `&#13;` so it survives
/// line-end normalisation). Characters XML cannot carry (NUL, other C0 controls, U+FFFE,
/// U+FFFF) become U+FFFD so the output is always well-formed.
pub fn escape_text(out: &mut String, s: &str) {
    escape(out, s, false);
}

/// Appends `s` escaped for a double- or single-quoted attribute value (`&`, `<`, `"`, `'`;
/// tab, LF and CR as character references so they survive attribute normalisation;
/// characters XML cannot carry become U+FFFD).
pub fn escape_attr(out: &mut String, s: &str) {
    escape(out, s, true);
}

/// Both escapers in one loop (one copy in the wasm). It scans bytes, not chars: every byte
/// that needs a replacement is ASCII, or the lead byte 0xEF of U+FFFE/U+FFFF (the only
/// non-characters a `str` can hold above U+001F), so runs of plain text are copied whole and
/// no UTF-8 is decoded.
fn escape(out: &mut String, s: &str, attr: bool) {
    let bytes = s.as_bytes();
    let mut plain = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let (replacement, len) = match b {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' if !attr => ("&gt;", 1),
            b'"' if attr => ("&quot;", 1),
            b'\'' if attr => ("&apos;", 1),
            b'\t' if attr => ("&#9;", 1),
            b'\n' if attr => ("&#10;", 1),
            b'\r' => ("&#13;", 1),
            b'\t' | b'\n' => {
                i = i.saturating_add(1);
                continue;
            }
            0..=0x1F => ("\u{FFFD}", 1),
            0xEF if bytes.get(i.saturating_add(1)) == Some(&0xBF)
                && matches!(bytes.get(i.saturating_add(2)), Some(0xBE | 0xBF)) =>
            {
                ("\u{FFFD}", 3)
            }
            _ => {
                i = i.saturating_add(1);
                continue;
            }
        };
        out.push_str(s.get(plain..i).unwrap_or(""));
        out.push_str(replacement);
        i = i.saturating_add(len);
        plain = i;
    }
    out.push_str(s.get(plain..).unwrap_or(""));
}

/// Whether `c` is an XML 1.0 `Char` (Rust `char` already excludes surrogates).
#[must_use]
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic()
        || c == '_'
        || c == ':'
        || (c >= '\u{C0}' && c != '\u{D7}' && c != '\u{F7}' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit() || c == '-' || c == '.' || c == '\u{B7}'
}

/// Reads one whole top-level element from `input`. Unprefixed elements without a default
/// namespace declaration in scope get `default_ns` (use [`NS_CLIENT`] for stream content).
///
/// # Errors
/// Any [`ErrorKind`]; a truncated element gives [`ErrorKind::Incomplete`].
pub fn parse(input: &[u8], limits: &Limits, default_ns: &str) -> Result<Element, Error> {
    if input.len() > limits.max_size {
        return Err(Error {
            kind: ErrorKind::TooLarge,
            offset: limits.max_size,
        });
    }
    let s = match core::str::from_utf8(input) {
        Ok(s) => s,
        Err(e) => {
            let kind = if e.error_len().is_none() {
                ErrorKind::Incomplete
            } else {
                ErrorKind::InvalidUtf8
            };
            return Err(Error {
                kind,
                offset: e.valid_up_to(),
            });
        }
    };
    let mut r = Reader {
        s,
        pos: 0,
        limits,
        default_ns,
        scopes: Vec::new(),
    };
    r.skip_ws();
    if r.rest().starts_with("<?xml") {
        r.xml_decl()?;
        r.skip_ws();
    }
    let el = r.element()?;
    r.skip_ws();
    if r.pos < r.s.len() {
        return Err(r.err(ErrorKind::TrailingData));
    }
    Ok(el)
}

/// Whether `input` is empty or only XML whitespace.
#[must_use]
pub fn is_blank(input: &[u8]) -> bool {
    for b in input {
        if !matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            return false;
        }
    }
    true
}

/// The byte offset of the first `needle` in `hay` (a plain byte scan: no `str` pattern
/// machinery, whose searcher and panic paths cost kilobytes of wasm).
#[must_use]
pub fn find(hay: &str, needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let hay = hay.as_bytes();
    let mut from = 0;
    while let Some(i) = find_byte(hay.get(from..)?, first) {
        let at = from.saturating_add(i);
        if hay.get(at..)?.starts_with(needle) {
            return Some(at);
        }
        from = at.saturating_add(1);
    }
    None
}

/// The index of the first `b` in `s` (a loop shared by every byte search).
#[must_use]
pub fn find_byte(s: &[u8], b: u8) -> Option<usize> {
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if c == b {
            return Some(i);
        }
        i = i.saturating_add(1);
    }
    None
}

/// `s` split around the first `sep` (an ASCII byte): `str::split_once` without the char
/// searcher.
#[must_use]
pub fn split_once(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = find_byte(s.as_bytes(), sep)?;
    Some((s.get(..i)?, s.get(i.saturating_add(1)..)?))
}

/// The byte offset of character number `n` (from 0) of `s`, `None` when `s` has fewer
/// characters (lead bytes are counted: no UTF-8 decoding).
fn char_offset(s: &str, n: usize) -> Option<usize> {
    let mut seen = 0usize;
    for (i, b) in s.bytes().enumerate() {
        if b & 0xC0 != 0x80 {
            if seen == n {
                return Some(i);
            }
            seen = seen.saturating_add(1);
        }
    }
    None
}

/// Parses a non-empty run of ASCII digits in `radix` (10 or 16) as a `u32`; `None` for an
/// empty string, any other character or an overflow (`u32::from_str_radix` without its sign
/// handling and generic code).
#[must_use]
pub fn parse_radix(s: &str, radix: u32) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u32, |acc, b| {
        // Not `char::to_digit`: its radix assertion would link a panic path.
        let d = match b {
            b'0'..=b'9' => b.wrapping_sub(b'0'),
            b'a'..=b'f' => b.wrapping_sub(b'a').wrapping_add(10),
            b'A'..=b'F' => b.wrapping_sub(b'A').wrapping_add(10),
            _ => return None,
        };
        let d = u32::from(d);
        if d >= radix {
            return None;
        }
        acc.checked_mul(radix)?.checked_add(d)
    })
}

/// Parses a decimal `u32` as `str::parse` does (an optional `+`, digits), after trimming XML
/// (ASCII) whitespace: attribute and text values carry numbers (`h`, `max`, `count`, codes).
#[must_use]
pub fn parse_u32(s: &str) -> Option<u32> {
    let s = s.trim_ascii();
    parse_radix(s.strip_prefix('+').unwrap_or(s), 10)
}

/// Parses a decimal `i8` as `str::parse` does (an optional sign, digits), after trimming XML
/// (ASCII) whitespace.
#[must_use]
pub fn parse_i8(s: &str) -> Option<i8> {
    let s = s.trim_ascii();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = i32::try_from(parse_radix(digits, 10)?).ok()?;
    i8::try_from(if neg { -v } else { v }).ok()
}

/// Length of the run at the start of `s` that character data (`quote` 0) or an attribute
/// value quoted by `quote` copies as is: it stops at markup (`<`, `&`), CR, the quote, in
/// attribute values at tab and LF (normalised to spaces), in text at `]` (for `]]>`), and at
/// characters XML does not allow (C0 controls, U+FFFE, U+FFFF). The run ends on a character
/// boundary: every stop is an ASCII byte or the lead byte of U+FFFE/U+FFFF.
fn plain_len(s: &str, quote: u8) -> usize {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let stop = match b {
            b'<' | b'&' | b'\r' => true,
            b'\t' | b'\n' => quote != 0,
            b']' => quote == 0,
            0xEF => {
                bytes.get(i.saturating_add(1)) == Some(&0xBF)
                    && matches!(bytes.get(i.saturating_add(2)), Some(0xBE | 0xBF))
            }
            _ => b < 0x20 || b == quote,
        };
        if stop {
            break;
        }
        i = i.saturating_add(1);
    }
    i
}

struct Frame<'a> {
    el: Element,
    qname: &'a str,
    mark: usize,
}

struct Reader<'a, 'l> {
    s: &'a str,
    pos: usize,
    limits: &'l Limits,
    default_ns: &'l str,
    /// In-scope namespace bindings: (prefix, uri); "" is the default namespace.
    scopes: Vec<(&'a str, String)>,
}

impl<'a> Reader<'a, '_> {
    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    fn err(&self, kind: ErrorKind) -> Error {
        Error {
            kind,
            offset: self.pos,
        }
    }

    fn err_at(kind: ErrorKind, offset: usize) -> Error {
        Error { kind, offset }
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self, c: char) {
        self.pos = self.pos.saturating_add(c.len_utf8());
    }

    fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if matches!(c, ' ' | '\t' | '\r' | '\n') {
                self.bump(c);
            } else {
                break;
            }
        }
        self.pos != start
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.rest().starts_with(lit) {
            self.pos = self.pos.saturating_add(lit.len());
            true
        } else {
            false
        }
    }

    /// Fails with Incomplete when the rest is a proper prefix of `lit`, else `kind`.
    fn consume(&mut self, lit: &str, kind: ErrorKind) -> Result<(), Error> {
        if self.eat(lit) {
            return Ok(());
        }
        if lit.starts_with(self.rest()) {
            return Err(Reader::err_at(ErrorKind::Incomplete, self.s.len()));
        }
        Err(self.err(kind))
    }

    fn xml_decl(&mut self) -> Result<(), Error> {
        let start = self.pos;
        self.pos = self.pos.saturating_add(5);
        match self.peek() {
            None => return Err(self.err(ErrorKind::Incomplete)),
            Some(' ' | '\t' | '\r' | '\n') => {}
            Some(_) => return Err(Reader::err_at(ErrorKind::ProcessingInstruction, start)),
        }
        let rest = self.rest();
        let Some(end) = find(rest, b"?>") else {
            return Err(Reader::err_at(ErrorKind::Incomplete, self.s.len()));
        };
        let body = rest.get(..end).unwrap_or("");
        if !body.trim_start().starts_with("version")
            || find(body, b"<").is_some()
            || !body.chars().all(is_xml_char)
        {
            return Err(Reader::err_at(ErrorKind::BadXmlDeclaration, start));
        }
        self.pos = self.pos.saturating_add(end).saturating_add(2);
        Ok(())
    }

    fn name(&mut self) -> Result<&'a str, Error> {
        let start = self.pos;
        let rest = self.rest();
        let bytes = rest.as_bytes();
        // ASCII names (nearly all of them) are scanned as bytes; a non-ASCII character sends
        // the scan to the char loop, which knows the whole Name production.
        let mut end = 0;
        while let Some(&b) = bytes.get(end) {
            let ok = match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'_' | b':' => true,
                b'0'..=b'9' | b'-' | b'.' => end > 0,
                _ => false,
            };
            if !ok {
                break;
            }
            end = end.saturating_add(1);
        }
        if bytes.get(end).is_some_and(|b| !b.is_ascii()) {
            let mut chars = rest.char_indices();
            match chars.next() {
                None => return Err(self.err(ErrorKind::Incomplete)),
                Some((_, c)) if is_name_start(c) => {}
                Some(_) => return Err(self.err(ErrorKind::InvalidName)),
            }
            end = rest.len();
            for (i, c) in chars {
                if !is_name_char(c) {
                    end = i;
                    break;
                }
            }
        } else if end == 0 {
            let kind = if bytes.is_empty() {
                ErrorKind::Incomplete
            } else {
                ErrorKind::InvalidName
            };
            return Err(self.err(kind));
        }
        let name = rest.get(..end).unwrap_or("");
        self.pos = start.saturating_add(end);
        if self.pos >= self.s.len() {
            return Err(self.err(ErrorKind::Incomplete));
        }
        // Namespaces in XML: at most one colon, not at either end, and the local part an
        // NCName too (`p:1a` is refused: the writer emits the local part on its own).
        let name_bytes = name.as_bytes();
        let (local_ok, colons) = match split_once(name, b':') {
            Some((_, local)) => (
                local.chars().next().is_some_and(is_name_start),
                if find_byte(local.as_bytes(), b':').is_some() {
                    2
                } else {
                    1
                },
            ),
            None => (true, 0),
        };
        if colons > 1
            || name_bytes.first() == Some(&b':')
            || name_bytes.last() == Some(&b':')
            || !local_ok
        {
            return Err(Reader::err_at(ErrorKind::InvalidName, start));
        }
        Ok(name)
    }

    fn lookup(&self, prefix: &str, offset: usize) -> Result<String, Error> {
        if let Some((_, uri)) = self.scopes.iter().rev().find(|(p, _)| *p == prefix) {
            return Ok(uri.clone());
        }
        match prefix {
            "" => Ok(String::from(self.default_ns)),
            "xml" => Ok(String::from(NS_XML)),
            // ejabberd and others sometimes rely on an undeclared `stream` prefix.
            "stream" => Ok(String::from(NS_STREAMS)),
            _ => Err(Reader::err_at(ErrorKind::UnboundPrefix, offset)),
        }
    }

    /// Parses a reference after `&` (pos at `&`), appending the character to `out`.
    fn reference(&mut self, out: &mut String) -> Result<(), Error> {
        let start = self.pos;
        let rest = self.rest();
        // The reference is looked for in the next 12 characters.
        let window_end = char_offset(rest, 12).unwrap_or(rest.len());
        let window = rest.get(..window_end).unwrap_or("");
        let Some(semi) = find_byte(window.as_bytes(), b';') else {
            let short = char_offset(rest, 11).is_none();
            let w = window.as_bytes();
            if short && find_byte(w, b'<').is_none() && find_byte(w, b'"').is_none() {
                return Err(Reader::err_at(ErrorKind::Incomplete, self.s.len()));
            }
            return Err(self.err(ErrorKind::UnknownEntity));
        };
        let body = window.get(1..semi).unwrap_or("");
        let c = match body {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = body.strip_prefix("#x") {
                    parse_radix(hex, 16)
                } else if let Some(dec) = body.strip_prefix('#') {
                    parse_radix(dec, 10)
                } else {
                    return Err(self.err(ErrorKind::UnknownEntity));
                };
                let Some(code) = code else {
                    return Err(self.err(ErrorKind::InvalidCharRef));
                };
                match char::from_u32(code) {
                    Some(c) if is_xml_char(c) => c,
                    _ => return Err(Reader::err_at(ErrorKind::InvalidCharRef, start)),
                }
            }
        };
        out.push(c);
        self.pos = start.saturating_add(semi).saturating_add(1);
        Ok(())
    }

    fn attr_value(&mut self, quote: u8) -> Result<String, Error> {
        let mut v = String::new();
        loop {
            let rest = self.rest();
            let n = plain_len(rest, quote);
            v.push_str(rest.get(..n).unwrap_or(""));
            self.pos = self.pos.saturating_add(n);
            let Some(&b) = rest.as_bytes().get(n) else {
                return Err(self.err(ErrorKind::Incomplete));
            };
            match b {
                _ if b == quote => {
                    self.pos = self.pos.saturating_add(1);
                    return Ok(v);
                }
                b'<' => return Err(self.err(ErrorKind::LtInAttribute)),
                b'&' => self.reference(&mut v)?,
                b'\r' | b'\t' | b'\n' => {
                    self.newline(b);
                    v.push(' ');
                }
                _ => return Err(self.err(ErrorKind::InvalidChar)),
            }
        }
    }

    /// Parses a start tag at `<`. Returns the frame and whether it was self-closing.
    fn start_tag(&mut self) -> Result<(Frame<'a>, bool), Error> {
        let tag_start = self.pos;
        self.pos = self.pos.saturating_add(1);
        let qname = self.name()?;
        let mut raw: Vec<(&'a str, String, usize)> = Vec::new();
        let self_closing;
        loop {
            let had_ws = self.skip_ws();
            match self.peek() {
                None => return Err(self.err(ErrorKind::Incomplete)),
                Some('>') => {
                    self.bump('>');
                    self_closing = false;
                    break;
                }
                Some('/') => {
                    self.consume("/>", ErrorKind::MalformedAttribute)?;
                    self_closing = true;
                    break;
                }
                Some(_) if !had_ws => return Err(self.err(ErrorKind::MalformedAttribute)),
                Some(_) => {
                    let at = self.pos;
                    let aname = self.name()?;
                    self.skip_ws();
                    self.consume("=", ErrorKind::MalformedAttribute)?;
                    self.skip_ws();
                    let quote = match self.peek() {
                        None => return Err(self.err(ErrorKind::Incomplete)),
                        Some('"') => b'"',
                        Some('\'') => b'\'',
                        Some(_) => return Err(self.err(ErrorKind::MalformedAttribute)),
                    };
                    self.pos = self.pos.saturating_add(1);
                    let value = self.attr_value(quote)?;
                    if raw.len() >= self.limits.max_attrs {
                        return Err(Reader::err_at(ErrorKind::TooManyAttributes, at));
                    }
                    for (n, _, _) in &raw {
                        if *n == aname {
                            return Err(Reader::err_at(ErrorKind::DuplicateAttribute, at));
                        }
                    }
                    raw.push((aname, value, at));
                }
            }
        }
        let mark = self.scopes.len();
        for (n, v, at) in &raw {
            if *n == "xmlns" {
                self.scopes.push(("", v.clone()));
            } else if let Some(p) = n.strip_prefix("xmlns:") {
                if v.is_empty() || p == "xmlns" || (p == "xml" && v != NS_XML) {
                    return Err(Reader::err_at(ErrorKind::BadNamespaceDeclaration, *at));
                }
                self.scopes.push((p, v.clone()));
            }
        }
        let (prefix, local) = match split_once(qname, b':') {
            Some((p, l)) => (p, l),
            None => ("", qname),
        };
        let ns = self.lookup(prefix, tag_start)?;
        let mut el = Element {
            name: String::from(local),
            ns,
            attrs: Vec::with_capacity(raw.len()),
            children: Vec::new(),
        };
        // Values are moved out of the slots (not a consuming loop: one more generic).
        for (n, v, at) in &mut raw {
            if *n == "xmlns" {
                continue;
            }
            if let Some((p, _)) = split_once(n, b':') {
                if p != "xmlns" {
                    self.lookup(p, *at)?;
                }
            }
            el.attrs.push((String::from(*n), core::mem::take(v)));
        }
        Ok((el_frame(el, qname, mark), self_closing))
    }

    fn text(&mut self, out: &mut String) -> Result<(), Error> {
        loop {
            let rest = self.rest();
            let n = plain_len(rest, 0);
            out.push_str(rest.get(..n).unwrap_or(""));
            self.pos = self.pos.saturating_add(n);
            let Some(&b) = rest.as_bytes().get(n) else {
                return Err(self.err(ErrorKind::Incomplete));
            };
            match b {
                b'<' => return Ok(()),
                b'&' => self.reference(out)?,
                b'\r' => {
                    self.newline(b);
                    out.push('\n');
                }
                b']' if self.rest().starts_with("]]>") => {
                    return Err(self.err(ErrorKind::CdataEndInText))
                }
                b']' => {
                    self.pos = self.pos.saturating_add(1);
                    out.push(']');
                }
                _ => return Err(self.err(ErrorKind::InvalidChar)),
            }
        }
    }

    /// Steps over a tab, LF or CR at `pos` (CR LF as one).
    fn newline(&mut self, b: u8) {
        self.pos = self.pos.saturating_add(1);
        if b == b'\r' && self.rest().starts_with('\n') {
            self.pos = self.pos.saturating_add(1);
        }
    }

    fn cdata(&mut self, out: &mut String) -> Result<(), Error> {
        self.pos = self.pos.saturating_add("<![CDATA[".len());
        let rest = self.rest();
        let Some(end) = find(rest, b"]]>") else {
            return Err(Reader::err_at(ErrorKind::Incomplete, self.s.len()));
        };
        let body = rest.get(..end).unwrap_or("");
        // CR LF and lone CR become LF (a flag, not a `Peekable`: one generic less).
        let mut after_cr = false;
        for c in body.chars() {
            if !is_xml_char(c) {
                return Err(self.err(ErrorKind::InvalidChar));
            }
            if c == '\n' && after_cr {
                after_cr = false;
                continue;
            }
            after_cr = c == '\r';
            out.push(if after_cr { '\n' } else { c });
        }
        self.pos = self.pos.saturating_add(end).saturating_add(3);
        Ok(())
    }

    fn element(&mut self) -> Result<Element, Error> {
        match self.peek() {
            None => return Err(self.err(ErrorKind::Incomplete)),
            Some('<') => {}
            Some(_) => return Err(self.err(ErrorKind::ExpectedElement)),
        }
        self.markup_check()?;
        let max_depth = self.limits.max_depth.min(DEPTH_CAP);
        if max_depth == 0 {
            return Err(self.err(ErrorKind::TooDeep));
        }
        let (frame, closed) = self.start_tag()?;
        if closed {
            self.scopes.truncate(frame.mark);
            return Ok(frame.el);
        }
        let mut stack: Vec<Frame<'a>> = vec![frame];
        loop {
            let rest = self.rest();
            if rest.is_empty() {
                return Err(self.err(ErrorKind::Incomplete));
            }
            if rest.starts_with("</") {
                let at = self.pos;
                self.pos = self.pos.saturating_add(2);
                let name = self.name()?;
                self.skip_ws();
                self.consume(">", ErrorKind::MismatchedEndTag)?;
                let Some(done) = stack.pop() else {
                    return Err(Reader::err_at(ErrorKind::MismatchedEndTag, at));
                };
                if done.qname != name {
                    return Err(Reader::err_at(ErrorKind::MismatchedEndTag, at));
                }
                self.scopes.truncate(done.mark);
                match stack.last_mut() {
                    None => return Ok(done.el),
                    Some(parent) => parent.el.children.push(Node::Element(done.el)),
                }
            } else if rest.starts_with("<![CDATA[") {
                let mut t = String::new();
                self.cdata(&mut t)?;
                if let Some(top) = stack.last_mut() {
                    push_text(&mut top.el, t);
                }
            } else if rest.starts_with('<') {
                self.markup_check()?;
                if stack.len() >= max_depth {
                    return Err(self.err(ErrorKind::TooDeep));
                }
                let (frame, closed) = self.start_tag()?;
                if closed {
                    self.scopes.truncate(frame.mark);
                    if let Some(top) = stack.last_mut() {
                        top.el.children.push(Node::Element(frame.el));
                    }
                } else {
                    stack.push(frame);
                }
            } else {
                let mut t = String::new();
                self.text(&mut t)?;
                if let Some(top) = stack.last_mut() {
                    push_text(&mut top.el, t);
                }
            }
        }
    }

    /// Refuses comments, PIs and declarations at `<`.
    fn markup_check(&self) -> Result<(), Error> {
        let rest = self.rest();
        let refused: [(&str, ErrorKind); 3] = [
            ("<!--", ErrorKind::Comment),
            ("<?", ErrorKind::ProcessingInstruction),
            ("<!", ErrorKind::Doctype),
        ];
        for (lit, kind) in &refused {
            if rest.starts_with(lit) {
                return Err(self.err(*kind));
            }
        }
        Ok(())
    }
}

fn el_frame(el: Element, qname: &str, mark: usize) -> Frame<'_> {
    Frame { el, qname, mark }
}

fn push_text(el: &mut Element, t: String) {
    if t.is_empty() {
        return;
    }
    if let Some(Node::Text(last)) = el.children.last_mut() {
        last.push_str(&t);
    } else {
        el.children.push(Node::Text(t));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Element, Error> {
        parse(s.as_bytes(), &Limits::default(), NS_CLIENT)
    }

    fn kind(s: &str) -> ErrorKind {
        p(s).unwrap_err().kind
    }

    /// The name scanner's byte fast path gives what the char-by-char Name production gives,
    /// on every string over an alphabet of name and non-name characters, ASCII and not.
    #[test]
    fn name_scan_matches_char_reference() {
        fn reference(rest: &str) -> Result<usize, ErrorKind> {
            let mut chars = rest.char_indices();
            match chars.next() {
                None => return Err(ErrorKind::Incomplete),
                Some((_, c)) if is_name_start(c) => {}
                Some(_) => return Err(ErrorKind::InvalidName),
            }
            let end = chars
                .find(|(_, c)| !is_name_char(*c))
                .map_or(rest.len(), |(i, _)| i);
            if end >= rest.len() {
                return Err(ErrorKind::Incomplete);
            }
            let name = &rest[..end];
            let colons = name.matches(':').count();
            let local_ok = name
                .split_once(':')
                .map_or(true, |(_, l)| l.chars().next().is_some_and(is_name_start));
            if colons > 1 || name.starts_with(':') || name.ends_with(':') || !local_ok {
                return Err(ErrorKind::InvalidName);
            }
            Ok(end)
        }
        let alphabet = [
            'a', 'Z', '_', ':', '1', '-', '.', '\u{e9}', '\u{B7}', '\u{D7}', ' ', '/', '>', '%',
        ];
        let limits = Limits::default();
        // Every string of up to 4 characters over the alphabet (about 41,000).
        let mut strings = vec![String::new()];
        let mut layer = vec![String::new()];
        for _ in 0..4 {
            layer = layer
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(layer.iter().cloned());
        }
        for s in &strings {
            let mut r = Reader {
                s,
                pos: 0,
                limits: &limits,
                default_ns: NS_CLIENT,
                scopes: Vec::new(),
            };
            let got = r.name().map(str::len).map_err(|e| e.kind);
            assert_eq!(got, reference(s), "{s:?}");
        }
    }

    #[test]
    fn basic_message() {
        let e = p("<?xml version='1.0'?>\n<message to='a@b' type=\"chat\"><body>hi &amp; &lt;you&gt; &#x41;&#66;</body></message>").unwrap();
        assert!(e.is("message", NS_CLIENT));
        assert_eq!(e.attr("to"), Some("a@b"));
        assert_eq!(e.attr("type"), Some("chat"));
        assert_eq!(e.child("body", NS_CLIENT).unwrap().text(), "hi & <you> AB");
    }

    #[test]
    fn namespaces() {
        let e = p("<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><x/></stream:features>").unwrap();
        assert!(e.is("features", NS_STREAMS));
        let m = e
            .child("mechanisms", "urn:ietf:params:xml:ns:xmpp-sasl")
            .unwrap();
        assert_eq!(
            m.child("mechanism", "urn:ietf:params:xml:ns:xmpp-sasl")
                .unwrap()
                .text(),
            "PLAIN"
        );
        assert!(e.child("x", NS_CLIENT).is_some());
        // Undeclared stream prefix (ejabberd) still resolves.
        let e = p(
            "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
        )
        .unwrap();
        assert!(e.is("features", NS_STREAMS));
        assert_eq!(kind("<foo:bar/>"), ErrorKind::UnboundPrefix);
        assert_eq!(kind("<a b:c='1'/>"), ErrorKind::UnboundPrefix);
        assert!(p("<a xml:lang='en'/>").is_ok());
        assert_eq!(kind("<a xmlns:p=''/>"), ErrorKind::BadNamespaceDeclaration);
        let e = p("<a xmlns='urn:x'><b/><c xmlns=''/></a>").unwrap();
        assert_eq!(e.elements().next().unwrap().ns, "urn:x");
        assert_eq!(e.elements().nth(1).unwrap().ns, "");
    }

    #[test]
    fn refused_constructs() {
        assert_eq!(kind("<a><!-- x --></a>"), ErrorKind::Comment);
        assert_eq!(kind("<!DOCTYPE a><a/>"), ErrorKind::Doctype);
        assert_eq!(kind("<a><?pi x?></a>"), ErrorKind::ProcessingInstruction);
        assert_eq!(kind("<?php x?><a/>"), ErrorKind::ProcessingInstruction);
        assert_eq!(kind("<a>&foo;</a>"), ErrorKind::UnknownEntity);
        assert_eq!(kind("<a>&#0;</a>"), ErrorKind::InvalidCharRef);
        assert_eq!(kind("<a>&#xD800;</a>"), ErrorKind::InvalidCharRef);
        assert_eq!(kind("<a>&#x110000;</a>"), ErrorKind::InvalidCharRef);
        assert_eq!(kind("<a>&#xFFFE;</a>"), ErrorKind::InvalidCharRef);
        assert_eq!(kind("<a>\u{1}</a>"), ErrorKind::InvalidChar);
        assert_eq!(kind("<a>]]></a>"), ErrorKind::CdataEndInText);
        assert_eq!(kind("<a b='<'/>"), ErrorKind::LtInAttribute);
        assert_eq!(kind("<a b='1' b='2'/>"), ErrorKind::DuplicateAttribute);
        assert_eq!(kind("<a></b>"), ErrorKind::MismatchedEndTag);
        assert_eq!(kind("<a/><b/>"), ErrorKind::TrailingData);
        assert_eq!(kind("hello"), ErrorKind::ExpectedElement);
        assert_eq!(kind("<a b='1'c='2'/>"), ErrorKind::MalformedAttribute);
        assert_eq!(kind("<a:b:c/>"), ErrorKind::InvalidName);
        assert_eq!(
            parse(b"<a>\xff</a>", &Limits::default(), NS_CLIENT)
                .unwrap_err()
                .kind,
            ErrorKind::InvalidUtf8
        );
    }

    #[test]
    fn cdata_and_newlines() {
        let e = p("<a>x<![CDATA[<y>&]]>z\r\nw</a>").unwrap();
        assert_eq!(e.text(), "x<y>&z\nw");
        let e = p("<a b='1\t2\r\n3&#10;'/>").unwrap();
        assert_eq!(e.attr("b"), Some("1 2 3\n"));
    }

    #[test]
    fn limits() {
        let l = Limits {
            max_size: 20,
            max_depth: 2,
            max_attrs: 1,
        };
        let k = |s: &str| parse(s.as_bytes(), &l, NS_CLIENT).unwrap_err().kind;
        assert_eq!(k("<a><b><c/></b></a>"), ErrorKind::TooDeep);
        assert!(parse(b"<a><b/></a>", &l, NS_CLIENT).is_ok());
        assert_eq!(k("<a x='1' y='2'/>"), ErrorKind::TooManyAttributes);
        assert_eq!(k("<a>0123456789012345678</a>"), ErrorKind::TooLarge);
    }

    #[test]
    fn prefixes_are_incomplete() {
        let s = "<?xml version='1.0'?><message xmlns='jabber:client' to='a&amp;b'><body>h&#233;llo &lt; ✓</body><![CDATA[x]]><x xmlns='u:x'/></message>";
        for i in 0..s.len() {
            if let Some(pre) = s.get(..i) {
                let r = p(pre);
                assert!(r.is_err(), "prefix {i} parsed");
            }
        }
        let b = s.as_bytes();
        for i in 0..b.len() {
            let r = parse(&b[..i], &Limits::default(), NS_CLIENT);
            assert!(r.is_err());
        }
        assert!(p(s).is_ok());
    }

    #[test]
    fn writer_roundtrip() {
        let e = Element::new("message", NS_CLIENT)
            .with_attr("to", "a\"'<&>\t\n\r")
            .with_child(Element::new("body", NS_CLIENT).with_text("x<&>\r\n]]>"))
            .with_child(Element::new("x", "urn:x").with_child(Element::new("y", "urn:x")));
        let s = e.to_xml();
        assert!(s.starts_with("<message xmlns=\"jabber:client\""));
        assert_eq!(p(&s).unwrap(), e);
    }

    #[test]
    fn byte_helpers_match_std() {
        for (hay, needle) in [
            ("a?>b?>", "?>"),
            ("]]]>", "]]>"),
            ("", "x"),
            ("é?é?>", "?>"),
            ("?", "?>"),
        ] {
            assert_eq!(
                find(hay, needle.as_bytes()),
                hay.find(needle),
                "{hay} {needle}"
            );
        }
        for s in [
            "0",
            "+5",
            "-5",
            "+",
            "-",
            "",
            " 42 ",
            "4294967295",
            "4294967296",
            "1a",
            "+-1",
            "٣",
            "007",
        ] {
            assert_eq!(parse_u32(s), s.trim().parse::<u32>().ok(), "{s:?}");
            assert_eq!(parse_i8(s), s.trim().parse::<i8>().ok(), "{s:?}");
        }
        for s in ["-128", "127", "128", "-129", "-0", "+127"] {
            assert_eq!(parse_i8(s), s.parse::<i8>().ok(), "{s:?}");
        }
        assert_eq!(parse_radix("fF", 16), Some(255));
        assert_eq!(parse_radix("fffffffff", 16), None);
    }

    #[test]
    fn references_near_the_window_edge() {
        // The reference is looked for in 12 characters, not 12 bytes.
        assert_eq!(
            kind("<a>&#\u{e9}\u{e9}\u{e9}\u{e9}\u{e9};</a>"),
            ErrorKind::InvalidCharRef
        );
        assert_eq!(kind("<a>&#12345678901;</a>"), ErrorKind::UnknownEntity);
        assert_eq!(kind("<a>&#123456789;</a>"), ErrorKind::InvalidCharRef);
        assert_eq!(kind("<a>&#x4"), ErrorKind::Incomplete);
        assert_eq!(
            parse(b"<a>&#x41;&#65;</a>", &Limits::default(), "")
                .unwrap()
                .text(),
            "AA"
        );
    }

    #[test]
    fn escaping() {
        let mut t = String::new();
        escape_text(&mut t, "a&b<c>d\re\"f'g\th\ni\u{1}j\u{FFFE}k\u{e9}");
        assert_eq!(
            t,
            "a&amp;b&lt;c&gt;d&#13;e\"f'g\th\ni\u{FFFD}j\u{FFFD}k\u{e9}"
        );
        let mut a = String::new();
        escape_attr(&mut a, "a&b<c>d\re\"f'g\th\ni\u{1}j\u{FFFF}k\u{e9}");
        assert_eq!(
            a,
            "a&amp;b&lt;c>d&#13;e&quot;f&apos;g&#9;h&#10;i\u{FFFD}j\u{FFFD}k\u{e9}"
        );
    }

    #[test]
    fn text_and_attribute_runs() {
        let l = Limits::default();
        let e = parse(
            "<a b='x\r\ny\tz\n\u{FFFD}\u{F000}]'>p]q]]r\r\ns\rt\tu\u{FFFD}\u{EFFF}</a>".as_bytes(),
            &l,
            "",
        )
        .unwrap();
        assert_eq!(e.attr("b"), Some("x y z \u{FFFD}\u{F000}]"));
        assert_eq!(e.text(), "p]q]]r\ns\nt\tu\u{FFFD}\u{EFFF}");
        for (bad, at) in [
            ("<a>xy\u{FFFE}</a>", 5),
            ("<a>\u{FFFF}</a>", 3),
            ("<a b='\u{FFFE}'/>", 6),
            ("<a b='x\u{1}'/>", 7),
            ("<a>\u{0}</a>", 3),
        ] {
            let err = parse(bad.as_bytes(), &l, "").unwrap_err();
            assert_eq!(
                (err.kind, err.offset),
                (ErrorKind::InvalidChar, at),
                "{bad:?}"
            );
        }
        let err = parse(b"<a>ab]]>", &l, "").unwrap_err();
        assert_eq!((err.kind, err.offset), (ErrorKind::CdataEndInText, 5));
        let err = parse(b"<a b='x<'/>", &l, "").unwrap_err();
        assert_eq!((err.kind, err.offset), (ErrorKind::LtInAttribute, 7));
        assert_eq!(
            parse(b"<a b=\"it's\" c='say \"hi\"'/>", &l, "")
                .unwrap()
                .attr("c"),
            Some("say \"hi\"")
        );
        assert_eq!(kind("<a>abc"), ErrorKind::Incomplete);
        assert_eq!(kind("<a b='abc"), ErrorKind::Incomplete);
        assert_eq!(kind("<a>\r"), ErrorKind::Incomplete);
    }

    #[test]
    fn byte_helpers_match_str_methods() {
        for s in ["", "a", ":", "a:b", "a:b:c", "é:ü", "ab:", ":ab", "x=y,z"] {
            for sep in [b':', b'=', b','] {
                assert_eq!(
                    split_once(s, sep),
                    s.split_once(char::from(sep)),
                    "{s} {sep}"
                );
            }
            for n in 0..6 {
                assert_eq!(
                    char_offset(s, n),
                    s.char_indices().nth(n).map(|(i, _)| i),
                    "{s} {n}"
                );
            }
        }
        assert_eq!(char_offset("aé€😀b", 4), Some(10));
    }

    #[test]
    fn cdata_line_ends() {
        let e = parse(
            b"<a><![CDATA[x\r\ny\r\rz\r\n\n\r]]></a>",
            &Limits::default(),
            NS_CLIENT,
        )
        .unwrap();
        assert_eq!(e.text(), "x\ny\n\nz\n\n\n");
    }
}
