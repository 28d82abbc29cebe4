"""Edges through signed requests: periods at the end of the range, the amount cap, credits, and replies sent only after the commit."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from slack_bolt.context.respond.async_respond import AsyncRespond
from sqlalchemy import select

from bot.blocks import ids
from bot.csvio import ImportFailed, import_csv
from bot.models import Deal, Member, PlaybookItem, Role, Stage, Target, Workspace
from tests.scenario.conftest import ADMIN, MANAGER, REP1, settle
from tests.scenario.helpers import east_team, shown_text

NOW = datetime(2027, 5, 20, 2, 0, tzinfo=timezone.utc)


async def answer(driver, command: str, text: str, *, user: str = MANAGER) -> str:
    """Run a slash command; the one reply it sends, as the text a member reads."""
    reply = await driver.slash(command, text, user=user)
    assert reply.status == 200, reply
    [response] = await reply.responses()
    await settle()
    return response["text"] + " " + shown_text(response.get("blocks"))


async def workspace(db) -> Workspace:
    async with db.session() as s:
        return (await s.execute(select(Workspace))).scalar_one()


async def import_file(db, kind: str, text: str) -> None:
    """Import a CSV file as `salesbot import` does (one transaction)."""
    ws = await workspace(db)
    async with db.session() as s:
        await import_csv(s, workspace=ws, kind=kind, data=text.encode(), now=NOW)


# -- periods at the edge of the range: refused at parsing, with the usual hint ------------------

EDGE = [
    ("/target", "set 2999 100"), ("/target", "set 2999-Q4 100"), ("/target", "set 2999-12 100"), ("/target", "set 2999-W52 100"),
    ("/target", "2999"), ("/target", "2999-Q4"), ("/target", "2999-12"), ("/target", "1970"), ("/target", "1970-01"),
    ("/target", "split 2999 by quarter"),
    ("/pipeline", "2999"), ("/pipeline", "2999-Q4"), ("/pipeline", "2999-12"), ("/pipeline", "1970-Q1"),
    ("/kpi", "2999"), ("/kpi", "2999-Q4"), ("/kpi", "2999-12"), ("/kpi", "1970"), ("/kpi", "1970-01"), ("/kpi", "1970-W01"),
]


@pytest.mark.parametrize("command, text", EDGE)
async def test_a_period_whose_neighbour_is_out_of_range_gets_the_period_hint(driver, slack, db, command, text):
    await east_team(driver)
    said = await answer(driver, command, text)
    period = text.split()[1] if text.startswith(("set ", "split ")) else text
    assert f"`{period}` is not a period. Use a year `2027`" in said, said
    async with db.session() as s:
        assert (await s.execute(select(Target))).first() is None


async def test_the_periods_just_inside_the_range_work(driver, slack, db):
    await east_team(driver)
    assert ":dart: Target for *November 2999*" in await answer(driver, "/target", "set 2999-11 100")
    assert "Targets · East · November 2999" in await answer(driver, "/target", "2999-11")
    for command, text in [("/kpi", "2999-11"), ("/kpi", "1970-02"), ("/kpi", "1971"), ("/pipeline", "2999-Q3"), ("/pipeline", "1970-Q2")]:
        said = await answer(driver, command, text)
        assert "is not a period" not in said and "Something went wrong" not in said, (command, text, said)


async def test_the_csv_import_refuses_the_same_periods(driver, slack, db):
    await east_team(driver)
    with pytest.raises(ImportFailed) as caught:
        await import_file(db, "targets", "external_id,team,period,amount\nT-1,East,2999,100\nT-2,East,1970-01,100\nT-3,East,2999-11,100\n")
    assert [(e.line, e.column, e.key) for e in caught.value.errors] == [(2, "period", "csv.error.period"), (3, "period", "csv.error.period")]


# -- the amount cap ----------------------------------------------------------------------------

async def test_amounts_above_the_cap_are_refused_saying_the_cap(driver, slack, db):
    await east_team(driver)
    said = await answer(driver, "/target", "set 2027 1000000000000.01")
    assert "`1000000000000.01` is too large: an amount is at most 1,000,000,000,000." in said, said
    said = await answer(driver, "/expense", "10001亿 travel", user=REP1)
    assert "`10001亿` is too large: an amount is at most 1,000,000,000,000." in said, said
    reply = await driver.slash("/deal", "", user=REP1)
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    refused = await driver.submit_view(call.response["view"]["id"], user=REP1, values={
        ids.DEAL_NEW_CUSTOMER: "Huge Co", ids.DEAL_PRODUCT: "A", ids.DEAL_AMOUNT: "9,999,999,999,999,999.99",
    })
    assert refused.body == {"response_action": "errors", "errors": {ids.DEAL_AMOUNT: "`9,999,999,999,999,999.99` is too large: an amount is at most 1,000,000,000,000."}}
    await settle()
    async with db.session() as s:
        assert (await s.execute(select(Target))).first() is None and (await s.execute(select(Deal))).first() is None


async def test_ten_won_deals_at_the_cap_still_add_up(driver, slack, db, clock):
    clock.now = NOW
    await east_team(driver)
    await import_file(db, "customers", "external_id,name\nC-1,Big Co\n")
    huge = "external_id,customer,owner,team,amount,status,won_at\n" + "".join(
        f"D-{i},C-1,{REP1},East,9999999999999999.99,won,2027-03-0{i % 9 + 1}T10:00:00+08:00\n" for i in range(10)
    )
    with pytest.raises(ImportFailed) as caught:
        await import_file(db, "deals", huge)
    assert {e.key for e in caught.value.errors} == {"csv.error.amount_too_large"} and len(caught.value.errors) == 10
    await import_file(db, "deals", huge.replace("9999999999999999.99", "1000000000000.00"))
    assert ":dart:" in await answer(driver, "/target", "set 2027 50000000")
    said = await answer(driver, "/target", "2027")
    assert "Something went wrong" not in said and "2027" in said, said
    said = await answer(driver, "/kpi", "2027")
    assert "Something went wrong" not in said, said
    said = await answer(driver, "/pipeline", "2027")
    assert "Something went wrong" not in said, said


# -- credits: read and shown exactly everywhere --------------------------------------------------

async def test_an_imported_credit_shows_exactly_in_the_deal_form_and_saves_unchanged(driver, slack, db):
    await east_team(driver)
    await import_file(db, "customers", "external_id,name\nC-1,Refund Co\n")
    await import_file(db, "deals", f"external_id,customer,owner,team,product_line,amount\nD-1,C-1,{REP1},East,A,-80.50\n")
    async with db.session() as s:
        deal = (await s.execute(select(Deal))).scalar_one()
    assert deal.amount == -8_050

    reply = await driver.slash("/deal", str(deal.id), user=REP1)
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    modal = call.response["view"]
    [amount] = [b for b in modal["blocks"] if b["block_id"] == ids.DEAL_AMOUNT]
    assert amount["element"]["initial_value"] == "-80.50"
    saved = await driver.submit_view(modal["id"], user=REP1, values={})
    assert saved.status == 200 and not saved.body, saved.body
    await settle()
    async with db.session() as s:
        assert (await s.get(Deal, deal.id)).amount == -8_050

    # A credit typed in the form is read the same way; a target or an expense is never negative.
    reply = await driver.slash("/deal", str(deal.id), user=REP1)
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    saved = await driver.submit_view(call.response["view"]["id"], user=REP1, values={ids.DEAL_AMOUNT: "-¥1.5万"})
    assert saved.status == 200 and not saved.body, saved.body
    await settle()
    async with db.session() as s:
        assert (await s.get(Deal, deal.id)).amount == -1_500_000
    assert "`-5` is not an amount" in await answer(driver, "/target", "set 2027 -5")
    assert "`-5` is not an amount" in await answer(driver, "/expense", "-5 travel", user=REP1)


# -- replies after the commit --------------------------------------------------------------------

@pytest.fixture
def at_reply(monkeypatch, db):
    """Runs a query on another connection at the moment the bot sends each reply; returns what it read."""
    probe: dict = {"query": None, "seen": []}
    original = AsyncRespond.__call__

    async def respond(self, *args, **kwargs):
        if probe["query"] is not None:
            async with db.session() as s:
                probe["seen"].append(await probe["query"](s))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(AsyncRespond, "__call__", respond)
    return probe


async def scalars(s, q) -> list:
    return list((await s.execute(q)).scalars())


async def test_replies_are_sent_after_the_commit(driver, slack, db, at_reply):
    await east_team(driver)
    await answer(driver, "/target", "set 2027 100")

    at_reply["query"] = lambda s: scalars(s, select(Target.amount).where(Target.dimension == "total"))
    await answer(driver, "/target", "set 2027 200")
    at_reply["query"] = lambda s: scalars(s, select(Target.key).where(Target.dimension == "product").order_by(Target.key))
    await answer(driver, "/target", "split 2027 by product A=60% B=40%")
    at_reply["query"] = lambda s: scalars(s, select(Member.role).where(Member.slack_user_id == "UNEWREP"))
    slack.add_user("UNEWREP", name="New Rep", tz="UTC", locale="en-US", is_admin=False)
    await answer(driver, "/salesbot", "team add <@UNEWREP> rep team:East", user=ADMIN)
    at_reply["query"] = lambda s: scalars(s, select(PlaybookItem.title).where(PlaybookItem.stage == Stage.PROPOSAL))
    await answer(driver, "/deal", 'playbook proposal set "Send the quote"')
    assert at_reply["seen"] == [[20_000], ["A", "B"], [Role.REP], ["Send the quote"]]
