"""The team charter as plain data: content, differences, Markdown rendering and exports.

Nothing in here touches the database; `retro.services.charter` stores versions.
"""
