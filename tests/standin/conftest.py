"""Fixtures for the Slack stand-in tests."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# The project is not installed into the test environment; make `bot` importable.
_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402

from bot.standin import SlackStandIn  # noqa: E402


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    """A running stand-in with two members."""
    async with SlackStandIn() as stand_in:
        stand_in.add_user("U1", name="alice", real_name="Alice Adams", tz="America/New_York")
        stand_in.add_user("U2", name="bob", tz="Europe/Berlin", locale="de-DE", is_admin=True)
        yield stand_in


@pytest.fixture
def client(slack: SlackStandIn) -> AsyncWebClient:
    """The real slack_sdk client, pointed at the stand-in."""
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
