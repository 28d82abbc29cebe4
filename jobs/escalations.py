"""The "escalations" job: a DM to the managers when a task is N working days overdue, once per task and due date."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.own_tasks import build_escalation
from bot.services.reminders import due_escalations
from jobs.base import Post

log = logging.getLogger(__name__)

JOB = "escalations"


async def compose(deps, session: AsyncSession, *, now: datetime) -> list[Post]:
    """Escalations due now (the team's setting, working days, the rep not on leave): one DM per manager.

    Each task's escalation is claimed by a marker `escalated:<ws>:<task>:<due>:<team>` written in this
    tick's transaction; the DM's own key is `escalate:<ws>:<manager>:<local date>:<digest of its markers>`.
    """
    posts = []
    for n in await due_escalations(session, now=now, job=JOB):
        text, blocks = build_escalation(n.rows, deps.i18n.get(n.locale), n.today, reps=n.reps, days=n.days_overdue, total=n.total)
        posts.append(Post(workspace_id=n.workspace_id, key=n.key("escalate"), job=JOB, channel=n.user_id, text=text, blocks=blocks,
                          not_before=now, expires_at=now + timedelta(days=1)))
    if posts:
        log.info("escalations at %s: %d", now.isoformat(), len(posts))
    return posts
