"""The "deal_alerts" job: a big deal won, lost or moved back is told once, to the team's alert channel or its managers.

Key `deal-alert:<stage change id>` (channel) or `deal-alert:<stage change id>:<manager user id>` (DM);
due from the change until two days later. A channel reads the first manager's language, else English.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.alerts import build_deal_alert
from bot.models import Workspace
from bot.services.alerts import JOB, alert_key, due_deal_alerts
from bot.services.roster import managers_of
from jobs.base import Post

log = logging.getLogger(__name__)
DUE_FOR = timedelta(days=2)


async def compose(deps, session: AsyncSession, *, now: datetime) -> list[Post]:
    """Alerts for the stage changes of the last day that their team announces and nobody was told of yet."""
    alerts = await due_deal_alerts(session, now=now)
    if not alerts:
        return []
    teams = {a.team.id for a in alerts}
    managers: dict[int, list] = {}
    for m in await managers_of(session, workspace_id=None, team_ids=teams):
        managers.setdefault(m.team_id, []).append(m)
    q = select(Workspace.id, Workspace.currency).where(Workspace.id.in_({a.team.workspace_id for a in alerts}))
    currencies = dict((await session.execute(q)).all())
    posts = []
    for a in alerts:
        team_managers = managers.get(a.team.id, [])
        if a.team.deal_alert_channel_id:
            first = team_managers[0] if team_managers else None
            targets = [(a.team.deal_alert_channel_id, alert_key(a.change_id), first.locale if first else "en-US", a.team.timezone)]
        else:
            targets = [(m.slack_user_id, alert_key(a.change_id, m.slack_user_id), m.locale, m.tz) for m in team_managers]
        if not targets:
            log.warning("deal alert for change %s: team %s has no alert channel and no manager", a.change_id, a.team.id)
        for channel, key, locale, tz in targets:
            text, blocks = build_deal_alert(a, deps.i18n.get(locale), currency=currencies.get(a.team.workspace_id) or "CNY", tz=tz)
            posts.append(Post(workspace_id=a.team.workspace_id, key=key, job=JOB, channel=channel, text=text, blocks=blocks,
                              not_before=a.changed_at, expires_at=a.changed_at + DUE_FOR))
    return posts
