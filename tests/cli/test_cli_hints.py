"""What the CLI tells a person holds: the hints it prints work, and its exit
status is the one its help gives.

Run:  SMTPLAB=build/bin/smtplab /usr/bin/python3 -m unittest -v test_cli_hints

`smtplab list` ends with "Run one with: smtplab step ...". For the project's
library a NAME alone works; for `--library DIR` a NAME alone would be looked
up in the project's library instead, so the hint names the file (or sets
SMTPLAB_LIBRARY). Each test runs the hint it was given, with a name from the
listing, and expects the lesson to run and pass (exit 0, "Verdict: PASS").
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SMTPLAB = os.environ.get("SMTPLAB", str(ROOT / "build" / "bin" / "smtplab"))


def run(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={**os.environ, **(env or {})})


def hint_commands(listing: str) -> list[str]:
    line = next(l for l in listing.splitlines() if l.startswith("Run one with: "))
    # The commands in it: "smtplab step X" and "VAR=DIR smtplab step NAME".
    return [m.group(0) for m in re.finditer(r"(?:SMTPLAB_LIBRARY=\S+ )?smtplab step [^\s()]+", line)]


class ListHintTest(unittest.TestCase):
    def run_hint(self, command: str, name: str) -> None:
        words = shlex.split(command.replace("NAME", name))
        env = {}
        while "=" in words[0]:
            key, value = words.pop(0).split("=", 1)
            env[key] = value
        words[0] = SMTPLAB
        r = run(words, env)
        self.assertEqual(r.returncode, 0, f"{command}: {r.stderr[-500:]}")
        self.assertIn("Verdict: PASS", r.stdout)

    def test_hint_for_the_project_library(self) -> None:
        listing = run([SMTPLAB, "list"]).stdout
        commands = hint_commands(listing)
        self.assertEqual(commands, ["smtplab step NAME"])
        self.run_hint(commands[0], "direct-delivery")

    def test_hint_for_another_library(self) -> None:
        with tempfile.TemporaryDirectory(prefix="smtplab-library-") as lib:
            shutil.copy(ROOT / "scenarios" / "library" / "direct-delivery.yaml", Path(lib) / "mine.yaml")
            listing = run([SMTPLAB, "list", "--library", lib]).stdout
            self.assertIn("mine", listing)
            commands = hint_commands(listing)
            self.assertEqual(len(commands), 2, listing)
            for command in commands:
                self.run_hint(command, "mine")


class ExitStatusTest(unittest.TestCase):
    """`run` and `step` exit 0 when every expectation holds, 1 when one fails,
    2 for bad input, as their --help and docs/guide-instructors.md say."""

    def test_pass_fail_and_bad_input(self) -> None:
        lesson = (ROOT / "scenarios" / "library" / "direct-delivery.yaml").read_text()
        with tempfile.TemporaryDirectory(prefix="smtplab-exit-") as tmp:
            failing = Path(tmp) / "failing.yaml"
            # Bob's message arrives within a second; this expects it before 1 ms.
            failing.write_text(lesson.replace("{to: bob@example.net, by: 1s}", "{to: bob@example.net, by: 1ms}"))
            self.assertNotEqual(failing.read_text(), lesson)
            broken = Path(tmp) / "broken.yaml"
            broken.write_text(lesson + "\nbogus_key: 1\n")
            for command in ("run", "step"):
                with self.subTest(command=command):
                    self.assertEqual(run([SMTPLAB, command, str(ROOT / "scenarios/library/direct-delivery.yaml")]).returncode, 0)
                    self.assertEqual(run([SMTPLAB, command, str(failing)]).returncode, 1)
                    self.assertEqual(run([SMTPLAB, command, str(broken)]).returncode, 2)
                    self.assertEqual(run([SMTPLAB, command, str(Path(tmp) / "missing.yaml")]).returncode, 2)
            self.assertIn("Exit status: 0 when every expectation holds, 1 when one fails",
                          run([SMTPLAB, "run", "--help"]).stdout + run([SMTPLAB, "run", "--help"]).stderr)


if __name__ == "__main__":
    unittest.main()
