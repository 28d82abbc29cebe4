"""The stand-in refuses a view of 250 kB or more as Slack does (view_too_large), whatever its block count."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import SlackStandIn
from bot.standin import limits


def home(sections: int, chars: int = 2900) -> dict[str, Any]:
    return {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * chars}} for _ in range(sections)]}


async def test_views_publish_refuses_a_home_over_250_kb_and_keeps_the_old_one(slack: SlackStandIn, client: AsyncWebClient) -> None:
    fits = home(80)
    assert 200_000 < limits.view_size(fits) < limits.MAX_VIEW_BYTES
    await client.views_publish(user_id="U1", view=fits)
    too_large = home(90)  # 90 blocks: within the block limit, over the byte limit
    assert limits.view_size(too_large) >= limits.MAX_VIEW_BYTES
    with pytest.raises(SlackApiError) as info:
        await client.views_publish(user_id="U1", view=too_large)
    assert info.value.response["error"] == "view_too_large"
    assert len(slack.home("U1")["view"]["blocks"]) == 80
    # Multi-byte text counts in bytes: 40 sections of 2,500 Chinese characters are about 300 kB.
    with pytest.raises(SlackApiError) as info:
        await client.views_publish(user_id="U1", view={"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "报" * 2500}}] * 40})
    assert info.value.response["error"] == "view_too_large"


async def test_views_update_refuses_a_modal_over_250_kb(slack: SlackStandIn, client: AsyncWebClient) -> None:
    opened = await client.views_open(trigger_id=slack.new_trigger_id(user="U1"), view={"type": "modal", "title": {"type": "plain_text", "text": "Deal"}, "blocks": home(1)["blocks"]})
    with pytest.raises(SlackApiError) as info:
        await client.views_update(view_id=opened["view"]["id"], view={**home(90), "type": "modal", "title": {"type": "plain_text", "text": "Deal"}})
    assert info.value.response["error"] == "view_too_large"
