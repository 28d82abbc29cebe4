"""API tokens: made, listed and revoked by admins; only a hash of each is stored.

A token is 32 random bytes (URL-safe text) behind a `sbk_` prefix; the database keeps its
SHA-256, which is enough for a secret that cannot be guessed (no slow hash needed), and the
lookup compares the hashes in constant time as well.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ApiScope, ApiToken, Workspace, utcnow
from bot.services.actors import Actor
from bot.services.errors import PermissionDenied, ServiceError

PREFIX = "sbk_"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# last_used_at is a hint for admins, not an audit trail: write it at most this often per token.
LAST_USED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    """A token just made: the secret is shown this once and never stored."""

    token: ApiToken
    secret: str


def hash_secret(secret: str) -> str:
    """The stored form of a token: hex SHA-256."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _require_admin(actor: Actor | None) -> None:
    # None: the operator's CLI, who holds the database already.
    if actor is not None and not actor.is_admin:
        raise PermissionDenied("api.error.admins_only")


async def create_token(session: AsyncSession, *, workspace: Workspace, name: str, scope: ApiScope, actor: Actor | None = None, now: datetime | None = None) -> NewToken:
    """Make a token named `name` with `scope`; the name is unique in the workspace."""
    _require_admin(actor)
    name = name.strip()
    if not NAME_RE.fullmatch(name):
        raise ServiceError("api.error.bad_name")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        workspace_id=workspace.id, name=name, scope=scope, token_hash=hash_secret(secret), hint=secret[: len(PREFIX) + 4],
        created_by=actor.member.slack_user_id if actor is not None else None, created_at=now or utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(token)
            await session.flush()
    except IntegrityError:
        raise ServiceError("api.error.name_taken", name=name) from None
    return NewToken(token, secret)


async def list_tokens(session: AsyncSession, *, workspace: Workspace, actor: Actor | None = None) -> list[ApiToken]:
    """The workspace's tokens by name (never their secrets)."""
    _require_admin(actor)
    q = select(ApiToken).where(ApiToken.workspace_id == workspace.id).order_by(ApiToken.name)
    return list((await session.execute(q)).scalars())


async def revoke_token(session: AsyncSession, *, workspace: Workspace, name: str, actor: Actor | None = None) -> None:
    """Delete the token named `name`: it stops working at once."""
    _require_admin(actor)
    result = await session.execute(delete(ApiToken).where(ApiToken.workspace_id == workspace.id, ApiToken.name == name.strip()))
    if result.rowcount != 1:
        raise ServiceError("api.error.no_token", name=name.strip())


async def authenticate(session: AsyncSession, *, secret: str, now: datetime | None = None) -> ApiToken | None:
    """The token a bearer secret belongs to, or None; its workspace decides everything the request sees."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    digest = hash_secret(secret)
    token = (await session.execute(select(ApiToken).where(ApiToken.token_hash == digest))).scalar_one_or_none()
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        await session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
        token.last_used_at = now
    return token


@dataclass(frozen=True)
class TokenCommand:
    """`/salesbot api token …` read into its parts: action is create, list, revoke or help."""

    action: str
    name: str = ""
    scope: ApiScope = ApiScope.READ


def parse_token_command(words: list[str]) -> TokenCommand:
    """The words after `api` (`token create NAME [read|write]`, `token list`, `token revoke NAME`); anything else is help."""
    if len(words) >= 2 and words[0].lower() == "token":
        action = words[1].lower()
        if action == "list" and len(words) == 2:
            return TokenCommand("list")
        if action == "revoke" and len(words) == 3:
            return TokenCommand("revoke", words[2])
        if action == "create" and len(words) in (3, 4):
            scope = words[3].lower() if len(words) == 4 else "read"
            if scope in ("read", "write"):
                return TokenCommand("create", words[2], ApiScope(scope))
    return TokenCommand("help")
