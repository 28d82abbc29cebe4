"""services/task_changes and its builders: who may edit what, one event per changed field, cancel and reopen,
history, and a cancelled task in neither open lists, the morning DM, nor the completion rate."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from bot.blocks import ids
from bot.blocks.task_changes import build_edit_modal, build_handover, build_history_modal, change_line
from bot.blocks.tasks import build_task_card
from bot.models import Priority, Role, Task, TaskEvent, TaskEventKind, TaskStatus
from bot.periods import parse_period
from bot.services import task_changes, tasks
from bot.services.errors import PermissionDenied, ValidationFailed
from bot.services.figures import period_figures
from bot.services.priorities import recipient_for, load_priorities
from bot.services.task_changes import Change, TaskEdit
from bot.services.tasks import TaskFilter
from bot.standin.limits import validate_blocks, validate_view
from tests.unit import factories as f
from tests.unit.factories import TODAY


@pytest.fixture
async def w(session):
    return await f.World.build(session)


async def edited(session, task_id: int) -> list[Change]:
    q = select(TaskEvent).where(TaskEvent.task_id == task_id, TaskEvent.kind == TaskEventKind.EDITED).order_by(TaskEvent.id)
    return [Change.parse(e.note) for e in (await session.execute(q)).scalars()]


async def test_manager_edit_records_one_event_per_changed_field(session, w):
    row = await w.task("Call Acme", due_date=TODAY + timedelta(days=2))
    await session.commit()
    edit = TaskEdit(title="Call Acme <today>", assignee_user_ids=["UREP2"], priority=Priority.HIGH, due_date=TODAY + timedelta(days=4))
    result = await task_changes.edit_task(session, actor=w.mgr, task_id=row.task.id, edit=edit, today=TODAY)
    await session.commit()
    assert [c.field for c in result.changes] == ["title", "assignees", "priority", "due_date"]
    assert [m.slack_user_id for m in result.added] == ["UREP2"] and [m.slack_user_id for m in result.removed] == ["UREP1"]
    assert await edited(session, row.task.id) == result.changes
    assert Change("due_date", (TODAY + timedelta(days=2)).isoformat(), (TODAY + timedelta(days=4)).isoformat()) in result.changes
    # The removed rep no longer sees it; the added one does.
    assert (await tasks.list_my_tasks(session, actor=w.rep1, which=TaskFilter.OPEN, today=TODAY)).total == 0
    assert (await tasks.list_my_tasks(session, actor=w.rep2, which=TaskFilter.OPEN, today=TODAY)).total == 1
    # Saving the same values again changes nothing and records nothing.
    again = await task_changes.edit_task(session, actor=w.mgr, task_id=row.task.id, edit=edit, today=TODAY)
    assert not again.changed and len(await edited(session, row.task.id)) == 4


async def test_field_errors_as_in_assign_and_nothing_kept(session, w):
    row = await w.task("Call Acme")
    await session.commit()
    task_id = row.task.id
    bad = TaskEdit(title=" ", assignee_user_ids=["UREPW"], due_date=TODAY - timedelta(days=1))
    with pytest.raises(ValidationFailed) as exc:
        await task_changes.edit_task(session, actor=w.mgr, task_id=task_id, edit=bad, today=TODAY)
    assert set(exc.value.errors) == {"title", "assignees", "due_date"}
    await session.rollback()
    assert await edited(session, task_id) == []


async def test_a_rep_may_not_edit_a_managers_task_but_may_move_their_own(session, w):
    row = await w.task("Manager's task")
    await session.commit()
    with pytest.raises(PermissionDenied):
        await task_changes.edit_task(session, actor=w.rep1, task_id=row.task.id, edit=TaskEdit(priority=Priority.LOW), today=TODAY)
    # A task the rep gave themselves (created by them, assigned to them alone): due date and priority only.
    own = await f.insert_task(session, w.ws, w.rep1_m, title="My follow-up", due=TODAY)
    own.created_by_id, own.self_created = w.rep1_m.id, True
    await session.commit()
    result = await task_changes.edit_task(session, actor=w.rep1, task_id=own.id, edit=TaskEdit(priority=Priority.HIGH, due_date=TODAY + timedelta(days=1)), today=TODAY)
    assert [c.field for c in result.changes] == ["priority", "due_date"]
    with pytest.raises(PermissionDenied):
        await task_changes.edit_task(session, actor=w.rep1, task_id=own.id, edit=TaskEdit(title="Renamed"), today=TODAY)
    # Another team's manager may not edit East's task.
    with pytest.raises(PermissionDenied):
        await task_changes.edit_task(session, actor=w.mgr_w, task_id=row.task.id, edit=TaskEdit(priority=Priority.LOW), today=TODAY)


async def test_a_stale_save_is_refused_rather_than_overwriting(session, w):
    row = await w.task("Race")
    await session.commit()
    task = await session.get(Task, row.task.id)
    # Another save commits after this one read the task: the row moves on, the copy in hand does not.
    await session.execute(
        update(Task).where(Task.id == task.id).values(priority=Priority.LOW, updated_at=task.updated_at + timedelta(seconds=1))
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(task_changes.TaskChanged):
        await task_changes.edit_task(session, actor=w.mgr, task_id=task.id, edit=TaskEdit(priority=Priority.HIGH), today=TODAY)


async def test_cancel_needs_a_reason_and_a_manager_and_happens_once(session, w):
    row = await w.task("Obsolete", due_date=TODAY)
    await session.commit()
    with pytest.raises(ValidationFailed):
        await task_changes.cancel_task(session, actor=w.mgr, task_id=row.task.id, reason="  ")
    with pytest.raises(PermissionDenied):
        await task_changes.cancel_task(session, actor=w.rep1, task_id=row.task.id, reason="mine")
    _, changed = await task_changes.cancel_task(session, actor=w.mgr, task_id=row.task.id, reason="meeting moved")
    _, again = await task_changes.cancel_task(session, actor=w.mgr, task_id=row.task.id, reason="meeting moved")
    await session.commit()
    assert (changed, again) == (True, False)
    for which in (TaskFilter.OPEN, TaskFilter.OVERDUE):
        assert (await tasks.list_my_tasks(session, actor=w.rep1, which=which, today=TODAY + timedelta(days=3))).total == 0
    with pytest.raises(task_changes.TaskClosed):
        await task_changes.edit_task(session, actor=w.mgr, task_id=row.task.id, edit=TaskEdit(priority=Priority.LOW), today=TODAY)
    row2, reopened = await task_changes.reopen_task(session, actor=w.mgr, task_id=row.task.id)
    assert reopened and row2.task.status == TaskStatus.OPEN
    assert (await task_changes.reopen_task(session, actor=w.mgr, task_id=row.task.id))[1] is False


async def test_cancelled_tasks_count_on_neither_side_of_completion_and_skip_the_morning_dm(session, w):
    when = datetime(TODAY.year, TODAY.month, TODAY.day, 3, tzinfo=timezone.utc)
    await f.insert_task(session, w.ws, w.rep1_m, title="done", due=TODAY, status=TaskStatus.DONE, completed_at=when)
    await f.insert_task(session, w.ws, w.rep1_m, title="open", due=TODAY)
    await f.insert_task(session, w.ws, w.rep1_m, title="dropped", due=TODAY, status=TaskStatus.CANCELLED)
    await session.commit()
    period = parse_period(f"{TODAY.year}-{TODAY.month:02d}")
    figures = await period_figures(session, team=w.east, period=period)
    assert (figures.total.tasks_due, figures.total.tasks_on_time) == (2, 1)
    recipient = await recipient_for(session, member=w.rep1_m, now=when)
    [p] = await load_priorities(session, recipients=[recipient], now=when)
    assert [t.title for t in p.tasks] == ["open"] and p.open_total == 1


async def test_history_lists_who_did_what_in_order(session, w):
    row = await w.task("History", due_date=TODAY + timedelta(days=1))
    await task_changes.edit_task(session, actor=w.mgr, task_id=row.task.id, edit=TaskEdit(due_date=TODAY + timedelta(days=3)), today=TODAY)
    await task_changes.cancel_task(session, actor=w.mgr, task_id=row.task.id, reason="no <b>budget</b>")
    await session.commit()
    row, entries, older = await task_changes.task_history(session, actor=w.rep1, task_id=row.task.id)
    assert [e.kind for e in entries] == [TaskEventKind.CREATED, TaskEventKind.EDITED, TaskEventKind.CANCELLED]
    assert {e.actor_user_id for e in entries} == {"UMGR"} and older == 0
    for lang in ("en", "zh_Hans"):
        view = build_history_modal(f.loc(lang), row=row, entries=entries, older=0, tz="America/New_York")
        assert validate_view(view) == []
        text = str(view)
        assert "<b>" not in text and "&lt;b&gt;budget&lt;/b&gt;" in text


def test_change_notes_survive_any_title_and_render_in_both_languages():
    c = Change("title", 'a -> "b"', "c\n{d}")
    assert Change.parse(c.note()) == c and Change.parse("plain note") is None
    assert "截止日期" in change_line(f.loc("zh_Hans"), Change("due_date", "2031-03-01", "2031-03-05"))
    en = f.loc("en")
    assert change_line(en, Change("priority", "2", "1")) == f"Priority: {en.t('priority.2')} → {en.t('priority.1')}"


def test_edit_button_and_modals_follow_the_viewer_and_slacks_limits():
    row = f.fake_row(1, title="x" * 200)
    manager = f.fake_actor(Role.MANAGER)
    rep = f.fake_actor(Role.REP, user_id="UREP1")
    loc = f.loc("en")
    _, blocks = build_task_card(row, loc, TODAY, viewer=manager)
    shown = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert ids.TASK_EDIT in shown and ids.TASK_CANCEL in shown and ids.TASK_HISTORY in shown
    edit = next(e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["action_id"] == ids.TASK_EDIT)
    assert edit["value"] == "1"
    _, rep_blocks = build_task_card(row, loc, TODAY, viewer=rep)
    assert ids.TASK_EDIT not in [e["action_id"] for b in rep_blocks if b["type"] == "actions" for e in b["elements"]]
    for lang in ("en", "zh_Hans"):
        for full in (True, False):
            view = build_edit_modal(f.loc(lang), row=row, full=full, metadata={"id": 1, "ru": "https://x" * 100})
            assert validate_view(view) == []
    assert validate_blocks(blocks, surface="message") == []


def test_handover_fits_a_message_however_many_tasks():
    rows = [f.fake_row(i, title="t" * 200) for i in range(1, task_changes.HANDOVER_MAX + 1)]
    h = task_changes.Handover(member=f.fake_member("UREP1"), start=TODAY, end=TODAY + timedelta(days=5), rows=rows, total=500, managers=[], leave_id=1)
    for lang in ("en", "zh_Hans"):
        text, blocks = build_handover(f.loc(lang), h, TODAY)
        assert len(blocks) <= 50 and validate_blocks(blocks, surface="message") == []
