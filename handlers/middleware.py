"""Global middleware: hand listeners their dependencies and drop Events API retries."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.services.events import first_delivery

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps) -> None:
    """Install the middleware on the app."""

    @app.middleware
    async def provide_deps(context, next):  # noqa: A002 - Bolt's name
        """Make the shared dependencies available as context["deps"]."""
        context["deps"] = deps
        await next()

    @app.middleware
    async def drop_duplicate_events(body, next):  # noqa: A002
        """Handle each event_id once: Slack retries events it thinks were not acked in time."""
        event_id = body.get("event_id") if isinstance(body, dict) and body.get("type") == "event_callback" else None
        if event_id:
            async with deps.db.session() as session:
                if not await first_delivery(session, event_id=event_id):
                    log.info("duplicate delivery of %s ignored", event_id)
                    return BoltResponse(status=200, body="")
        await next()
