"""bot/services/matching: each ranking rule moves a rep as stated, ties are deterministic, queries are bounded."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest
from sqlalchemy import event

from bot.blocks.kit import VIEW_MAX_BLOCKS
from bot.blocks.modals import AssignPrefill, build_assign_modal, build_match_blocks
from bot.i18n import LANGUAGES
from bot.models import Customer, Deal, DealStatus, Level, Role, Segment, TaskStatus
from bot.services.errors import NotOnRoster, PermissionDenied
from bot.services.matching import Candidate, MatchResult, Reason, rank, score_member, suggest_assignees
from bot.standin.limits import validate_view
from bot.blocks import ids
from tests.unit import factories as f

WON_AT = datetime(2031, 1, 5, tzinfo=timezone.utc)


async def setup(session, *reps):
    """A workspace with team East, its manager, and the reps given as (user id, kwargs)."""
    ws = await f.workspace(session)
    east = await f.team(session, ws, "East")
    mgr = await f.member(session, ws, "UMGR", role=Role.MANAGER, team=east, name="Mia", region="Shanghai")
    members = {}
    for user_id, kw in reps:
        members[user_id] = await f.member(session, ws, user_id, role=kw.pop("role", Role.REP), team=kw.pop("team", east), **kw)
    return ws, east, f.actor(ws, mgr), members


async def customer(session, ws, name="Acme", *, segment=Segment.KEY, region="Shanghai") -> Customer:
    c = Customer(workspace_id=ws.id, name=name, segment=segment, region=region)
    session.add(c)
    await session.flush()
    return c


async def won_deal(session, ws, owner, cust, status=DealStatus.WON) -> Deal:
    d = Deal(workspace_id=ws.id, team_id=owner.team_id, customer_id=cust.id, owner_id=owner.id, amount=100_00, status=status,
             won_at=WON_AT if status == DealStatus.WON else None)
    session.add(d)
    await session.flush()
    return d


def order(result: MatchResult) -> list[str]:
    return [c.member.slack_user_id for c in result.suggestions]


def codes(c: Candidate) -> list[str]:
    return [r.code for r in c.reasons]


# -- each rule ----------------------------------------------------------------------

async def test_same_region_moves_a_rep_up(session):
    ws, _, mgr, _ = await setup(session, ("UA", {"name": "Amy", "region": "Beijing"}), ("UB", {"name": "Bob", "region": " shanghai "}))
    cust = await customer(session, ws, region="Shanghai")
    result = await suggest_assignees(session, actor=mgr, customer_id=cust.id)
    assert order(result) == ["UB", "UA"]  # Amy would win on name alone
    bob, amy = result.suggestions
    assert bob.reasons[0] == Reason("region", {"region": "shanghai"})
    assert "region" not in codes(amy)
    assert result.region == "Shanghai" and result.segment == Segment.KEY


async def test_no_region_known_gives_no_region_points(session):
    ws, _, mgr, _ = await setup(session, ("UA", {"name": "Amy", "region": None}), ("UB", {"name": "Bob", "region": "Shanghai"}))
    cust = await customer(session, ws, region=None)
    result = await suggest_assignees(session, actor=mgr, customer_id=cust.id)
    assert order(result) == ["UA", "UB"]
    assert all("region" not in codes(c) for c in result.suggestions)


async def test_segment_experience_moves_a_rep_up(session):
    ws, _, mgr, _ = await setup(session, ("UA", {"name": "Amy", "segment": Segment.SMB}), ("UB", {"name": "Bob", "segment": Segment.KEY}))
    cust = await customer(session, ws, segment=Segment.KEY, region=None)
    result = await suggest_assignees(session, actor=mgr, customer_id=cust.id)
    assert order(result) == ["UB", "UA"]
    assert result.suggestions[0].reasons[0] == Reason("segment", {"segment": "key", "wins": 0})
    smb = await customer(session, ws, "Small Co", segment=Segment.SMB, region=None)
    assert order(await suggest_assignees(session, actor=mgr, customer_id=smb.id)) == ["UA", "UB"]


async def test_won_deals_in_the_segment_count_only_wins_with_that_segment(session):
    ws, _, mgr, m = await setup(
        session, ("UA", {"name": "Amy", "segment": Segment.KEY}), ("UB", {"name": "Bob", "segment": Segment.KEY}), ("UC", {"name": "Cat", "segment": Segment.SMB}),
    )
    key_cust = await customer(session, ws, "Big Corp", segment=Segment.KEY)
    smb_cust = await customer(session, ws, "Small Co", segment=Segment.SMB)
    await won_deal(session, ws, m["UB"], key_cust)
    await won_deal(session, ws, m["UB"], key_cust)
    await won_deal(session, ws, m["UA"], key_cust, status=DealStatus.LOST)  # lost and open deals are no experience
    await won_deal(session, ws, m["UA"], key_cust, status=DealStatus.OPEN)
    for _ in range(3):
        await won_deal(session, ws, m["UA"], smb_cust)  # wins in the other segment do not count
    await won_deal(session, ws, m["UC"], key_cust)  # a win without the segment on the profile earns no segment points
    result = await suggest_assignees(session, actor=mgr, customer_id=key_cust.id)
    assert order(result) == ["UB", "UA", "UC"]
    bob, amy, cat = result.suggestions
    assert (bob.segment_wins, amy.segment_wins, cat.segment_wins) == (2, 0, 1)
    assert bob.reasons[0] == Reason("segment", {"segment": "key", "wins": 2})
    assert bob.score - amy.score == 4
    assert "segment" not in codes(cat)


async def test_win_points_are_capped():
    member = f.fake_member("UA")
    member.segment, member.region, member.level = Segment.KEY, None, Level.JUNIOR
    few = score_member(member, region=None, segment=Segment.KEY, difficulty=1, open_tasks=0, segment_wins=5)
    many = score_member(member, region=None, segment=Segment.KEY, difficulty=1, open_tasks=0, segment_wins=50)
    assert few.score == many.score


@pytest.mark.parametrize(
    "difficulty, expected",
    [
        (3, ["UEXP", "USEN", "UJUN"]),  # expert best, senior ok, junior poor
        (2, ["UEXP", "USEN", "UJUN"]),  # senior and expert alike (name decides), junior last
        (1, ["UJUN", "USEN", "UEXP"]),  # anyone, juniors preferred to keep the seniors free
    ],
)
async def test_level_against_difficulty(session, difficulty, expected):
    _, _, mgr, _ = await setup(
        session, ("UJUN", {"name": "Jay", "level": Level.JUNIOR}), ("USEN", {"name": "Sue", "level": Level.SENIOR}),
        ("UEXP", {"name": "Eve", "level": Level.EXPERT}),
    )
    result = await suggest_assignees(session, actor=mgr, difficulty=difficulty)
    assert order(result) == expected
    fits = {c.member.slack_user_id: c.reasons[-2].params["fit"] for c in result.suggestions}
    if difficulty == 3:
        assert fits == {"UEXP": "good", "USEN": "ok", "UJUN": "poor"}
    if difficulty == 2:
        assert fits == {"UEXP": "good", "USEN": "good", "UJUN": "poor"}
        eve, sue, _ = result.suggestions
        assert eve.score == sue.score
    assert all(c.reasons[-2].params["difficulty"] == difficulty for c in result.suggestions)


async def test_workload_counts_open_tasks_only(session):
    ws, _, mgr, m = await setup(session, ("UA", {"name": "Amy"}), ("UB", {"name": "Bob"}), ("UC", {"name": "Cat"}))
    await f.insert_task(session, ws, m["UA"], status=TaskStatus.OPEN)
    await f.insert_task(session, ws, m["UA"], status=TaskStatus.IN_PROGRESS)
    await f.insert_task(session, ws, m["UB"], status=TaskStatus.OPEN)
    for _ in range(5):
        await f.insert_task(session, ws, m["UC"], status=TaskStatus.DONE)  # done work is no load
    # A task in another workspace never counts, even for a member with the same Slack id.
    other_ws = await f.workspace(session, "T2")
    other = await f.member(session, other_ws, "UC", role=Role.REP, team=await f.team(session, other_ws))
    await f.insert_task(session, other_ws, other)
    result = await suggest_assignees(session, actor=mgr)
    assert order(result) == ["UC", "UB", "UA"]
    assert [c.open_tasks for c in result.suggestions] == [0, 1, 2]
    assert [c.reasons[-1] for c in result.suggestions] == [Reason("workload", {"open": n}) for n in (0, 1, 2)]
    assert result.suggestions[0].score - result.suggestions[2].score == 6


async def test_a_busy_rep_drops_below_a_free_one_of_the_same_fit_but_not_below_a_poor_fit():
    base = f.fake_member("UA")
    base.region, base.segment, base.level = "Shanghai", Segment.KEY, Level.EXPERT
    busy = score_member(base, region="Shanghai", segment=Segment.KEY, difficulty=3, open_tasks=4, segment_wins=0)
    free = score_member(base, region="Shanghai", segment=Segment.KEY, difficulty=3, open_tasks=0, segment_wins=0)
    assert free.score > busy.score
    capped = score_member(base, region="Shanghai", segment=Segment.KEY, difficulty=3, open_tasks=500, segment_wins=0)
    assert capped.score == free.score - 30


# -- ties, candidates, limits -------------------------------------------------------

async def test_ties_are_broken_by_name_then_user_id_whatever_the_insert_order(session):
    reps = [("UZ", {"name": "anna"}), ("UY", {"name": "Anna"}), ("UX", {"name": "Bert"}), ("UW", {"name": "Carl"})]
    random.Random(7).shuffle(reps)
    _, _, mgr, _ = await setup(session, *reps)
    first = order(await suggest_assignees(session, actor=mgr))
    assert first == ["UY", "UZ", "UX"]  # "anna" and "Anna" tie on name: the Slack user id decides
    assert order(await suggest_assignees(session, actor=mgr)) == first


def test_rank_prefers_fewer_open_tasks_on_equal_score():
    a, b = f.fake_member("UA", name="Amy"), f.fake_member("UB", name="Bob")
    ca = Candidate(member=a, score=10, open_tasks=3, segment_wins=0, reasons=[])
    cb = Candidate(member=b, score=10, open_tasks=1, segment_wins=0, reasons=[])
    assert [c.member.slack_user_id for c in rank([ca, cb])] == ["UB", "UA"]


async def test_only_reps_the_manager_may_assign_and_at_most_three(session):
    ws, east, mgr, _ = await setup(
        session, *[(f"UR{i}", {"name": f"Rep {i}"}) for i in range(5)], ("USVC", {"name": "Sam", "role": Role.SERVICE}),
    )
    west = await f.team(session, ws, "West")
    await f.member(session, ws, "UWEST", role=Role.REP, team=west, name="Aaron", level=Level.EXPERT, region="Shanghai")
    await f.member(session, ws, "UMGR2", role=Role.MANAGER, team=east, name="Aardvark", level=Level.EXPERT)
    result = await suggest_assignees(session, actor=mgr, difficulty=3)
    assert result.candidates == 6  # five reps and customer service of East
    assert len(result.suggestions) == 3
    assert not {"UWEST", "UMGR2"} & set(order(result))
    admin = f.actor(ws, await f.member(session, ws, "UADMIN", is_slack_admin=True, name="Ada"))
    everyone = await suggest_assignees(session, actor=admin, difficulty=3)
    assert everyone.candidates == 7 and order(everyone)[0] == "UWEST"


async def test_no_rep_on_the_team_gives_no_suggestions(session):
    _, _, mgr, _ = await setup(session)
    result = await suggest_assignees(session, actor=mgr, difficulty=2)
    assert result.suggestions == [] and result.candidates == 0


async def test_reps_and_outsiders_get_no_suggestions(session):
    ws, _, _, m = await setup(session, ("UA", {"name": "Amy"}))
    with pytest.raises(PermissionDenied):
        await suggest_assignees(session, actor=f.actor(ws, m["UA"]))
    with pytest.raises(NotOnRoster):
        await suggest_assignees(session, actor=f.actor(ws, await f.member(session, ws, "UOUT")))


async def test_another_workspaces_customer_is_ignored(session):
    ws, _, mgr, _ = await setup(session, ("UA", {"name": "Amy", "region": "Shanghai", "segment": Segment.KEY}))
    foreign = await customer(session, await f.workspace(session, "T2"), "Foreign", region="Shanghai")
    result = await suggest_assignees(session, actor=mgr, customer_id=foreign.id)
    assert result.customer is None and codes(result.suggestions[0]) == ["level", "workload"]


async def test_a_new_customers_segment_counts(session):
    _, _, mgr, _ = await setup(session, ("UA", {"name": "Amy", "segment": Segment.SMB}), ("UB", {"name": "Bob", "segment": Segment.KEY}))
    assert order(await suggest_assignees(session, actor=mgr, new_customer_segment=Segment.KEY)) == ["UB", "UA"]


async def test_the_number_of_queries_does_not_grow_with_the_team(db):
    async def count_queries(n_reps: int) -> int:
        async with db.sessionmaker() as session:
            ws, _, mgr, m = await setup(session, *[(f"U{n_reps}_{i}", {"name": f"R{i}", "segment": Segment.KEY}) for i in range(n_reps)])
            cust = await customer(session, ws, f"C{n_reps}")
            for rep in m.values():
                await f.insert_task(session, ws, rep)
                await won_deal(session, ws, rep, cust)
            await session.commit()
            statements: list[str] = []

            def record(conn, cursor, statement, *args):
                statements.append(statement)

            engine = session.bind.sync_engine
            event.listen(engine, "before_cursor_execute", record)
            try:
                result = await suggest_assignees(session, actor=mgr, customer_id=cust.id)
            finally:
                event.remove(engine, "before_cursor_execute", record)
            assert all(c.open_tasks == 1 and c.segment_wins == 1 for c in result.suggestions)
            await session.rollback()
            return len(statements)

    few = await count_queries(3)
    many = await count_queries(25)
    assert few == many <= 4


# -- the builder --------------------------------------------------------------------

def _candidate(user_id: str, reasons: list[Reason]) -> Candidate:
    return Candidate(member=f.fake_member(user_id), score=0, open_tasks=0, segment_wins=0, reasons=reasons)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_suggestions_read_in_both_languages(lang):
    loc = f.loc(lang)
    leo = _candidate("ULEO", [
        Reason("region", {"region": "Shanghai <&>"}), Reason("segment", {"segment": "key", "wins": 4}),
        Reason("level", {"level": "senior", "difficulty": 2, "fit": "good"}), Reason("workload", {"open": 3}),
    ])
    ann = _candidate("UANN", [Reason("level", {"level": "junior", "difficulty": 3, "fit": "poor"}), Reason("workload", {"open": 1})])
    blocks = build_match_blocks(loc, MatchResult(suggestions=[leo, ann], candidates=2))
    by_id = {b.get("block_id"): b for b in blocks}
    line = by_id[ids.MATCH_REP_PREFIX + "1"]["text"]["text"]
    second = by_id[ids.MATCH_REP_PREFIX + "2"]["text"]["text"]
    if lang == "en":
        assert line == "*1.* <@ULEO> — same region (Shanghai &lt;&amp;&gt;) · key accounts, 4 won · senior for a difficulty-2 task · 3 open tasks"
        assert second == "*2.* <@UANN> — junior, a difficulty-3 task is a stretch · 1 open task"
        assert by_id[ids.MATCH_SUGGESTIONS]["text"]["text"] == "*Who should do it?*"
    else:
        assert line == "*1.* <@ULEO>：同区域（Shanghai &lt;&amp;&gt;） · 大客户经验，已赢单 4 笔 · 资深，适合难度 2 的任务 · 3 项待办任务"
        assert second == "*2.* <@UANN>：初级，难度 3 的任务偏难 · 1 项待办任务"
    assert ids.MATCH_NOTE in by_id


@pytest.mark.parametrize("lang", LANGUAGES)
def test_none_suitable_and_hint(lang):
    loc = f.loc(lang)
    none = build_match_blocks(loc, MatchResult(suggestions=[], candidates=0))
    assert [b.get("block_id") for b in none] == [ids.MATCH_SUGGESTIONS, ids.MATCH_NOTE]
    assert none[1]["elements"][0]["text"] == loc.t("match.none")
    [hint] = build_match_blocks(loc, None)
    assert hint["elements"][0]["text"] == loc.t("match.hint")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_modal_with_suggestions_and_every_value_given_back_is_valid(lang):
    loc = f.loc(lang)
    three = [_candidate(f"U{i}", [Reason("region", {"region": "R" * 80}), Reason("workload", {"open": 99})]) for i in range(3)]
    prefill = AssignPrefill(
        title="t" * 300, assignees=["U1"], customer={"text": {"type": "plain_text", "text": "Acme · key"}, "value": "7"},
        new_customer="", segment="key", stage="proposal", priority="1", difficulty="3", due="2031-03-12", details="d" * 4000,
    )
    view = build_assign_modal(loc, prefill=prefill, metadata={}, match=MatchResult(suggestions=three, candidates=3))
    assert validate_view(view) == [] and len(view["blocks"]) <= VIEW_MAX_BLOCKS
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert by_id[ids.ASSIGN_CUSTOMER]["element"]["initial_option"] == {"text": {"type": "plain_text", "text": "Acme · key", "emoji": True}, "value": "7"}
    assert by_id[ids.ASSIGN_STAGE]["element"]["initial_option"]["value"] == "proposal"
    assert by_id[ids.ASSIGN_DIFFICULTY]["element"]["initial_option"]["value"] == "3"
    assert by_id[ids.ASSIGN_PRIORITY]["element"]["initial_option"]["value"] == "1"
    assert by_id[ids.ASSIGN_SEGMENT]["element"]["initial_option"]["value"] == "key"
    assert by_id[ids.ASSIGN_DUE]["element"]["initial_date"] == "2031-03-12"
    assert len(by_id[ids.ASSIGN_TITLE]["element"]["initial_value"]) == 200
    assert len(by_id[ids.ASSIGN_DETAILS]["element"]["initial_value"]) == 3000
    for block_id in (ids.ASSIGN_CUSTOMER, ids.ASSIGN_STAGE, ids.ASSIGN_DIFFICULTY):
        assert by_id[block_id]["dispatch_action"] is True
    # The ids Slack keeps input state by are the same as in the first modal.
    first = build_assign_modal(loc, prefill=AssignPrefill(), metadata={})
    inputs = lambda v: [(b["block_id"], b["element"]["action_id"]) for b in v["blocks"] if b["type"] == "input"]  # noqa: E731
    assert inputs(view) == inputs(first)


def test_unknown_values_given_back_fall_back_to_the_defaults():
    prefill = AssignPrefill(stage="nope", priority="9", difficulty="x", segment="mid", due="31/12/2031")
    view = build_assign_modal(f.loc("en"), prefill=prefill, metadata={})
    assert validate_view(view) == []
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert "initial_option" not in by_id[ids.ASSIGN_STAGE]["element"]
    assert by_id[ids.ASSIGN_DIFFICULTY]["element"]["initial_option"]["value"] == "1"
    assert "initial_date" not in by_id[ids.ASSIGN_DUE]["element"]
