"""The delivered message is shown, as the mailbox stored it: the lessons ask
students to count its Received: headers (RFC 5321 4.4: one per hop), so
`smtplab step` shows it at the delivery and `smtplab run --show-messages`
prints it (issue 19, part 2).

Run:  SMTPLAB=build/bin/smtplab /usr/bin/python3 -m unittest -v test_delivered_message
"""

from __future__ import annotations

import os
import re
import subprocess
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SMTPLAB = os.environ.get("SMTPLAB", str(ROOT / "build" / "bin" / "smtplab"))
GREYLISTING = str(ROOT / "scenarios" / "library" / "greylisting.yaml")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SMTPLAB, *args], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def message_lines(output: str, title: str) -> list[str]:
    """The "| " lines under the first line that contains `title`."""
    lines = output.splitlines()
    start = next(i for i, l in enumerate(lines) if title in l)
    out = []
    for line in lines[start + 1:]:
        m = re.match(r"^\s*\|(?: (.*))?$", line)
        if not m:
            break
        out.append(m.group(1) or "")
    return out


class DeliveredMessageTest(unittest.TestCase):
    def check_message(self, shown: list[str]) -> None:
        # Headers first: Return-Path, then one Received per hop, newest on top
        # (MUA -> MSA -> MTA -> MX -> MDA is four hops into the mailbox).
        self.assertEqual(shown[0], "Return-Path: <alice@example.org>")
        received = [l for l in shown if l.startswith("Received: ")]
        self.assertEqual(len(received), 4, shown)
        self.assertEqual(received[0], "Received: from mx.example.net ([192.0.2.17])")
        self.assertEqual(received[-1], "Received: from laptop.example.org ([192.0.2.10])")
        self.assertIn("Subject: Lunch on Friday?", shown)
        blank = shown.index("")
        self.assertTrue(all(not l.startswith("Received:") for l in shown[blank:]))
        self.assertIn("are you free for lunch on Friday?", shown[blank:])

    def test_step_shows_the_message_at_its_delivery(self) -> None:
        r = run("step", GREYLISTING)
        self.assertEqual(r.returncode, 0, r.stderr)
        before, after = r.stdout.split("mailbox.deliver: filed into bob's mailbox", 1)
        self.assertNotIn("The message as stored", before)  # shown at the delivery, not before
        self.check_message(message_lines(after, "The message as stored in bob's mailbox:"))

    def test_run_prints_it_only_when_asked(self) -> None:
        plain = run("run", GREYLISTING)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertNotIn("Return-Path:", plain.stdout)
        r = run("run", "--show-messages", GREYLISTING)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_message(message_lines(r.stdout, "Delivered to bob@example.net at mail.example.net at 00:05:00"))


if __name__ == "__main__":
    unittest.main()
