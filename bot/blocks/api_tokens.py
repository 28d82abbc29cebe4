"""Replies of `/salesbot api token …`: the new token (shown once), the list, a revocation."""

from __future__ import annotations

from bot.blocks.kit import fallback_text, section
from bot.i18n import Localizer
from bot.models import ApiScope, ApiToken
from bot.text import SlackSafe

SCOPE_TEXT = {ApiScope.READ: "api.scope.read", ApiScope.WRITE: "api.scope.write"}


def build_token_created(token: ApiToken, secret: str, loc: Localizer) -> tuple[str, list[dict]]:
    """The new token's secret, for the admin's eyes only (an ephemeral reply)."""
    text = loc.md("api.token.created", name=token.name, scope=loc.t(SCOPE_TEXT[token.scope]), secret=secret)
    return fallback_text(text), [section(text)]


def build_token_list(tokens: list[ApiToken], loc: Localizer, tz: str) -> tuple[str, list[dict]]:
    """The workspace's tokens: name, scope, the first characters, when made and last used; never a secret."""
    if not tokens:
        text = loc.md("api.token.none")
        return fallback_text(text), [section(text)]
    lines = [loc.md("api.token.list_header")]
    for t in tokens:
        used = loc.datetime(t.last_used_at, tz) if t.last_used_at else loc.t("api.token.never")
        lines.append(loc.md("api.token.list_line", name=t.name, scope=loc.t(SCOPE_TEXT[t.scope]), hint=t.hint,
                            created=loc.datetime(t.created_at, tz), used=used))
    # One section per 20 tokens keeps each under Slack's 3000-character section limit.
    blocks = [section(SlackSafe("\n".join(lines[i:i + 20]))) for i in range(0, len(lines), 20)][:50]
    return fallback_text(lines[0]), blocks
