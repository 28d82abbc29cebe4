"""The "surveys" job: due satisfaction surveys become posts to the customer's contact (or to the rep)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.surveys import build_survey_request
from bot.services.actors import ProfileFetcher, SlackProfile
from bot.services.surveys import SurveyContext, due_survey_reminders, due_surveys, expire_surveys, outbox_key, reminder_key
from jobs.base import Post

log = logging.getLogger(__name__)

JOB = "surveys"
REMINDER_JOB = "survey_reminders"


async def _fetcher(deps, workspace_id: int) -> ProfileFetcher | None:
    """users.info with the workspace's bot token, when it has one (a dry run may have none)."""
    token = await deps.tokens.for_workspace(workspace_id)
    if not token:
        return None
    from bot.slackapi import make_client, profile_fetcher  # the composer needs Slack only to learn a contact's language

    return profile_fetcher(make_client(deps.settings, token=token))


async def compose(deps, session: AsyncSession, *, now: datetime, fetch_profile: ProfileFetcher | None = None) -> list[Post]:
    """Expire old surveys and turn the due ones into posts keyed `survey:<id>`, sent once by the outbox."""
    expired = await expire_surveys(session, now=now)
    if expired:
        log.info("%d unanswered surveys expired", expired)
    return await _posts(deps, await due_surveys(session, now=now), fetch_profile, job=JOB, key=outbox_key, reminder=False, now=now)


async def compose_reminders(deps, session: AsyncSession, *, now: datetime, fetch_profile: ProfileFetcher | None = None) -> list[Post]:
    """One reminder, keyed `survey-reminder:<id>`, to a customer who has not answered after the team's reminder days."""
    due = await due_survey_reminders(session, now=now)
    return await _posts(deps, due, fetch_profile, job=REMINDER_JOB, key=reminder_key, reminder=True, now=now)


async def _posts(deps, due: list[SurveyContext], fetch_profile: ProfileFetcher | None, *, job: str, key, reminder: bool, now: datetime) -> list[Post]:
    """The surveys' posts, each in the customer's language when Slack tells it (with the workspace's own token)."""
    fetchers: dict[int, ProfileFetcher | None] = {}
    profiles: dict[str, SlackProfile | None] = {}
    posts = []
    for ctx in due:
        target = _target(ctx)
        if target is None:
            log.warning("survey %s has neither a contact nor a rep: not sent", ctx.survey.id)
            continue
        locale, tz = ctx.rep.locale if ctx.rep else "en-US", ctx.rep.tz if ctx.rep else "UTC"
        contact = None if ctx.manual else ctx.customer.contact_user_id
        if contact and fetch_profile is None and ctx.workspace.id not in fetchers:
            fetchers[ctx.workspace.id] = await _fetcher(deps, ctx.workspace.id)
        fetch = fetch_profile if fetch_profile is not None else fetchers.get(ctx.workspace.id)
        if contact and fetch is not None:
            # Surveys speak the customer's language when Slack tells us it (users.info), else the rep's.
            if contact not in profiles:
                profiles[contact] = await fetch(contact)
            if profiles[contact] is not None:
                locale, tz = profiles[contact].locale, profiles[contact].tz
        text, blocks = build_survey_request(ctx, deps.i18n.get(locale), tz=tz, reminder=reminder)
        posts.append(Post(
            workspace_id=ctx.workspace.id, key=key(ctx.survey.id), job=job, channel=target, text=text, blocks=blocks,
            not_before=now if reminder else ctx.survey.send_at, expires_at=ctx.survey.expires_at,
        ))
    return posts


def _target(ctx: SurveyContext) -> str | None:
    """The Slack Connect channel, else the external user (a DM); the rep for a manual survey."""
    if ctx.manual:
        return ctx.rep.slack_user_id if ctx.rep else None
    return ctx.customer.contact_channel_id or ctx.customer.contact_user_id
