//! STOMP 1.0–1.2 protocol core (sans-IO): frame model, codec and client session.
