"""Who may answer a survey: its recipient only, once it was sent and until it expires."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.services import surveys as svc
from bot.services.errors import NotFound, PermissionDenied
from tests.unit import factories as f
from tests.unit.test_surveys import NOW, scheduled


def members(*people):
    async def is_member(channel, user):
        return None if people == (None,) else user in people

    return is_member


async def test_not_before_it_is_sent(session):
    w = await f.World.build(session)
    s = await scheduled(session, w, user="UCUST")
    with pytest.raises(NotFound):
        await svc.answer_survey(session, slack_team_id="T1", survey_id=s.id, responder_user_id="UCUST", score=5, now=s.send_at - timedelta(seconds=1))
    assert (await svc.answer_survey(session, slack_team_id="T1", survey_id=s.id, responder_user_id="UCUST", score=5, now=s.send_at)).changed


async def test_a_shared_channel_answer_needs_the_channel_and_its_member_list(session):
    w = await f.World.build(session)
    s = await scheduled(session, w, channel="CSHARED")
    at = NOW + timedelta(days=3)
    for channel, check in (("CGENERAL", members("UGUEST")), ("CSHARED", members("UCUST"))):
        with pytest.raises(PermissionDenied):
            await svc.answer_survey(session, slack_team_id="T1", survey_id=s.id, responder_user_id="UGUEST", score=5, now=at, channel_id=channel, is_member=check)
    answer = await svc.answer_survey(session, slack_team_id="T1", survey_id=s.id, responder_user_id="UGUEST", score=5, now=at, channel_id="CSHARED", is_member=members("UGUEST"))
    assert answer.changed
    # When Slack cannot tell, the channel the click came from stands.
    assert (await svc.answer_survey(session, slack_team_id="T1", survey_id=s.id, responder_user_id="UGUEST", score=4, now=at, channel_id="CSHARED", is_member=members(None))).changed


async def test_the_rep_records_only_a_manual_survey(session):
    w = await f.World.build(session)
    dm = await scheduled(session, w, user="UCUST", source_id=1)
    at = NOW + timedelta(days=3)
    with pytest.raises(PermissionDenied):
        await svc.answer_survey(session, slack_team_id="T1", survey_id=dm.id, responder_user_id="UREP1", score=5, now=at)


async def test_an_id_out_of_range_is_not_found(session):
    await f.World.build(session)
    with pytest.raises(NotFound):
        await svc.load_survey(session, slack_team_id="T1", survey_id=10**30)
