"""The offline demo (the README's first quick-start command) plays to the end, on data a sales manager believes."""

from __future__ import annotations

import asyncio
import re
import shlex
import tempfile
from datetime import datetime, timedelta, timezone

import pytest

from bot import cli
from bot.demo import MANAGER, DemoDates, make_stand_in, run_demo, try_next
from bot.settings import ConfigError
from bot.standin import SlackStandIn
from bot.text import display_width
from tests.scenario.helpers import shown_text


def digest_post(slack: SlackStandIn) -> dict:
    """The weekly digest the demo's manager received."""
    [post] = [m for m in slack.messages_in(slack.dm_channel(MANAGER)) if (m["blocks"] or [{}])[0].get("type") == "header"]
    return post


def assert_digest_has_figures(slack: SlackStandIn) -> None:
    """Sales, attainment, growth and satisfaction are real numbers, and the chart thread holds a drawn PNG."""
    post = digest_post(slack)
    text = shown_text(post["blocks"])
    won = re.search(r"Won in Week \d+ \([A-Z][a-z]{2} \d+ – (?:[A-Z][a-z]{2} )?\d+\):\* ¥([\d,.]+)", text)
    assert won and float(won.group(1).replace(",", "")) > 0, text
    attained = re.search(r"Target ¥[\d,]+(?:\.\d\d)?: (\d+)% attained", text)
    assert attained and int(attained.group(1)) > 0, text
    # The month so far has its target too (on the first days of a month it may hold no sale yet).
    assert re.search(r"[A-Z][a-z]+ \d{4} so far:\* ¥[\d,.]+ of ¥[1-9][\d,]*(?:\.\d\d)? \(\d+%\)", text), text
    assert re.search(r"Growth rate -?\d+%", text) and re.search(r"Customer satisfaction \d+%", text), text
    assert re.search(r"(?<![\d,])(?:1 satisfaction survey answer|(?:[2-9]|[1-9][\d,]+) satisfaction survey answers),", text), text
    assert "CN¥" not in text and ".00" not in text, text
    # Every rep's month attainment is in the table: the chart draws those bars.
    table = next(b["text"]["text"] for b in post["blocks"] if b["type"] == "section" and b["text"]["text"].startswith("```"))
    for line in table.strip("`").splitlines()[1:]:
        assert re.search(r"\s▼?\d+%\s", line), line
    # The columns align by display width, Chinese names (two columns a character) included.
    lines = table.strip("`").splitlines()
    assert any(re.search(r"[\u4e00-\u9fff]", line) for line in lines), table
    assert len({display_width(line) for line in lines}) == 1, table
    [upload] = slack.calls_to("files.completeUploadExternal")
    charts = [slack.files[f["id"]] for f in upload.args["files"]]
    assert [c["filename"].rsplit("-", 1)[1] for c in charts] == ["weekly.png", "reps.png", "funnel.png"]
    for chart in charts:
        assert chart["completed"] and chart["data"].startswith(b"\x89PNG") and len(chart["data"]) > 10_000
        assert [s["thread_ts"] for s in chart["shares"]] == [post["ts"]]
    # Stale deals are a few, not most of the pipeline.
    stale = re.search(r"(\d+) deals? stale", text)
    open_now = sum(int(n) for n in re.findall(r"(?:Lead|contact|analysis|Proposal|signing|After-sales) (\d+)", text.split("Open now:")[1].splitlines()[0]))
    assert stale and 0 < int(stale.group(1)) <= open_now // 3, text


async def assert_pictures_have_data(db_path) -> None:
    """The three pictures of the demo's digest each draw data: weeks with sales and a pace line, reps' bars, a funnel."""
    from sqlalchemy import select

    from bot.db import Database
    from bot.models import SalesTeam
    from bot.services.digest import WEEKLY, build_digest, picture_figures

    db = Database(f"sqlite+aiosqlite:///{db_path}")
    try:
        async with db.session() as session:
            team = (await session.execute(select(SalesTeam).order_by(SalesTeam.id))).scalars().first()
            dates = DemoDates.at(datetime.now(timezone.utc))
            digest = await build_digest(session, team=team, kind=WEEKLY, day=dates.digest_day, now=dates.digest_at(dates.digest_day))
            p = await picture_figures(session, team=team, as_of=digest.period.end - timedelta(days=1))
    finally:
        await db.dispose()
    assert sum(1 for w in p.quarter.weeks if w.won) >= 3 and p.quarter.target and p.quarter.pace()[-1] == p.quarter.target
    assert sum(1 for r in digest.reps if r.month is not None) >= 3, "reps have month targets: the attainment bars are drawn"
    entered = [line.entered for line in p.flow]
    assert entered[0] > 0 and sum(1 for n in entered if n) >= 4 and any(line.conversion for line in p.flow), entered


async def test_the_demo_plays_every_step_and_its_next_commands_work(tmp_path, capsys, monkeypatch):
    """`salesbot demo --db` plays every step, the digest has figures, and each command it prints afterwards runs."""
    db = tmp_path / "demo.db"
    slack = make_stand_in()
    assert await run_demo(db_path=str(db), slack=slack) == 0
    out = capsys.readouterr().out
    assert re.search(r"salesbot demo: \d+ Slack API calls, 0 rejected,", out), out[-2000:]
    assert slack.rejected_calls() == []
    assert_digest_has_figures(slack)
    await assert_pictures_have_data(db)
    # One manager screen in Chinese: the KPIs with the period in words and Chinese money.
    zh = out.split("ephemeral to Mia (中文)", 1)[1].split("└─", 1)[0]
    assert re.search(r"== KPI · East China 团队 · \d{4}年\d{1,2}月 ==", zh), zh
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 – \d{4}年\d{1,2}月\d{1,2}日，对比 \d{4}年\d{1,2}月", zh), zh
    assert re.search(r"\*销售额\*：¥[1-9][\d,]*(?:万|\.\d\d)?\n", zh) and re.search(r"\*客户满意度\*：[\d.]+%（\d+ 份回复中 \d+ 份为 4–5 分）", zh), zh
    assert "CN¥" not in zh and "考核指标" not in zh and "-W" not in zh, zh
    # And the digest as a Chinese-locale manager reads it: the week in words, its table aligned by display width.
    zh_digest = out.split("DM to a Chinese-locale manager", 1)[1].split("└─", 1)[0]
    assert re.search(r"== 销售周会 · East China · \d{4}年第\d+周（\d+月\d+日–(?:\d+月)?\d+日） ==", zh_digest), zh_digest
    table = zh_digest.split("```", 1)[1].split("```", 1)[0]
    rows = [line.split("│ ", 1)[-1] for line in table.splitlines()]  # the transcript's frame prefixes all but the first
    assert len(rows) >= 3 and rows[0].startswith("销售 ") and any("李娜" in r for r in rows), zh_digest
    assert len({display_width(r) for r in rows}) == 1, zh_digest

    commands = [line.split("$ ", 1)[1] for line in out.splitlines() if line.startswith("   $ ")]
    assert [c.split()[2:4] for c in commands] == [["jobs", "run"], ["jobs", "run"], ["jobs", "run"], ["export", "deals"]], commands
    monkeypatch.setenv("SALESBOT_DRY_RUN_DIR", str(tmp_path / "charts"))
    outputs = []
    for command in commands:
        env, program, *argv = shlex.split(command)
        name, value = env.split("=", 1)
        assert (name, value, program) == ("DATABASE_URL", f"sqlite:///{db}", "salesbot")
        monkeypatch.setenv(name, value)
        assert await asyncio.to_thread(cli.main, argv) == 0, command
        outputs.append(capsys.readouterr().out)
    daily, weekly, monthly, export = outputs
    assert re.search(r"daily at \S+: [1-9]\d* posts \(dry run", daily), daily
    for digest in (weekly, monthly):
        assert re.search(r"Target ¥[\d,]+(?:\.\d\d)?: [1-9]\d*% attained", digest), digest
        assert "file written to" in digest
    assert export.lstrip("\ufeff").startswith("external_id,") and len(export.splitlines()) > 40


async def test_the_demo_on_a_temporary_database_leaves_nothing_behind(tmp_path, monkeypatch, capsys):
    """Without --db the demo's folder goes at the end; on a January Monday morning its data still spans the weeks the digest reads."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    early = datetime(2027, 1, 4, 0, 30, tzinfo=timezone.utc)  # 08:30 on a Monday in Shanghai, four days into the year
    slack = make_stand_in()
    assert await run_demo(quiet=True, clock=lambda: early, slack=slack) == 0
    assert list(scratch.iterdir()) == []
    assert_digest_has_figures(slack)
    assert ", 0 rejected," in capsys.readouterr().out


async def test_demo_refuses_to_overwrite_a_file_without_force(tmp_path, capsys):
    """`salesbot demo --db FILE` leaves an existing file alone and says so in one line (exit status 2)."""
    existing = tmp_path / "mine.db"
    existing.write_bytes(b"precious")
    with pytest.raises(ConfigError, match="already exists.*--force"):
        await run_demo(db_path=str(existing), quiet=True)
    assert await asyncio.to_thread(cli.main, ["demo", "--db", str(existing), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--force" in err, err
    assert existing.read_bytes() == b"precious"


def test_try_next_fits_the_data_and_says_how_to_keep_it():
    """The commands after the story name dates the seeded data covers, and a temporary run points to --db."""
    now = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 in Shanghai
    dates = DemoDates.at(now)
    assert (dates.morning.isoformat(), dates.next_morning.isoformat(), dates.digest_day.isoformat()) == ("2026-12-01", "2026-12-02", "2026-11-30")
    kept = try_next("demo.db", now)
    assert "--at 2026-12-02T08:30:00+08:00 --dry-run" in kept and "--at 2026-11-23T09:00:00+08:00 --dry-run" in kept
    assert "--at 2026-11-02T09:00:00+08:00 --dry-run" in kept and "DATABASE_URL=sqlite:///demo.db salesbot export deals" in kept
    assert "--db demo.db" not in kept
    temporary = try_next(None, now)
    assert "salesbot demo --db demo.db" in temporary and "DATABASE_URL=sqlite:///demo.db" in temporary
