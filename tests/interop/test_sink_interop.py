"""Interop tests: real SMTP clients (swaks, Python smtplib, curl) -> `smtplab sink`.

Run:  SMTPLAB=build/bin/smtplab /usr/bin/python3 -m unittest discover -s tests/interop -v

What is checked: each message lands as exactly one new file in MAILDIR/new/,
which starts with `Return-Path: <sender>` and a `Received:` header added by the
sink (both CRLF-terminated; Received may be folded), followed by exactly the
bytes the client put on the wire after dot-unstuffing (CRLF kept).

ClientBaselineTest sends the same messages to aiosmtpd first. It needs no
smtplab and proves the clients send exactly the bytes we expect, so a failure
in the smtplab classes points at smtplab, not at a client quirk.

Client facts these tests rely on (verified against aiosmtpd; see the comments
in each sender below):
  * swaks rewrites LF to CRLF, dot-stuffs, and appends "\\r\\n." itself, so a
    file that already ends in CRLF arrives with one extra empty line: we give
    it the message without its final CRLF.
  * curl dot-stuffs lines that follow a CRLF and adds the final "\\r\\n.\\r\\n"
    as needed; it does NOT convert LF, and --crlf would turn CRLF into CR CR LF,
    so we upload CRLF files without --crlf, on stdin (see send_curl).
  * smtplib.sendmail() with bytes dot-stuffs but does not touch line endings.
"""

from __future__ import annotations

import os
import re
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402

SENDER_DOMAIN = "example.org"
RCPT = "rcpt@example.net"
CLIENTS = ("swaks", "smtplib", "curl")
TIMEOUT = 30  # seconds for one small message, any client
BIG_TIMEOUT = 120  # seconds for the 10 MiB message


# ---------------------------------------------------------------------------
# Messages. All CRLF, all ending in CRLF: that is what a message looks like on
# the wire once the final "." line is removed and the dots are unstuffed.
# ---------------------------------------------------------------------------

def headers(subject: str, extra: bytes = b"") -> bytes:
    return (b"From: Sender <sender@example.org>\r\n"
            b"To: Rcpt <rcpt@example.net>\r\n"
            b"Subject: " + subject.encode() + b"\r\n"
            b"Message-ID: <" + subject.replace(" ", "-").encode() + b"@smtplab.test>\r\n"
            + extra + b"\r\n")


PLAIN = headers("plain") + b"Hello from the interop test.\r\nSecond line.\r\n"

DOTS = headers("dots") + (
    b".hidden\r\n"            # would be stuffed to "..hidden"
    b"..\r\n"                 # two dots: stuffed to "..."
    b". followed by text\r\n"
    b".\tafter a tab\r\n"
    b"middle . dot\r\n"       # not at line start: untouched
    b"last line\r\n")

UTF8 = headers("utf8", b"MIME-Version: 1.0\r\n"
                       b"Content-Type: text/plain; charset=utf-8\r\n"
                       b"Content-Transfer-Encoding: 8bit\r\n") + (
    "Grüße, 日本語\r\n"
    "Ünïcödé línè twö — ✓\r\n").encode("utf-8")


def big_message(size: int = 10 * 1024 * 1024) -> bytes:
    """About `size` bytes of body in 76-character lines. Every 997th line
    starts with a dot so unstuffing is also exercised across the receiver's
    buffer boundaries. Letters and digits only: no swaks tokens (%...%)."""
    filler = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" * 3
    parts = [headers("ten MiB")]
    total, n = 0, 0
    while total < size:  # bounded: about size / 78 iterations
        n += 1
        start = n % 62
        line = b"%08d " % n + filler[start:start + 67] + b"\r\n"  # 76 + CRLF
        if n % 997 == 0:
            line = b"." + line[1:]
        parts.append(line)
        total += len(line)
    return b"".join(parts)


# ---------------------------------------------------------------------------
# Clients. Each sends `msg` (the wire bytes, unstuffed) from `sender` to RCPT.
# ---------------------------------------------------------------------------

def send_swaks(port: int, sender: str, msg: bytes, workdir: Path, timeout: float) -> None:
    # swaks appends "\r\n." after the data, so the file must not end in CRLF,
    # or an extra empty line arrives. It also replaces tokens such as %DATE%
    # and a literal backslash-n, strips a leading "From " line and drops a
    # trailing "." line: our messages contain none of these.
    assert msg.endswith(b"\r\n") and b"%" not in msg and b"\\n" not in msg
    path = workdir / "swaks.eml"
    path.write_bytes(msg[:-2])
    r = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{port}", "--from", sender, "--to", RCPT,
         "--data", f"@{path}", "--suppress-data", "--timeout", str(int(timeout))],
        capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"swaks exited {r.returncode}:\n"
                             f"{r.stdout.decode(errors='replace')[-3000:]}"
                             f"{r.stderr.decode(errors='replace')[-1000:]}")


def send_smtplib(port: int, sender: str, msg: bytes, workdir: Path, timeout: float) -> None:
    # bytes, not str: smtplib only rewrites line endings of str messages (and
    # would then need ASCII). It dot-stuffs and adds ".\r\n" itself.
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.example",
                      timeout=timeout) as client:
        refused = client.sendmail(sender, [RCPT], msg)
        if refused:
            raise AssertionError(f"recipients refused: {refused}")


def send_curl(port: int, sender: str, msg: bytes, workdir: Path, timeout: float) -> None:
    # No --crlf: it converts every LF, turning CRLF into CR CR LF. The URL path
    # is the EHLO name; without one curl would append the file name ("curl.eml").
    # The file goes in on stdin ("--upload-file -"): curl 7.88.1, given a file
    # of known size, stops once it has sent that many bytes *after* adding the
    # stuffed dots, so a 10 MiB file with 134 dot lines lost its last 134
    # bytes (seen against aiosmtpd). With an unknown size it sends everything.
    path = workdir / "curl.eml"
    path.write_bytes(msg)
    with open(path, "rb") as stdin:
        r = subprocess.run(
            ["curl", "-sS", "--max-time", str(int(timeout)),
             "--url", f"smtp://127.0.0.1:{port}/client.example",
             "--mail-from", sender, "--mail-rcpt", RCPT, "--upload-file", "-"],
            stdin=stdin, capture_output=True, timeout=timeout + 5)
    if r.returncode != 0:
        raise AssertionError(f"curl exited {r.returncode}: "
                             f"{r.stderr.decode(errors='replace')[-2000:]}")


SENDERS = {"swaks": send_swaks, "smtplib": send_smtplib, "curl": send_curl}


def first_difference(got: bytes, want: bytes) -> str:
    """A short description of where two (possibly 10 MiB) byte strings differ."""
    i = next((k for k, (a, b) in enumerate(zip(got, want)) if a != b),
             min(len(got), len(want)))
    return (f"lengths got={len(got)} want={len(want)}; first difference at "
            f"offset {i}:\n  got  {got[max(0, i - 40):i + 40]!r}\n"
            f"  want {want[max(0, i - 40):i + 40]!r}")


# ---------------------------------------------------------------------------
# Baseline: the same clients against aiosmtpd (no smtplab needed).
# ---------------------------------------------------------------------------

class ClientBaselineTest(unittest.TestCase):
    """Checks our assumptions about swaks/smtplib/curl against aiosmtpd, whose
    envelope.original_content is the wire bytes after unstuffing."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="smtplab-baseline-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.server = peers.start_aiosmtpd(cls.tmp / "aiosmtpd")
        cls.addClassCleanup(cls.server.stop)

    def roundtrip(self, client: str, msg: bytes, timeout: float = TIMEOUT) -> None:
        sender = f"{client}@{SENDER_DOMAIN}"
        before = len(peers.aiosmtpd_messages(self.server))
        SENDERS[client](self.server.port, sender, msg, self.tmp, timeout)
        saved = peers.aiosmtpd_messages(self.server)[before:]
        self.assertEqual(len(saved), 1, "expected exactly one new message")
        envelope, raw = saved[0]
        self.assertEqual(envelope["mail_from"], sender)
        self.assertEqual(envelope["rcpt_tos"], [RCPT])
        if raw != msg:
            self.fail(f"{client}: bytes differ. {first_difference(raw, msg)}")

    def test_clients_send_exact_bytes(self):
        for name, msg in (("plain", PLAIN), ("dots", DOTS), ("utf8", UTF8)):
            for client in CLIENTS:
                with self.subTest(message=name, client=client):
                    self.roundtrip(client, msg)

    def test_clients_send_10mib_exactly(self):
        big = big_message()
        for client in CLIENTS:
            with self.subTest(client=client):
                self.roundtrip(client, big, BIG_TIMEOUT)


# ---------------------------------------------------------------------------
# smtplab sink
# ---------------------------------------------------------------------------

RETURN_PATH_RE = re.compile(rb"Return-Path: <([^>\r\n]*)>\r\n")
# A Received header, possibly folded (continuation lines start with SP or TAB).
RECEIVED_RE = re.compile(rb"Received:[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*")


class SinkTestBase(unittest.TestCase):
    SINK_ARGS: list[str] = []

    @classmethod
    def setUpClass(cls):
        binary = peers.smtplab_path()
        cls.tmp = Path(tempfile.mkdtemp(prefix="smtplab-sink-interop-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.maildir = cls.tmp / "Maildir"
        cls.sink = peers.start_smtplab_sink(binary, cls.maildir, cls.SINK_ARGS)
        cls.addClassCleanup(cls.sink.stop)  # runs even when tests fail

    def new_files(self) -> set[str]:
        new = self.maildir / "new"
        return set(os.listdir(new)) if new.is_dir() else set()

    def roundtrip(self, client: str, msg: bytes, timeout: float = TIMEOUT) -> None:
        sender = f"{client}@{SENDER_DOMAIN}"
        before = self.new_files()
        SENDERS[client](self.sink.port, sender, msg, self.tmp, timeout)
        # The client has seen 250 after "." (and quit): the message must already
        # be in new/. No polling, so a sink that acknowledges early is caught.
        added = sorted(self.new_files() - before)
        self.assertEqual(len(added), 1, f"expected exactly one new file in "
                         f"{self.maildir}/new, got {added}")
        stored = (self.maildir / "new" / added[0]).read_bytes()
        self.check_stored(stored, sender, msg)

    def check_stored(self, stored: bytes, sender: str, msg: bytes) -> None:
        m = RETURN_PATH_RE.match(stored)
        self.assertIsNotNone(m, f"file does not start with 'Return-Path: <...>' "
                             f"+ CRLF: {stored[:120]!r}")
        self.assertEqual(m.group(1).decode(), sender)
        r = RECEIVED_RE.match(stored, m.end())
        self.assertIsNotNone(r, f"no CRLF-terminated Received: header after "
                             f"Return-Path: {stored[m.end():m.end() + 200]!r}")
        body = stored[r.end():]
        if body != msg:
            self.fail(f"stored message differs from what was sent. "
                      f"{first_difference(body, msg)}")


class SinkInteropTest(SinkTestBase):

    def test_plain_message(self):
        for client in CLIENTS:
            with self.subTest(client=client):
                self.roundtrip(client, PLAIN)

    def test_dot_lines_are_unstuffed(self):
        """Lines starting with "." survive the trip: the client doubles the
        leading dot and the sink removes it again (RFC 5321 section 4.5.2,
        Transparency)."""
        for client in CLIENTS:
            with self.subTest(client=client):
                self.roundtrip(client, DOTS)

    def test_8bit_utf8_body(self):
        for client in CLIENTS:
            with self.subTest(client=client):
                self.roundtrip(client, UTF8)

    def test_malformed_session_then_normal_message(self):
        """Garbage, a NUL byte, a 5000-byte line and a bare-LF line each get an
        error reply; afterwards the sink still accepts a normal message."""
        cases = [
            ("garbage bytes", b"\x01\x02\xfe\xff garbage \x7f\r\n"),
            ("NUL byte", b"NO\x00OP\r\n"),
            # RFC 5321 4.5.3.1.4: a command line is at most 512 octets.
            ("5000-byte line", b"NOOP " + b"x" * 4995 + b"\r\n"),
            # "NOOP" ended by a bare LF. A server that reads up to CRLF sees
            # "NOOP\n" (then we send the CRLF); one that splits at LF sees
            # "NOOP" + bare LF and then an empty line. Both must be errors.
            ("bare LF", b"NOOP\n\r\n"),
        ]
        session = RawSmtp(self.sink.port)
        try:
            for name, data in cases:
                with self.subTest(case=name):
                    if session.closed:
                        session = RawSmtp(self.sink.port)  # sink may hang up on abuse
                    session.expect_error_then_sync(name, data)
        finally:
            session.close()
        self.assertIsNone(self.sink.proc.poll(), "sink exited after the bad session:\n"
                          + self.sink.stderr_text()[-2000:])
        self.roundtrip("smtplib", PLAIN)


class SinkLargeMessageTest(SinkTestBase):
    SINK_ARGS = ["--max-message-size", "20000000"]

    def test_10mib_message(self):
        big = big_message()
        for client in CLIENTS:
            with self.subTest(client=client):
                self.roundtrip(client, big, BIG_TIMEOUT)


class RawSmtp:
    """A bare socket SMTP session, for sending bytes no real client would."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.closed = False
        code, _ = self.reply()
        assert code == 220, f"greeting {code}"
        self.sock.sendall(b"EHLO client.example\r\n")
        code, _ = self.reply()
        assert code == 250, f"EHLO reply {code}"

    def reply(self) -> tuple[int, list[bytes]]:
        """One (possibly multi-line) reply. Raises EOFError if the peer closed."""
        lines = []
        for _ in range(1000):  # bounded: no reply has 1000 lines
            while b"\r\n" not in self.buf:
                if len(self.buf) > 1 << 20:
                    raise AssertionError("reply line longer than 1 MiB")
                chunk = self.sock.recv(65536)  # socket timeout bounds the wait
                if not chunk:
                    self.closed = True
                    raise EOFError(f"connection closed; partial: {self.buf!r}")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3]), lines
        raise AssertionError("reply too long")

    def expect_error_then_sync(self, name: str, data: bytes) -> None:
        """Send `data`, require a 4xx/5xx reply, then send NOOP and read until
        its 250 so the next case starts in step. Any 2xx before that means the
        bad input was accepted. A hang-up after an error reply is allowed."""
        self.sock.sendall(data)
        try:
            code, lines = self.reply()
        except socket.timeout:
            raise AssertionError(f"{name}: no reply within 10 s")
        assert 400 <= code < 600, f"{name}: expected an error reply, got {lines}"
        try:
            self.sock.sendall(b"NOOP\r\n")
            for _ in range(10):  # bounded: a few extra error replies at most
                code, lines = self.reply()
                if 200 <= code < 300:
                    return
                assert code >= 400, f"{name}: unexpected reply {lines}"
            raise AssertionError(f"{name}: NOOP never answered 250")
        except (EOFError, ConnectionError):
            self.closed = True  # hung up after the error reply: acceptable

    def close(self) -> None:
        if not self.closed:
            try:
                self.sock.sendall(b"QUIT\r\n")
                self.reply()
            except (OSError, EOFError):
                pass
        self.sock.close()
        self.closed = True


class SinkGroupCommitTest(unittest.TestCase):
    """Eight clients at once into the fsyncing sink (group commit, its
    default): every message each client saw 250 for is in new/ with its exact
    bytes, once (RFC 5321 6.1), and the sink's last line counts them all."""

    CLIENTS = 8
    MESSAGES = 10  # per client, over one connection

    def test_parallel_clients_all_stored_once(self):
        tmp = Path(tempfile.mkdtemp(prefix="smtplab-sink-group-"))
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        maildir = tmp / "Maildir"
        sink = peers.start_smtplab_sink(peers.smtplab_path(), maildir, [])
        self.addCleanup(sink.stop)
        sent: list[bytes] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def client(n: int) -> None:
            try:
                with smtplib.SMTP("127.0.0.1", sink.port, timeout=TIMEOUT) as s:
                    for i in range(self.MESSAGES):
                        msg = f"Subject: {n}.{i}\r\n\r\nmessage {i} of client {n}\r\n".encode()
                        s.sendmail(f"c{n}@{SENDER_DOMAIN}", ["sink@example.net"], msg)
                        with lock:
                            sent.append(msg)
            except BaseException as e:  # reported below, with the sink's stderr
                with lock:
                    errors.append(e)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(self.CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertEqual(errors, [], sink.stderr_text()[-2000:])
        total = self.CLIENTS * self.MESSAGES
        self.assertEqual(len(sent), total)
        bodies = []
        for name in os.listdir(maildir / "new"):
            stored = (maildir / "new" / name).read_bytes()
            bodies.append(stored[stored.index(b"Subject: "):])
        self.assertEqual(sorted(bodies), sorted(sent))
        self.assertEqual(os.listdir(maildir / "tmp"), [])
        sink.stop()
        m = re.search(r"stopped after storing (\d+) messages \((\d+) committed in (\d+) groups\)",
                      sink.stderr_text())
        self.assertIsNotNone(m, sink.stderr_text()[-2000:])
        self.assertEqual(int(m.group(1)), total)
        self.assertEqual(int(m.group(2)), total)
        self.assertTrue(1 <= int(m.group(3)) <= total, m.group(0))


if __name__ == "__main__":
    unittest.main()
