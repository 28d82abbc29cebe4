"""/pipeline: the team's pipeline for a period (default: the current quarter)."""

from bot.unit import turn
from bot.blocks.analytics import build_pipeline
from bot.parsing import ParseError, split_words, take_team, unescape
from bot.services.analytics import pipeline_report
from handlers.replies import ephemeral


def parse_pipeline(text: str) -> tuple[str | None, str | None]:
    """`[period] [team:NAME]` → (period text, team name)."""
    words, team = take_team(split_words(text or ""), usage="kpi.error.pipeline_usage")
    if len(words) > 1:
        raise ParseError("kpi.error.pipeline_usage")
    return (unescape(words[0]) if words else None), team


async def handle_pipeline(ack, command, client, respond, context):
    """Show the pipeline of the caller's team: stages, conversion, days in stage, stale deals."""
    await ack()
    async with turn(context["deps"], client, team_id=command["team_id"], user_id=command["user_id"], reply=ephemeral(respond)) as t:
        period, team = parse_pipeline(command.get("text", ""))
        report = await pipeline_report(t.session, actor=t.actor, now=t.now, period_text=period, team_name=team)
        text, blocks = build_pipeline(report, t.loc)
        await respond(text=text, blocks=blocks, response_type="ephemeral")
