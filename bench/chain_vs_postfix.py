#!/usr/bin/python3
"""Speed bench: the simulated chain against one real Postfix relay hop.

    /usr/bin/python3 bench/chain_vs_postfix.py [--chain build/bin/smtplab_chain_bench]
        [--messages 10000] [--sessions 10]

In one run, side by side:
  (a) smtplab_chain_bench N, connection cache on and off: N messages of about
      1 KiB through MUA -> MSA -> MTA -> MTA -> MDA in virtual time (four
      SMTP hops, each message queued at three MTAs and filed in a mailbox);
  (b) a private Postfix instance on 127.0.0.1 (tests/interop/peers.py) that
      relays for 127.0.0.0/8 and hands every message to its discard
      transport, fed by `smtp-source -l 1024 -m N -s C -d` (C sessions, each
      keeping its connection). Its time runs from smtp-source's start until
      Postfix's queue is empty and its log shows N messages delivered: one
      real store-and-forward hop (smtpd, cleanup with fsync, qmgr, discard).

Only ratios measured in the same run mean anything on a shared machine.
The simulator does four hops per message and Postfix one, so the per-hop
ratio is printed too. Needs root (Postfix's master starts as root).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "interop"))
import peers  # noqa: E402

SMTP_SOURCE = "/usr/sbin/smtp-source"
DRAIN_TIMEOUT = 600.0  # seconds for Postfix to accept and discard everything
QUEUE_DIRS = ("maildrop", "incoming", "active", "deferred", "hold")


def chain_rate(chain: str, messages: int, cache: bool) -> float:
    argv = [chain, f"--connection_cache={'on' if cache else 'off'}", str(messages)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=DRAIN_TIMEOUT)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    row = r.stdout.strip().splitlines()[-1].split()
    # messages delivered wall-s messages/s ...
    if int(row[1]) != messages:
        raise RuntimeError(f"the chain delivered {row[1]} of {messages}")
    return float(row[3])


def queued_files(queue: Path) -> int:
    total = 0
    for name in QUEUE_DIRS:
        for _, _, files in os.walk(queue / name):
            total += len(files)
    return total


def postfix_rate(messages: int, sessions: int) -> tuple[float, str]:
    with tempfile.TemporaryDirectory(prefix="smtplab-bench-postfix-") as work:
        server = peers.start_postfix_smtpd(work, {"mynetworks": "127.0.0.0/8"})
        try:
            conf = Path(work) / "postfix"
            argv = [SMTP_SOURCE, "-l", "1024", "-m", str(messages), "-s", str(sessions), "-d",
                    "-f", "bench@example.org", "-t", "sink@example.net", f"127.0.0.1:{server.port}"]
            start = time.monotonic()
            r = subprocess.run(argv, capture_output=True, timeout=DRAIN_TIMEOUT)
            if r.returncode != 0:
                raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: "
                                   f"{r.stderr.decode(errors='replace')[-1000:]}")
            deadline = start + DRAIN_TIMEOUT
            sent = 0
            while time.monotonic() < deadline:
                if queued_files(conf / "queue") == 0:
                    sent = len(re.findall(r"status=sent \(", server.maillog_text()))
                    if sent >= messages:
                        break
                time.sleep(0.05)
            elapsed = time.monotonic() - start
            if sent < messages:
                raise RuntimeError(f"Postfix delivered {sent} of {messages} within {DRAIN_TIMEOUT} s; "
                                   f"maillog tail:\n{server.maillog_text()[-2000:]}")
            version = subprocess.run([peers.POSTCONF, "-c", str(conf), "-h", "mail_version"],
                                     capture_output=True, text=True).stdout.strip()
        finally:
            server.stop()
    return messages / elapsed, version


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chain", default="build/bin/smtplab_chain_bench")
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--sessions", type=int, default=10, help="smtp-source -s")
    args = ap.parse_args()
    if args.messages < 1 or args.sessions < 1:
        ap.error("--messages and --sessions must be >= 1")
    if not os.access(args.chain, os.X_OK):
        ap.error(f"{args.chain} is not executable: build first")

    # Interleaved, so drift on a shared machine hits both alike.
    cached = chain_rate(args.chain, args.messages, cache=True)
    postfix, version = postfix_rate(args.messages, args.sessions)
    uncached = chain_rate(args.chain, args.messages, cache=False)

    print(f"{args.messages} messages of about 1 KiB\n")
    print(f"{'system':<58}{'hops':>5}{'msg/s':>10}{'hop-msg/s':>11}")
    rows = [
        ("smtplab chain, virtual time, connection cache on", 4, cached),
        ("smtplab chain, virtual time, connection cache off", 4, uncached),
        (f"Postfix {version}, smtp-source -s {args.sessions} -d, relay to discard", 1, postfix),
    ]
    for name, hops, rate in rows:
        print(f"{name:<58}{hops:>5}{rate:>10.0f}{rate * hops:>11.0f}")
    print(f"\nratio of hop-messages/s, smtplab (cache on) / Postfix: {cached * 4 / postfix:.2f}")
    print(f"ratio of whole-chain messages/s, smtplab (cache on) / one Postfix hop: {cached / postfix:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
