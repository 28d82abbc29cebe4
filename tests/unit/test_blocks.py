"""Block Kit builders: pure functions checked on their output, within Slack's limits."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from bot.blocks.home import build_home
from bot.blocks.kit import MODAL_TITLE_MAX, PRIVATE_METADATA_MAX, SECTION_TEXT_MAX
from bot.blocks.modals import AssignPrefill, build_assign_modal, build_note_modal, customer_options
from bot.blocks.refs import Surface, TaskRef
from bot.blocks.roster import build_help, build_roster
from bot.blocks.tasks import PAGE_SIZE, build_assigned_confirmation, build_notice, build_task_card, build_task_list
from bot.i18n import LANGUAGES
from bot.models import Customer, Level, Role, Segment, TaskStatus
from bot.services.roster import RosterEntry
from bot.services.tasks import HomeOverview, RepOverdue, TaskFilter, TaskPage
from bot.standin.limits import validate_blocks, validate_view
from bot.blocks import ids
from tests.unit import factories as f
from tests.unit.factories import TODAY

EVIL = "<!channel> & <@U1>"
EVIL_ESCAPED = "&lt;!channel&gt; &amp; &lt;@U1&gt;"


def walk(obj):
    """Every dict inside a payload."""
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from walk(v)


def mrkdwn_texts(payload) -> list[str]:
    return [d["text"] for d in walk(payload) if d.get("type") == "mrkdwn"]


def buttons(blocks) -> list[dict]:
    return [d for d in walk(blocks) if d.get("type") == "button"]


def page_of(n_rows: int, *, total: int, offset: int, limit: int = PAGE_SIZE, **row_kw) -> TaskPage:
    rows = [f.fake_row(1000 + offset + i, title=f"Task {offset + i}", **row_kw) for i in range(n_rows)]
    return TaskPage(rows=rows, total=total, offset=offset, limit=limit)


def assert_message_ok(blocks, text: str | None = None):
    assert validate_blocks(blocks, surface="message") == []
    assert json.loads(json.dumps(blocks)) == blocks  # plain JSON, nothing Slack could not take
    if text is not None:
        assert 0 < len(text) <= 3000


# -- task list -----------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(
    "total, offset, prev, nxt",
    [(10, 0, False, False), (300, 0, False, True), (300, 150, True, True), (300, 290, True, False), (25, 20, True, False)],
)
def test_task_list_pages(lang, total, offset, prev, nxt):
    loc = f.loc(lang)
    n = min(PAGE_SIZE, total - offset)
    page = page_of(n, total=total, offset=offset)
    text, blocks = build_task_list(page, TaskFilter.OPEN, loc, TODAY)
    assert_message_ok(blocks, text)
    assert len(blocks) <= 50
    nav = [b for b in buttons(blocks) if b["action_id"] in ids.TASKS_PAGE]
    labels = [b["text"]["text"] for b in nav]
    assert (loc.t("mytasks.prev") in labels) == prev
    assert (loc.t("mytasks.next") in labels) == nxt
    if not (prev or nxt):
        assert not any(b.get("block_id") == "tasks-nav" for b in blocks)
    for b in nav:
        ref = TaskRef.decode(b["value"])
        assert ref.surface == Surface.LIST and ref.which == TaskFilter.OPEN
        assert ref.offset == (offset - PAGE_SIZE if b["text"]["text"] == loc.t("mytasks.prev") else offset + PAGE_SIZE)
    task_buttons = [b for b in buttons(blocks) if b["action_id"] not in ids.TASKS_PAGE]
    assert task_buttons
    for b in task_buttons:
        ref = TaskRef.decode(b["value"])
        assert ref == TaskRef(ref.task_id, Surface.LIST, TaskFilter.OPEN, offset)
        assert ref.task_id in {r.task.id for r in page.rows}
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))


@pytest.mark.parametrize("which", list(TaskFilter))
def test_task_list_empty_and_title(which):
    loc = f.loc("en")
    text, blocks = build_task_list(TaskPage([], 0, 0, PAGE_SIZE), which, loc, TODAY)
    assert_message_ok(blocks, text)
    assert blocks[0]["text"]["text"] == loc.t(f"mytasks.title.{which.value}", n="0")
    assert mrkdwn_texts(blocks) == [loc.md(f"mytasks.empty.{which.value}")]
    assert buttons(blocks) == []


def test_task_list_with_long_texts_stays_valid():
    loc = f.loc("zh_Hans")
    page = TaskPage(
        rows=[f.fake_row(i, title="标" * 200, customer="客" * 200, assignees=[f"U{i}{j}" for j in range(20)]) for i in range(PAGE_SIZE)],
        total=1000, offset=500, limit=PAGE_SIZE,
    )
    text, blocks = build_task_list(page, TaskFilter.ALL, loc, TODAY)
    assert_message_ok(blocks, text)


def test_task_ref_round_trip_and_rejects_junk():
    ref = TaskRef(123, Surface.HOME, TaskFilter.DONE, 40)
    assert TaskRef.decode(ref.encode()) == ref
    assert len(TaskRef(2**62, Surface.LIST, TaskFilter.OVERDUE, 10**9).encode()) < 2000
    assert TaskRef.decode("5|l|open|-10").offset == 0
    for junk in ("", "5", "x|l|open|0", "5|z|open|0", "5|l|late|0", "5|l|open|0|extra"):
        with pytest.raises(ValueError):
            TaskRef.decode(junk)


# -- task card ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "status, expected",
    [
        (TaskStatus.OPEN, [ids.TASK_START, ids.TASK_DONE, ids.TASK_NOTE]),
        (TaskStatus.IN_PROGRESS, [ids.TASK_DONE, ids.TASK_NOTE]),
        (TaskStatus.DONE, [ids.TASK_NOTE]),
    ],
)
def test_task_card_buttons_follow_status(status, expected):
    loc = f.loc("en")
    row = f.fake_row(77, status=status)
    text, blocks = build_task_card(row, loc, TODAY, assigned_by="UMGR")
    assert_message_ok(blocks, text)
    assert [b["action_id"] for b in buttons(blocks)] == expected
    for b in buttons(blocks):
        assert TaskRef.decode(b["value"]) == TaskRef(77, Surface.CARD)
    if status == TaskStatus.DONE:
        assert ":white_check_mark:" in blocks[0]["text"]["text"]


def test_task_card_shows_overdue_shared_and_details():
    loc = f.loc("en")
    row = f.fake_row(5, due=TODAY - timedelta(days=2), assignees=["UREP1", "UREP2"], details="first\nsecond")
    _, blocks = build_task_card(row, loc, TODAY, assigned_by="UMGR")
    text = blocks[0]["text"]["text"]
    assert ":warning:" in text and "overdue by 2 days" in text
    assert "<@UREP1>, <@UREP2>" in text and "<@UMGR>" in text
    assert ">first\n>second" in text


def test_task_card_with_huge_details_fits():
    loc = f.loc("en")
    row = f.fake_row(5, title="t" * 200, details=("&<>" * 1000)[:3000], customer="c" * 200)
    text, blocks = build_task_card(row, loc, TODAY, assigned_by="UMGR")
    assert_message_ok(blocks, text)
    assert all(len(t) <= SECTION_TEXT_MAX for t in mrkdwn_texts(blocks))


# -- App Home ----------------------------------------------------------------------

def overview(n_my: int, my_total: int, n_reps: int, per_rep: int = 5, overdue_each: int = 7, title: str = "Follow up") -> HomeOverview:
    my = TaskPage([f.fake_row(i, title=f"{title} {i}") for i in range(n_my)], my_total, 0, 15)
    reps = []
    for r in range(n_reps):
        member = f.fake_member(f"UR{r:04}", pk=10_000 + r)
        rows = [f.fake_row(50_000 + r * 10 + i, title=f"{title} r{r} {i}", due=TODAY - timedelta(days=i + 1), assignees=[member.slack_user_id]) for i in range(per_rep)]
        reps.append(RepOverdue(member=member, rows=rows, total=overdue_each))
    return HomeOverview(my_tasks=my, team_overdue=reps)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_for_a_manager_with_300_reps_overdue(lang):
    loc = f.loc(lang)
    manager = f.fake_actor(Role.MANAGER)
    view = build_home(overview(15, 40, 300), manager, loc, TODAY)
    blocks = view["blocks"]
    assert len(blocks) <= 100
    assert validate_view(view) == []
    rep_sections = [b for b in blocks if b["type"] == "section" and "<@UR" in b["text"]["text"]]
    assert 0 < len(rep_sections) < 300
    more = loc.mdn("home.more_reps", 300 - len(rep_sections))
    assert more in mrkdwn_texts(blocks), "the Home says how many reps it could not show"
    assert loc.mdn("home.more_tasks", 25) in mrkdwn_texts(blocks)
    assert blocks[-1]["type"] == "context" and blocks[-1]["elements"][0]["text"] == loc.md("home.updated_hint"), "the closing hint survives the cut"
    assert all(len(t) <= SECTION_TEXT_MAX for t in mrkdwn_texts(blocks))


def test_home_rep_section_counts_more_tasks():
    loc = f.loc("en")
    view = build_home(overview(0, 0, 2, per_rep=5, overdue_each=12), f.fake_actor(Role.MANAGER), loc, TODAY)
    assert validate_view(view) == []
    texts = mrkdwn_texts(view)
    rep = next(t for t in texts if "<@UR0000>" in t)
    assert "*12 overdue*" in rep and "and 7 more" in rep
    assert rep.count("• *") == 5
    assert loc.md("home.no_tasks") in texts
    assert not any("more reps" in t for t in texts)


def test_home_for_a_rep_and_an_outsider():
    loc = f.loc("en")
    rep_view = build_home(overview(3, 3, 0), f.fake_actor(Role.REP), loc, TODAY)
    assert validate_view(rep_view) == []
    assert loc.t("home.team_overdue") not in json.dumps(rep_view, ensure_ascii=False)
    for b in buttons(rep_view["blocks"]):
        if b["action_id"] not in (ids.HOME_NOTICES, ids.TASK_EDIT, ids.TASK_HISTORY, ids.HOME_NEW_TASK):  # the settings switch, plain task ids, New task
            assert TaskRef.decode(b["value"]).surface == Surface.HOME
    assert ids.HOME_NEW_TASK in [b["action_id"] for b in buttons(rep_view["blocks"])]
    out_view = build_home(overview(0, 0, 0), f.fake_actor(None), loc, TODAY)
    assert validate_view(out_view) == []
    assert loc.md("home.not_on_roster") in mrkdwn_texts(out_view)
    assert buttons(out_view["blocks"]) == []


def test_home_for_a_manager_with_a_clear_team():
    loc = f.loc("zh_Hans")
    view = build_home(overview(2, 2, 0), f.fake_actor(Role.MANAGER), loc, TODAY)
    assert validate_view(view) == []
    assert loc.md("home.team_all_clear") in mrkdwn_texts(view)


# -- roster and help ---------------------------------------------------------------

def roster_entries(n: int, teams: int, region: str = "East China") -> list[RosterEntry]:
    out = []
    for i in range(n):
        m = f.fake_member(f"U{i:05}", role=[Role.MANAGER, Role.REP, Role.SERVICE][i % 3], pk=i + 1)
        m.region = region
        out.append(RosterEntry(member=m, team_name=f"Team {i % teams:03}"))
    return sorted(out, key=lambda e: e.team_name)


def shown_and_more(blocks, loc) -> tuple[int, int]:
    """How many people the roster lists, and the count its closing line gives for the rest."""
    texts = mrkdwn_texts(blocks)
    shown = len(set(re.findall(r"<@(U\d{5})>", "\n".join(texts))))
    pattern = re.compile(re.escape(loc.mdn("roster.more", 987654)).replace("987,654", r"([\d,]+)"))
    counts = [int(m.group(1).replace(",", "")) for t in texts if (m := pattern.fullmatch(t))]
    assert len(counts) <= 1
    return shown, (counts[0] if counts else 0)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("teams, region", [(1, "East China"), (4, "x" * 80), (200, "East China"), (400, "Shanghai")])
def test_roster_with_400_entries(lang, teams, region):
    loc = f.loc(lang)
    entries = roster_entries(400, teams, region)
    text, blocks = build_roster(entries, loc)
    assert_message_ok(blocks, text)
    assert len(blocks) <= 50
    assert all(len(t) <= SECTION_TEXT_MAX for t in mrkdwn_texts(blocks))
    shown, more = shown_and_more(blocks, loc)
    assert shown + more == 400, "everyone is either listed or counted"


def test_roster_cut_inside_a_big_team_counts_right():
    """A team too big for the remaining room is cut mid-team; the count must match what is shown."""
    loc = f.loc("en")
    small = roster_entries(46, 23, "R")  # 23 teams of two: 23 sections
    big = []
    for i in range(900):
        m = f.fake_member(f"U{50000 + i:05}", role=Role.REP, pk=90_000 + i)
        m.region = "r" * 80
        big.append(RosterEntry(member=m, team_name="Zeta"))
    text, blocks = build_roster(small + big, loc)
    assert_message_ok(blocks, text)
    shown, more = shown_and_more(blocks, loc)
    total = len(small) + len(big)
    assert more == total - shown, f"{shown} of {total} people listed, but the roster says {more} more"
    assert len(small) < shown < total, "the cut falls inside the big team"


def test_roster_empty_and_line():
    loc = f.loc("en")
    _, blocks = build_roster([], loc)
    assert mrkdwn_texts(blocks) == [loc.md("roster.empty")]
    m = f.fake_member("U7", role=Role.SERVICE)
    m.level, m.segment, m.region = Level.EXPERT, Segment.SMB, "R&D"
    _, blocks = build_roster([RosterEntry(m, "A <team>")], loc)
    text = mrkdwn_texts(blocks)[0]
    assert "*A &lt;team&gt;* (1)" in text
    assert "<@U7> · customer service · R&amp;D · SMB · expert" in text


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("role, admin", [(None, False), (Role.REP, False), (Role.MANAGER, False), (None, True)])
def test_help_by_role(lang, role, admin):
    loc = f.loc(lang)
    actor = f.fake_actor(role, admin=admin)
    text, blocks = build_help(actor, loc)
    assert_message_ok(blocks, text)
    body = mrkdwn_texts(blocks)[0]
    assert ("/assign" in body) == (role == Role.MANAGER or admin)
    assert ("/mytasks" in body) == (role is not None)
    assert ("team remove" in body) == admin
    assert (loc.md("help.not_on_roster") in body) == (role is None and not admin)


# -- modals ------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_assign_modal(lang):
    loc = f.loc(lang)
    metadata = {"ch": "C0123456789", "ru": "https://hooks.slack.com/commands/T1/" + "9" * 60}
    view = build_assign_modal(loc, prefill=AssignPrefill(title="x" * 500, assignees=[f"U{i}" for i in range(30)]), metadata=metadata)
    assert validate_view(view) == []
    assert view["title"]["text"] == loc.t("assign.modal.title") and len(view["title"]["text"]) <= MODAL_TITLE_MAX, "the title is not cut"
    assert view["submit"]["text"] == loc.t("assign.modal.submit") and len(view["submit"]["text"]) <= 24
    assert len(view["close"]["text"]) <= 24
    assert len(view["private_metadata"]) <= PRIVATE_METADATA_MAX
    assert json.loads(view["private_metadata"]) == metadata
    block_ids = [b["block_id"] for b in view["blocks"]]
    assert len(block_ids) == len(set(block_ids))
    assert {ids.ASSIGN_TITLE, ids.ASSIGN_ASSIGNEES, ids.ASSIGN_CUSTOMER, ids.ASSIGN_DUE, ids.ASSIGN_PRIORITY} <= set(block_ids)
    by_id = {b["block_id"]: b for b in view["blocks"]}
    assert len(by_id[ids.ASSIGN_TITLE]["element"]["initial_value"]) == 200
    assert len(by_id[ids.ASSIGN_ASSIGNEES]["element"]["initial_users"]) <= 20
    assert by_id[ids.ASSIGN_PRIORITY]["element"]["initial_option"]["value"] == "2"
    assert by_id[ids.ASSIGN_CUSTOMER]["element"]["action_id"] == ids.ASSIGN_CUSTOMER_SEARCH


def test_assign_modal_without_prefill():
    view = build_assign_modal(f.loc("en"), prefill=AssignPrefill(), metadata={})
    assert validate_view(view) == []
    by_id = {b["block_id"]: b for b in view["blocks"]}
    assert "initial_value" not in by_id[ids.ASSIGN_TITLE]["element"]
    assert "initial_users" not in by_id[ids.ASSIGN_ASSIGNEES]["element"]


def test_metadata_over_the_limit_is_refused():
    with pytest.raises(ValueError):
        build_assign_modal(f.loc("en"), prefill=AssignPrefill(), metadata={"ru": "x" * 3000})


@pytest.mark.parametrize("lang", LANGUAGES)
def test_note_modal(lang):
    loc = f.loc(lang)
    view = build_note_modal(loc, task_title=EVIL, metadata={"ref": TaskRef(5, Surface.CARD).encode()})
    assert validate_view(view) == []
    assert len(view["title"]["text"]) <= MODAL_TITLE_MAX and view["title"]["text"] == loc.t("note.modal.title")
    text = mrkdwn_texts(view)[0]
    assert EVIL_ESCAPED in text and "<!channel>" not in text
    assert "&amp;amp;" not in text, "escaped once, not twice"


def test_customer_options_stay_within_limits():
    loc = f.loc("en")
    customers = [Customer(id=i, workspace_id=1, name="N" * 200, segment=Segment.KEY) for i in range(150)]
    options = customer_options(customers, loc)
    assert len(options) == 100
    assert all(len(o["text"]["text"]) <= 75 and len(o["value"]) <= 150 for o in options)


# -- user text never pings ---------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_hostile_title_is_escaped_everywhere(lang):
    loc = f.loc(lang)
    row = f.fake_row(9, title=EVIL, customer=EVIL, details=EVIL, assignees=["UREP1", "UREP2"], due=TODAY - timedelta(days=1))
    payloads = []
    payloads.append(build_task_card(row, loc, TODAY, assigned_by="UMGR"))
    payloads.append(build_task_list(TaskPage([row], 1, 0, PAGE_SIZE), TaskFilter.OPEN, loc, TODAY))
    payloads.append(build_assigned_confirmation(row, loc, TODAY))
    payloads.append(build_notice(loc.md("note.saved", title=EVIL)))
    home = HomeOverview(TaskPage([row], 1, 0, 15), [RepOverdue(f.fake_member("UREP1"), [row], 1)])
    home_view = build_home(home, f.fake_actor(Role.MANAGER), loc, TODAY)
    assert validate_view(home_view) == []
    texts = []
    for fallback, blocks in payloads:
        assert_message_ok(blocks, fallback)
        texts.append(fallback)
        texts += mrkdwn_texts(blocks)
    texts += mrkdwn_texts(home_view)
    assert sum(EVIL_ESCAPED in t for t in texts) >= 6
    for t in texts:
        assert "<!channel>" not in t, t
        assert "<@U1>" not in t, t
        assert "& " not in t.replace("&amp; ", ""), t
