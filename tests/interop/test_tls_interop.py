"""Interop tests for TLS: `smtplab send --starttls/--tls` against aiosmtpd
started with a TLS context, and real clients (Python smtplib, swaks) against
`smtplab sink --tls_cert/--tls_key`. Certificates come from `smtplab cert`.

Run:  SMTPLAB=build/bin/smtplab /usr/bin/python3 -m unittest -v test_tls_interop
"""

from __future__ import annotations

import shutil
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402

TIMEOUT = 30


class TlsInteropBase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.smtplab = peers.smtplab_path()
        cls.tmp = Path(tempfile.mkdtemp(prefix="smtplab-tls-interop-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.good = peers.make_pki(cls.smtplab, cls.tmp / "good")
        cls.expired = peers.make_pki(cls.smtplab, cls.tmp / "expired", "expired")

    def send(self, port: int, *extra: str) -> subprocess.CompletedProcess:
        argv = [self.smtplab, "send", "--server", f"127.0.0.1:{port}", "--from", "a@example.org",
                "--to", "b@example.net", "--subject", "over TLS", *extra]
        return subprocess.run(argv, capture_output=True, timeout=TIMEOUT, text=True)

    def wait_for_messages(self, server: peers.Server, n: int) -> list:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = peers.aiosmtpd_messages(server)
            if len(got) >= n:
                return got
            time.sleep(0.05)
        return peers.aiosmtpd_messages(server)


class SendToAiosmtpdOverTls(TlsInteropBase):
    """RFC 3207 and RFC 8314 with a real server on the other end."""

    def start(self, pki: Path, implicit: bool = False) -> peers.Server:
        flag = "smtps" if implicit else "tls"
        workdir = Path(tempfile.mkdtemp(dir=self.tmp))
        server = peers.start_aiosmtpd(workdir, [f"--{flag}cert", str(pki / "cert.pem"),
                                                f"--{flag}key", str(pki / "key.pem")])
        self.addCleanup(server.stop)
        return server

    def test_starttls_with_a_verified_certificate(self):
        server = self.start(self.good)
        r = self.send(server.port, "--starttls", "--tls_verify", "--tls_ca", str(self.good / "ca.pem"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("C: STARTTLS", r.stdout)
        self.assertIn("=== TLS started with cipher TLSv1.3", r.stdout)
        self.assertIn("=== TLS peer certificate verified", r.stdout)
        got = self.wait_for_messages(server, 1)
        self.assertEqual(len(got), 1)
        self.assertIn(b"Subject: over TLS", got[0][1])

    def test_aiosmtpd_really_requires_tls(self):
        # The control: aiosmtpd started this way refuses plaintext mail (530),
        # so the test above cannot pass without TLS.
        server = self.start(self.good)
        r = self.send(server.port)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("530", r.stdout)
        self.assertEqual(peers.aiosmtpd_messages(server), [])

    def test_implicit_tls(self):
        server = self.start(self.good, implicit=True)
        r = self.send(server.port, "--tls", "--tls_verify", "--tls_ca", str(self.good / "ca.pem"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("STARTTLS", r.stdout.split("=== TLS started")[1].split("MAIL FROM")[0])
        self.assertEqual(len(self.wait_for_messages(server, 1)), 1)

    def test_verification_refuses_an_expired_certificate(self):
        server = self.start(self.expired)
        r = self.send(server.port, "--starttls", "--tls_verify", "--tls_ca", str(self.expired / "ca.pem"))
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("NOT verified: certificate has expired", r.stdout)
        self.assertIn("454 4.7.5", r.stdout)
        self.assertNotIn("C: MAIL FROM", r.stdout)  # nothing sent to an unverified server
        self.assertEqual(peers.aiosmtpd_messages(server), [])

    def test_without_verification_an_expired_certificate_still_carries_mail(self):
        server = self.start(self.expired)
        r = self.send(server.port, "--starttls", "--tls_ca", str(self.expired / "ca.pem"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("NOT verified: certificate has expired", r.stdout)
        self.assertEqual(len(self.wait_for_messages(server, 1)), 1)


class RealClientsToSinkOverTls(TlsInteropBase):
    """`smtplab sink --tls_cert/--tls_key` offers STARTTLS (or implicit TLS)."""

    def start(self, *extra: str) -> peers.Server:
        maildir = Path(tempfile.mkdtemp(dir=self.tmp)) / "Maildir"
        server = peers.start_smtplab_sink(self.smtplab, maildir, ["--tls_cert", str(self.good / "cert.pem"),
                                                                   "--tls_key", str(self.good / "key.pem"), *extra])
        self.addCleanup(server.stop)
        return server

    def stored(self, server: peers.Server, n: int) -> list[bytes]:
        new = server.extra["maildir"] / "new"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(list(new.glob("*"))) < n:
            time.sleep(0.05)
        return [p.read_bytes() for p in sorted(new.glob("*"))]

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.good / "ca.pem"))

    def test_smtplib_starttls(self):
        server = self.start()
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as s:
            s.ehlo("client.example")
            self.assertTrue(s.has_extn("starttls"))
            s.starttls(context=self.context())  # verifies the chain and the 127.0.0.1 IP entry
            s.ehlo("client.example")
            self.assertFalse(s.has_extn("starttls"))  # RFC 3207 4.2: not offered again
            s.sendmail("a@example.org", ["b@example.net"], "Subject: smtplib over TLS\r\n\r\nhi\r\n")
        files = self.stored(server, 1)
        self.assertEqual(len(files), 1)
        self.assertIn(b"with ESMTPS", files[0])  # RFC 3848
        self.assertIn("TLS established: TLSv1.3", server.stderr_text())

    def test_smtplib_implicit_tls(self):
        server_port = self.start("--tls").port
        with smtplib.SMTP_SSL("127.0.0.1", server_port, timeout=10, context=self.context()) as s:
            s.ehlo("client.example")
            self.assertFalse(s.has_extn("starttls"))
            s.sendmail("a@example.org", ["b@example.net"], "Subject: implicit\r\n\r\nhi\r\n")

    def test_swaks_tls(self):
        server = self.start()
        r = subprocess.run(["swaks", "--server", f"127.0.0.1:{server.port}", "--from", "a@example.org",
                            "--to", "b@example.net", "--tls", "--tls-verify",
                            "--tls-ca-path", str(self.good / "ca.pem")],
                           capture_output=True, timeout=TIMEOUT, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("TLS started", r.stdout)
        self.assertEqual(len(self.stored(server, 1)), 1)

    def test_cve_2011_0411_injection_is_not_executed(self):
        # Plaintext pipelined right behind STARTTLS must be thrown away.
        server = self.start()
        import socket
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
            f = raw.makefile("rb")
            f.readline()
            raw.sendall(b"EHLO attacker.example\r\n")
            while not f.readline().startswith(b"250 "):
                pass
            raw.sendall(b"STARTTLS\r\nMAIL FROM:<injected@attacker.example>\r\n")
            self.assertTrue(f.readline().startswith(b"220"))
            tls = self.context().wrap_socket(raw, server_hostname="localhost")
            tf = tls.makefile("rb")
            tls.sendall(b"EHLO attacker.example\r\n")
            while not tf.readline().startswith(b"250 "):
                pass
            tls.sendall(b"RCPT TO:<b@example.net>\r\n")
            self.assertTrue(tf.readline().startswith(b"503"))  # no MAIL in effect: it was discarded
            tls.sendall(b"QUIT\r\n")
            tf.readline()
            tf.close()
            tls.close()
        self.assertIn("discarded", server.stderr_text().lower())


if __name__ == "__main__":
    unittest.main()
