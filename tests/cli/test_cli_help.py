"""Each command's --help is about that command: its own flags, in the order
the command lists them, spelt with dashes, with no source paths; and a flag
of another command is refused, not silently taken (issue 19, part 3).

Run:  SMTPLAB=build/bin/smtplab /usr/bin/python3 -m unittest -v test_cli_help
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SMTPLAB = os.environ.get("SMTPLAB", str(ROOT / "build" / "bin" / "smtplab"))


def run(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([SMTPLAB, *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          cwd=cwd)


def commands() -> list[str]:
    listing = run("help").stdout
    block = listing.split("commands:\n", 1)[1]
    return [m.group(1) for m in re.finditer(r"^  (\w+) ", block, re.M) if m.group(1) != "help"]


def defined_flags() -> set[str]:
    """Every flag the CLI's sources define, spelt as --help spells it."""
    names = set()
    for source in (ROOT / "cli").rglob("*.cpp"):
        for m in re.finditer(r"ABSL_FLAG\(\s*[\w:]+\s*,\s*(\w+)", source.read_text()):
            names.add("--" + m.group(1).replace("_", "-"))
    return names


def listed_flags(help_text: str) -> list[str]:
    return re.findall(r"^  (--[a-z][a-z-]*)", help_text, re.M)


class CommandHelpTest(unittest.TestCase):
    def test_every_command_has_its_own_help(self) -> None:
        names = commands()
        self.assertGreaterEqual(len(names), 10)
        for name in names:
            with self.subTest(command=name):
                r = run(name, "--help")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertTrue(r.stdout.startswith(f"usage: smtplab {name}"), r.stdout[:200])
                # No build paths, no abseil "Flags from FILE" grouping.
                self.assertNotIn(".cpp", r.stdout)
                self.assertNotIn(str(ROOT), r.stdout)
                self.assertNotIn("Flags from", r.stdout)
                self.assertNotIn("_", " ".join(listed_flags(r.stdout)))

    def test_each_flag_belongs_to_a_command_and_exists(self) -> None:
        listed = set()
        for name in commands():
            flags = listed_flags(run(name, "--help").stdout)
            self.assertEqual(len(flags), len(set(flags)), name)
            listed.update(flags)
        defined = defined_flags()
        self.assertEqual(listed - defined, set(), "help lists flags that do not exist")
        self.assertEqual(defined - listed, set(), "flags no command's --help shows")

    def test_help_shows_only_that_commands_flags_in_reading_order(self) -> None:
        self.assertEqual(listed_flags(run("run", "--help").stdout), ["--seed", "--trace", "--pcap", "--keylog", "--show-messages"])
        sink = listed_flags(run("sink", "--help").stdout)
        self.assertEqual(sink[:2], ["--listen", "--maildir"])
        self.assertNotIn("--seed", sink)
        self.assertIn("(no flags)", run("validate", "--help").stdout)
        # "smtplab help CMD" is the same as "smtplab CMD --help".
        self.assertEqual(run("help", "sink").stdout, run("sink", "--help").stdout)

    def test_another_commands_flag_is_refused(self) -> None:
        r = run("run", "--listen", "127.0.0.1:1", str(ROOT / "scenarios" / "library" / "direct-delivery.yaml"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown flag --listen", r.stderr)
        self.assertIn("--seed --trace --pcap --keylog --show-messages", r.stderr)

    def test_validate_exits_2_for_bad_input_like_run(self) -> None:
        bad = str(ROOT / "docs" / "examples" / "greylist-typos.yaml")
        self.assertEqual(run("validate", bad).returncode, 2)
        self.assertEqual(run("run", bad).returncode, 2)
        good = str(ROOT / "scenarios" / "library" / "direct-delivery.yaml")
        self.assertEqual(run("validate", good).returncode, 0)

    def test_flags_are_taken_with_dashes_underscores_and_separate_values(self) -> None:
        scenario = str(ROOT / "scenarios" / "library" / "direct-delivery.yaml")
        for args in (["--seed", "3"], ["--seed=3"], ["-seed", "3"]):
            with self.subTest(args=args):
                r = run("run", *args, scenario)
                self.assertEqual(r.returncode, 0, r.stderr)
        r = run("list", "--library", str(ROOT / "scenarios" / "library"))
        self.assertEqual(r.returncode, 0, r.stderr)
        # A value that looks like a flag is still the value of the flag before it.
        with tempfile.TemporaryDirectory(prefix="smtplab-help-") as work:
            r = run("run", "--trace", "--not-a-flag.jsonl", scenario, cwd=work)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue((Path(work) / "--not-a-flag.jsonl").stat().st_size > 0)


if __name__ == "__main__":
    unittest.main()
