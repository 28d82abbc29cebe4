"""services/playbooks: checklist tasks once per deal and stage, team overrides, languages, permissions."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.i18n import I18n
from bot.models import DealStatus, PlaybookItem, PlaybookRun, Stage, Task, TaskAssignee, TaskEvent, TaskEventKind
from bot.services import deals, playbooks
from bot.services.errors import NotOnRoster, PermissionDenied, ServiceError
from bot.services.tasks import TaskFilter, home_overview, list_my_tasks
from tests.unit import factories as f

NOW = datetime(2031, 3, 10, 2, 0, tzinfo=timezone.utc)
I18N = I18n()


@pytest.fixture
async def w(session):
    return await f.World.build(session)


async def new_deal(session, actor, owner: str | None = None, **kw):
    d = deals.DealDraft(owner_user_id=owner or actor.member.slack_user_id, amount_text="1000", product_line="A", new_customer_name="Globex", **kw)
    return await deals.save_deal(session, actor=actor, draft=d, now=NOW, i18n=I18N)


async def deal_tasks(session, deal_id: int) -> list[tuple[Stage, str]]:
    q = select(Task.stage, Task.title).where(Task.deal_id == deal_id).order_by(Task.id)
    return [tuple(r) for r in (await session.execute(q)).all()]


async def test_entering_a_stage_creates_its_default_checklist_for_the_owner(session, w):
    out = await new_deal(session, w.mgr, owner="UREP1")
    deal = out.view.deal
    assert [t.title for t in out.view.checklist] == ["Qualify the lead"]
    [task] = out.view.checklist
    assert (task.deal_id, task.customer_id, task.stage, task.team_id, task.due_date, task.created_by_id) == (
        deal.id, deal.customer_id, Stage.LEAD, w.east.id, date(2031, 3, 13), w.mgr_m.id,
    )
    assignees = (await session.execute(select(TaskAssignee.member_id).where(TaskAssignee.task_id == task.id))).scalars().all()
    assert assignees == [w.rep1_m.id]
    kinds = (await session.execute(select(TaskEvent.kind).where(TaskEvent.task_id == task.id))).scalars().all()
    assert kinds == [TaskEventKind.CREATED]
    # Like any task: in the owner's /mytasks and on their Home.
    page = await list_my_tasks(session, actor=w.rep1, which=TaskFilter.OPEN, today=date(2031, 3, 10))
    assert [r.task.title for r in page.rows] == ["Qualify the lead"] and page.rows[0].customer_name == "Globex"
    home = await home_overview(session, actor=w.rep1, today=date(2031, 3, 10))
    assert home.my_tasks.total == 1


async def test_once_per_deal_and_stage_even_when_moved_away_and_back(session, w):
    deal = (await new_deal(session, w.rep1)).view.deal
    back = deals.DealDraft(owner_user_id="UREP1", amount_text="1000", product_line="A", customer_id=deal.customer_id)
    await deals.advance_stage(session, actor=w.rep1, deal_id=deal.id, expected=Stage.LEAD, now=NOW, i18n=I18N)
    back.stage = Stage.LEAD
    out = await deals.save_deal(session, actor=w.rep1, draft=back, now=NOW + timedelta(days=1), i18n=I18N, deal_id=deal.id)
    assert out.stage_changed and out.view.checklist == []
    again = await deals.advance_stage(session, actor=w.rep1, deal_id=deal.id, expected=Stage.LEAD, now=NOW + timedelta(days=2), i18n=I18N)
    assert again.changed and again.view.checklist == []
    assert await deal_tasks(session, deal.id) == [(Stage.LEAD, "Qualify the lead"), (Stage.FIRST_CONTACT, "Make the first effective contact")]
    runs = (await session.execute(select(PlaybookRun.stage).where(PlaybookRun.deal_id == deal.id).order_by(PlaybookRun.stage))).scalars().all()
    assert sorted(runs) == sorted([Stage.LEAD, Stage.FIRST_CONTACT])


async def test_run_playbook_twice_creates_nothing_the_second_time(session, w):
    out = await new_deal(session, w.rep1)
    again = await playbooks.run_playbook(session, actor=w.rep1, deal=out.view.deal, stage=Stage.LEAD, owner=w.rep1_m, now=NOW, i18n=I18N)
    assert again == [] and len(await deal_tasks(session, out.view.deal.id)) == 1


async def test_titles_are_in_the_owners_language(session, w):
    w.rep2_m.locale = "zh-CN"
    out = await new_deal(session, w.mgr, owner="UREP2", stage=Stage.PROPOSAL)
    assert [t.title for t in out.view.checklist] == ["发送方案"]


async def test_every_stage_has_a_default_in_both_languages():
    for lang in ("en-US", "zh-CN"):
        loc = I18N.get(lang)
        for stage in Stage:
            titles = [loc.t(k) for k in playbooks.DEFAULT_ITEMS[stage]]
            assert titles and all(t and not t.startswith("deal.") for t in titles), (lang, stage)


async def test_a_team_replaces_its_checklist(session, w):
    checklist = await playbooks.set_playbook(session, actor=w.mgr, stage=Stage.PROPOSAL, titles=["Draft the quote", " ", "Review with finance"], i18n=I18N)
    assert checklist.custom and checklist.titles == ["Draft the quote", "Review with finance"]
    out = await new_deal(session, w.rep1, stage=Stage.PROPOSAL)
    assert [t.title for t in out.view.checklist] == ["Draft the quote", "Review with finance"]
    # The other team still has the default.
    west = await new_deal(session, w.rep_w, stage=Stage.PROPOSAL)
    assert [t.title for t in west.view.checklist] == ["Send the proposal"]
    shown = await playbooks.show_playbook(session, actor=w.rep1, stage=Stage.PROPOSAL, i18n=I18N)
    assert shown.titles == ["Draft the quote", "Review with finance"]
    # Setting again replaces; an empty set restores the default.
    await playbooks.set_playbook(session, actor=w.mgr, stage=Stage.PROPOSAL, titles=["Only this"], i18n=I18N)
    assert (await playbooks.show_playbook(session, actor=w.rep2, stage=Stage.PROPOSAL, i18n=I18N)).titles == ["Only this"]
    restored = await playbooks.set_playbook(session, actor=w.mgr, stage=Stage.PROPOSAL, titles=[], i18n=I18N)
    assert not restored.custom and restored.titles == ["Send the proposal"]
    assert await f.count_rows(session, PlaybookItem) == 0


async def test_only_managers_and_admins_change_playbooks(session, w):
    with pytest.raises(PermissionDenied):
        await playbooks.set_playbook(session, actor=w.rep1, stage=Stage.LEAD, titles=["x"], i18n=I18N)
    with pytest.raises(NotOnRoster):
        await playbooks.set_playbook(session, actor=w.outsider, stage=Stage.LEAD, titles=["x"], i18n=I18N)
    with pytest.raises(PermissionDenied):  # an admin on no team has no playbook to change
        await playbooks.set_playbook(session, actor=w.admin, stage=Stage.LEAD, titles=["x"], i18n=I18N)
    with pytest.raises(ServiceError) as exc:
        await playbooks.set_playbook(session, actor=w.mgr, stage=Stage.LEAD, titles=[str(i) for i in range(11)], i18n=I18N)
    assert exc.value.key == "deal.playbook.error.too_many"
    with pytest.raises(ServiceError) as exc:
        await playbooks.set_playbook(session, actor=w.mgr, stage=Stage.LEAD, titles=["x" * 201], i18n=I18N)
    assert exc.value.key == "deal.playbook.error.too_long"
    assert await f.count_rows(session, PlaybookItem) == 0


async def test_a_deal_created_won_still_gets_its_stage_checklist_once(session, w):
    out = await new_deal(session, w.rep1, stage=Stage.NEGOTIATION, status=DealStatus.WON)
    assert [t.title for t in out.view.checklist] == ["Agree terms and sign"]
    moved = await deals.advance_stage(session, actor=w.rep1, deal_id=out.view.deal.id, expected=Stage.NEGOTIATION, now=NOW, i18n=I18N)
    assert [t.title for t in moved.view.checklist] == ["Schedule the after-sales check-in"]
