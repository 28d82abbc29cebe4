"""`/deal list`: a rep's own deals, a manager's rep or team; and the open deals a rep's App Home shows.

A page costs a fixed number of statements: one count and one page of deals joined to their
customer and owner, whatever the number of deals.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Customer, Deal, DealStatus, Member, Stage
from bot.parsing import ParseError, mention_id, split_words, unescape
from bot.services.actors import Actor
from bot.services.deals import DealView, require_roster
from bot.services.errors import PermissionDenied
from bot.services.paging import Paged

PAGE_SIZE = 10  # two blocks a deal: a page stays far below the 50-block message limit
HOME_DEALS = 8  # open deals on a rep's Home; `/deal list` pages through the rest
TEAM = "team"


class DealFilter(str, Enum):
    """Which deals the list shows."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"
    ALL = "all"


@dataclass(frozen=True)
class DealListQuery:
    """What `/deal list` asked for: status, stage, and whose deals (the caller's, a rep's, or the team's)."""

    status: DealFilter = DealFilter.OPEN
    stage: Stage | None = None
    who: str = ""  # "" the caller, "team", or a Slack user id

    def encode(self) -> str:
        """A short string for button values (no "|": deal refs put it after theirs)."""
        return f"{self.status.value};{self.stage.value if self.stage else ''};{self.who}"

    @classmethod
    def decode(cls, text: str) -> "DealListQuery":
        """Parse what `encode` wrote; ValueError on anything else."""
        status, stage, who = text.split(";")
        if who not in ("", TEAM) and mention_id(f"<@{who}>") != who:
            raise ValueError("not a deal list query")
        return cls(DealFilter(status), Stage(stage) if stage else None, who)


_STATUS_WORDS = {**{s.value: s for s in DealFilter}, "进行中": DealFilter.OPEN, "赢单": DealFilter.WON, "丢单": DealFilter.LOST, "全部": DealFilter.ALL}


def parse_deal_list(words: list[str], stage_names: dict[str, Stage] | None = None) -> DealListQuery:
    """The words after `/deal list`: `[open|won|lost|all] [stage:STAGE] [@rep|team]` in any order."""
    status: DealFilter | None = None
    stage: Stage | None = None
    who: str | None = None
    for word in words:
        key, sep, value = word.partition(":")
        low = word.lower()
        if (user := mention_id(word)) and who is None:
            who = user
        elif low in (TEAM, "团队") and who is None:
            who = TEAM
        elif low in _STATUS_WORDS and status is None:
            status = _STATUS_WORDS[low]
        elif sep and key.lower() in ("stage", "阶段") and stage is None and (found := _stage(unescape(value), stage_names)):
            stage = found
        else:
            raise ParseError("deal.list.error.usage", value=unescape(word)[:100])
    return DealListQuery(status or DealFilter.OPEN, stage, who or "")


def _stage(word: str, names: dict[str, Stage] | None) -> Stage | None:
    key = word.strip().lower().replace("-", "_")
    return next((s for s in Stage if s.value == key), None) or (names or {}).get(word.strip())


@dataclass
class DealPage(Paged):
    """One page of deals, ready for their cards."""

    query: DealListQuery
    views: list[DealView]
    total: int
    offset: int
    limit: int
    owner_user_id: str | None = None  # whose list, when it is one rep's


async def _scope(session: AsyncSession, *, actor: Actor, who: str) -> tuple[list, str | None]:
    """The conditions on Deal for whose deals, after the permission check; and the one owner's user id."""
    ws = actor.workspace.id
    if who == TEAM:
        if actor.is_admin and actor.member.team_id is None:
            return [Deal.workspace_id == ws], None
        if not (actor.is_manager or actor.is_admin) or actor.member.team_id is None:
            raise PermissionDenied("deal.list.error.managers_only")
        return [Deal.workspace_id == ws, Deal.team_id == actor.member.team_id], None
    if not who or who == actor.member.slack_user_id:
        return [Deal.workspace_id == ws, Deal.owner_id == actor.member.id], actor.member.slack_user_id
    owner = (await session.execute(select(Member).where(Member.workspace_id == ws, Member.slack_user_id == who))).scalar_one_or_none()
    allowed = owner is not None and (actor.is_admin or (actor.is_manager and actor.member.team_id is not None and owner.team_id == actor.member.team_id))
    if not allowed:
        # The same answer whether the member exists or not.
        raise PermissionDenied("deal.list.error.not_your_rep", user=who)
    return [Deal.workspace_id == ws, Deal.owner_id == owner.id], who


def _order(status: DealFilter):
    if status == DealFilter.WON:
        return (Deal.won_at.desc(), Deal.id.desc())
    if status == DealFilter.LOST:
        return (Deal.lost_at.desc(), Deal.id.desc())
    if status == DealFilter.OPEN:
        return (Deal.expected_close.is_(None), Deal.expected_close, Deal.id)
    return (Deal.updated_at.desc(), Deal.id.desc())


async def list_deals(session: AsyncSession, *, actor: Actor, query: DealListQuery, offset: int = 0, limit: int = PAGE_SIZE) -> DealPage:
    """One page of deals the actor may see: open ones by expected close, closed ones newest first."""
    require_roster(actor)
    cond, owner_user_id = await _scope(session, actor=actor, who=query.who)
    if query.status != DealFilter.ALL:
        cond.append(Deal.status == DealStatus(query.status.value))
    if query.stage is not None:
        cond.append(Deal.stage == query.stage)
    total = (await session.execute(select(func.count()).select_from(Deal).where(*cond))).scalar_one()
    offset = max(0, min(offset, max(0, total - 1) // limit * limit))
    q = (
        select(Deal, Customer.name, Member.slack_user_id)
        .join(Customer, Customer.id == Deal.customer_id)
        .join(Member, Member.id == Deal.owner_id)
        .where(*cond)
        .order_by(*_order(query.status))
        .offset(offset)
        .limit(limit)
    )
    views = [DealView(deal=d, customer_name=name, owner_user_id=user, currency=actor.workspace.currency) for d, name, user in (await session.execute(q)).all()]
    return DealPage(query, views, total, offset, limit, owner_user_id)


async def home_deals(session: AsyncSession, *, actor: Actor, limit: int = HOME_DEALS) -> DealPage:
    """The rep's open deals by expected close (soonest first, undated last), for the App Home."""
    if not actor.on_roster:
        return DealPage(DealListQuery(), [], 0, 0, limit)
    return await list_deals(session, actor=actor, query=DealListQuery(), limit=limit)
