"""A real, throw-away PostgreSQL server for the test suite.

``PostgresServer.start()`` runs ``initdb`` into a new temporary directory and starts
``postgres`` on a free 127.0.0.1 port (its unix socket in that directory, fsync off: test data
need not survive a power cut), waits until it accepts connections and hands out SQLAlchemy URLs
(``postgresql+psycopg://``) of databases it creates. The server binaries are Debian's
(``/usr/lib/postgresql/<version>/bin``); when there are none, ``dev/install-postgres.sh``
installs them. PostgreSQL refuses to run as root: as root, the server runs as the ``postgres``
system user that the package creates (or a dedicated user made here).

Run ``python -m tests.harness.postgres`` for a server by hand.
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import FrameType, TracebackType

import psycopg
from psycopg import sql

__all__ = ["INSTALL_SCRIPT", "PostgresError", "PostgresServer", "find_bin_dir"]

REPO_ROOT = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = REPO_ROOT / "dev" / "install-postgres.sh"
SUPERUSER = "tv"
# The account the server runs as when the tests run as root.
SYSTEM_USER = "postgres"
FALLBACK_USER = "ticketland-vibe-pg"
LOG_TAIL_LINES = 40


class PostgresError(RuntimeError):
    """The server could not be installed or started; the message ends with its log's tail."""


def _version_of(bin_dir: Path) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", bin_dir.parent.name)
    return tuple(int(number) for number in numbers)


def find_bin_dir() -> Path | None:
    """The directory of ``initdb`` and ``postgres``: ``$POSTGRES_BIN_DIR``, else the newest
    ``/usr/lib/postgresql/*/bin``, else wherever ``initdb`` is on PATH; None if there is none."""
    configured = os.environ.get("POSTGRES_BIN_DIR")
    if configured:
        path = Path(configured)
        return path if (path / "initdb").is_file() else None
    candidates = [path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    if candidates:
        return max(candidates, key=_version_of)
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def ensure_installed() -> Path:
    """The binaries' directory, running ``dev/install-postgres.sh`` first if there is none."""
    bin_dir = find_bin_dir()
    if bin_dir is not None:
        return bin_dir
    result = subprocess.run(
        ["bash", str(INSTALL_SCRIPT)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    bin_dir = find_bin_dir()
    if result.returncode != 0 or bin_dir is None:
        raise PostgresError(
            f"no PostgreSQL server binaries, and {INSTALL_SCRIPT.name} failed "
            f"(exit {result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return bin_dir


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGKILL the server if the thread that started it dies (kill -9 pytest)."""
    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


def _server_account() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as, or None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in (SYSTEM_USER, FALLBACK_USER):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", FALLBACK_USER],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=True,
    )
    return pwd.getpwnam(FALLBACK_USER)


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log file)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log file)"


# Every server with a live process: killed at exit even if nobody closed it.
_live: set[PostgresServer] = set()
_live_lock = threading.Lock()


@atexit.register
def _stop_all_servers() -> None:
    with _live_lock:
        servers = list(_live)
    for server in servers:
        server.close()


class PostgresServer:
    """One ``postgres`` process on 127.0.0.1 with its data in a temporary directory.

    ``start()`` initialises and starts it; ``create_database()`` makes a database and returns
    its SQLAlchemy URL; ``close()`` stops the server (fast shutdown) and removes the directory.
    """

    def __init__(self, *, startup_timeout: float = 60.0) -> None:
        self._startup_timeout = startup_timeout
        self.password = secrets.token_hex(16)
        self.port = 0
        self._work_dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._account: pwd.struct_passwd | None = None
        self._lock = threading.RLock()

    # -- addresses ----------------------------------------------------------------------------

    @property
    def work_dir(self) -> Path:
        if self._work_dir is None:
            raise PostgresError("the server has not been started")
        return self._work_dir

    @property
    def log_file(self) -> Path:
        return self.work_dir / "postgres.log"

    @property
    def socket_dir(self) -> Path:
        return self.work_dir / "socket"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL (psycopg 3 driver) of ``database`` on this server."""
        return f"postgresql+psycopg://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """A plain psycopg connection in autocommit mode, for setup and checks."""
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=SUPERUSER,
            password=self.password,
            dbname=database,
            connect_timeout=5,
            autocommit=True,
        )

    def create_database(self, name: str | None = None) -> str:
        """Create database ``name`` (default: a new unique name) and return its URL."""
        name = name or f"test_{uuid.uuid4().hex[:12]}"
        with self.connect() as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Install if needed, ``initdb`` (first time), start, wait until it accepts connections."""
        with self._lock:
            if self.running:
                return
            bin_dir = ensure_installed()
            if self._work_dir is None:
                self._account = _server_account()
                self._work_dir = Path(tempfile.mkdtemp(prefix="ticketland-vibe-pg-"))
                self.socket_dir.mkdir()
                self._give_away(self._work_dir, self.socket_dir)
                self._initdb(bin_dir)
            for attempt in range(3):
                self.port = _free_port()
                try:
                    self._launch(bin_dir)
                    return
                except PostgresError:
                    # Another process may have taken the port between choosing and binding.
                    if attempt == 2 or "could not bind" not in _tail(self.log_file):
                        raise

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT: roll back open transactions, then exit); SIGKILL if stuck."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            self._proc = None
            with _live_lock:
                _live.discard(self)

    def close(self) -> None:
        """Stop the server and remove its directory."""
        with self._lock:
            self.stop()
            if self._work_dir is not None:
                shutil.rmtree(self._work_dir, ignore_errors=True)
                self._work_dir = None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return _tail(self.log_file, lines)

    # -- internals ----------------------------------------------------------------------------

    def _give_away(self, *paths: Path) -> None:
        """Hand ``paths`` to the server's account (only when running as root)."""
        if self._account is None:
            return
        for path in paths:
            os.chown(path, self._account.pw_uid, self._account.pw_gid)

    def _run(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        account = self._account
        return subprocess.run(
            command,
            cwd=self.work_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
        )

    def _initdb(self, bin_dir: Path) -> None:
        password_file = self.work_dir / "password"
        password_file.write_text(self.password + "\n")
        password_file.chmod(0o600)
        self._give_away(password_file)
        try:
            result = self._run(
                [
                    str(bin_dir / "initdb"),
                    "--pgdata",
                    str(self.work_dir / "data"),
                    "--username",
                    SUPERUSER,
                    f"--pwfile={password_file}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                ]
            )
        finally:
            password_file.unlink(missing_ok=True)
        if result.returncode != 0:
            raise PostgresError(
                f"initdb failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
            )

    def _launch(self, bin_dir: Path) -> None:
        command = [
            str(bin_dir / "postgres"),
            "-D",
            str(self.work_dir / "data"),
            "-p",
            str(self.port),
            "-k",
            str(self.socket_dir),
            "-c",
            "listen_addresses=127.0.0.1",
            # Test data need not survive a crash of the machine.
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=100",
            "-c",
            "shared_buffers=64MB",
        ]
        account = self._account
        in_main_thread = threading.current_thread() is threading.main_thread()
        with self.log_file.open("ab") as log:
            log.write(f"=== {time.strftime('%H:%M:%S')} starting on {self.port} ===\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                command,
                cwd=self.work_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                user=account.pw_uid if account else None,
                group=account.pw_gid if account else None,
                extra_groups=[] if account else None,
                # Only from the main thread: PDEATHSIG fires when the starting *thread* ends.
                preexec_fn=_die_with_parent if in_main_thread else None,  # noqa: PLW1509
            )
        with _live_lock:
            _live.add(self)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop(timeout=5.0)
            raise

    def _wait_until_ready(self) -> None:
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + self._startup_timeout
        while True:
            code = proc.poll()
            if code is not None:
                raise PostgresError(
                    f"postgres exited with code {code} while starting; "
                    f"the end of {self.log_file}:\n{self.log_tail()}"
                )
            try:
                with self.connect():
                    return
            except psycopg.OperationalError:
                pass
            if time.monotonic() > deadline:
                raise PostgresError(
                    f"postgres did not accept connections within {self._startup_timeout:.0f} s;"
                    f" the end of {self.log_file}:\n{self.log_tail()}"
                )
            time.sleep(0.1)


# ---------------------------------------------------------------------------------------------
# A server by hand: python -m tests.harness.postgres


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.harness.postgres",
        description="Run the test suite's PostgreSQL server in the foreground until Ctrl-C.",
    )
    parser.add_argument("--database", default="ticketland_vibe", help="database to create")
    args = parser.parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    with PostgresServer() as server:
        url = server.create_database(args.database)
        print(f"PostgreSQL up: {url}\nlog file: {server.log_file}\nCtrl-C stops it.", flush=True)
        while not stop.wait(1.0):
            if not server.running:
                print(f"postgres exited; see {server.log_file}", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
