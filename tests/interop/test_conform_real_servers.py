"""`smtplab conform` against real SMTP servers started on 127.0.0.1 here.

Run:  SMTPLAB=build/bin/smtplab /usr/bin/python3 -m unittest \
          tests/interop/test_conform_real_servers.py -v

Servers (peers.py starts and stops them, by PID):
  * aiosmtpd                          - profile sink; again with STARTTLS
  * Postfix smtp-sink                 - profile sink
  * a private Postfix smtpd instance  - profile mx (own config, queue and log in
    a temp dir; every transport is discard:, so nothing is delivered; needs
    root, like any Postfix master); again with a certificate (STARTTLS)

The TLS runs use a certificate from `smtplab cert` and give `conform` its CA
(--tls_ca), so the TLS checks can verify it.

What is checked is the runner, not the servers: real servers answer in ways
the project's own tests do not (other wording, other codes, leniency), and
`conform` must still finish in time, exit 0 or 1 (never 2, never a signal),
and write a JSON and a JUnit report that agree. Which checks a server passes is
not asserted: that is the report's job (keep the reports, below, to compare
servers).

The last test checks that docs/conformance-results.md's tables are what
scripts/conformance-table makes of this run's reports (so the page cannot
drift from what the servers and the runner do now).

Set SMTPLAB_CONFORM_KEEP=DIR to keep each run's reports (SERVER.json,
SERVER.xml, SERVER.txt) in DIR.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402

RUN_TIMEOUT = 120  # seconds: subprocess limit for one `conform` run
MAX_SECONDS = 60  # a run must take less than this
MIN_CHECKS = 40
OUTCOMES = {"PASS", "FAIL", "WARN", "SKIP"}
LEVELS = {"MUST", "SHOULD", "MAY"}


class ConformRealServersTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.smtplab = peers.smtplab_path()
        cls.tmp = Path(tempfile.mkdtemp(prefix="smtplab-conform-real-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        keep = os.environ.get("SMTPLAB_CONFORM_KEEP")
        cls.keep = Path(keep) if keep else None
        if cls.keep:
            cls.keep.mkdir(parents=True, exist_ok=True)

    def pki(self) -> Path:
        out = self.tmp / "pki"
        if not (out / "ca.pem").exists():
            r = subprocess.run([self.smtplab, "cert", "--out", str(out), "--host", "localhost,127.0.0.1"],
                               capture_output=True, timeout=RUN_TIMEOUT)
            self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
            # Postfix's daemons run as postfix and must read the key.
            (out / "key.pem").chmod(0o644)
            out.chmod(0o755)
        return out

    def conform(self, name: str, server: peers.Server, profile: str, *extra: str) -> dict:
        """Run `smtplab conform` against `server`; check what every run must
        satisfy; return the parsed JSON report."""
        out = self.tmp / name
        out.mkdir(parents=True, exist_ok=True)
        json_path, junit_path = out / "report.json", out / "report.xml"
        argv = [self.smtplab, "conform", "--server", f"127.0.0.1:{server.port}",
                "--profile", profile, "--json", str(json_path),
                "--junit", str(junit_path), "--timeout", "5s", *extra]
        start = time.monotonic()
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:  # run() has killed it
            self.fail(f"{' '.join(argv)} did not finish within {RUN_TIMEOUT} s")
        seconds = time.monotonic() - start
        console = (r.stdout + r.stderr).decode(errors="replace")
        if self.keep:
            (self.keep / f"{name}.txt").write_text(console)
            for src, ext in ((json_path, "json"), (junit_path, "xml")):
                if src.exists():
                    shutil.copyfile(src, self.keep / f"{name}.{ext}")
        context = f"{' '.join(argv)}\nexit status {r.returncode}\n{console[-3000:]}"

        # 0: every MUST holds, 1: some MUST failed. 2 would be a usage error,
        # a negative status a signal (a crash).
        self.assertIn(r.returncode, (0, 1), context)
        self.assertLess(seconds, MAX_SECONDS, f"took {seconds:.1f} s\n{context}")
        self.assertTrue(server.proc.poll() is None,
                        f"{server.name} died during the run\n{server.stderr_text()[-2000:]}")

        # JSON report
        self.assertTrue(json_path.is_file(), f"no JSON report\n{context}")
        report = json.loads(json_path.read_text())
        checks = report.get("checks")
        self.assertIsInstance(checks, list, "JSON report has no 'checks' list")
        self.assertGreaterEqual(len(checks), MIN_CHECKS, context)
        for c in checks:
            for key in ("id", "outcome", "level", "reference"):
                self.assertTrue(isinstance(c.get(key), str) and c[key],
                                f"check without a {key}: {c}")
            self.assertIn(c["outcome"], OUTCOMES, c)
            self.assertIn(c["level"], LEVELS, c)
        ids = [c["id"] for c in checks]
        self.assertEqual(len(ids), len(set(ids)), f"duplicate check ids: {ids}")
        self.assertEqual(report.get("profile"), profile)
        self.assertEqual(report.get("server"), f"127.0.0.1:{server.port}")
        # The exit status and the report tell the same story.
        must_failed = any(c["outcome"] == "FAIL" and c["level"] == "MUST" for c in checks)
        self.assertEqual(r.returncode, 1 if must_failed else 0, context)
        self.assertEqual(report.get("must_requirements_hold"), not must_failed)

        # JUnit report: one testcase per check.
        self.assertTrue(junit_path.is_file(), f"no JUnit report\n{context}")
        root = ET.parse(junit_path).getroot()
        cases = root.findall(".//testcase")
        self.assertEqual(len(cases), len(checks), "JUnit testcases vs JSON checks")
        self.assertEqual(int(root.get("tests", "-1")), len(checks),
                         "JUnit tests= attribute vs JSON checks")
        fails = sum(c["outcome"] == "FAIL" for c in checks)
        skips = sum(c["outcome"] == "SKIP" for c in checks)
        self.assertEqual(len(root.findall(".//testcase/failure")), fails)
        self.assertEqual(len(root.findall(".//testcase/skipped")), skips)
        return report

    def test_aiosmtpd_sink_profile(self):
        with peers.start_aiosmtpd(self.tmp / "aiosmtpd-server") as server:
            self.conform("aiosmtpd", server, "sink")

    def test_aiosmtpd_with_starttls(self):
        pki = self.pki()
        with peers.start_aiosmtpd(self.tmp / "aiosmtpd-tls-server",
                                  ["--tlscert", str(pki / "cert.pem"), "--tlskey", str(pki / "key.pem"),
                                   "--no-requiretls"]) as server:
            report = self.conform("aiosmtpd-tls", server, "sink", "--tls_ca", str(pki / "ca.pem"))
            outcome = {c["id"]: c["outcome"] for c in report["checks"]}
            # The TLS checks ran: a handshake happened and was judged.
            self.assertEqual(outcome["tls.starttls_offered"], "PASS")
            self.assertEqual(outcome["tls.handshake"], "PASS")
            self.assertEqual(outcome["tls.certificate"], "PASS")

    def test_postfix_smtpd_with_starttls(self):
        if os.geteuid() != 0:
            self.skipTest("a private Postfix instance needs root")
        pki = self.pki()
        with peers.start_postfix_smtpd(self.tmp / "postfix-tls-server", {
                "smtpd_tls_cert_file": str(pki / "cert.pem"),
                "smtpd_tls_key_file": str(pki / "key.pem"),
                "smtpd_tls_security_level": "may"}) as server:
            try:
                report = self.conform("postfix-tls", server, "mx", "--tls_ca", str(pki / "ca.pem"))
                outcome = {c["id"]: c["outcome"] for c in report["checks"]}
                self.assertEqual(outcome["tls.handshake"], "PASS")
            finally:
                if self.keep:
                    (self.keep / "postfix-tls.maillog").write_text(server.maillog_text())

    def test_smtp_sink_sink_profile(self):
        with peers.start_smtp_sink(self.tmp / "smtp-sink-server", dump=False) as server:
            self.conform("smtp-sink", server, "sink")

    def test_postfix_smtpd_mx_profile(self):
        if os.geteuid() != 0:
            self.skipTest("a private Postfix instance needs root (master starts "
                          "as root and drops to mail_owner)")
        with peers.start_postfix_smtpd(self.tmp / "postfix-server") as server:
            try:
                self.conform("postfix", server, "mx")
            finally:
                if self.keep:
                    (self.keep / "postfix.maillog").write_text(server.maillog_text())

    def test_zz_results_page_matches_these_runs(self):
        """docs/conformance-results.md shows what these servers get now: its
        tables are scripts/conformance-table's output for the reports the
        tests above wrote (named last so unittest runs it after them)."""
        root = Path(__file__).resolve().parents[2]
        page = (root / "docs" / "conformance-results.md").read_text()
        # The page's own regeneration command names each column and report.
        columns = re.findall(r'"([^"=]+)=/tmp/keep/([\w-]+)\.json"', page)
        self.assertGreaterEqual(len(columns), 5, "no scripts/conformance-table command on the page")
        args = []
        for title, name in columns:
            report = self.tmp / name / "report.json"
            if not report.exists():
                self.skipTest(f"no report for {name} in this run (a skipped test?)")
            args.append(f"{title}={report}")
        r = subprocess.run([sys.executable, str(root / "scripts" / "conformance-table"), *args],
                           capture_output=True, text=True, timeout=RUN_TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)

        def table_lines(text: str) -> list[str]:  # a Postfix queue id differs per run
            return [re.sub(r"queued as [0-9A-F]+", "queued as QUEUEID", line)
                    for line in text.splitlines() if line.startswith("|")]

        self.maxDiff = None
        self.assertEqual(table_lines(page), table_lines(r.stdout),
                         "docs/conformance-results.md is out of date: regenerate its tables "
                         "with the commands at its top")


if __name__ == "__main__":
    unittest.main()
