"""API tokens: only a hash is stored, the secret is shown once, admins only, and the CLI does the same."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from sqlalchemy import select

from bot.models import ApiScope, ApiToken
from bot.services import api_tokens
from bot.services.errors import PermissionDenied, ServiceError
from tests.unit import factories as f


async def test_create_stores_only_a_hash_and_authenticates_by_it(session):
    ws = await f.workspace(session)
    new = await api_tokens.create_token(session, workspace=ws, name="crm", scope=ApiScope.WRITE)
    await session.commit()
    assert new.secret.startswith("sbk_") and len(new.secret) > 40
    stored = (await session.execute(select(ApiToken))).scalar_one()
    assert stored.token_hash == hashlib.sha256(new.secret.encode()).hexdigest()
    assert new.secret not in repr(stored.model_dump())
    assert (await api_tokens.authenticate(session, secret=new.secret)).id == stored.id
    assert await api_tokens.authenticate(session, secret=new.secret[:-1] + ("A" if new.secret[-1] != "A" else "B")) is None
    assert await api_tokens.authenticate(session, secret="not-a-token") is None


async def test_names_are_unique_per_workspace_and_revoke_deletes(session):
    ws, other = await f.workspace(session, "T1"), await f.workspace(session, "T2")
    first = await api_tokens.create_token(session, workspace=ws, name="crm", scope=ApiScope.READ)
    with pytest.raises(ServiceError) as err:
        await api_tokens.create_token(session, workspace=ws, name="crm", scope=ApiScope.READ)
    assert err.value.key == "api.error.name_taken"
    await api_tokens.create_token(session, workspace=other, name="crm", scope=ApiScope.READ)  # another workspace's name
    with pytest.raises(ServiceError):
        await api_tokens.create_token(session, workspace=ws, name="bad name!", scope=ApiScope.READ)
    await api_tokens.revoke_token(session, workspace=ws, name="crm")
    assert await api_tokens.authenticate(session, secret=first.secret) is None
    with pytest.raises(ServiceError) as err:
        await api_tokens.revoke_token(session, workspace=ws, name="crm")
    assert err.value.key == "api.error.no_token"


async def test_only_admins_manage_tokens(session):
    ws = await f.workspace(session)
    team = await f.team(session, ws)
    rep = await f.member(session, ws, "UREP", team=team)
    with pytest.raises(PermissionDenied):
        await api_tokens.create_token(session, workspace=ws, name="x", scope=ApiScope.READ, actor=f.actor(ws, rep))
    with pytest.raises(PermissionDenied):
        await api_tokens.list_tokens(session, workspace=ws, actor=f.actor(ws, rep))
    made = await api_tokens.create_token(session, workspace=ws, name="x", scope=ApiScope.READ, actor=f.actor(ws, rep, admin=True))
    assert made.token.created_by == "UREP"


@pytest.mark.parametrize("words, expected", [
    ("token create crm write", ("create", "crm", ApiScope.WRITE)),
    ("token create crm", ("create", "crm", ApiScope.READ)),
    ("token list", ("list", "", ApiScope.READ)),
    ("token revoke crm", ("revoke", "crm", ApiScope.READ)),
    ("token create crm admin", ("help", "", ApiScope.READ)),
    ("", ("help", "", ApiScope.READ)),
])
def test_parse_token_command(words, expected):
    cmd = api_tokens.parse_token_command(words.split())
    assert (cmd.action, cmd.name, cmd.scope) == expected


async def test_cli_create_list_revoke(db, session, salesbot_cli):
    await f.workspace(session, "T1")
    await session.commit()

    def salesbot(*args: str):
        return asyncio.to_thread(salesbot_cli, *args, env={"DATABASE_URL": db.url})

    made = await salesbot("api", "token", "create", "crm", "write", "--workspace", "T1")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("sbk_") and "shown only this once" in made.stderr
    listed = await salesbot("api", "token", "list")
    assert listed.returncode == 0 and "crm" in listed.stdout and "write" in listed.stdout and secret not in listed.stdout
    again = await salesbot("api", "token", "create", "crm")
    assert again.returncode == 2 and "already exists" in again.stderr
    assert (await salesbot("api", "token", "revoke", "crm")).returncode == 0
    gone = await salesbot("api", "token", "revoke", "crm")
    assert gone.returncode == 2 and "No API token" in gone.stderr
