"""/salesbot api webhook add URL [events…] | list | remove URL: the workspace's outgoing webhooks (admins)."""

from __future__ import annotations

from bot.blocks.sync import build_webhook_added, build_webhook_list
from bot.blocks.tasks import build_notice
from bot.services import webhooks
from bot.services.errors import ServiceError
from bot.unit import Turn


async def webhook_command(t: Turn, respond, words: list[str]) -> None:
    """Register, list or remove an endpoint; a new endpoint's secret is shown here once."""
    sub = words[0].lower() if words else "list"
    if sub == "add" and len(words) >= 2:
        endpoint, secret = await webhooks.add_endpoint(t.session, actor=t.actor, url=words[1], events=webhooks.parse_events(words[2:]))
        text, blocks = build_webhook_added(endpoint, secret, t.loc)
    elif sub == "list" and len(words) <= 1:
        text, blocks = build_webhook_list(await webhooks.list_endpoints(t.session, actor=t.actor), t.loc)
    elif sub == "remove" and len(words) == 2:
        await webhooks.remove_endpoint(t.session, actor=t.actor, url=words[1])
        text, blocks = build_notice(t.loc.md("sync.webhook.removed", url=webhooks.check_url(words[1])))
    else:
        raise ServiceError("sync.error.webhook_usage", events=", ".join(webhooks.EVENTS))
    await t.session.commit()  # stored before the admin reads the secret
    await respond(text=text, blocks=blocks, response_type="ephemeral")
