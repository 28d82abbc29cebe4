"""services/tasks: assigning, listing, paging, transitions, notes, permissions and tenancy."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.models import Customer, Priority, Role, Segment, Stage, Task, TaskAssignee, TaskEvent, TaskEventKind, TaskStatus
from bot.services import tasks
from bot.services.errors import NotFound, NotOnRoster, PermissionDenied, ValidationFailed
from bot.services.tasks import TITLE_MAX, TaskDraft, TaskFilter
from tests.unit import factories as f
from tests.unit.factories import TODAY


@pytest.fixture
async def w(session):
    return await f.World.build(session)


async def counts(session) -> tuple[int, int, int, int]:
    return (
        await f.count_rows(session, Task),
        await f.count_rows(session, TaskAssignee),
        await f.count_rows(session, TaskEvent),
        await f.count_rows(session, Customer),
    )


async def events_of(session, task_id: int, kind: TaskEventKind | None = None) -> list[TaskEvent]:
    q = select(TaskEvent).where(TaskEvent.task_id == task_id)
    if kind is not None:
        q = q.where(TaskEvent.kind == kind)
    return list((await session.execute(q.order_by(TaskEvent.id))).scalars())


# -- create ------------------------------------------------------------------------

async def test_manager_creates_a_task(session, w):
    draft = TaskDraft(
        title="  Send the revised quote  ", assignee_user_ids=["UREP1"], details="Include the discount",
        stage=Stage.PROPOSAL, priority=Priority.HIGH, difficulty=2, due_date=TODAY,
    )
    row = await tasks.create_task(session, actor=w.mgr, draft=draft, today=TODAY)
    await session.commit()
    t = row.task
    assert t.id is not None and t.title == "Send the revised quote"
    assert (t.workspace_id, t.team_id, t.created_by_id) == (w.ws.id, w.east.id, w.mgr_m.id)
    assert (t.status, t.stage, t.priority, t.difficulty, t.due_date) == (TaskStatus.OPEN, Stage.PROPOSAL, Priority.HIGH, 2, TODAY)
    assert row.assignees == ["UREP1"] and row.customer_name is None
    assert [e.kind for e in await events_of(session, t.id)] == [TaskEventKind.CREATED]
    again = await tasks.get_task_row(session, actor=w.rep1, task_id=t.id)
    assert again.task.title == "Send the revised quote" and again.assignees == ["UREP1"]


async def test_rep_may_not_assign(session, w):
    with pytest.raises(PermissionDenied) as exc:
        await w.task(by=w.rep1)
    assert exc.value.key == "error.managers_only"
    assert await counts(session) == (0, 0, 0, 0)


async def test_member_off_roster_may_not_assign(session, w):
    with pytest.raises(NotOnRoster) as exc:
        await w.task(by=w.outsider)
    assert exc.value.key == "error.not_on_roster"
    assert await counts(session) == (0, 0, 0, 0)


VALIDATION_CASES = [
    ("title", {"title": ""}, "assign.error.title_required"),
    ("title", {"title": "   "}, "assign.error.title_required"),
    ("title", {"title": "x" * (TITLE_MAX + 1)}, "assign.error.title_too_long"),
    ("details", {"details": "x" * 3001}, "assign.error.details_too_long"),
    ("difficulty", {"difficulty": 0}, "assign.error.difficulty"),
    ("due_date", {"due_date": TODAY - timedelta(days=1)}, "assign.error.due_past"),
    ("assignees", {"assignee_user_ids": []}, "assign.error.assignee_required"),
    ("assignees", {"assignee_user_ids": ["UMGR"]}, "assign.error.assignee_not_rep"),  # a manager is not a rep
    ("assignees", {"assignee_user_ids": ["UREP1", "UREPW"]}, "assign.error.assignee_not_rep"),  # West's rep
    ("assignees", {"assignee_user_ids": ["UOUT"]}, "assign.error.assignee_not_rep"),  # off the roster
    ("assignees", {"assignee_user_ids": ["UNEVER"]}, "assign.error.assignee_not_rep"),  # never seen
    ("customer", {"customer_id": 999_999}, "assign.error.customer_unknown"),
    ("new_customer", {"new_customer_name": "n" * 201}, "assign.error.customer_name_too_long"),
]


async def test_validation_errors_name_the_field_and_save_nothing(session, w):
    # One database for every case: a refused draft must leave it exactly as it was.
    for field, draft_kw, key in VALIDATION_CASES:
        kw = {"title": "Call back", "assignee_user_ids": ["UREP1"], "new_customer_name": "Brand New Ltd"} | draft_kw
        with pytest.raises(ValidationFailed) as exc:
            await tasks.create_task(session, actor=w.mgr, draft=TaskDraft(**kw), today=TODAY)
        assert set(exc.value.errors) == {field}, (field, draft_kw)
        assert exc.value.errors[field][0] == key, (field, draft_kw)
        assert await counts(session) == (0, 0, 0, 0), f"a refused draft saved something: {field} {draft_kw}"
    await session.commit()
    assert await counts(session) == (0, 0, 0, 0)


async def test_every_wrong_field_is_reported_at_once(session, w):
    draft = TaskDraft(title="", assignee_user_ids=[], due_date=TODAY - timedelta(days=3), difficulty=7, customer_id=12345)
    with pytest.raises(ValidationFailed) as exc:
        await tasks.create_task(session, actor=w.mgr, draft=draft, today=TODAY)
    assert set(exc.value.errors) == {"title", "assignees", "due_date", "difficulty", "customer"}
    assert exc.value.errors["title"] == ("assign.error.title_required", {})


async def test_title_at_the_limit_and_due_today_are_fine(session, w):
    row = await w.task("y" * TITLE_MAX, due_date=TODAY)
    assert len(row.task.title) == TITLE_MAX


async def test_assignee_not_rep_names_the_wrong_user(session, w):
    with pytest.raises(ValidationFailed) as exc:
        await w.task(to=["UREP1", "UREPW"])
    assert exc.value.errors["assignees"] == ("assign.error.assignee_not_rep", {"user": "UREPW"})


async def test_customer_of_another_workspace_is_unknown(session, w):
    other = await f.World.build(session, "T2")
    foreign = await tasks.find_or_create_customer(session, workspace_id=other.ws.id, name="Foreign Co")
    with pytest.raises(ValidationFailed) as exc:
        await w.task(customer_id=foreign.id)
    assert exc.value.errors["customer"][0] == "assign.error.customer_unknown"
    assert await f.count_rows(session, Task) == 0


async def test_existing_customer_by_id(session, w):
    acme = await tasks.find_or_create_customer(session, workspace_id=w.ws.id, name="Acme", segment=Segment.KEY)
    row = await w.task(customer_id=acme.id, new_customer_name="Ignored Ltd")
    assert row.task.customer_id == acme.id and row.customer_name == "Acme"
    assert await f.count_rows(session, Customer) == 1, "a chosen customer wins over a typed new name"


async def test_new_customer_is_created_once_by_name(session, w):
    r1 = await w.task("First", new_customer_name="  Acme Trading  ", new_customer_segment=Segment.KEY)
    r2 = await w.task("Second", new_customer_name="Acme Trading", new_customer_segment=Segment.SMB)
    await session.commit()
    assert r1.task.customer_id == r2.task.customer_id is not None
    assert r1.customer_name == r2.customer_name == "Acme Trading"
    customers = (await session.execute(select(Customer))).scalars().all()
    assert [(c.name, c.segment, c.workspace_id) for c in customers] == [("Acme Trading", Segment.KEY, w.ws.id)]


async def test_shared_task_with_several_assignees(session, w):
    row = await w.task("Joint visit", to=["UREP2", "UREP1", "UREP2"])
    await session.commit()
    assert sorted(row.assignees) == ["UREP1", "UREP2"], "a repeated pick is one assignee"
    assert await f.count_rows(session, TaskAssignee) == 2
    for rep in (w.rep1, w.rep2):
        page = await tasks.list_my_tasks(session, actor=rep, which=TaskFilter.OPEN, today=TODAY)
        assert [r.task.id for r in page.rows] == [row.task.id]
        assert page.rows[0].assignees == ["UREP1", "UREP2"]
    assert (await tasks.list_my_tasks(session, actor=w.rep_w, which=TaskFilter.OPEN, today=TODAY)).total == 0


async def test_admin_assigns_anyone(session, w):
    row = await w.task(by=w.admin, to=["UREPW", "UREP1"])
    assert sorted(row.assignees) == ["UREP1", "UREPW"]
    assert row.task.team_id in (w.east.id, w.west.id)


async def test_customer_service_can_be_assigned(session, w):
    await f.member(session, w.ws, "USVC", role=Role.SERVICE, team=w.east)
    row = await w.task(to=["USVC"])
    assert row.assignees == ["USVC"]


async def test_assignable_members(session, w):
    east = await tasks.assignable_members(session, actor=w.mgr)
    assert sorted(m.slack_user_id for m in east) == ["UREP1", "UREP2"]
    everyone = await tasks.assignable_members(session, actor=w.admin)
    assert sorted(m.slack_user_id for m in everyone) == ["UREP1", "UREP2", "UREPW"]


# -- listing -----------------------------------------------------------------------

async def test_list_my_tasks_order_and_filters(session, w):
    ws, rep = w.ws, w.rep1_m
    d = lambda n: TODAY + timedelta(days=n)  # noqa: E731
    late_low = await f.insert_task(session, ws, rep, title="late low", due=d(-1), priority=Priority.LOW)
    late_high = await f.insert_task(session, ws, rep, title="late high", due=d(-5), priority=Priority.HIGH)
    high_far = await f.insert_task(session, ws, rep, title="high far", due=d(9), priority=Priority.HIGH)
    high_near = await f.insert_task(session, ws, rep, title="high near", due=d(2), priority=Priority.HIGH)
    high_none = await f.insert_task(session, ws, rep, title="high undated", due=None, priority=Priority.HIGH)
    med_today = await f.insert_task(session, ws, rep, title="medium today", due=d(0), priority=Priority.MEDIUM, status=TaskStatus.IN_PROGRESS)
    low_soon = await f.insert_task(session, ws, rep, title="low soon", due=d(1), priority=Priority.LOW)
    t1 = datetime(2031, 3, 1, tzinfo=timezone.utc)
    done_old = await f.insert_task(session, ws, rep, title="done old", due=d(-9), priority=Priority.HIGH, status=TaskStatus.DONE, completed_at=t1)
    done_new = await f.insert_task(session, ws, rep, title="done new", due=d(-9), priority=Priority.HIGH, status=TaskStatus.DONE, completed_at=t1 + timedelta(days=2))
    await f.insert_task(session, ws, w.rep2_m, title="someone else's", due=d(-3))
    await session.commit()

    async def titles(which):
        page = await tasks.list_my_tasks(session, actor=w.rep1, which=which, today=TODAY, limit=50)
        return [r.task.title for r in page.rows], page.total

    open_expected = [late_high, late_low, high_near, high_far, high_none, med_today, low_soon]
    assert await titles(TaskFilter.OPEN) == ([t.title for t in open_expected], 7)
    assert await titles(TaskFilter.OVERDUE) == (["late high", "late low"], 2)
    assert await titles(TaskFilter.DONE) == (["done new", "done old"], 2)
    all_titles, total = await titles(TaskFilter.ALL)
    assert total == 9
    assert all_titles[:7] == [t.title for t in open_expected]
    assert set(all_titles[7:]) == {done_old.title, done_new.title}, "done tasks are never shown as overdue"


async def test_pagination_with_300_tasks(session, w):
    for i in range(300):
        await f.insert_task(session, w.ws, w.rep1_m, title=f"t{i:03}", due=TODAY + timedelta(days=i), priority=Priority.MEDIUM)
    await session.commit()

    first = await tasks.list_my_tasks(session, actor=w.rep1, which=TaskFilter.OPEN, today=TODAY, offset=0, limit=10)
    assert (first.total, first.offset, first.limit, len(first.rows)) == (300, 0, 10, 10)
    assert not first.has_prev and first.has_next
    assert [r.task.title for r in first.rows] == [f"t{i:03}" for i in range(10)]

    middle = await tasks.list_my_tasks(session, actor=w.rep1, which=TaskFilter.OPEN, today=TODAY, offset=150, limit=10)
    assert middle.has_prev and middle.has_next
    assert middle.rows[0].task.title == "t150"

    last = await tasks.list_my_tasks(session, actor=w.rep1, which=TaskFilter.OPEN, today=TODAY, offset=290, limit=10)
    assert last.has_prev and not last.has_next and len(last.rows) == 10
    assert last.rows[-1].task.title == "t299"

    past_end = await tasks.list_my_tasks(session, actor=w.rep1, which=TaskFilter.OPEN, today=TODAY, offset=5000, limit=10)
    assert past_end.offset == 290 and len(past_end.rows) == 10 and not past_end.has_next
    negative = await tasks.list_my_tasks(session, actor=w.rep1, which=TaskFilter.OPEN, today=TODAY, offset=-30, limit=10)
    assert negative.offset == 0 and negative.rows[0].task.title == "t000"

    seen = []
    offset = 0
    while True:
        page = await tasks.list_my_tasks(session, actor=w.rep1, which=TaskFilter.OPEN, today=TODAY, offset=offset, limit=23)
        seen += [r.task.id for r in page.rows]
        if not page.has_next:
            break
        offset += page.limit
    assert len(seen) == len(set(seen)) == 300, "paging visits every task exactly once"


async def test_empty_list_offset_is_zero(session, w):
    page = await tasks.list_my_tasks(session, actor=w.rep1, which=TaskFilter.OPEN, today=TODAY, offset=40, limit=10)
    assert (page.total, page.offset, page.rows, page.has_prev, page.has_next) == (0, 0, [], False, False)


async def test_list_needs_the_roster(session, w):
    with pytest.raises(NotOnRoster):
        await tasks.list_my_tasks(session, actor=w.outsider, which=TaskFilter.OPEN, today=TODAY)


# -- transitions -------------------------------------------------------------------

async def test_start_and_complete_are_idempotent(session, w):
    row = await w.task()
    tid = row.task.id
    started, changed = await tasks.start_task(session, actor=w.rep1, task_id=tid)
    assert changed and started.task.status == TaskStatus.IN_PROGRESS
    _, changed = await tasks.start_task(session, actor=w.rep1, task_id=tid)
    assert not changed

    done, changed = await tasks.complete_task(session, actor=w.rep1, task_id=tid)
    await session.commit()
    assert changed and done.task.status == TaskStatus.DONE and done.task.completed_at is not None
    first_completed = done.task.completed_at

    again, changed = await tasks.complete_task(session, actor=w.rep1, task_id=tid)
    await session.commit()
    assert not changed and again.task.status == TaskStatus.DONE
    assert again.task.completed_at == first_completed
    _, changed = await tasks.start_task(session, actor=w.rep1, task_id=tid)
    assert not changed, "a done task does not go back in progress"
    assert [e.kind for e in await events_of(session, tid)] == [TaskEventKind.CREATED, TaskEventKind.STARTED, TaskEventKind.DONE]


async def test_complete_from_open_directly(session, w):
    row = await w.task()
    done, changed = await tasks.complete_task(session, actor=w.rep1, task_id=row.task.id)
    assert changed and done.task.status == TaskStatus.DONE
    assert len(await events_of(session, row.task.id, TaskEventKind.DONE)) == 1


async def test_who_may_change_a_task(session, w):
    row = await w.task(to=["UREP1"])
    tid = row.task.id
    for stranger in (w.rep2, w.rep_w, w.mgr_w, w.outsider):
        with pytest.raises(PermissionDenied) as exc:
            await tasks.start_task(session, actor=stranger, task_id=tid)
        assert exc.value.key == "error.not_your_task"
        with pytest.raises(PermissionDenied):
            await tasks.complete_task(session, actor=stranger, task_id=tid)
        with pytest.raises(PermissionDenied):
            await tasks.add_note(session, actor=stranger, task_id=tid, note="hi")
        with pytest.raises(PermissionDenied):
            await tasks.get_task_row(session, actor=stranger, task_id=tid)
    assert (await session.get(Task, tid, populate_existing=True)).status == TaskStatus.OPEN
    assert len(await events_of(session, tid)) == 1

    _, changed = await tasks.start_task(session, actor=w.mgr, task_id=tid)  # manager of the rep's team
    assert changed
    _, changed = await tasks.complete_task(session, actor=w.admin, task_id=tid)
    assert changed


async def test_manager_of_assignees_team_may_act_on_a_task_an_admin_assigned(session, w):
    row = await w.task(by=w.admin, to=["UREPW"])
    _, changed = await tasks.start_task(session, actor=w.mgr_w, task_id=row.task.id)
    assert changed
    with pytest.raises(PermissionDenied):
        await tasks.complete_task(session, actor=w.mgr, task_id=row.task.id)


async def test_task_belongs_to_the_assignees_team_when_an_admin_on_another_team_assigns(session, w):
    """An admin who is also East's manager assigns West's rep: West's manager must be able to act on it."""
    east_boss = f.actor(w.ws, w.mgr_m, admin=True)
    row = await w.task(by=east_boss, to=["UREPW"])
    _, changed = await tasks.start_task(session, actor=w.mgr_w, task_id=row.task.id)
    assert changed
    with pytest.raises(PermissionDenied):
        await tasks.complete_task(session, actor=f.actor(w.ws, w.mgr_m), task_id=row.task.id)


async def test_unknown_task_is_not_found(session, w):
    with pytest.raises(NotFound) as exc:
        await tasks.complete_task(session, actor=w.admin, task_id=424242)
    assert exc.value.key == "error.task_not_found"


async def test_tasks_of_another_workspace_are_not_found(session, w):
    row = await w.task()
    other = await f.World.build(session, "T2")
    for who in (other.admin, other.mgr, other.rep1):
        for call in (
            lambda a: tasks.start_task(session, actor=a, task_id=row.task.id),
            lambda a: tasks.complete_task(session, actor=a, task_id=row.task.id),
            lambda a: tasks.add_note(session, actor=a, task_id=row.task.id, note="x"),
            lambda a: tasks.get_task_row(session, actor=a, task_id=row.task.id),
            lambda a: tasks.task_events(session, actor=a, task_id=row.task.id),
        ):
            with pytest.raises(NotFound):
                await call(who)
    assert (await session.get(Task, row.task.id, populate_existing=True)).status == TaskStatus.OPEN
    assert (await tasks.list_my_tasks(session, actor=other.rep1, which=TaskFilter.ALL, today=TODAY)).total == 0


# -- notes -------------------------------------------------------------------------

async def test_add_note_records_an_event(session, w):
    row = await w.task()
    out = await tasks.add_note(session, actor=w.rep1, task_id=row.task.id, note="  Called, will send the contract  ")
    await session.commit()
    assert out.task.id == row.task.id
    history = await tasks.task_events(session, actor=w.mgr, task_id=row.task.id)
    assert [(e.kind, e.note, e.actor_id) for e in history] == [
        (TaskEventKind.CREATED, "", w.mgr_m.id),
        (TaskEventKind.NOTE, "Called, will send the contract", w.rep1_m.id),
    ]


async def test_add_note_validation(session, w):
    row = await w.task()
    for note, key in [("", "note.error.empty"), ("  \n ", "note.error.empty"), ("n" * 3001, "note.error.too_long")]:
        with pytest.raises(ValidationFailed) as exc:
            await tasks.add_note(session, actor=w.rep1, task_id=row.task.id, note=note)
        assert exc.value.errors["note"][0] == key
    assert exc.value.errors["note"][1] == {"max": 3000}
    assert len(await events_of(session, row.task.id)) == 1


async def test_note_at_the_limit_is_kept(session, w):
    row = await w.task()
    await tasks.add_note(session, actor=w.rep1, task_id=row.task.id, note="n" * 3000)
    notes = await events_of(session, row.task.id, TaskEventKind.NOTE)
    assert len(notes) == 1 and len(notes[0].note) == 3000


# -- App Home ----------------------------------------------------------------------

async def test_home_overview_for_a_manager(session, w):
    ws = w.ws
    d = lambda n: TODAY + timedelta(days=n)  # noqa: E731
    for i in range(7):
        await f.insert_task(session, ws, w.rep1_m, title=f"ray late {i}", due=d(-10 + i))
    await f.insert_task(session, ws, w.rep1_m, title="ray on time", due=d(3))
    await f.insert_task(session, ws, w.rep1_m, title="ray done late", due=d(-3), status=TaskStatus.DONE)
    await f.insert_task(session, ws, w.rep2_m, title="rita late", due=d(-1))
    await f.insert_task(session, ws, w.rep_w_m, title="wes late", due=d(-1))  # West: not Mia's team
    await f.insert_task(session, ws, w.mgr_m, title="mia's own", due=d(1))
    await session.commit()

    home = await tasks.home_overview(session, actor=w.mgr, today=TODAY, per_rep=5)
    assert [r.task.title for r in home.my_tasks.rows] == ["mia's own"]
    by_rep = {rep.member.slack_user_id: rep for rep in home.team_overdue}
    assert list(by_rep) == ["UREP1", "UREP2"], "reps in name order: Ray, Rita"
    assert by_rep["UREP1"].total == 7
    assert [r.task.title for r in by_rep["UREP1"].rows] == [f"ray late {i}" for i in range(5)], "oldest due first, cut at per_rep"
    assert all(r.assignees == ["UREP1"] for r in by_rep["UREP1"].rows)
    assert by_rep["UREP2"].total == 1 and [r.task.title for r in by_rep["UREP2"].rows] == ["rita late"]


async def test_home_overview_for_a_rep_and_an_outsider(session, w):
    await f.insert_task(session, w.ws, w.rep2_m, title="rita late", due=TODAY - timedelta(days=2))
    rep_home = await tasks.home_overview(session, actor=w.rep1, today=TODAY)
    assert rep_home.team_overdue == [] and rep_home.my_tasks.total == 0
    rita_home = await tasks.home_overview(session, actor=w.rep2, today=TODAY)
    assert rita_home.team_overdue == [] and [r.task.title for r in rita_home.my_tasks.rows] == ["rita late"]
    out_home = await tasks.home_overview(session, actor=w.outsider, today=TODAY)
    assert out_home.my_tasks.rows == [] and out_home.team_overdue == []


async def test_search_customers(session, w):
    for name in ("Acme Holdings", "Acme", "Big Acme Group", "Zenith", "100%_Sure"):
        await tasks.find_or_create_customer(session, workspace_id=w.ws.id, name=name)
    other = await f.workspace(session, "T2")
    await tasks.find_or_create_customer(session, workspace_id=other.id, name="Acme Foreign")
    found = await tasks.search_customers(session, workspace_id=w.ws.id, query="acme")
    assert [c.name for c in found] == ["Acme", "Acme Holdings", "Big Acme Group"]
    assert [c.name for c in await tasks.search_customers(session, workspace_id=w.ws.id, query="%_")] == ["100%_Sure"]
    assert len(await tasks.search_customers(session, workspace_id=w.ws.id, query="")) == 5


async def test_a_shared_task_across_two_teams_is_each_assignees_managers_to_act_on(session, w):
    """An admin shares a task between an East rep and a West rep: both teams' managers may act on it."""
    row = await w.task(by=w.admin, to=["UREP1", "UREPW"])
    _, started = await tasks.start_task(session, actor=w.mgr_w, task_id=row.task.id)
    _, done = await tasks.complete_task(session, actor=w.mgr, task_id=row.task.id)
    assert started and done
