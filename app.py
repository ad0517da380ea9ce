"""Entry point: patch the async library first, then create the app and serve it."""

import sys

from retro.config import async_mode

ASYNC_MODE = async_mode()
# Flask's own CLI (`flask db upgrade`) has imported Flask already and needs no
# async server: patching that late only makes eventlet print tracebacks.
if "flask" not in sys.modules:
    if ASYNC_MODE == "gevent":
        from gevent import monkey

        monkey.patch_all()
    elif ASYNC_MODE == "eventlet":
        import eventlet

        eventlet.monkey_patch()

from retro import create_app  # noqa: E402  (must come after patching)
from retro.config import server_address  # noqa: E402
from retro.extensions import socketio  # noqa: E402

app = create_app()


def main() -> None:
    """Serve the app with Socket.IO on RETRO_HOST:RETRO_PORT."""
    host, port = server_address()
    print(f" * Retro on http://{host}:{port} ({ASYNC_MODE}, {app.config['RETRO_ENV']})", flush=True)
    socketio.run(
        app,
        host=host,
        port=port,
        debug=False,
        use_reloader=False,
        log_output=app.config["DEBUG"],
        allow_unsafe_werkzeug=ASYNC_MODE == "threading",
    )


if __name__ == "__main__":
    main()
