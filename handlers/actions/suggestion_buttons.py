"""Planned / Done / Declined on the managers' list of suggestions."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.slackapi import dm_channel
from bot.unit import turn
from bot.blocks.suggestions import ACTION_STATUS, build_decision_notice, build_suggestion_list
from bot.services import suggestions
from bot.services.errors import NotFound
from handlers.replies import ephemeral

log = logging.getLogger(__name__)


async def handle_suggestion_decision(ack, body, action, client, respond, context):
    """Record a manager's decision once, redraw the list, and tell the author (when known)."""
    await ack()
    deps = context["deps"]
    async with turn(deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=ephemeral(respond)) as t:
        value = action.get("value", "")
        if not (value.isascii() and value.isdigit()) or len(value) > 9 or action.get("action_id") not in ACTION_STATUS:
            raise NotFound("suggest.error.not_found")
        row, changed = await suggestions.decide_suggestion(t.session, actor=t.actor, suggestion_id=int(value), status=ACTION_STATUS[action["action_id"]], now=t.now)
        await t.session.commit()
        rows, total = await suggestions.list_new_suggestions(t.session, actor=t.actor)
        text, blocks = build_suggestion_list(rows, total, t.loc, tz=t.actor.member.tz)
        await respond(text=text, blocks=blocks, replace_original=True)
        author = await suggestions.author_of(t.session, suggestion=row.suggestion) if changed else None
        if author is not None:
            text, blocks = build_decision_notice(row, deps.i18n.get(author.locale), decided_by=t.actor.member.slack_user_id)
            try:
                await client.chat_postMessage(channel=await dm_channel(client, t.session, author), text=text, blocks=blocks)
            except SlackApiError as exc:
                log.warning("suggestion decision DM failed: %s", exc.response.get("error"))
