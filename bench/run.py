"""`make bench`: load Retro and two bare baselines with the same generator, and report.

    python -m bench.run                      # the full plan (about 7 minutes)
    python -m bench.run --quick              # shorter windows, fewer sizes (about 5)
    python -m bench.run --only retro-gevent-sqlite --sizes 200,1000 --profile always
    python -m bench.run --wait-quiet 300     # wait for other work to stop before each run

Every server runs on 127.0.0.1 on a free port, started and stopped here. Results go
to bench/results/<date>.md, latest.md, latency.svg and <date>.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib import request as urlrequest

from bench import loadgen, report

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
TICK = os.sysconf("SC_CLK_TCK")
ROOM_SIZE = 50
IDLE_SECONDS = 4.0
TARGET = (report.TARGET_CONFIG, report.TARGET_SIZE)
AGENDA = [
    {
        "kind": "checkin",
        "prompt": f"Check-in {i + 1}: how are you arriving?",
        "mode": "simultaneous",
    }
    for i in range(12)
]


@dataclass
class Config:
    """A server setup to measure."""

    name: str
    kind: str  # retro, bare, node
    label: str
    mode: str = "gevent"
    database: str = "sqlite"
    processes: int = 1


CONFIGS = {
    c.name: c
    for c in (
        Config("retro-gevent-sqlite", "retro", "Retro, gevent, SQLite, 1 process"),
        Config("retro-eventlet-sqlite", "retro", "Retro, eventlet, SQLite, 1 process", "eventlet"),
        Config(
            "retro-threading-sqlite", "retro", "Retro, threading, SQLite, 1 process", "threading"
        ),
        Config(
            "retro-gevent-pg-redis-2p",
            "retro",
            "Retro, gevent, PostgreSQL + Redis, 2 processes",
            database="postgresql",
            processes=2,
        ),
        Config("bare-python-socketio", "bare", "bare python-socketio (gevent), floor"),
        Config("node-socketio", "node", "Node socket.io"),
    )
}
# (config, participants, seconds between a member's answers or None for --think), in order.
# The baselines run right after the target row; the slower-paced target row shows the
# latency when the server is not saturated.
PLAN: list[tuple[str, int, float | None]] = [
    ("retro-gevent-sqlite", 200, None),
    ("retro-gevent-sqlite", 500, None),
    ("retro-gevent-sqlite", 1000, None),
    ("bare-python-socketio", 1000, None),
    ("node-socketio", 1000, None),
    ("retro-gevent-sqlite", 1000, 15.0),
    ("retro-eventlet-sqlite", 1000, None),
    ("retro-threading-sqlite", 500, None),
    ("retro-gevent-pg-redis-2p", 1000, None),
]
QUICK_PLAN: list[tuple[str, int, float | None]] = [
    ("retro-gevent-sqlite", 200, None),
    ("retro-gevent-sqlite", 1000, None),
    ("bare-python-socketio", 1000, None),
    ("node-socketio", 1000, None),
    ("retro-eventlet-sqlite", 500, None),
    ("retro-threading-sqlite", 200, None),
    ("retro-gevent-pg-redis-2p", 500, None),
]


# -- processes we start -------------------------------------------------------------


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1 (from the ephemeral range: no unsafe ports)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """Return user + system CPU seconds of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy(seconds: float = 1.0) -> float:
    """Return the share of all cores that was busy over `seconds`, from /proc/stat."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return idle, sum(values[:8])

    idle0, total0 = sample()
    time.sleep(seconds)
    idle1, total1 = sample()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def wait_until_quiet(limit: float, threshold: float = 0.25) -> float:
    """Wait (up to `limit` seconds) until the machine is mostly idle; return how busy it is."""
    deadline = time.monotonic() + limit
    busy = machine_busy()
    while busy > threshold and time.monotonic() < deadline:
        print(f"  the machine is {busy:.0%} busy; waiting for it to quieten ...", flush=True)
        time.sleep(10)
        busy = machine_busy(2.0)
    return busy


def rss_kib(pid: int) -> int:
    """Return a process's resident set size in KiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Process:
    """A server (or Redis) we started: its log, its pid, and a clean stop."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log_path = name, argv, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - our own argv
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError(f"{self.name} was not started")
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None or not self.alive():
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def wait_for(check, what: str, timeout: float = 60.0, proc: Process | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{what}: the process exited\n{proc.tail()}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http(method: str, url: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urlrequest.Request(  # noqa: S310 - a loopback URL we built
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urlrequest.urlopen(req, timeout=30) as response:  # noqa: S310
        return json.loads(response.read() or b"{}")


# -- one deployment of a configuration ------------------------------------------------


class Deployment:
    """The servers of one configuration, with what they need (database, Redis)."""

    def __init__(self, config: Config, workdir: Path, admin_url: str) -> None:
        self.config = config
        self.workdir = workdir
        self.admin_url = admin_url
        self.servers: list[Process] = []
        self.helpers: list[Process] = []
        self.urls: list[str] = []
        self.database: str | None = None
        self.aux_pids: list[int] = []

    def retro_env(self, port: int, extra: dict[str, str]) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("RETRO_") and k not in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL")
        }
        env.update(
            FLASK_APP="app.py",
            PYTHONUNBUFFERED="1",
            RETRO_ENV="production",
            SECRET_KEY="bench-secret-key",  # noqa: S106 - a throwaway server
            RETRO_INSTANCE_PATH=str(self.workdir),
            RETRO_HOST="127.0.0.1",
            RETRO_PORT=str(port),
            RETRO_ASYNC_MODE=self.config.mode,
            RETRO_WEBSOCKET_ONLY="1",
            RETRO_RATELIMIT="0",
            RETRO_MAX_ROOM_MEMBERS=str(max(200, ROOM_SIZE)),
        )
        env.update(extra)
        return env

    def start(self) -> None:
        kind = self.config.kind
        if kind == "bare":
            port = free_port()
            self.launch(
                "bare",
                [PYTHON, "-m", "bench.baseline_socketio", str(port)],
                dict(os.environ),
                port,
            )
        elif kind == "node":
            port = free_port()
            self.launch("node", ["node", "bench/node/server.js", str(port)], dict(os.environ), port)
        else:
            self.start_retro()

    def launch(self, name: str, argv: list[str], env: dict[str, str], port: int) -> Process:
        proc = Process(name, argv, env, self.workdir / f"{name}-{port}.log")
        proc.start()
        self.servers.append(proc)
        self.urls.append(f"http://127.0.0.1:{port}")
        wait_for(lambda: port_open(port), f"{name} on port {port}", proc=proc)
        return proc

    def start_retro(self) -> None:
        extra: dict[str, str] = {}
        if self.config.database == "postgresql":
            self.database = f"retro_bench_{os.getpid()}"
            self.admin(f'DROP DATABASE IF EXISTS "{self.database}"')
            self.admin(f'CREATE DATABASE "{self.database}"')
            base = self.admin_url.rsplit("/", 1)[0]
            extra["DATABASE_URL"] = (
                base.replace("postgresql://", "postgresql+psycopg://", 1) + "/" + self.database
            )
            # A Redis of our own: pub/sub channels are shared by every database of a
            # Redis server, and other servers may be using the usual one.
            redis_port = free_port()
            redis = Process(
                "redis",
                [
                    "redis-server",
                    "--port",
                    str(redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                dict(os.environ),
                self.workdir / "redis.log",
            )
            redis.start()
            self.helpers.append(redis)
            wait_for(lambda: port_open(redis_port), "redis", proc=redis)
            self.aux_pids.append(redis.pid)
            extra["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        else:
            extra["DATABASE_URL"] = f"sqlite:///{self.workdir / 'retro.sqlite3'}"
        env = self.retro_env(0, extra)
        subprocess.run(  # noqa: S603
            [PYTHON, "-m", "flask", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(self.config.processes):
            port = free_port()
            proc = self.launch("retro", [PYTHON, "app.py"], self.retro_env(port, extra), port)
            url = self.urls[-1]
            wait_for(
                lambda url=url: http("GET", f"{url}/healthz").get("database") == "ok",
                "healthz",
                proc=proc,
            )

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def postgres_backends(self) -> list[int]:
        """Return the pids of the PostgreSQL backends serving our database."""
        if self.database is None:
            return []
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,)
            ).fetchall()
        return [r[0] for r in rows if Path(f"/proc/{r[0]}").exists()]

    def pids(self) -> list[int]:
        return [p.pid for p in self.servers]

    def stop(self) -> None:
        for proc in self.servers + self.helpers:
            proc.stop()
        if self.database is not None:
            try:
                self.admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            except Exception as error:  # noqa: BLE001
                print(f"  could not drop {self.database}: {error}", flush=True)


def setup_rooms(dep: Deployment, rooms: int) -> list[list[tuple[str, str, str]]]:
    """Return per room [(url, code, token)], the facilitator first."""
    urls = dep.urls
    if dep.config.kind != "retro":
        return [
            [(urls[j % len(urls)], f"room-{r}", f"token-{r}-{j}") for j in range(ROOM_SIZE)]
            for r in range(rooms)
        ]
    api = urls[0]
    team = http("POST", f"{api}/api/teams", {"name": "Bench team"})

    def make_room(r: int) -> list[tuple[str, str, str]]:
        created = http(
            "POST",
            f"{api}/api/teams/{team['key']}/rooms",
            {"facilitator_name": f"Facilitator {r}", "title": f"Bench room {r}", "agenda": AGENDA},
        )
        code = created["code"]
        people = [(urls[0], code, created["token"])]
        for j in range(1, ROOM_SIZE):
            joined = http(
                "POST", f"{api}/api/rooms/{code}/members", {"display_name": f"Member {r}.{j}"}
            )
            # A room's members are spread over the server processes.
            people.append((urls[j % len(urls)], code, joined["token"]))
        return people

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(make_room, range(rooms)))


# -- one measured run -------------------------------------------------------------------


@dataclass
class Run:
    """What one (configuration, participants) run measured."""

    config: str
    label: str
    participants: int
    rooms: int
    workers: int
    window: float
    think: float
    connected: int = 0
    connect_seconds: float = 0.0
    commands: int = 0
    fanouts: int = 0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    max: float = 0.0
    state_delivered: int = 0
    delivered: int = 0
    state_bytes: float = 0.0
    gaps: int = 0
    incomplete: int = 0
    out_of_order: int = 0
    duplicates: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    server_cpu: float = 0.0
    # Share of a core the server(s) used with everyone connected and idle.
    idle_cpu: float = 0.0
    aux_cpu: float = 0.0
    generator_cpu: float = 0.0
    measured_seconds: float = 0.0
    idle_rss_kib: int = 0
    loaded_rss_kib: int = 0
    ack_p50: float = 0.0
    ack_p99: float = 0.0
    # Share of both cores busy (with other processes) just before the run.
    busy_before: float = 0.0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    failure: str | None = None
    profile: str | None = None
    setup_seconds: float = 0.0
    total_seconds: float = 0.0
    # Run at the plan's usual pace (--think), not a slower one.
    primary: bool = True
    # The first error lines the server(s) logged, when there were errors.
    server_errors: list[str] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def cpu_us_per_message(self) -> float:
        return self.server_cpu / self.delivered * 1e6 if self.delivered else 0.0

    @property
    def rss_per_participant_kib(self) -> float:
        if not self.connected:
            return 0.0
        return (self.loaded_rss_kib - self.idle_rss_kib) / self.connected

    @property
    def connect_rate(self) -> float:
        return self.connected / self.connect_seconds if self.connect_seconds else 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def measure(
    config: Config,
    participants: int,
    args: argparse.Namespace,
    profile: bool,
    think: float | None = None,
) -> Run:
    """Start the servers, connect everyone, run the ritual for the window, collect."""
    rooms = participants // ROOM_SIZE
    think = think or args.think
    label = config.label if think == args.think else f"{config.label}, an answer every {think:g} s"
    run = Run(
        config=config.name,
        label=label,
        participants=rooms * ROOM_SIZE,
        rooms=rooms,
        workers=args.workers,
        window=args.window,
        think=think,
        primary=think == args.think,
    )
    run.busy_before = wait_until_quiet(args.wait_quiet)
    run.load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{config.name}-"))
    dep = Deployment(config, workdir, args.postgres)
    workers: list[tuple[Any, Any]] = []
    spies: list[subprocess.Popen[bytes]] = []
    began = time.time()
    try:
        dep.start()
        people = setup_rooms(dep, rooms)
        run.setup_seconds = time.time() - began
        time.sleep(1.0)
        pids = dep.pids()
        run.idle_rss_kib = sum(rss_kib(p) for p in pids)

        ctx = multiprocessing.get_context("fork")
        shares: list[list[loadgen.Participant]] = [[] for _ in range(args.workers)]
        i = 0
        for r, members in enumerate(people):
            for j, (url, code, token) in enumerate(members):
                shares[i % args.workers].append(loadgen.Participant(r, url, code, token, j == 0))
                i += 1
        params = loadgen.Params(think=think, step_seconds=args.step_seconds)
        for w, share in enumerate(shares):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=loadgen.main, args=(child, share, params, 1000 + w))
            proc.start()
            workers.append((proc, parent))

        summaries = [receive(conn, "connected", 180) for _, conn in workers]
        run.connected = sum(s["connected"] for s in summaries)
        run.connect_seconds = max(s["finished"] for s in summaries) - min(
            s["started"] for s in summaries
        )
        connect_errors = {}
        for s in summaries:
            for k, v in s["errors"].items():
                connect_errors[k] = connect_errors.get(k, 0) + v
        # Everyone is connected and nobody acts: what the open sockets cost by themselves.
        time.sleep(1.0)
        idle0 = {p: cpu_seconds(p) for p in pids}
        time.sleep(IDLE_SECONDS)
        run.idle_cpu = sum(cpu_seconds(p) - idle0[p] for p in pids) / IDLE_SECONDS

        t_start = time.time() + 1.0
        t_end = t_start + args.window
        t_stop = t_end + args.drain
        for _, conn in workers:
            conn.send(("go", t_start, t_end, t_stop))
        if profile:
            spies = start_profilers(pids, args.window, workdir)
        sleep_until(t_start)
        aux = dep.postgres_backends() + dep.aux_pids
        cpu0 = {p: cpu_seconds(p) for p in pids}
        aux0 = {p: cpu_seconds(p) for p in aux}
        gen0 = {proc.pid: cpu_seconds(proc.pid) for proc, _ in workers}
        m0 = time.time()
        sleep_until(t_end)
        # The connections are all open now: the loaded RSS.
        run.loaded_rss_kib = sum(rss_kib(p) for p in pids)
        sleep_until(t_stop)
        run.server_cpu = sum(cpu_seconds(p) - cpu0[p] for p in pids)
        run.aux_cpu = sum(cpu_seconds(p) - aux0[p] for p in aux if Path(f"/proc/{p}").exists())
        run.generator_cpu = sum(cpu_seconds(p) - gen0[p] for p in gen0)
        run.measured_seconds = time.time() - m0

        results = [receive(conn, "done", loadgen.QUIET_LIMIT + 30) for _, conn in workers]
        merge(run, results, t_start, t_end)
        for k, v in connect_errors.items():
            run.errors[f"at connect: {k}"] = run.errors.get(f"at connect: {k}", 0) + v
        if profile:
            run.profile = finish_profilers(spies, workdir)
    except Exception as error:  # noqa: BLE001 - a failed configuration is reported, not fatal
        run.failure = f"{type(error).__name__}: {error}"
        for proc in dep.servers:
            if not proc.alive():
                run.failure += f"\n{proc.name} log:\n{proc.tail()}"
    finally:
        for spy in spies:
            if spy.poll() is None:
                spy.terminate()
        dep.stop()
        for _, conn in workers:
            try:
                conn.send(("exit",))
            except OSError:
                pass
        for proc, _ in workers:
            proc.join(timeout=15)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
        if run.errors or run.failure:
            run.server_errors = logged_errors(dep.servers)
        run.load_after = os.getloadavg()
        run.total_seconds = time.time() - began
        if run.failure is None and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"  logs kept in {workdir}", flush=True)
    return run


def logged_errors(servers: list[Process], limit: int = 12) -> list[str]:
    """Return the first lines around errors in the servers' logs (tracebacks, ERROR)."""
    found: list[str] = []
    for proc in servers:
        try:
            lines = proc.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            continue
        for i, line in enumerate(lines):
            if "Traceback" in line or "ERROR" in line or "Error:" in line:
                # The exception is the last line of a traceback block.
                j = i
                while j + 1 < len(lines) and lines[j + 1].startswith((" ", "\t")):
                    j += 1
                tail = lines[j + 1] if j + 1 < len(lines) and "Traceback" in line else ""
                found.append(f"{proc.name}: {line.strip()[:200]}")
                if tail:
                    found.append(f"{proc.name}:   {tail.strip()[:200]}")
                if len(found) >= limit:
                    return found
    return found


def command_output(*argv: str) -> str:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    except OSError:
        return "?"
    return result.stdout.strip()


def receive(conn: Any, expected: str, timeout: float) -> Any:
    if not conn.poll(timeout):
        raise RuntimeError(f"a generator worker sent no {expected!r} within {timeout:.0f} s")
    message = conn.recv()
    if message[0] != expected:
        raise RuntimeError(f"a generator worker sent {message[0]!r}, not {expected!r}")
    return message[1]


def sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)


def merge(run: Run, results: list[dict[str, Any]], t_start: float, t_end: float) -> None:
    """Combine the workers' receipts: fan-out latency, gaps, counts."""
    fanout: dict[tuple[int, int], list[float]] = {}
    for res in results:
        for key, (committed, last, count, exact) in res["fanout"].items():
            rec = fanout.get(key)
            if rec is None:
                fanout[key] = [committed, last, count, exact]
            else:
                if exact and not rec[3]:
                    rec[0], rec[3] = committed, True
                rec[1] = max(rec[1], last)
                rec[2] += count
        run.commands += res["commands"]
        run.out_of_order += res["out_of_order"]
        run.duplicates += res["duplicates"]
        for k, v in res["errors"].items():
            run.errors[k] = run.errors.get(k, 0) + v
        for k, v in res["refused"].items():
            run.refused[k] = run.refused.get(k, 0) + v
        run.delivered += sum(res["delivered"].values())
        run.state_delivered += res["delivered"].get("state", 0) + res["delivered"].get(
            "snapshot", 0
        )
        run.state_bytes += res["state_bytes"]
    if run.state_delivered:
        run.state_bytes /= run.state_delivered
    acks = [x for res in results for x in res["ack_latency"]]
    run.ack_p50 = percentile(acks, 50) * 1000
    run.ack_p99 = percentile(acks, 99) * 1000
    # Every client should have every seq of its room from its snapshot on.
    clients = [c for res in results for c in res["clients"]]
    final: dict[int, int] = {}
    for room, _, _, top in clients:
        final[room] = max(final.get(room, 0), top)
    members: dict[int, int] = {}
    for room, first, seen, _ in clients:
        run.gaps += (final[room] - first + 1) - seen
        members[room] = members.get(room, 0) + 1
    latencies = []
    for (room, _), (committed, last, count, _exact) in fanout.items():
        if t_start <= committed <= t_end:
            latencies.append((last - committed) * 1000)
            if count < members.get(room, 0):
                run.incomplete += 1
    run.fanouts = len(latencies)
    run.p50 = percentile(latencies, 50)
    run.p95 = percentile(latencies, 95)
    run.p99 = percentile(latencies, 99)
    run.max = max(latencies, default=0.0)


# -- profiling ---------------------------------------------------------------------------


def start_profilers(
    pids: list[int], seconds: float, workdir: Path
) -> list[subprocess.Popen[bytes]]:
    """Sample the server with py-spy for the window: a flame graph and raw stacks."""
    spy = shutil.which("py-spy", path=str(Path(PYTHON).parent)) or shutil.which("py-spy")
    if spy is None:
        print("  py-spy not found; no profile", flush=True)
        return []
    RESULTS.mkdir(parents=True, exist_ok=True)
    common = ["--pid", str(pids[0]), "--duration", str(int(seconds)), "--nonblocking"]
    log = (workdir / "py-spy.log").open("ab")
    return [
        subprocess.Popen(  # noqa: S603
            [spy, "record", *common, "-o", str(RESULTS / "profile.svg")],
            stdout=log,
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(  # noqa: S603
            [spy, "record", *common, "--format", "raw", "-o", str(workdir / "profile.txt")],
            stdout=log,
            stderr=subprocess.STDOUT,
        ),
    ]


def finish_profilers(spies: list[subprocess.Popen[bytes]], workdir: Path) -> str | None:
    for spy in spies:
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.terminate()
    raw = workdir / "profile.txt"
    if not raw.exists():
        return None
    return report.profile_summary(raw.read_text())


# -- the whole bench -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short windows, fewer sizes")
    parser.add_argument("--only", action="append", help="run only this configuration")
    parser.add_argument("--sizes", help="participants, comma-separated (with --only)")
    parser.add_argument("--window", type=float, help="measured seconds per run (default 20)")
    parser.add_argument("--drain", type=float, default=3.0)
    parser.add_argument("--think", type=float, default=5.0, help="mean seconds between answers")
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="generator processes")
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="py-spy the target configuration in an extra run (auto: when a target is missed)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="an admin URL of the PostgreSQL server that gets a scratch database",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each run, wait up to this long for the machine to be under 25%% busy",
    )
    parser.add_argument("--keep", action="store_true", help="keep the servers' logs")
    parser.add_argument("--no-write", action="store_true", help="print, write no results")
    args = parser.parse_args(argv)
    if args.window is None:
        args.window = 12.0 if args.quick else 20.0

    plan = QUICK_PLAN if args.quick else PLAN
    if args.only:
        sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [1000]
        plan = [(name, size, None) for name in args.only for size in sizes]
    unknown = [name for name, _, _ in plan if name not in CONFIGS]
    if unknown:
        parser.error(f"unknown configuration(s): {', '.join(unknown)}; know {', '.join(CONFIGS)}")

    started = time.time()
    uptime = command_output("uptime")
    print(f"bench: {len(plan)} runs of {args.window:.0f} s; {uptime}", flush=True)
    runs: list[Run] = []
    for name, size, think in plan:
        pace = f", an answer every {think:g} s" if think else ""
        print(f"- {name} with {size} participants{pace} ...", flush=True)
        primary = (name, size) == TARGET and not think
        run = measure(
            CONFIGS[name],
            size,
            args,
            profile=args.profile == "always" and (primary or bool(args.only)),
            think=think,
        )
        runs.append(run)
        print("  " + report.one_line(run), flush=True)

    target = next((r for r in runs if (r.config, r.participants) == TARGET and r.primary), None)
    floor = next((r for r in runs if r.config == "bare-python-socketio"), None)
    missed = target is not None and report.missed(target, floor)
    if args.profile == "auto" and missed and target is not None:
        print(f"- profiling {TARGET[0]} with {TARGET[1]} participants (target missed) ...")
        profiled = measure(CONFIGS[TARGET[0]], TARGET[1], args, profile=True)
        target.profile = profiled.profile
        print("  " + report.one_line(profiled) + " (under py-spy)", flush=True)

    meta = {
        "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "uptime_before": uptime,
        "uptime_after": command_output("uptime"),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "node": command_output("node", "--version"),
        "seconds": round(time.time() - started),
        "args": {k: v for k, v in vars(args).items() if k != "postgres"},
    }
    text = report.markdown(runs, meta)
    print(text)
    if not args.no_write:
        report.write(runs, meta, text, [asdict(r) for r in runs], RESULTS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
