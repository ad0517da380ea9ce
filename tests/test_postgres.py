"""PostgreSQL under the async modes: a slow query blocks its greenlet, never the process.

Each case runs in a subprocess, since patching the standard library cannot be undone.
Needs the PostgreSQL server of RETRO_TEST_POSTGRES_URL, like the migration tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need
from tests.postgres import answers, fresh_database, migrations_server

ROOT = Path(__file__).resolve().parent.parent
QUERIES, SLEEP = 4, 0.5

PATCH = {
    # As app.py does it: patch first, then import everything else.
    "gevent": "from gevent import monkey; monkey.patch_all()",
    # As gunicorn --preload does it: psycopg is imported before the worker patches.
    "gevent, patched late": "import psycopg; from gevent import monkey; monkey.patch_all()",
    "eventlet": "import eventlet; eventlet.monkey_patch()",
}
SPAWN = {
    "gevent": "import gevent; spawn, joinall = gevent.spawn, gevent.joinall",
    "eventlet": "import eventlet; spawn = eventlet.spawn\n"
    "def joinall(threads): [t.wait() for t in threads]",
}
SCRIPT = """
{patch}
import sys, time
from sqlalchemy import text
from retro import create_app
from retro.extensions import db
{spawn}

app = create_app({{
    "RETRO_ENV": "testing", "SECRET_KEY": "x", "INSTANCE_PATH": sys.argv[2],
    "SQLALCHEMY_DATABASE_URI": sys.argv[1], "ASYNC_MODE": "{mode}",
}})

def query():
    with app.app_context():
        db.session.execute(text("SELECT pg_sleep({sleep})"))
        db.session.remove()

with app.app_context():
    db.session.execute(text("SELECT 1"))  # connect once, as a running server has
    db.session.remove()
started = time.monotonic()
joinall([spawn(query) for _ in range({queries})])
print(round(time.monotonic() - started, 2))
"""


@pytest.mark.parametrize("case", PATCH)
def test_queries_on_several_greenlets_wait_for_postgresql_at_the_same_time(case, tmp_path):
    server = migrations_server()
    need(answers(server), f"no PostgreSQL server answers at {server!r}")
    mode = case.split(",")[0]
    script = SCRIPT.format(
        patch=PATCH[case], spawn=SPAWN[mode], mode=mode, sleep=SLEEP, queries=QUERIES
    )
    with fresh_database(server, "retro_green") as url:
        result = subprocess.run(
            [sys.executable, "-c", script, url.render_as_string(hide_password=False), tmp_path],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    elapsed = float(result.stdout.split()[-1])
    # One after the other they would take QUERIES * SLEEP.
    assert elapsed < 2 * SLEEP, f"{QUERIES} queries of {SLEEP} s took {elapsed} s under {case}"
