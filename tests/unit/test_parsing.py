"""bot/parsing: slash-command text into typed inputs."""

from __future__ import annotations

import pytest

from bot.models import Level, Role, Segment
from bot.parsing import ParseError, mention_id, parse_assign, parse_mytasks, parse_salesbot, split_words
from bot.services.roster import RosterChange
from bot.services.tasks import TaskFilter


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", " Help "])
def test_help(text):
    assert parse_salesbot(text).action == "help"


@pytest.mark.parametrize("text", ["team", " TEAM "])
def test_roster(text):
    cmd = parse_salesbot(text)
    assert cmd.action == "roster" and cmd.change is None and cmd.user_id is None


@pytest.mark.parametrize("mention", ["<@U123|ray>", "<@U123>", "<@U123|ray.rep>", "<@W0ABC>"])
def test_team_add_minimal_accepts_both_mention_forms(mention):
    cmd = parse_salesbot(f"team add {mention} rep")
    user = mention[2:].split("|")[0].rstrip(">")
    assert cmd.action == "add"
    assert cmd.change == RosterChange(slack_user_id=user, role=Role.REP)


def test_team_add_with_every_option():
    cmd = parse_salesbot('team ADD <@U123|ray> Manager team:"East China" region:Shanghai segment:KEY level:Expert')
    assert cmd.change == RosterChange(
        slack_user_id="U123", role=Role.MANAGER, team="East China", region="Shanghai", segment=Segment.KEY, level=Level.EXPERT,
    )
    cmd = parse_salesbot("team add <@U9> service Team:华东 Region:上海 Segment:smb Level:senior")
    assert cmd.change == RosterChange(slack_user_id="U9", role=Role.SERVICE, team="华东", region="上海", segment=Segment.SMB, level=Level.SENIOR)


@pytest.mark.parametrize(
    "text, key, params",
    [
        ("hello", "salesbot.error.unknown", {"word": "hello"}),
        ("team rename", "salesbot.error.unknown", {"word": "rename"}),
        ("team add", "salesbot.error.add_usage", {}),
        ("team add <@U1>", "salesbot.error.add_usage", {}),
        ("team add ray rep", "salesbot.error.add_usage", {}),
        ("team add @ray rep", "salesbot.error.add_usage", {}),
        ("team add <@U1> boss", "salesbot.error.bad_role", {"value": "boss"}),
        ("team add <@U1> admin", "salesbot.error.bad_role", {"value": "admin"}),
        ("team add <@U1> rep segment:vip", "salesbot.error.bad_segment", {"value": "vip"}),
        ("team add <@U1> rep level:guru", "salesbot.error.bad_level", {"value": "guru"}),
        ("team add <@U1> rep colour:red", "salesbot.error.bad_option", {"value": "colour:red"}),
        ("team add <@U1> rep East", "salesbot.error.bad_option", {"value": "East"}),
        ("team add <@U1> rep team:", "salesbot.error.bad_option", {"value": "team:"}),
        ("team add <@U1> rep team:" + "x" * 81, "salesbot.error.too_long", {"max": 80}),
        ("team add <@U1> rep region:" + "x" * 81, "salesbot.error.too_long", {"max": 80}),
        ("team remove", "salesbot.error.remove_usage", {}),
        ("team remove ray", "salesbot.error.remove_usage", {}),
        ("team remove <@U1> <@U2>", "salesbot.error.remove_usage", {}),
    ],
)
def test_salesbot_errors(text, key, params):
    with pytest.raises(ParseError) as exc:
        parse_salesbot(text)
    assert exc.value.key == key
    assert exc.value.params == params


@pytest.mark.parametrize("text", ["team remove <@U123|ray>", "team remove <@U123>", "team REMOVE   <@U123> "])
def test_team_remove(text):
    cmd = parse_salesbot(text)
    assert (cmd.action, cmd.user_id) == ("remove", "U123")


def test_team_name_at_the_limit():
    assert parse_salesbot("team add <@U1> rep team:" + "x" * 80).change.team == "x" * 80


def test_mention_id_and_split_words():
    assert mention_id("<@U1|a>") == "U1"
    assert mention_id("<@U1>") == "U1"
    assert mention_id("<@U1> x") is None
    assert mention_id("<#C1|general>") is None
    assert mention_id("<!channel>") is None
    assert split_words(' a  team:"two words"  b ') == ["a", "team:two words", "b"]


@pytest.mark.parametrize(
    "text, which",
    [
        ("", TaskFilter.OPEN), ("open", TaskFilter.OPEN), ("  OVERDUE ", TaskFilter.OVERDUE), ("done", TaskFilter.DONE),
        ("all", TaskFilter.ALL), ("未完成", TaskFilter.OPEN), ("逾期", TaskFilter.OVERDUE), ("已完成", TaskFilter.DONE),
        ("完成", TaskFilter.DONE), ("全部", TaskFilter.ALL),
    ],
)
def test_parse_mytasks(text, which):
    assert parse_mytasks(text) == which


@pytest.mark.parametrize("text", ["late", "open please", "逾期了"])
def test_parse_mytasks_bad_word(text):
    with pytest.raises(ParseError) as exc:
        parse_mytasks(text)
    assert exc.value.key == "mytasks.error.usage"
    assert exc.value.params == {"value": text}


def test_parse_assign_leading_mentions_are_assignees():
    cmd = parse_assign("<@U1|ray> <@U2>  <@U1> Send the quote to <@U3> &lt;b&gt; &amp; co")
    assert cmd.assignees == ["U1", "U2"]
    assert cmd.title == "Send the quote to <@U3> <b> & co"


def test_parse_assign_without_mentions_or_title():
    assert parse_assign("Just a title").assignees == []
    assert parse_assign("Just a title").title == "Just a title"
    empty = parse_assign("   ")
    assert (empty.assignees, empty.title) == ([], "")
    only = parse_assign("<@U1|ray>")
    assert (only.assignees, only.title) == (["U1"], "")


def test_parse_assign_unescapes_once():
    # The user typed "&lt;" literally; Slack sent "&amp;lt;".
    assert parse_assign("Price &amp;lt; 5").title == "Price &lt; 5"
    assert parse_assign("a &amp;amp; b").title == "a &amp; b"
    assert parse_assign("<!channel> ping").title == "<!channel> ping"
