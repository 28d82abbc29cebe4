"""/salesbot sync: the last sync runs and failures, and the scheduled pull's sources (admins)."""

from __future__ import annotations

from bot.blocks.sync import build_source_set, build_sync_overview
from bot.blocks.tasks import build_notice
from bot.services import sync_pull, sync_runs, webhooks
from bot.services.errors import ServiceError
from bot.unit import Turn


async def sync_command(t: Turn, respond, words: list[str]) -> None:
    """`sync` shows runs; `sync source set URL KIND [every:MINUTES] [Header: value]` and `sync source remove KIND` configure pulls."""
    if not words:
        runs = await sync_runs.runs_for_admin(t.session, actor=t.actor)
        sources = await sync_pull.sources_of(t.session, workspace_id=t.actor.workspace.id)
        endpoints = await webhooks.list_endpoints(t.session, actor=t.actor)
        text, blocks = build_sync_overview(runs, sources, len(endpoints), t.loc, tz=t.actor.member.tz)
    elif [w.lower() for w in words[:2]] == ["source", "set"] and len(words) >= 4:
        url, kind, rest = words[2], words[3].lower(), words[4:]
        every = sync_pull.DEFAULT_EVERY_MINUTES
        if rest and rest[0].lower().startswith("every:"):
            try:
                every = int(rest[0].split(":", 1)[1])
            except ValueError:
                raise ServiceError("sync.error.every", min=sync_pull.MIN_EVERY_MINUTES) from None
            rest = rest[1:]
        source = await sync_pull.set_source(
            t.session, actor=t.actor, workspace_id=t.actor.workspace.id, url=url, kind=kind, header=" ".join(rest) or None, every_minutes=every, now=t.now,
        )
        text, blocks = build_source_set(source, t.loc)
    elif [w.lower() for w in words[:2]] == ["source", "remove"] and len(words) == 3:
        await sync_pull.remove_source(t.session, actor=t.actor, kind=words[2].lower())
        text, blocks = build_notice(t.loc.md("sync.source.removed", kind=words[2].lower()))
    else:
        raise ServiceError("sync.error.usage")
    await t.session.commit()
    await respond(text=text, blocks=blocks, response_type="ephemeral")
