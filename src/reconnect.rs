//! When and where to reconnect: the back-off schedule, its jitter, the URL rotation and the
//! reactions to the network going away or the page coming back into view. Protocol-neutral and
//! sans-IO like the cores that embed it: it never reads a clock (instants come in as
//! [`Millis`]) and draws its jitter from a seed the caller supplies, so tests with a fake
//! clock and a fixed seed get exact schedules. It only decides; the session that owns it says
//! when a connection came up or went down, and the browser layer opens the sockets.
//!
//! The delay before retry *n* (1, 2, …) is drawn from `[d/2, d]` with
//! `d = min(max_delay, initial_delay · 2^(n-1))` ("equal jitter": spread out, never zero).
//! The count *n* goes back to zero once a connection has stayed up for `max_delay`, so a
//! server that accepts and then drops every connection still gets the growing delays. Each
//! retry goes to the next URL in the list, round-robin (failover across a cluster).

use crate::time::Millis;

/// How to reconnect after a connection drops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReconnectConfig {
    /// Reconnect at all. Default true.
    pub enabled: bool,
    /// Upper bound of the first retry's delay, in ms (at least 1). Default 1 000.
    pub initial_delay_ms: u32,
    /// Largest delay between retries, in ms. Default 30 000.
    pub max_delay_ms: u32,
    /// Give up after this many retries in a row without a lasting connection (0: never).
    /// Default 0.
    pub max_attempts: u32,
}

impl Default for ReconnectConfig {
    fn default() -> Self {
        ReconnectConfig {
            enabled: true,
            initial_delay_ms: 1_000,
            max_delay_ms: 30_000,
            max_attempts: 0,
        }
    }
}

impl ReconnectConfig {
    /// No reconnection.
    #[must_use]
    pub fn disabled() -> Self {
        ReconnectConfig {
            enabled: false,
            ..ReconnectConfig::default()
        }
    }
}

/// What happens after a connection went down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Retry number `attempt` is due at `at`, `delay_ms` from now.
    Retry {
        attempt: u32,
        at: Millis,
        delay_ms: u64,
    },
    /// Retry number `attempt` waits for the network to come back.
    WaitOnline { attempt: u32 },
    /// No more retries: disabled, stopped, no URL, or out of attempts.
    GiveUp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// A connection is being made or is up.
    Active,
    /// The next attempt is due at this instant.
    Waiting(Millis),
    /// The next attempt waits for the `online` signal.
    Offline,
    /// Never again.
    Stopped,
}

/// The reconnection state of one client.
#[derive(Clone, Debug)]
pub struct Reconnect {
    config: ReconnectConfig,
    urls: Vec<String>,
    index: usize,
    attempt: u32,
    rng: u64,
    phase: Phase,
    online: bool,
    up_since: Option<Millis>,
}

/// splitmix64: a small, well-mixed generator; plenty for spreading retries out.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Reconnect {
    /// A policy over `urls` (tried in turn, the first one first), with jitter drawn from `seed`.
    #[must_use]
    pub fn new(config: ReconnectConfig, urls: Vec<String>, seed: u64) -> Self {
        Reconnect {
            config,
            urls,
            index: 0,
            attempt: 0,
            rng: seed,
            phase: Phase::Active,
            online: true,
            up_since: None,
        }
    }

    /// The URL of the current (or next) attempt; `None` without URLs.
    #[must_use]
    pub fn url(&self) -> Option<&str> {
        self.urls.get(self.index).map(String::as_str)
    }

    /// Retries in a row so far (0 while a lasting connection is up).
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Whether a drop now would be followed by a retry (not counting the network state).
    #[must_use]
    pub fn can_retry(&self) -> bool {
        self.retry_allowed(false)
    }

    /// Whether a drop would be followed by a retry, `fresh` counting the attempts as reset.
    fn retry_allowed(&self, fresh: bool) -> bool {
        self.config.enabled
            && self.phase != Phase::Stopped
            && !self.urls.is_empty()
            && (self.config.max_attempts == 0 || fresh || self.attempt < self.config.max_attempts)
    }

    /// Whether a drop at `now` would be followed by a retry: like [`Reconnect::can_retry`],
    /// counting a connection up since long enough as a fresh start.
    #[must_use]
    pub fn would_retry(&self, now: Millis) -> bool {
        let lasting = self.up_since.is_some_and(|t| now.since(t) >= self.max());
        self.retry_allowed(lasting)
    }

    /// Whether `stop` was called (or the policy gave up).
    #[must_use]
    pub fn is_stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }

    /// Whether a retry is scheduled or waits for the network.
    #[must_use]
    pub fn is_waiting(&self) -> bool {
        matches!(self.phase, Phase::Waiting(_) | Phase::Offline)
    }

    fn initial(&self) -> u64 {
        u64::from(self.config.initial_delay_ms.max(1))
    }

    fn max(&self) -> u64 {
        u64::from(self.config.max_delay_ms).max(self.initial())
    }

    /// The delay bound `d` for retry number `attempt` (1-based), before jitter.
    #[must_use]
    pub fn ceiling(&self, attempt: u32) -> u64 {
        let doublings = attempt.saturating_sub(1).min(63);
        let factor = 1u64.checked_shl(doublings).unwrap_or(u64::MAX);
        self.initial().saturating_mul(factor).min(self.max())
    }

    /// The jittered delay for retry number `attempt`: uniform in `[d/2, d]`.
    fn delay(&mut self, attempt: u32) -> u64 {
        let d = self.ceiling(attempt);
        let half = d / 2;
        let span = d.saturating_sub(half).saturating_add(1);
        half.saturating_add(next_random(&mut self.rng) % span)
    }

    /// The session is established (e.g. CONNECTED arrived) at `now`.
    pub fn connected(&mut self, now: Millis) {
        if self.phase != Phase::Stopped {
            self.phase = Phase::Active;
        }
        self.up_since = Some(now);
    }

    /// The connection (or the attempt) ended at `now`: schedules the next attempt, on the
    /// next URL, or gives up.
    pub fn disconnected(&mut self, now: Millis) -> Next {
        if let Some(t) = self.up_since.take() {
            if now.since(t) >= self.max() {
                self.attempt = 0;
            }
        }
        if !self.can_retry() {
            self.phase = Phase::Stopped;
            return Next::GiveUp;
        }
        self.attempt = self.attempt.saturating_add(1);
        let n = self.urls.len().max(1);
        self.index = self.index.saturating_add(1) % n;
        if !self.online {
            self.phase = Phase::Offline;
            return Next::WaitOnline {
                attempt: self.attempt,
            };
        }
        let delay_ms = self.delay(self.attempt);
        let at = now + delay_ms;
        self.phase = Phase::Waiting(at);
        Next::Retry {
            attempt: self.attempt,
            at,
            delay_ms,
        }
    }

    /// When the scheduled attempt is due.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        match self.phase {
            Phase::Waiting(at) => Some(at),
            Phase::Active | Phase::Offline | Phase::Stopped => None,
        }
    }

    /// If the scheduled attempt is due at `now`, starts it and returns its URL.
    pub fn handle_timeout(&mut self, now: Millis) -> Option<&str> {
        match self.phase {
            Phase::Waiting(at) if now >= at => {
                self.phase = Phase::Active;
                self.url()
            }
            _ => None,
        }
    }

    /// The browser says the network went away (`false`) or came back (`true`). Offline, no
    /// attempt is made; back online, a waiting attempt is made at once.
    pub fn set_online(&mut self, now: Millis, online: bool) {
        self.online = online;
        match (self.phase, online) {
            (Phase::Waiting(_), false) => self.phase = Phase::Offline,
            (Phase::Offline | Phase::Waiting(_), true) => self.phase = Phase::Waiting(now),
            _ => {}
        }
    }

    /// The page became visible (`true`) or hidden. Becoming visible cuts a pending wait short:
    /// someone is looking at the page now.
    pub fn set_visible(&mut self, now: Millis, visible: bool) {
        if let (Phase::Waiting(at), true) = (self.phase, visible) {
            if at > now {
                self.phase = Phase::Waiting(now);
            }
        }
    }

    /// Never reconnect again (the page called `disconnect`).
    pub fn stop(&mut self) {
        self.phase = Phase::Stopped;
    }
}

/// `url` with any `user:password@` part replaced by `***@`, for events, errors and debug
/// output (a page may put credentials into a WebSocket URL; they must never be echoed).
/// Byte scans only: `str::find` would pull a substring searcher into the wasm.
#[must_use]
pub fn redact_url(url: &str) -> std::borrow::Cow<'_, str> {
    let b = url.as_bytes();
    // The authority starts after "://" (or at 0) and ends at the first '/', '?' or '#'.
    let mut start = 0;
    let mut i = 0usize;
    while let Some(w) = b.get(i..i.saturating_add(3)) {
        if w == b"://" {
            start = i.saturating_add(3);
            break;
        }
        i = i.saturating_add(1);
    }
    // The last '@' before the authority's end, as an offset from `start`.
    let mut at = None;
    for (j, &c) in b.get(start..).unwrap_or_default().iter().enumerate() {
        match c {
            b'/' | b'?' | b'#' => break,
            b'@' => at = Some(j),
            _ => {}
        }
    }
    let Some(at) = at else {
        return std::borrow::Cow::Borrowed(url);
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(url.get(..start).unwrap_or_default());
    out.push_str("***");
    out.push_str(url.get(start.saturating_add(at)..).unwrap_or_default());
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(initial: u32, max: u32, attempts: u32, urls: &[&str]) -> Reconnect {
        Reconnect::new(
            ReconnectConfig {
                enabled: true,
                initial_delay_ms: initial,
                max_delay_ms: max,
                max_attempts: attempts,
            },
            urls.iter().map(|u| (*u).to_owned()).collect(),
            42,
        )
    }

    #[test]
    fn ceilings_double_up_to_the_max() {
        let p = policy(1000, 30_000, 0, &["a"]);
        let c: Vec<u64> = (1..=8).map(|n| p.ceiling(n)).collect();
        assert_eq!(c, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
        assert_eq!(p.ceiling(u32::MAX), 30_000);
        // Zero initial delay counts as 1 ms; a max below the initial is lifted to it.
        let p = policy(0, 0, 0, &["a"]);
        assert_eq!(p.ceiling(1), 1);
        assert_eq!(p.ceiling(5), 1);
    }

    #[test]
    fn delays_are_jittered_within_half_to_full() {
        let mut p = policy(1000, 8000, 0, &["a"]);
        let mut now = Millis(0);
        let mut seen = Vec::new();
        for n in 1..=6u32 {
            match p.disconnected(now) {
                Next::Retry {
                    attempt,
                    at,
                    delay_ms,
                } => {
                    assert_eq!(attempt, n);
                    let d = p.ceiling(n);
                    assert!(delay_ms >= d / 2 && delay_ms <= d, "{n}: {delay_ms} vs {d}");
                    assert_eq!(at, now + delay_ms);
                    assert_eq!(p.poll_timeout(), Some(at));
                    assert_eq!(p.handle_timeout(at - 1), None, "early is a no-op");
                    assert_eq!(p.handle_timeout(at), Some("a"));
                    assert_eq!(p.poll_timeout(), None);
                    now = at;
                    seen.push(delay_ms);
                }
                other => panic!("{other:?}"),
            }
        }
        // Jitter: not simply the ceilings.
        assert_ne!(seen, [500, 1000, 2000, 4000, 4000, 4000]);
        // Same seed, same schedule.
        let mut q = policy(1000, 8000, 0, &["a"]);
        let again: Vec<u64> = (0..6)
            .map(|_| match q.disconnected(Millis(0)) {
                Next::Retry { delay_ms, .. } => delay_ms,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(again, seen);
    }

    #[test]
    fn redacts_credentials_in_urls() {
        assert_eq!(redact_url("ws://u:p@h:1/ws?a@b"), "ws://***@h:1/ws?a@b");
        assert_eq!(redact_url("wss://tok@h/x"), "wss://***@h/x");
        assert_eq!(redact_url("ws://h/p@q"), "ws://h/p@q");
        assert_eq!(redact_url("ws://a@b@h"), "ws://***@h");
        assert_eq!(redact_url("u:p@h"), "***@h");
        assert_eq!(redact_url(""), "");
        assert_eq!(redact_url("ws://h?x@y"), "ws://h?x@y");
        assert_eq!(redact_url("wss://u@h#f@g"), "wss://***@h#f@g");
        assert_eq!(redact_url("://@"), "://***@");
        assert_eq!(redact_url("ws:/u@h"), "ws:/u@h");
        assert_eq!(redact_url("a://b://u@h"), "a://b://u@h");
        assert_eq!(redact_url("a://u@b://h"), "a://***@b://h");
    }

    #[test]
    fn urls_rotate_round_robin() {
        let mut p = policy(10, 10, 0, &["a", "b", "c"]);
        assert_eq!(p.url(), Some("a"));
        let mut order = Vec::new();
        let mut now = Millis(0);
        for _ in 0..5 {
            let Next::Retry { at, .. } = p.disconnected(now) else {
                panic!()
            };
            now = at;
            order.push(p.handle_timeout(now).unwrap().to_owned());
        }
        assert_eq!(order, ["b", "c", "a", "b", "c"]);
    }

    #[test]
    fn a_lasting_connection_resets_the_count() {
        let mut p = policy(100, 1000, 0, &["a"]);
        for _ in 0..4 {
            let _ = p.disconnected(Millis(0));
        }
        assert_eq!(p.attempt(), 4);
        // Up for less than max_delay: still counts.
        p.connected(Millis(10_000));
        let Next::Retry { attempt, .. } = p.disconnected(Millis(10_999)) else {
            panic!()
        };
        assert_eq!(attempt, 5);
        // Up for max_delay: back to the first retry.
        p.connected(Millis(20_000));
        let Next::Retry {
            attempt, delay_ms, ..
        } = p.disconnected(Millis(21_000))
        else {
            panic!()
        };
        assert_eq!(attempt, 1);
        assert!((50..=100).contains(&delay_ms));
    }

    #[test]
    fn gives_up_after_max_attempts_disabled_stopped_or_without_urls() {
        let mut p = policy(10, 10, 2, &["a"]);
        assert!(matches!(p.disconnected(Millis(0)), Next::Retry { .. }));
        assert!(matches!(p.disconnected(Millis(0)), Next::Retry { .. }));
        assert!(!p.can_retry());
        assert_eq!(p.disconnected(Millis(0)), Next::GiveUp);
        assert!(p.is_stopped());

        let mut p = Reconnect::new(ReconnectConfig::disabled(), vec!["a".into()], 1);
        assert_eq!(p.disconnected(Millis(0)), Next::GiveUp);

        let mut p = policy(10, 10, 0, &[]);
        assert_eq!(p.url(), None);
        assert_eq!(p.disconnected(Millis(0)), Next::GiveUp);

        let mut p = policy(10, 10, 0, &["a"]);
        let Next::Retry { at, .. } = p.disconnected(Millis(0)) else {
            panic!()
        };
        p.stop();
        assert_eq!(p.poll_timeout(), None);
        assert_eq!(p.handle_timeout(at), None);
        assert_eq!(p.disconnected(at), Next::GiveUp);
        p.connected(at);
        assert!(p.is_stopped());
    }

    #[test]
    fn offline_pauses_and_online_retries_at_once() {
        let mut p = policy(1000, 1000, 0, &["a"]);
        let Next::Retry { at, .. } = p.disconnected(Millis(0)) else {
            panic!()
        };
        p.set_online(Millis(10), false);
        assert!(p.is_waiting());
        assert_eq!(p.poll_timeout(), None);
        assert_eq!(p.handle_timeout(at), None);
        p.set_online(Millis(5000), true);
        assert_eq!(p.poll_timeout(), Some(Millis(5000)));
        assert_eq!(p.handle_timeout(Millis(5000)), Some("a"));
        // A drop while offline waits for the network.
        p.set_online(Millis(6000), false);
        assert_eq!(
            p.disconnected(Millis(6000)),
            Next::WaitOnline { attempt: 2 }
        );
        assert_eq!(p.poll_timeout(), None);
        p.set_online(Millis(7000), true);
        assert_eq!(p.handle_timeout(Millis(7000)), Some("a"));
        // Online while connected changes nothing.
        p.set_online(Millis(8000), true);
        assert_eq!(p.poll_timeout(), None);
    }

    #[test]
    fn becoming_visible_cuts_the_wait_short() {
        let mut p = policy(10_000, 10_000, 0, &["a"]);
        let Next::Retry { at, .. } = p.disconnected(Millis(0)) else {
            panic!()
        };
        assert!(at >= Millis(5000));
        p.set_visible(Millis(100), false);
        assert_eq!(p.poll_timeout(), Some(at));
        p.set_visible(Millis(200), true);
        assert_eq!(p.poll_timeout(), Some(Millis(200)));
        // Visible while connected: nothing to cut.
        assert_eq!(p.handle_timeout(Millis(200)), Some("a"));
        p.set_visible(Millis(300), true);
        assert_eq!(p.poll_timeout(), None);
    }
}
