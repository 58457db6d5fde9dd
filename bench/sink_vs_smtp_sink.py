#!/usr/bin/python3
"""Speed bench: `smtplab sink` against Postfix smtp-sink, driven by smtp-source.

    /usr/bin/python3 bench/sink_vs_smtp_sink.py [--smtplab build/bin/smtplab]
        [--messages 20000] [--fsync-messages 2000] [--runs 1]

For each session count C in (1, 10) it runs
    smtp-source -l 1024 -m M -s C -f ... -t ... 127.0.0.1:PORT
against
    (a) smtplab sink --no-fsync --quiet   (M = --messages)
    (b) smtplab sink --quiet              (fsync, group commit: the default;
                                           M = --fsync-messages)
    (c) smtplab sink --group-commit=false (fsync per message, in turn; same M)
    (d) Postfix smtp-sink, no dump        (M = --messages)
    (e) Postfix smtp-sink -d, a file per message, no fsync (M = --messages)
all in the same run, and times smtp-source (wall clock). Only ratios measured
side by side in one run mean anything: absolute figures move 30 % from day to
day on the same machine.

smtp-source flags (smtp-source(1), Postfix 3.7):
    -l LEN   payload bytes per message (plus From/To/Date/Message-Id headers),
    -m N     total messages over all sessions,
    -s C     sessions in parallel,
    -f / -t  envelope sender / recipient,
    -d       "Don't disconnect after sending a message; send the next message
             over the same connection." WITHOUT -d (the default here) every
             message is a new connection: connect, greeting, HELO, MAIL, RCPT,
             DATA, QUIT. --keep-connection adds -d.
smtp-source speaks HELO (not EHLO) and does not pipeline.

Each measurement gets a fresh server on a fresh port (so no TIME_WAIT pile-up
on one port and no maildir growing across runs); smtplab's maildir lives in a
temporary directory that is removed afterwards. After each smtplab run the
bench checks that MAILDIR/new holds exactly M files.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "interop"))
import peers  # noqa: E402

SMTP_SOURCE = "/usr/sbin/smtp-source"
SESSIONS = (1, 10)
SOURCE_TIMEOUT = 300  # seconds for one smtp-source run


def run_smtp_source(port: int, messages: int, sessions: int, size: int,
                    keep_connection: bool) -> float:
    """Run smtp-source once; return its wall time. Fails unless it exits 0."""
    argv = [SMTP_SOURCE, "-l", str(size), "-m", str(messages), "-s", str(sessions),
            "-f", "bench@example.org", "-t", "sink@example.net"]
    if keep_connection:
        argv.append("-d")
    argv.append(f"127.0.0.1:{port}")
    start = time.monotonic()
    r = subprocess.run(argv, capture_output=True, timeout=SOURCE_TIMEOUT)
    elapsed = time.monotonic() - start
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: "
                           f"{r.stderr.decode(errors='replace')[-1000:]}")
    return elapsed


def measure(kind: str, smtplab: str | None, workroot: Path, messages: int,
            sessions: int, args: argparse.Namespace) -> float:
    """One measurement against a freshly started server, which is always stopped."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=workroot))
    try:
        if kind in ("smtp-sink", "smtp-sink-dump"):
            server = peers.start_smtp_sink(workdir, dump=kind == "smtp-sink-dump")
        else:
            extra = ["--quiet"] + {"smtplab-nofsync": ["--no-fsync"],
                                   "smtplab-fsync-single": ["--group-commit=false"]}.get(kind, [])
            server = peers.start_smtplab_sink(smtplab, workdir / "Maildir", extra)
        try:
            seconds = run_smtp_source(server.port, messages, sessions, args.size,
                                      args.keep_connection)
            if server.proc.poll() is not None:
                raise RuntimeError(f"{kind} exited during the run:\n"
                                   f"{server.stderr_text()[-1000:]}")
        finally:
            server.stop()
        if kind.startswith("smtplab"):
            # A sink that says 250 but loses mail must not look fast.
            stored = len(os.listdir(workdir / "Maildir" / "new"))
            if stored != messages:
                raise RuntimeError(f"{kind}: {stored} files in new/, expected {messages}")
        return seconds
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smtplab", default="build/bin/smtplab",
                    help="smtplab binary (default: %(default)s); if missing, "
                         "only smtp-sink is measured")
    ap.add_argument("--messages", type=int, default=20000,
                    help="messages per run for smtp-sink and the no-fsync sink")
    ap.add_argument("--fsync-messages", type=int, default=2000,
                    help="messages per run for the fsync sink (fsync is slow)")
    ap.add_argument("--runs", type=int, default=1, help="median of N runs")
    ap.add_argument("--size", type=int, default=1024, help="smtp-source -l")
    ap.add_argument("--keep-connection", action="store_true",
                    help="smtp-source -d: all messages of a session on one connection")
    ap.add_argument("--maildir-root", default=None,
                    help="where smtplab's Maildirs go (default: the system temp dir). "
                         "On a disk, creating a file per message can cost more than the SMTP "
                         "conversation; /dev/shm measures the server instead of the disk")
    args = ap.parse_args()
    if args.maildir_root:
        # Everything temporary (and smtp-sink's dump permissions, see peers.py)
        # lives under the chosen root.
        tempfile.tempdir = args.maildir_root
    if args.runs < 1 or args.messages < 1 or args.fsync_messages < 1:
        ap.error("--runs, --messages and --fsync-messages must be >= 1")

    # smtp-sink stores nothing; with -d it writes each message to a file
    # (no fsync), which is the like-for-like peer of `smtplab sink --no-fsync`.
    kinds = ["smtplab-nofsync", "smtplab-fsync", "smtplab-fsync-single", "smtp-sink", "smtp-sink-dump"]
    smtplab = args.smtplab
    if not os.access(smtplab, os.X_OK):
        print(f"note: {smtplab} not found or not executable: measuring smtp-sink only",
              file=sys.stderr)
        kinds = ["smtp-sink", "smtp-sink-dump"]
        smtplab = None
    count = {"smtplab-nofsync": args.messages, "smtplab-fsync": args.fsync_messages,
             "smtplab-fsync-single": args.fsync_messages,
             "smtp-sink": args.messages, "smtp-sink-dump": args.messages}
    label = {"smtplab-nofsync": "smtplab sink --no-fsync",
             "smtplab-fsync": "smtplab sink (fsync, group)",
             "smtplab-fsync-single": "smtplab sink (fsync, each)",
             "smtp-sink": "postfix smtp-sink",
             "smtp-sink-dump": "postfix smtp-sink -d"}

    times: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="smtplab-bench-", dir=args.maildir_root) as root:
        # Interleave servers inside each run so slow drift (thermal, other
        # load) hits all of them alike.
        for run in range(args.runs):
            for c in SESSIONS:
                for kind in kinds:
                    t = measure(kind, smtplab, Path(root), count[kind], c, args)
                    times.setdefault((kind, c), []).append(t)
                    print(f"run {run + 1}/{args.runs}: {label[kind]:<28} C={c:<3} "
                          f"{count[kind]:>6} msgs {t:8.2f} s", file=sys.stderr)

    mode = "one connection per session (-d)" if args.keep_connection \
        else "one connection per message"
    print(f"\nsmtp-source -l {args.size}, {mode}, median of {args.runs} run(s); "
          f"Maildirs under {args.maildir_root or tempfile.gettempdir()}\n")
    print(f"{'server':<30}{'C':>4}{'messages':>10}{'seconds':>10}{'msg/s':>10}")
    rate: dict[tuple[str, int], float] = {}
    for c in SESSIONS:
        for kind in kinds:
            secs = statistics.median(times[(kind, c)])
            rate[(kind, c)] = count[kind] / secs
            print(f"{label[kind]:<30}{c:>4}{count[kind]:>10}{secs:>10.2f}"
                  f"{rate[(kind, c)]:>10.0f}")
    if smtplab:
        print("\nratio of msg/s, smtplab / smtp-sink:")
        for c in SESSIONS:
            base = rate[("smtp-sink", c)]
            dump = rate[("smtp-sink-dump", c)]
            print(f"  C={c:<3} no-fsync {rate[('smtplab-nofsync', c)] / base:5.2f}   "
                  f"fsync {rate[('smtplab-fsync', c)] / base:5.2f}   "
                  f"(no-fsync vs smtp-sink -d, both writing a file per message: "
                  f"{rate[('smtplab-nofsync', c)] / dump:5.2f})")
        print("\nfsync, ratio of msg/s, group commit / one fsync per message in turn "
              "(same disk, same run):")
        for c in SESSIONS:
            print(f"  C={c:<3} {rate[('smtplab-fsync', c)] / rate[('smtplab-fsync-single', c)]:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
