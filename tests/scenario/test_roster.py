"""The roster and help: who may change the team, and what each role is told."""

from __future__ import annotations

from sqlalchemy import select

from bot.models import Member, SalesTeam
from tests.scenario.conftest import ADMIN, MANAGER, OUTSIDER, REP1, REP2
from tests.scenario.helpers import add_to_roster, count, roster, salesbot, shown_text


async def test_admin_builds_the_team_and_the_roster_lists_it(driver, slack, db):
    empty = await salesbot(driver, "team", user=ADMIN)
    assert "Nobody is on a team yet." in shown_text(empty["blocks"])
    await add_to_roster(
        driver,
        f"team add <@{MANAGER}|mia> manager team:East region:East",
        f"team add <@{REP1}|ray> rep team:East region:East segment:key level:senior",
        f"team add <@{REP2}> rep team:East region:West segment:smb",
    )
    assert await roster(db) == {MANAGER: "manager", REP1: "rep", REP2: "rep"}

    listing = await salesbot(driver, "team", user=REP1)  # anyone may look at the roster
    text = shown_text(listing["blocks"])
    assert "Sales teams" in text and "*East* (3)" in text
    lines = {line.split(" · ")[0]: line for line in text.splitlines() if line.startswith("• ")}
    assert lines[f"• <@{MANAGER}>"] == f"• <@{MANAGER}> · manager · East · junior"
    assert lines[f"• <@{REP1}>"] == f"• <@{REP1}> · rep · East · key account · senior"
    assert lines[f"• <@{REP2}>"] == f"• <@{REP2}> · rep · West · SMB · junior"
    # The manager is listed before the reps.
    assert text.index(f"<@{MANAGER}>") < text.index(f"<@{REP1}>")


async def test_a_second_add_updates_the_entry_and_remove_takes_them_off(driver, db):
    await add_to_roster(driver, f"team add <@{REP1}> rep team:East", f"team add <@{REP1}> manager level:expert")
    async with db.session() as s:
        member = (await s.execute(select(Member).where(Member.slack_user_id == REP1))).scalar_one()
    assert member.role == "manager" and member.level == "expert"
    assert await count(db, SalesTeam) == 1

    removed = await salesbot(driver, f"team remove <@{REP1}|ray>", user=ADMIN)
    assert f":wave: <@{REP1}> is off the roster" in removed["text"]
    assert await roster(db) == {}
    again = await salesbot(driver, f"team remove <@{REP1}>", user=ADMIN)
    assert f"<@{REP1}> is not on a sales team." in shown_text(again["blocks"])


async def test_a_rep_cannot_change_the_roster(driver, slack, db):
    await add_to_roster(driver, f"team add <@{REP1}> rep team:East")
    before = await roster(db)

    for text in (f"team add <@{REP2}> manager team:East", f"team add <@{REP1}> manager", f"team remove <@{REP1}>"):
        refused = await salesbot(driver, text, user=REP1)
        assert refused["response_type"] == "ephemeral"
        assert "Only workspace admins can change the roster." in shown_text(refused["blocks"])
    assert await roster(db) == before
    # A refusal is an answer, not a failure: nothing was posted anywhere else.
    assert slack.calls_to("chat.postMessage") == []


async def test_bad_usage_gets_the_hint_and_changes_nothing(driver, db):
    await add_to_roster(driver, f"team add <@{REP1}> rep team:East")
    before = await roster(db)
    teams = await count(db, SalesTeam)
    cases = {
        "team add": "Usage: `/salesbot team add @user manager|rep|service",
        "team add someone rep": "Usage: `/salesbot team add @user",
        f"team add <@{REP2}> boss": "`boss` is not a role: use manager, rep or service.",
        f"team add <@{REP2}> rep colour:blue": "`colour:blue` is not an option",
        f"team add <@{REP2}> rep segment:huge": "`huge` is not a segment: use `key` or `smb`.",
        f"team add <@{REP2}> rep level:god": "`god` is not a level",
        f"team add <@{REP2}> rep team:{'x' * 81}": "at most 80 characters",
        "team remove": "Usage: `/salesbot team remove @user`",
        "team shuffle": "I don't know `shuffle`.",
        "frobnicate": "I don't know `frobnicate`.",
    }
    for text, expected in cases.items():
        reply = await salesbot(driver, text, user=ADMIN)
        assert reply["response_type"] == "ephemeral"
        assert expected in shown_text(reply["blocks"]), (text, reply)
    assert await roster(db) == before
    assert await count(db, SalesTeam) == teams


async def test_someone_on_no_team_gets_a_friendly_explanation(driver, slack):
    for text in ("", "help"):
        reply = await salesbot(driver, text, user=OUTSIDER)
        text_shown = shown_text(reply["blocks"])
        assert "You are not on a sales team yet." in text_shown
        assert "/salesbot team add @you rep" in text_shown
        assert "went wrong" not in text_shown
        assert "/salesbot team add @user" not in text_shown  # the roster commands are the admin's
    reply = await driver.slash("/mytasks", "", user=OUTSIDER)
    [answer] = await reply.responses()
    assert "You are not on a sales team yet" in shown_text(answer["blocks"])


async def test_help_depends_on_the_role(driver):
    await add_to_roster(driver, f"team add <@{MANAGER}> manager team:East", f"team add <@{REP1}> rep team:East")

    admin = shown_text((await salesbot(driver, "help", user=ADMIN))["blocks"])
    manager = shown_text((await salesbot(driver, "help", user=MANAGER))["blocks"])
    rep = shown_text((await salesbot(driver, "", user=REP1))["blocks"])

    assert "/salesbot team add @user" in admin and "/salesbot team remove @user" in admin
    assert "/assign" in admin
    assert "/salesbot team add" not in manager and "/assign" in manager and "/mytasks" in manager
    assert "/salesbot team add" not in rep and "/salesbot team remove" not in rep
    assert "/assign" not in rep and "/mytasks" in rep
    assert "not on a sales team" not in rep
    assert len({admin, manager, rep}) == 3
