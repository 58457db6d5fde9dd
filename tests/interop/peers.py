"""Start and stop the SMTP peers that smtplab's interop tests and bench talk to.

Everything listens on 127.0.0.1 only. Every wait is bounded in time, and every
server is stopped by the PID we hold (never by name), so a failing test cannot
leave a stray process or hang the run.

Peers:
  * `smtplab sink`      - the server under test (reports its port on stderr).
  * aiosmtpd            - a real Python SMTP server; a handler written here saves
                          each envelope and the raw message bytes for comparison.
  * Postfix smtp-sink   - a fast C sink; optionally dumps each message to a file.
  * Postfix smtpd       - a private Postfix instance (own config, queue and log
                          in a work directory; every transport is discard:).

Python 3.11 standard library only; run with /usr/bin/python3.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PYTHON = "/usr/bin/python3"  # the Debian python, which has aiosmtpd installed
SMTP_SINK = "/usr/sbin/smtp-sink"
START_TIMEOUT = 10.0  # seconds to wait for any server to come up
STOP_TIMEOUT = 5.0  # seconds to wait after SIGTERM (and again after SIGKILL)


@dataclass
class Server:
    """A running peer. `workdir` holds its logs and whatever it stores."""

    name: str
    proc: subprocess.Popen
    port: int
    stderr_path: Path
    workdir: Path
    extra: dict = field(default_factory=dict)

    def stop(self) -> None:
        stop(self.proc)

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    # `with start_xxx(...) as server:` stops it however the block ends.
    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def free_port() -> int:
    """A port that was free a moment ago (the kernel picks it). There is a small
    race until the server binds it; start_* notice when the server dies."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen | None) -> None:
    """Terminate one process we started, by its PID; kill it if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT)


def _spawn(argv: list[str], stderr_path: Path, **kwargs) -> subprocess.Popen:
    # stderr goes to a file, not a pipe: a pipe nobody reads fills up and blocks
    # a chatty server. The parent's copy of the fd is closed right away.
    with open(stderr_path, "wb") as err:
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err, **kwargs
        )


def _died(proc: subprocess.Popen, stderr_path: Path, what: str) -> RuntimeError:
    text = stderr_path.read_text(errors="replace") if stderr_path.exists() else ""
    return RuntimeError(f"{what} exited with status {proc.returncode}:\n{text[-2000:]}")


def wait_for_banner(proc: subprocess.Popen, port: int, stderr_path: Path, what: str,
                    timeout: float = START_TIMEOUT, implicit_tls: bool = False) -> None:
    """Wait until 127.0.0.1:port answers with a 220 greeting. Reading the banner
    (not just connecting) proves the SMTP server is the one answering. With
    `implicit_tls` the greeting is read inside TLS (certificate not checked)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise _died(proc, stderr_path, what)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as raw:
                s = raw
                if implicit_tls:
                    ctx = ssl.create_default_context()
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                    s = ctx.wrap_socket(raw)
                try:
                    s.settimeout(2.0)
                    if s.recv(512).startswith(b"220"):
                        s.sendall(b"QUIT\r\n")
                        return
                finally:
                    if s is not raw:
                        s.close()
        except OSError as e:  # refused: not listening yet
            last_error = e
        time.sleep(0.05)
    stop(proc)
    raise TimeoutError(f"{what} did not answer on 127.0.0.1:{port} within "
                       f"{timeout} s (last error: {last_error})")


# --------------------------------------------------------------------------
# smtplab sink
# --------------------------------------------------------------------------

def make_pki(smtplab: str, out: Path, problem: str = "none") -> Path:
    """`smtplab cert` into OUT: ca.pem to trust, cert.pem and key.pem for a
    server named localhost and 127.0.0.1 (broken as `problem` says)."""
    r = subprocess.run([smtplab, "cert", "--out", str(out), "--host", "localhost,127.0.0.1",
                        "--problem", problem], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return out


def smtplab_path() -> str:
    """The binary under test, from $SMTPLAB; the tests fail loudly, not skip."""
    path = os.environ.get("SMTPLAB")
    if not path:
        raise RuntimeError("set SMTPLAB to the smtplab binary, e.g. SMTPLAB="
                           "build/bin/smtplab /usr/bin/python3 -m unittest ...")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"SMTPLAB={path} is not an executable file")
    return path



LISTENING_RE = re.compile(rb"listening on 127\.0\.0\.1:(\d+)")


def start_smtplab_sink(smtplab_path: str | os.PathLike, maildir: str | os.PathLike,
                       extra_args: list[str] | tuple[str, ...] = ()) -> Server:
    """Run `SMTPLAB sink --listen 127.0.0.1:0 --maildir DIR ...extra`.

    Port 0 lets the kernel choose, so there is no race; the sink must print a
    line containing `listening on 127.0.0.1:PORT` on stderr (also with --quiet),
    which is how we learn the port."""
    maildir = Path(maildir)
    maildir.mkdir(parents=True, exist_ok=True)
    stderr_path = maildir.parent / f"{maildir.name}.smtplab-sink.stderr"
    argv = [str(smtplab_path), "sink", "--listen", "127.0.0.1:0",
            "--maildir", str(maildir), *extra_args]
    proc = _spawn(argv, stderr_path)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        m = LISTENING_RE.search(stderr_path.read_bytes())
        if m:
            return Server("smtplab sink", proc, int(m.group(1)), stderr_path,
                          maildir.parent, {"maildir": maildir, "argv": argv})
        if proc.poll() is not None:
            raise _died(proc, stderr_path, " ".join(argv))
        time.sleep(0.05)
    stop(proc)
    raise TimeoutError(f"no 'listening on 127.0.0.1:PORT' line on stderr of "
                       f"{' '.join(argv)} within {START_TIMEOUT} s:\n"
                       f"{stderr_path.read_text(errors='replace')[-2000:]}")


# --------------------------------------------------------------------------
# aiosmtpd with a handler that saves what arrives
# --------------------------------------------------------------------------

HANDLER_MODULE = "smtplab_capture"
HANDLER_SOURCE = '''\
"""aiosmtpd handler written by smtplab's tests/interop/peers.py.

For message N it writes N.eml (the raw bytes as received, dot-unstuffed, CRLF
kept) and then N.json (the envelope). Both are written to a temporary name and
renamed, so a reader that waits for N.json sees complete files.
"""
import itertools
import json
import os
import sys


class SaveHandler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.counter = itertools.count(1)
        os.makedirs(outdir, exist_ok=True)

    @classmethod
    def from_cli(cls, parser, *args):
        # `python3 -m aiosmtpd -c smtplab_capture.SaveHandler OUTDIR`
        if len(args) != 1:
            parser.error("SaveHandler takes one argument: the output directory")
        return cls(args[0])

    def _write(self, name, data):
        tmp = os.path.join(self.outdir, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.outdir, name))

    async def handle_DATA(self, server, session, envelope):
        n = "%06d" % next(self.counter)
        # original_content: bytes exactly as on the wire after unstuffing
        # (aiosmtpd >= 1.4); content is the same bytes when decode_data=False.
        raw = getattr(envelope, "original_content", None)
        if raw is None:
            raw = envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        self._write(n + ".eml", raw)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "peer": list(session.peer) if session.peer else None,
        }
        self._write(n + ".json", json.dumps(meta).encode())
        return "250 OK saved as " + n
'''


def start_aiosmtpd(workdir: str | os.PathLike,
                   extra_args: list[str] | tuple[str, ...] = ()) -> Server:
    """Start aiosmtpd on a free port; messages land in WORKDIR/messages/.

    `extra_args` go before the handler, e.g. ["--tlscert", C, "--tlskey", K]
    for STARTTLS (then required by default) or ["--smtpscert", ...] for
    implicit TLS."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / f"{HANDLER_MODULE}.py").write_text(HANDLER_SOURCE)
    messages = workdir / "messages"
    messages.mkdir(exist_ok=True)
    port = free_port()
    stderr_path = workdir / "aiosmtpd.stderr"
    argv = [PYTHON, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", *extra_args,
            "-c", f"{HANDLER_MODULE}.SaveHandler", str(messages)]
    env = dict(os.environ, PYTHONPATH=str(workdir), PYTHONDONTWRITEBYTECODE="1")
    proc = _spawn(argv, stderr_path, env=env)
    wait_for_banner(proc, port, stderr_path, "aiosmtpd", implicit_tls="--smtpscert" in extra_args)
    return Server("aiosmtpd", proc, port, stderr_path, workdir,
                  {"messages": messages})


def aiosmtpd_messages(server: Server) -> list[tuple[dict, bytes]]:
    """All messages saved so far, oldest first, as (envelope, raw bytes)."""
    out = []
    for meta in sorted(server.extra["messages"].glob("*.json")):
        raw = meta.with_suffix(".eml").read_bytes()
        out.append((json.loads(meta.read_text()), raw))
    return out


# --------------------------------------------------------------------------
# Postfix smtp-sink
# --------------------------------------------------------------------------

def _let_nobody_through(path: Path, who: str = "smtp-sink (run as nobody)") -> None:
    """smtp-sink runs as nobody and must reach the dump dir (and Postfix's
    daemons, run as the postfix user, their data_directory). tempfile.mkdtemp()
    makes 0700 directories, so add search (x, not read) permission for others
    on the directories below the temp root; refuse to touch anything else."""
    tmp_root = Path(tempfile.gettempdir()).resolve()
    path = path.resolve()
    for d in [path, *path.parents]:
        if d == tmp_root or d == d.parent:
            break
        mode = os.stat(d).st_mode
        if mode & 0o001:
            continue
        if tmp_root not in d.parents:
            raise PermissionError(f"{d} is not searchable by others; {who} "
                                  f"could not reach {path}")
        os.chmod(d, mode | 0o011)


def start_smtp_sink(workdir: str | os.PathLike, dump: bool = True,
                    extra_args: list[str] | tuple[str, ...] = ()) -> Server:
    """Start Postfix smtp-sink on a free port, backlog 256.

    With dump=True each transaction is written to WORKDIR/dump/HHMMSS.<random hex>
    (`-d` template expanded by strftime). smtp-sink's dump uses LF line endings
    and starts with its own X-Client-Addr:/X-Mail-Args:/X-Rcpt-Args:/Received:
    lines (see smtp-sink(1), DUMP FILE FORMAT).

    As root smtp-sink insists on `-u nobody` (it drops privileges after binding),
    so the dump directory must be writable by nobody and its parents searchable.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [SMTP_SINK]
    if os.geteuid() == 0:
        argv += ["-u", "nobody"]
    dump_dir = workdir / "dump"
    if dump:
        dump_dir.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(dump_dir, nobody.pw_uid, nobody.pw_gid)
            _let_nobody_through(workdir)
        argv += ["-d", f"{dump_dir}/%H%M%S."]
    port = free_port()
    argv += [*extra_args, f"127.0.0.1:{port}", "256"]
    stderr_path = workdir / "smtp-sink.stderr"
    proc = _spawn(argv, stderr_path)
    wait_for_banner(proc, port, stderr_path, "smtp-sink")
    return Server("smtp-sink", proc, port, stderr_path, workdir,
                  {"dump": dump_dir if dump else None, "argv": argv})


def smtp_sink_dumps(server: Server) -> list[Path]:
    """Dump files written so far (names sort by time only to the second)."""
    d = server.extra.get("dump")
    return sorted(d.iterdir()) if d and d.exists() else []


# --------------------------------------------------------------------------
# Postfix smtpd: a private instance with its own config, queue and log
# --------------------------------------------------------------------------

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
POSTFIX_START_TIMEOUT = 20.0  # master + first smtpd; about 1-3 s here
POSTFIX_CHECK_TIMEOUT = 60.0  # `postfix check` creates the queue: about 3 s here
POSTFIX_INSTALL_HINT = (
    "install it with: echo 'postfix postfix/main_mailer_type select No "
    "configuration' | debconf-set-selections && apt-get install -y postfix "
    "(the preseed keeps the package from configuring or starting a system MTA)")

POSTFIX_EXPECTED_WARNING = re.compile(
    r"postfix-script\[\d+\]: warning: (not owned by root|group or other writable): ")

# Every service is unchained (chroot column n): a chroot would need copies of
# /etc files inside the queue directory. The smtpd line is added per instance.
POSTFIX_MASTER_CF_SERVICES = """\
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
proxymap   unix  -       -       n       -       -       proxymap
smtp       unix  -       -       n       -       -       smtp
discard    unix  -       -       n       -       -       discard
error      unix  -       -       n       -       -       error
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
tlsmgr     unix  -       -       n       1000?   1       tlsmgr
"""


@dataclass
class PostfixServer(Server):
    """A private Postfix instance. Stopping it stops master by its PID; master
    passes SIGTERM on to its children (its own process group)."""

    def stop(self) -> None:
        pid = self.proc.pid
        stop(self.proc)
        _wait_process_group_gone(pid)

    def maillog_text(self) -> str:
        try:
            return Path(self.extra["maillog"]).read_text(errors="replace")
        except OSError:
            return ""


def _process_group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # exited meanwhile
            continue
        # pid (comm) state ppid pgrp ...; comm may contain spaces and ')'.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


def _wait_process_group_gone(pgid: int) -> None:
    """master runs setsid(), so its daemons are in the process group named by
    its PID. Wait (bounded) for them to exit after master did; SIGKILL the
    group (by that id, which only our instance can hold) if they linger."""
    deadline = time.monotonic() + STOP_TIMEOUT
    while _process_group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _process_group_members(pgid):
        try:
            os.killpg(pgid, 9)
        except ProcessLookupError:
            pass


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _postfix_main_cf(conf: Path, overrides: dict[str, str] | None) -> str:
    settings = {
        "compatibility_level": "3.6",
        # Postfix as root: master starts as root, binds, then runs its daemons
        # as mail_owner; the postdrop group owns maildrop/ and public/. Both
        # come with the Debian package; named here so the instance is explicit.
        "mail_owner": "postfix",
        "setgid_group": "postdrop",
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4",
        "queue_directory": str(conf / "queue"),
        "data_directory": str(conf / "data"),
        # Daemons log through postlogd into this file; the `postfix` command
        # writes to it directly. (master's own errors before postlogd runs
        # go to syslog only.)
        "maillog_file": str(conf / "maillog"),
        "maillog_file_prefixes": str(conf),
        "myhostname": "postfix.smtplab.test",
        "mydomain": "smtplab.test",
        "myorigin": "$myhostname",
        # Nothing is local and nothing is delivered: every transport discards.
        "mydestination": "",
        "relay_domains": "",
        "default_transport": "discard:",
        "local_transport": "discard:",
        "relay_transport": "discard:",
        "virtual_transport": "discard:",
        "alias_maps": "",
        "alias_database": "",
        # The loopback client is NOT trusted: checks then see the server as a
        # client on the Internet sees a domain's MX (no relaying; the bare-LF
        # exclusions, which default to $mynetworks, do not exempt it).
        "mynetworks": "",
        "smtpd_banner": "$myhostname ESMTP",
        "biff": "no",
        "append_dot_mydomain": "no",
    }
    settings.update(overrides or {})
    return "".join(f"{k} = {v}\n" for k, v in settings.items())


def start_postfix_smtpd(workdir: str | os.PathLike,
                        main_cf: dict[str, str] | None = None) -> PostfixServer:
    """Start a private Postfix instance whose smtpd listens on 127.0.0.1:PORT.

    WORKDIR/postfix/ is its config directory (main.cf, master.cf) and holds its
    queue/, data/ and maillog. Nothing is delivered (every transport is
    discard:), nothing listens on port 25, and the system's Postfix (if any)
    is not touched. `main_cf` overrides or adds main.cf settings.

    Needs root (master starts as root and drops to mail_owner). Stop it with
    .stop() or `with`: master is terminated by its PID, then we wait (bounded)
    for its daemons."""
    for path in (POSTFIX, POSTCONF):
        if not os.access(path, os.X_OK):
            raise RuntimeError(f"Postfix is not installed ({path} missing); "
                               f"{POSTFIX_INSTALL_HINT}")
    if os.geteuid() != 0:
        raise RuntimeError("a private Postfix instance needs root: master "
                           "starts as root and runs its daemons as mail_owner")

    workdir = Path(workdir)
    conf = workdir / "postfix"
    conf.mkdir(parents=True, exist_ok=True)
    os.chmod(conf, 0o755)
    # Postfix wants a root-owned queue directory it can chdir into; `postfix
    # check` then creates its subdirectories and data_directory (owned by
    # mail_owner).
    (conf / "queue").mkdir(exist_ok=True)
    os.chmod(conf / "queue", 0o755)
    (conf / "main.cf").write_text(_postfix_main_cf(conf, main_cf))

    def write_master_cf() -> int:
        port = free_port()
        (conf / "master.cf").write_text(
            f"127.0.0.1:{port} inet n - n - - smtpd\n" + POSTFIX_MASTER_CF_SERVICES)
        return port

    port = write_master_cf()
    maillog = conf / "maillog"

    def maillog_tail() -> str:
        # `postfix check` warns that queue/ and data/, inside the config
        # directory, are not owned by root (it expects a root-only config
        # tree): expected with this layout, so left out of error messages.
        try:
            lines = maillog.read_text(errors="replace").splitlines()
        except OSError:
            return "(no maillog)"
        lines = [line for line in lines if not POSTFIX_EXPECTED_WARNING.search(line)]
        return "\n".join(lines)[-3000:] or "(nothing but the expected warnings)"

    def run(argv: list[str], timeout: float) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, errors="replace", timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise TimeoutError(f"{' '.join(argv)} did not finish within "
                               f"{timeout} s; maillog:\n{maillog_tail()}") from e

    # The settings Postfix will actually use (and a first syntax check).
    r = run([POSTCONF, "-c", str(conf), "-h", "daemon_directory", "mail_owner",
             "setgid_group"], 30)
    values = r.stdout.split("\n")
    if r.returncode != 0 or len(values) < 3:
        raise RuntimeError(f"postconf -c {conf} failed ({r.returncode}):\n"
                           f"{r.stdout}{r.stderr}")
    daemon_dir, owner, group = values[:3]
    try:
        pwd.getpwnam(owner)
        grp.getgrnam(group)
    except KeyError as e:
        raise RuntimeError(f"Postfix needs the user {owner!r} and the group "
                           f"{group!r} (the postfix package creates them): {e}")
    master = Path(daemon_dir) / "master"
    if not os.access(master, os.X_OK):
        raise RuntimeError(f"{master} missing; {POSTFIX_INSTALL_HINT}")
    # Daemons run as mail_owner and open data_directory by its absolute path,
    # so every directory above it must be searchable (mkdtemp makes 0700).
    _let_nobody_through(conf, f"Postfix's daemons (run as {owner})")

    r = run([POSTFIX, "-c", str(conf), "check"], POSTFIX_CHECK_TIMEOUT)
    if r.returncode != 0:
        # The postfix command logs to maillog_file, not to stderr (no tty).
        raise RuntimeError(f"postfix -c {conf} check failed ({r.returncode}):\n"
                           f"{r.stdout}{r.stderr}\nmaillog:\n{maillog_tail()}")

    # master stays in the foreground (it only detaches with -w), so the PID we
    # hold is master's; -s keeps its stdout. MAIL_CONFIG reaches its children.
    argv = [str(master), "-c", str(conf), "-s"]
    stderr_path = workdir / "postfix-master.stderr"
    for attempt in range(3):
        proc = _spawn(argv, stderr_path, env=dict(os.environ, MAIL_CONFIG=str(conf)))
        server = PostfixServer("postfix smtpd", proc, port, stderr_path, workdir,
                               {"config_dir": conf, "maillog": maillog, "argv": argv})
        try:
            wait_for_banner(proc, port, stderr_path, "Postfix master",
                            timeout=POSTFIX_START_TIMEOUT)
            break
        except (RuntimeError, TimeoutError) as e:
            server.stop()
            # master's "bind: Address already in use" goes to syslog only: if
            # someone took the port between free_port() and master, try another.
            if proc.returncode not in (None, 0) and attempt < 2 and _port_in_use(port):
                port = write_master_cf()
                continue
            raise RuntimeError(
                f"{e}\nmaillog ({maillog}):\n{maillog_tail()}\n(master logs errors "
                f"from before its postlogd runs to syslog only: if the maillog says "
                f"nothing, run MAIL_CONFIG={conf} {' '.join(argv)} under strace -f)") from e
        except BaseException:
            server.stop()
            raise
    return server
