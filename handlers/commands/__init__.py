"""Slash command listeners."""

from slack_bolt.async_app import AsyncApp

from handlers import ids
from handlers.commands.assign import handle_assign
from handlers.commands.mytasks import handle_mytasks
from handlers.commands.salesbot import handle_salesbot


def register(app: AsyncApp) -> None:
    """Attach the slash commands."""
    app.command(ids.CMD_SALESBOT)(handle_salesbot)
    app.command(ids.CMD_ASSIGN)(handle_assign)
    app.command(ids.CMD_MYTASKS)(handle_mytasks)
