#!/usr/bin/python3
"""Checks that the program output shown in docs/ is what the program prints now.

    SMTPLAB=build/bin/smtplab /usr/bin/python3 tests/docs/check_doc_outputs.py docs/tutorial-students.md ...

In a Markdown file, a ```sh block whose last line runs `build/bin/smtplab ...`
names a command; every plain ``` block after it (until the next ```sh block)
shows part of that command's output. Each such block must be found in what the
command prints now, line for line and in order, where:
  * an explanation (a line indented six spaces or more, as the stepper wraps
    them) may be left out as a whole, but one that is shown is shown as it is;
  * a line of only "..." (after any indentation) stands for any lines left
    out, events included;
  * trailing spaces do not count.
The command runs from the top of the repository with `build/bin/smtplab`
replaced by $SMTPLAB, its standard output read through a pipe (so no colours
and no waiting for Enter).

Prints each block that does not match, with its file and line and the output
lines nearest to it, and exits 1; exits 0 when every block matches.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class Block:
    path: Path
    line: int          # 1-based line of the opening fence
    command: str
    lines: list[str]


def blocks_of(path: Path) -> list[Block]:
    out: list[Block] = []
    command = ""
    fence_lang: str | None = None
    body: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        if fence_lang is None:
            if raw.startswith("```"):
                fence_lang, body, start = raw[3:].strip(), [], number
            continue
        if raw.startswith("```"):
            if fence_lang == "sh":
                runs = [l.strip() for l in body if l.strip().startswith("build/bin/smtplab ")]
                command = runs[-1] if runs else ""
            elif fence_lang == "" and command:
                out.append(Block(path, start, command, body))
            fence_lang = None
            continue
        body.append(raw)
    return out


def is_explanation(line: str) -> bool:
    return line.startswith("      ")


def match_from(output: list[str], shown: list[str], start: int) -> int:
    """How many of `shown` match when its first line is output[start]."""
    at = start
    anywhere = False
    matched = 0
    for line in shown:
        if line.strip() == "...":
            anywhere = True
            matched += 1
            continue
        line = line.rstrip()
        if anywhere:
            while at < len(output) and output[at] != line:
                at += 1
        elif not is_explanation(line) and matched > 0:
            while at < len(output) and is_explanation(output[at]):
                at += 1  # an explanation the block leaves out
        if at >= len(output) or output[at] != line:
            return matched
        at += 1
        matched += 1
        anywhere = False
    return matched


def run(command: str, smtplab: str, cache: dict[str, list[str]]) -> list[str]:
    if command not in cache:
        argv = shlex.split(command)
        argv[0] = smtplab
        # Cut a comment off the shell line: "smtplab step X   # explains".
        if "#" in argv:
            argv = argv[:argv.index("#")]
        try:
            r = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120,
                               stdin=subprocess.DEVNULL)
            cache[command] = [l.rstrip() for l in r.stdout.splitlines()]
        except (OSError, subprocess.TimeoutExpired) as e:
            cache[command] = [f"(could not run: {e})"]
    return cache[command]


def check(block: Block, output: list[str]) -> str:
    shown = [l for l in block.lines]
    first = next((l.rstrip() for l in shown if l.strip() != "..."), None)
    if first is None:
        return ""
    best, best_at = -1, -1
    for start, line in enumerate(output):
        if line != first:
            continue
        n = match_from(output, shown, start)
        if n == len(shown):
            return ""
        if n > best:
            best, best_at = n, start
    if best_at < 0:
        return f"  its first line is nowhere in the output:\n    | {first}"
    wrong = shown[best]
    return (f"  shown line {block.line + 1 + best}:\n    | {wrong.rstrip()}\n"
            "  is not what the program prints after the lines before it; around there it prints:\n" +
            "\n".join("    | " + l for l in output[best_at:best_at + best + 6]))


def main(paths: list[str]) -> int:
    smtplab = os.environ.get("SMTPLAB", str(ROOT / "build" / "bin" / "smtplab"))
    cache: dict[str, list[str]] = {}
    failures = 0
    checked = 0
    for p in paths:
        for block in blocks_of(Path(p)):
            checked += 1
            problem = check(block, run(block.command, smtplab, cache))
            if problem:
                failures += 1
                print(f"{block.path}:{block.line}: output of `{block.command}` differs\n{problem}\n")
    print(f"{checked} output blocks checked, {failures} differ")
    return 1 if failures or not checked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
