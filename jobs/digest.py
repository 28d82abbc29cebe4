"""The "weekly" and "monthly" jobs: each team's meeting digest, with its three pictures in the thread.

Weekly: on the team's digest weekday at the digest time (team zone), key
`weekly:<team>:<ISO week of the digest day>`. Monthly: on the team's first working day of the
month at the digest time, key `monthly:<team>:<YYYY-MM of the digest day>`. A post is due from
that moment to the team's local midnight. The digest goes to the team's channel; a team
without one gets it as a DM to each manager (the key then ends with the manager's user id).
With check-ins on, each rep who answered gets one reply in the digest's thread, keyed
`<digest key>:rep:<user>`, sent once the digest itself is.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.digest import build_digest_message, standup_replies
from bot.blocks.pictures import digest_pictures
from bot.models import OutboxMessage
from bot.services.digest import MONTHLY, WEEKLY, build_digest, digest_due, digest_key, digest_teams, digest_window, picture_figures
from bot.services.roster import managers_of
from bot.services.team_settings import TeamSchedule
from jobs.base import Post

log = logging.getLogger(__name__)


async def _queued(session: AsyncSession, kind: str, keys: list[str], now: datetime) -> set[str]:
    """Which of these digest keys (or their per-manager variants) are already in the outbox (one query)."""
    if not keys:
        return set()
    q = select(OutboxMessage.key).where(OutboxMessage.job == kind, OutboxMessage.not_before > now - timedelta(days=2))
    existing = set((await session.execute(q)).scalars())
    return {k for k in keys if k in existing or any(e.startswith(k + ":") for e in existing)}


async def compose_digest(deps, session: AsyncSession, *, now: datetime, kind: str) -> list[Post]:
    """The digests of `kind` due at `now`: one post to the team's channel, or one DM per manager."""
    due = []
    for team in await digest_teams(session):
        schedule = TeamSchedule.from_team(team)
        day = digest_due(kind, schedule, now)
        if day is not None:
            due.append((team, schedule, day, digest_key(kind, team.id, day)))
    queued = await _queued(session, kind, [key for *_, key in due], now)
    due = [entry for entry in due if entry[3] not in queued]
    managers: dict[int, list] = {}
    for m in await managers_of(session, workspace_id=None, team_ids=[team.id for team, *_ in due]):
        managers.setdefault(m.team_id, []).append(m)
    posts: list[Post] = []
    for team, schedule, day, key in due:
        team_managers = managers.get(team.id, [])
        if schedule.digest_channel_id:
            # A channel reads one language: the first manager's, else English.
            targets = [(schedule.digest_channel_id, key, team_managers[0].locale if team_managers else "en-US")]
        else:
            targets = [(m.slack_user_id, f"{key}:{m.slack_user_id}", m.locale) for m in team_managers]
        if not targets:
            log.warning("%s digest of team %s: no channel and no manager to send it to", kind, team.id)
            continue
        digest = await build_digest(session, team=team, kind=kind, day=day, now=now)
        pictures = await picture_figures(session, team=team, as_of=digest.period.end - timedelta(days=1))
        start, end = digest_window(schedule, day)
        charts: dict[str, list[dict]] = {}
        for channel, post_key, locale in targets:
            loc = deps.i18n.get(locale)
            text, blocks = build_digest_message(digest, loc)
            if loc.language not in charts:
                # Drawing takes a moment: off the event loop, so the sender keeps sending meanwhile.
                charts[loc.language] = await asyncio.to_thread(digest_pictures, digest, pictures, loc)
            posts.append(Post(
                workspace_id=team.workspace_id, key=post_key, job=kind, channel=channel, text=text, blocks=blocks,
                not_before=start, expires_at=end, files=charts[loc.language],
            ))
            # Each rep's check-in answers beside their figures, one reply each in the digest's thread.
            for user_id, reply_text, reply_blocks in standup_replies(digest, loc):
                posts.append(Post(
                    workspace_id=team.workspace_id, key=f"{post_key}:rep:{user_id}", job=kind, channel=channel, text=reply_text,
                    blocks=reply_blocks, not_before=start, expires_at=end, thread_of=post_key,
                ))
    return posts


async def compose_weekly(deps, session: AsyncSession, *, now: datetime) -> list[Post]:
    """Weekly meeting digests due at `now` (the team's weekday and time, in its zone)."""
    return await compose_digest(deps, session, now=now, kind=WEEKLY)


async def compose_monthly(deps, session: AsyncSession, *, now: datetime) -> list[Post]:
    """Monthly digests due at `now` (the team's first working day of the month, at the digest time)."""
    return await compose_digest(deps, session, now=now, kind=MONTHLY)
