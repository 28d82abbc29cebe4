"""Slack mrkdwn escaping: user-typed text must never ping, link or format by accident."""

from __future__ import annotations


class SlackSafe(str):
    """Text already fit for mrkdwn (built by the bot itself, such as a mention)."""

    __slots__ = ()


def escape(value: object) -> SlackSafe:
    """Escape &, < and > (Slack's only control characters) unless the text is already safe."""
    if isinstance(value, SlackSafe):
        return value
    s = "" if value is None else str(value)
    return SlackSafe(s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def mention(user_id: str) -> SlackSafe:
    """A user mention, rendered by Slack as the person's name."""
    return SlackSafe(f"<@{user_id}>")


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut text to at most `limit` characters, marking the cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(ellipsis))] + ellipsis


def truncate_md(text: SlackSafe | str, limit: int) -> SlackSafe:
    """Cut escaped mrkdwn without splitting an entity such as `&amp;` or a `<@U1>` mention."""
    if len(text) <= limit:
        return SlackSafe(text)
    cut = text[: limit - 1]
    amp, lt = cut.rfind("&"), cut.rfind("<")
    if amp > cut.rfind(";"):
        cut = cut[:amp]
    if lt > cut.rfind(">"):
        cut = cut[:lt]
    return SlackSafe(cut + "…")


# -- monospaced tables ------------------------------------------------------------------
# A Chinese character takes two columns of a code block: padding by len() would misalign them.

def display_width(text: str) -> int:
    """The columns a text takes in a monospaced font (wide CJK characters count two)."""
    from wcwidth import wcswidth

    width = wcswidth(text)
    return width if width >= 0 else sum(max(0, _char_width(c)) for c in text)


def _char_width(ch: str) -> int:
    from wcwidth import wcwidth

    return wcwidth(ch)


def fit(text: str, width: int, *, right: bool = False, ellipsis: str = "…") -> str:
    """Text cut and padded with spaces to exactly `width` columns, left- or right-aligned."""
    if display_width(text) > width:
        out, used = "", display_width(ellipsis)
        for ch in text:
            w = max(0, _char_width(ch))
            if used + w > width:
                break
            out, used = out + ch, used + w
        text = out + ellipsis
    pad = " " * max(0, width - display_width(text))
    return pad + text if right else text + pad
