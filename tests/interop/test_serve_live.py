"""Interop: real clients send into `smtplab serve`, and smtplab-viz follows it live.

Run:  SMTPLAB=build/bin/smtplab SMTPLAB_VIZ=build/bin/smtplab-viz \
      /usr/bin/python3 -m unittest -v test_serve_live

One `smtplab serve` runs the greylisting lesson on real loopback sockets with
the world's timers x600 (the 300 s greylisting delay takes half a second):
  * swaks submits to the MSA with AUTH PLAIN (RFC 4954, RFC 6409);
  * Python's smtplib talks to the MX directly, is greylisted (451 4.7.1) and
    retries after the delay, as an MTA would (RFC 5321 4.5.4.1);
  * the HTTP API shows both messages in Bob's mailbox and the spool holds them
    as Maildir files;
  * `smtplab-viz --attach` (under Xvfb) draws the live run: the outside client
    as a node of its own, every event received, delivered envelopes over the
    mailbox.
Every wait is bounded; serve is stopped by its PID and must exit cleanly.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import smtplib
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402

START_TIMEOUT = 15.0
DELIVERY_TIMEOUT = 30.0
LIBRARY = Path(__file__).resolve().parents[2] / "scenarios" / "library"
# Runs the viz on a private Xvfb (safe beside other tests that use one).
XVFB_EXEC = Path(__file__).resolve().parents[2] / "scripts" / "xvfb-exec"


def viz_path() -> str:
    path = os.environ.get("SMTPLAB_VIZ")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set SMTPLAB_VIZ to the smtplab-viz binary")
    return path


class ServeLiveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.work = Path(tempfile.mkdtemp(prefix="smtplab-serve-test-"))
        cls.spool = cls.work / "spool"
        cls.out_path = cls.work / "serve.out"
        with open(cls.out_path, "wb") as out:
            cls.proc = subprocess.Popen(
                [peers.smtplab_path(), "serve", str(LIBRARY / "greylisting.yaml"), "--http", "127.0.0.1:0",
                 "--port_offset", "0", "--time_scale", "600", "--spool", str(cls.spool), "--log", "all"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        text = ""
        while time.monotonic() < deadline:
            text = cls.out_path.read_text(errors="replace")
            if "Ctrl-C stops" in text or cls.proc.poll() is not None:
                break
            time.sleep(0.05)
        if "Ctrl-C stops" not in text:
            peers.stop(cls.proc)
            raise RuntimeError(f"smtplab serve did not start:\n{text[-3000:]}")
        cls.listeners = {(m[0], int(m[2])): m[3] for m in
                         re.findall(r"^  (\S+)\s+(msa|mta|mda)\s+(\d+)  (127\.0\.0\.\d+:\d+)$", text, re.M)}
        cls.ws_url = re.search(r"--attach (ws://127\.0\.0\.1:\d+/trace)", text).group(1)
        cls.http = cls.ws_url.replace("ws://", "http://").replace("/trace", "")

    @classmethod
    def tearDownClass(cls) -> None:
        peers.stop(cls.proc)
        shutil.rmtree(cls.work, ignore_errors=True)

    def api(self, path: str):
        with urllib.request.urlopen(self.http + path, timeout=5) as r:
            body = r.read().decode()
            return json.loads(body) if r.headers.get_content_type() == "application/json" else body

    def endpoint(self, host: str, port: int) -> tuple[str, int]:
        ip, real_port = self.listeners[(host, port)].split(":")
        return ip, int(real_port)

    def bob_subjects(self) -> list[str]:
        return [m["subject"] for m in self.api("/api/mailboxes")["mail.example.net"]["bob"]]

    def wait_for_subject(self, subject: str) -> None:
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while time.monotonic() < deadline:
            if subject in self.bob_subjects():
                return
            time.sleep(0.1)
        self.fail(f"{subject!r} not in bob's mailbox after {DELIVERY_TIMEOUT} s; queues: "
                  f"{self.api('/api/queues')}")

    def test_1_swaks_submits_through_the_msa_with_auth(self) -> None:
        ip, port = self.endpoint("submit.example.org", 587)
        run = subprocess.run(
            ["swaks", "--server", f"{ip}:{port}", "--auth", "PLAIN", "--auth-user", "alice",
             "--auth-password", "secret", "--from", "alice@example.org", "--to", "bob@example.net",
             "--h-Subject", "sent by swaks", "--body", "through the MSA"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("235 2.7.0", run.stdout)  # RFC 4954: authenticated
        self.assertRegex(run.stdout, r"250 2\.0\.0 Ok: queued as Q\d+")
        self.wait_for_subject("sent by swaks")
        # The MSA saw AUTH from the outside client, named by its address.
        trace = [json.loads(line) for line in self.api("/api/trace").splitlines()]
        auth = [e for e in trace if e["kind"] == "smtp.command" and e["text"].startswith("AUTH PLAIN")
                and e.get("peer") == "127.0.0.1"]
        self.assertTrue(auth, "no AUTH from 127.0.0.1 in the trace")
        # RFC 5321 6.1: delivered means on disk, in Bob's Maildir: the
        # folder the banner's "ls ... (where it lands ...)" names.
        banner = self.out_path.read_text(errors="replace")
        shown = re.search(r"^  ls (\S+)    \(where it lands: bob's Maildir\)$", banner, re.M)
        self.assertIsNotNone(shown, banner[:3000])
        self.assertEqual(Path(shown.group(1)), self.spool / "mail.example.net" / "bob" / "new")
        files = list(Path(shown.group(1)).iterdir())
        self.assertTrue(any(b"Subject: sent by swaks" in f.read_bytes() for f in files))
        # The banner's sender "from outside" is from no domain of the world.
        outside = re.search(r"--from someone@(\S+) --to", banner).group(1)
        self.assertNotIn(outside, ("example.org", "example.net"))

    def test_2_smtplib_to_the_mx_is_greylisted_then_accepted(self) -> None:
        ip, port = self.endpoint("mx.example.net", 25)
        message = ("From: carol@example.com\r\nTo: bob@example.net\r\nSubject: sent by smtplib\r\n\r\n"
                   "straight to the MX\r\n")
        attempts = []
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while time.monotonic() < deadline:
            with smtplib.SMTP(ip, port, local_hostname="client.example.com", timeout=10) as s:
                try:
                    s.sendmail("carol@example.com", ["bob@example.net"], message.encode())
                    attempts.append("250")
                    break
                except smtplib.SMTPRecipientsRefused as e:
                    code, text = e.recipients["bob@example.net"]
                    attempts.append(f"{code} {text.decode()}")
            time.sleep(0.2)  # 120 s of world time: the 300 s delay passes after a few
        self.assertTrue(attempts[0].startswith("451 4.7.1"), attempts)
        self.assertEqual(attempts[-1], "250", attempts)
        self.wait_for_subject("sent by smtplib")

    def test_2b_swaks_speaks_lmtp_to_the_mailbox_server(self) -> None:
        # RFC 2033: the mailbox server speaks LMTP on its port 24; swaks says
        # LHLO and, after the text, reads one reply per accepted recipient.
        ip, port = self.endpoint("mail.example.net", 24)
        run = subprocess.run(
            ["swaks", "--protocol", "LMTP", "--server", f"{ip}:{port}", "--from", "alice@example.org",
             "--to", "bob@example.net,nobody@example.net,postmaster@example.net",
             "--h-Subject", "sent by swaks over LMTP", "--body", "to the mailbox server"],
            capture_output=True, text=True, timeout=60)
        self.assertIn("LHLO", run.stdout)
        self.assertRegex(run.stdout, r"550 5\.1\.1 <nobody@example\.net>: User unknown")
        # One reply per accepted recipient after the final dot, in RCPT order.
        after_dot = run.stdout.split("\n -> .\n", 1)[-1]
        self.assertRegex(after_dot, r"250 2\.0\.0 <bob@example\.net> Ok: delivered as D\d+[\s\S]*"
                                    r"250 2\.0\.0 <postmaster@example\.net> Ok: delivered as D\d+")
        self.wait_for_subject("sent by swaks over LMTP")
        # The server greets as LMTP, and an SMTP hello is refused (RFC 2033 4.1).
        with socket.create_connection((ip, port), timeout=10) as sock:
            f = sock.makefile("rwb")
            self.assertIn(b"LMTP", f.readline())
            f.write(b"EHLO client.example\r\n")
            f.flush()
            self.assertTrue(f.readline().startswith(b"500 5.5.1"))

    def test_3_viz_attaches_and_draws_the_live_run(self) -> None:
        self.wait_for_subject("sent by swaks")
        shot, info = self.work / "live.png", self.work / "live.json"
        events_before = len(self.api("/api/trace").splitlines())
        run = subprocess.run(
            [str(XVFB_EXEC), "--screen", "1280x800x24", viz_path(), "--attach", self.ws_url,
             "--screenshot", str(shot), "--screenshot_info", str(info), "--attach_wait", "2s"],
            capture_output=True, text=True, timeout=120, env={**os.environ, "ASAN_OPTIONS": "detect_leaks=0"})
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertGreater(shot.stat().st_size, 10_000)
        drawn = json.loads(info.read_text())
        self.assertGreaterEqual(drawn["events_applied"], events_before)
        nodes = {p["name"]: p for p in drawn["placed"] if p["what"] == "node"}
        for host in ("127.0.0.1", "submit.example.org", "mx.example.org", "mx.example.net", "mail.example.net"):
            self.assertIn(host, nodes)
        swaks_id = next(m["message_id"] for m in self.api("/api/mailboxes")["mail.example.net"]["bob"]
                        if m["subject"] == "sent by swaks")
        envelope = next(p for p in drawn["placed"] if p["what"] == "envelope" and p["name"] == swaks_id)
        mda = nodes["mail.example.net"]
        # Delivered: in the pile over the mailbox.
        self.assertLess(abs(envelope["x"] - mda["x"]), 80, envelope)
        self.assertLess(envelope["y"], mda["y"], envelope)

    def test_4_api_errors_are_json(self) -> None:
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(self.http + "/api/nothing", timeout=5)
        self.assertEqual(e.exception.code, 404)
        self.assertIn("error", json.loads(e.exception.read().decode()))


class ServeStopsCleanlyTest(unittest.TestCase):
    def test_sigterm_prints_a_summary_and_exits_0(self) -> None:
        with tempfile.TemporaryDirectory() as work:
            out_path = Path(work) / "out"
            with open(out_path, "wb") as out:
                proc = subprocess.Popen([peers.smtplab_path(), "serve", "direct-delivery", "--http", "127.0.0.1:0",
                                         "--port_offset", "0"], stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + START_TIMEOUT
                while "Ctrl-C stops" not in out_path.read_text() and time.monotonic() < deadline:
                    time.sleep(0.05)
                while "mailbox.deliver" not in out_path.read_text() and time.monotonic() < deadline:
                    time.sleep(0.05)  # the lesson's own message, about 15 ms of real time
                spool = re.search(r"Spool:\s+(\S+)", out_path.read_text()).group(1)
                self.assertTrue(Path(spool).is_dir())
                proc.terminate()
                self.assertEqual(proc.wait(timeout=10), 0, out_path.read_text())
            finally:
                peers.stop(proc)
            self.assertIn("Delivered into mailboxes: 1", out_path.read_text())
            self.assertFalse(Path(spool).exists(), "the temporary spool is removed at exit")

    def test_broken_scenario_names_file_line_and_column(self) -> None:
        with tempfile.TemporaryDirectory() as work:
            bad = Path(work) / "bad.yaml"
            bad.write_text("title: broken\ndomains:\n  example.org:\n    users: [alice\n")
            run = subprocess.run([peers.smtplab_path(), "serve", str(bad), "--http", "127.0.0.1:0"],
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(run.returncode, 1)
            self.assertRegex(run.stderr, re.escape(str(bad)) + r":\d+:\d+: ")


if __name__ == "__main__":
    unittest.main()
