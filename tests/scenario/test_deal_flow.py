"""My deals: `/deal list` for reps and managers, Lost with a reason, a manager's Reopen, and /pipeline's reasons."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlalchemy import select

from bot.blocks import ids
from bot.models import Deal, DealStageChange, DealStatus, LostReason
from tests.scenario.conftest import MANAGER, MANAGER_W, REP1, REP2, settle
from tests.scenario.helpers import action_ids, both_teams, click, shown_text
from tests.scenario.test_races import burst, submit_until_saved


async def new_deal(driver, slack, *, user: str, title: str, amount: str = "1万", close: date | None = None) -> None:
    """Create a deal through /deal's modal."""
    reply = await driver.slash("/deal", "", user=user)
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    values = {ids.DEAL_NEW_CUSTOMER: f"{title} Co", ids.DEAL_PRODUCT: "A", ids.DEAL_TITLE: title, ids.DEAL_AMOUNT: amount}
    if close:
        values[ids.DEAL_CLOSE] = close.isoformat()
    saved = await driver.submit_view(call.response["view"]["id"], user=user, values=values)
    assert saved.status == 200 and not saved.body, saved.body
    await settle()


async def deal_list(driver, user: str, text: str = "") -> dict:
    """Run `/deal list text` and return the ephemeral it left."""
    reply = await driver.slash("/deal", f"list {text}".strip(), user=user)
    assert reply.status == 200, reply
    await reply.responses()
    await settle()
    return driver.slack.ephemerals_for(user)[-1]


def deal_ids(message: dict) -> list[int]:
    return [int(b["block_id"].split("-")[1]) for b in message["blocks"] if b.get("type") == "actions" and (b.get("block_id") or "").startswith("deal-")]


def value_of(message: dict, action_id: str, deal_id: int) -> str:
    block = next(b for b in message["blocks"] if b.get("block_id") == f"deal-{deal_id}")
    return next(e["value"] for e in block["elements"] if e["action_id"] == action_id)


async def deal_named(db, title: str) -> Deal:
    async with db.session() as s:
        return (await s.execute(select(Deal).where(Deal.title == title))).scalar_one()


async def changes(db, deal_id: int) -> list[DealStageChange]:
    async with db.session() as s:
        return list((await s.execute(select(DealStageChange).where(DealStageChange.deal_id == deal_id).order_by(DealStageChange.id))).scalars())


async def open_modal_from(driver, slack, message: dict, action_id: str, deal_id: int, *, user: str) -> dict:
    """Click a card button that opens a modal; return the modal."""
    reply = await click(driver, message, action_id, user=user, value=value_of(message, action_id, deal_id))
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    return call.response["view"]


async def test_lists_lost_with_a_reason_reopen_and_pipeline_counts(driver, slack, db, clock):
    await both_teams(driver)
    today = clock.today(REP1)
    for k in range(12):
        await new_deal(driver, slack, user=REP1, title=f"Ray {k:02d}", close=today + timedelta(days=30 - k) if k != 5 else None)
    await new_deal(driver, slack, user=REP2, title="Rita 1")

    # A rep's own open deals, soonest expected close first, undated last, paginated.
    mine = await deal_list(driver, REP1)
    assert mine["blocks"][0]["text"]["text"] == "Open deals (12)"
    first = deal_ids(mine)
    ray = {k: (await deal_named(db, f"Ray {k:02d}")).id for k in range(12)}
    assert first == [ray[k] for k in (11, 10, 9, 8, 7, 6, 4, 3, 2, 1)]
    await click(driver, mine, ids.DEALS_NEXT, user=REP1)
    mine = slack.find_message(mine["id"])
    assert deal_ids(mine) == [ray[0], ray[5]] and "Page 2 of 2" in shown_text(mine["blocks"])
    assert ids.DEAL_REOPEN not in action_ids(mine["blocks"])
    refused = await deal_list(driver, REP1, "team")
    assert "Only managers and admins" in shown_text(refused["blocks"])

    # Lost asks why first: the modal refuses "other" without words, then records the reason once; the list redraws in place.
    modal = await open_modal_from(driver, slack, mine, ids.DEAL_LOST, ray[0], user=REP1)
    assert (await deal_named(db, "Ray 00")).status == DealStatus.OPEN
    no_words = await driver.submit_view(modal["id"], user=REP1, values={ids.LOST_REASON: "other"})
    assert set(no_words.body["errors"]) == {ids.LOST_NOTE}
    saved = await driver.submit_view(modal["id"], user=REP1, values={ids.LOST_REASON: "competitor", ids.LOST_NOTE: "Went with <Initech> & co"})
    assert saved.status == 200 and not saved.body, saved.body
    await settle()
    lost = await deal_named(db, "Ray 00")
    assert (lost.status, lost.lost_reason, lost.lost_note) == (DealStatus.LOST, LostReason.COMPETITOR, "Went with <Initech> & co")
    last = (await changes(db, lost.id))[-1]
    assert (last.status, last.reason, last.note) == (DealStatus.LOST, LostReason.COMPETITOR, "Went with <Initech> & co")
    mine = slack.find_message(mine["id"])
    assert "Marked as lost." in shown_text(mine["blocks"]) and deal_ids(mine) == [ray[5]]  # page 2 of the open list, redrawn
    lost_list = await deal_list(driver, REP1, "lost")
    assert deal_ids(lost_list) == [lost.id]
    assert "Lost: Competitor · _Went with &lt;Initech&gt; &amp; co_" in shown_text(lost_list["blocks"])

    # A manager lists a rep's and the team's deals; another team's manager may not.
    team = await deal_list(driver, MANAGER, "team all")
    assert team["blocks"][0]["text"]["text"] == "All deals (13)"
    rita = await deal_list(driver, MANAGER, f"<@{REP2}>")
    assert deal_ids(rita) == [(await deal_named(db, "Rita 1")).id]
    west = await deal_list(driver, MANAGER_W, f"<@{REP1}>")
    assert "is not on your team" in shown_text(west["blocks"]) and not deal_ids(west)

    # /pipeline counts the period's losses per reason.
    pipeline = await driver.slash("/pipeline", "", user=MANAGER)
    [response] = await pipeline.responses()
    assert "Lost in the period (1), by reason" in shown_text(response["blocks"]) and "Competitor: 1" in shown_text(response["blocks"])

    # The manager reopens the lost deal with a reason: one stage change, and the pipeline no longer counts it.
    manager_lost = await deal_list(driver, MANAGER, f"<@{REP1}> lost")
    modal = await open_modal_from(driver, slack, manager_lost, ids.DEAL_REOPEN, lost.id, user=MANAGER)
    empty = await driver.submit_view(modal["id"], user=MANAGER, values={ids.REOPEN_NOTE: "   "})
    assert set(empty.body["errors"]) == {ids.REOPEN_NOTE}
    done = await driver.submit_view(modal["id"], user=MANAGER, values={ids.REOPEN_NOTE: "Initech fell through"})
    assert done.status == 200 and not done.body, done.body
    await settle()
    reopened = await deal_named(db, "Ray 00")
    assert (reopened.status, reopened.lost_at, reopened.lost_reason) == (DealStatus.OPEN, None, None)
    last = (await changes(db, lost.id))[-1]
    assert (last.status, last.note, last.reason) == (DealStatus.OPEN, "Initech fell through", None)
    assert "Reopened" in shown_text(slack.find_message(manager_lost["id"])["blocks"])
    pipeline = await driver.slash("/pipeline", "", user=MANAGER)
    [response] = await pipeline.responses()
    assert "Lost in the period" not in shown_text(response["blocks"])

    # A rep has no Reopen, and a forged one is refused.
    await new_deal(driver, slack, user=REP1, title="Won one", close=today)
    won = await deal_named(db, "Won one")
    mine = await deal_list(driver, REP1)
    await click(driver, mine, ids.DEAL_WON, user=REP1, value=value_of(mine, ids.DEAL_WON, won.id))
    assert ids.DEAL_REOPEN not in action_ids(slack.find_message(mine["id"])["blocks"])

    # The rep's Home lists open deals by expected close.
    await driver.open_home(REP1)
    await settle()
    home = shown_text(slack.home(REP1)["view"]["blocks"])
    deals = home[home.index("Your open deals"):]
    assert deals.index("#") < deals.index("Ray 11") < deals.index("Ray 03") and "Ray 01 " not in deals and "and 4 more" in deals


async def test_twenty_racing_lost_submissions_and_reopens_record_one_change_each(driver, slack, db):
    await both_teams(driver)
    await new_deal(driver, slack, user=REP1, title="Contested")
    deal = await deal_named(db, "Contested")
    card = await deal_list(driver, REP1)

    async def modals(action_id: str, user: str, source: dict) -> list[dict]:
        out = []
        for _ in range(20):
            out.append(await open_modal_from(driver, slack, source, action_id, deal.id, user=user))
        return out

    lost_views = await modals(ids.DEAL_LOST, REP1, card)
    burst(driver)
    await asyncio.gather(*(submit_until_saved(driver, v["id"], user=REP1, values={ids.LOST_REASON: "price"}) for v in lost_views))
    await settle(30)
    assert [(c.status, c.reason) for c in await changes(db, deal.id)] == [(DealStatus.OPEN, None), (DealStatus.LOST, LostReason.PRICE)]

    manager_card = await deal_list(driver, MANAGER, f"<@{REP1}> lost")
    reopen_views = await modals(ids.DEAL_REOPEN, MANAGER, manager_card)
    await asyncio.gather(*(submit_until_saved(driver, v["id"], user=MANAGER, values={ids.REOPEN_NOTE: f"try {i}"}) for i, v in enumerate(reopen_views)))
    await settle(30)
    history = await changes(db, deal.id)
    assert [c.status for c in history] == [DealStatus.OPEN, DealStatus.LOST, DealStatus.OPEN]
    assert (await deal_named(db, "Contested")).status == DealStatus.OPEN
