"""/salesbot export <kind>: the CSV uploaded to the caller's DM."""

from __future__ import annotations

from bot.unit import Turn
from bot.slackapi import dm_channel
from bot.blocks.tasks import build_notice
from bot.csvio.exporter import export_for

# Literal ids, so the catalog check sees every one of them.
KIND_NAMES = {
    "members": "csv.kind.members",
    "customers": "csv.kind.customers",
    "deals": "csv.kind.deals",
    "targets": "csv.kind.targets",
    "tasks": "csv.kind.tasks",
}


async def send_export(t: Turn, client, respond, kind: str) -> None:
    """Build the export the caller may see (the service checks the role), upload it to their DM, confirm."""
    export = await export_for(t.session, actor=t.actor, kind=kind, today=t.today)
    channel = await dm_channel(client, t.session, t.actor.member)
    await t.session.commit()  # keep the DM channel id even if the upload fails
    name = t.loc.t(KIND_NAMES[kind])
    await client.files_upload_v2(
        channel=channel,
        content=export.data,
        filename=export.filename,
        title=export.filename,
        initial_comment=t.loc.tn("csv.export.comment", export.rows, kind=name),
    )
    text, blocks = build_notice(t.loc.mdn("csv.export.sent", export.rows, kind=name))
    await respond(text=text, blocks=blocks, response_type="ephemeral")
