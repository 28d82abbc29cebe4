"""The deal alert: a big deal won, lost or moved back a stage, in one short message."""

from __future__ import annotations

from bot.blocks.deals import REASON_KEYS
from bot.blocks.kit import context, fallback_text, section
from bot.i18n import Localizer
from bot.services.alerts import BACK, LOST, WON, DealAlert
from bot.text import mention

KEYS = {WON: "alert.deal.won", LOST: "alert.deal.lost", BACK: "alert.deal.back"}


def build_deal_alert(a: DealAlert, loc: Localizer, *, currency: str, tz: str) -> tuple[str, list[dict]]:
    """What the team's channel (or each manager) reads about one change; user text escaped."""
    kw = dict(
        title=a.deal.title or a.customer, customer=a.customer, owner=mention(a.owner_user_id), amount=loc.money(a.deal.amount, currency),
        stage=loc.t(f"stage.{a.to_stage.value}"),
    )
    if a.kind == BACK and a.from_stage is not None:
        kw["previous"] = loc.t(f"stage.{a.from_stage.value}")
    line = loc.md(KEYS[a.kind], **kw)
    blocks = [section(line)]
    if a.kind == LOST and (a.reason or a.note):
        why = loc.t(REASON_KEYS[a.reason]) if a.reason else ""
        blocks.append(section(loc.md("alert.deal.reason", reason=f"{why}: {a.note}" if why and a.note else why or a.note)))
    who = loc.md("alert.deal.by", user=mention(a.actor_user_id), when=loc.datetime(a.changed_at, tz)) if a.actor_user_id \
        else loc.md("alert.deal.at", when=loc.datetime(a.changed_at, tz))
    blocks.append(context(who))
    return fallback_text(line), blocks


__all__ = ["build_deal_alert"]
