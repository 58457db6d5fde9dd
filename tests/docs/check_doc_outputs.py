#!/usr/bin/python3
"""Checks that the program output shown in docs/ is what the program prints now.

    SMTPLAB=build/bin/smtplab /usr/bin/python3 tests/docs/check_doc_outputs.py docs/tutorial-students.md ...

In a Markdown file, a ```sh block whose last line runs `build/bin/smtplab ...`
names a command; every plain ``` block after it (until the next ```sh block)
shows part of that command's output. Each such block must be found in what the
command prints now (standard output, then standard error), line for line and
in order, where:
  * an explanation (a line indented six spaces or more, as the stepper wraps
    them) may be left out as a whole, but one that is shown is shown as it is;
  * a line of only "..." (after any indentation) stands for any lines left
    out, events included, and "..." inside a line for any text (a port, a
    date, a file name that changes from run to run);
  * trailing spaces do not count.
The command runs from the top of the repository with `build/bin/` replaced by
the folder of $SMTPLAB, its output read through a pipe (so no colours and no
waiting for Enter).

Two more things a page may ask for, so that what it shows can be checked too:
  * a line `build/bin/PROGRAM ... HOST:PORT ... &` in the ```sh block starts
    that server first (a free port stands in for PORT everywhere in the
    block; it is stopped, by its PID, after the command);
  * a comment `<!-- doc-check: FILE is PATH -->` before the ```sh block runs
    the command in a scratch folder holding FILE, a copy of PATH (a file the
    page tells the reader to write, kept in docs/examples/);
  * `<!-- doc-check: run as a script -->` before it runs every line of the
    block in order, in a scratch folder that stands for /tmp/, servers (lines
    ending in '&') first started and at the end stopped, their output after
    the others' (a capture server's transcript, a client's session); with
    `<!-- doc-check: servers are ready at 127.0.0.1:PORT -->` a server that
    names no address of its own is waited for on that port, and with
    `<!-- doc-check: let the servers run for N s -->` they run that long
    after the last line before they are stopped.
And a ```yaml block: after `<!-- doc-check: this block is part of PATH -->`
its lines must appear, together and in order, in PATH; a block that is a
whole scenario (a line `domains:`) must pass `smtplab validate`.

And a Markdown table after `<!-- doc-check: the next table is conform's
checks by group -->`, with the columns group | checks | what it checks | RFCs:
its groups, their number of checks and the RFC sections they cite must be
those of `smtplab conform --list_checks --json` (the check registry), in the
registry's order; only "what it checks" is the page's own words.

Prints each block that does not match, with its file and line and the output
lines nearest to it, and exits 1; exits 0 when every block matches.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


DIRECTIVE = re.compile(r"^<!-- doc-check: (.*?) -->$")
ADDRESS = re.compile(r"127\.0\.0\.1:(\d+)")


@dataclass
class Command:
    text: str                                   # the build/bin/smtplab line
    servers: list[str] = field(default_factory=list)   # lines ending in '&'
    files: dict[str, Path] = field(default_factory=dict)  # scratch FILE -> its source
    script: list[str] | None = None  # "run as a script": every line of the block, in order
    ready: list[int] = field(default_factory=list)  # "servers are ready at 127.0.0.1:PORT": ports to wait for
    linger: float = 0  # "let the servers run for N s": before they are stopped

    def key(self) -> str:
        return "\n".join([*self.servers, self.text, *(f"{k}={v}" for k, v in sorted(self.files.items())),
                          *(self.script or [])])


@dataclass
class Block:
    path: Path
    line: int          # 1-based line of the opening fence
    command: Command
    lines: list[str]


@dataclass
class YamlBlock:
    path: Path
    line: int
    lines: list[str]
    part_of: Path | None


def blocks_of(path: Path) -> tuple[list[Block], list[YamlBlock]]:
    out: list[Block] = []
    yaml_blocks: list[YamlBlock] = []
    command: Command | None = None
    directives: list[str] = []
    fence_lang: str | None = None
    body: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        if fence_lang == "sh" and body and body[-1].endswith("\\"):
            body[-1] = body[-1][:-1] + raw.strip()  # a shell line continued on the next
            continue
        if fence_lang is None:
            if m := DIRECTIVE.match(raw.strip()):
                directives.append(m.group(1))
            elif raw.startswith("```"):
                fence_lang, body, start = raw[3:].strip(), [], number
            continue
        if raw.startswith("```"):
            if fence_lang == "sh":
                runs = [l.strip() for l in body if l.strip().startswith("build/bin/smtplab ")]
                servers = [l.strip().rstrip("&").strip() for l in body
                           if l.strip().startswith("build/bin/") and l.split("#")[0].strip().endswith("&")]
                files = {}
                for d in directives:
                    name, _, source = d.partition(" is ")
                    if source:
                        files[name.strip()] = ROOT / source.strip()
                command = Command(runs[-1], servers, files) if runs else None
                if command and "run as a script" in directives:
                    command.script = [l.strip() for l in body if l.strip() and not l.strip().startswith("#")]
                    for d in directives:
                        if d.startswith("servers are ready at "):
                            command.ready += [int(p) for p in ADDRESS.findall(d)]
                        if m := re.fullmatch(r"let the servers run for ([0-9.]+) s", d):
                            command.linger = float(m.group(1))
                directives = []
            elif fence_lang == "" and command:
                out.append(Block(path, start, command, body))
            elif fence_lang == "yaml":
                part_of = next((ROOT / d.removeprefix("this block is part of ").strip() for d in directives
                                if d.startswith("this block is part of ")), None)
                yaml_blocks.append(YamlBlock(path, start, body, part_of))
                directives = []
            fence_lang = None
            continue
        body.append(raw)
    return out, yaml_blocks


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """Ends a server this checker started, by its PID: SIGTERM, then SIGKILL."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def listening(port: int) -> bool:
    """Whether something listens on the port, seen in /proc/net/tcp{,6}
    without connecting (a connection would show in a server's transcript)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 3 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                return True
    return False


def wait_for_port(port: int, proc: subprocess.Popen, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None and not listening(port):
        time.sleep(0.05)


def same_line(shown: str, printed: str) -> bool:
    """Equal, or equal but for the parts of `shown` written "...", which
    stand for any text (a port, a date, a file name that changes per run)."""
    if shown == printed:
        return True
    if "..." not in shown.strip() or shown.strip() == "...":
        return False
    pattern = ".*".join(re.escape(part) for part in shown.split("..."))
    return re.fullmatch(pattern, printed) is not None


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
            while at < len(output) and not same_line(line, output[at]):
                at += 1
        elif not is_explanation(line) and matched > 0:
            while at < len(output) and is_explanation(output[at]):
                at += 1  # an explanation the block leaves out
        if at >= len(output) or not same_line(line, output[at]):
            return matched
        at += 1
        matched += 1
        anywhere = False
    return matched


def argv_of(line: str, bin_dir: str) -> list[str]:
    argv = shlex.split(line)
    # Cut a comment off the shell line: "smtplab step X   # explains".
    if "#" in argv:
        argv = argv[:argv.index("#")]
    if argv and argv[0].startswith("build/bin/"):
        argv[0] = os.path.join(bin_dir, argv[0].removeprefix("build/bin/"))
    return argv


def run_script(command: Command, bin_dir: str) -> list[str]:
    """Every line of the block in order, in a scratch folder: /tmp/ is the
    folder, build/bin/ the project's programs, each 127.0.0.1:PORT a free
    port. A line ending in '&' is a server: started, waited for, and stopped
    by its PID after the last line; its output comes after the others'."""
    scratch = tempfile.mkdtemp(prefix="smtplab-doc-script-")
    os.makedirs(os.path.join(scratch, "build"))
    os.symlink(bin_dir, os.path.join(scratch, "build", "bin"))
    for name, source in command.files.items():
        shutil.copyfile(source, os.path.join(scratch, name))
    ports = {p: str(free_port()) for line in command.script for p in ADDRESS.findall(line)}
    def swap(line: str) -> str:
        line = ADDRESS.sub(lambda m: "127.0.0.1:" + ports[m.group(1)], line)
        return line.replace("/tmp/", scratch + "/")
    output: list[str] = []
    servers: list[tuple[subprocess.Popen, str]] = []
    try:
        for raw in command.script:
            line = swap(raw)
            if line.endswith("&"):
                log = os.path.join(scratch, f".server{len(servers)}.log")
                with open(log, "w") as out:
                    proc = subprocess.Popen(["bash", "-c", "exec " + line[:-1]], cwd=scratch, stdin=subprocess.DEVNULL,
                                            stdout=out, stderr=subprocess.STDOUT)
                servers.append((proc, log))
                for p in ADDRESS.findall(line) or command.ready:
                    wait_for_port(int(p), proc)
                continue
            r = subprocess.run(["bash", "-c", line], cwd=scratch, capture_output=True, text=True, timeout=120,
                               stdin=subprocess.DEVNULL)
            output += (r.stdout + r.stderr).splitlines()
        time.sleep(command.linger)
    except (OSError, subprocess.TimeoutExpired) as e:
        output.append(f"(could not run: {e})")
    finally:
        for proc, log in servers:
            stop(proc)
            with open(log, errors="replace") as f:
                output += f.read().splitlines()
        shutil.rmtree(scratch, ignore_errors=True)
    # What the program says is read as the page would have it: its folder and
    # ports are the page's.
    def back(line: str) -> str:
        line = line.rstrip().replace(scratch + "/", "/tmp/")
        for page_port, real_port in ports.items():
            line = line.replace("127.0.0.1:" + real_port, "127.0.0.1:" + page_port)
        return line
    return [back(l) for l in output]


def run(command: Command, smtplab: str, cache: dict[str, list[str]]) -> list[str]:
    key = command.key()
    if key in cache:
        return cache[key]
    if command.script is not None:
        cache[key] = run_script(command, os.path.dirname(os.path.abspath(smtplab)))
        return cache[key]
    bin_dir = os.path.dirname(os.path.abspath(smtplab))
    # Every port the block names gets a free one in its place.
    ports = {p: str(free_port()) for line in [*command.servers, command.text] for p in ADDRESS.findall(line)}
    swap = lambda line: ADDRESS.sub(lambda m: "127.0.0.1:" + ports[m.group(1)], line)
    servers: list[subprocess.Popen] = []
    scratch = tempfile.mkdtemp(prefix="smtplab-doc-check-") if command.files else None
    try:
        for name, source in command.files.items():
            shutil.copyfile(source, os.path.join(scratch, name))
        for line in command.servers:
            proc = subprocess.Popen(argv_of(swap(line), bin_dir), cwd=ROOT, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            servers.append(proc)
            for p in ADDRESS.findall(swap(line)):
                wait_for_port(int(p), proc)
        argv = argv_of(swap(command.text), bin_dir)
        argv[0] = os.path.abspath(smtplab)
        r = subprocess.run(argv, cwd=scratch or ROOT, capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        cache[key] = [l.rstrip() for l in (r.stdout + r.stderr).splitlines()]
    except (OSError, subprocess.TimeoutExpired) as e:
        cache[key] = [f"(could not run: {e})"]
    finally:
        for proc in servers:
            stop(proc)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return cache[key]


def check_yaml(block: YamlBlock, smtplab: str) -> str:
    lines = [l.rstrip() for l in block.lines]
    if block.part_of is not None:
        try:
            whole = [l.rstrip() for l in block.part_of.read_text().splitlines()]
        except OSError as e:
            return f"  cannot read {block.part_of}: {e}"
        for start in range(len(whole) - len(lines) + 1):
            if whole[start:start + len(lines)] == lines:
                return ""
        return f"  these lines are not, together and in order, in {block.part_of.relative_to(ROOT)}"
    if "domains:" not in lines:
        return ""  # a fragment without a file to be part of
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    try:
        r = subprocess.run([smtplab, "validate", f.name], capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(f.name)
    if r.returncode != 0:
        return "  the scenario does not validate:\n" + "\n".join("    | " + l for l in r.stderr.splitlines()[:6])
    return ""


def check(block: Block, output: list[str]) -> str:
    shown = [l for l in block.lines]
    first = next((l.rstrip() for l in shown if l.strip() != "..."), None)
    if first is None:
        return ""
    best, best_at = -1, -1
    for start, line in enumerate(output):
        if not same_line(first, line):
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


GROUP_TABLE = "the next table is conform's checks by group"


def group_tables_of(path: Path) -> list[tuple[int, list[list[str]]]]:
    """(line of the table's first row, its body rows as cells) for each table
    the page asks to be checked against the check registry."""
    tables, waiting, rows, start = [], False, [], 0
    for number, raw in enumerate(path.read_text().splitlines() + [""], 1):
        if m := DIRECTIVE.match(raw.strip()):
            waiting = m.group(1) == GROUP_TABLE
        elif waiting and raw.startswith("|"):
            rows.append([cell.strip() for cell in raw.strip().strip("|").split("|")])
            start = start or number
        elif waiting and rows:
            tables.append((start, [r for r in rows[2:]]))  # without the header and the |---| line
            waiting, rows, start = False, [], 0
    return tables


def section_key(section: str) -> tuple:
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[. ]", section))


def cited(references: list[str]) -> str:
    """A group's references, merged by RFC in order of first citation, each
    RFC's sections sorted: 'RFC 3207 4, RFC 8996' and 'RFC 3207 4.2' give
    '3207 4, 4.2; 8996'."""
    sections: dict[str, set[str]] = {}
    others: list[str] = []
    for reference in references:
        rfc = None
        for token in (t.strip() for t in reference.split(",")):
            if m := re.fullmatch(r"RFC (\d+)(?: (.+))?", token):
                rfc = m.group(1)
                sections.setdefault(rfc, set())
                if m.group(2):
                    sections[rfc].add(m.group(2))
            elif rfc and not token.startswith("CVE-"):
                sections[rfc].add(token)  # "RFC 5321 4.1.1.3, appendix C"
            elif token not in others:
                others.append(token)
    parts = [" ".join([rfc, ", ".join(sorted(secs, key=section_key))]).strip() for rfc, secs in sections.items()]
    return "; ".join(parts + others)


def check_group_table(rows: list[list[str]], smtplab: str) -> str:
    with tempfile.TemporaryDirectory(prefix="smtplab-doc-check-") as scratch:
        listing = Path(scratch) / "checks.json"
        r = subprocess.run([smtplab, "conform", "--list_checks", "--json", str(listing)],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            return f"  `smtplab conform --list_checks --json` failed:\n    | {r.stderr.strip()}"
        checks = json.loads(listing.read_text())
    groups: dict[str, list[dict]] = {}
    for c in checks:
        groups.setdefault(c["group"], []).append(c)
    expected = [(g, str(len(cs)), cited([c["reference"] for c in cs])) for g, cs in groups.items()]
    shown = [(row[0], row[1], row[3]) if len(row) >= 4 else tuple(row) for row in rows]
    if shown == expected:
        return ""
    return ("  the registry's groups, counts and references are (group | checks | RFCs):\n" +
            "\n".join(f"    | {g} | {n} | ... | {refs} |" for g, n, refs in expected) +
            "\n  the page shows:\n" + "\n".join("    | " + " | ".join(row) + " |" for row in rows))


def main(paths: list[str]) -> int:
    smtplab = os.environ.get("SMTPLAB", str(ROOT / "build" / "bin" / "smtplab"))
    cache: dict[str, list[str]] = {}
    failures = 0
    checked = 0
    for p in paths:
        blocks, yaml_blocks = blocks_of(Path(p))
        for block in blocks:
            checked += 1
            problem = check(block, run(block.command, smtplab, cache))
            if problem:
                failures += 1
                print(f"{block.path}:{block.line}: output of `{block.command.text}` differs\n{problem}\n")
        for yblock in yaml_blocks:
            problem = check_yaml(yblock, smtplab)
            checked += 1
            if problem:
                failures += 1
                print(f"{yblock.path}:{yblock.line}: YAML block\n{problem}\n")
        for line, rows in group_tables_of(Path(p)):
            checked += 1
            if problem := check_group_table(rows, smtplab):
                failures += 1
                print(f"{p}:{line}: the checks-by-group table differs from the registry\n{problem}\n")
    print(f"{checked} blocks checked, {failures} differ")
    return 1 if failures or not checked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
