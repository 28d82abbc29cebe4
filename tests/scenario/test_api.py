"""The HTTP API against the real server: tokens made in Slack, upserts, idempotency, tenancy, pulls."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select

from bot.models import Customer, Deal, DealStageChange, Survey
from tests.scenario.api_helpers import ApiClient, make_token
from tests.scenario.conftest import MANAGER, REP1, REP2
from tests.scenario.helpers import east_team


def customers(n: int, start: int = 0) -> list[dict]:
    return [{"external_id": f"C-{i}", "name": f"Customer {i}", "segment": "key" if i % 2 else "smb"} for i in range(start, start + n)]


def deals(n: int, *, amount: str = "1000.00", stage: str = "lead") -> list[dict]:
    return [
        {"external_id": f"D-{i}", "title": f"Deal {i}", "customer": f"C-{i % 10}", "owner": REP1 if i % 2 else REP2,
         "amount": amount, "stage": stage}
        for i in range(n)
    ]


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def base(bot) -> str:
    return f"http://127.0.0.1:{bot.port}"


@pytest.fixture
async def writer(driver, http, base) -> ApiClient:
    """A write token of the test workspace, with the East team on the roster and ten customers."""
    await east_team(driver)
    client = ApiClient(http, base, await make_token(driver, "crm", "write"))
    status, body, _ = await client.batch("customers", customers(10))
    assert (status, body["created"]) == (200, 10), body
    return client


async def count(db, model, *where) -> int:
    async with db.sessionmaker() as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def test_openapi_document_validates(http, base):
    async with http.get(base + "/api/v1/openapi.json") as resp:
        assert resp.status == 200
        doc = await resp.json()
    validate(doc)  # raises when the document is not valid OpenAPI 3.1
    assert doc["openapi"] == "3.1.0"
    assert "/api/v1/deals/batch" in doc["paths"] and "put" in doc["paths"]["/api/v1/deals/external/{external_id}"]
    assert "post" not in doc["paths"].get("/api/v1/members/batch", {})


async def test_a_thousand_deals_in_one_batch_and_a_retry_changes_nothing(writer, db):
    status, body, _ = await writer.batch("deals", deals(1000), key="load-1")
    assert status == 200, body
    assert (body["created"], body["updated"], body["unchanged"], body["failed"]) == (1000, 0, 0, 0)
    assert len(body["external_ids"]) == 1000
    assert await count(db, Deal) == 1000
    history = await count(db, DealStageChange)
    async with db.sessionmaker() as s:
        stamps = sorted((await s.execute(select(Deal.change_seq))).scalars())

    status, again, headers = await writer.batch("deals", deals(1000), key="load-1")
    assert status == 200 and again == body and headers.get("Idempotent-Replayed") == "true"
    assert await count(db, Deal) == 1000 and await count(db, DealStageChange) == history
    async with db.sessionmaker() as s:
        assert sorted((await s.execute(select(Deal.change_seq))).scalars()) == stamps  # not a row was written again

    # The same key with another body is refused; a new key with the same rows finds them unchanged.
    status, problem, headers = await writer.batch("deals", deals(1000, amount="2000.00"), key="load-1")
    assert status == 422 and headers["Content-Type"].startswith("application/problem+json")
    assert problem["type"].endswith("idempotency-key-reused")
    status, body, _ = await writer.batch("deals", deals(1000), key="load-2")
    assert (status, body["unchanged"]) == (200, 1000)


async def test_one_bad_row_applies_nothing_and_names_row_and_field(writer, db):
    rows = deals(50)
    rows[17]["amount"] = "12,50"
    rows[31]["customer"] = "C-nobody"
    status, problem, headers = await writer.batch("deals", rows)
    assert status == 422 and headers["Content-Type"].startswith("application/problem+json")
    found = {(e["row"], e["field"]): e for e in problem["errors"]}
    assert set(found) == {(17, "amount"), (31, "customer")}, problem
    assert found[(17, "amount")]["pointer"] == "/rows/17/amount"
    assert "is not an amount" in found[(17, "amount")]["message"] or "12,50" in found[(17, "amount")]["message"]
    assert "C-nobody" in found[(31, "customer")]["message"]
    assert await count(db, Deal) == 0

    # A body that does not fit the schema (a float amount, an unknown field) is named the same way.
    rows = deals(3)
    rows[1]["amount"] = 12.5
    rows[2]["colour"] = "red"
    status, problem, _ = await writer.batch("deals", rows)
    assert status == 422
    assert {(e["row"], e["field"]) for e in problem["errors"]} >= {(1, "amount"), (2, "colour")}
    assert await count(db, Deal) == 0


async def test_read_token_cannot_write_and_no_token_sees_nothing(writer, driver, http, base, db):
    reader = ApiClient(http, base, await make_token(driver, "bi", "read"))
    status, problem, _ = await reader.batch("deals", deals(2))
    assert status == 403 and problem["status"] == 403
    status, _, _ = await reader.call("PUT", "/api/v1/customers/external/C-1", json={"name": "Renamed"})
    assert status == 403
    assert await count(db, Deal) == 0
    rows, _ = await reader.pull_until("customers", lambda rows: len(rows) >= 10)
    assert len(rows) == 10

    anonymous = ApiClient(http, base, None)
    status, problem, headers = await anonymous.get("/api/v1/customers")
    assert status == 401 and "Bearer" in headers["WWW-Authenticate"]
    forged = ApiClient(http, base, "sbk_" + "x" * 43)
    assert (await forged.get("/api/v1/customers"))[0] == 401


async def test_a_revoked_token_stops_working(writer, driver):
    from tests.scenario.helpers import salesbot
    from tests.scenario.conftest import ADMIN

    listing = await salesbot(driver, "api token list", user=ADMIN)
    assert "crm" in str(listing["blocks"]) and "sbk_" in str(listing["blocks"])
    assert writer.token not in str(listing)  # the list shows a hint, never the secret
    await salesbot(driver, "api token revoke crm", user=ADMIN)
    assert (await writer.get("/api/v1/customers"))[0] == 401


async def test_only_admins_manage_tokens(driver):
    from tests.scenario.helpers import salesbot

    await east_team(driver)
    response = await salesbot(driver, "api token create mine write", user=MANAGER)
    assert "sbk_" not in str(response) and "admins" in response["text"]


async def test_workspace_a_sees_nothing_of_b(writer, http, base, db):
    from bot.models import ApiScope
    from bot.services.actors import get_workspace
    from bot.services.api_tokens import create_token

    async with db.sessionmaker() as s:
        other = await get_workspace(s, slack_team_id="T0OTHER")
        new = await create_token(s, workspace=other, name="crm", scope=ApiScope.WRITE)
        await s.commit()
    b = ApiClient(http, base, new.secret)
    for kind in ("customers", "deals", "members", "tasks", "targets", "activities", "expenses", "survey_answers"):
        status, body, _ = await b.get(f"/api/v1/{kind}")
        assert (status, body["data"]) == (200, []), kind
    status, a_row, _ = await writer.get("/api/v1/customers/external/C-1")
    assert status == 200
    assert (await b.get(f"/api/v1/customers/{a_row['id']}"))[0] == 404
    assert (await b.get("/api/v1/customers/external/C-1"))[0] == 404
    # B's upsert with A's external id makes B's own customer; A's is untouched.
    status, body, _ = await b.call("PUT", "/api/v1/customers/external/C-1", json={"name": "B's customer"})
    assert (status, body["created"]) == (200, 1)
    assert (await writer.get("/api/v1/customers/external/C-1"))[1]["name"] == "Customer 1"


async def test_single_upsert_get_and_stage_change_recorded(writer, db):
    status, body, _ = await writer.call("PUT", "/api/v1/deals/external/D-1", json={"customer": "C-1", "owner": REP1, "amount": "500", "title": "Pilot"})
    assert (status, body["created"], body["data"]["amount"], body["data"]["stage"]) == (200, 1, "500.00", "lead")
    deal_id = body["data"]["id"]
    assert (await writer.get(f"/api/v1/deals/{deal_id}"))[1]["external_id"] == "D-1"

    status, body, _ = await writer.call("PUT", "/api/v1/deals/external/D-1", json={"customer": "C-1", "owner": REP1, "amount": "500", "stage": "proposal"})
    assert (status, body["updated"], body["data"]["stage"], body["data"]["title"]) == (200, 1, "proposal", "Pilot")
    async with db.sessionmaker() as s:
        changes = list((await s.execute(select(DealStageChange).where(DealStageChange.deal_id == deal_id).order_by(DealStageChange.id))).scalars())
    assert [c.to_stage.value for c in changes] == ["lead", "proposal"] and changes[0].left_at is not None
    assert await count(db, Deal) == 1  # the stage change made no second deal
    from bot.models import Task
    assert await count(db, Task, Task.deal_id == deal_id) > 0  # the proposal stage's checklist

    status, body, _ = await writer.call("PUT", "/api/v1/deals/external/D-1", json={"customer": "C-1", "owner": REP1, "amount": "500", "status": "won", "won_at": "2026-03-10T10:00:00+08:00"})
    assert status == 200 and body["data"]["status"] == "won"
    assert await count(db, Survey, Survey.source == "deal", Survey.source_id == deal_id) == 1

    status, problem, _ = await writer.call("PUT", "/api/v1/deals/external/D-1", json={"external_id": "D-2", "customer": "C-1", "owner": REP1, "amount": "1"})
    assert status == 422 and problem["errors"][0]["field"] == "external_id"
    assert (await writer.get("/api/v1/deals/external/D-404"))[0] == 404


async def test_body_over_five_megabytes_is_refused(writer, db):
    big = b'{"rows": [' + b" " * (5 * 1024 * 1024) + b"]}"
    status, problem, _ = await writer.call("POST", "/api/v1/customers/batch", data=big, headers={"Content-Type": "application/json"})
    assert status == 413 and problem["status"] == 413
    assert await count(db, Customer) == 10


async def test_rate_limit_is_shared_by_servers_and_answers_429_with_retry_after(driver, http, deps, db):
    """Two web processes on one database share each token's count: together they let the limit through, no more."""
    from datetime import datetime, timezone

    from bot.api.routes import ApiConfig
    from bot.app import build_app
    from bot.server import BotServer, build_web_app

    await east_team(driver)
    now = [datetime(2026, 3, 10, 2, 0, 15, tzinfo=timezone.utc)]
    config = ApiConfig(rate_per_minute=10, clock=lambda: now[0])
    servers = [BotServer(build_web_app(build_app(deps), db, signing_secret="x", api=config), host="127.0.0.1", port=0) for _ in range(2)]
    for server in servers:
        await server.start()
    try:
        token = await make_token(driver, "busy", "read")
        clients = [ApiClient(http, f"http://127.0.0.1:{server.port}", token) for server in servers]
        answers = await asyncio.gather(*(clients[i % 2].get("/api/v1/members") for i in range(14)))
        codes = [status for status, _, _ in answers]
        assert codes.count(200) == 10 and codes.count(429) == 4
        assert {h["Retry-After"] for s, _, h in answers if s == 429} == {"45"}  # the rest of the minute
        now[0] = now[0].replace(second=0, minute=1)  # the next minute starts afresh
        assert (await clients[1].get("/api/v1/members"))[0] == 200
    finally:
        for server in servers:
            await server.stop()


async def test_no_token_in_logs(writer, caplog):
    caplog.set_level(logging.DEBUG)
    await writer.get("/api/v1/customers")
    await writer.batch("customers", [{"external_id": "C-x", "name": "X"}])
    assert all(writer.token not in r.getMessage() for r in caplog.records)


async def test_every_kind_reads_by_list_and_id_and_fits_the_document(writer, db):
    """Members, activities, expenses and survey answers (read only) and the writable kinds, listed and fetched."""
    from datetime import date, datetime, timezone

    from bot.models import Activity, ActivityKind, Expense, Member, SurveyStatus

    status, body, _ = await writer.batch("deals", deals(2))
    assert status == 200
    status, body, _ = await writer.batch("targets", [{"external_id": "T-2026", "team": "East", "period": "2026", "amount": "50000000"}])
    assert (status, body["created"]) == (200, 1), body
    status, body, _ = await writer.batch("tasks", [{"external_id": "K-1", "title": "Call back", "assignees": [REP1, REP2], "deal": "D-1", "priority": "high", "difficulty": 2}])
    assert (status, body["created"]) == (200, 1), body
    at = datetime(2026, 3, 9, 8, 0, tzinfo=timezone.utc)
    async with db.sessionmaker() as s:
        rep = (await s.execute(select(Member).where(Member.slack_user_id == REP1))).scalar_one()
        deal = (await s.execute(select(Deal).where(Deal.external_id == "D-1"))).scalar_one()
        s.add(Activity(workspace_id=deal.workspace_id, member_id=rep.id, customer_id=deal.customer_id, deal_id=deal.id, kind=ActivityKind.CALL, note="<!channel> hi", occurred_at=at))
        s.add(Expense(workspace_id=deal.workspace_id, member_id=rep.id, deal_id=deal.id, amount=12345, category="travel", spent_on=date(2026, 3, 9)))
        s.add(Survey(workspace_id=deal.workspace_id, customer_id=deal.customer_id, rep_id=rep.id, source="deal", source_id=deal.id,
                     status=SurveyStatus.ANSWERED, score=5, comment="great", answered_at=at))
        s.add(Survey(workspace_id=deal.workspace_id, customer_id=deal.customer_id, rep_id=rep.id, source="task", source_id=99, status=SurveyStatus.SENT))
        await s.commit()
    found = {}
    for kind in ("members", "customers", "deals", "tasks", "targets", "activities", "expenses", "survey_answers"):
        rows, _ = await writer.pull_until(kind, bool)
        assert rows, kind
        found[kind] = rows
        status, one, _ = await writer.get(f"/api/v1/{kind}/{rows[0]['id']}")
        assert (status, one) == (200, rows[0])
    assert {m["slack_user_id"] for m in found["members"]} >= {REP1, REP2}
    assert (await writer.get(f"/api/v1/members/external/{REP1}"))[1]["team"] == "East"
    assert found["tasks"][0]["assignees"] == sorted([REP1, REP2]) and found["tasks"][0]["deal"] == "D-1"
    assert found["activities"][0]["note"] == "<!channel> hi" and found["activities"][0]["deal"] == "D-1"  # JSON, not mrkdwn: as typed
    assert found["expenses"][0]["amount"] == "123.45"
    assert [(a["score"], a["satisfied"], a["deal"]) for a in found["survey_answers"]] == [(5, True, "D-1")]  # only answered surveys
    assert found["targets"][0]["amount"] == "50000000.00"

    # What a GET returns, a PUT takes back unchanged.
    row = {k: v for k, v in found["deals"][0].items() if k not in ("id", "updated_at")}
    status, body, _ = await writer.call("PUT", f"/api/v1/deals/external/{row['external_id']}", json=row)
    assert (status, body["unchanged"]) == (200, 1), body


async def test_the_same_key_sent_twice_at_once_writes_once(writer, db):
    """A client that retries before the first answer came: the second waits for the first and gets its answer."""
    first, second = await asyncio.gather(writer.batch("deals", deals(200), key="dup"), writer.batch("deals", deals(200), key="dup"))
    assert first[0] == second[0] == 200 and first[1] == second[1]
    assert first[1]["created"] == 200
    assert {first[2].get("Idempotent-Replayed"), second[2].get("Idempotent-Replayed")} == {None, "true"}
    assert await count(db, Deal) == 200 and await count(db, DealStageChange) == 200


async def test_every_api_write_is_a_sync_run_that_admins_see(writer, driver, db):
    from bot.models import SyncRun, SyncRunKind, SyncRunStatus
    from tests.scenario.conftest import ADMIN
    from tests.scenario.helpers import salesbot, shown_text

    status, _, _ = await writer.batch("deals", deals(20), key="runs-1")
    assert status == 200
    await writer.batch("deals", deals(20), key="runs-1")  # a replay changes nothing and is no new run
    rows = deals(5)
    rows[3]["amount"] = "12,50"
    status, _, _ = await writer.batch("deals", rows)
    assert status == 422
    async with db.sessionmaker() as s:
        runs = [r for r in (await s.execute(select(SyncRun).order_by(SyncRun.id))).scalars() if r.source.startswith("API deals")]
    assert [(r.kind, r.status, r.created, r.failed) for r in runs] == [
        (SyncRunKind.API_BATCH, SyncRunStatus.OK, 20, 0), (SyncRunKind.API_BATCH, SyncRunStatus.FAILED, 0, 1),
    ]
    shown = shown_text((await salesbot(driver, "sync", user=ADMIN))["blocks"])
    # The refused batch's fourth row (index 3) is its line 4, as in a CSV file without its header.
    assert "API deals · token crm" in shown and "line 4, field `amount`" in shown and "created 20" in shown, shown
