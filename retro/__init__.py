"""Retro: live rooms for the rituals that keep a team connected."""

from __future__ import annotations

from typing import Any


def create_app(config: dict[str, Any] | None = None):
    """Create and configure the Flask application.

    Imports happen inside the factory so that `app.py` can import `retro.config`
    and patch the async library before Flask or anything networked is imported.
    """
    from flask import Flask

    from retro import cli, extensions, i18n, security, sockets
    from retro.charter.markdown import render_inline, render_markdown
    from retro.config import load_config
    from retro.views import api, charter, errors, health, home, rooms, teams

    settings = load_config(overrides=config)
    app = Flask(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        template_folder=settings["TEMPLATE_FOLDER"],
        static_folder=settings["STATIC_FOLDER"],
    )
    app.config.update(settings)
    if app.config["PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Trust X-Forwarded-* from exactly this many proxies (client IP for rate limits).
        proxies = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )

    extensions.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    for blueprint in (home.bp, teams.bp, rooms.bp, charter.bp, api.bp, health.bp, errors.bp):
        app.register_blueprint(blueprint)
    # Charter text is Markdown: rendered, then sanitised, so nothing typed can run.
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["markdown_inline"] = render_inline
    extensions.csrf.exempt(api.bp)
    sockets.init_app(app)
    cli.init_app(app)
    return app
