"""The Chart buttons of `/kpi` and `/pipeline`: the report's pictures, sent to the member's direct messages."""

from __future__ import annotations

import asyncio

from bot.blocks.analytics import read_chart_value
from bot.blocks.pictures import kpi_picture_files, pipeline_picture_files
from bot.blocks.tasks import build_notice
from bot.services.analytics import kpi_pictures, kpi_report, pipeline_report
from bot.slackapi import dm_channel
from bot.unit import turn
from handlers.replies import reply_to_click


async def _send(ack, body, action, client, respond, context, draw):
    """Read the report again with the member's own rights, draw its pictures off the event loop, upload them to the DM."""
    await ack()
    team, period, rep = read_chart_value(action.get("value", ""))
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"],
                    reply=reply_to_click(body, client, respond)) as t:
        render = await draw(t, team, period, rep)
        channel = await dm_channel(client, t.session, t.actor.member)
        await t.session.commit()  # keep the DM channel id; the upload below holds no transaction open
        files = await asyncio.to_thread(render)  # matplotlib takes a moment: the loop keeps serving others meanwhile
        await client.files_upload_v2(file_uploads=files, channel=channel)
        text, blocks = build_notice(t.loc.md("chart.sent"))
        await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


async def handle_kpi_chart(ack, body, action, client, respond, context):
    """Send `/kpi`'s pictures (won per week of the quarter; for a team, attainment by rep) to the member who clicked."""

    async def draw(t, team, period, rep):
        report = await kpi_report(t.session, actor=t.actor, now=t.now, rep_user_id=rep, period_text=period, team_name=team)
        pictures = await kpi_pictures(t.session, report=report, now=t.now)
        return lambda: kpi_picture_files(report, pictures, t.loc)

    await _send(ack, body, action, client, respond, context, draw)


async def handle_pipeline_chart(ack, body, action, client, respond, context):
    """Send `/pipeline`'s funnel picture to the member who clicked."""

    async def draw(t, team, period, _rep):
        report = await pipeline_report(t.session, actor=t.actor, now=t.now, period_text=period, team_name=team)
        return lambda: pipeline_picture_files(report, t.loc)

    await _send(ack, body, action, client, respond, context, draw)
