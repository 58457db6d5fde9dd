#!/usr/bin/python3
"""Abuse bench: what clients that hold connections or send huge messages cost
`smtplab sink`, and whether everyone else is still served.

    /usr/bin/python3 bench/sink_under_abuse.py [--smtplab build/bin/smtplab]
        [--part hold|memory|both] [--seconds 40] [--idle 1000] [--trickle 50]
        [--big-messages 60] [--big-size 9961472]

hold (issue 20 item 5): against the sink with its default limits
(--max_connections 100, --max_connections_per_client 50), an attacker keeps
--idle connections open that never say a word, from 20 addresses
(127.0.0.10 to 127.0.0.29), and --trickle connections from 127.0.0.99 that
send one byte every 5 s (Postfix's smtpd_min_data_rate and per-request
deadlines exist for these). Whenever the sink drops one, the attacker opens it
again. Meanwhile a client from 127.0.0.200 connects every 2 s, waits for 220
and delivers one message. Printed: the probe's time to 220 (min, median, max)
and how many probes delivered, and what happened to the attacker's
connections (refused at connect, closed for a new client, timed out).

memory (item 6): --big-messages clients from 127.0.0.40 to 127.0.0.42 each
send one message of --big-size octets at once. Printed: the sink's resident
memory before, its peak (VmHWM) after, and the peak per connection in flight;
then a check that every message is in the Maildir with its size.

Bounded: every loop stops after --seconds (hold) or when all big messages are
sent (memory, with a 120 s limit); at most --max-connects attacker
connections in all. Only 127.0.0.0/8 is used; the sink is started here and
stopped by its PID.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "interop"))
import peers  # noqa: E402

IDLE_ADDRESSES = [f"127.0.0.{i}" for i in range(10, 30)]
TRICKLE_ADDRESS = "127.0.0.99"
PROBE_ADDRESS = "127.0.0.200"
BIG_ADDRESSES = ["127.0.0.40", "127.0.0.41", "127.0.0.42"]
TRICKLE_EVERY = 5.0  # seconds between the trickler's bytes
PROBE_EVERY = 2.0


@dataclass
class AttackStats:
    connects: int = 0
    greeted: int = 0         # got 220
    refused: int = 0         # got 421 instead of 220
    closed_for_new: int = 0  # 421 4.7.0 after 220: the slot went to a new client
    timed_out: int = 0       # 421 4.4.2: the (stress) timeout or deadline
    other_end: int = 0       # closed without one of those


@dataclass
class ProbeResult:
    to_220: float | None = None
    delivered: bool = False
    error: str = ""


@dataclass
class HoldReport:
    probes: list[ProbeResult] = field(default_factory=list)
    attack: AttackStats = field(default_factory=AttackStats)


def classify_end(stats: AttackStats, rest: bytes) -> None:
    if b"421 4.7.0" in rest:
        stats.closed_for_new += 1
    elif b"421 4.4.2" in rest:
        stats.timed_out += 1
    else:
        stats.other_end += 1


async def attacker(host: str, port: int, source: str, trickle: bool, stats: AttackStats,
                   deadline: float, max_connects: int) -> None:
    """One attacker slot: connect, hold (silent or trickling), reconnect when dropped."""
    while time.monotonic() < deadline and stats.connects < max_connects:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, local_addr=(source, 0)), 5)
        except (OSError, asyncio.TimeoutError):
            await asyncio.sleep(0.2)
            continue
        stats.connects += 1
        try:
            greeting = await asyncio.wait_for(reader.readline(), max(0.1, deadline - time.monotonic()))
            if not greeting.startswith(b"220"):
                stats.refused += 1
            else:
                stats.greeted += 1
                heard = b""
                text = b"EHLO trickle.example\r\n"
                i = 0
                while time.monotonic() < deadline:
                    if trickle:
                        writer.write(text[i % len(text):i % len(text) + 1])
                        i += 1
                    try:
                        chunk = await asyncio.wait_for(
                            reader.read(4096), min(TRICKLE_EVERY, max(0.05, deadline - time.monotonic())))
                    except asyncio.TimeoutError:
                        continue
                    if not chunk:
                        break
                    heard += chunk
                if time.monotonic() < deadline:
                    classify_end(stats, heard)
        except (OSError, asyncio.TimeoutError):
            stats.other_end += 1
        finally:
            writer.close()
        await asyncio.sleep(0.05)


async def probe(host: str, port: int) -> ProbeResult:
    """One ordinary client: time to 220, then one message; never waits over 15 s."""
    result = ProbeResult()
    start = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, local_addr=(PROBE_ADDRESS, 0)), 10)
    except (OSError, asyncio.TimeoutError) as e:
        result.error = f"connect: {e!r}"
        return result
    try:
        greeting = await asyncio.wait_for(reader.readline(), 10)
        if not greeting.startswith(b"220"):
            result.error = f"greeting {greeting!r}"
            return result
        result.to_220 = time.monotonic() - start

        async def command(line: bytes, want: bytes) -> None:
            writer.write(line)
            while True:
                reply = await asyncio.wait_for(reader.readline(), 10)
                if reply[3:4] != b"-":
                    break
            if not reply.startswith(want):
                raise RuntimeError(f"{line!r} got {reply!r}")

        await command(b"EHLO probe.example\r\n", b"250")
        await command(b"MAIL FROM:<probe@probe.example>\r\n", b"250")
        await command(b"RCPT TO:<sink@sink.example>\r\n", b"250")
        await command(b"DATA\r\n", b"354")
        await command(b"Subject: probe\r\n\r\nstill served\r\n.\r\n", b"250")
        await command(b"QUIT\r\n", b"221")
        result.delivered = True
    except (OSError, asyncio.TimeoutError, RuntimeError) as e:
        result.error = repr(e)
    finally:
        writer.close()
    return result


async def hold_part(port: int, seconds: float, idle: int, trickle: int, max_connects: int) -> HoldReport:
    report = HoldReport()
    deadline = time.monotonic() + seconds
    tasks = [asyncio.create_task(attacker("127.0.0.1", port, TRICKLE_ADDRESS, True, report.attack,
                                          deadline, max_connects)) for _ in range(trickle)]
    for i in range(idle):
        tasks.append(asyncio.create_task(attacker("127.0.0.1", port, IDLE_ADDRESSES[i % len(IDLE_ADDRESSES)],
                                                  False, report.attack, deadline, max_connects)))
    await asyncio.sleep(3)  # let the attack fill the server first
    while time.monotonic() < deadline - 1:
        report.probes.append(await probe("127.0.0.1", port))
        await asyncio.sleep(PROBE_EVERY)
    await asyncio.gather(*tasks)
    return report


def print_hold(report: HoldReport, args: argparse.Namespace) -> None:
    times = [p.to_220 for p in report.probes if p.to_220 is not None]
    delivered = sum(p.delivered for p in report.probes)
    a = report.attack
    print(f"hold: {args.idle} idle + {args.trickle} trickling (1 byte / {TRICKLE_EVERY:g} s) attacker "
          f"connections for {args.seconds:g} s against the sink's defaults")
    print(f"  probe from {PROBE_ADDRESS}: {len(report.probes)} tries, {delivered} delivered")
    if times:
        print(f"  time to 220: min {min(times) * 1000:.1f} ms, median {statistics.median(times) * 1000:.1f} ms, "
              f"max {max(times) * 1000:.1f} ms")
    for p in report.probes:
        if p.error:
            print(f"  probe failed: {p.error}")
    print(f"  attacker: {a.connects} connects, {a.greeted} got 220, {a.refused} got 421 at once, "
          f"{a.closed_for_new} closed for a new client (421 4.7.0), {a.timed_out} timed out (421 4.4.2), "
          f"{a.other_end} other ends")


def vm_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


async def send_big(port: int, source: str, size: int) -> str:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0)), 10)
    try:
        async def reply() -> bytes:
            while True:
                line = await asyncio.wait_for(reader.readline(), 60)
                if line[3:4] != b"-":
                    return line
        assert (await reply()).startswith(b"220")
        writer.write(b"EHLO big.example\r\nMAIL FROM:<big@big.example>\r\nRCPT TO:<sink@sink.example>\r\nDATA\r\n")
        for want in (b"250", b"250", b"250", b"354"):
            line = await reply()
            if not line.startswith(want):
                return f"got {line!r}"
        header = b"Subject: big\r\n\r\n"
        line = b"x" * 78 + b"\r\n"
        body_lines = (size - len(header)) // len(line)
        writer.write(header)
        for _ in range(body_lines // 1000):
            writer.write(line * 1000)
            await writer.drain()
        writer.write(line * (body_lines % 1000) + b".\r\nQUIT\r\n")
        await writer.drain()
        final = await reply()
        return "" if final.startswith(b"250") else f"end of data got {final!r}"
    finally:
        writer.close()


async def memory_part(server: peers.Server, count: int, size: int) -> tuple[int, int, list[str]]:
    before = vm_kib(server.proc.pid, "VmRSS")
    results = await asyncio.wait_for(
        asyncio.gather(*(send_big(server.port, BIG_ADDRESSES[i % len(BIG_ADDRESSES)], size) for i in range(count))),
        120)
    return before, vm_kib(server.proc.pid, "VmHWM"), [r for r in results if r]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smtplab", default=None, help="the smtplab binary (default: build/bin/smtplab)")
    ap.add_argument("--part", choices=("hold", "memory", "both"), default="both")
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--idle", type=int, default=1000)
    ap.add_argument("--trickle", type=int, default=50)
    ap.add_argument("--max-connects", type=int, default=50000)
    ap.add_argument("--big-messages", type=int, default=60)
    ap.add_argument("--big-size", type=int, default=9961472)  # 9.5 MiB, under the 10,240,000 limit
    args = ap.parse_args()
    smtplab = args.smtplab or peers.smtplab_path()
    failed = False
    with tempfile.TemporaryDirectory(prefix="sink-abuse-") as tmp:
        if args.part in ("hold", "both"):
            server = peers.start_smtplab_sink(smtplab, Path(tmp) / "hold" / "Maildir", ["--quiet"])
            try:
                report = asyncio.run(hold_part(server.port, args.seconds, args.idle, args.trickle,
                                               args.max_connects))
            finally:
                peers.stop(server.proc)
            print_hold(report, args)
            failed |= not report.probes or any(not p.delivered for p in report.probes)
        if args.part in ("memory", "both"):
            maildir = Path(tmp) / "memory" / "Maildir"
            server = peers.start_smtplab_sink(smtplab, maildir, ["--quiet"])
            try:
                before, peak, errors = asyncio.run(memory_part(server, args.big_messages, args.big_size))
            finally:
                peers.stop(server.proc)
            stored = sorted(p.stat().st_size for p in (maildir / "new").iterdir())
            print(f"memory: {args.big_messages} messages of {args.big_size} octets at once")
            print(f"  sink resident: {before / 1024:.1f} MiB before, peak {peak / 1024:.1f} MiB; "
                  f"{(peak - before) / args.big_messages:.0f} KiB per connection in flight")
            print(f"  stored: {len(stored)} messages"
                  + (f", {stored[0]} to {stored[-1]} octets with headers" if stored else ""))
            for e in errors:
                print(f"  sender failed: {e}")
            failed |= bool(errors) or len(stored) != args.big_messages
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
