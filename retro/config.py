"""Configuration: the only module that reads the environment.

Kept free of third-party imports so that `app.py` can read the async mode
before it patches the standard library.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parent.parent
ASYNC_MODES = ("gevent", "eventlet", "threading")
ENVIRONMENTS = ("production", "development", "testing")


class ConfigError(RuntimeError):
    """The environment does not describe a configuration Retro can run with."""


def async_mode(environ: Mapping[str, str] | None = None) -> str:
    """Return the async mode chosen by RETRO_ASYNC_MODE (gevent by default)."""
    environ = os.environ if environ is None else environ
    mode = environ.get("RETRO_ASYNC_MODE", "gevent").strip().lower()
    if mode not in ASYNC_MODES:
        raise ConfigError(f"RETRO_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}, not {mode!r}")
    return mode


def server_address(environ: Mapping[str, str] | None = None) -> tuple[str, int]:
    """Return the (host, port) to listen on, from RETRO_HOST and RETRO_PORT."""
    environ = os.environ if environ is None else environ
    return environ.get("RETRO_HOST", "127.0.0.1"), _integer(environ, "RETRO_PORT", 5000)


def _integer(environ: Mapping[str, str], name: str, default: int) -> int:
    """Return a whole-number setting, with a clear message when it is not one."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def _secret_key(environ: Mapping[str, str], env: str, instance: Path) -> str:
    """Return the secret key, generating one under instance/ outside production."""
    key = environ.get("SECRET_KEY") or environ.get("RETRO_SECRET_KEY")
    if key:
        return key
    if env == "production":
        raise ConfigError(
            "SECRET_KEY is not set. Set SECRET_KEY to a long random value in production, "
            "or RETRO_ENV=development to have one generated under instance/."
        )
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        # Created readable by the owner only, from the first byte on.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _database_url(environ: Mapping[str, str], instance: Path) -> str:
    """Return the SQLAlchemy URL: DATABASE_URL, or SQLite under instance/."""
    url = environ.get("DATABASE_URL", "").strip()
    if not url:
        instance.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{instance / 'retro.sqlite3'}"
    # Accept the short forms that hosting platforms hand out.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _redis_url(environ: Mapping[str, str]) -> str | None:
    """Return the Redis URL of the message queue between server processes, if any."""
    url = environ.get("REDIS_URL", "").strip()
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        # Not echoed: the URL may hold a password.
        raise ConfigError("REDIS_URL must start with redis://, rediss:// or unix://")
    return url or None


def _origins(environ: Mapping[str, str]) -> list[str] | None:
    """Return the origins allowed to open a socket; never '*'.

    Unset means same-origin: Engine.IO then accepts only the origin the page was
    served from (by Host, or X-Forwarded-Host behind a proxy), which also lets
    phones in the room reach the server by its LAN address.
    """
    raw = environ.get("RETRO_ALLOWED_ORIGINS", "").strip()
    if raw:
        origins = [o.strip().rstrip("/") for o in raw.split(",") if o.strip()]
        if "*" in origins:
            raise ConfigError("RETRO_ALLOWED_ORIGINS may not contain '*'")
        return origins
    return None


def _timezone(environ: Mapping[str, str]) -> str:
    """Return the team's time zone (an IANA name such as Europe/Brussels); UTC by default.

    Dates and times on every page, "today" for overdue deeds and review dates, follow it.
    """
    name = environ.get("RETRO_TIMEZONE", "").strip() or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"RETRO_TIMEZONE must be a time zone name such as Europe/Brussels, not {name!r}"
        ) from None
    return name


def load_config(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Build the application settings from the environment plus explicit overrides."""
    environ = dict(os.environ if environ is None else environ)
    overrides = dict(overrides or {})
    env = str(overrides.get("RETRO_ENV") or environ.get("RETRO_ENV", "production")).lower()
    if env not in ENVIRONMENTS:
        raise ConfigError(f"RETRO_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    instance = Path(
        overrides.get("INSTANCE_PATH") or environ.get("RETRO_INSTANCE_PATH") or ROOT / "instance"
    )
    settings: dict[str, Any] = {
        "RETRO_ENV": env,
        "INSTANCE_PATH": str(instance),
        "TEMPLATE_FOLDER": str(ROOT / "templates"),
        "STATIC_FOLDER": str(ROOT / "static"),
        "SECRET_KEY": overrides.get("SECRET_KEY") or _secret_key(environ, env, instance),
        "SQLALCHEMY_DATABASE_URI": overrides.get("SQLALCHEMY_DATABASE_URI")
        or _database_url(environ, instance),
        # A pooled connection to a database server that restarted fails once; check first.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "ASYNC_MODE": overrides.get("ASYNC_MODE") or async_mode(environ),
        # Several processes share rooms through this Redis; each cluster on one Redis
        # needs its own channel.
        "SOCKETIO_MESSAGE_QUEUE": _redis_url(environ),
        "SOCKETIO_CHANNEL": environ.get("RETRO_REDIS_CHANNEL", "").strip() or "retro",
        "SOCKETIO_TRANSPORTS": (
            ["websocket"]
            if environ.get("RETRO_WEBSOCKET_ONLY") == "1"
            else ["polling", "websocket"]
        ),
        "ALLOWED_ORIGINS": _origins(environ),
        "PUBLIC_URL": environ.get("RETRO_PUBLIC_URL", "").rstrip("/") or None,
        "MAX_ROOM_MEMBERS": _integer(environ, "RETRO_MAX_ROOM_MEMBERS", 200),
        # Forms and JSON bodies are small; refuse anything bigger before parsing it.
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": environ.get("RETRO_SECURE_COOKIES") == "1",
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 24 * 90,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": _timezone(environ),
        "LANGUAGES": ("en", "nl"),
        "WTF_CSRF_TIME_LIMIT": None,
        # Per process by default; a shared store (e.g. redis://) for several processes.
        "RATELIMIT_STORAGE_URI": environ.get("RETRO_RATELIMIT_STORAGE_URI", "memory://"),
        "CLAIM_GRACE": _integer(environ, "RETRO_CLAIM_GRACE", 60),
        "PROXIES": _integer(environ, "RETRO_PROXIES", 0),
        "RATELIMIT_HEADERS_ENABLED": True,  # Retry-After on a 429
        "RATELIMIT_ENABLED": environ.get("RETRO_RATELIMIT", "1") != "0",
        # A socket whose process sent no heartbeat for this long counts as gone.
        "PRESENCE_TIMEOUT": _integer(environ, "RETRO_PRESENCE_TIMEOUT", 45),
        "PRESENCE_HEARTBEAT": _integer(environ, "RETRO_PRESENCE_HEARTBEAT", 15),
        "PRESENCE_UPKEEP": env != "testing",
        "TESTING": env == "testing",
        "DEBUG": environ.get("RETRO_DEBUG") == "1",
    }
    settings.update(overrides)
    return settings
