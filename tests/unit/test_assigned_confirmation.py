"""The manager's confirmation names the assignees whose card has not arrived yet, escaped, in both languages."""

from __future__ import annotations

import pytest

from bot.blocks.tasks import build_assigned_confirmation
from bot.i18n import LANGUAGES
from bot.standin.limits import validate_blocks
from tests.unit import factories as f
from tests.unit.factories import TODAY


@pytest.mark.parametrize("lang", LANGUAGES)
def test_confirmation_names_queued_and_unsure_assignees(lang):
    loc = f.loc(lang)
    row = f.fake_row(7, assignees=["UA", "UB", "UC"])
    queued, unsure = f.fake_member("UA", name="Ray <!channel> & Co"), f.fake_member("UB", name="Rita")
    text, blocks = build_assigned_confirmation(row, loc, TODAY, queued=[queued], unsure=[unsure])
    assert validate_blocks(blocks, surface="message") == []
    body = blocks[0]["text"]["text"]
    assert loc.md("assign.card_queued", name=queued.name) in body
    assert loc.md("assign.card_unsure", name="Rita") in body
    assert "<!channel>" not in body and "Ray &lt;!channel&gt; &amp; Co" in body
    plain_text, plain_blocks = build_assigned_confirmation(row, loc, TODAY)
    assert plain_text == text
    assert plain_blocks[0]["text"]["text"] == body.split("\n" + loc.md("assign.card_queued", name=queued.name))[0]
