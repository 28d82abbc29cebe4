"""Suggestions: anonymous ones keep no author, managers decide for their team, the digest's query."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.blocks.suggestions import build_decision_notice, build_suggest_modal, build_suggestion_list
from bot.models import Suggestion, SuggestionStatus
from bot.parsing import parse_suggest
from bot.services import suggestions as svc
from bot.services.errors import NotOnRoster, PermissionDenied, ValidationFailed
from bot.standin import limits
from tests.unit import factories as f

NOW = datetime(2031, 3, 10, 8, 0, tzinfo=timezone.utc)


async def test_anonymous_suggestion_stores_no_author_and_logs_none(session, caplog):
    w = await f.World.build(session)
    with caplog.at_level(logging.DEBUG):
        s = await svc.create_suggestion(session, actor=w.rep1, text="  Share call scripts  ", anonymous=True, now=NOW)
    await session.commit()
    row = (await session.execute(select(Suggestion).where(Suggestion.id == s.id))).scalar_one()
    assert row.author_id is None and row.team_id == w.east.id and row.text == "Share call scripts"
    assert "UREP1" not in caplog.text and str(w.rep1_m.id) not in [str(getattr(r, "author_id", "")) for r in caplog.records]
    named = await svc.create_suggestion(session, actor=w.rep2, text="Visit key accounts monthly", anonymous=False, now=NOW)
    assert named.author_id == w.rep2_m.id


async def test_text_is_required_and_bounded(session):
    w = await f.World.build(session)
    for text in ("", "   "):
        with pytest.raises(ValidationFailed):
            await svc.create_suggestion(session, actor=w.rep1, text=text, anonymous=False)
    with pytest.raises(ValidationFailed) as exc:
        await svc.create_suggestion(session, actor=w.rep1, text="x" * 3001, anonymous=False)
    assert exc.value.errors["text"][0] == "suggest.error.too_long"
    with pytest.raises(NotOnRoster):
        await svc.create_suggestion(session, actor=w.outsider, text="hello", anonymous=False)


async def test_managers_see_and_decide_their_team_only(session):
    w = await f.World.build(session)
    east = await svc.create_suggestion(session, actor=w.rep1, text="East idea", anonymous=False, now=NOW)
    west = await svc.create_suggestion(session, actor=w.rep_w, text="West idea", anonymous=True, now=NOW)
    rows, total = await svc.list_new_suggestions(session, actor=w.mgr)
    assert [r.suggestion.id for r in rows] == [east.id] and total == 1 and rows[0].author_user_id == "UREP1"
    rows, total = await svc.list_new_suggestions(session, actor=w.admin)
    assert total == 2 and rows[1].author_user_id is None
    with pytest.raises(PermissionDenied):
        await svc.list_new_suggestions(session, actor=w.rep1)
    with pytest.raises(PermissionDenied):
        await svc.decide_suggestion(session, actor=w.mgr, suggestion_id=west.id, status=SuggestionStatus.PLANNED)
    row, changed = await svc.decide_suggestion(session, actor=w.mgr, suggestion_id=east.id, status=SuggestionStatus.PLANNED, now=NOW)
    assert changed and row.suggestion.status == SuggestionStatus.PLANNED and row.suggestion.decided_at == NOW
    _row, again = await svc.decide_suggestion(session, actor=w.mgr, suggestion_id=east.id, status=SuggestionStatus.PLANNED)
    assert not again, "a double click decides once"
    assert (await svc.author_of(session, suggestion=row.suggestion)).slack_user_id == "UREP1"
    assert await svc.author_of(session, suggestion=west) is None
    assert (await svc.list_new_suggestions(session, actor=w.mgr))[1] == 0


async def test_new_suggestions_for_the_digest(session):
    w = await f.World.build(session)
    await svc.create_suggestion(session, actor=w.rep1, text="old", anonymous=False, now=NOW - timedelta(days=8))
    new = await svc.create_suggestion(session, actor=w.rep2, text="new", anonymous=True, now=NOW - timedelta(days=1))
    await svc.create_suggestion(session, actor=w.rep_w, text="other team", anonymous=False, now=NOW)
    found = await svc.new_suggestions(session, team_id=w.east.id, since=NOW - timedelta(days=7))
    assert [s.id for s in found] == [new.id]


def test_parse_suggest():
    assert parse_suggest("") == ("new", "")
    assert parse_suggest("list") == ("list", "")
    assert parse_suggest("Fewer &lt;meetings&gt;") == ("new", "Fewer <meetings>")


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_builders_fit_slack_and_escape(lang):
    loc = f.loc(lang)
    assert limits.validate_view(build_suggest_modal(loc, text="x" * 4000, metadata={"ru": None})) == []
    rows = [svc.SuggestionRow(Suggestion(id=i, workspace_id=1, team_id=1, text="<!channel> " + "y" * 2990, status=SuggestionStatus.NEW, created_at=NOW), "East", None if i % 2 else "UREP1") for i in range(1, 26)]
    text, blocks = build_suggestion_list(rows[:20], 25, loc, tz="Asia/Shanghai")
    assert limits.validate_message_args({"channel": "C1", "text": text, "blocks": blocks}) == []
    assert "<!channel>" not in str(blocks)
    text, blocks = build_decision_notice(rows[1], loc, decided_by="UMGR")
    assert limits.validate_message_args({"channel": "C1", "text": text, "blocks": blocks}) == [] and "<@UMGR>" in str(blocks)
