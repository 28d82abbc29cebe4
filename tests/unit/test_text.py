"""bot/text: mrkdwn escaping and cutting."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text import SlackSafe, escape, mention, truncate, truncate_md


def test_escape_only_slack_control_characters():
    assert escape("<!channel> & <@U1> 'quoted' \"double\"") == "&lt;!channel&gt; &amp; &lt;@U1&gt; 'quoted' \"double\""
    assert escape("a&amp;b") == "a&amp;amp;b", "typed entities are shown literally"
    assert escape(None) == ""
    assert escape(42) == "42"
    assert isinstance(escape("x"), SlackSafe)


def test_slack_safe_text_passes_unchanged():
    safe = SlackSafe("<@U1> &amp; *bold*")
    assert escape(safe) is safe
    assert escape(mention("U123")) == "<@U123>"
    assert escape(escape("<b>")) == "&lt;b&gt;", "escaping is not applied twice"


def test_truncate():
    assert truncate("short", 10) == "short"
    assert truncate("0123456789", 10) == "0123456789"
    assert truncate("0123456789x", 10) == "012345678…"
    assert len(truncate("y" * 5000, 3000)) == 3000


def test_truncate_md_keeps_short_text():
    assert truncate_md("a &amp; b", 9) == "a &amp; b"


def test_truncate_md_never_splits_an_entity():
    text = escape("x" * 8 + "&" + "y" * 20)  # xxxxxxxx&amp;yyyy…
    for limit in range(9, 15):
        out = truncate_md(text, limit)
        assert len(out) <= limit
        assert out.endswith("…")
        body = out[:-1]
        assert "&" not in body or "&amp;" in body, (limit, out)


def test_truncate_md_never_splits_a_mention():
    text = SlackSafe("hello " + "<@U12345678>" + " and more text here")
    for limit in range(7, 19):
        out = truncate_md(text, limit)
        body = out[:-1]
        assert len(out) <= limit
        assert body.count("<") == body.count(">"), (limit, out)
        assert body in ("hello ", "hello <@U12345678>", "hello <@U12345678> "), (limit, out)


_ENTITY_OR_MENTION = re.compile(r"&(amp|lt|gt);|<@U[0-9A-Z]+>")


@settings(max_examples=150, deadline=None, database=None)
@given(
    parts=st.lists(st.one_of(st.text(alphabet="ab &<>;", max_size=6), st.sampled_from(["<@U1>", "<@UABC>"])), max_size=12),
    limit=st.integers(min_value=2, max_value=60),
)
def test_truncate_md_property(parts, limit):
    # Build text the way the bot does: typed pieces escaped, mentions made by the bot.
    text = SlackSafe("".join(p if p.startswith("<@") else escape(p) for p in parts))
    out = truncate_md(text, limit)
    assert len(out) <= limit
    if len(text) <= limit:
        assert out == text
        return
    body = out[:-1]
    assert text.startswith(body)
    # Whatever is left contains only whole entities and whole mentions.
    leftover = _ENTITY_OR_MENTION.sub("", body)
    assert "&" not in leftover and "<" not in leftover, (text, limit, out)
