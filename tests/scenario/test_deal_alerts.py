"""Deal alerts: a big deal won, lost or moved back is told once, to the alert channel or to each manager."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.blocks import ids
from bot.models import Deal, OutboxMessage, SalesTeam
from tests.scenario.conftest import MANAGER, REP1, settle
from tests.scenario.helpers import both_teams, click, dm_cards, shown_text
from tests.scenario.test_deals import open_modal
from tests.scenario.test_digest_post import run

ALERTS = "C0ALERTS"


async def new_deal(driver, slack, db, *, title: str, amount: str, stage: str = "lead") -> tuple[Deal, dict]:
    """REP1 creates a deal through the /deal modal; returns it and the card the bot showed."""
    reply, modal = await open_modal(driver, slack, "/deal", user=REP1)
    fields = {ids.DEAL_NEW_CUSTOMER: f"{title} Co", ids.DEAL_SEGMENT: "key", ids.DEAL_TITLE: title, ids.DEAL_AMOUNT: amount, ids.DEAL_STAGE: stage,
              ids.DEAL_PRODUCT: "A", ids.DEAL_CLOSE: "2026-06-30"}
    saved = await driver.submit_view(modal["id"], user=REP1, values=fields)
    assert saved.status == 200 and not saved.body, saved.body
    await reply.responses()
    await settle()
    async with db.session() as s:
        deal = (await s.execute(select(Deal).where(Deal.title == title))).scalar_one()
    return deal, slack.ephemerals_for(REP1)[-1]


async def alert_settings(db, *, channel: str | None, amount: int | None = 10_000_000) -> None:
    async with db.session() as s:
        await s.execute(update(SalesTeam).where(SalesTeam.name == "East").values(deal_alert_channel_id=channel, deal_alert_min_amount=amount))


async def test_big_wins_and_moves_back_are_told_once_in_the_alert_channel(driver, slack, db, deps, clock):
    await both_teams(driver)
    slack.add_channel(ALERTS, name="deal-alerts")
    await alert_settings(db, channel=ALERTS)
    big, big_card = await new_deal(driver, slack, db, title="Globex <!here> rollout", amount="15万")
    small, small_card = await new_deal(driver, slack, db, title="Tiny add-on", amount="5000")
    back, _ = await new_deal(driver, slack, db, title="Initech renewal", amount="20万", stage="proposal")
    await click(driver, big_card, ids.DEAL_WON, user=REP1)
    await click(driver, small_card, ids.DEAL_WON, user=REP1)
    _, edit = await open_modal(driver, slack, "/deal", str(back.id), user=MANAGER)
    moved = await driver.submit_view(edit["id"], user=MANAGER, values={ids.DEAL_STAGE: "needs_analysis"})
    assert moved.status == 200 and not moved.body, moved.body
    await settle()

    # Two clocks' ticks, and a later one: one post per change.
    for minutes in (1, 1, 30):
        await run(deps, "deal_alerts", clock.now + timedelta(minutes=minutes))
    posts = [m for m in slack.messages_in(ALERTS) if not m.get("thread_ts")]
    texts = sorted(shown_text(m["blocks"]) for m in posts)
    assert len(posts) == 2, texts
    won = next(t for t in texts if "Won:" in t)
    assert "Globex &lt;!here&gt; rollout" in won and "<!here>" not in won and "¥150,000" in won and f"<@{REP1}>" in won
    moved_back = next(t for t in texts if "moved back" in t)
    assert "from Proposal to Needs analysis" in moved_back and "¥200,000" in moved_back and f"By <@{MANAGER}>" in moved_back
    assert not any("Tiny add-on" in t for t in texts), "below the team's alert amount"
    async with db.session() as s:
        keys = list((await s.execute(select(OutboxMessage.key).where(OutboxMessage.job == "deal_alerts"))).scalars())
    assert len(keys) == len(set(keys)) == 2
    assert slack.rejected_calls() == []


async def test_without_a_channel_each_manager_hears_it_and_off_means_off(driver, slack, db, deps, clock):
    await both_teams(driver)
    await alert_settings(db, channel=None)
    deal, card = await new_deal(driver, slack, db, title="Umbrella deal", amount="12万")
    reply = await click(driver, card, ids.DEAL_LOST, user=REP1)
    [opened] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    saved = await driver.submit_view(opened.response["view"]["id"], user=REP1,
                                     values={ids.LOST_REASON: "competitor", ids.LOST_NOTE: "Went with <Initech>"})
    assert saved.status == 200 and not saved.body, saved.body
    await settle()
    await run(deps, "deal_alerts", clock.now + timedelta(minutes=1))
    await run(deps, "deal_alerts", clock.now + timedelta(minutes=2))
    [dm] = [m for m in dm_cards(slack, MANAGER) if "Umbrella deal" in shown_text(m["blocks"])]
    assert "Lost:" in shown_text(dm["blocks"]) and "¥120,000" in shown_text(dm["blocks"])
    assert "Why: Competitor: Went with &lt;Initech&gt;" in shown_text(dm["blocks"])

    await alert_settings(db, channel=None, amount=None)
    other, other_card = await new_deal(driver, slack, db, title="Quiet deal", amount="50万")
    await click(driver, other_card, ids.DEAL_WON, user=REP1)
    await run(deps, "deal_alerts", clock.now + timedelta(minutes=1))
    assert not [m for m in dm_cards(slack, MANAGER) if "Quiet deal" in shown_text(m["blocks"])], "alerts are off"

    # A change older than a day is history: a late first tick does not announce it.
    await alert_settings(db, channel=None)
    await run(deps, "deal_alerts", clock.now + timedelta(days=2))
    assert not [m for m in dm_cards(slack, MANAGER) if "Quiet deal" in shown_text(m["blocks"])]
