"""Installations and OAuth states on the bot's database: one use per state, one token per workspace, uninstall and delete."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import func, select
from sqlmodel import SQLModel

from bot.installations import BotTokens, DatabaseInstallationStore, DatabaseStateStore
from bot.models import OAuthState, OutboxMessage, OutboxStatus, SlackInstallation, Workspace
from bot.services.outbox import enqueue
from bot.services.workspaces import NOT_WORKSPACE_DATA, UnclassifiedTable, deletion_plan, uninstall_workspace
from jobs.base import Post

SECRET = "state-secret-for-tests-0123456789"
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=timezone.utc)


def installation(team_id: str, token: str, *, user: str = "UINSTALLER") -> Installation:
    return Installation(
        app_id="A1", team_id=team_id, team_name=f"Team {team_id}", bot_token=token, bot_id=f"B{team_id}",
        bot_user_id=f"UBOT{team_id}", bot_scopes="commands,chat:write", user_id=user,
    )


async def test_a_state_is_consumed_once(db):
    store = DatabaseStateStore(db, secret=SECRET)
    state = await store.async_issue()
    assert await store.async_consume(state) is True
    assert await store.async_consume(state) is False, "a replayed state is refused"


async def test_forged_and_tampered_states_are_refused_without_a_row(db):
    store = DatabaseStateStore(db, secret=SECRET)
    state = await store.async_issue()
    nonce, _, sig = state.partition(".")
    other = DatabaseStateStore(db, secret="another-secret-entirely-000000")
    assert not await store.async_consume(f"{nonce}.{'0' * len(sig)}")
    assert not await store.async_consume("not-a-state")
    assert not await store.async_consume("")
    assert not await other.async_consume(state), "a state signed with another secret is refused"
    # The genuine state is still usable: the refusals above did not spend it.
    assert await store.async_consume(state)


async def test_an_expired_state_is_refused_and_pruned(db):
    clock = [NOW]
    store = DatabaseStateStore(db, secret=SECRET, expiration_seconds=600, clock=lambda: clock[0])
    old = await store.async_issue()
    clock[0] = NOW + timedelta(seconds=601)
    assert not await store.async_consume(old)
    await store.async_issue()  # issuing prunes what expired
    async with db.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(OAuthState))).scalar_one() == 1


async def test_concurrent_consumers_of_one_state_win_once(db):
    store = DatabaseStateStore(db, secret=SECRET)
    state = await store.async_issue()
    results = await asyncio.gather(*(store.async_consume(state) for _ in range(25)))
    assert results.count(True) == 1


async def test_installations_are_stored_per_workspace_and_replaced_on_reinstall(db):
    tokens = BotTokens(db, per_workspace=True)
    store = DatabaseInstallationStore(db, tokens=tokens)
    await store.async_save(installation("TA", "xoxb-a-1"))
    await store.async_save(installation("TB", "xoxb-b-1"))
    assert (await tokens.by_team("TA")).bot_token == "xoxb-a-1"
    await store.async_save(installation("TA", "xoxb-a-2", user="UOTHER"))
    assert (await tokens.by_team("TA")).bot_token == "xoxb-a-2", "a save forgets the cached token"
    bot = await store.async_find_bot(enterprise_id=None, team_id="TA")
    assert (bot.bot_token, bot.bot_user_id, bot.bot_id) == ("xoxb-a-2", "UBOTTA", "BTA")
    found = await store.async_find_installation(enterprise_id=None, team_id="TB")
    assert found.bot_token == "xoxb-b-1" and found.user_id == "UINSTALLER"
    async with db.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(SlackInstallation))).scalar_one() == 2
        names = dict((await s.execute(select(Workspace.slack_team_id, Workspace.name))).all())
    assert names == {"TA": "Team TA", "TB": "Team TB"}
    await store.async_delete_installation(enterprise_id=None, team_id="TA")
    assert await store.async_find_bot(enterprise_id=None, team_id="TA") is None
    assert await tokens.by_team("TA") is None


async def test_token_mode_answers_the_configured_token_for_every_workspace(db):
    tokens = BotTokens(db, per_workspace=False, static_token="xoxb-static")
    assert await tokens.for_workspace(12345) == "xoxb-static"


async def test_a_token_lookup_is_cached_until_its_ttl(db):
    now = [0.0]
    tokens = BotTokens(db, per_workspace=True, ttl=30, timer=lambda: now[0])
    store = DatabaseInstallationStore(db)  # not wired to this cache: another process's store
    await store.async_save(installation("TA", "xoxb-a-1"))
    async with db.sessionmaker() as s:
        ws_id = (await s.execute(select(Workspace.id).where(Workspace.slack_team_id == "TA"))).scalar_one()
    assert await tokens.for_workspace(ws_id) == "xoxb-a-1"
    await store.async_delete_all(enterprise_id=None, team_id="TA")
    assert await tokens.for_workspace(ws_id) == "xoxb-a-1", "still cached"
    now[0] = 31.0
    assert await tokens.for_workspace(ws_id) is None, "another process's uninstall is seen after the TTL"


def _post(ws_id: int, key: str) -> Post:
    return Post(workspace_id=ws_id, key=key, job="test", channel="C1", text=key, blocks=[], not_before=NOW)


async def test_uninstall_cancels_pending_posts_keeps_the_rest_and_refuses_new_ones(db):
    store = DatabaseInstallationStore(db)
    await store.async_save(installation("TA", "xoxb-a"))
    await store.async_save(installation("TB", "xoxb-b"))
    async with db.sessionmaker() as s:
        ids = dict((await s.execute(select(Workspace.slack_team_id, Workspace.id))).all())
        await enqueue(s, [_post(ids["TA"], "a1"), _post(ids["TA"], "a2"), _post(ids["TB"], "b1")])
        await s.execute(sa.update(OutboxMessage).where(OutboxMessage.key == "a2").values(status=OutboxStatus.SENT))
        await s.commit()
        done = await uninstall_workspace(s, slack_team_id="TA", now=NOW)
        await s.commit()
        assert done.cancelled == 1
        statuses = dict((await s.execute(select(OutboxMessage.key, OutboxMessage.status))).all())
        assert statuses == {"a1": OutboxStatus.CANCELLED, "a2": OutboxStatus.SENT, "b1": OutboxStatus.PENDING}
        assert await enqueue(s, [_post(ids["TA"], "a3"), _post(ids["TB"], "b2")]) == 1, "nothing is queued for A any more"
        await s.commit()
    assert await store.async_find_bot(enterprise_id=None, team_id="TA") is None
    assert await store.async_find_bot(enterprise_id=None, team_id="TB") is not None
    # Installing again brings the workspace back.
    await store.async_save(installation("TA", "xoxb-a-again"))
    async with db.sessionmaker() as s:
        assert (await s.execute(select(Workspace.uninstalled_at).where(Workspace.id == ids["TA"]))).scalar_one() is None


def test_every_table_is_either_deleted_with_its_workspace_or_declared_not_workspace_data():
    import bot.models  # noqa: F401

    planned = {t.name for t, _ in deletion_plan(1)}
    tables = set(SQLModel.metadata.tables)
    assert planned | set(NOT_WORKSPACE_DATA) == tables
    assert not planned & set(NOT_WORKSPACE_DATA)
    for name in NOT_WORKSPACE_DATA:
        assert "workspace_id" not in SQLModel.metadata.tables[name].c, f"{name} names a workspace: delete it with it"


def test_a_new_table_with_no_path_to_a_workspace_is_refused():
    metadata = sa.MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(metadata)
    sa.Table("orphan", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("team", sa.String(32)))
    with pytest.raises(UnclassifiedTable, match="orphan"):
        deletion_plan(1, metadata)
    # A child of a workspace table is reached through its foreign key.
    sa.Table("child", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("task_id", sa.ForeignKey("task.id")))
    metadata.remove(metadata.tables["orphan"])
    assert "child" in {t.name for t, _ in deletion_plan(1, metadata)}


async def test_the_sender_cancels_a_row_whose_workspace_has_no_installation_and_calls_nothing(db):
    from jobs.outbox import Sender, SenderConfig

    store = DatabaseInstallationStore(db)
    await store.async_save(installation("TA", "xoxb-a"))
    async with db.sessionmaker() as s:
        ws_id = (await s.execute(select(Workspace.id).where(Workspace.slack_team_id == "TA"))).scalar_one()
        await enqueue(s, [_post(ws_id, "a1")])
        await s.commit()
    # Another process removed the installation before it could cancel the row.
    await store.async_delete_all(enterprise_id=None, team_id="TA")
    tokens = BotTokens(db, per_workspace=True)
    sender = Sender(db, client=None, config=SenderConfig(lease_seconds=5, request_timeout=2), clock=lambda: NOW, tokens=tokens)  # type: ignore[arg-type]
    assert await sender.deliver(["a1"]) == {OutboxStatus.CANCELLED: 1}


async def test_a_token_revoked_while_cached_cancels_the_post_instead_of_killing_it(db):
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.standin import SlackStandIn
    from jobs.outbox import Sender, SenderConfig

    async with SlackStandIn(bot_token="xoxb-a", team_id="TA") as slack:
        slack.add_user("U1", name="u1")
        store = DatabaseInstallationStore(db)
        await store.async_save(installation("TA", "xoxb-a"))
        async with db.sessionmaker() as s:
            ws_id = (await s.execute(select(Workspace.id).where(Workspace.slack_team_id == "TA"))).scalar_one()
            await enqueue(s, [Post(workspace_id=ws_id, key=k, job="test", channel="U1", text=k, blocks=[], not_before=NOW) for k in ("a1", "a2")])
            await s.commit()
        tokens = BotTokens(db, per_workspace=True)
        assert await tokens.for_workspace(ws_id) == "xoxb-a"  # cached now
        # Another process handled the uninstall: the token is revoked and the installation gone, but cached here.
        slack.uninstall("TA")
        await store.async_delete_all(enterprise_id=None, team_id="TA")
        client = AsyncWebClient(base_url=slack.api_url, retry_handlers=[])
        sender = Sender(db, client, config=SenderConfig(lease_seconds=5, request_timeout=2, concurrency=1, batch_size=1), clock=lambda: NOW, tokens=tokens)
        assert await sender.deliver(["a1", "a2"]) == {OutboxStatus.CANCELLED: 2}
        # Slack refused the token once; the second post found no installation and made no call.
        assert [c.error for c in slack.calls] == ["token_revoked"]
