"""The sync surfaces stay inside Slack's limits in both languages; JSON rows become the data standard's CSV."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from slack_sdk.models.blocks import Block

from bot.blocks.kit import MESSAGE_MAX_BLOCKS
from bot.blocks.sync import build_pull_failed_notice, build_sync_overview, build_webhook_added
from bot.models import SyncError, SyncRun, SyncRunKind, SyncRunStatus, SyncSource, WebhookEndpoint
from bot.services.sync_pull import JsonRejected, check_header, is_json, json_to_csv
from bot.services.sync_runs import RunView
from bot.services.errors import ServiceError
from tests.scenario.helpers import shown_text
from tests.unit.factories import loc

AT = datetime(2031, 3, 10, 2, 0, tzinfo=timezone.utc)


def views(n: int) -> list[RunView]:
    out = []
    for i in range(n):
        run = SyncRun(id=i + 1, workspace_id=1, kind=SyncRunKind.PULL, status=SyncRunStatus.FAILED, source="deals https://x.example.com/<b>&",
                      failed=40, message="40 errors in the file", started_at=AT - timedelta(hours=i))
        errors = [SyncError(id=j, run_id=i + 1, line=j + 2, field="amount", message="\"12x\" is not an amount " + "z" * 300) for j in range(5)]
        out.append(RunView(run=run, errors=errors, error_count=40))
    return out


@pytest.mark.parametrize("language", ["en", "zh_Hans"])
def test_the_overview_of_many_failed_runs_fits_one_message(language):
    source = SyncSource(id=1, workspace_id=1, kind="deals", url="https://x.example.com/deals.csv", every_minutes=60, next_due_at=AT)
    text, blocks = build_sync_overview(views(80), [source], 2, loc(language), tz="Asia/Shanghai")
    assert len(blocks) <= MESSAGE_MAX_BLOCKS and text
    for block in blocks:
        Block.parse(block).to_dict()  # slack_sdk's own length checks
        assert len(block.get("text", {}).get("text", "")) <= 3000
    shown = shown_text(blocks)
    assert "&lt;b&gt;&amp;" in shown and "<b>" not in shown  # the source URL is escaped
    assert ("line 2, field `amount`" if language == "en" else "第 2 行，字段 `amount`") in shown
    assert ("35 more errors" if language == "en" else "还有 35 个错误") in shown


def test_an_empty_overview_says_how_to_start():
    _, blocks = build_sync_overview([], [], 0, loc("en"), tz="UTC")
    shown = shown_text(blocks)
    assert "No sync runs yet" in shown and "/salesbot sync source set" in shown


def test_the_secret_is_shown_with_the_warning_that_it_is_shown_once():
    endpoint = WebhookEndpoint(id=1, workspace_id=1, url="https://crm.example.com/h", events="deal.won,deal.lost", secret="whsec_abc")
    text, blocks = build_webhook_added(endpoint, "whsec_abc", loc("en"))
    shown = shown_text(blocks)
    assert "`whsec_abc`" in shown and "only this once" in shown and "deal.won, deal.lost" in shown and "whsec_abc" not in text


def test_the_pull_notice_lists_the_first_errors():
    errors = [(i, "name", "required") for i in range(2, 30)]
    _, blocks = build_pull_failed_notice(loc("en"), run_id=9, kind="customers", url="https://x.example.com/c.csv", errors=errors, total=28)
    shown = shown_text(blocks)
    assert "run #9" in shown and "line 11, field `name`" in shown and "line 12" not in shown and "18 more errors" in shown


def test_json_rows_become_csv_in_the_standard_column_order():
    data = b'[{"name": "Acme", "external_id": "C-1", "segment": "key"}, {"external_id": "C-2", "name": "Bo, Ltd", "region": null}]'
    assert json_to_csv("customers", data) == b'external_id,name,segment,region\nC-1,Acme,key,\nC-2,"Bo, Ltd",,\n'
    assert json_to_csv("customers", b'{"rows": [{"external_id": "C-1", "name": "A", "colour": "red"}]}').startswith(b"external_id,name,colour\n")
    assert json_to_csv("tasks", b'[{"external_id": "T-1", "title": "Call", "assignees": ["U1", "U2"]}]') == b"external_id,title,assignees\nT-1,Call,U1 U2\n"
    with pytest.raises(JsonRejected):
        json_to_csv("customers", b'{"external_id": "C-1"}')
    with pytest.raises(JsonRejected):
        json_to_csv("customers", b"[{")


def test_json_is_told_from_csv():
    assert is_json("https://x/c", "application/json; charset=utf-8", b"a,b")
    assert is_json("https://x/c.json?x=1", None, b"")
    assert is_json("https://x/c", "text/plain", b"  [{}]")
    assert not is_json("https://x/c.csv", "text/csv", b"external_id,name")


def test_auth_headers_are_name_and_value():
    assert check_header("Authorization:   Bearer abc") == "Authorization: Bearer abc"
    assert check_header("") is None
    for bad in ("Bearer abc", "X Y: z", "A: b\r\nX: y", ": v"):
        with pytest.raises(ServiceError):
            check_header(bad)
