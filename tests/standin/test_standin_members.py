"""conversations.members: the people in a channel, paged with a cursor as Slack does."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import SlackStandIn


async def test_members_of_a_channel_page_by_cursor(slack: SlackStandIn, client: AsyncWebClient) -> None:
    slack.add_channel("CSHARED", name="acme-shared", members=["UCUST", "UREP1", "UOTHER"])
    first = await client.conversations_members(channel="CSHARED", limit=2)
    assert first["members"] == [slack.bot_user_id, "UCUST"]
    cursor = first["response_metadata"]["next_cursor"]
    assert cursor
    rest = await client.conversations_members(channel="CSHARED", limit=2, cursor=cursor)
    assert rest["members"] == ["UREP1", "UOTHER"] and rest["response_metadata"]["next_cursor"] == ""


async def test_a_dm_holds_its_member_and_the_bot(slack: SlackStandIn, client: AsyncWebClient) -> None:
    channel = slack.dm_channel("UCUST")
    assert (await client.conversations_members(channel=channel))["members"] == ["UCUST", slack.bot_user_id]


async def test_unknown_channel(slack: SlackStandIn, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as info:
        await client.conversations_members(channel="CNOPE")
    assert info.value.response["error"] == "channel_not_found"
