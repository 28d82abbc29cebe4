"""/salesbot api …: API tokens (admins); the place for further `/salesbot api` subcommands."""

from bot.blocks.api_tokens import build_token_created, build_token_list
from bot.blocks.tasks import build_notice
from bot.services import api_tokens
from bot.unit import Turn


async def run_api_command(t: Turn, respond, words: list[str]) -> None:
    """Create, list or revoke API tokens, or show the help; every reply is ephemeral (a new token's secret most of all)."""
    cmd = api_tokens.parse_token_command(words)
    ws = t.actor.workspace
    if cmd.action == "create":
        new = await api_tokens.create_token(t.session, workspace=ws, name=cmd.name, scope=cmd.scope, actor=t.actor, now=t.now)
        text, blocks = build_token_created(new.token, new.secret, t.loc)
    elif cmd.action == "list":
        text, blocks = build_token_list(await api_tokens.list_tokens(t.session, workspace=ws, actor=t.actor), t.loc, t.actor.member.tz)
    elif cmd.action == "revoke":
        await api_tokens.revoke_token(t.session, workspace=ws, name=cmd.name, actor=t.actor)
        text, blocks = build_notice(t.loc.md("api.token.revoked", name=cmd.name))
    else:
        text, blocks = build_notice(t.loc.md("api.help"))
    await t.session.commit()  # the token works before the admin reads it
    await respond(text=text, blocks=blocks, response_type="ephemeral")
