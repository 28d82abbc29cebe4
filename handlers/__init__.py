"""Slack listeners. Each package's register(app) is the only place ids meet callbacks."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers import actions, commands, events, shortcuts, views
from handlers.middleware import register as register_middleware


def register_all(app: AsyncApp, deps) -> None:
    """Attach the shared middleware and every listener package to the app."""
    register_middleware(app, deps)
    for package in (commands, actions, views, events, shortcuts):
        package.register(app)
