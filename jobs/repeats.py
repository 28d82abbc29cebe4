"""The "repeats" job: each repeat rule's task for the day, made once, and its card DM'd to each assignee."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.own_tasks import build_occurrence_card, describe_repeat
from bot.services.actors import safe_zone
from bot.services.repeats import make_due_occurrences, repeat_key, spec_of
from bot.services.tasks import TaskRow
from jobs.base import Post

log = logging.getLogger(__name__)

JOB = "repeats"


async def compose(deps, session: AsyncSession, *, now: datetime) -> list[Post]:
    """Make the tasks repeat rules name for today (team zone) and DM their cards, keyed `repeat:<ws>:<rule>:<date>:<user>`.

    A rep on leave gets the task and its card like anyone (the card waits in their DMs).
    """
    posts: list[Post] = []
    for occ in await make_due_occurrences(session, now=now):
        row = TaskRow(task=occ.task, customer_name=occ.customer_name, assignees=sorted(m.slack_user_id for m in occ.assignees))
        for member in occ.assignees:
            loc = deps.i18n.get(member.locale)
            today = now.astimezone(safe_zone(member.tz)).date()
            text, blocks = build_occurrence_card(row, loc, today, rule_id=occ.rule.id, rule_text=describe_repeat(spec_of(occ.rule), loc),
                                                 editable=occ.rule.self_created)
            # The card is worth sending until the end of the task's due date in the member's zone.
            end = datetime.combine(occ.task.due_date + timedelta(days=1), time(0), safe_zone(member.tz))
            posts.append(Post(
                workspace_id=occ.task.workspace_id, key=repeat_key(occ.slack_team_id, occ.rule.id, occ.task.due_date, member.slack_user_id),
                job=JOB, channel=member.slack_user_id, text=text, blocks=blocks, not_before=now, expires_at=max(end, now + timedelta(hours=1)),
            ))
    if posts:
        log.info("repeats at %s: %d cards", now.isoformat(), len(posts))
    return posts
