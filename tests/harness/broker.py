"""A real single-node Apache Kafka broker for the test suite.

The broker is the pinned ``kafka_2.13`` jar that ``dev/kafka-jars.sh`` resolves from Maven
Central into ``.cache/kafka-jars/``; it runs as one ``java`` process in KRaft combined mode
(broker and controller), on free loopback ports, with a small heap. Two client listeners:

* ``PLAINTEXT`` on 127.0.0.1 (``bootstrap``, ``client_config()``);
* ``SASL_SSL`` with SCRAM-SHA-512 (``sasl_bootstrap``, ``sasl_client_config()``), its
  certificate signed by a throw-away CA made at first start (``ca_file``).

Run ``python -m tests.harness.broker`` (or ``make broker``) for a broker by hand.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import ctypes
import hashlib
import logging
import os
import queue
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
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

__all__ = [
    "JARS_DIR",
    "REPO_ROOT",
    "BrokerError",
    "KafkaBroker",
    "consume",
    "ensure_jars",
    "make_ca",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
KAFKA_DIR = REPO_ROOT / "tests" / "kafka"
POM = KAFKA_DIR / "pom.xml"
LOG4J2_CONFIG = KAFKA_DIR / "log4j2.xml"
JARS_DIR = Path(os.environ.get("KAFKA_JARS_DIR", REPO_ROOT / ".cache" / "kafka-jars"))
JARS_SCRIPT = REPO_ROOT / "dev" / "kafka-jars.sh"
STAMP_NAME = ".pom.sha256"

SCRAM_MECHANISM = "SCRAM-SHA-512"
DEFAULT_USERNAME = "vibe-test"
NODE_ID = 1
LOG_TAIL_LINES = 60

_log = logging.getLogger(__name__)
# librdkafka's own log lines (connection refused while the broker starts, ...) go here, not to
# stderr.
_client_log = logging.getLogger("tests.harness.rdkafka")
_client_log.addHandler(logging.NullHandler())
_client_log.propagate = False


class BrokerError(RuntimeError):
    """The broker could not be started, or misbehaved; the message ends with its log's tail."""


# ---------------------------------------------------------------------------------------------
# Jars


def _stamp_matches(jars_dir: Path) -> bool:
    stamp = jars_dir / STAMP_NAME
    if not stamp.is_file():
        return False
    want = hashlib.sha256(POM.read_bytes()).hexdigest()
    return stamp.read_text().strip() == want


def ensure_jars(jars_dir: Path = JARS_DIR) -> Path:
    """Resolve the broker's jars unless the cache already matches ``tests/kafka/pom.xml``.

    The check is done here (no process is started when the stamp matches); the resolution
    itself is ``dev/kafka-jars.sh``, the one place that runs Maven.
    """
    if not _stamp_matches(jars_dir):
        env = dict(os.environ, KAFKA_JARS_DIR=str(jars_dir))
        result = subprocess.run(
            ["bash", str(JARS_SCRIPT)],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not _stamp_matches(jars_dir):
            raise BrokerError(
                f"could not resolve the Kafka jars (exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}"
            )
    return jars_dir


# ---------------------------------------------------------------------------------------------
# TLS material


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(
        ["openssl", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BrokerError(f"openssl {args[0]} failed: {result.stderr.strip()}")


def make_ca(directory: Path, name: str = "ca") -> tuple[Path, Path]:
    """Make a throw-away certificate authority in ``directory``: (certificate PEM, key PEM)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}.pem", directory / f"{name}-key.pem"
    _openssl(
        "req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-keyout", key.name, "-out", cert.name, "-days", "30", "-sha256",
        "-subj", f"/CN=ticketland-vibe test CA {name} {uuid.uuid4().hex[:8]}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    return cert, key


def _make_keystore(directory: Path, password: str) -> tuple[Path, Path]:
    """CA plus a broker certificate for 127.0.0.1/localhost, as (CA PEM, PKCS12 keystore)."""
    ca_cert, ca_key = make_ca(directory)
    _openssl(
        "req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-keyout", "broker-key.pem", "-out", "broker.csr", "-subj", "/CN=localhost",
        cwd=directory,
    )  # fmt: skip
    ext = directory / "broker-ext.cnf"
    ext.write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
    )
    _openssl(
        "x509", "-req", "-in", "broker.csr", "-CA", ca_cert.name, "-CAkey", ca_key.name,
        "-CAcreateserial", "-out", "broker.pem", "-days", "30", "-sha256",
        "-extfile", ext.name,
        cwd=directory,
    )  # fmt: skip
    keystore = directory / "broker.p12"
    _openssl(
        "pkcs12", "-export", "-in", "broker.pem", "-inkey", "broker-key.pem",
        "-certfile", ca_cert.name, "-name", "broker", "-out", keystore.name,
        "-passout", f"pass:{password}",
        cwd=directory,
    )  # fmt: skip
    return ca_cert, keystore


# ---------------------------------------------------------------------------------------------
# Processes


def _ephemeral_port_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _free_port(exclude: set[int]) -> int:
    """A port that is free on 127.0.0.1 now, below the kernel's ephemeral range.

    Below it, so that no client socket is ever given the port while the broker is down (a
    client reconnecting to a closed loopback port in that range can even connect to itself),
    and a restart on the same port finds it free.
    """
    low, _ = _ephemeral_port_range()
    if low > 12000:
        rng = secrets.SystemRandom()
        for _ in range(200):
            port = rng.randrange(10000, low)
            if port not in exclude and _port_is_free(port):
                return port
    while True:  # fall back to a port the kernel picks
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in exclude:
            return port


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _find_prctl() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return None


# Looked up here, not in the child: the child of a threaded process should only call
# async-signal-safe things between fork and exec (prctl is one; dlopen is not).
_PRCTL = _find_prctl()
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Have Linux SIGKILL the broker when the thread that forked it ends (e.g. kill -9 pytest)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class _Spawner:
    """Starts the broker processes from one long-lived daemon thread.

    PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, so a broker started
    from a short-lived thread (a ``threading.Timer`` restarting it in a fault test) would die
    with that thread; this thread lives as long as the interpreter.
    """

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[
            tuple[Future[subprocess.Popen[bytes]], list[str], dict[str, Any]]
        ] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def popen(self, command: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="kafka-broker-spawner", daemon=True
                )
                self._thread.start()
        future: Future[subprocess.Popen[bytes]] = Future()
        self._requests.put((future, command, kwargs))
        return future.result()

    def _serve(self) -> None:
        while True:
            future, command, kwargs = self._requests.get()
            try:
                # preexec_fn and threads: _die_with_parent only calls prctl (see above).
                child = subprocess.Popen(
                    command,
                    preexec_fn=_die_with_parent,  # noqa: PLW1509
                    **kwargs,
                )
                future.set_result(child)
            except BaseException as exc:
                future.set_exception(exc)


_spawner = _Spawner()


# Every broker with a live process (strong references: a dropped KafkaBroker still gets its
# java process killed at exit).
_live: set[KafkaBroker] = set()
_live_lock = threading.Lock()


@atexit.register
def _stop_all_brokers() -> None:
    with _live_lock:
        brokers = list(_live)
    for broker in brokers:
        broker.kill()


def _thread_states(pid: int) -> list[str]:
    states = []
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            # "tid (comm) S ...": the state follows the last ")".
            states.append(stat.read_text().rsplit(")", 1)[1].split()[0])
        except (FileNotFoundError, IndexError):
            continue  # a thread that just ended
    return states


def _wait_for_thread_states(pid: int, *, stopped: bool, timeout: float = 10.0) -> None:
    """SIGSTOP/SIGCONT take effect asynchronously: wait until all threads show it."""
    deadline = time.monotonic() + timeout
    while True:
        states = _thread_states(pid)
        if states and all((state in "Tt") == stopped for state in states):
            return
        if time.monotonic() > deadline:
            raise BrokerError(
                f"broker pid {pid} threads did not {'stop' if stopped else 'resume'}"
            )
        time.sleep(0.01)


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log file)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log file)"


# confluent-kafka's own (Python) configuration keys, which keep their underscores.
_PYTHON_KEYS = frozenset(
    {"error_cb", "stats_cb", "throttle_cb", "oauth_cb", "on_delivery", "on_commit", "logger"}
)


def _merge(
    base: dict[str, Any], extra: Mapping[str, Any] | None, overrides: Mapping[str, Any]
) -> dict[str, Any]:
    config = {**base, **(extra or {})}
    for key, value in overrides.items():
        config[key if key in _PYTHON_KEYS else key.replace("_", ".")] = value
    return config


def _quiet_error_cb(_err: KafkaError) -> None:
    """Swallow client errors (the broker may still be starting)."""


# ---------------------------------------------------------------------------------------------
# The broker


class KafkaBroker:
    """One Kafka process (KRaft broker+controller) on 127.0.0.1, with a persistent work dir.

    ``start()`` makes certificates, config and storage the first time, then starts ``java``;
    ``stop()``/``kill()``/``start()``/``restart()`` keep the data dir and the ports, so
    acknowledged messages survive; ``pause()``/``resume()`` freeze the process (SIGSTOP).
    ``close()`` stops it and, if the work dir was made here, removes it.
    """

    def __init__(
        self,
        work_dir: Path | str | None = None,
        *,
        port: int | None = None,
        jars_dir: Path | str | None = None,
        heap: str = "384m",
        startup_timeout: float = 120.0,
        username: str = DEFAULT_USERNAME,
    ) -> None:
        if work_dir is None:
            self._work_dir = Path(tempfile.mkdtemp(prefix="ticketland-vibe-kafka-"))
            self._owns_work_dir = True
        else:
            self._work_dir = Path(work_dir).resolve()
            self._work_dir.mkdir(parents=True, exist_ok=True)
            self._owns_work_dir = False
        self._jars_dir = Path(jars_dir) if jars_dir is not None else JARS_DIR
        self._heap = heap
        self._startup_timeout = startup_timeout
        self.username = username
        self.password = secrets.token_hex(16)
        self._keystore_password = secrets.token_hex(16)
        self._fixed_port = port
        self._ports: dict[str, int] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._paused = False
        self._lock = threading.RLock()
        self._closed = False

    # -- paths and addresses ------------------------------------------------------------------

    @property
    def work_dir(self) -> Path:
        return self._work_dir

    @property
    def data_dir(self) -> Path:
        return self._work_dir / "data"

    @property
    def log_file(self) -> Path:
        """The broker's log (log4j2 at WARN, plus the JVM's own stdout/stderr)."""
        return self._work_dir / "broker.log"

    @property
    def config_file(self) -> Path:
        return self._work_dir / "server.properties"

    @property
    def ca_file(self) -> Path:
        """PEM of the throw-away CA that signed the SASL_SSL listener's certificate."""
        return self._work_dir / "tls" / "ca.pem"

    def _port(self, name: str) -> int:
        if name not in self._ports:
            raise BrokerError("the broker has not been started yet: no ports chosen")
        return self._ports[name]

    @property
    def port(self) -> int:
        return self._port("PLAINTEXT")

    @property
    def bootstrap(self) -> str:
        """``127.0.0.1:PORT`` of the PLAINTEXT listener."""
        return f"127.0.0.1:{self._port('PLAINTEXT')}"

    @property
    def sasl_bootstrap(self) -> str:
        """``127.0.0.1:PORT`` of the SASL_SSL listener. Its certificate names both
        ``IP:127.0.0.1`` and ``DNS:localhost``, so either passes librdkafka's host name check."""
        return f"127.0.0.1:{self._port('SASL_SSL')}"

    @property
    def controller_address(self) -> str:
        return f"127.0.0.1:{self._port('CONTROLLER')}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def paused(self) -> bool:
        return self._paused

    # -- client settings ----------------------------------------------------------------------

    def client_config(
        self, extra: Mapping[str, Any] | None = None, **overrides: Any
    ) -> dict[str, Any]:
        """librdkafka settings for the PLAINTEXT listener.

        ``extra`` is merged as is; keyword ``overrides`` spell ``.`` as ``_``
        (``sasl_password="x"``), except confluent-kafka's Python keys (``error_cb``, ...).
        """
        return _merge({"bootstrap.servers": self.bootstrap}, extra, overrides)

    def sasl_client_config(
        self, extra: Mapping[str, Any] | None = None, **overrides: Any
    ) -> dict[str, Any]:
        """librdkafka settings for the SASL_SSL (SCRAM-SHA-512) listener, verifying the CA
        (and, librdkafka's default, the host name). Same arguments as ``client_config``."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.sasl_bootstrap,
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": SCRAM_MECHANISM,
            "sasl.username": self.username,
            "sasl.password": self.password,
            "ssl.ca.location": str(self.ca_file),
        }
        return _merge(config, extra, overrides)

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> KafkaBroker:
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
        """Start the broker and wait until it answers metadata requests; no-op if running."""
        with self._lock:
            if self._closed:
                raise BrokerError("this broker was closed")
            if self.running:
                if self._paused:
                    self.resume()
                return
            jars = ensure_jars(self._jars_dir)
            first_start = not self._ports
            attempts = 3 if first_start and self._fixed_port is None else 1
            for attempt in range(attempts):
                if first_start:
                    self._choose_ports()
                self._write_config()
                if not (self.data_dir / "meta.properties").exists():
                    self._prepare_first_start(jars)
                try:
                    self._launch(jars)
                    return
                except BrokerError:
                    # Another process may have taken a port between choosing and binding.
                    last = attempt == attempts - 1
                    if last or "Address already in use" not in _tail(self.log_file):
                        raise
                    _log.warning("port taken while starting the broker; choosing others")

    def restart(self) -> None:
        """Stop (cleanly) and start again on the same data dir and ports."""
        with self._lock:
            self.stop()
            self.start()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (a clean controlled shutdown), wait up to ``timeout``, then SIGKILL."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                if self._paused:
                    proc.send_signal(signal.SIGCONT)
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    _log.warning(
                        "broker pid %s ignored SIGTERM for %.0f s: killing", proc.pid, timeout
                    )
                    proc.kill()
                    proc.wait()
                self._note(f"stopped (SIGTERM), exit code {proc.returncode}")
            self._forget_process()

    def kill(self) -> None:
        """SIGKILL the broker (a crash, as far as Kafka can tell) and reap it."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            if proc.poll() is None:
                proc.kill()
                proc.wait()
                self._note("killed (SIGKILL)")
            self._forget_process()

    def pause(self) -> None:
        """SIGSTOP the broker and wait until every thread is stopped: connections stay open,
        nothing is answered, no timer runs."""
        with self._lock:
            proc = self._require_running()
            proc.send_signal(signal.SIGSTOP)
            self._paused = True
            _wait_for_thread_states(proc.pid, stopped=True)

    def resume(self) -> None:
        """SIGCONT a paused broker."""
        with self._lock:
            proc = self._require_running()
            proc.send_signal(signal.SIGCONT)
            self._paused = False
            _wait_for_thread_states(proc.pid, stopped=False)

    def close(self) -> None:
        """Stop the broker and remove the work dir if this object made it."""
        with self._lock:
            self.stop()
            self._closed = True
            if self._owns_work_dir:
                shutil.rmtree(self._work_dir, ignore_errors=True)

    # -- observations -------------------------------------------------------------------------

    def rss_bytes(self) -> int:
        """Resident set size of the broker process, from /proc/<pid>/status (VmRSS)."""
        pid = self.pid
        if pid is None:
            raise BrokerError("the broker is not running")
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise BrokerError(f"no VmRSS in /proc/{pid}/status")

    def rss_mib(self) -> float:
        return self.rss_bytes() / (1024 * 1024)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return _tail(self.log_file, lines)

    # -- helpers for tests --------------------------------------------------------------------

    def admin(self, **overrides: Any) -> AdminClient:
        """An AdminClient on the PLAINTEXT listener, with quiet logging."""
        return AdminClient(self._quiet(self.client_config(**overrides)))

    def create_topic(
        self,
        name: str | None = None,
        partitions: int = 1,
        config: Mapping[str, str] | None = None,
        *,
        timeout: float = 30.0,
    ) -> str:
        """Create a topic named ``name`` (default ``test``) plus a uuid suffix, and wait until
        every partition has a leader. Returns the full topic name."""
        topic = f"{name or 'test'}-{uuid.uuid4().hex[:12]}"
        admin = self.admin()
        new = NewTopic(
            topic, num_partitions=partitions, replication_factor=1, config=dict(config or {})
        )
        futures = admin.create_topics([new], operation_timeout=timeout, request_timeout=timeout)
        futures[topic].result(timeout=timeout)
        deadline = time.monotonic() + timeout
        while True:
            metadata = admin.list_topics(
                topic=topic, timeout=max(1.0, deadline - time.monotonic())
            )
            found = metadata.topics.get(topic)
            if (
                found is not None
                and found.error is None
                and len(found.partitions) == partitions
                and all(p.leader >= 0 for p in found.partitions.values())
            ):
                return topic
            if time.monotonic() > deadline:
                raise BrokerError(f"topic {topic} did not get leaders within {timeout} s")
            time.sleep(0.05)

    def message_count(self, topic: str) -> int:
        """How many messages ``topic`` holds: the sum of its partitions' high watermarks
        (nothing is compacted or deleted in these tests)."""
        consumer = Consumer(
            self._quiet({**self.client_config(), "group.id": f"count-{uuid.uuid4().hex}"})
        )
        try:
            metadata = consumer.list_topics(topic, timeout=10)
            total = 0
            for partition in metadata.topics[topic].partitions:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=10
                )
                total += high - low
            return total
        finally:
            consumer.close()

    def consume(
        self, topic: str, expected_count: int, timeout: float = 30.0, **overrides: Any
    ) -> list[Message]:
        """Read ``topic`` from the start with a new consumer in a new group (see ``consume``)."""
        return consume(self.client_config(**overrides), topic, expected_count, timeout=timeout)

    @staticmethod
    def _quiet(config: dict[str, Any]) -> dict[str, Any]:
        config.setdefault("logger", _client_log)
        config.setdefault("error_cb", _quiet_error_cb)
        return config

    # -- internals ----------------------------------------------------------------------------

    def _require_running(self) -> subprocess.Popen[bytes]:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            raise BrokerError("the broker is not running")
        return proc

    def _note(self, text: str) -> None:
        """A line of the harness's own in the broker's log."""
        try:
            with self.log_file.open("a") as log:
                log.write(f"=== {time.strftime('%H:%M:%S')} {text} ===\n")
        except OSError:
            pass

    def _forget_process(self) -> None:
        self._proc = None
        self._paused = False
        with _live_lock:
            _live.discard(self)

    def _choose_ports(self) -> None:
        taken: set[int] = set()
        if self._fixed_port is not None:
            if not _port_is_free(self._fixed_port):
                raise BrokerError(f"port {self._fixed_port} on 127.0.0.1 is already in use")
            taken.add(self._fixed_port)
        plaintext = self._fixed_port if self._fixed_port is not None else _free_port(taken)
        taken.add(plaintext)
        sasl_ssl = _free_port(taken)
        taken.add(sasl_ssl)
        controller = _free_port(taken)
        self._ports = {"PLAINTEXT": plaintext, "SASL_SSL": sasl_ssl, "CONTROLLER": controller}

    def _prepare_first_start(self, jars: Path) -> None:
        """Certificates, then ``kafka-storage format`` with the SCRAM user."""
        tls = self._work_dir / "tls"
        if not (tls / "broker.p12").exists():
            shutil.rmtree(tls, ignore_errors=True)
            _make_keystore(tls, self._keystore_password)
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        cluster_id = _random_cluster_id()
        scram = f"{SCRAM_MECHANISM}=[name={self.username},password={self.password}]"
        self._run_java(
            jars,
            "kafka.tools.StorageTool",
            "format",
            "--config",
            str(self.config_file),
            # "=" form: an id may start with "-".
            f"--cluster-id={cluster_id}",
            "--add-scram",
            scram,
        )

    def _write_config(self) -> None:
        plaintext, sasl_ssl = self._ports["PLAINTEXT"], self._ports["SASL_SSL"]
        controller = self._ports["CONTROLLER"]
        tls = self._work_dir / "tls"
        jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        settings = {
            "process.roles": "broker,controller",
            "node.id": str(NODE_ID),
            "controller.quorum.voters": f"{NODE_ID}@127.0.0.1:{controller}",
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{plaintext},SASL_SSL://127.0.0.1:{sasl_ssl},"
                f"CONTROLLER://127.0.0.1:{controller}"
            ),
            # 127.0.0.1, not localhost, which may resolve to ::1 first, where nothing listens.
            "advertised.listeners": (
                f"PLAINTEXT://127.0.0.1:{plaintext},SASL_SSL://127.0.0.1:{sasl_ssl}"
            ),
            "listener.security.protocol.map": (
                "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT"
            ),
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "sasl.enabled.mechanisms": SCRAM_MECHANISM,
            f"listener.name.sasl_ssl.{SCRAM_MECHANISM.lower()}.sasl.jaas.config": jaas,
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": str(tls / "broker.p12"),
            "ssl.keystore.password": self._keystore_password,
            "ssl.key.password": self._keystore_password,
            "ssl.client.auth": "none",
            "log.dirs": str(self.data_dir),
            # One node: every internal topic with one replica.
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "num.partitions": "1",
            "auto.create.topics.enable": "true",
            "group.initial.rebalance.delay.ms": "0",
            # After kill -9 the controller (restarted with the broker) keeps the previous
            # registration until its session times out, and refuses the new one until then:
            # a short session makes a restart after a crash take seconds, not ten.
            "broker.session.timeout.ms": "3000",
            "broker.heartbeat.interval.ms": "500",
            # Small: it runs beside the tests on two cores.
            "num.network.threads": "2",
            "num.io.threads": "2",
            "num.recovery.threads.per.data.dir": "1",
            "background.threads": "2",
            "log.cleaner.threads": "1",
            "log.cleaner.dedupe.buffer.size": str(8 * 1024 * 1024),
        }
        lines = ["# Written by tests/harness/broker.py; rewritten at every start."]
        lines += [f"{key}={value}" for key, value in settings.items()]
        self.config_file.write_text("\n".join(lines) + "\n")

    def _java_command(self, jars: Path, main_class: str, *args: str) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise BrokerError("'java' is not on PATH (Java 17+ is needed for the test broker)")
        return [
            java,
            "-Xms64m",
            f"-Xmx{self._heap}",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG4J2_CONFIG}",
            f"-Dticketland.broker.log={self.log_file}",
            f"-Dkafka.logs.dir={self._work_dir}",
            "-cp",
            f"{jars}/*",
            main_class,
            *args,
        ]

    def _run_java(self, jars: Path, main_class: str, *args: str) -> None:
        command = self._java_command(jars, main_class, *args)
        with self.log_file.open("ab") as log:
            log.write(f"=== {time.strftime('%H:%M:%S')} {main_class} {args[0]} ===\n".encode())
            log.flush()
            result = subprocess.run(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, check=False
            )
        if result.returncode != 0:
            raise BrokerError(
                f"{main_class} failed (exit {result.returncode}); the end of {self.log_file}:\n"
                f"{self.log_tail()}"
            )

    def _launch(self, jars: Path) -> None:
        command = self._java_command(jars, "kafka.Kafka", str(self.config_file))
        with self.log_file.open("ab") as log:
            log.write(f"=== {time.strftime('%H:%M:%S')} starting kafka.Kafka ===\n".encode())
            log.flush()
            self._proc = _spawner.popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=self._work_dir,
                start_new_session=True,
            )
        self._paused = False
        with _live_lock:
            _live.add(self)
        try:
            self._wait_until_ready()
        except BaseException:
            self.kill()
            raise

    def _wait_until_ready(self) -> None:
        proc = self._require_running()
        deadline = time.monotonic() + self._startup_timeout
        admin = self.admin(socket_connection_setup_timeout_ms=2000)
        while True:
            code = proc.poll()
            if code is not None:
                raise BrokerError(
                    f"the broker exited with code {code} while starting; "
                    f"the end of {self.log_file}:\n{self.log_tail()}"
                )
            try:
                metadata = admin.list_topics(timeout=1.0)
                if metadata.brokers:
                    break
            except KafkaException:
                pass
            if time.monotonic() > deadline:
                raise BrokerError(
                    f"the broker did not answer metadata requests within "
                    f"{self._startup_timeout:.0f} s; the end of {self.log_file}:\n"
                    f"{self.log_tail()}"
                )
            time.sleep(0.1)
        self._warm_group_coordinator(admin)

    @staticmethod
    def _warm_group_coordinator(admin: AdminClient) -> None:
        """Look a group up once, so that the broker creates (or loads) __consumer_offsets now:
        without this a new broker's first consumer group waits about 3 s in librdkafka's
        coordinator retries. Best effort: a failure here is not a failed start."""
        futures = admin.describe_consumer_groups(
            [f"warm-up-{uuid.uuid4().hex}"], request_timeout=10
        )
        for future in futures.values():
            try:
                future.result(timeout=15)
            except (KafkaException, TimeoutError) as exc:  # pragma: no cover - best effort
                _log.debug("group coordinator warm-up failed: %s", exc)


def _random_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 chars)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


# ---------------------------------------------------------------------------------------------
# Reading


def consume(
    client_config: Mapping[str, Any],
    topic: str,
    expected_count: int,
    timeout: float = 30.0,
) -> list[Message]:
    """Read ``topic`` from the earliest offset with a NEW consumer in a NEW unique group.

    Returns the messages (without errors) once ``expected_count`` were read or ``timeout``
    seconds passed, whichever is first; the caller asserts on the count.
    """
    config: dict[str, Any] = {
        **client_config,
        "group.id": f"test-consume-{uuid.uuid4().hex}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "enable.partition.eof": False,
    }
    config.setdefault("logger", _client_log)
    config.setdefault("error_cb", _quiet_error_cb)
    consumer = Consumer(config)
    messages: list[Message] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(messages) < expected_count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            message = consumer.poll(min(remaining, 0.5))
            if message is None:
                continue
            error = message.error()
            if error is not None:
                if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    continue  # not yet in the consumer's metadata
                raise KafkaException(error)
            messages.append(message)
    finally:
        consumer.close()
    return messages


# ---------------------------------------------------------------------------------------------
# A broker by hand: python -m tests.harness.broker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.harness.broker",
        description="Run the test suite's Kafka broker in the foreground until Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=None, help="PLAINTEXT port (default: free)")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=REPO_ROOT / ".cache" / "kafka-broker",
        help="work dir, wiped at start (default: .cache/kafka-broker)",
    )
    args = parser.parse_args(argv)

    work_dir: Path = args.work_dir
    shutil.rmtree(work_dir, ignore_errors=True)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    broker = KafkaBroker(work_dir, port=args.port)
    started = time.monotonic()
    try:
        broker.start()
    except BrokerError as exc:
        print(f"broker: {exc}", file=sys.stderr)
        return 1
    print(
        f"Kafka broker up in {time.monotonic() - started:.1f} s (pid {broker.pid})\n"
        f"  PLAINTEXT bootstrap : {broker.bootstrap}\n"
        f"  SASL_SSL bootstrap  : {broker.sasl_bootstrap}  (SCRAM-SHA-512)\n"
        f"  SASL username       : {broker.username}\n"
        f"  SASL password       : {broker.password}\n"
        f"  CA file             : {broker.ca_file}\n"
        f"  log file            : {broker.log_file}\n"
        f'Try: make demo ARGS="--bootstrap-servers {broker.bootstrap}"\n'
        f"Ctrl-C stops the broker.",
        flush=True,
    )
    try:
        while not stop.wait(1.0):
            if not broker.running:
                print(f"broker: the broker exited; see {broker.log_file}", file=sys.stderr)
                return 1
    finally:
        print("stopping the broker ...", flush=True)
        broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
