"""The "reminders" job: a DM to each assignee before a task's due date, once per task and due date."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.own_tasks import build_reminder
from bot.services.reminders import due_reminders
from jobs.base import Post

log = logging.getLogger(__name__)

JOB = "reminders"


async def compose(deps, session: AsyncSession, *, now: datetime) -> list[Post]:
    """Reminders due now (team's reminder time, assignee's zone, working days, not on leave): one DM per rep.

    Each task's reminder is claimed by a marker `reminded:<ws>:<task>:<due>:<member>` written in this
    tick's transaction; the DM's own key is `remind:<ws>:<user>:<local date>:<digest of its markers>`.
    """
    posts = []
    for n in await due_reminders(session, now=now, job=JOB):
        text, blocks = build_reminder(n.rows, deps.i18n.get(n.locale), n.today, total=n.total)
        # Worth sending until the end of the last due date it names, and at least a day.
        posts.append(Post(workspace_id=n.workspace_id, key=n.key("remind"), job=JOB, channel=n.user_id, text=text, blocks=blocks,
                          not_before=now, expires_at=now + timedelta(days=1)))
    if posts:
        log.info("reminders at %s: %d", now.isoformat(), len(posts))
    return posts
