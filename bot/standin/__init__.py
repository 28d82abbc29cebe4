"""Local Slack stand-in: a Web API server, a request driver, validators and a text renderer."""

from bot.standin.driver import Reply, SlackDriver
from bot.standin.limits import validate_blocks, validate_message_args, validate_view
from bot.render import blocks_to_text, view_to_text
from bot.standin.server import Call, SlackStandIn

__all__ = [
    "Call",
    "Reply",
    "SlackDriver",
    "SlackStandIn",
    "blocks_to_text",
    "validate_blocks",
    "validate_message_args",
    "validate_view",
    "view_to_text",
]
