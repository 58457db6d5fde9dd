"""Interop tests: `smtplab send` -> real SMTP servers (aiosmtpd, Postfix smtp-sink).

Run:  SMTPLAB=build/bin/smtplab /usr/bin/python3 -m unittest discover -s tests/interop -v

Note: aiosmtpd 1.4.3 does not advertise PIPELINING, so against it `send`
should talk lock-step with or without `--pipelining off`; smtp-sink does
advertise it, so the smtp-sink tests are the ones that exercise pipelining.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402

SENDER = "a@example.org"
RCPTS = ["b@example.net", "c@example.net"]
SUBJECT = "Hi"
# A plain text file with LF line endings, as a user would write it. The dot
# line checks that `send` dot-stuffs (RFC 5321 4.5.2): the servers unstuff.
BODY_LINES = [
    "Hello from smtplab send.",
    ".a line that starts with a dot",
    "The end.",
]
TIMEOUT = 30


class SendTestBase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.smtplab = peers.smtplab_path()
        cls.tmp = Path(tempfile.mkdtemp(prefix="smtplab-send-interop-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.body_file = cls.tmp / "body.txt"
        cls.body_file.write_text("\n".join(BODY_LINES) + "\n")

    def send(self, port: int, *extra: str) -> None:
        argv = [self.smtplab, "send", "--server", f"127.0.0.1:{port}",
                "--from", SENDER]
        for rcpt in RCPTS:
            argv += ["--to", rcpt]
        argv += ["--subject", SUBJECT, "--body-file", str(self.body_file), *extra]
        r = subprocess.run(argv, capture_output=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, f"{' '.join(argv)} exited {r.returncode}\n"
                         f"stdout: {r.stdout.decode(errors='replace')[-2000:]}\n"
                         f"stderr: {r.stderr.decode(errors='replace')[-2000:]}")


class SendToAiosmtpdTest(SendTestBase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = peers.start_aiosmtpd(cls.tmp / "aiosmtpd")
        cls.addClassCleanup(cls.server.stop)

    def send_and_check(self, *extra: str) -> None:
        before = len(peers.aiosmtpd_messages(self.server))
        self.send(self.server.port, *extra)
        new = peers.aiosmtpd_messages(self.server)[before:]
        self.assertEqual(len(new), 1, "expected one message (one transaction, "
                         "two recipients)")
        envelope, raw = new[0]
        self.assertEqual(envelope["mail_from"], SENDER)
        self.assertEqual(envelope["rcpt_tos"], RCPTS)
        # On the wire every line ends in CRLF (RFC 5321 2.3.8): no bare LF or CR.
        self.assertIsNone(re.search(rb"(?<!\r)\n|\r(?!\n)", raw),
                          f"bare LF or CR in the message: {raw[:300]!r}")
        head, sep, body = raw.partition(b"\r\n\r\n")
        self.assertTrue(sep, f"no blank line between header and body: {raw[:300]!r}")
        self.assertRegex(head.decode(errors="replace"),
                         rf"(?mi)^Subject: {re.escape(SUBJECT)}\r?$")
        # aiosmtpd has unstuffed the dot line, so the body reads as written.
        # (A Content-Transfer-Encoding other than 7bit/8bit would break this.)
        body_lines = body.decode(errors="replace").split("\r\n")
        for line in BODY_LINES:
            self.assertIn(line, body_lines, f"body line {line!r} missing: {body!r}")

    def test_send_two_recipients(self):
        self.send_and_check()

    def test_send_pipelining_off(self):
        self.send_and_check("--pipelining", "off")


class SendToSmtpSinkTest(SendTestBase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = peers.start_smtp_sink(cls.tmp / "smtp-sink", dump=True)
        cls.addClassCleanup(cls.server.stop)

    def send_and_check(self, *extra: str) -> None:
        before = set(peers.smtp_sink_dumps(self.server))
        self.send(self.server.port, *extra)
        # smtp-sink closes the dump file when it answers "."; allow a moment
        # for the filesystem view anyway (bounded).
        deadline = time.monotonic() + 5
        new: list[Path] = []
        while time.monotonic() < deadline:
            new = [p for p in peers.smtp_sink_dumps(self.server) if p not in before]
            if new:
                break
            time.sleep(0.05)
        self.assertEqual(len(new), 1, f"expected one dump file, got {new}")
        # Dump format (smtp-sink(1)): LF line ends, X-Mail-Args / X-Rcpt-Args
        # lines, a 3-line Received header, then the message as received
        # (dots already unstuffed), then an empty line.
        dump = new[0].read_text(errors="replace")
        lines = dump.split("\n")
        self.assertTrue(any(l.startswith(f"X-Mail-Args: <{SENDER}>") for l in lines), dump[:500])
        rcpt_args = [l.split()[1] for l in lines if l.startswith("X-Rcpt-Args: ")]
        self.assertEqual(rcpt_args, [f"<{r}>" for r in RCPTS])
        self.assertTrue(any(re.match(rf"(?i)Subject: {re.escape(SUBJECT)}$", l)
                            for l in lines), dump[:800])
        for line in BODY_LINES:
            self.assertIn(line, lines, f"body line {line!r} missing:\n{dump[:1500]}")

    def test_send_two_recipients(self):
        self.send_and_check()

    def test_send_pipelining_off(self):
        self.send_and_check("--pipelining", "off")


if __name__ == "__main__":
    unittest.main()
