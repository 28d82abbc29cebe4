"""The "standup" job: check-in DMs, the one reminder, and the daily standup report.

Weekly check-in: on the team's last working day before the weekly digest, at the standup time in
each rep's own zone, key `checkin:<team>:<user>:<ISO week of the digest day>`; a rep on leave that
day is skipped. Reminder: in the two hours before the digest, once, to reps who were asked and have
not answered, key `checkin-remind:<team>:<user>:<week>`. Daily (when on): a check-in DM at the
team's daily time (team zone) keyed by the team's date, and at the daily standup time the report
in the team's channel (`standup-daily:<team>:<date>`) with one thread reply per rep who answered.
Every statement is batched over teams and reps; the outbox's keys make every tick harmless.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.standup import build_checkin_dm, build_daily_report, build_rep_reply
from bot.models import Member, OutboxMessage, OutboxStatus
from bot.services.roster import managers_of
from bot.services.standup import (
    DAILY, WEEKLY, CheckInRef, StandupSettings, Window, answered_ids, checkin_key, closes_at, daily_checkin_window, daily_report_key,
    daily_report_window, load_standup, on_leave_ids, reminder_key, reminder_window, standup_teams, team_reps, weekly_checkin_window,
)
from bot.services.team_settings import TeamSchedule
from jobs.base import Post

log = logging.getLogger(__name__)

CHECKIN_JOB, REMIND_JOB, DAILY_JOB = "checkin", "checkin.remind", "standup.daily"


async def _outbox_keys(session: AsyncSession, now: datetime) -> dict[str, OutboxStatus]:
    """The standup's recent outbox keys and their status (one query), so a tick composes nothing twice."""
    q = select(OutboxMessage.key, OutboxMessage.status).where(
        # A week back: a reminder looks for its check-in, sent up to a week before the digest.
        OutboxMessage.job.in_([CHECKIN_JOB, REMIND_JOB, DAILY_JOB]), OutboxMessage.not_before > now - timedelta(days=8)
    )
    return {k: s for k, s in (await session.execute(q)).all()}


def _dm(deps, m: Member, *, ref: CheckInRef, team_name: str, window: Window, closes: datetime, key: str, job: str, reminder: bool = False) -> Post:
    loc = deps.i18n.get(m.locale)
    text, blocks = build_checkin_dm(loc, ref=ref, team_name=team_name, closes_at=closes, tz=m.tz, reminder=reminder)
    return Post(workspace_id=m.workspace_id, key=key, job=job, channel=m.slack_user_id, text=text, blocks=blocks,
                not_before=window.not_before, expires_at=window.expires_at)


async def compose(deps, session: AsyncSession, *, now: datetime) -> list[Post]:
    """Check-in DMs, reminders and daily reports due at `now`, in a fixed number of statements."""
    teams = await standup_teams(session)
    if not teams:
        return []
    reps = await team_reps(session, [t.id for t in teams])
    known = await _outbox_keys(session, now)
    asks: list[tuple] = []  # (team, rep, ref, window, closes, key)
    reminders: list[tuple] = []
    reports: list[tuple] = []
    for team in teams:
        schedule, settings = TeamSchedule.from_team(team), StandupSettings.from_team(team)
        members = reps.get(team.id, [])
        if settings.enabled:
            for m in members:
                w = weekly_checkin_window(schedule, settings, m.tz, now)
                if w is not None and checkin_key(WEEKLY, team.id, m.slack_user_id, w.period) not in known:
                    # The DM goes out that evening; the answers stay open until the digest.
                    closes = closes_at(schedule, settings, WEEKLY, w.period)
                    asks.append((team, m, CheckInRef(WEEKLY, team.id, w.period), w, closes, checkin_key(WEEKLY, team.id, m.slack_user_id, w.period)))
            r = reminder_window(schedule, now)
            if r is not None:
                for m in members:
                    if known.get(checkin_key(WEEKLY, team.id, m.slack_user_id, r.period)) == OutboxStatus.SENT and reminder_key(team.id, m.slack_user_id, r.period) not in known:
                        reminders.append((team, m, CheckInRef(WEEKLY, team.id, r.period), r))
        if settings.daily:
            w = daily_checkin_window(schedule, settings, now)
            if w is not None:
                for m in members:
                    key = checkin_key(DAILY, team.id, m.slack_user_id, w.period)
                    if key not in known:
                        asks.append((team, m, CheckInRef(DAILY, team.id, w.period), w, w.expires_at, key))
            r = daily_report_window(schedule, settings, now)
            if r is not None and daily_report_key(team.id, r.period) not in known:
                reports.append((team, schedule, settings, r))

    posts: list[Post] = []
    away = await on_leave_ids(session, [a[1].id for a in asks], sorted({a[3].day for a in asks}))
    for team, m, ref, w, closes, key in asks:
        if (m.id, w.day) in away:
            posts.append(Post(workspace_id=m.workspace_id, key=key, job=CHECKIN_JOB, channel=m.slack_user_id, text="", blocks=[],
                              not_before=w.not_before, expires_at=w.expires_at, skip=True))
            continue
        posts.append(_dm(deps, m, ref=ref, team_name=team.name, window=w, closes=closes, key=key, job=CHECKIN_JOB))

    if reminders:
        done = await answered_ids(session, sorted({t.id for t, *_ in reminders}), sorted({r.period for *_, r in reminders}))
        for team, m, ref, r in reminders:
            if (team.id, m.id, r.period) not in done:
                posts.append(_dm(deps, m, ref=ref, team_name=team.name, window=r, closes=r.expires_at, key=reminder_key(team.id, m.slack_user_id, r.period),
                                 job=REMIND_JOB, reminder=True))

    for team, schedule, settings, r in reports:
        posts.extend(await _daily_report(deps, session, team=team, schedule=schedule, settings=settings, window=r, reps=reps.get(team.id, [])))
    if posts:
        log.info("standup at %s: %d check-ins, %d reminders, %d daily reports", now.isoformat(),
                 sum(p.job == CHECKIN_JOB and not p.skip for p in posts), sum(p.job == REMIND_JOB for p in posts), len(reports))
    return posts


async def _daily_report(deps, session: AsyncSession, *, team, schedule: TeamSchedule, settings: StandupSettings, window: Window, reps: list[Member]) -> list[Post]:
    """A team's daily report in its channel, and one thread reply per rep who answered."""
    key = daily_report_key(team.id, window.period)
    if not schedule.digest_channel_id:
        log.warning("daily standup of team %s: no channel to post the report in", team.id)
        return [Post(workspace_id=team.workspace_id, key=key, job=DAILY_JOB, channel="", text="", blocks=[], not_before=window.not_before,
                     expires_at=window.expires_at, skip=True)]
    s = await load_standup(session, team=team, kind=DAILY, period=window.period, previous=None, reps=reps, asked_on=window.day, today=window.day)
    managers = await managers_of(session, workspace_id=None, team_ids=[team.id])
    loc = deps.i18n.get(managers[0].locale if managers else "en-US")
    text, blocks = build_daily_report(loc, s, team_name=team.name, day_label=loc.date(window.day), total=len(reps))
    channel = schedule.digest_channel_id
    posts = [Post(workspace_id=team.workspace_id, key=key, job=DAILY_JOB, channel=channel, text=text, blocks=blocks,
                  not_before=window.not_before, expires_at=window.expires_at)]
    for c in s.checkins:
        reply_text, reply_blocks = build_rep_reply(loc, checkin=c, figures=None, settings=settings, repeated=False, see_all_value=str(c.checkin_id))
        posts.append(Post(workspace_id=team.workspace_id, key=f"{key}:rep:{c.member.slack_user_id}", job=DAILY_JOB, channel=channel,
                          text=reply_text, blocks=reply_blocks, not_before=window.not_before, expires_at=window.expires_at, thread_of=key))
    return posts
