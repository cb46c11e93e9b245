//! Stream management (XEP-0198, `urn:xmpp:sm:3`): the counters and the queue of stanzas the
//! server has not acknowledged yet, and the `<enable/>`, `<resume/>`, `<r/>` and `<a/>`
//! nonzas.
//!
//! The session owns one [`StreamManagement`] and decides when to enable, request acks and
//! resume; this module only keeps the arithmetic right: `h` counts wrap at 2^32, an ack for
//! more stanzas than were sent is refused, and after a resumption exactly the stanzas the
//! server did not count are handed back for re-sending (in order), so nothing is lost or
//! duplicated.

use super::stanza::push_i64;
use super::xml::Element;

/// The stream management namespace (version 3).
pub const NS_SM: &str = "urn:xmpp:sm:3";

/// Most unacknowledged stanzas kept; beyond it new page stanzas are refused.
pub const QUEUE_MAX: usize = 1000;

/// Stream management state of one session (across resumptions).
#[derive(Debug, Default)]
pub struct StreamManagement {
    /// `<enable/>` sent: outgoing stanzas are counted and kept.
    out_on: bool,
    /// `<enabled/>` received: incoming stanzas are counted.
    in_on: bool,
    /// Resumption id (`<enabled resume='true' id=…/>`).
    id: Option<String>,
    /// The server's resumption window in seconds (`max`).
    max_secs: Option<u32>,
    /// Incoming stanzas handled (our `h`).
    inbound: u32,
    /// The server's last `h` (stanzas of ours it handled).
    acked: u32,
    /// Sent but not yet acknowledged, oldest first.
    unacked: Vec<String>,
    /// An `<r/>` is outstanding.
    pub requested: bool,
}

/// Parses an `h` attribute (`xs:unsignedInt`).
#[must_use]
pub fn parse_h(el: &Element) -> Option<u32> {
    el.attr("h").and_then(crate::xmpp::xml::parse_u32)
}

fn push_u32(out: &mut String, v: u32) {
    push_i64(out, i64::from(v));
}

impl StreamManagement {
    /// Starts counting our stanzas (`<enable/>` is being sent); forgets any earlier stream.
    /// Returns the `<enable resume='true'/>` nonza.
    pub fn enable(&mut self) -> Element {
        *self = StreamManagement {
            out_on: true,
            ..StreamManagement::default()
        };
        Element::new("enable", NS_SM).with_attr("resume", "true")
    }

    /// Forgets everything (stream management off).
    pub fn reset(&mut self) {
        *self = StreamManagement::default();
    }

    /// `<enabled/>` arrived: count incoming stanzas from now on.
    pub fn on_enabled(&mut self, el: &Element) {
        self.in_on = true;
        self.inbound = 0;
        if matches!(el.attr("resume"), Some("true" | "1")) {
            self.id = el.attr("id").filter(|i| !i.is_empty()).map(String::from);
        }
        self.max_secs = el.attr("max").and_then(crate::xmpp::xml::parse_u32);
    }

    /// Whether our stanzas are being counted.
    #[must_use]
    pub fn counting_out(&self) -> bool {
        self.out_on
    }

    /// Whether the server enabled stream management (`<enabled/>` arrived).
    #[must_use]
    pub fn active(&self) -> bool {
        self.in_on
    }

    /// Whether the stream can be resumed after a drop.
    #[must_use]
    pub fn resumable(&self) -> bool {
        self.in_on && self.id.is_some()
    }

    /// The server's resumption window, seconds.
    #[must_use]
    pub fn max_secs(&self) -> Option<u32> {
        self.max_secs
    }

    /// Stanzas sent and not yet acknowledged.
    #[must_use]
    pub fn unacked_len(&self) -> usize {
        self.unacked.len()
    }

    /// Records an outgoing stanza (no-op while off).
    pub fn sent(&mut self, xml: &str) {
        if self.out_on {
            self.unacked.push(String::from(xml));
        }
    }

    /// Counts an incoming stanza (no-op before `<enabled/>`).
    pub fn received(&mut self) {
        if self.in_on {
            self.inbound = self.inbound.wrapping_add(1);
        }
    }

    /// The server handled `h` of our stanzas: drops those from the queue.
    ///
    /// # Errors
    /// When `h` counts more stanzas than were sent (or goes backwards).
    pub fn on_ack(&mut self, h: u32) -> Result<(), &'static str> {
        let n = usize::try_from(h.wrapping_sub(self.acked)).unwrap_or(usize::MAX);
        if n > self.unacked.len() {
            return Err("XEP-0198: the server acknowledged more stanzas than were sent");
        }
        // The acknowledged head goes (`split_off`, not `drain`: less code in the wasm).
        self.unacked = self.unacked.split_off(n);
        self.acked = h;
        Ok(())
    }

    /// `<r/>`: asks the server for its count.
    #[must_use]
    pub fn request() -> Element {
        Element::new("r", NS_SM)
    }

    /// `<a h='…'/>` with our count.
    #[must_use]
    pub fn answer(&self) -> Element {
        let mut h = String::new();
        push_u32(&mut h, self.inbound);
        Element::new("a", NS_SM).with_attr("h", &h)
    }

    /// `<resume h='…' previd='…'/>`, or `None` if not resumable.
    #[must_use]
    pub fn resume(&self) -> Option<Element> {
        let id = self.id.as_deref().filter(|_| self.in_on)?;
        let mut h = String::new();
        push_u32(&mut h, self.inbound);
        Some(
            Element::new("resume", NS_SM)
                .with_attr("h", &h)
                .with_attr("previd", id),
        )
    }

    /// Whether `<resumed previd=…/>` names our stream.
    #[must_use]
    pub fn is_ours(&self, el: &Element) -> bool {
        el.attr("previd").is_some() && el.attr("previd") == self.id.as_deref()
    }

    /// `<resumed h='…'/>`: drops what the server handled and returns the rest to re-send, in
    /// order (the caller sends them again, which counts and queues them anew).
    ///
    /// # Errors
    /// As [`StreamManagement::on_ack`].
    pub fn on_resumed(&mut self, h: u32) -> Result<Vec<String>, &'static str> {
        self.on_ack(h)?;
        self.requested = false;
        Ok(core::mem::take(&mut self.unacked))
    }

    /// The stream is gone for good (resumption refused, or the session ended): stanzas that
    /// may not have arrived, after applying the server's last `h` if it told one. Resets.
    pub fn lost(&mut self, h: Option<u32>) -> Vec<String> {
        if let Some(h) = h {
            // A bogus h cannot be trusted: then report the whole queue.
            let _ = self.on_ack(h);
        }
        let out = core::mem::take(&mut self.unacked);
        self.reset();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmpp::xml::{parse, Limits, NS_CLIENT};

    fn el(x: &str) -> Element {
        parse(x.as_bytes(), &Limits::default(), NS_CLIENT).unwrap()
    }

    #[test]
    fn counts_acks_and_resumes() {
        let mut sm = StreamManagement::default();
        sm.sent("ignored before enable");
        assert_eq!(
            sm.enable().to_xml(),
            "<enable xmlns=\"urn:xmpp:sm:3\" resume=\"true\"/>"
        );
        assert_eq!(sm.unacked_len(), 0);
        sm.received();
        assert_eq!(
            sm.answer().attr("h"),
            Some("0"),
            "not counting before enabled"
        );
        sm.on_enabled(&el(
            "<enabled xmlns='urn:xmpp:sm:3' id='abc' resume='true' max='600'/>",
        ));
        assert!(sm.resumable());
        assert_eq!(sm.max_secs(), Some(600));
        for i in 0..5 {
            sm.sent(&i.to_string());
        }
        sm.received();
        sm.received();
        assert_eq!(sm.answer().to_xml(), "<a xmlns=\"urn:xmpp:sm:3\" h=\"2\"/>");
        sm.on_ack(2).unwrap();
        assert_eq!(sm.unacked_len(), 3);
        assert!(sm.on_ack(6).is_err());
        assert!(sm.on_ack(1).is_err(), "backwards");
        assert_eq!(
            sm.resume().unwrap().to_xml(),
            "<resume xmlns=\"urn:xmpp:sm:3\" h=\"2\" previd=\"abc\"/>"
        );
        assert!(sm.is_ours(&el("<resumed xmlns='urn:xmpp:sm:3' previd='abc' h='3'/>")));
        assert!(!sm.is_ours(&el("<resumed xmlns='urn:xmpp:sm:3' previd='x' h='3'/>")));
        assert_eq!(sm.on_resumed(3).unwrap(), ["3", "4"]);
        assert_eq!(sm.unacked_len(), 0);
        sm.sent("3");
        sm.sent("4");
        sm.sent("5");
        assert_eq!(sm.lost(Some(4)), ["4", "5"]);
        assert!(!sm.resumable());
        assert!(!sm.counting_out());
    }

    #[test]
    fn wraps_at_two_to_the_32() {
        let mut sm = StreamManagement::default();
        let _ = sm.enable();
        sm.acked = u32::MAX - 1;
        sm.sent("a");
        sm.sent("b");
        sm.sent("c");
        sm.on_ack(0).unwrap();
        assert_eq!(sm.unacked_len(), 1);
        sm.on_ack(1).unwrap();
        assert_eq!(sm.unacked_len(), 0);
        sm.on_enabled(&el("<enabled xmlns='urn:xmpp:sm:3'/>"));
        assert!(!sm.resumable(), "no resume attribute");
        sm.inbound = u32::MAX;
        sm.received();
        assert_eq!(sm.answer().attr("h"), Some("0"));
        assert_eq!(parse_h(&el("<a h=' 7 '/>")), Some(7));
        assert_eq!(parse_h(&el("<a h='-1'/>")), None);
        assert_eq!(parse_h(&el("<a h='4294967296'/>")), None);
    }
}
