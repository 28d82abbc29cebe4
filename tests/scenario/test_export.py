"""`/salesbot export <kind>`: the CSV goes to the caller's DM through the files upload v2 calls."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

from bot import PROJECT_ROOT
from bot.csvio import import_csv
from bot.models import Workspace
from sqlalchemy import select
from tests.scenario.conftest import ADMIN, MANAGER, MANAGER_W, REP1, START, TEAM
from tests.scenario.helpers import both_teams, salesbot, shown_text

CUSTOMERS = "external_id,name,segment\nC-1,上海示例科技有限公司,key\nC-2,=HYPERLINK(\"http://x\"),smb\n"
DEALS = (
    "external_id,customer,owner,team,amount,stage,status,won_at\n"
    "D-1,C-1,UREP1,East,1234.50,proposal,open,\n"
    "D-2,C-2,UREPZH,East,-80,after_sales,won,2026-03-01T09:30:00+08:00\n"
    "D-3,C-2,UREPW,West,99.99,lead,open,\n"
)


async def seed(db) -> None:
    """Customers and deals, imported the way an operator would."""
    async with db.session() as s:
        ws = (await s.execute(select(Workspace).where(Workspace.slack_team_id == TEAM))).scalar_one()
        for kind, text in (("customers", CUSTOMERS), ("deals", DEALS)):
            await import_csv(s, workspace=ws, kind=kind, data=text.encode(), now=START)


def uploaded(slack, user: str) -> list[dict]:
    """Files the bot shared in its DM with a member, oldest first."""
    dm = slack.dm_channel(user)
    return [r for r in slack.files.values() if r["completed"] and any(s["channel"] == dm for s in r["shares"])]


def cli_export(db, kind: str, out) -> bytes:
    """What `salesbot export KIND` writes for the same database."""
    env = {**os.environ, "DATABASE_URL": db.url}
    done = subprocess.run([sys.executable, "-m", "bot", "export", kind, "--workspace", TEAM, "--out", str(out)],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


async def test_admin_gets_the_csv_in_their_dm_equal_to_the_cli_export(driver, slack, db, tmp_path):
    await both_teams(driver)
    await seed(db)
    response = await salesbot(driver, "export deals", user=ADMIN)
    assert response["response_type"] == "ephemeral"
    assert "The deals export (3 rows) is in your DMs." in shown_text(response["blocks"])
    [record] = uploaded(slack, ADMIN)
    assert record["filename"] == "deals-2026-03-10.csv"
    assert [c.method for c in slack.calls if c.method.startswith("files.") or c.method == "file_upload"] == [
        "files.getUploadURLExternal", "file_upload", "files.completeUploadExternal",
    ]
    assert record["data"] == cli_export(db, "deals", tmp_path / "deals.csv")
    rows = list(csv.reader(io.StringIO(record["data"].decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["D-1", "D-2", "D-3"]
    [message] = [m for m in slack.messages_in(slack.dm_channel(ADMIN)) if m["files"]]
    assert message["files"] == [record["id"]] and "3 rows" in message["text"]
    assert slack.rejected_calls() == []


async def test_managers_get_their_teams_rows_and_reps_are_refused(driver, slack, db):
    await both_teams(driver)
    await seed(db)
    await salesbot(driver, "export customers", user=MANAGER_W)
    [west] = uploaded(slack, MANAGER_W)
    lines = west["data"].decode("utf-8-sig").splitlines()
    assert lines == ["external_id,name,segment,region,contact_channel_id,contact_user_id", "C-2,\"'=HYPERLINK(\"\"http://x\"\")\",smb,,,"]
    await salesbot(driver, "export deals", user=MANAGER)
    [east] = uploaded(slack, MANAGER)
    assert [r[0] for r in csv.reader(io.StringIO(east["data"].decode("utf-8-sig")))][1:] == ["D-1", "D-2"]

    files_before = len(slack.files)
    refused = await salesbot(driver, "export deals", user=REP1)
    assert "Only admins and managers can export data." in shown_text(refused["blocks"])
    hint = await salesbot(driver, "export everything", user=ADMIN)
    assert "members, customers, deals, targets, tasks" in shown_text(hint["blocks"])
    assert len(slack.files) == files_before
    assert slack.rejected_calls() == []
