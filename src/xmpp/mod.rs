//! XMPP over WebSocket (RFC 7395) protocol core (sans-IO): XML, SASL, session.
