"""/kpi: KPIs of the caller, of one rep or of the team, for a period (default: the current month)."""

from bot.unit import turn
from bot.blocks.analytics import build_kpi
from bot.parsing import ParseError, mention_id, split_words, take_team, unescape
from bot.services.analytics import kpi_report
from handlers.replies import ephemeral


def parse_kpi(text: str) -> tuple[str | None, str | None, str | None]:
    """`[@rep] [period] [team:NAME]` in any order → (rep user id, period text, team name)."""
    words, team = take_team(split_words(text or ""), usage="kpi.error.kpi_usage")
    rep = period = None
    for word in words:
        user = mention_id(word)
        if user and rep is None:
            rep = user
        elif period is None and not user:
            period = unescape(word)
        else:
            raise ParseError("kpi.error.kpi_usage")
    return rep, period, team


async def handle_kpi(ack, command, client, respond, context):
    """Show KPIs against their targets; reps see only their own."""
    await ack()
    async with turn(context["deps"], client, team_id=command["team_id"], user_id=command["user_id"], reply=ephemeral(respond)) as t:
        rep, period, team = parse_kpi(command.get("text", ""))
        report = await kpi_report(t.session, actor=t.actor, now=t.now, rep_user_id=rep, period_text=period, team_name=team)
        text, blocks = build_kpi(report, t.loc)
        await respond(text=text, blocks=blocks, response_type="ephemeral")
