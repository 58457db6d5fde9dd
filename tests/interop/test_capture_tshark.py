"""What `smtplab run --pcap` writes, read by Wireshark's own dissectors
(tshark): the checksums verify, nothing is flagged, the SMTP it dissects
is the trace's, the delivered messages' headers are there, each packet's
comment explains it, and with `--keylog` the TLS lessons decrypt to SMTP.

Run:  SMTPLAB=build/bin/smtplab /usr/bin/python3 -m unittest -v test_capture_tshark
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402

TIMEOUT = 120
TSHARK = shutil.which("tshark")

# Lessons across what a capture must carry: greylisting and a refused DATA,
# PIPELINING, dot-stuffing, an unreachable MX (SYN retransmissions), an
# NXDOMAIN, STARTTLS, implicit TLS, connection reuse.
LESSONS = ["greylisting", "pipelining", "dot-stuffing", "backup-mx", "nxdomain-vs-servfail",
           "tls-opportunistic", "submission-implicit-tls", "connection-reuse"]


class Capture:
    def __init__(self, smtplab: str, lesson: str, out: Path):
        self.pcap = out / f"{lesson}.pcapng"
        self.keys = out / f"{lesson}.keys"
        self.trace_path = out / f"{lesson}.jsonl"
        r = subprocess.run([smtplab, "run", lesson, "--pcap", str(self.pcap), "--keylog", str(self.keys),
                            "--trace", str(self.trace_path)], capture_output=True, text=True, timeout=TIMEOUT)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "capture written to" in r.stderr, r.stderr
        self.trace = [json.loads(line) for line in self.trace_path.read_text().splitlines()]

    def tshark(self, *args: str, keys: bool = True) -> list[list[str]]:
        # The MDA speaks LMTP on port 24 (RFC 2033), which Wireshark decodes
        # as SMTP when told to.
        argv = [TSHARK, "-r", str(self.pcap), "-o", "smtp.decryption:TRUE", "-d", "tcp.port==24,smtp"]
        if keys:
            argv += ["-o", f"tls.keylog_file:{self.keys}"]
        r = subprocess.run(argv + list(args), capture_output=True, text=True, timeout=TIMEOUT)
        assert r.returncode == 0, r.stderr
        return [line.split("\t") for line in r.stdout.splitlines()]

    # The trace's connections by their two ends, as tshark names a stream.
    def connections(self) -> dict[int, tuple[str, str]]:
        out = {}
        for e in self.trace:
            if e["kind"] == "conn.open":
                client, server = e["text"].split(" -> ")
                out[e["conn"]] = (client, server)
        return out


@unittest.skipUnless(TSHARK, "tshark is not installed (scripts/setup installs it)")
class TsharkReadsTheCaptures(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.smtplab = peers.smtplab_path()
        cls.tmp = Path(tempfile.mkdtemp(prefix="smtplab-capture-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.captures = {lesson: Capture(cls.smtplab, lesson, cls.tmp) for lesson in LESSONS}

    def streams(self, c: Capture, fields: list[str], keys: bool = True) -> dict[int, list[list[str]]]:
        """Rows of SMTP packets by trace connection (found from the stream's two ends)."""
        by_ends = {ends: conn for conn, ends in c.connections().items()}
        rows = c.tshark("-Y", "smtp", "-T", "fields", "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst",
                        "-e", "tcp.dstport", *sum((["-e", f] for f in fields), []), keys=keys)
        out = defaultdict(list)
        for r in rows:
            a, b = f"{r[0]}:{r[1]}", f"{r[2]}:{r[3]}"
            conn = by_ends.get((a, b), by_ends.get((b, a)))
            self.assertIsNotNone(conn, f"a stream the trace does not have: {a} {b}")
            out[conn].append(r[4:])
        return out

    def test_checksums_verify_and_nothing_is_flagged(self):
        # RFC 791 3.1, RFC 9293 3.1, RFC 768: every checksum; Wireshark's TCP
        # analysis finds no gap, overlap, zero window or unseen ACK. A SYN
        # sent again to a host that is down is the one thing it may note.
        for lesson, c in self.captures.items():
            with self.subTest(lesson=lesson):
                flagged = c.tshark("-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
                                   "-o", "udp.check_checksum:TRUE", "-Y",
                                   "(tcp.analysis.flags && !(tcp.flags.syn == 1 && tcp.analysis.retransmission))"
                                   " || _ws.expert.severity >= warning || tcp.checksum.status == 0"
                                   " || ip.checksum.status == 0 || udp.checksum.status == 0")
                self.assertEqual(flagged, [])

    def test_reply_codes_are_the_traces(self):
        # RFC 5321 4.2: one code per reply; a multi-line reply's lines share it.
        for lesson, c in self.captures.items():
            with self.subTest(lesson=lesson):
                expected = defaultdict(list)
                for e in c.trace:
                    if e["kind"] == "smtp.reply" and (len(e["text"]) == 3 or e["text"][3] == " "):
                        expected[e["conn"]].append(e["text"][:3])
                got = {conn: [code for r in rows for code in r[0].split(",") if code]
                       for conn, rows in self.streams(c, ["smtp.response.code"]).items()}
                self.assertEqual(got, dict(expected))

    def test_commands_are_the_traces(self):
        # Wireshark names STARTTLS "STAR" + "TLS" and a pipelined batch as one
        # row: compare the lines without spaces. It reads on as message text
        # after a DATA that was refused (greylisting's 554), so what it
        # dissects must be the trace's commands in order, all of them where
        # every DATA was answered 354.
        for lesson, c in self.captures.items():
            with self.subTest(lesson=lesson):
                expected = defaultdict(list)
                refused_data = set()
                for e in c.trace:
                    if e["kind"] == "smtp.command":
                        expected[e["conn"]].append(e["text"].replace(" ", ""))
                    if (e["kind"] == "smtp.reply" and e.get("details", {}).get("answers") == "DATA"
                            and e.get("code") != 354):
                        refused_data.add(e["conn"])
                for conn, rows in self.streams(c, ["smtp.req.command", "smtp.req.parameter"]).items():
                    got = []
                    for r in rows:
                        if not r[0]:
                            continue
                        params = r[1].split(",") if r[1] else []
                        for i, verb in enumerate(r[0].split(",")):
                            param = params[i] if i < len(params) else ""
                            # It cuts every verb at four letters: STARTTLS is "STAR" and "TLS".
                            line = "STARTTLS" if (verb, param) == ("STAR", "TLS") else verb + param
                            got.append(line.replace(" ", ""))
                    want = expected[conn]
                    if conn in refused_data:
                        it = iter(want)
                        self.assertTrue(all(g in it for g in got), f"{got} is not in order within {want}")
                    else:
                        self.assertEqual(got, [w for w in want if self.dissected_as_command(w)])

    @staticmethod
    def dissected_as_command(line: str) -> bool:
        # The base64 lines of an AUTH exchange are SASL, not commands.
        return not line.endswith("=") or line.upper().startswith(("AUTH", "MAIL", "RCPT"))

    def test_delivered_headers_are_there(self):
        # RFC 5322: Wireshark's IMF dissector finds the message in the DATA of
        # each hop; its Subject is the one submitted.
        for lesson in ["greylisting", "dot-stuffing", "tls-opportunistic"]:
            with self.subTest(lesson=lesson):
                c = self.captures[lesson]
                subjects = {row[0] for row in c.tshark("-Y", "imf", "-T", "fields", "-e", "imf.subject")}
                submitted = {e["text"].split('"')[1] for e in c.trace if e["kind"] == "message.submit"}
                self.assertTrue(submitted)
                self.assertTrue(submitted <= subjects, f"{submitted} not in {subjects}")

    def test_each_command_packet_carries_its_explanation(self):
        c = self.captures["greylisting"]
        rows = c.tshark("-Y", "smtp.req.command == \"EHLO\"", "-T", "fields", "-e", "frame.comment")
        self.assertTrue(rows)
        for r in rows:
            self.assertIn("[command.ehlo] C: EHLO ", r[0])
            self.assertIn("RFC 5321", r[0])
        greylisted = c.tshark("-Y", "smtp.response.code == 451", "-T", "fields", "-e", "frame.comment")
        self.assertTrue(any("[reply.451.greylisted] S: 451 4.7.1" in r[0] for r in greylisted), greylisted)
        dns = c.tshark("-Y", "dns.flags.response == 0 && dns.qry.type == 15", "-T", "fields", "-e", "dns.qry.name",
                       "-e", "frame.comment")
        self.assertIn(["example.net", "[dns.query.mx] MX example.net?" + dns[0][1].split("?", 1)[1]], dns)

    def test_dns_answers_are_the_zones(self):
        # RFC 1035 4.1.1: NXDOMAIN is rcode 3, SERVFAIL 2; an MX answer names the exchange.
        c = self.captures["nxdomain-vs-servfail"]
        rcodes = {row[0] for row in c.tshark("-Y", "dns.flags.response == 1", "-T", "fields", "-e", "dns.flags.rcode")}
        self.assertIn("3", rcodes)
        self.assertIn("2", rcodes)
        g = self.captures["greylisting"]
        mx = g.tshark("-Y", "dns.flags.response == 1 && dns.qry.type == 15", "-T", "fields", "-e", "dns.mx.mail_exchange")
        self.assertIn(["mx.example.net"], mx)

    def test_tls_decrypts_only_with_the_key_log(self):
        # RFC 3207: after STARTTLS the commands are inside TLS; RFC 8314: on
        # 465 from the first byte. Without the secrets Wireshark sees no MAIL.
        for lesson in ["tls-opportunistic", "submission-implicit-tls"]:
            with self.subTest(lesson=lesson):
                c = self.captures[lesson]
                self.assertGreater(c.keys.stat().st_size, 0)
                with_keys = [r[0] for rows in self.streams(c, ["smtp.req.command"]).values() for r in rows]
                without = [r[0] for rows in self.streams(c, ["smtp.req.command"], keys=False).values() for r in rows]
                self.assertTrue(any("MAIL" in v for v in with_keys), with_keys)
                submission = [e for e in c.trace if e["kind"] == "smtp.command" and "MAIL FROM" in e["text"]]
                self.assertGreater(sum(v.count("MAIL") for v in with_keys), sum(v.count("MAIL") for v in without))
                self.assertTrue(submission)


def tshark_rows(pcap: Path, keys: Path | None, *args: str) -> list[list[str]]:
    argv = [TSHARK, "-r", str(pcap), "-o", "smtp.decryption:TRUE"]
    if keys is not None:
        argv += ["-o", f"tls.keylog_file:{keys}"]
    r = subprocess.run(argv + list(args), capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    return [line.split("\t") for line in r.stdout.splitlines()]


# Wireshark's checksum status 0 is "Bad" (1 good, 2 unverified).
FLAGGED = ("(tcp.analysis.flags && !(tcp.flags.syn == 1 && tcp.analysis.retransmission))"
           " || _ws.expert.severity >= warning || tcp.checksum.status == 0 || ip.checksum.status == 0")


@unittest.skipUnless(TSHARK and shutil.which("swaks"), "tshark and swaks are installed by scripts/setup")
class RealSocketsCaptures(unittest.TestCase):
    """--pcap where the peers are real programs: swaks into `smtplab serve`,
    and `smtplab conform --starttls` against a TLS sink."""

    def setUp(self):
        self.smtplab = peers.smtplab_path()
        self.tmp = Path(tempfile.mkdtemp(prefix="smtplab-capture-real-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def test_serve_captures_swaks_and_the_relays_and_the_key_log_opens_them(self):
        pcap, keys, out_path = self.tmp / "serve.pcapng", self.tmp / "serve.keys", self.tmp / "serve.out"
        with open(out_path, "wb") as out:
            proc = subprocess.Popen([self.smtplab, "serve", "tls-opportunistic", "--http", "127.0.0.1:0",
                                     "--port_offset", "0", "--time_scale", "600", "--spool", str(self.tmp / "spool"),
                                     "--pcap", str(pcap), "--keylog", str(keys)],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        self.addCleanup(peers.stop, proc)
        text = self.wait_for(out_path, lambda t: "Ctrl-C stops" in t, proc)
        msa = re.search(r"^  submit\.example\.org\s+msa\s+587  (127\.0\.0\.\d+):(\d+)$", text, re.M)
        self.assertIsNotNone(msa, text)
        # RFC 3207 and RFC 4954: STARTTLS, then AUTH inside it.
        r = subprocess.run(["swaks", "--server", f"{msa.group(1)}:{msa.group(2)}", "--tls", "--auth", "PLAIN",
                            "--auth-user", "alice", "--auth-password", "secret", "--from", "carol@example.org",
                            "--to", "bob@example.net", "--header", "Subject: captured from swaks"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # The lesson's own message and swaks's reach Bob's mailbox.
        self.wait_for(out_path, lambda t: t.count("mailbox.deliver") >= 2, proc)
        peers.stop(proc)
        self.assertEqual(proc.returncode, 0, out_path.read_text())
        self.assertIn("capture written to", out_path.read_text())

        self.assertEqual(tshark_rows(pcap, keys, "-Y", FLAGGED, "-o", "tcp.check_checksum:TRUE",
                                     "-o", "ip.check_checksum:TRUE"), [])
        # The listeners' real ports read as the world's (587, 25, 24), so
        # Wireshark dissects them as SMTP itself; LMTP needs Decode As.
        # Submission from swaks is inside TLS; the last hop, LMTP to the
        # mailbox server, is plaintext in this lesson, so look at port 587.
        submitted = "tcp.dstport == 587 && smtp.req.command == \"MAIL\""
        with_keys = {row[0] for row in tshark_rows(pcap, keys, "-Y", submitted, "-T", "fields",
                                                   "-e", "smtp.req.parameter")}
        without = {row[0] for row in tshark_rows(pcap, None, "-Y", submitted, "-T", "fields",
                                                 "-e", "smtp.req.parameter")}
        self.assertTrue(any("carol@example.org" in p for p in with_keys), with_keys)
        self.assertFalse(any("carol@example.org" in p for p in without), without)
        # swaks connected from outside the world: its address is the real one.
        clients = {row[0] for row in tshark_rows(pcap, keys, "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0",
                                                 "-T", "fields", "-e", "ip.src")}
        self.assertIn("127.0.0.1", clients)

    def test_conform_over_starttls_is_captured_from_the_probes_end(self):
        pki = peers.make_pki(self.smtplab, self.tmp / "pki")
        sink = peers.start_smtplab_sink(self.smtplab, self.tmp / "maildir",
                                        ["--no-fsync", "--tls_cert", str(pki / "cert.pem"),
                                         "--tls_key", str(pki / "key.pem")])
        self.addCleanup(sink.stop)
        pcap, keys = self.tmp / "conform.pcapng", self.tmp / "conform.keys"
        r = subprocess.run([self.smtplab, "conform", "--server", f"127.0.0.1:{sink.port}", "--profile", "sink",
                            "--starttls", "--tls_ca", str(pki / "ca.pem"), "--only", "basic.,tls.",
                            "--pcap", str(pcap), "--keylog", str(keys)],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertIn("capture written to", r.stderr, r.stdout + r.stderr)
        self.assertGreater(keys.stat().st_size, 0)
        decode = ["-d", f"tcp.port=={sink.port},smtp"]
        self.assertEqual(tshark_rows(pcap, keys, *decode, "-Y", FLAGGED, "-o", "tcp.check_checksum:TRUE",
                                     "-o", "ip.check_checksum:TRUE"), [])
        ehlo_inside_tls = tshark_rows(pcap, keys, *decode, "-Y", "tls && smtp.req.command == \"EHLO\"",
                                      "-T", "fields", "-e", "frame.number")
        self.assertTrue(ehlo_inside_tls, "no EHLO decrypted from the key log")
        self.assertEqual(tshark_rows(pcap, None, *decode, "-Y", "tls && smtp.req.command == \"EHLO\"",
                                     "-T", "fields", "-e", "frame.number"), [])

    @staticmethod
    def wait_for(path: Path, done, proc, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = path.read_text(errors="replace")
            if done(text) or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert done(text), text[-3000:]
        return text


if __name__ == "__main__":
    unittest.main()
