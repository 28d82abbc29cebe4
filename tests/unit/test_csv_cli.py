"""`salesbot import` / `salesbot export` as an operator runs them: exit statuses, reports, one real process."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from bot.csvio import export_csv
from bot.models import Customer, Deal, Member
from tests.unit import factories as f

MEMBERS = "slack_user_id,name,team,role,tz\nUMGR,Mia,East,manager,Asia/Shanghai\nUREP1,王小明,East,rep,Asia/Shanghai\n"
CUSTOMERS = "\ufeffexternal_id,name,segment\nC-1,上海示例科技有限公司,key\nC-2,=cmd|' /C calc'!A0,smb\n"


def console_script() -> list[str]:
    """The installed `salesbot` command (beside this interpreter), or `python -m bot` where the project is not installed."""
    script = shutil.which("salesbot", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "bot"]


async def rows(db, model) -> int:
    async with db.session() as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


async def test_the_console_script_exits_with_the_status_and_one_line(db, tmp_path):
    """One real process, as an operator runs it (stdout and stderr are pipes); the other cases run in this process."""
    members = tmp_path / "members.csv"
    members.write_text(MEMBERS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SALESBOT_"))}
    done = subprocess.run([*console_script(), "import", "members", str(members)], cwd=tmp_path, env={**env, "DATABASE_URL": db.url}, capture_output=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.decode().strip().splitlines() == ["salesbot: the database holds no workspace yet: name it with --workspace T123 (the Slack team id)."]
    assert done.stdout == b""
    assert await rows(db, Member) == 0


async def test_import_export_and_exit_statuses(db, tmp_path, salesbot_cli):
    def salesbot(*args: str):
        """`salesbot ARGS` against the test database (run in this process, in a thread: it runs its own event loop)."""
        return asyncio.to_thread(salesbot_cli, *args, env={"DATABASE_URL": db.url})

    members, customers = tmp_path / "members.csv", tmp_path / "customers.csv"
    members.write_text(MEMBERS, encoding="utf-8")
    customers.write_text(CUSTOMERS, encoding="utf-8")

    # An empty database needs to be told which workspace: a usage error, one line, status 2.
    done = await salesbot("import", "members", str(members))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["salesbot: the database holds no workspace yet: name it with --workspace T123 (the Slack team id)."]

    done = await salesbot("import", "members", str(members), "--workspace", "T9")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("members: 2 created, 0 updated, 0 unchanged")
    assert done.stderr == ""  # no progress bar when the output is not a terminal

    # With one workspace in the database it is the default.
    done = await salesbot("import", "customers", str(customers))
    assert done.returncode == 0 and done.stdout.startswith("customers: 2 created, 0 updated, 0 unchanged")

    out = tmp_path / "out.csv"
    done = await salesbot("export", "customers", "--out", str(out))
    assert done.returncode == 0, done.stderr
    async with db.session() as s:
        ws = await f.workspace(s, "T9")
        expected, n = await export_csv(s, workspace=ws, kind="customers")
    assert out.read_bytes() == expected and n == 2
    assert "'=cmd|' /C calc'!A0" in out.read_bytes().decode("utf-8-sig")

    # A bad row: status 1, the report names line and column, nothing is written.
    bad = tmp_path / "deals.csv"
    bad.write_text("external_id,customer,owner,amount\nD-1,C-1,UREP1,10.00\nD-2,C-1,UREP1,\"12,3x\"\nD-3,C-9,UREP1,1\n", encoding="utf-8")
    done = await salesbot("import", "deals", str(bad))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{bad} was not imported (nothing was written):",
        'line 3, column amount: "12,3x" is not an amount (write it like 1234.50 or -80)',
        'line 4, column customer: no customer has the external id "C-9" (import the customers first)',
    ]
    assert await rows(db, Deal) == 0

    # Usage and configuration errors: status 2, one line, no traceback.
    done = await salesbot("export", "deals", "--workspace", "T404", "--out", str(tmp_path / "x.csv"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["salesbot: the database holds no workspace T404."]
    assert await rows(db, Member) == 2 and await rows(db, Customer) == 2


def test_usage_errors_end_with_one_line_and_status_2(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    assert main(["import", "deals", str(tmp_path / "missing.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("salesbot: cannot read") and len(err.splitlines()) == 1
    try:
        main(["import", "nonsense", "x.csv"])
    except SystemExit as exc:  # argparse's own usage error
        assert exc.code == 2
    assert "invalid choice" in capsys.readouterr().err
