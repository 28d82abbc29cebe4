"""services/events: an Events API delivery is handled once."""

from __future__ import annotations

from bot.models import ProcessedEvent
from bot.services.events import first_delivery
from tests.unit import factories as f


async def test_first_delivery_is_true_once(session):
    assert await first_delivery(session, event_id="Ev001") is True
    assert await first_delivery(session, event_id="Ev001") is False
    assert await first_delivery(session, event_id="Ev002") is True
    await session.commit()
    assert await first_delivery(session, event_id="Ev001") is False
    assert await f.count_rows(session, ProcessedEvent) == 2


async def test_first_delivery_across_sessions(db):
    async with db.sessionmaker() as s:
        assert await first_delivery(s, event_id="Ev9") is True
        await s.commit()
    async with db.sessionmaker() as s:
        assert await first_delivery(s, event_id="Ev9") is False


async def test_long_event_ids_are_cut_consistently(session):
    long_id = "Ev" + "x" * 100
    assert await first_delivery(session, event_id=long_id) is True
    assert await first_delivery(session, event_id=long_id) is False
