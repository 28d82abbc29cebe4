"""A 300-rep team with 3,000-character answers: every check-in DM, the digest, its 300 thread replies and the see-all
modals stay within Slack's limits (the stand-in's own checks), in a number of statements that does not grow with the team."""

from __future__ import annotations

import json

from sqlalchemy import event, select

from bot.blocks.standup import build_answers_modal, build_blockers_modal
from bot.deps import Deps
from bot.models import CheckIn, Member, Role, SalesTeam, Workspace
from bot.services.standup import StandupSettings, blockers_for_view
from bot.services.actors import Actor
from bot.standin.limits import validate_message_args, validate_view
from jobs.digest import compose_weekly
from jobs.standup import compose as compose_standup
from tests.scenario.test_standup import FRI_SHANGHAI, MON_DIGEST

N = 300
# Every answer at the modal's 3,000 characters, with Chinese text, mrkdwn and a ping that must stay text.
LONG = ("进展顺利 <!here> & *bold* " * 200)[:3000]


async def seed(db) -> tuple[Workspace, SalesTeam, list[Member]]:
    """A workspace whose team "Big" (Shanghai) has N reps and a manager, check-ins on, every rep answered at full length."""
    async with db.sessionmaker() as s:
        ws = Workspace(slack_team_id="T0001", name="Acme")
        s.add(ws)
        await s.flush()
        team = SalesTeam(workspace_id=ws.id, name="Big", timezone="Asia/Shanghai", digest_channel_id="C0BIG", standup_enabled=True)
        s.add(team)
        await s.flush()
        reps = [Member(workspace_id=ws.id, slack_user_id=f"UB{i:04d}", name=f"代表 {i:03d} " + "名" * 60, role=Role.REP, team_id=team.id,
                       tz="Asia/Shanghai", locale="zh-CN" if i % 2 else "en-US") for i in range(N)]
        manager = Member(workspace_id=ws.id, slack_user_id="UBMGR", name="Boss", role=Role.MANAGER, team_id=team.id, tz="Asia/Shanghai")
        s.add_all([*reps, manager])
        await s.flush()
        s.add_all(CheckIn(workspace_id=ws.id, team_id=team.id, member_id=m.id, kind="weekly", period="2026-W12",
                          answers=json.dumps([LONG, LONG, LONG if i % 2 else "", "3"], ensure_ascii=False),
                          blocker=LONG if i % 2 else "", confidence=3) for i, m in enumerate(reps))
        await s.commit()
        return ws, team, reps + [manager]


async def test_three_hundred_reps_with_long_answers_stay_within_slack_limits(db, deps: Deps):
    ws, team, members = await seed(db)
    statements = []
    event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(1))
    async with db.sessionmaker() as s:
        asks = await compose_standup(deps, s, now=FRI_SHANGHAI)
    assert len([p for p in asks if not p.skip]) == N
    check_statements = len(statements)
    for p in asks:
        assert validate_message_args({"text": p.text, "blocks": p.blocks}) == [], p.key

    statements.clear()
    async with db.sessionmaker() as s:
        posts = await compose_weekly(deps, s, now=MON_DIGEST)
    digest_statements = len(statements)
    [top] = [p for p in posts if p.thread_of is None]
    replies = [p for p in posts if p.thread_of == top.key]
    assert len(replies) == N
    for p in posts:
        assert validate_message_args({"text": p.text, "blocks": p.blocks}) == [], p.key
        assert "<!here>" not in json.dumps(p.blocks, ensure_ascii=False)
    assert any("See all" in json.dumps(p.blocks) or "查看全部" in json.dumps(p.blocks, ensure_ascii=False) for p in replies)
    assert "150" in json.dumps(top.blocks, ensure_ascii=False)  # the blocker count on top: 150 of the 300 raised one
    # A fixed number of statements, whatever the team's size.
    assert check_statements <= 8 and digest_statements <= 30, (check_statements, digest_statements)

    # The see-all modals: one rep's whole answers, and every blocker of the meeting.
    manager = members[-1]
    async with db.sessionmaker() as s:
        workspace = (await s.execute(select(Workspace))).scalar_one()
        actor = Actor(workspace=workspace, member=manager, is_admin=False)
        standup = await blockers_for_view(s, actor=actor, team_id=team.id, period="2026-W12", today=MON_DIGEST.date())
    loc = deps.i18n.get("zh-CN")
    assert validate_view(build_blockers_modal(loc, standup)) == []
    c = standup.checkins[1]
    assert validate_view(build_answers_modal(loc, member=c.member, answers=c.answers, settings=StandupSettings.from_team(team))) == []
    assert ws.id
