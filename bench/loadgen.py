"""One load-generator worker: many Socket.IO clients on one asyncio loop, over raw WebSockets.

The clients speak Engine.IO 4 / Socket.IO 5 directly on an aiohttp WebSocket
(`42[...]` events, `43<id>[...]` acks, `2`/`3` pings) on uvloop, and parse with
orjson: a packet costs a JSON parse and a few dict lookups, so that a few worker
processes drive a thousand participants without becoming the bottleneck (the
bench reports the generator's own CPU next to the server's).

The parent (bench/run.py) talks to each worker over a Pipe:
    worker -> ("connected", summary)       once every participant has its snapshot
    parent -> ("go", t_start, t_end, t_stop)
    worker -> ("done", results)             at t_stop
    parent -> ("exit",)
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

try:
    import orjson

    loads = orjson.loads

    def dumps(value: Any) -> str:
        return orjson.dumps(value).decode()

except ImportError:  # pragma: no cover - orjson is in bench/requirements.txt
    loads = json.loads

    def dumps(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))


# After the window: how long the sockets must be silent, and the longest wait for that.
QUIET, QUIET_LIMIT = 1.0, 60.0
CONNECT_TIMEOUT = 30.0
# Refusals that a correct client meets in a live room: a member answered for the
# step that the facilitator had just moved on from.
EXPECTED_REFUSALS = {"wrong_step"}
WORDS = (
    "sunny calm tired curious focused busy rested foggy hopeful stormy bright quiet ready "
    "scattered grateful energised slow steady"
).split()


@dataclass
class Participant:
    """Who one client is: a room (by index), a server URL, credentials and a role."""

    room: int
    url: str
    code: str
    token: str
    facilitator: bool


@dataclass
class Params:
    """How the ritual runs: seconds between a member's answers, and per step."""

    think: float = 5.0
    step_seconds: float = 10.0
    reveal_at: float = 0.7
    steps: int = 12
    connect_concurrency: int = 25


@dataclass
class Counters:
    """What one worker saw, summed over its clients."""

    errors: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    commands: int = 0
    acked: int = 0
    # Messages delivered to the clients between t_start and t_stop, by kind.
    delivered: dict[str, int] = field(default_factory=dict)
    state_bytes: int = 0
    out_of_order: int = 0
    duplicates: int = 0
    ack_latency: list[float] = field(default_factory=list)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


class Worker:
    """Runs the clients of one process and gathers what they received."""

    def __init__(self, participants: list[Participant], params: Params, seed: int) -> None:
        self.participants = participants
        self.params = params
        # Seeded, so that every configuration gets the same script.
        self.random = random.Random(seed)  # noqa: S311 - not for secrets
        self.counters = Counters()
        # (room, seq) -> [committed_at, last receipt, receipts, committed_at was in the view]
        self.fanout: dict[tuple[int, int], list[float]] = {}
        self.clients: list[Client] = []
        self.window = (float("inf"), float("inf"))
        self.t_end = float("inf")
        self.closing = False
        self.last_receipt = 0.0

    def in_window(self, now: float) -> bool:
        return self.window[0] <= now <= self.window[1]

    def count(self, kind: str, size: int = 0) -> None:
        delivered = self.counters.delivered
        delivered[kind] = delivered.get(kind, 0) + 1
        if kind in ("state", "snapshot"):
            self.counters.state_bytes += size

    async def connect_all(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        """Connect every participant (a few at a time); return when all have a snapshot."""
        gate = asyncio.Semaphore(self.params.connect_concurrency)
        self.clients = [Client(self, i, p) for i, p in enumerate(self.participants)]
        started = time.time()

        async def one(client: Client) -> None:
            async with gate:
                await client.connect(session)

        await asyncio.gather(*(one(c) for c in self.clients))
        return {
            "started": started,
            "finished": time.time(),
            "connected": sum(1 for c in self.clients if c.ready.is_set()),
            "errors": dict(self.counters.errors),
        }

    def results(self) -> dict[str, Any]:
        """Return everything the parent merges: counters, per-seq receipts, per-client seqs."""
        c = self.counters
        return {
            "errors": c.errors,
            "refused": c.refused,
            "commands": c.commands,
            "acked": c.acked,
            "delivered": c.delivered,
            "state_bytes": c.state_bytes,
            "out_of_order": c.out_of_order,
            "duplicates": c.duplicates,
            "ack_latency": c.ack_latency,
            "fanout": self.fanout,
            "clients": [
                (
                    cl.p.room,
                    cl.first_seq,
                    len([s for s in cl.seen if s >= cl.first_seq]),
                    cl.max_seq,
                )
                for cl in self.clients
                if cl.first_seq is not None
            ],
        }


class Client:
    """One participant's socket: a reader loop, and the ritual script it plays."""

    def __init__(self, worker: Worker, index: int, participant: Participant) -> None:
        self.worker = worker
        self.index = index
        self.p = participant
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.ready = asyncio.Event()
        self.namespace_ok = False
        self.first_seq: int | None = None
        self.max_seq = 0
        self.seen: set[int] = set()
        self.status = "lobby"
        self.step_index = 0
        self.revealed = False
        self.next_ack = 0
        self.next_action = 0
        self.pending: dict[int, tuple[str, float]] = {}
        self.reader: asyncio.Task[None] | None = None

    # -- connection ----------------------------------------------------------

    async def connect(self, session: aiohttp.ClientSession) -> None:
        url = self.p.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        try:
            self.ws = await session.ws_connect(url, max_msg_size=0, compress=0, autoping=True)
            opening = await self.ws.receive_str(timeout=CONNECT_TIMEOUT)
            if not opening.startswith("0"):
                raise RuntimeError(f"unexpected opening {opening[:40]!r}")
            await self.ws.send_str("40" + dumps({"room": self.p.code, "token": self.p.token}))
            self.reader = asyncio.create_task(self.read())
            await asyncio.wait_for(self.ready.wait(), CONNECT_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - every failure is counted, none is fatal
            self.worker.counters.error(f"connect: {type(error).__name__}")

    async def read(self) -> None:
        """Handle every packet until the socket closes."""
        ws = self.ws
        if ws is None:
            return
        try:
            while True:
                msg = await ws.receive()
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self.packet(msg.data, time.time())
                elif msg.type in (
                    aiohttp.WSMsgType.CLOSE,
                    aiohttp.WSMsgType.CLOSED,
                    aiohttp.WSMsgType.CLOSING,
                    aiohttp.WSMsgType.ERROR,
                ):
                    break
        except Exception as error:  # noqa: BLE001
            if not self.worker.closing:
                self.worker.counters.error(f"read: {type(error).__name__}")
            return
        if not self.worker.closing:
            self.worker.counters.error("disconnected")

    def packet(self, data: str, now: float) -> None:
        self.worker.last_receipt = now
        kind = data[0]
        if kind == "4":
            sub = data[1]
            if sub == "2":
                self.event(data, now)
            elif sub == "3":
                self.ack(data, now)
            elif sub == "0":
                self.namespace_ok = True
                self.check_ready()
            elif sub == "4":
                self.worker.counters.error("connect_error")
                self.ready.set()
        elif kind == "2":
            asyncio.ensure_future(self.pong())
        elif kind == "1":
            self.worker.counters.error("engineio_close")

    async def pong(self) -> None:
        """Answer the server's Engine.IO ping (a socket closing meanwhile is counted elsewhere)."""
        try:
            if self.ws is not None and not self.ws.closed:
                await self.ws.send_str("3")
        except (aiohttp.ClientError, ConnectionError):
            pass

    def check_ready(self) -> None:
        if self.namespace_ok and self.first_seq is not None:
            self.ready.set()

    def event(self, data: str, now: float) -> None:
        name, payload = loads(data[2:])
        worker = self.worker
        if name == "state" or name == "snapshot":
            if worker.in_window(now):
                worker.count(name, len(data))
            self.view(payload, now, snapshot=name == "snapshot")
        elif name == "me":
            if worker.in_window(now):
                worker.count("me")
        else:
            worker.counters.error(f"unexpected event {name}")

    def view(self, view: dict[str, Any], now: float, snapshot: bool) -> None:
        seq = view["seq"]
        counters = self.worker.counters
        if snapshot and self.first_seq is None:
            self.first_seq = seq
            self.check_ready()
        if seq in self.seen:
            counters.duplicates += 1
        elif seq < self.max_seq:
            counters.out_of_order += 1
        self.seen.add(seq)
        key = (self.p.room, seq)
        record = self.worker.fanout.get(key)
        committed = view.get("committed_at")
        if record is None:
            # A view that no change produced (a resend of the latest state) has no
            # committed_at; its server_time stands in until the real one arrives.
            self.worker.fanout[key] = [committed or view["server_time"], now, 1, bool(committed)]
        else:
            if committed and not record[3]:
                record[0], record[3] = committed, True
            if now > record[1]:
                record[1] = now
            record[2] += 1
        if seq >= self.max_seq:
            self.max_seq = seq
            room = view["room"]
            self.status = room["status"]
            self.step_index = room["step_index"]
            step = view.get("step")
            self.revealed = bool(step and step.get("revealed"))

    def ack(self, data: str, now: float) -> None:
        i = 2
        while data[i].isdigit():
            i += 1
        ack_id = int(data[2:i])
        sent = self.pending.pop(ack_id, None)
        worker = self.worker
        if sent is None:
            worker.counters.error("unknown ack")
            return
        if worker.in_window(now):
            worker.count("ack")
        worker.counters.acked += 1
        worker.counters.ack_latency.append(now - sent[1])
        answer = loads(data[i:])[0]
        if not answer.get("ok"):
            code = answer.get("error", {}).get("code", "?")
            refused = worker.counters.refused
            refused[code] = refused.get(code, 0) + 1
            if code not in EXPECTED_REFUSALS:
                worker.counters.error(f"refused {sent[0]}: {code}")

    async def send(self, event: str, payload: dict[str, Any]) -> None:
        """Send one command with a fresh action id and an ack id."""
        if self.ws is None or self.ws.closed:
            return
        self.next_ack += 1
        self.next_action += 1
        payload = {**payload, "action_id": f"b{self.p.room}-{self.index}-{self.next_action}"}
        self.pending[self.next_ack] = (event, time.time())
        self.worker.counters.commands += 1
        try:
            await self.ws.send_str(f"42{self.next_ack}" + dumps([event, payload]))
        except (aiohttp.ClientError, ConnectionError):
            self.worker.counters.error("send failed")

    # -- the ritual ------------------------------------------------------------

    async def facilitate(self, t_start: float, t_end: float) -> None:
        """Start the room, then reveal and move on every step_seconds until t_end."""
        params = self.worker.params
        await sleep_until(t_start)
        await self.send("start", {})
        step = 0
        while True:
            base = t_start + step * params.step_seconds
            reveal = base + params.reveal_at * params.step_seconds
            advance = base + params.step_seconds
            if reveal >= t_end:
                return
            await sleep_until(reveal)
            await self.send("reveal", {"step": step})
            if advance >= t_end or step + 1 >= params.steps:
                return
            await sleep_until(advance)
            await self.send("next", {})
            step += 1

    async def take_part(self, t_start: float, t_end: float) -> None:
        """Answer the current step every few seconds (jittered) until t_end."""
        params = self.worker.params
        rnd = self.worker.random
        at = t_start + 0.2 + rnd.uniform(0, params.think)
        while at < t_end:
            await sleep_until(at)
            if self.status == "running":
                words = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(2, 8)))
                await self.send("answer", {"step": self.step_index, "text": words})
            at += params.think * rnd.uniform(0.5, 1.5)


async def sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


async def run(conn: Any, participants: list[Participant], params: Params, seed: int) -> None:
    """The worker's life: connect all, report, play the ritual in the window, report, exit."""
    worker = Worker(participants, params, seed)
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        summary = await worker.connect_all(session)
        conn.send(("connected", summary))
        loop = asyncio.get_running_loop()
        message = await loop.run_in_executor(None, conn.recv)
        if message[0] != "go":
            return
        _, t_start, t_end, t_stop = message
        worker.window = (t_start, t_stop)
        worker.t_end = t_end
        scripts = [
            asyncio.create_task(
                c.facilitate(t_start, t_end) if c.p.facilitator else c.take_part(t_start, t_end)
            )
            for c in worker.clients
            if c.ready.is_set()
        ]
        await asyncio.gather(*scripts)
        await sleep_until(t_stop)
        # Past the measured window, wait until every ack is in and the sockets are quiet
        # (bounded): a change still on its way at t_stop is late, not lost.
        deadline = t_stop + QUIET_LIMIT
        while time.time() < deadline:
            now = time.time()
            waiting = any(c.pending for c in worker.clients if c.ws is not None and not c.ws.closed)
            if not waiting and now - worker.last_receipt > QUIET:
                break
            await asyncio.sleep(0.2)
        for client in worker.clients:
            for _ in client.pending:
                worker.counters.error("no ack")
        conn.send(("done", worker.results()))
        # The parent stops the server before it lets the workers go: no disconnect storm.
        await loop.run_in_executor(None, conn.recv)
        worker.closing = True


def main(conn: Any, participants: list[Participant], params: Params, seed: int) -> None:
    """multiprocessing entry point."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is in bench/requirements.txt
        asyncio.run(run(conn, participants, params, seed))
    else:
        uvloop.run(run(conn, participants, params, seed))
