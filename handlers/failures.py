"""What a member sees when something fails: a short answer in their language, never silence.

Bolt's asyncio runner turns an exception raised after `ack()` into a lost answer (it resets
the ack and Slack waits 3 s for nothing). The steady ack installed by the middleware keeps
the answer that was given, and this module's error handler, the one place every listener
failure reaches, logs the traceback and tells the member.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import exc as sa_exc

from bot.i18n import I18n
from bot.services.errors import ServiceError
from bot.slackapi import profile_fetcher
from bot.text import SlackSafe
from bot.unit import after_ack
from handlers.replies import direct_message, ephemeral

log = logging.getLogger(__name__)

UNEXPECTED = "error.unexpected"
DATABASE_DOWN = "error.database_down"
FORM_BUSY = "form.error.busy"
# How long a failing request may wait for users.info to learn the member's language.
PROFILE_SECONDS = 0.5


class SteadyAck(AsyncAck):
    """An ack that stays given: Bolt's runner cannot take back an answer already sent."""

    @property
    def response(self) -> BoltResponse | None:
        return self._response

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        # The runner sets None (or a 500) after a listener fails; keep the first real answer.
        if getattr(self, "_response", None) is None:
            self._response = value


def is_database_outage(error: BaseException) -> bool:
    """True when the database could not be reached or was locked, rather than the code being wrong."""
    if isinstance(error, sa_exc.DBAPIError):
        return error.connection_invalidated or isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError)
    return isinstance(error, sa_exc.DisconnectionError | sa_exc.TimeoutError | OSError | TimeoutError)


def neutral_answer(body: dict[str, Any]) -> BoltResponse:
    """An HTTP answer that changes nothing on the member's screen (option lists must still be lists)."""
    if isinstance(body, dict) and body.get("type") == "block_suggestion":
        return BoltResponse(status=200, body={"options": []})
    return BoltResponse(status=200, body="")


async def keep_form_open(client: AsyncWebClient, i18n: I18n, context, body: dict[str, Any]) -> BoltResponse:
    """A submitted modal that could not be saved stays open, with "submit again" under its first field."""
    locale = None
    try:  # a short look for the member's language; the answer must stay inside Slack's 3 s
        profile = await asyncio.wait_for(profile_fetcher(client)(context.user_id), PROFILE_SECONDS) if context.user_id else None
        locale = profile.locale if profile else None
    except Exception:
        log.info("answering a form in the default language: users.info did not answer in time")
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    inputs = [b.get("block_id") for b in view.get("blocks") or [] if isinstance(b, dict) and b.get("type") == "input" and b.get("block_id")]
    if not inputs:
        return neutral_answer(body)
    return BoltResponse(status=200, body={"response_action": "errors", "errors": {inputs[0]: i18n.get(locale).t(FORM_BUSY)}})


async def tell(client: AsyncWebClient, i18n: I18n, context, key: str, **params: Any) -> None:
    """Send the member one catalog text: ephemeral by response_url, else a DM; never raises."""
    user_id = context.user_id
    try:
        locale = None
        if user_id:
            profile = await profile_fetcher(client)(user_id)
            locale = profile.locale if profile else None
        text: SlackSafe = i18n.get(locale).md(key, **params)
        if context.response_url:
            await ephemeral(context.respond)(text)
        elif user_id:
            await direct_message(client, user_id)(text)
    except Exception:  # the member may never hear of it; the log must
        log.warning("could not tell %s %r", user_id, key, exc_info=True)


async def handle_error(error: Exception, body: dict, context, client: AsyncWebClient, response: BoltResponse | None):
    """Log a listener's (or middleware's) failure and answer the member; the HTTP answer stays a 200."""
    kind = body.get("type") or body.get("command") if isinstance(body, dict) else None
    if isinstance(error, ServiceError):
        # A refusal raised where no reply was given (e.g. an event): show it, it is not a bug.
        log.info("refused %s: %s", kind, error.key)
        key, params = error.key, error.params
    elif is_database_outage(error):
        log.error("database unreachable while handling %s: %s", kind, error, exc_info=error)
        key, params = DATABASE_DOWN, {}
    else:
        log.error("listener failed: %s (%s)", error, kind, exc_info=error)
        key, params = UNEXPECTED, {}
    deps = context.get("deps")
    if deps is not None:
        after_ack(tell(client, deps.i18n, context, key, **params))
    if response is not None:
        # Not acknowledged yet (or a middleware failed): answer now instead of a 500.
        return neutral_answer(body)
    return None
