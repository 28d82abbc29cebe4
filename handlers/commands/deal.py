"""/deal: open the deal modal (new, or `/deal ID` to edit), `/deal list …`, and `/deal playbook STAGE [set …]`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.unit import turn
from bot.blocks.deals import build_deal_list, build_deal_modal, build_playbook
from bot.i18n import LANGUAGES
from bot.models import Stage
from bot.parsing import split_words, unescape
from bot.services import deal_list, deals, playbooks
from bot.services.errors import ServiceError
from handlers.replies import ephemeral, open_modal

_DEAL_ID = re.compile(r"#?(\d{1,9})")  # nine digits always fit an integer column
# Clients may send typographic quotes; the item list is split on plain ones.
_QUOTES = str.maketrans({"“": '"', "”": '"', "「": '"', "」": '"', "„": '"'})


@dataclass(frozen=True)
class DealCommand:
    """What `/deal …` asks for."""

    action: str  # new | edit | list | playbook_show | playbook_set
    deal_id: int | None = None
    stage: Stage | None = None
    items: list[str] = field(default_factory=list)
    listing: deal_list.DealListQuery | None = None


def parse_stage(word: str, names: dict[str, Stage] | None = None) -> Stage:
    """A stage by its id (`needs_analysis`, `needs-analysis`) or its name in either language."""
    key = word.strip().lower().replace("-", "_")
    for s in Stage:
        if key == s.value:
            return s
    if names and word.strip() in names:
        return names[word.strip()]
    raise ServiceError("deal.error.bad_stage", value=word)


def parse_deal_command(text: str, stage_names: dict[str, Stage] | None = None) -> DealCommand:
    """Parse `/deal`, `/deal 12`, `/deal list …`, `/deal playbook STAGE` and `/deal playbook STAGE set "a" "b"` (text already unescaped)."""
    words = split_words(text.translate(_QUOTES))
    if not words:
        return DealCommand("new")
    if len(words) == 1 and (m := _DEAL_ID.fullmatch(words[0])):
        return DealCommand("edit", deal_id=int(m.group(1)))
    if words[0].lower() in ("list", "列表"):
        return DealCommand("list", listing=deal_list.parse_deal_list(words[1:], stage_names))
    if words[0].lower() in ("playbook", "清单") and len(words) >= 2:
        stage = parse_stage(words[1], stage_names)
        if len(words) == 2:
            return DealCommand("playbook_show", stage=stage)
        if words[2].lower() == "set":
            return DealCommand("playbook_set", stage=stage, items=words[3:])
    raise ServiceError("deal.error.usage")


def stage_names(deps) -> dict[str, Stage]:
    """Every language's name of each stage (so `/deal playbook 方案` works)."""
    out: dict[str, Stage] = {}
    for lang in LANGUAGES:
        loc = deps.i18n.get("zh-CN" if lang == "zh_Hans" else "en-US")
        out.update({loc.t(f"stage.{s.value}"): s for s in Stage})
    return out


async def handle_deal(ack, command, client, respond, context):
    """Open the deal modal (new or prefilled), list deals, or show or replace a stage playbook."""
    await ack()
    deps = context["deps"]
    async with turn(deps, client, team_id=command["team_id"], user_id=command["user_id"], reply=ephemeral(respond)) as t:
        cmd = parse_deal_command(unescape(command.get("text", "")), stage_names(deps))
        if cmd.action in ("playbook_show", "playbook_set"):
            if cmd.action == "playbook_show":
                checklist = await playbooks.show_playbook(t.session, actor=t.actor, stage=cmd.stage, i18n=deps.i18n)
            else:
                checklist = await playbooks.set_playbook(t.session, actor=t.actor, stage=cmd.stage, titles=cmd.items, i18n=deps.i18n)
            text, blocks = build_playbook(checklist, t.loc)
            await t.session.commit()  # what the reply says is stored before anyone reads it
            await respond(text=text, blocks=blocks, response_type="ephemeral")
            return
        if cmd.action == "list":
            page = await deal_list.list_deals(t.session, actor=t.actor, query=cmd.listing)
            text, blocks = build_deal_list(page, t.loc, tz=t.actor.member.tz, now=t.now, can_reopen=t.actor.can_assign)
            await respond(text=text, blocks=blocks, response_type="ephemeral")
            return
        deals.require_roster(t.actor)
        metadata = {"ru": command.get("response_url")}
        if cmd.action == "edit":
            dv = await deals.get_deal_view(t.session, actor=t.actor, deal_id=cmd.deal_id)
            customer = await deals.get_customer(t.session, actor=t.actor, customer_id=dv.deal.customer_id)
            contact = customer.contact_channel_id or customer.contact_user_id if customer else None
            metadata["deal"] = dv.deal.id
            view = build_deal_modal(t.loc, owner_user_id=dv.owner_user_id, metadata=metadata, view=dv, contact=contact)
        else:
            view = build_deal_modal(t.loc, owner_user_id=t.actor.member.slack_user_id, metadata=metadata)
        await open_modal(client, command["trigger_id"], view)
