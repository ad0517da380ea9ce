"""Blueprints: HTML pages, exports and the small JSON API."""
