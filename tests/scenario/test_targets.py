"""Targets through signed requests: set, split (command and modal), permissions, bad input and attainment."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from bot.models import Customer, Deal, DealStatus, Member, SalesTeam, Segment, Target
from tests.scenario.conftest import MANAGER, REP1, REP2, REP_ZH, settle
from tests.scenario.helpers import east_team, shown_text

# 20 May 2027, 10:00 in Shanghai (the East team's zone): day 140 of 365 of 2027.
MAY_20 = datetime(2027, 5, 20, 2, 0, tzinfo=timezone.utc)


async def target(driver, text: str, *, user: str = MANAGER) -> dict[str, Any]:
    """Run `/target text` and return its one ephemeral reply."""
    reply = await driver.slash("/target", text, user=user)
    assert reply.status == 200, reply
    [response] = await reply.responses()
    await settle()
    assert response["response_type"] == "ephemeral", response
    return response


async def targets_in_db(db) -> list[tuple[str, str, str, int]]:
    """Every target line as (period, dimension, key, amount), sorted."""
    async with db.session() as s:
        rows = (await s.execute(select(Target.period, Target.dimension, Target.key, Target.amount))).all()
    return sorted(tuple(r) for r in rows)


async def add_won_deals(db) -> None:
    """Setup behind the curtain: customers and deals of the East team, won at known times."""
    utc = timezone.utc
    async with db.session() as s:
        team = (await s.execute(select(SalesTeam).where(SalesTeam.name == "East"))).scalar_one()
        members = {m.slack_user_id: m for m in (await s.execute(select(Member))).scalars()}
        big = Customer(workspace_id=team.workspace_id, name="Big Co", segment=Segment.KEY, region="East")
        small = Customer(workspace_id=team.workspace_id, name="Small Co", segment=Segment.SMB, region="West")
        s.add_all([big, small])
        await s.flush()

        def deal(amount_major: int, product: str, won_at: datetime | None, owner: str, customer: Customer, status=DealStatus.WON) -> Deal:
            return Deal(
                workspace_id=team.workspace_id, team_id=team.id, customer_id=customer.id, owner_id=members[owner].id,
                product_line=product, amount=amount_major * 100, status=status, won_at=won_at,
            )

        s.add_all([
            deal(8_000_000, "A", datetime(2027, 2, 3, 6, tzinfo=utc), REP1, big),
            deal(4_000_000, "A", datetime(2027, 4, 30, 17, tzinfo=utc), REP2, small),  # 1 May in Shanghai
            deal(9_000_000, "B", datetime(2027, 3, 15, 1, tzinfo=utc), REP1, big),
            deal(1_000_000, "D", datetime(2027, 1, 20, 1, tzinfo=utc), REP2, small),   # a product without a target line
            deal(7_000_000, "A", datetime(2026, 12, 31, 15, tzinfo=utc), REP1, big),   # 31 Dec 23:00 in Shanghai: 2026
            deal(5_000_000, "C", None, REP1, big, status=DealStatus.OPEN),            # not won
        ])
        await s.commit()


async def test_manager_sets_splits_and_tracks_a_yearly_target(driver, slack, db, clock):
    await east_team(driver)
    clock.now = MAY_20

    done = await target(driver, "set 2027 50,000,000")
    assert "Target for *2027* (East) set to *¥50,000,000*." in shown_text(done["blocks"])
    by_quarter = await target(driver, "split 2027 by quarter")
    assert "the parts add up to exactly ¥50,000,000" in shown_text(by_quarter["blocks"])
    by_product = await target(driver, "split 2027 by product A=60% B=30% C=10%")
    assert "• A: ¥30,000,000" in shown_text(by_product["blocks"])

    rows = await targets_in_db(db)
    products = [r for r in rows if r[1] == "product"]
    quarters = [r for r in rows if r[0].startswith("2027-Q")]
    assert products == [("2027", "product", "A", 3_000_000_000), ("2027", "product", "B", 1_500_000_000), ("2027", "product", "C", 500_000_000)]
    assert sum(r[3] for r in products) == 5_000_000_000
    assert [r[3] for r in quarters] == [1_250_000_000] * 4 and sum(r[3] for r in quarters) == 5_000_000_000
    assert ("2027", "total", "", 5_000_000_000) in rows

    # A rep cannot set or split targets, and nothing changes.
    before = await targets_in_db(db)
    refused = await target(driver, "set 2027 1", user=REP1)
    assert "Only managers and admins set and split targets." in shown_text(refused["blocks"])
    refused = await target(driver, "split 2027 by product A=100%", user=REP1)
    assert "Only managers and admins" in shown_text(refused["blocks"])
    assert await targets_in_db(db) == before

    await add_won_deals(db)
    # By hand: elapsed = 140/365 = 38.4%. A: 8M + 4M = 12M of 30M = 40.0% (on track);
    # B: 9M of 15M = 60.0% (ahead); C: 0 of 5M (behind); D is outside the lines (1M).
    view = await target(driver, "2027 by product", user=REP1)
    text = shown_text(view["blocks"])
    assert view["text"] == "Targets · East · 2027 by product line"
    assert "*2027* · target ¥50,000,000 · won ¥22,000,000 · *44.0%*" in text
    assert "*A* · target ¥30,000,000 · won ¥12,000,000 · *40.0%*\n`████░░░░░░` on track (time elapsed: 38%)" in text
    assert "*B* · target ¥15,000,000 · won ¥9,000,000 · *60.0%*\n`██████░░░░` ahead of pace (time elapsed: 38%)" in text
    assert "*C* · target ¥5,000,000 · won ¥0 · *0.0%*\n`░░░░░░░░░░` behind pace" in text
    assert "Won outside these lines: ¥1,000,000" in text

    # The quarters are targets of their own; Q1 is over (100% gone), Q2 is 50/91 gone.
    q1 = shown_text((await target(driver, "2027-Q1"))["blocks"])
    assert "*Q1 2027* · target ¥12,500,000 · won ¥18,000,000 · *144.0%*" in q1
    year = shown_text((await target(driver, ""))["blocks"])  # the default: this year, with its quarters
    assert "*Q2 2027* · target ¥12,500,000 · won ¥4,000,000 · *32.0%*" in year
    assert "Also split by product line" in year

    zh = shown_text((await target(driver, "2027 by product", user=REP_ZH))["blocks"])
    assert "*A* · 目标 ¥3,000万 · 已成交 ¥1,200万 · *40.0%*" in zh and "进度持平（时间进度 38%）" in zh
    assert slack.rejected_calls() == []


async def test_bad_input_gets_a_hint_and_changes_nothing(driver, slack, db, clock):
    await east_team(driver)
    clock.now = MAY_20
    await target(driver, "set 2027 50000000")
    await target(driver, "split 2027 by product A=60% B=30% C=10%")
    before = await targets_in_db(db)
    cases = {
        "set 2027-13 5": "`2027-13` is not a period.",
        "split 2027 by product A=60% B=30%": "The shares add up to 90%, not 100%. Nothing was changed.",
        "split 2027 by product A=30000000 B=10000000": "The shares add up to 40000000, not the target's 50000000.",
        "split 2027 by product A=60% B=3000": "not a mix",
        "set 2027 lots": "`lots` is not an amount.",
        "split 2028 by quarter": "There is no target for 2028 yet.",
        "split 2027 by colour": "`colour` is not a way to split",
        "split 2027-W05 by month": "There is no target for 2027-W05 yet.",
        "split 2027 by rep <@UREPW>=100%": "<@UREPW> is not on this team.",
        "2027 by <!channel>": "&lt;!channel&gt;",
    }
    for text, expected in cases.items():
        reply = await target(driver, text)
        shown = shown_text(reply["blocks"])
        assert expected in shown, (text, shown)
        assert "<!channel>" not in shown
    zh = await target(driver, "set 2027-13 5", user=REP_ZH)
    assert "`2027-13` 不是有效的周期" in shown_text(zh["blocks"])
    assert await targets_in_db(db) == before
    assert slack.calls_to("chat.postMessage") == []
    assert slack.rejected_calls() == []


async def test_a_dimension_split_without_shares_opens_the_form(driver, slack, db, clock):
    await east_team(driver)
    clock.now = MAY_20
    await target(driver, "set 2027 1,000,000")

    # No products known yet: a hint with an example instead of a form.
    hint = await target(driver, "split 2027 by product")
    assert "for example `A=60% B=30% C=10%`" in shown_text(hint["blocks"])

    reply = await driver.slash("/target", "split 2027 by region", user=MANAGER)
    [opened] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    view = opened.response["view"]
    labels = {b["block_id"]: b["label"]["text"] for b in view["blocks"] if b["type"] == "input"}
    assert sorted(labels.values()) == ["East", "West"]
    by_label = {v: k for k, v in labels.items()}

    wrong = await driver.submit_view(view["id"], user=MANAGER, values={by_label["East"]: "70%", by_label["West"]: "20%"})
    assert wrong.body["response_action"] == "errors"
    assert "90%" in next(iter(wrong.body["errors"].values()))
    bad = await driver.submit_view(view["id"], user=MANAGER, values={by_label["East"]: "lots"})
    assert bad.body["errors"] == {by_label["East"]: "`lots` is not a share: write a percentage like 60% or an amount like 3,000,000."}
    assert [r for r in await targets_in_db(db) if r[1] == "region"] == []

    ok = await driver.submit_view(view["id"], user=MANAGER, values={by_label["East"]: "70%", by_label["West"]: "30%"})
    assert ok.status == 200 and not ok.body
    await settle()
    [confirmation] = await reply.responses()
    assert "• East: ¥700,000" in shown_text(confirmation["blocks"])
    assert [r for r in await targets_in_db(db) if r[1] == "region"] == [("2027", "region", "East", 70_000_000), ("2027", "region", "West", 30_000_000)]

    # A rep who forges the same command gets no form.
    refused = await target(driver, "split 2027 by region", user=REP2)
    assert "Only managers and admins" in shown_text(refused["blocks"])
    assert slack.rejected_calls() == []
