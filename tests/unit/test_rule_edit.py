"""Editing a repeat rule in the service: who may, what is refused, and the next date it gets."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from bot.models import Priority, RepeatKind, TaskRule
from bot.services.errors import NotFound, PermissionDenied, ValidationFailed
from bot.services.repeats import RepeatSpec, RuleDraft, RuleEdit, create_rule, edit_rule, make_due_occurrences, stop_rule
from tests.unit import factories as f

MON = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)  # Monday noon; the teams keep the default zone (UTC)
WEEKLY_MON = RepeatSpec(RepeatKind.WEEKLY, frozenset({0}))


@pytest.fixture
async def w(session):
    return await f.World.build(session)


async def _rule(w, *, by, to, self_created: bool, start: date = MON) -> TaskRule:
    rule = await create_rule(w.session, actor=by, draft=RuleDraft(
        spec=WEEKLY_MON, start_on=start, title="Call top accounts", assignee_ids=[to.member.id], team_id=to.member.team_id,
        self_created=self_created))
    await w.session.commit()
    return rule


def _edit(title: str = "Call top 10 accounts", spec: RepeatSpec = WEEKLY_MON, **kw) -> RuleEdit:
    return RuleEdit(title=title, spec=spec, **kw)


@pytest.mark.parametrize("who, allowed", [("rep1", True), ("rep2", False), ("mgr", True), ("mgr_w", False), ("admin", True), ("rep_w", False)])
async def test_who_may_edit_a_reps_own_rule(w, who, allowed):
    rule_id = (await _rule(w, by=w.rep1, to=w.rep1, self_created=True)).id
    if allowed:
        _, changed = await edit_rule(w.session, actor=getattr(w, who), rule_id=rule_id, edit=_edit(), now=NOW)
        assert changed
    else:
        with pytest.raises(PermissionDenied):
            await edit_rule(w.session, actor=getattr(w, who), rule_id=rule_id, edit=_edit(), now=NOW)
        await w.session.rollback()
    title = (await w.session.execute(select(TaskRule.title).where(TaskRule.id == rule_id))).scalar_one()
    assert title == ("Call top 10 accounts" if allowed else "Call top accounts")


async def test_a_rep_may_not_edit_a_managers_rule_assigned_to_them(w):
    rule = await _rule(w, by=w.mgr, to=w.rep1, self_created=False)
    with pytest.raises(PermissionDenied) as exc:
        await edit_rule(w.session, actor=w.rep1, rule_id=rule.id, edit=_edit(), now=NOW)
    assert exc.value.key == "repeat.error.edit_permission"


async def test_made_dates_get_no_second_task_and_the_next_date_follows_the_new_spec(w):
    rule = await _rule(w, by=w.rep1, to=w.rep1, self_created=True)
    [occ] = await make_due_occurrences(w.session, now=NOW)  # Monday's task
    await w.session.commit()
    spec = RepeatSpec(RepeatKind.WEEKLY, frozenset({0, 2}))
    rule, changed = await edit_rule(w.session, actor=w.rep1, rule_id=rule.id, edit=_edit(spec=spec, priority=Priority.HIGH), now=NOW)
    assert changed and rule.next_on == date(2026, 3, 4) and rule.priority == Priority.HIGH
    assert occ.task.title == "Call top accounts"
    # The same edit again is no change and leaves the date where it is.
    rule, changed = await edit_rule(w.session, actor=w.rep1, rule_id=rule.id, edit=_edit(spec=spec, priority=Priority.HIGH), now=NOW)
    assert not changed and rule.next_on == date(2026, 3, 4)


async def test_a_rule_not_started_yet_keeps_its_first_date(w):
    rule = await _rule(w, by=w.rep1, to=w.rep1, self_created=True, start=date(2026, 3, 16))
    rule, _ = await edit_rule(w.session, actor=w.rep1, rule_id=rule.id, edit=_edit(spec=RepeatSpec(RepeatKind.WORKDAYS)), now=NOW)
    assert (rule.kind, rule.weekdays, rule.next_on) == (RepeatKind.WORKDAYS, "", date(2026, 3, 16))


async def test_monthly_without_a_day_keeps_the_first_dates_day_and_quarterly_counts_from_today(w):
    rule = await _rule(w, by=w.rep1, to=w.rep1, self_created=True, start=date(2026, 1, 5))
    rule, _ = await edit_rule(w.session, actor=w.rep1, rule_id=rule.id, edit=_edit(spec=RepeatSpec(RepeatKind.MONTHLY)), now=NOW)
    assert (rule.month_day, rule.next_on) == (5, date(2026, 3, 5))
    rule, _ = await edit_rule(w.session, actor=w.rep1, rule_id=rule.id, edit=_edit(spec=RepeatSpec(RepeatKind.QUARTERLY, month_day=31)), now=NOW)
    assert (rule.start_on, rule.month_day, rule.next_on) == (MON, 31, date(2026, 3, 31))


@pytest.mark.parametrize("edit, field", [
    (_edit(title="  "), "title"),
    (_edit(title="x" * 201), "title"),
    (_edit(spec=RepeatSpec(RepeatKind.WEEKLY)), "repeat_days"),
    (_edit(spec=RepeatSpec(RepeatKind.MONTHLY, month_day=32)), "month_day"),
    (_edit(details="x" * 3001), "details"),
    (_edit(assignee_user_ids=[]), "assignees"),
    (_edit(assignee_user_ids=["UREPW"]), "assignees"),  # another team's rep
])
async def test_bad_fields_are_refused_and_nothing_is_saved(w, edit, field):
    rule_id = (await _rule(w, by=w.mgr, to=w.rep1, self_created=False)).id
    with pytest.raises(ValidationFailed) as exc:
        await edit_rule(w.session, actor=w.mgr, rule_id=rule_id, edit=edit, now=NOW)
    assert list(exc.value.errors) == [field]
    await w.session.rollback()
    assert (await w.session.execute(select(TaskRule.title))).scalar_one() == "Call top accounts"


async def test_a_stopped_rule_cannot_be_edited(w):
    rule = await _rule(w, by=w.rep1, to=w.rep1, self_created=True)
    await stop_rule(w.session, actor=w.rep1, rule_id=rule.id)
    with pytest.raises(NotFound):
        await edit_rule(w.session, actor=w.rep1, rule_id=rule.id, edit=_edit(), now=NOW)
