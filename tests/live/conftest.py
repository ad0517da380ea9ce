"""Live-server fixtures: the real `app.py` in a subprocess, and python-socketio clients.

Every live server gets its own free port and instance folder, and a fresh SQLite file
unless told otherwise: with DATABASE_URL naming a PostgreSQL server (as for the
in-process suite, see tests/conftest.py) each gets a fresh database there instead,
and the cluster tests share one PostgreSQL database and a private Redis between two
servers. The server's output goes to `server.log` in its folder, and is attached to
the report of a test that fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, closing, contextmanager
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
import socketio
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.conftest import POSTGRES, need
from tests.postgres import answers, fresh_database, migrations_server

ROOT = Path(__file__).resolve().parents[2]
SERVERS = pytest.StashKey[list["LiveServer"]]()
START_TIMEOUT = 30.0
WAIT_TIMEOUT = 10.0
ACK_TIMEOUT = 10.0


def wait_until(predicate: Callable[[], Any], timeout: float = WAIT_TIMEOUT, what: str = "") -> Any:
    """Poll `predicate` until it returns something truthy, and return that; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what or predicate}")
        time.sleep(0.02)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """`python app.py` in a subprocess, on one port and one database for its whole life.

    The database is a SQLite file in `directory` unless `database_url` names another.
    """

    def __init__(
        self,
        directory: Path,
        mode: str = "gevent",
        env: dict[str, str] | None = None,
        database_url: str | None = None,
    ):
        self.mode = mode
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.directory = directory
        self.database = directory / "retro.sqlite3"
        self.database_url = database_url or f"sqlite:///{self.database}"
        self.log_path = directory / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = {
            # Keep the caller's PATH and the like, but none of its Retro settings.
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith("RETRO_") and k not in ("SECRET_KEY", "DATABASE_URL")
            },
            "FLASK_APP": "app.py",
            "PYTHONUNBUFFERED": "1",
            # production: the presence upkeep only runs outside RETRO_ENV=testing.
            "RETRO_ENV": "production",
            "SECRET_KEY": "live-test-secret",
            "RETRO_INSTANCE_PATH": str(directory),
            "DATABASE_URL": self.database_url,
            "RETRO_HOST": "127.0.0.1",
            "RETRO_PORT": str(self.port),
            "RETRO_ASYNC_MODE": mode,
            **(env or {}),
        }

    # -- lifecycle ----------------------------------------------------------

    def migrate(self) -> None:
        """Create the schema with `flask db upgrade`."""
        with self.log_path.open("ab") as log:
            log.write(b"$ flask db upgrade\n")
            log.flush()
            result = subprocess.run(
                [sys.executable, "-m", "flask", "db", "upgrade"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=60,
                check=False,
            )
        if result.returncode != 0:
            pytest.fail(f"flask db upgrade failed:\n{self.read_log()}")

    def start(self) -> None:
        """Start `python app.py` and wait until /healthz answers 200."""
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start `python app.py` without waiting for it (see `wait_ready`)."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with self.log_path.open("ab") as log:
            log.write(f"$ python app.py ({self.mode}) on port {self.port}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "app.py"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def wait_ready(self) -> None:
        """Wait until /healthz answers 200; fail if the server exits first."""
        wait_until(self._healthy, START_TIMEOUT, f"{self.url}/healthz")

    def _healthy(self) -> bool:
        """Return whether /healthz says ok; fail at once if the process died."""
        assert self.proc is not None
        if self.proc.poll() is not None:
            pytest.fail(f"the server exited with {self.proc.returncode}:\n{self.read_log()}")
        try:
            response = requests.get(f"{self.url}/healthz", timeout=1)
        except requests.RequestException:
            return False
        return response.status_code == 200 and response.json().get("database") == "ok"

    def kill(self) -> None:
        """Kill the server at once (SIGKILL): no cleanup, no goodbye to the clients."""
        assert self.proc is not None and self.proc.poll() is None, "not running"
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def restart(self) -> None:
        """Start the server again on the same port and database (killing it if needed)."""
        if self.proc is not None and self.proc.poll() is None:
            self.kill()
        self.start()

    def stop(self) -> None:
        """Terminate the server, and kill it if it does not stop in time."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def read_log(self) -> str:
        """Return everything the server and the migration printed."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"

    def query(self, sql: str, **params: Any) -> list[Any]:
        """Run one SQL statement on the server's database (SQLite or PostgreSQL) and commit.

        Returns its rows, if it returns any.
        """
        engine = create_engine(self.database_url, poolclass=NullPool)
        try:
            with engine.begin() as connection:
                result = connection.execute(text(sql), params)
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()

    # -- the JSON API ---------------------------------------------------------

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST JSON to the API and return the JSON answer, failing on an error status."""
        response = requests.post(f"{self.url}{path}", json=payload, timeout=10)
        assert response.status_code == 201, (path, response.status_code, response.text)
        return response.json()


@pytest.fixture
def live_server(request, tmp_path_factory) -> Iterable[Callable[..., LiveServer]]:
    """Return a factory that migrates and starts a live server; all are stopped afterwards.

    `database_url` shares a database between servers (migrated by the first one, or
    already migrated with `migrate=False`); by default each server gets its own. With
    `start=False` the server is migrated but not started.
    """
    servers: list[LiveServer] = []
    request.node.stash[SERVERS] = servers
    databases = ExitStack()

    def make(
        mode: str = "gevent",
        database_url: str | None = None,
        migrate: bool = True,
        start: bool = True,
        **env: str,
    ) -> LiveServer:
        if database_url is None and POSTGRES is not None:
            database_url = databases.enter_context(postgres_database(POSTGRES))
        server = LiveServer(tmp_path_factory.mktemp(f"live-{mode}"), mode, env, database_url)
        servers.append(server)
        if migrate:
            server.migrate()
        if start:
            server.start()
        return server

    with databases:
        yield make
        for server in servers:
            server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the live servers' logs to the report of a failed test."""
    report = yield
    if report.failed:
        for server in item.stash.get(SERVERS, []):
            report.sections.append(
                (f"live server log ({server.mode}, port {server.port})", server.read_log())
            )
    return report


# -- several processes: PostgreSQL, Redis and a load balancer ------------------------


@contextmanager
def postgres_database(server) -> Iterator[str]:
    """Create a fresh database on the PostgreSQL `server`, yield its URL, drop it afterwards."""
    with fresh_database(server, prefix="retro_live") as url:
        yield url.render_as_string(hide_password=False)


@pytest.fixture
def cluster_database() -> Iterator[str]:
    """Return the URL of a fresh PostgreSQL database for servers to share; dropped afterwards.

    On DATABASE_URL's server if it names one, else on RETRO_TEST_POSTGRES_URL's.
    """
    server = POSTGRES or migrations_server()
    need(answers(server), f"no PostgreSQL server answers at {server!r}")
    with postgres_database(server) as url:
        yield url


class RedisServer:
    """A private `redis-server` on a free port, without persistence, to stop and start at will."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start redis-server and wait until it answers PING."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.proc = subprocess.Popen(
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(self.port)),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                *("--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._answers, START_TIMEOUT, f"redis-server on port {self.port}")

    def _answers(self) -> bool:
        """Return whether Redis answers PING; fail at once if the process died."""
        assert self.proc is not None
        if self.proc.poll() is not None:
            pytest.fail(f"redis-server exited with {self.proc.returncode}")
        with closing(redis.Redis(port=self.port, socket_connect_timeout=1)) as client:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

    def stop(self) -> None:
        """Stop redis-server (SIGTERM: it closes every connection and exits)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    """Return a running private Redis, stopped afterwards."""
    need(shutil.which("redis-server") is not None, "redis-server is not installed")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


class Balancer:
    """A TCP load balancer: each new connection goes to the first server, in order, that takes it.

    As in front of a WebSocket-only deployment without sticky sessions: when a server
    dies, its clients' connections break, and their reconnections reach the next one.
    """

    def __init__(self, servers: list[LiveServer]) -> None:
        self.servers = servers
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.closed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            upstream = self._connect()
            if upstream is None:
                client.close()
                continue
            with self.lock:
                self.open.update((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    def _connect(self) -> socket.socket | None:
        """Return a connection to the first server that accepts one."""
        for server in self.servers:
            try:
                return socket.create_connection(("127.0.0.1", server.port), timeout=2)
            except OSError:
                continue
        return None

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        """Copy bytes one way; when either side ends, end both."""
        try:
            source.settimeout(None)
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self.lock:
            self.open.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def close(self) -> None:
        """Stop accepting and cut every connection."""
        self.closed = True
        self.thread.join(timeout=5)
        self.listener.close()
        with self.lock:
            remaining = list(self.open)
        for sock in remaining:
            self._close(sock)


@pytest.fixture
def balancer() -> Iterator[Callable[[list[LiveServer]], Balancer]]:
    """Return a factory of load balancers; all are closed afterwards."""
    made: list[Balancer] = []

    def make(servers: list[LiveServer]) -> Balancer:
        made.append(Balancer(servers))
        return made[-1]

    yield make
    for each in made:
        each.close()


# -- clients ----------------------------------------------------------------------


def normalize(view: dict[str, Any]) -> dict[str, Any]:
    """Return a public room view without what legitimately differs between two sends."""
    view = deepcopy(view)
    view.pop("server_time", None)
    view.pop("committed_at", None)
    view.pop("me", None)
    if isinstance(view.get("timer"), dict):
        view["timer"].pop("remaining", None)
    return view


class Peer:
    """One person's python-socketio client over WebSocket, recording all it receives.

    `server` is a LiveServer or a Balancer in front of several.
    """

    def __init__(
        self, server: LiveServer | Balancer, code: str, token: str, name: str, reconnect: bool
    ):
        self.server, self.code, self.token, self.name = server, code, token, name
        self.member_id: int | None = None
        self.lock = threading.Lock()
        # Everything received, in order: ("snapshot" | "state", payload).
        self.received: list[tuple[str, dict[str, Any]]] = []
        # Every command acknowledged: (event, action id, acknowledgement).
        self.acks: list[tuple[str, str, dict[str, Any]]] = []
        # Every private view sent as `me` (to all of a member's sockets), in order.
        self.private_views: list[dict[str, Any]] = []
        self.connects = 0
        self.sio = socketio.Client(
            reconnection=reconnect,
            reconnection_delay=0.2,
            reconnection_delay_max=0.5,
            randomization_factor=0.1,
            handle_sigint=False,
        )
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("snapshot", self._on_view("snapshot"))
        self.sio.on("state", self._on_view("state"))
        self.sio.on("me", self._on_me)

    def __repr__(self) -> str:
        return f"<Peer {self.name} #{self.member_id}>"

    def _on_connect(self) -> None:
        with self.lock:
            self.connects += 1

    def _on_disconnect(self, reason: str) -> None:
        # python-engineio leaves a websocket that broke under it open; close it, or its
        # socket is garbage-collected open and its ResourceWarning fails the test.
        if reason != self.sio.reason.CLIENT_DISCONNECT and self.sio.eio.ws is not None:
            self.sio.eio.ws.shutdown()

    def _on_view(self, kind: str) -> Callable[[dict[str, Any]], None]:
        def record(data: dict[str, Any]) -> None:
            with self.lock:
                self.received.append((kind, data))
                if kind == "snapshot":
                    self.member_id = data["me"]["member_id"]

        return record

    def _on_me(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.private_views.append(data)

    # -- connection -----------------------------------------------------------

    def connect(self) -> Peer:
        """Open the socket with the member's token and wait for the first snapshot."""
        self.sio.connect(
            self.server.url,
            auth={"room": self.code, "token": self.token},
            transports=["websocket"],
            wait_timeout=10,
        )
        wait_until(lambda: self.snapshots, what=f"{self.name}'s snapshot")
        return self

    @property
    def connected(self) -> bool:
        """Return whether the Socket.IO connection is up."""
        return self.sio.connected

    def reconnected(self, times: int) -> bool:
        """Return whether the client is connected again after `times` reconnections.

        The snapshot can arrive before the namespace counts as connected (the
        server emits it from its connect handler), so both are checked.
        """
        with self.lock:
            connects = self.connects
        return self.connected and connects > times and len(self.snapshots) > times

    def drop(self) -> None:
        """Cut the TCP connection under the client, as a lost Wi-Fi would."""
        self.sio.eio.ws.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Disconnect for good, stopping any reconnection attempts."""
        self.sio.shutdown()

    # -- what was received --------------------------------------------------------

    @property
    def snapshots(self) -> list[dict[str, Any]]:
        """Return every snapshot received, oldest first."""
        with self.lock:
            return [d for k, d in self.received if k == "snapshot"]

    @property
    def states(self) -> list[dict[str, Any]]:
        """Return every `state` broadcast received, oldest first."""
        with self.lock:
            return [d for k, d in self.received if k == "state"]

    @property
    def latest(self) -> dict[str, Any] | None:
        """Return the newest room view received (snapshot or state), as the room page shows.

        Broadcasts from several processes may arrive out of order; the page keeps the
        one with the highest seq (the last received of equals).
        """
        with self.lock:
            views = [view for _, view in self.received]
        return max(reversed(views), key=lambda view: view["seq"]) if views else None

    @property
    def seq(self) -> int:
        """Return the sequence number of the latest view (-1 before any)."""
        latest = self.latest
        return latest["seq"] if latest else -1

    def state_at(self, seq: int) -> dict[str, Any] | None:
        """Return the `state` broadcast with this sequence number, if received."""
        return next((s for s in self.states if s["seq"] == seq), None)

    def assert_seq_increasing(self) -> None:
        """Check that broadcasts strictly increase and a snapshot never goes back."""
        with self.lock:
            seen = [(k, d["seq"]) for k, d in self.received]
        states = [seq for kind, seq in seen if kind == "state"]
        assert states == sorted(set(states)), f"{self}: state seqs {states}"
        everything = [seq for _, seq in seen]
        assert everything == sorted(everything), f"{self}: seqs {seen}"

    def assert_no_gaps(self, since: int = 0) -> None:
        """Check that from each snapshot on, every later change reached this client.

        A snapshot starts a connection; up to the next one, the seqs received (in any
        order, repeats allowed) must run without a hole from the snapshot's seq to the
        highest. Only views with seq `since` or later are checked.
        """
        with self.lock:
            seen = [(kind, data["seq"]) for kind, data in self.received]
        connections: list[list[int]] = []
        for kind, seq in seen:
            if kind == "snapshot":
                connections.append([seq])
            elif connections:
                connections[-1].append(seq)
        assert connections, f"{self}: no snapshot"
        for seqs in connections:
            start = max(seqs[0], since)
            got = {seq for seq in seqs if seq >= start}
            missing = sorted(set(range(start, max(seqs) + 1)) - got)
            assert not missing, f"{self}: missed seqs {missing} of {seen}"

    # -- commands -------------------------------------------------------------

    def call(self, event: str, action_id: str | None = None, **payload: Any) -> dict[str, Any]:
        """Send a command with a fresh (or given) action id and return the acknowledgement."""
        payload["action_id"] = action_id or uuid.uuid4().hex
        ack = self.sio.call(event, payload, timeout=ACK_TIMEOUT)
        with self.lock:
            self.acks.append((event, payload["action_id"], ack))
        return ack

    def do(self, event: str, **payload: Any) -> int:
        """Send a command that must succeed; return its sequence number."""
        ack = self.call(event, **payload)
        assert ack["ok"], f"{self} {event} {payload}: {ack}"
        return ack["seq"]


@pytest.fixture
def peers(live_server) -> Iterable[Callable[..., Peer]]:
    """Return a factory of connected peers; every one is disconnected afterwards."""
    made: list[Peer] = []

    def make(
        server: LiveServer | Balancer, code: str, token: str, name: str, reconnect: bool = False
    ):
        peer = Peer(server, code, token, name, reconnect)
        made.append(peer)
        return peer.connect()

    yield make
    for peer in made:
        peer.close()
