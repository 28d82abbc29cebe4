"""The weekly standup end to end: check-ins at 16:00 in each rep's zone, answers edited, one reminder, the digest
carrying the answers and the blocker, a Create task on the blocker, and next week's follow-up.

Two clocks tick the same moments (and one is restarted): the outbox's keys keep every count at one.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.blocks import ids
from bot.models import CheckIn, Customer, Deal, MeetingAction, Member, OutboxMessage, OutboxStatus, SalesTeam, Task
from jobs.digest import compose_weekly
from jobs.outbox import SenderConfig
from jobs.scheduler import Clockwork, build_clockwork
from jobs.standup import compose as compose_standup
from tests.scenario.conftest import MANAGER, REP1, REP2, REP_ZH, settle
from tests.scenario.helpers import dm_cards, east_team, salesbot, shown_text

FAST = SenderConfig(per_channel_per_sec=1000, workspace_per_min=600000, workspace_burst=500, poll_seconds=0.02)
JOBS = {"standup": compose_standup, "weekly": compose_weekly}
# Friday 13 March 2026: 16:00 in Shanghai is 08:00 UTC; 16:00 in New York (EDT) is 20:00 UTC.
FRI_SHANGHAI = datetime(2026, 3, 13, 8, 1, tzinfo=timezone.utc)
FRI_NEW_YORK = datetime(2026, 3, 13, 20, 1, tzinfo=timezone.utc)
# Monday 16 March, 07:30 in Shanghai: inside the two hours before the 09:00 digest.
MON_REMIND = datetime(2026, 3, 15, 23, 30, tzinfo=timezone.utc)
MON_DIGEST = datetime(2026, 3, 16, 1, 5, tzinfo=timezone.utc)
NEXT_MON_DIGEST = MON_DIGEST + timedelta(days=7)


async def pending_keys(db) -> list[str]:
    """Keys of posts waiting to be sent."""
    async with db.sessionmaker() as s:
        q = select(OutboxMessage.key).where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
        return list((await s.execute(q)).scalars())


async def run_clocks(deps, db, clock, at: datetime, *, count: int = 2) -> None:
    """`count` fresh clock processes' worth of ticks at `at` (each a restart: nothing kept in memory), then their
    senders deliver side by side, sharing the rows as clocks do."""
    clock.now = at
    works: list[Clockwork] = [build_clockwork(deps, config=FAST, jobs=JOBS, tick_seconds=3600) for _ in range(count)]
    for w in works:
        for name in JOBS:
            await w.tick(name)
    keys = await pending_keys(db)
    await asyncio.wait_for(asyncio.gather(*(w.sender.deliver(keys) for w in works)), 30)
    assert await pending_keys(db) == []


def checkins(slack, user: str) -> list[dict]:
    """Check-in DMs (and reminders) a member received: messages with the Answer button."""
    return [m for m in dm_cards(slack, user) if any(b.get("block_id") == "standup-answer" for b in m["blocks"] or [])]


async def setup_team(driver, slack, db) -> SalesTeam:
    """East with a channel, its zone, and weekly check-ins switched on through /salesbot config; REP_ZH on leave Friday."""
    await east_team(driver)
    slack.add_channel("C0SALES", name="sales")
    reply = await driver.slash("/salesbot", "config", user=MANAGER)
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    view = call.response["view"]
    saved = await driver.submit_view(view["id"], user=MANAGER, values={
        ids.CONFIG_CHANNEL: "C0SALES", ids.CONFIG_TIMEZONE: "Asia/Shanghai", ids.CONFIG_STANDUP: ["weekly"], ids.CONFIG_STANDUP_TIME: "16:00",
    })
    assert saved.status == 200 and not saved.body, saved.body
    await settle()
    leave = await salesbot(driver, f"leave <@{REP_ZH}|wang> 2026-03-13 2026-03-13", user=MANAGER)
    assert "2026" in str(leave) or leave
    async with db.sessionmaker() as s:
        team = (await s.execute(select(SalesTeam).where(SalesTeam.name == "East"))).scalar_one()
        rep = (await s.execute(select(Member).where(Member.slack_user_id == REP1))).scalar_one()
        huaxin = Customer(workspace_id=team.workspace_id, name="Huaxin")  # REP1's open deal: a blocker naming it prefills the customer
        s.add(huaxin)
        await s.flush()
        s.add(Deal(workspace_id=team.workspace_id, team_id=team.id, customer_id=huaxin.id, owner_id=rep.id, title="Huaxin rollout", amount=500_000))
        await s.commit()
    assert team.standup_enabled and team.standup_time == "16:00" and team.digest_channel_id == "C0SALES"
    return team


async def answer(driver, slack, dm: dict, user: str, values: dict) -> dict:
    """Click Answer on a check-in DM and submit the modal; returns the modal as opened."""
    reply = await driver.click(dm, ids.STANDUP_ANSWER, user=user)
    assert reply.status == 200
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    view = call.response["view"]
    submitted = await driver.submit_view(view["id"], user=user, values=values)
    assert submitted.status == 200 and not submitted.body, submitted.body
    await settle()
    return view


def digest_top(slack) -> dict:
    """The latest digest message in the team's channel (not a thread reply)."""
    return [m for m in slack.messages_in("C0SALES") if not m.get("thread_ts")][-1]


async def test_weekly_checkins_reminder_digest_and_follow_up(driver, slack, db, deps, clock):
    team = await setup_team(driver, slack, db)

    # Friday 16:00 in Shanghai: REP1 is asked; REP2 (04:00 in New York) not yet; REP_ZH is on leave. Two clocks, then a restart.
    await run_clocks(deps, db, clock, FRI_SHANGHAI)
    await run_clocks(deps, db, clock, FRI_SHANGHAI + timedelta(minutes=30), count=1)
    assert (len(checkins(slack, REP1)), len(checkins(slack, REP2)), len(checkins(slack, REP_ZH))) == (1, 0, 0)

    blocker = "Legal review of the Huaxin <!channel> contract is stuck; Mia could call their counsel"
    first = await answer(driver, slack, checkins(slack, REP1)[0], REP1, {
        f"{ids.STANDUP_Q_PREFIX}0": "Closed the Huaxin pilot", f"{ids.STANDUP_Q_PREFIX}1": "Quote for Beida",
        f"{ids.STANDUP_Q_PREFIX}2": "Legal review is stuck", f"{ids.STANDUP_Q_PREFIX}3": "3",
    })
    assert first["blocks"][1]["element"].get("initial_value") is None
    # Ten minutes later the same button reopens the modal with the saved answers; the edit replaces them.
    clock.advance(minutes=10)
    again = await answer(driver, slack, checkins(slack, REP1)[0], REP1, {f"{ids.STANDUP_Q_PREFIX}2": blocker, f"{ids.STANDUP_Q_PREFIX}3": "4"})
    assert again["blocks"][1]["element"]["initial_value"] == "Closed the Huaxin pilot"
    async with db.sessionmaker() as s:
        [row] = (await s.execute(select(CheckIn))).scalars().all()
    assert (row.blocker, row.confidence) == (blocker, 4)

    # Friday 16:00 in New York: REP2 is asked, once, whatever the clocks do.
    await run_clocks(deps, db, clock, FRI_NEW_YORK)
    await run_clocks(deps, db, clock, FRI_NEW_YORK + timedelta(minutes=5))
    assert (len(checkins(slack, REP1)), len(checkins(slack, REP2))) == (1, 1)
    # Each DM gives the digest's time, in the rep's own zone, as the deadline.
    assert "3/16/26, 9:00\u202fAM" in shown_text(checkins(slack, REP1)[0]["blocks"])
    assert "3/15/26, 9:00\u202fPM" in shown_text(checkins(slack, REP2)[0]["blocks"])

    # Two hours before the digest: REP2 (no answer) gets one reminder; REP1 (answered) none.
    await run_clocks(deps, db, clock, MON_REMIND)
    await run_clocks(deps, db, clock, MON_REMIND + timedelta(minutes=20))
    assert (len(checkins(slack, REP1)), len(checkins(slack, REP2)), len(checkins(slack, REP_ZH))) == (1, 2, 0)
    assert "Reminder" in shown_text(checkins(slack, REP2)[-1]["blocks"])

    # The digest: the blocker on top with who raised it, REP2 not answered, REP1's edited answers beside their figures in the thread.
    await run_clocks(deps, db, clock, MON_DIGEST)
    await run_clocks(deps, db, clock, MON_DIGEST + timedelta(minutes=10))
    tops = [m for m in slack.messages_in("C0SALES") if not m.get("thread_ts")]
    assert len(tops) == 1
    top = tops[0]
    text = shown_text(top["blocks"])
    assert "Legal review of the Huaxin &lt;!channel&gt; contract is stuck" in text and "<!channel>" not in str(top["blocks"])
    assert text.index("blocker raised") < text.index("Agenda")
    assert f"<@{REP1}>" in text.split("blocker raised")[1].split("\n")[1]
    not_answered = next(line for line in text.splitlines() if line.startswith("Not answered"))
    assert f"<@{REP2}>" in not_answered and f"<@{REP_ZH}>" not in not_answered
    replies = [m for m in slack.messages_in("C0SALES") if m.get("thread_ts") == top["ts"] and m["blocks"] and "Check-in of" in shown_text(m["blocks"])]
    assert len(replies) == 1
    reply_text = shown_text(replies[0]["blocks"])
    assert f"<@{REP1}>" in reply_text and "(edited)" in reply_text and "Closed the Huaxin pilot" in reply_text
    assert "Won this week" in reply_text and "overdue task" in reply_text and "4 out of 5" in reply_text

    # Answers close when the digest is composed.
    closed = await driver.click(checkins(slack, REP1)[0], ids.STANDUP_ANSWER, user=REP1)
    assert closed.status == 200
    await settle()
    assert "closed" in shown_text(slack.ephemerals_for(REP1)[-1]["blocks"])

    # A rep cannot act on the agenda; the manager's Create task opens the assign modal prefilled with the rep and the blocker.
    await driver.click(top, ids.AGENDA_DISCUSSED, user=REP2, block_id=f"blocker-{row.id}")
    await settle()
    assert "Only the team's managers" in shown_text(slack.ephemerals_for(REP2)[-1]["blocks"])
    click = await driver.click(top, ids.AGENDA_TASK, user=MANAGER, block_id=f"blocker-{row.id}")
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == click.trigger_id)
    modal = call.response["view"]
    blocks = {b["block_id"]: b for b in modal["blocks"] if b.get("block_id")}
    assert blocks[ids.ASSIGN_TITLE]["element"]["initial_value"] == blocker
    assert blocks[ids.ASSIGN_ASSIGNEES]["element"]["initial_users"] == [REP1]
    assert blocks[ids.ASSIGN_CUSTOMER]["element"]["initial_option"]["text"]["text"] == "Huaxin"
    saved = await driver.submit_view(modal["id"], user=MANAGER, values={ids.ASSIGN_DUE: "2026-03-18"})
    assert saved.status == 200 and not saved.body, saved.body
    await settle()
    await driver.click(top, ids.AGENDA_DISCUSSED, user=MANAGER, block_id=f"blocker-{row.id}")
    await settle()
    async with db.sessionmaker() as s:
        actions = (await s.execute(select(MeetingAction).order_by(MeetingAction.id))).scalars().all()
        task = (await s.execute(select(Task).where(Task.title == blocker))).scalar_one()
    assert [(a.kind, a.period, a.task_id) for a in actions] == [("task", "2026-W12", task.id), ("discussed", "2026-W12", None)]

    # Next week's digest opens with last meeting's actions and their state (the task's due date has passed: overdue).
    await run_clocks(deps, db, clock, NEXT_MON_DIGEST)
    nxt = digest_top(slack)
    assert nxt["ts"] != top["ts"]
    first_section = shown_text(nxt["blocks"][2:3])
    assert "Last meeting's actions" in first_section and "overdue" in first_section and "Legal review" in first_section
    assert "Discussed" in first_section
    # An agenda item's Create task is prefilled with the item's line (the overdue task is on the agenda now).
    agenda = [b for b in nxt["blocks"] if str(b.get("block_id", "")).startswith("agenda-actions-")]
    assert agenda, shown_text(nxt["blocks"])
    line = next(b for b in nxt["blocks"] if b.get("block_id") == agenda[0]["block_id"].replace("-actions", ""))
    click = await driver.click(nxt, ids.AGENDA_TASK, user=MANAGER, block_id=agenda[0]["block_id"])
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == click.trigger_id)
    title = next(b for b in call.response["view"]["blocks"] if b.get("block_id") == ids.ASSIGN_TITLE)["element"]["initial_value"]
    assert title and title.split()[0] in line["text"]["text"] and "*" not in title
    assert team.id


async def test_adjust_target_on_the_month_behind_pace_records_the_action(driver, slack, db, deps, clock):
    await setup_team(driver, slack, db)
    reply = await driver.slash("/target", "set 2026-03 9000000", user=MANAGER)
    assert reply.status == 200
    await reply.responses()
    await settle()
    await run_clocks(deps, db, clock, MON_DIGEST, count=1)
    top = digest_top(slack)
    target_rows = [b for b in top["blocks"] if b.get("type") == "actions" and any(e["action_id"] == ids.AGENDA_TARGET for e in b["elements"])]
    assert target_rows, shown_text(top["blocks"])
    click = await driver.click(top, ids.AGENDA_TARGET, user=MANAGER, block_id=target_rows[0]["block_id"])
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == click.trigger_id)
    view = call.response["view"]
    assert view["callback_id"] == ids.TARGET_SPLIT_VIEW and "March 2026" in shown_text(view["blocks"])
    shares = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert len(shares) == 4  # the team's members
    saved = await driver.submit_view(view["id"], user=MANAGER, values=dict(zip(shares, ["40%", "30%", "20%", "10%"])))
    assert saved.status == 200 and not saved.body, saved.body
    await settle()
    async with db.sessionmaker() as s:
        [action] = (await s.execute(select(MeetingAction))).scalars().all()
    assert (action.kind, action.period, action.what) == ("target", "2026-W12", "2026-03 · rep")
