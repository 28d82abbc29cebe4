"""Customer satisfaction surveys: scheduled after a won deal or a finished after-sales task."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Customer, SalesTeam, Survey, SurveyStatus, utcnow

SURVEY_LIFETIME = timedelta(days=14)


async def schedule_survey(
    session: AsyncSession, *, workspace_id: int, customer: Customer, rep_id: int | None, team: SalesTeam | None,
    source: str, source_id: int, now: datetime | None = None,
) -> Survey:
    """Schedule one survey per deal or task (a second call changes nothing).

    A customer with no Slack contact gets a MANUAL survey: the rep is asked to record
    the customer's answer by hand instead.
    """
    now = now or utcnow()
    delay = timedelta(days=team.survey_delay_days if team else 3)
    has_contact = bool(customer.contact_channel_id or customer.contact_user_id)
    values = dict(
        workspace_id=workspace_id, customer_id=customer.id, rep_id=rep_id, source=source, source_id=source_id,
        status=(SurveyStatus.SCHEDULED if has_contact else SurveyStatus.MANUAL).value,
        send_at=now + delay, expires_at=now + delay + SURVEY_LIFETIME, comment="", created_at=now,
    )
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    await session.execute(insert(Survey).values(**values).on_conflict_do_nothing(index_elements=["workspace_id", "source", "source_id"]))
    q = select(Survey).where(Survey.workspace_id == workspace_id, Survey.source == source, Survey.source_id == source_id)
    return (await session.execute(q)).scalar_one()
