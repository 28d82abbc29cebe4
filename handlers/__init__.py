"""Slack listeners. Each package's register(app) is the only place ids meet callbacks.

This module imports its packages lazily: the builders import handlers.ids, and must not
pull every listener in with it.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp


def register_all(app: AsyncApp, deps) -> None:
    """Attach the shared middleware and every listener package to the app."""
    from handlers import actions, commands, events, shortcuts, views
    from handlers.middleware import register as register_middleware

    register_middleware(app, deps)
    for package in (commands, actions, views, events, shortcuts):
        package.register(app)
