"""Global middleware: dependencies, a steady ack, only our workspace, and each delivery handled once."""

from __future__ import annotations

import asyncio
import logging
import time

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.db import Database
from bot.models import utcnow
from bot.services.events import first_delivery, prune_events
from bot.services.signatures import first_use, prune_signatures
from bot.unit import after_ack
from handlers.failures import DATABASE_DOWN, SteadyAck, is_database_outage, keep_form_open, neutral_answer, tell

log = logging.getLogger(__name__)

# The edge must answer within Slack's 3 s even when the database is locked or gone: it gives
# up on the database after this long (SQLite's own busy timeout is 30 s for the real work).
EDGE_DB_SECONDS = Database.EDGE_BUSY_MS / 1000
# Expired signatures and old event ids are deleted at most this often per process.
PRUNE_EVERY = 60.0
# Payloads that always come from a member: without a user (or a team) they are not Slack's.
INTERACTIVE = frozenset({"block_actions", "block_suggestion", "view_submission", "view_closed", "shortcut", "message_action"})
OTHER_WORKSPACE = "error.other_workspace"


def _claimed(body: dict) -> str | None:
    """The workspace a request says it comes from, where the listeners read it; None when a member's request lacks it."""
    if "command" in body:
        user, team = body.get("user_id"), body.get("team_id")
    elif body.get("type") in INTERACTIVE:
        user = body["user"].get("id") if isinstance(body.get("user"), dict) else None
        team = body["team"].get("id") if isinstance(body.get("team"), dict) else None
    else:  # events: the workspace only (Bolt's own checks already passed the handshakes)
        team = body.get("team_id")
        return team if isinstance(team, str) else ""
    return team if isinstance(user, str) and user and isinstance(team, str) and team else None


def register(app: AsyncApp, deps) -> None:
    """Install the middleware on the app, in the order they run."""
    last_prune = [float("-inf")]

    @app.middleware
    async def provide_deps(context, next):  # noqa: A002 - Bolt's name
        """Make the shared dependencies available as context["deps"], and note when the request arrived."""
        context["deps"] = deps
        context["arrived"] = time.monotonic()
        await next()

    @app.middleware
    async def steady_ack(context, next):  # noqa: A002
        """Give every listener an ack that a later failure cannot take back."""
        context["ack"] = SteadyAck()
        await next()

    @app.middleware
    async def serve_own_workspace(body, context, next):  # noqa: A002
        """Serve only the workspace the token belongs to, and only requests that name their member."""
        claimed = _claimed(body)
        if claimed is None:
            log.warning("refused a %s without its user or team", body.get("command") or body.get("type"))
            return BoltResponse(status=400, body={"error": "no user or team"})
        installed = context.authorize_result.team_id if context.authorize_result else None
        if installed and claimed != installed:
            log.warning("refused a request from workspace %s (installed: %s)", claimed, installed)
            context["outcome"] = "other_workspace"  # counted under this outcome at the HTTP edge
            refusal = deps.i18n.get(None).t(OTHER_WORKSPACE)
            if "command" in body:
                return BoltResponse(status=200, body={"response_type": "ephemeral", "text": refusal})
            if context.response_url:
                after_ack(context.respond(text=refusal, response_type="ephemeral", replace_original=False))
            return neutral_answer(body)
        await next()

    @app.middleware
    async def remember_delivery(body, context, client, request, next):  # noqa: A002
        """Drop replayed signatures and Events API retries; with no database, say so at once."""
        signature = request.headers.get("x-slack-signature", [None])[0]
        timestamp = request.headers.get("x-slack-request-timestamp", ["0"])[0]
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not signature and not event_id:
            return await next()  # Socket Mode: nothing signed, nothing to remember
        try:
            fresh = await asyncio.wait_for(_admit(signature, int(timestamp), event_id), EDGE_DB_SECONDS * 2)
        except Exception as exc:
            if not is_database_outage(exc):
                raise
            # A lock held by a burst of saves is a busy moment, not an outage: a warning, not an error.
            level = logging.WARNING if "locked" in str(exc) else logging.ERROR
            log.log(level, "database unreachable, %s answered without it: %s", body.get("command") or body.get("type"), exc)
            context["outcome"] = "database_down"
            if body.get("type") == "view_submission":
                return await keep_form_open(client, deps.i18n, context, body)
            if body.get("type") != "event_callback":
                after_ack(tell(client, deps.i18n, context, DATABASE_DOWN))
            return neutral_answer(body)
        if not fresh:
            log.info("replayed or repeated delivery ignored (%s)", event_id or "signature")
            context["outcome"] = "repeat"
            return BoltResponse(status=200, body="")
        await next()

    async def _admit(signature: str | None, timestamp: int, event_id: str | None) -> bool:
        """Record the delivery; False when its signature or event id was seen before."""
        # Sessions of the edge's own: on SQLite they give up on a locked file after a second
        # instead of waiting out the ordinary busy timeout.
        async with deps.db.edge_sessionmaker()() as session:
            fresh = True
            if signature:
                fresh = await first_use(session, signature=signature, timestamp=timestamp)
            if fresh and event_id:
                fresh = await first_delivery(session, event_id=event_id)
            if time.monotonic() - last_prune[0] >= PRUNE_EVERY:
                last_prune[0] = time.monotonic()
                now = utcnow()
                await prune_signatures(session, now=now)
                await prune_events(session, now=now)
            await session.commit()
            return fresh
