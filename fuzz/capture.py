#!/usr/bin/env python3
"""Captures real server traffic from the dev RabbitMQ (web-STOMP) and Prosody (WebSocket)
and writes the fuzz seed corpora under fuzz/seeds/ from it.

Run by hand when the servers are up (`set -a; . /tmp/devservers/env; set +a`):

    python3 fuzz/capture.py            # capture, then write fuzz/seeds/*
    python3 fuzz/capture.py --offline  # only rewrite seeds from fuzz/captures/*.json

The raw captures are kept in fuzz/captures/ (JSON: what the server sent, message by
message), so seeds can be rebuilt without servers. Standard library only: a minimal
RFC 6455 client (masked frames, no extensions) is below.
"""

import base64
import hashlib
import hmac
import json
import os
import random
import socket
import struct
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = os.path.join(HERE, "captures")
SEEDS = os.path.join(HERE, "seeds")

# The SCRAM client nonce the fuzz harness uses (fuzz/src/sasl.rs), so captured
# server-first messages extend it.
FUZZ_NONCE = "fuzzfuzzfuzzfuzzfuzzfuzz"


class WebSocket:
    def __init__(self, url, protocol):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (
            f"GET {u.path or '/'} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n"
        )
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            b = self.sock.recv(1)
            if not b:
                raise IOError("handshake: connection closed")
            head += b
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise IOError("handshake refused: " + head.decode(errors="replace"))
        self.buf = b""
        self.closed = False

    def send(self, data, text=True):
        if isinstance(data, str):
            data = data.encode()
        hdr = bytes([0x81 if text else 0x82])
        n = len(data)
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(hdr + mask + body)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise IOError("closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self, timeout=2.0):
        """One whole message (bytes), or None on timeout or close."""
        self.sock.settimeout(timeout)
        msg = b""
        try:
            while True:
                b0, b1 = self._read(2)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack(">H", self._read(2))[0]
                elif n == 127:
                    n = struct.unpack(">Q", self._read(8))[0]
                payload = self._read(n)
                op = b0 & 0x0F
                if op == 8:
                    self.closed = True
                    return None
                if op == 9:  # ping
                    continue
                msg += payload
                if b0 & 0x80:
                    return msg
        except (socket.timeout, IOError):
            return None

    def recv_all(self, timeout=1.0):
        out = []
        while True:
            m = self.recv(timeout)
            if m is None:
                return out
            out.append(m)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def stomp_frame(cmd, headers, body=b""):
    s = cmd + "\n" + "".join(f"{k}:{v}\n" for k, v in headers) + "\n"
    return s.encode() + body + b"\0"


def capture_stomp(url, login, passcode):
    """Server messages of a few sessions: versions 1.0/1.1/1.2, receipts, messages with
    escaped headers and binary bodies, heart-beats, and ERROR frames."""
    sessions = []
    topic = f"/topic/fuzz.capture.{os.getpid()}"
    for versions, proto in [("1.2", "v12.stomp"), ("1.1", "v11.stomp"), ("1.0", "v10.stomp")]:
        ws = WebSocket(url, proto)
        rx = []
        ws.send(stomp_frame("CONNECT", [("accept-version", versions), ("login", login),
                                        ("passcode", passcode), ("heart-beat", "0,1000")]))
        rx += ws.recv_all(1.0)
        ws.send(stomp_frame("SUBSCRIBE", [("id", "sub-0"), ("destination", topic),
                                          ("ack", "client-individual"), ("receipt", "rcpt-0")]))
        rx += ws.recv_all(0.5)
        ws.send(stomp_frame("SUBSCRIBE", [("id", "sub-1"), ("destination", "/queue/fuzz-q"),
                                          ("ack", "auto"), ("auto-delete", "true"),
                                          ("receipt", "rcpt-1")]))
        rx += ws.recv_all(0.5)
        esc = "a\\cb\\nc\\\\d" if versions != "1.0" else "a-b"
        ws.send(stomp_frame("SEND", [("destination", topic), ("receipt", "rcpt-2"),
                                     ("content-type", "text/plain"), ("x-esc", esc)],
                            b"hello from the fuzz capture"))
        ws.send(stomp_frame("SEND", [("destination", topic), ("content-length", "5"),
                                     ("content-type", "application/octet-stream")],
                            b"a\0b\0c"))
        ws.send(stomp_frame("SEND", [("destination", "/queue/fuzz-q"), ("persistent", "true"),
                                     ("receipt", "rcpt-3")], "ünïcödé ✓".encode()))
        rx += ws.recv_all(1.5)  # includes a heart-beat or two
        ws.send(stomp_frame("UNSUBSCRIBE", [("id", "sub-1"), ("receipt", "rcpt-4")]))
        rx += ws.recv_all(0.5)
        ws.send(stomp_frame("SEND", [("destination", "/bogus/where")], b"x"))
        rx += ws.recv_all(1.0)
        ws.close()
        sessions.append({"version": versions, "server": [base64.b64encode(m).decode() for m in rx]})
    # Bad credentials: ERROR frame.
    ws = WebSocket(url, "v12.stomp")
    ws.send(stomp_frame("CONNECT", [("accept-version", "1.2"), ("login", login),
                                    ("passcode", "wrong"), ("heart-beat", "0,0")]))
    rx = ws.recv_all(1.0)
    ws.close()
    sessions.append({"version": "1.2", "server": [base64.b64encode(m).decode() for m in rx]})
    return sessions


NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"


def xml_text(msg, tag):
    s = msg.decode()
    i = s.index(">", s.index("<" + tag)) + 1
    return s[i:s.index("</" + tag)]


def capture_xmpp(url, domain, user, password, muc_domain):
    """One SCRAM-SHA-1 login with the fuzz nonce, bind, roster, presence, messages, pings,
    disco, an error, a MUC join and the close handshake: everything Prosody sent."""
    ws = WebSocket(url, "xmpp")
    rx = []
    log = []  # (server message, what the client sent before it)

    def send(x):
        ws.send(x)

    def recv_some(t=1.0):
        got = ws.recv_all(t)
        rx.extend(got)
        return got

    send(f"<open xmlns='{NS_FRAMING}' to='{domain}' version='1.0'/>")
    recv_some()
    bare = f"n={user},r={FUZZ_NONCE}"
    send(f"<auth xmlns='{NS_SASL}' mechanism='SCRAM-SHA-1'>"
         + base64.b64encode(("n,," + bare).encode()).decode() + "</auth>")
    got = recv_some()
    server_first = base64.b64decode(xml_text(got[-1], "challenge")).decode()
    parts = dict(p.split("=", 1) for p in server_first.split(","))
    salted = hashlib.pbkdf2_hmac("sha1", password.encode(), base64.b64decode(parts["s"]),
                                 int(parts["i"]))
    ck = hmac.new(salted, b"Client Key", "sha1").digest()
    without = "c=biws,r=" + parts["r"]
    auth = bare + "," + server_first + "," + without
    sig = hmac.new(hashlib.sha1(ck).digest(), auth.encode(), "sha1").digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(ck, sig))).decode()
    send(f"<response xmlns='{NS_SASL}'>"
         + base64.b64encode((without + ",p=" + proof).encode()).decode() + "</response>")
    got = recv_some()
    success = got[-1].decode()
    server_final = base64.b64decode(xml_text(got[-1], "success")).decode() if "<success" in success else ""
    send(f"<open xmlns='{NS_FRAMING}' to='{domain}' version='1.0'/>")
    recv_some()
    send("<iq xmlns='jabber:client' type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
         "<resource>fuzz</resource></bind></iq>")
    recv_some()
    send("<iq xmlns='jabber:client' type='set' id='sess1' to='" + domain + "'>"
         "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")
    recv_some(0.5)
    send("<iq xmlns='jabber:client' type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>")
    recv_some(0.5)
    me = f"{user}@{domain}"
    send(f"<iq xmlns='jabber:client' type='set' id='roster2'><query xmlns='jabber:iq:roster'>"
         f"<item jid='bob@{domain}' name='Bob &amp; co'><group>Friends</group></item></query></iq>")
    recv_some(0.5)
    send("<presence xmlns='jabber:client'><show>away</show><status>fuzzing ✓</status>"
         "<priority>5</priority></presence>")
    recv_some(0.5)
    send(f"<presence xmlns='jabber:client' to='bob@{domain}' type='subscribe'/>")
    recv_some(0.5)
    send(f"<message xmlns='jabber:client' to='{me}/fuzz' type='chat' id='m1'>"
         "<body>hello &lt;self&gt; &amp; ünïcödé</body><thread>t1</thread>"
         "<active xmlns='http://jabber.org/protocol/chatstates'/></message>")
    recv_some(0.5)
    send(f"<message xmlns='jabber:client' to='nobody@{domain}' type='chat' id='m2'><body>x</body></message>")
    recv_some(0.5)
    send(f"<iq xmlns='jabber:client' type='get' id='ping1' to='{domain}'><ping xmlns='urn:xmpp:ping'/></iq>")
    recv_some(0.5)
    send(f"<iq xmlns='jabber:client' type='get' id='disco1' to='{domain}'>"
         "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
    recv_some(0.5)
    send(f"<iq xmlns='jabber:client' type='get' id='vc1'><vCard xmlns='vcard-temp'/></iq>")
    recv_some(0.5)
    send(f"<iq xmlns='jabber:client' type='get' id='bad1' to='{domain}'><nope xmlns='urn:example:none'/></iq>")
    recv_some(0.5)
    send(f"<iq xmlns='jabber:client' type='set' id='mam1'><query xmlns='urn:xmpp:mam:2' queryid='q1'/></iq>")
    recv_some(1.0)
    send(f"<presence xmlns='jabber:client' to='fuzzroom@{muc_domain}/fuzzer'>"
         "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
    recv_some(1.0)
    send(f"<message xmlns='jabber:client' to='fuzzroom@{muc_domain}' type='groupchat'><body>hi room</body></message>")
    recv_some(1.0)
    send(f"<iq xmlns='jabber:client' type='set' id='roster3'><query xmlns='jabber:iq:roster'>"
         f"<item jid='bob@{domain}' subscription='remove'/></query></iq>")
    recv_some(0.5)
    send("<presence xmlns='jabber:client' type='unavailable'/>")
    recv_some(0.5)
    send(f"<close xmlns='{NS_FRAMING}'/>")
    recv_some(1.0)
    ws.close()
    # A second stream: features for a client that sends bad auth (failure) and bad XML.
    ws = WebSocket(url, "xmpp")
    ws.send(f"<open xmlns='{NS_FRAMING}' to='{domain}' version='1.0'/>")
    rx2 = ws.recv_all(1.0)
    ws.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>"
            + base64.b64encode(f"\0{user}\0wrong".encode()).decode() + "</auth>")
    rx2 += ws.recv_all(1.0)
    ws.send("<message xmlns='jabber:client'><unclosed></message>")
    rx2 += ws.recv_all(1.0)
    ws.close()
    return {
        "server": [m.decode() for m in rx],
        "server_bad": [m.decode() for m in rx2],
        "scram": {"user": user, "password": password, "nonce": FUZZ_NONCE,
                  "server_first": server_first, "server_final": server_final},
    }


# ---------- seeds ----------

WRITTEN = set()

def write(target, name, data):
    key = (target, data)
    if key in WRITTEN:
        return
    WRITTEN.add(key)
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def u16(n):
    return struct.pack("<H", min(n, 65535))


def stomp_seeds(sessions):
    vbits = {"1.0": 0, "1.1": 1, "1.2": 2}
    allframes = []
    for si, s in enumerate(sessions):
        msgs = [base64.b64decode(m) for m in s["server"]]
        allframes += msgs
        v = vbits[s["version"]]
        # stomp_decode: the whole session as one stream, and each frame alone.
        write("stomp_decode", f"session{si}", bytes([v, si * 37 % 256]) + b"".join(msgs))
        write("stomp_decode", f"session{si}-tight", bytes([v | 4, si]) + b"".join(msgs))
        for mi, m in enumerate(msgs):
            write("stomp_decode", f"s{si}-m{mi}", bytes([v, 0]) + m)
        # stomp_session: config offering that version, the server's messages as data ops,
        # with page commands between them (subscribe, send with receipt, ack, nack,
        # begin/commit, disconnect) and time passing to the next deadline.
        cfg = {"1.2": 1, "1.1": 3, "1.0": 2}[s["version"]] | (3 << 2)
        ops = b""
        for mi, m in enumerate(msgs):
            ops += b"\x00" + u16(len(m)) + m
            if mi == 0:
                ops += b"\x0c"                                    # flush_queued
                ops += b"\x04\x05" + bytes([11]) + b"/topic/fuzz"  # subscribe client-indiv.
                ops += b"\x03\x45" + b"\x01k\x01v" + b"\x05hello"  # send with receipt+header
                ops += b"\x07\x01"                                # begin with receipt
            if mi == 2:
                ops += b"\x06\x01\x00"                            # ack first token
                ops += b"\x06\x03\x00"                            # nack
                ops += b"\x08\x00\x00"                            # commit
                ops += b"\x02"                                    # to next deadline
        ops += b"\x09" + b"\x01\x88\x13"                          # disconnect, +5 s
        # Second config byte: 0 = no URLs (the page owns the socket), 1 = URLs + reconnect.
        write("stomp_session", f"session{si}", bytes([cfg, 0]) + ops)
        plain = b"".join(b"\x00" + u16(len(m)) + m for m in msgs)
        write("stomp_session", f"session{si}-plain", bytes([cfg, 0]) + plain)
        # Reconnect: the connection drops mid-session, the retry is due, the socket opens
        # again and the server's messages are replayed on the new connection.
        half = b"".join(b"\x00" + u16(len(m)) + m for m in msgs[: max(1, len(msgs) // 2)])
        drop = b"\x0a" + u16(1006) + b"\x00" + b"\x02" + b"\x0b"
        write("stomp_session", f"session{si}-reconnect", bytes([cfg, 1]) + half + drop + ops)
    return allframes


def xmpp_seeds(cap):
    server = cap["server"]
    bad = cap["server_bad"]
    # xmpp_xml: every server message alone, both namespaces modes, plus tight limits.
    mam = 0
    for i, m in enumerate(server + bad):
        if "urn:xmpp:mam:2' queryid" in m:
            mam += 1
            if mam > 2:
                continue
        write("xmpp_xml", f"prosody{i:02}", b"\x00" + m.encode())
    for i, m in enumerate(server[:8]):
        write("xmpp_xml", f"prosody{i:02}-tight", b"\x02" + m.encode())
    # sasl_scram: mode 0 = server-first for a fresh client (SHA-1), mode 1 = server-final
    # after the captured server-first, mode 2 = base64, mode 3 = credentials.
    sc = cap["scram"]
    write("sasl_scram", "server-first-prosody", b"\x00" + sc["server_first"].encode())
    write("sasl_scram", "server-final-prosody", b"\x01" + sc["server_final"].encode())
    write("sasl_scram", "server-final-error", b"\x01e=invalid-proof")
    write("sasl_scram", "base64", b"\x02" + base64.b64encode(sc["server_first"].encode()))
    write("sasl_scram", "credentials", b"\x03" + b"alice\0alicepw\0" + FUZZ_NONCE.encode())
    # xmpp_session: mode 0 (scripted PLAIN login, then the captured post-login traffic),
    # with the IQ ids replaced by the placeholder 0x01 (the last IQ id the client sent).
    post = [m for m in server if "<iq" in m or "<message" in m or "<presence" in m
            or "<close" in m]
    ops = b""
    for m in post:
        b = m.encode()
        for qid in [b"roster1", b"roster2", b"roster3", b"ping1", b"disco1", b"vc1",
                    b"bad1", b"mam1", b"sess1"]:
            b = b.replace(b"'" + qid + b"'", b"'\x01'").replace(b'"' + qid + b'"', b'"\x01"')
        ops += b"\x00" + u16(len(b)) + b
        if b"roster1" in m.encode():
            ops += b"\x06\x00"                     # get_roster
    write("xmpp_session", "online-prosody", b"\x00" + ops)
    ops = b"\x06\x00" + b"".join(b"\x00" + u16(len(m.encode())) + m.encode() for m in post[:6])
    ops += b"\x04\x00\x05bob@x\x02hi" + b"\x05\x00" + b"\x0a" + b"\x02"
    write("xmpp_session", "online-commands", b"\x00" + ops)
    # Mode 1: SCRAM from the start, the captured pre-login stream (features, challenge as
    # a wrapped op with the nonce placeholder 0x04).
    first = sc["server_first"].replace(FUZZ_NONCE, "\x04")
    pre = [m for m in server[:2]]
    ops = b"".join(b"\x00" + u16(len(m.encode())) + m.encode() for m in pre)
    ops += b"\x03\x00" + u16(len(first)) + first.encode()
    write("xmpp_session", "scram-prosody", b"\x01" + ops)
    # Mode 2: no credentials; features then login/register commands; the failure stream.
    ops = b"".join(b"\x00" + u16(len(m.encode())) + m.encode() for m in bad)
    write("xmpp_session", "bad-login-prosody", b"\x02" + ops)
    ops = b"".join(b"\x00" + u16(len(m.encode())) + m.encode() for m in bad[:2])
    ops += b"\x0d\x00" + b"\x05alice\x07alicepw"
    write("xmpp_session", "login-command", b"\x02" + ops)


def main():
    offline = "--offline" in sys.argv
    os.makedirs(CAPTURES, exist_ok=True)
    sp, xp = os.path.join(CAPTURES, "stomp.json"), os.path.join(CAPTURES, "xmpp.json")
    if not offline:
        env = os.environ
        stomp = capture_stomp(env["STOMP_WS_URL"], env.get("STOMP_LOGIN", "guest"),
                              env.get("STOMP_PASSCODE", "guest"))
        user, pw = env.get("XMPP_USERS", "alice:alicepw").split()[0].split(":")
        xmpp = capture_xmpp(env["XMPP_WS_URL"], env.get("XMPP_DOMAIN", "localhost"), user, pw,
                            env.get("XMPP_MUC_DOMAIN", "conference.localhost"))
        with open(sp, "w") as f:
            json.dump(stomp, f, indent=1)
        with open(xp, "w") as f:
            json.dump(xmpp, f, indent=1, ensure_ascii=False)
    with open(sp) as f:
        stomp = json.load(f)
    with open(xp) as f:
        xmpp = json.load(f)
    import shutil
    for t in ["stomp_decode", "stomp_session", "xmpp_xml", "sasl_scram", "xmpp_session"]:
        shutil.rmtree(os.path.join(SEEDS, t), ignore_errors=True)
    stomp_seeds(stomp)
    xmpp_seeds(xmpp)
    print("seeds written to", SEEDS)
    print("SCRAM vector for fuzz/src/sasl.rs:", json.dumps(xmpp["scram"]))


if __name__ == "__main__":
    main()
