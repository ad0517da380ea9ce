"""Several server processes, one room: PostgreSQL and a Redis message queue between them.

Two real `app.py` processes on their own ports share a fresh PostgreSQL database and a
private `redis-server`, as two machines behind a load balancer would; the last test runs
the queue's listener alone against that Redis. Each test skips on a machine without
PostgreSQL or redis-server, and fails instead in CI (RETRO_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import closing
from typing import Any

import pytest
import redis

from retro.sockets import RoomQueue
from tests.live.conftest import LiveServer, Peer, RedisServer, normalize, wait_until
from tests.live.test_live_rooms import (
    Room,
    after,
    assert_round_complete,
    check_out,
    online,
    open_room,
    run_round,
    settle,
)

pytestmark = pytest.mark.live


@pytest.fixture
def cluster(live_server, cluster_database, redis_server):
    """Return a factory that starts server processes sharing one PostgreSQL and one Redis."""
    settings = {
        "REDIS_URL": redis_server.url,
        # Each cluster on a Redis needs its own channel (here one per test).
        "RETRO_REDIS_CHANNEL": f"retro-test-{uuid.uuid4().hex[:8]}",
        # Behind a balancer without sticky sessions.
        "RETRO_WEBSOCKET_ONLY": "1",
        # Short, so that a killed process's sockets expire within the test.
        "RETRO_PRESENCE_HEARTBEAT": "1",
        "RETRO_PRESENCE_TIMEOUT": "6",
    }

    def start(*modes: str) -> list[LiveServer]:
        servers = [
            live_server(mode, database_url=cluster_database, migrate=not i, start=False, **settings)
            for i, mode in enumerate(modes)
        ]
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_ready()
        return servers

    return start


def connect(room: Room, placement: list[Any], peers, reconnect: bool = False) -> list[Peer]:
    """Connect the facilitator and each member to the server (or balancer) given for them."""
    clients = [
        peers(where, room.code, seat.token, seat.name, reconnect=reconnect)
        for seat, where in zip(room.seats, placement, strict=True)
    ]
    settle(clients, lambda view: all(online(view).values()), "all online")
    return clients


def stored_seq(server: LiveServer, room: Room) -> int:
    """Return the room's seq as committed in the database."""
    return server.query("SELECT seq FROM rooms WHERE code = :code", code=room.code)[0][0]


def assert_nothing_lost(server: LiveServer, room: Room, clients: list[Peer]) -> None:
    """Every acknowledged command is stored, at the seq its acknowledgement gave."""
    stored = dict(
        server.query(
            "SELECT p.action_id, p.seq FROM processed_actions p JOIN rooms r ON r.id = p.room_id"
            " WHERE r.code = :code",
            code=room.code,
        )
    )
    for client in clients:
        for event, action_id, ack in client.acks:
            if ack["ok"]:
                assert stored.get(action_id) == ack["seq"], f"{client} {event} {ack}"


def assert_same_end(clients: list[Peer], server: LiveServer, room: Room) -> dict[str, Any]:
    """Every client ends on the committed seq with the same public state; return it."""
    seq = stored_seq(server, room)
    view = settle(clients, lambda v: v["seq"] == seq, f"everyone at the stored seq {seq}")
    for client in clients:
        assert normalize(client.latest) == normalize(view), f"{client} ended elsewhere"
    return view


def test_members_on_two_processes_run_a_round_in_step(cluster, peers):
    first, second = cluster("gevent", "eventlet")
    room = open_room(first)
    # The facilitator on one process, the three members on the other.
    clients = connect(room, [first, second, second, second], peers)
    facilitator, ann, bob, _cas = clients
    by_id = {c.member_id: c for c in clients}
    # Ann has a second tab, on the facilitator's process.
    ann_tab = peers(first, room.code, room.members[0].token, "Ann's tab")
    everyone = [*clients, ann_tab]

    after(everyone, facilitator.do("start"))
    view = run_round(everyone, by_id, passer=bob.member_id)
    assert_round_complete(view, room, bob.member_id)
    # A member's own answer reaches all their tabs, on any process, as `me`.
    answer = f"{ann.name} feels sunny"
    assert any(me["steps"][0].get("answer") == answer for me in ann_tab.private_views), (
        ann_tab.private_views
    )
    view = check_out(clients, facilitator, passer=bob)
    assert view["room"]["status"] == "ended"

    assert_same_end(everyone, first, room)
    for client in everyone:
        client.assert_no_gaps()
    assert_nothing_lost(second, room, clients)


def test_the_room_goes_on_when_one_process_is_killed_mid_round(cluster, peers, balancer):
    first, second = cluster("gevent", "gevent")
    room = open_room(second)
    # The facilitator and Ann come through the balancer, which sends them to the first
    # process while it lives; Bob and Cas are on the second.
    front = balancer([first, second])
    clients = connect(room, [front, front, second, second], peers, reconnect=True)
    facilitator, ann, bob, cas = clients
    by_id = {c.member_id: c for c in clients}
    per_process = first.query("SELECT count(*) FROM connections GROUP BY server_id")
    assert sorted(count for (count,) in per_process) == [2, 2]

    after(clients, facilitator.do("start"))
    view = run_round(clients, by_id, passer=bob.member_id, stop_after=1)
    speaker = by_id[view["step"]["speaker"]]
    if speaker is bob:
        view = run_round(clients, by_id, passer=bob.member_id, stop_after=1)
        speaker = by_id[view["step"]["speaker"]]
    before = after(clients, speaker.do("answer", step=0, text=f"{speaker.name} feels sunny"))

    first.kill()
    # Their connections break; python-socketio reconnects through the balancer, to the second.
    wait_until(lambda: facilitator.reconnected(1) and ann.reconnected(1), what="reconnects")
    for client in (facilitator, ann):
        snapshot = client.snapshots[-1]
        assert snapshot["seq"] > before["seq"]
        assert snapshot["step"] == before["step"]
    assert bob.connects == cas.connects == 1

    after(clients, speaker.do("pass_turn", step=0))
    view = run_round(clients, by_id, passer=bob.member_id)
    assert_round_complete(view, room, bob.member_id)
    view = check_out(clients, facilitator, passer=bob)
    assert view["room"]["status"] == "ended"

    assert_same_end(clients, second, room)
    assert_nothing_lost(second, room, clients)
    for client in clients:
        client.assert_no_gaps()
    # The second process expired the dead one's sockets: only the live ones are stored.
    wait_until(
        lambda: second.query("SELECT count(*) FROM connections")[0][0] == 4,
        what="the killed process's sockets to expire",
    )


def test_a_redis_outage_loses_nothing_and_everyone_catches_up(
    cluster, peers, redis_server: RedisServer
):
    first, second = cluster("gevent", "gevent")
    room = open_room(first)
    clients = connect(room, [first, second, second, second], peers)
    facilitator, _ann, bob, _cas = clients
    by_id = {c.member_id: c for c in clients}
    after(clients, facilitator.do("start"))
    view = settle(clients)

    redis_server.stop()
    # Both processes go on committing, and tell their own sockets; the others miss it.
    facilitator.do("timer_start", seconds=120)
    for _turn in range(2):
        speaker = by_id[view["step"]["speaker"]]
        if speaker is bob:
            seq = speaker.do("pass", step=0)
        else:
            speaker.do("answer", step=0, text=f"{speaker.name} feels sunny")
            seq = speaker.do("pass_turn", step=0)
        view = wait_until(lambda s=speaker, n=seq: s.seq >= n and s.latest, what="own change")
    time.sleep(1)
    assert min(c.seq for c in clients) < stored_seq(first, room), "nobody missed anything"
    redis_server.start()

    # Each process resubscribes and sends its sockets the state they missed.
    recovered = stored_seq(first, room)
    view = assert_same_end(clients, first, room)
    assert view["seq"] == recovered
    assert view["timer"]["running"]
    assert len(view["step"]["heard"]) + len(view["step"]["passed"]) == 2
    assert_nothing_lost(first, room, clients)

    # And the queue carries the rest of the round again.
    view = run_round(clients, by_id, passer=bob.member_id)
    assert_round_complete(view, room, bob.member_id)
    assert_same_end(clients, second, room)
    assert_nothing_lost(first, room, clients)
    for client in clients:
        client.assert_no_gaps(since=recovered)


def test_the_queue_listener_resubscribes_and_reports_every_subscription(redis_server):
    channel = f"retro-test-{uuid.uuid4().hex[:8]}"
    subscriptions: list[int] = []

    def subscribed() -> None:
        # What the app does here is resync its sockets; this publishes a marker instead.
        subscriptions.append(len(subscriptions) + 1)
        with closing(redis.Redis.from_url(redis_server.url)) as client:
            client.publish(channel, f"after subscription {len(subscriptions)}")

    class Host:
        """The two things the queue asks of the Socket.IO server."""

        def start_background_task(self, target, *args):
            threading.Thread(target=target, args=args, daemon=True).start()

        def sleep(self, seconds: float) -> None:
            time.sleep(seconds)

    queue = RoomQueue(redis_server.url, channel, subscribed)
    queue.server = Host()
    messages = queue._listen()
    try:
        assert next(messages) == b"after subscription 1"
        redis_server.stop()
        redis_server.start()
        # The broken connection is noticed, and the listener subscribes again a second later.
        assert next(messages) == b"after subscription 2"
    finally:
        messages.close()
    assert subscriptions == [1, 2]
