"""Configuration from the environment: secrets, async mode, origins."""

from __future__ import annotations

import stat

import pytest

from retro.config import ConfigError, async_mode, load_config
from retro.extensions import MAX_MESSAGE_BYTES, socketio


@pytest.fixture
def environ(tmp_path):
    """Return a minimal environment whose instance folder is a fresh temporary one."""
    return {"RETRO_INSTANCE_PATH": str(tmp_path / "instance")}


def test_production_refuses_to_start_without_a_secret_key(environ, tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({**environ, "RETRO_ENV": "production"})
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_production_is_the_default_environment(environ):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(environ)


def test_production_uses_the_secret_key_from_the_environment(environ):
    settings = load_config({**environ, "SECRET_KEY": "from-the-environment"})
    assert settings["SECRET_KEY"] == "from-the-environment"
    assert settings["RETRO_ENV"] == "production"


def test_development_generates_a_private_secret_key_under_the_instance_folder(environ, tmp_path):
    settings = load_config({**environ, "RETRO_ENV": "development"})
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.read_text().strip() == settings["SECRET_KEY"]
    assert len(settings["SECRET_KEY"]) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_development_keeps_the_generated_key_across_restarts(environ):
    first = load_config({**environ, "RETRO_ENV": "development"})
    second = load_config({**environ, "RETRO_ENV": "development"})
    assert first["SECRET_KEY"] == second["SECRET_KEY"]


def test_an_unknown_environment_is_refused(environ):
    with pytest.raises(ConfigError, match="RETRO_ENV"):
        load_config({**environ, "RETRO_ENV": "staging", "SECRET_KEY": "x"})


def test_the_async_mode_defaults_to_gevent():
    assert async_mode({}) == "gevent"


@pytest.mark.parametrize(
    ("value", "mode"),
    [("eventlet", "eventlet"), (" Threading ", "threading"), ("GEVENT", "gevent")],
)
def test_the_async_mode_is_read_from_retro_async_mode(value, mode):
    assert async_mode({"RETRO_ASYNC_MODE": value}) == mode


@pytest.mark.parametrize("value", ["asyncio", "", "gevent_uwsgi"])
def test_an_unknown_async_mode_is_refused(environ, value):
    with pytest.raises(ConfigError, match="RETRO_ASYNC_MODE"):
        load_config({**environ, "SECRET_KEY": "x", "RETRO_ASYNC_MODE": value})


def test_by_default_only_the_pages_own_origin_may_open_a_socket(environ):
    settings = load_config({**environ, "SECRET_KEY": "x", "RETRO_PORT": "8123"})
    # None is Engine.IO's same-origin check (never '*'): a phone that opened the
    # page at the server's LAN address may connect, another site may not.
    assert settings["ALLOWED_ORIGINS"] is None


def test_allowed_origins_are_read_as_a_list_without_trailing_slashes(environ):
    settings = load_config(
        {
            **environ,
            "SECRET_KEY": "x",
            "RETRO_ALLOWED_ORIGINS": "https://retro.example.org/, https://meet.example.org",
        }
    )
    assert settings["ALLOWED_ORIGINS"] == ["https://retro.example.org", "https://meet.example.org"]


@pytest.mark.parametrize("value", ["*", "https://retro.example.org,*", " * "])
def test_a_wildcard_origin_is_refused(environ, value):
    with pytest.raises(ConfigError, match=r"\*"):
        load_config({**environ, "SECRET_KEY": "x", "RETRO_ALLOWED_ORIGINS": value})


def test_the_default_database_is_sqlite_under_the_instance_folder(environ, tmp_path):
    settings = load_config({**environ, "SECRET_KEY": "x"})
    expected = tmp_path / "instance" / "retro.sqlite3"
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{expected}"


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_a_hosting_platform_postgres_url_uses_the_psycopg_driver(environ, scheme):
    settings = load_config(
        {**environ, "SECRET_KEY": "x", "DATABASE_URL": f"{scheme}://u:p@db:5432/retro"}
    )
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db:5432/retro"


def test_explicit_overrides_win_over_the_environment(environ):
    settings = load_config(
        {**environ, "RETRO_ENV": "production"},
        overrides={"RETRO_ENV": "testing", "SECRET_KEY": "override", "ASYNC_MODE": "threading"},
    )
    assert settings["RETRO_ENV"] == "testing"
    assert settings["TESTING"] is True
    assert settings["SECRET_KEY"] == "override"
    assert settings["ASYNC_MODE"] == "threading"


def test_the_socket_server_takes_its_origins_and_a_small_message_limit_from_config(app):
    engine = socketio.server.eio
    assert engine.cors_allowed_origins == app.config["ALLOWED_ORIGINS"] is None
    lan = {"wsgi.url_scheme": "http", "HTTP_HOST": "192.168.1.20:5000"}
    assert engine._cors_allowed_origins(lan) == ["http://192.168.1.20:5000"]
    assert engine.max_http_buffer_size == MAX_MESSAGE_BYTES == 64 * 1024


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(tmp_path):
    from flask import request

    from retro import create_app

    app = create_app(
        {
            "RETRO_ENV": "testing",
            "SECRET_KEY": "x",
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "ASYNC_MODE": "threading",
            "PROXIES": 1,
        }
    )
    seen = []
    app.before_request(lambda: seen.append(request.remote_addr))
    app.test_client().get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    assert seen == ["203.0.113.9"]


def test_pooled_connections_are_checked_before_use(environ):
    # After a database server restart the first request would fail on a dead connection.
    settings = load_config({**environ, "SECRET_KEY": "s"})
    assert settings["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}


def test_the_time_zone_is_utc_unless_the_team_sets_one(environ):
    environ = {**environ, "SECRET_KEY": "s"}
    assert load_config(environ)["BABEL_DEFAULT_TIMEZONE"] == "UTC"
    brussels = load_config({**environ, "RETRO_TIMEZONE": "Europe/Brussels"})
    assert brussels["BABEL_DEFAULT_TIMEZONE"] == "Europe/Brussels"


@pytest.mark.parametrize("name", ["Mars/Olympus", "../etc/passwd", "CET/"])
def test_an_unknown_time_zone_is_refused(environ, name):
    with pytest.raises(ConfigError, match="RETRO_TIMEZONE"):
        load_config({**environ, "SECRET_KEY": "s", "RETRO_TIMEZONE": name})


def test_pages_and_today_follow_the_teams_time_zone(tmp_path):
    from datetime import UTC, datetime, timedelta

    from retro import create_app
    from retro.i18n import today_iso

    app = create_app(
        {
            "RETRO_ENV": "testing",
            "SECRET_KEY": "s",
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'tz.sqlite3'}",
            "BABEL_DEFAULT_TIMEZONE": "Pacific/Kiritimati",
        }
    )
    with app.test_request_context():
        # UTC+14: the island's date is a day ahead of UTC from 10:00 UTC on.
        expected = (datetime.now(UTC) + timedelta(hours=14)).date().isoformat()
        assert today_iso() == expected
