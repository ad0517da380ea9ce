"""Flask commands: `flask --app app demo` creates a team and a room to look at."""

from __future__ import annotations

import click
from flask import Flask, url_for

from retro.services import rooms


def init_app(app: Flask) -> None:
    """Register the commands."""

    @app.cli.command("demo")
    @click.option("--name", default="Demo team", help="Name of the team to create.")
    def demo(name: str) -> None:
        """Create a team and print its secret link."""
        team = rooms.create_team(name)
        with app.test_request_context():
            click.echo(url_for("teams.show", key=team.key))
