"""The interactive stepper's keys do what its key line says, from a pipe and
on a terminal.

Run:  SMTPLAB=build/bin/smtplab /usr/bin/python3 -m unittest -v test_stepper_keys

`smtplab step --interactive yes` reads "Enter: next event, n: next
message-level event, b: back, c: continue, q: quit". From a pipe one line is
one key (so "b" then its newline is a step back, not a step back and an
Enter); on a terminal a key acts at once. Each test ends with q and reads
where the stepper stopped ("stopped at step K of N").
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SMTPLAB = os.environ.get("SMTPLAB", str(ROOT / "build" / "bin" / "smtplab"))
LESSON = str(ROOT / "scenarios" / "library" / "greylisting.yaml")
STOPPED = re.compile(r"stopped at step (\d+) of (\d+)")


def step_piped(keys: str) -> str:
    return subprocess.run([SMTPLAB, "step", LESSON, "--interactive", "yes"], input=keys, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"}).stdout


def stopped_at(output: str) -> int:
    m = STOPPED.search(output)
    assert m, output[-2000:]
    return int(m.group(1))


class PipedKeysTest(unittest.TestCase):
    def test_enter_steps_one_event_at_a_time(self) -> None:
        self.assertEqual(stopped_at(step_piped("\n\n\nq\n")), 4)

    def test_back_undoes_one_step_each(self) -> None:
        # Three forward, three back, one forward: step 2, as on a terminal.
        out = step_piped("\n\n\nb\nb\nb\n\nq\n")
        self.assertEqual(out.count("(back)"), 3)
        self.assertEqual(stopped_at(out), 2)

    def test_back_at_the_first_step_stays_there(self) -> None:
        self.assertEqual(stopped_at(step_piped("b\nb\nq\n")), 1)

    def test_n_stops_at_the_first_message_level_event(self) -> None:
        # greylisting.yaml: message.submit is step 1; the next message-level
        # event is the MSA's queue.enqueue, after the submission dialogue.
        out = step_piped("n\nq\n")
        before_stop = out[:out.index("(stopped at")]
        last_event = [l for l in before_stop.splitlines() if l.startswith("    ") and not l.startswith("     ")][-1]
        self.assertTrue(last_event.strip().startswith("queue.enqueue:"), last_event)
        # The skipped events are listed, every command of the pipelined
        # MAIL/RCPT/DATA write among them (RFC 2920 batch).
        self.assertIn("C: RCPT TO:<bob@example.net>", before_stop)
        self.assertIn("C: DATA", before_stop)

    def test_c_shows_the_rest_and_the_verdict(self) -> None:
        out = step_piped("c\n")
        self.assertNotIn("stopped at", out)
        self.assertIn("mailbox.deliver", out)
        self.assertIn("Verdict: PASS", out)

    def test_end_of_input_stops_like_q(self) -> None:
        self.assertEqual(stopped_at(step_piped("\n\n")), 3)


class TerminalKeysTest(unittest.TestCase):
    """On a pseudo-terminal the stepper reads single keys, no Enter needed."""

    def read_until(self, fd: int, pattern: str, timeout: float = 30) -> str:
        out = b""
        deadline = time.monotonic() + timeout
        while pattern.encode() not in out and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        return out.decode(errors="replace")

    def test_single_keys_step_back_and_forward(self) -> None:
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(SMTPLAB, [SMTPLAB, "step", LESSON, "--interactive", "yes"], {**os.environ, "NO_COLOR": "1"})
        try:
            self.read_until(fd, "q: quit")
            # Enter on a terminal arrives as CR, mapped to LF by the tty.
            for key in (b"\r", b"\r", b"b"):
                os.write(fd, key)
                time.sleep(0.2)
            os.write(fd, b"q")
            out = self.read_until(fd, "Verdict:")
        finally:
            _, status = os.waitpid(pid, 0)
            os.close(fd)
        self.assertEqual(out.count("(back)"), 1)
        self.assertEqual(stopped_at(out), 2)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)


if __name__ == "__main__":
    unittest.main()
