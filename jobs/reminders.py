"""The "reminders" job: a DM to each assignee before a task's due date, once per task and due date."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.own_tasks import build_reminder
from bot.services.reminders import due_reminders
from jobs.base import Post

log = logging.getLogger(__name__)

JOB = "reminders"


async def compose(deps, session: AsyncSession, *, now: datetime) -> list[Post]:
    """Reminders due now (team's reminder time, assignee's zone, working days, not on leave), keyed `remind:<ws>:<task>:<due>:<user>`."""
    posts = []
    for n in await due_reminders(session, now=now):
        text, blocks = build_reminder(n.row, deps.i18n.get(n.locale), n.today)
        posts.append(Post(workspace_id=n.workspace_id, key=n.key, job=JOB, channel=n.user_id, text=text, blocks=blocks,
                          not_before=n.not_before, expires_at=n.expires_at))
    if posts:
        log.info("reminders at %s: %d", now.isoformat(), len(posts))
    return posts
