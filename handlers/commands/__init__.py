"""Slash command listeners."""

from slack_bolt.async_app import AsyncApp

from bot.blocks import ids
from handlers.commands.assign import handle_assign
from handlers.commands.deal import handle_deal
from handlers.commands.expense import handle_expense
from handlers.commands.log import handle_log
from handlers.commands.kpi import handle_kpi
from handlers.commands.mytasks import handle_mytasks
from handlers.commands.tasks import handle_tasks
from handlers.commands.pipeline import handle_pipeline
from handlers.commands.salesbot import handle_salesbot
from handlers.commands.suggest import handle_suggest
from handlers.commands.target import handle_target


def register(app: AsyncApp) -> None:
    """Attach the slash commands."""
    app.command(ids.CMD_SALESBOT)(handle_salesbot)
    app.command(ids.CMD_SUGGEST)(handle_suggest)
    app.command(ids.CMD_ASSIGN)(handle_assign)
    app.command(ids.CMD_MYTASKS)(handle_mytasks)
    app.command(ids.CMD_TASKS)(handle_tasks)
    app.command(ids.CMD_DEAL)(handle_deal)
    app.command(ids.CMD_LOG)(handle_log)
    app.command(ids.CMD_EXPENSE)(handle_expense)
    app.command(ids.CMD_PIPELINE)(handle_pipeline)
    app.command(ids.CMD_KPI)(handle_kpi)
    app.command(ids.CMD_TARGET)(handle_target)
