"""Real traffic captured on loopback with `tshark -i lo`, read back by
`smtplab step CAPTURE`: swaks to Postfix's smtp-sink, Python smtplib to
aiosmtpd with STARTTLS (and SSLKEYLOGFILE), and a smuggling attempt sent by
hand. Each capture is explained line by line, and what a conforming client
would not have sent is found.

Run:  SMTPLAB=build/bin/smtplab /usr/bin/python3 -m unittest -v test_capture_import
"""

from __future__ import annotations

import json
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402

TIMEOUT = 60
TSHARK = shutil.which("tshark")


class LoopbackCapture:
    """`tshark -i lo` on one port, started and stopped by its PID."""

    def __init__(self, path: Path, port: int):
        self.path = path
        self.log = path.with_suffix(".tshark.log")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([TSHARK, "-i", "lo", "-f", f"tcp port {port}", "-w", str(path)],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            if "Capturing on" in text or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if "Capturing on" not in self.log.read_text(errors="replace"):
            peers.stop(self.proc)
            raise unittest.SkipTest(f"tshark cannot capture on lo here: {self.log.read_text()[-500:]}")
        time.sleep(0.5)  # capturing has begun a moment after it says so

    def stop(self) -> None:
        time.sleep(0.5)  # the last packets reach the file
        peers.stop(self.proc)


@unittest.skipUnless(TSHARK and shutil.which("swaks"), "tshark and swaks are installed by scripts/setup")
class RealCapturesAreExplained(unittest.TestCase):

    def setUp(self):
        self.smtplab = peers.smtplab_path()
        self.tmp = Path(tempfile.mkdtemp(prefix="smtplab-capture-import-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def step(self, capture: Path, port: int) -> tuple[str, list[dict]]:
        trace = capture.with_suffix(".jsonl")
        r = subprocess.run([self.smtplab, "step", str(capture), "--port", str(port), "--interactive", "no",
                            "--trace", str(trace)], capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout, [json.loads(line) for line in trace.read_text().splitlines()]

    def test_swaks_to_postfix_smtp_sink(self):
        sink = peers.start_smtp_sink(self.tmp / "sink", dump=False)
        self.addCleanup(sink.stop)
        cap = LoopbackCapture(self.tmp / "swaks.pcapng", sink.port)
        self.addCleanup(peers.stop, cap.proc)
        r = subprocess.run(["swaks", "--server", f"127.0.0.1:{sink.port}", "--from", "a@example.org",
                            "--to", "b@example.net", "--header", "Subject: captured"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        cap.stop()
        out, events = self.step(cap.path, sink.port)
        commands = [e["text"] for e in events if e["kind"] == "smtp.command"]
        self.assertEqual([c.split()[0] for c in commands], ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"])
        self.assertIn("MAIL FROM:<a@example.org>", commands)
        # RFC 5321 4.2: each reply answers its command, in order.
        answers = [(e["code"], e["details"]["answers"]) for e in events
                   if e["kind"] == "smtp.reply" and (len(e["text"]) == 3 or e["text"][3] == " ")]
        self.assertEqual([a for _, a in answers], ["greeting", "EHLO", "MAIL", "RCPT", "DATA", "end_of_data", "QUIT"])
        self.assertEqual(answers[4][0], 354)
        self.assertEqual([e for e in events if e["kind"] == "capture.finding"], [])
        # The stepper's explanations, as for a simulated run.
        self.assertIn("C: MAIL FROM:<a@example.org>", out)
        self.assertIn("MAIL FROM starts a transaction", out)
        self.assertIn("No findings", out)

    def test_smuggling_attempt_sent_by_hand_is_found(self):
        sink = peers.start_smtp_sink(self.tmp / "sink", dump=False)
        self.addCleanup(sink.stop)
        cap = LoopbackCapture(self.tmp / "smuggle.pcapng", sink.port)
        self.addCleanup(peers.stop, cap.proc)
        with socket.create_connection(("127.0.0.1", sink.port), timeout=10) as s:
            f = s.makefile("rb")
            def say(line: bytes) -> bytes:
                s.sendall(line)
                reply = f.readline()
                while reply[3:4] == b"-":
                    reply = f.readline()
                return reply
            f.readline()  # the greeting
            say(b"EHLO attacker.example\r\n")
            say(b"MAIL FROM:<a@example.org>\r\n")
            say(b"RCPT TO:<b@example.net>\r\n")
            self.assertTrue(say(b"DATA\r\n").startswith(b"354"))
            # SMTP smuggling: <LF>.<LF> and a second transaction inside the text.
            say(b"Subject: one\r\n\r\nhello\n.\nMAIL FROM:<ceo@bank.example>\r\nRCPT TO:<b@example.net>\r\n"
                b"DATA\r\nforged\r\n.\r\n")
            say(b"QUIT\r\n")
        cap.stop()
        out, events = self.step(cap.path, sink.port)
        found = {e["details"]["finding"] for e in events if e["kind"] == "capture.finding"}
        self.assertIn("smuggling_end", found)
        self.assertIn("bare_lf", found)
        # Read as a conforming server reads it: the forged MAIL is message text.
        self.assertNotIn("MAIL FROM:<ceo@bank.example>", [e["text"] for e in events if e["kind"] == "smtp.command"])
        self.assertIn("SMTP smuggling", out)

    def test_smtplib_to_aiosmtpd_with_starttls(self):
        pki = peers.make_pki(self.smtplab, self.tmp / "pki")
        server = peers.start_aiosmtpd(self.tmp / "aiosmtpd", ["--tlscert", str(pki / "cert.pem"),
                                                              "--tlskey", str(pki / "key.pem")])
        self.addCleanup(server.stop)
        cap = LoopbackCapture(self.tmp / "smtplib.pcapng", server.port)
        self.addCleanup(peers.stop, cap.proc)
        keylog = self.tmp / "smtplib.keys"
        context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        context.keylog_filename = str(keylog)  # what SSLKEYLOGFILE sets
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as client:
            client.starttls(context=context)
            client.sendmail("a@example.org", ["b@example.net"], "Subject: inside TLS\r\n\r\nsecret\r\n")
        cap.stop()
        out, events = self.step(cap.path, server.port)
        commands = [e["text"].split()[0] for e in events if e["kind"] == "smtp.command"]
        self.assertEqual([c.upper() for c in commands], ["EHLO", "STARTTLS"])  # smtplib writes "ehlo"
        self.assertTrue(any(e["kind"] == "smtp.starttls" for e in events))
        found = [e["details"]["finding"] for e in events if e["kind"] == "capture.finding"]
        self.assertEqual(found, ["encrypted"])
        self.assertIn("the rest of this connection is TLS", out)
        # With the secrets smtplab reads on inside TLS (RFC 8446), and so does Wireshark.
        r = subprocess.run([self.smtplab, "step", str(cap.path), "--port", str(server.port), "--keylog", str(keylog),
                            "--interactive", "no"], capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("tls.established: TLS established: TLSv1.3", r.stdout)
        self.assertIn("C: mail FROM:<a@example.org>", r.stdout)  # smtplib writes its verbs in lower case
        self.assertIn("(message text,", r.stdout)
        mail = subprocess.run([TSHARK, "-r", str(cap.path), "-o", f"tls.keylog_file:{keylog}",
                               "-d", f"tcp.port=={server.port},smtp", "-Y", "smtp.req.command == \"mail\"",
                               "-T", "fields", "-e", "smtp.req.parameter"],
                              capture_output=True, text=True, timeout=TIMEOUT)
        self.assertIn("FROM:<a@example.org>", mail.stdout)


if __name__ == "__main__":
    unittest.main()
