"""A test-only job for the delivery tests: one morning DM per rep of the team named "Fanout".

Loaded through SALESBOT_EXTRA_JOBS=tests.scenario.delivery_jobs, so a real `salesbot`
subprocess can run it; nothing in production registers it.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from sqlalchemy import select

from bot.models import Member, Role, SalesTeam
from jobs.base import Post

JOB = "test.fanout"


async def compose_fanout(deps, session, *, now: datetime) -> list[Post]:
    """Every Fanout rep's good-morning DM for the UTC date of `now`, due all that day."""
    day = now.astimezone(timezone.utc).date()
    start = datetime.combine(day, time(0), tzinfo=timezone.utc)
    reps = await session.execute(
        select(Member).join(SalesTeam, SalesTeam.id == Member.team_id).where(SalesTeam.name == "Fanout", Member.role == Role.REP).order_by(Member.slack_user_id)
    )
    return [
        Post(
            workspace_id=m.workspace_id,
            key=f"{JOB}:{m.workspace_id}:{m.slack_user_id}:{day.isoformat()}",
            job=JOB,
            channel=m.slack_user_id,
            text=f"Good morning, {m.name}",
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": f"Good morning, {m.name}: here is your day."}}],
            not_before=start,
            expires_at=start + timedelta(days=1),
        )
        for m in reps.scalars()
    ]


JOBS = {JOB: compose_fanout}
