"""Sales targets: set, split top-down (by time, product, region, segment or rep) and track attainment.

Amounts are integers of minor units (1/100 of the workspace currency). A split always sums
exactly to its parent: every part is its exact share rounded down, and the few minor units
left over go one each to the largest shares.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from sqlalchemy import and_, case, delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import upsert
from bot.models import Customer, Deal, DealStatus, Member, SalesTeam, Segment, Target, utcnow
from bot.parsing import AMOUNT_MAX, MENTION, ParseError, parse_amount, positive_amount, split_words, take_team, unescape
from bot.periods import FINER, KINDS, MONTH, QUARTER, WEEK, YEAR, Period, PeriodError, parse_period, period_containing, time_split_weights
from bot.services import webhooks
from bot.services.actors import Actor, safe_zone
from bot.services.errors import NotFound, NotOnRoster, PermissionDenied, ServiceError

TOTAL = "total"
DIMENSIONS = ("product", "region", "segment", "rep")
TIME_SPLITS = (QUARTER, MONTH, WEEK)
SPLITS = TIME_SPLITS + DIMENSIONS
KEY_MAX = 80
MAX_SHARES = 60

_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*[%％]")
_BY_WORDS = {"by", "按"}


# ---------------------------------------------------------------------------- parsing


def parse_share(text: str) -> tuple[str, Decimal]:
    """One share: (`percent`, 60) for `60%`, or (`amount`, minor units) for an amount."""
    s = (text or "").strip()
    m = _PERCENT.fullmatch(s)
    if m:
        try:
            pct = Decimal(m.group(1))
        except InvalidOperation:
            raise ValueError(text) from None
        if pct > 100 or -pct.as_tuple().exponent > 4:
            raise ValueError(text)
        return "percent", pct
    return "amount", Decimal(parse_amount(s))


@dataclass(frozen=True)
class TargetCommand:
    """What `/target …` asks for."""

    action: str  # show | set | split
    period: Period | None = None
    amount: int | None = None
    by: str | None = None
    shares: list[tuple[str, Decimal]] | None = None
    share_kind: str | None = None  # percent | amount
    team: str | None = None


def _period(word: str) -> Period:
    """A period from a command word, or the hint that names the formats."""
    try:
        return parse_period(word)
    except PeriodError:
        raise ParseError("target.error.bad_period", value=word) from None


def parse_shares(words: list[str]) -> tuple[list[tuple[str, Decimal]], str]:
    """`KEY=SHARE …`: all percentages or all amounts; returns the pairs and which kind they are."""
    pairs: list[tuple[str, Decimal]] = []
    kinds = set()
    for w in words:
        key, sep, value = w.rpartition("=")
        key = key.strip()
        if not sep or not key or not value:
            raise ParseError("target.error.bad_share", value=w)
        try:
            kind, share = parse_share(value)
        except ValueError:
            raise ParseError("target.error.bad_share", value=w) from None
        kinds.add(kind)
        pairs.append((key, share))
    if len(kinds) > 1:
        raise ParseError("target.error.mixed_shares")
    if len(pairs) > MAX_SHARES:
        raise ParseError("target.error.too_many_shares", max=MAX_SHARES)
    return pairs, kinds.pop() if kinds else "percent"


def parse_target(text: str) -> TargetCommand:
    """Parse `/target [period] [by DIM] [team:NAME]`, `/target set PERIOD AMOUNT`, `/target split PERIOD by KIND [KEY=SHARE …]`."""
    words, team = take_team(split_words(text), usage="target.error.view_usage")
    words = [unescape(w) for w in words]
    head = words[0].lower() if words else ""
    if head in ("set", "设置"):
        if len(words) != 3:
            raise ParseError("target.error.set_usage")
        period = _period(words[1])
        amount = positive_amount(words[2], bad="target.error.bad_amount")
        return TargetCommand("set", period=period, amount=amount, team=team)
    if head in ("split", "拆分", "分解"):
        if len(words) < 4 or words[2].lower() not in _BY_WORDS:
            raise ParseError("target.error.split_usage", example="A=60% B=30% C=10%")
        period = _period(words[1])
        by = _split_kind(words[3])
        if by is None:
            raise ParseError("target.error.bad_split_kind", value=words[3])
        shares, kind = parse_shares(words[4:]) if len(words) > 4 else (None, None)
        return TargetCommand("split", period=period, by=by, shares=shares, share_kind=kind, team=team)
    # A view: [period] [by DIM]
    period = None
    rest = words
    if rest and rest[0].lower() not in _BY_WORDS:
        period = _period(rest[0])
        rest = rest[1:]
    by = None
    if rest:
        if len(rest) != 2 or rest[0].lower() not in _BY_WORDS:
            raise ParseError("target.error.view_usage")
        by = _split_kind(rest[1])
        if by not in DIMENSIONS:
            raise ParseError("target.error.bad_view_kind", value=rest[1])
    return TargetCommand("show", period=period, by=by, team=team)


_KIND_ALIASES = {
    "quarter": QUARTER, "quarters": QUARTER, "季度": QUARTER,
    "month": MONTH, "months": MONTH, "月": MONTH, "月份": MONTH,
    "week": WEEK, "weeks": WEEK, "周": WEEK,
    "product": "product", "products": "product", "产品": "product", "产品线": "product",
    "region": "region", "regions": "region", "区域": "region", "地区": "region",
    "segment": "segment", "segments": "segment", "客户类型": "segment", "客户分层": "segment",
    "rep": "rep", "reps": "rep", "销售": "rep", "人员": "rep",
}


def _split_kind(word: str) -> str | None:
    """A split kind from its English or Chinese word."""
    return _KIND_ALIASES.get(word.lower())


# ---------------------------------------------------------------------------- arithmetic


def allocate(total: int, weights: list) -> list[int]:
    """Split `total` minor units in proportion to `weights`, summing exactly to `total`.

    Each part is its exact share rounded down; the remainder (fewer units than there are
    parts) goes one unit each to the largest shares, the largest first. So every part lies
    within one minor unit of its exact share, and a remainder of one goes to the largest share.
    """
    ws = [Fraction(w) for w in weights]
    if not ws:
        return []
    if any(w < 0 for w in ws):
        raise ValueError("negative weight")
    s = sum(ws)
    if s == 0:
        ws, s = [Fraction(1)] * len(ws), Fraction(len(ws))
    parts = [math.floor(total * w / s) for w in ws]
    remainder = total - sum(parts)
    for i in sorted(range(len(ws)), key=lambda i: (-ws[i], i))[:remainder]:
        parts[i] += 1
    return parts


def check_shares_total(parent: int, shares: list[Decimal], kind: str) -> None:
    """Shares must add up to the parent within one minor unit, else a ServiceError naming the sum."""
    total = sum(shares, Decimal(0))
    if kind == "percent":
        implied = Decimal(parent) * total / 100
        if abs(implied - parent) > 1 or total == 0:
            raise ServiceError("target.error.percent_sum", total=_plain_number(total))
    else:
        if abs(total - parent) > 1 or total == 0:
            raise ServiceError("target.error.amount_sum", total=_plain_number(total / 100), parent=_plain_number(Decimal(parent) / 100))


def _plain_number(d: Decimal) -> str:
    """A Decimal without exponent or trailing zeros, for messages."""
    d = d.normalize()
    return f"{d:f}"


# ---------------------------------------------------------------------------- permissions


async def target_team(session: AsyncSession, *, actor: Actor, team_name: str | None, write: bool) -> SalesTeam:
    """The team a command acts on: the caller's own, or `team:NAME` for admins."""
    if not actor.on_roster and not actor.is_admin:
        raise NotOnRoster()
    if write and not (actor.is_admin or actor.is_manager):
        raise PermissionDenied("target.error.managers_only")
    if team_name:
        q = select(SalesTeam).where(SalesTeam.workspace_id == actor.workspace.id, SalesTeam.name == team_name)
        team = (await session.execute(q)).scalar_one_or_none()
        if team is None:
            raise NotFound("target.error.no_team", team=team_name)
        if not actor.is_admin and team.id != actor.member.team_id:
            raise PermissionDenied("target.error.other_team")
        return team
    if actor.member.team_id is None:
        raise ServiceError("target.error.team_needed")
    q = select(SalesTeam).where(SalesTeam.workspace_id == actor.workspace.id, SalesTeam.id == actor.member.team_id)
    return (await session.execute(q)).scalar_one()


def team_today(team: SalesTeam, now: datetime) -> date:
    """The team's local date."""
    return now.astimezone(safe_zone(team.timezone)).date()


# ---------------------------------------------------------------------------- set


@dataclass
class SetResult:
    """A target after `/target set`: its previous amount (None when new) and how many split lines were rescaled."""

    team: SalesTeam
    target: Target
    previous: int | None
    rescaled: int = 0


async def _team_targets(session: AsyncSession, team: SalesTeam) -> list[Target]:
    """Every target row of a team as stored now (one query; the split trees are built in memory)."""
    q = select(Target).where(Target.workspace_id == team.workspace_id, Target.team_id == team.id).execution_options(populate_existing=True)
    return list((await session.execute(q)).scalars())


def _rescale(root: Target, new_amount: int, children: dict[int, list[Target]], now: datetime) -> int:
    """Give `root` a new amount and its splits the same proportions as before; returns rows changed."""
    changed = 0
    stack = [(root, new_amount)]
    while stack:
        node, amount = stack.pop()
        node.amount = amount
        node.updated_at = now
        changed += 1
        groups: dict[str | None, list[Target]] = defaultdict(list)
        for child in children.get(node.id, []):
            groups[child.split].append(child)
        for kids in groups.values():
            kids.sort(key=lambda t: t.id)
            for kid, part in zip(kids, allocate(amount, [k.amount for k in kids])):
                stack.append((kid, part))
    return changed - 1


async def set_target(session: AsyncSession, *, actor: Actor, period: Period, amount: int, team_name: str | None = None) -> SetResult:
    """Set a team's total target for a period (managers for their team, admins for any); splits under it keep their proportions."""
    if amount <= 0 or amount > AMOUNT_MAX:
        raise ServiceError("target.error.bad_amount", value=str(amount))
    team = await target_team(session, actor=actor, team_name=team_name, write=True)
    now = utcnow()
    # Many sets of a new period at once: the database lets one insert win and the others find
    # its row below, where they update it in turn (the last writer wins, everyone gets an answer).
    inserted = await upsert(session, Target, {
        "workspace_id": actor.workspace.id, "team_id": team.id, "period": period.label, "period_start": period.start,
        "period_end": period.end, "dimension": TOTAL, "key": "", "amount": amount, "created_at": now, "updated_at": now,
    }, keys=["workspace_id", "team_id", "period", "dimension", "key"], returning=[Target.id])
    created = inserted.scalar_one_or_none() is not None
    existing = await _parent(session, team, period, lock=True)
    if created:
        await webhooks.emit_target_set(session, target=existing, team_name=team.name, previous=None, at=now)
        return SetResult(team, existing, None)
    rows = await _team_targets(session, team)
    children: dict[int, list[Target]] = defaultdict(list)
    for t in rows:
        if t.parent_id is not None:
            children[t.parent_id].append(t)
    previous = existing.amount
    rescaled = _rescale(existing, amount, children, now)
    await session.flush()
    if amount != previous:
        await webhooks.emit_target_set(session, target=existing, team_name=team.name, previous=previous, at=now)
    return SetResult(team, existing, previous, rescaled)


# ---------------------------------------------------------------------------- split


@dataclass
class SplitPart:
    """One line of a split: the sub-period or key, and its amount."""

    key: str
    amount: int
    period: str


@dataclass
class SplitResult:
    """The parent target and the parts that replaced any earlier split of the same kind."""

    team: SalesTeam
    parent: Target
    by: str
    parts: list[SplitPart]


async def _parent(session: AsyncSession, team: SalesTeam, period: Period, *, lock: bool = False) -> Target:
    """The total target of a period, which a split divides; `lock` holds it until the transaction ends.

    Locking is a no-op UPDATE of the row, then SELECT … FOR UPDATE: on PostgreSQL the row is
    locked, on SQLite (which has no FOR UPDATE) the UPDATE takes the database's write lock. Either way a concurrent set or split of
    the same period waits, then reads the rows this one committed.
    """
    where = (
        Target.workspace_id == team.workspace_id, Target.team_id == team.id, Target.period == period.label,
        Target.dimension == TOTAL, Target.key == "",
    )
    q = select(Target).where(*where)
    if lock:
        await session.execute(update(Target).where(*where).values(updated_at=Target.updated_at).execution_options(synchronize_session=False))
        q = q.with_for_update().execution_options(populate_existing=True)
    parent = (await session.execute(q)).scalar_one_or_none()
    if parent is None:
        raise NotFound("target.error.no_target", period=period.label)
    return parent


def _match_sub(key: str, subs: list[Period]) -> Period | None:
    """The sub-period a time share names (`Q1`, `2027-Q1`, `03`, `3`, `W05`…)."""
    k = key.strip().upper()
    for p in subs:
        variants = {p.label.upper(), p.short.upper()}
        if p.kind == MONTH:
            variants |= {str(p.index), f"M{p.index}", f"M{p.index:02d}"}
        if p.kind == WEEK:
            variants |= {f"W{p.index}", f"{p.year}-W{p.index}"}
        if k in variants:
            return p
    return None


async def known_keys(session: AsyncSession, *, team: SalesTeam, by: str) -> list[tuple[str, str]]:
    """Keys a dimension split can use, as (key, display name): products from deals, regions and segments from customers and members, reps from the roster."""
    ws = team.workspace_id
    if by == "product":
        q = select(Deal.product_line).where(Deal.workspace_id == ws, Deal.team_id == team.id, Deal.product_line != "").distinct()
        keys = sorted(set((await session.execute(q)).scalars()))
        return [(k, k) for k in keys]
    if by == "region":
        members = select(Member.region).where(Member.workspace_id == ws, Member.team_id == team.id, Member.region.is_not(None))
        customers = (
            select(Customer.region).join(Deal, Deal.customer_id == Customer.id)
            .where(Customer.workspace_id == ws, Deal.team_id == team.id, Customer.region.is_not(None))
        )
        keys = sorted({r for r in (await session.execute(members.union(customers))).scalars() if r})
        return [(k, k) for k in keys]
    if by == "segment":
        return [(s.value, s.value) for s in Segment]
    if by == "rep":
        q = (
            select(Member.slack_user_id, Member.name)
            .where(Member.workspace_id == ws, Member.team_id == team.id, Member.role.is_not(None))
            .order_by(Member.name, Member.slack_user_id)
        )
        return [(u, n or u) for u, n in (await session.execute(q)).all()]
    return []


@dataclass
class SplitForm:
    """What the split modal needs: the parent target and the keys to ask a share for."""

    team: SalesTeam
    parent: Target
    keys: list[tuple[str, str]]


async def split_form(session: AsyncSession, *, actor: Actor, period: Period, by: str, team_name: str | None = None) -> SplitForm:
    """The keys a dimension split of a period can take (managers and admins); with none known, a hint with an example."""
    if by not in DIMENSIONS:
        raise ServiceError("target.error.bad_split_kind", value=by)
    team = await target_team(session, actor=actor, team_name=team_name, write=True)
    parent = await _parent(session, team, period)
    keys = await known_keys(session, team=team, by=by)
    if not keys:
        raise ServiceError("target.error.need_shares_example", by=by)
    return SplitForm(team, parent, keys)


async def _dimension_keys(session: AsyncSession, team: SalesTeam, by: str, shares: list[tuple[str, Decimal]]) -> list[str]:
    """The stored keys of a dimension split's shares, checked: segments by value, reps on the team's roster."""
    keys: list[str] = []
    if by == "segment":
        for key, _ in shares:
            k = key.lower()
            if k not in {s.value for s in Segment}:
                raise ServiceError("target.error.bad_segment", value=key)
            keys.append(k)
    elif by == "rep":
        roster = {u for u, _ in await known_keys(session, team=team, by="rep")}
        for key, _ in shares:
            m = MENTION.fullmatch(key)
            if not m:
                raise ServiceError("target.error.rep_mention", value=key)
            if m.group(1) not in roster:
                raise ServiceError("target.error.rep_not_on_team", user=m.group(1))
            keys.append(m.group(1))
    else:
        for key, _ in shares:
            if len(key) > KEY_MAX:
                raise ServiceError("target.error.key_too_long", max=KEY_MAX)
            keys.append(key)
    return keys


async def split_target(
    session: AsyncSession,
    *,
    actor: Actor,
    period: Period,
    by: str,
    shares: list[tuple[str, Decimal]] | None,
    share_kind: str | None = None,
    team_name: str | None = None,
) -> SplitResult:
    """Split a period's target by time or by a dimension; a new split of the same kind replaces the earlier one."""
    if by not in SPLITS:
        raise ServiceError("target.error.bad_split_kind", value=by)
    team = await target_team(session, actor=actor, team_name=team_name, write=True)
    # Two splits of this period at once: the second waits here, then replaces the first one's lines.
    parent = await _parent(session, team, period, lock=True)
    now = utcnow()
    rows: list[Target] = []

    if by in TIME_SPLITS:
        if by not in FINER[period.kind]:
            raise ServiceError("target.error.time_split_kind", period=period.label, by=by)
        subs = time_split_weights(period, by)
        if shares is None:
            chosen, weights = [p for p, _ in subs], [w for _, w in subs]
            check = None
        else:
            chosen = []
            for key, _ in shares:
                p = _match_sub(key, [s for s, _ in subs])
                if p is None:
                    raise ServiceError("target.error.unknown_period_key", value=key, period=period.label)
                chosen.append(p)
            weights = [v for _, v in shares]
            check = share_kind
        if len(set(chosen)) != len(chosen):
            raise ServiceError("target.error.duplicate_key")
        if check:
            check_shares_total(parent.amount, weights, check)
        for p, amount in zip(chosen, allocate(parent.amount, weights)):
            inside = period.start <= p.start and p.end <= period.end
            rows.append(Target(
                workspace_id=team.workspace_id, team_id=team.id, period=p.label,
                period_start=max(p.start, period.start), period_end=min(p.end, period.end),
                # A week sticking out of the parent holds only its days inside; the key tells the parts apart.
                dimension=TOTAL, key="" if inside else period.label,
                amount=amount, parent_id=parent.id, split=by, created_at=now, updated_at=now,
            ))
    else:
        if not shares:
            keys = [k for k, _ in await known_keys(session, team=team, by=by)]
            if keys:
                shown = " ".join(f"<@{k}>=…" if by == "rep" else f"{k}=…" for k in keys[:20])
                raise ServiceError("target.error.need_shares", by=by, keys=shown)
            raise ServiceError("target.error.need_shares_example", by=by)
        keys = await _dimension_keys(session, team, by, shares)
        if len(set(keys)) != len(keys):
            raise ServiceError("target.error.duplicate_key")
        weights = [v for _, v in shares]
        check_shares_total(parent.amount, weights, share_kind or "percent")
        for key, amount in zip(keys, allocate(parent.amount, weights)):
            rows.append(Target(
                workspace_id=team.workspace_id, team_id=team.id, period=period.label, period_start=period.start,
                period_end=period.end, dimension=by, key=key, amount=amount, parent_id=parent.id, split=by,
                created_at=now, updated_at=now,
            ))

    scope = and_(Target.workspace_id == team.workspace_id, Target.team_id == team.id)
    # The earlier split of this kind goes, and so does any line the new parts take over
    # (a month split by year and again by quarter); the database cascades to their own splits.
    await session.execute(delete(Target).where(scope, Target.parent_id == parent.id, Target.split == by).execution_options(synchronize_session=False))
    await session.execute(
        delete(Target)
        .where(scope, tuple_(Target.period, Target.dimension, Target.key).in_([(r.period, r.dimension, r.key) for r in rows]))
        .execution_options(synchronize_session=False)
    )
    session.add_all(rows)
    await session.flush()
    return SplitResult(team, parent, by, [SplitPart(r.key if by in DIMENSIONS else r.period, r.amount, r.period) for r in rows])


# ---------------------------------------------------------------------------- attainment


@dataclass
class TargetLine:
    """A target line with what was won against it and the share of its period elapsed."""

    key: str  # a period label (time lines) or a dimension key
    target: int
    won: int
    elapsed: Fraction
    start: date
    end: date

    @property
    def attainment(self) -> Fraction | None:
        """Won / target (None when the target is 0)."""
        return Fraction(self.won, self.target) if self.target else None

    @property
    def pace(self) -> str:
        """ahead, on_track or behind: attainment against time elapsed, within ±5 points."""
        att = self.attainment if self.attainment is not None else Fraction(1)
        gap = att - self.elapsed
        if gap > Fraction(5, 100):
            return "ahead"
        if gap < Fraction(-5, 100):
            return "behind"
        return "on_track"


@dataclass
class TargetView:
    """What `/target` shows for one team and period."""

    team: SalesTeam
    period: Period
    by: str | None
    currency: str
    today: date
    total: TargetLine | None
    lines: list[TargetLine] = field(default_factory=list)
    other_won: int = 0  # won in the period under keys the split does not name
    splits: list[str] = field(default_factory=list)  # dimension splits that exist for the period


async def default_period(session: AsyncSession, *, team: SalesTeam, today: date) -> Period:
    """The current year when it has a target; else the most specific current period with one; else the year."""
    current = [period_containing(k, today) for k in KINDS]
    q = select(Target.period).where(
        Target.workspace_id == team.workspace_id, Target.team_id == team.id, Target.dimension == TOTAL,
        Target.period.in_([p.label for p in current]),
    )
    have = set((await session.execute(q)).scalars())
    if current[0].label in have:
        return current[0]
    for p in reversed(current):
        if p.label in have:
            return p
    return current[0]


def _deals_won(team: SalesTeam, start: datetime, end: datetime):
    """The filter for a team's deals won between two instants."""
    return (
        Deal.workspace_id == team.workspace_id, Deal.team_id == team.id, Deal.status == DealStatus.WON,
        Deal.won_at >= start, Deal.won_at < end,
    )


async def attainment(
    session: AsyncSession, *, actor: Actor, period: Period | None, by: str | None, now: datetime, team_name: str | None = None,
) -> TargetView:
    """Each target line of the caller's team with won amount, attainment and pace (one query for targets, one for won amounts)."""
    team = await target_team(session, actor=actor, team_name=team_name, write=False)
    tz = safe_zone(team.timezone)
    today = team_today(team, now)
    if period is None:
        period = await default_period(session, team=team, today=today)
    q = select(Target).where(Target.workspace_id == team.workspace_id, Target.team_id == team.id, Target.period_start < period.end, Target.period_end > period.start)
    rows = list((await session.execute(q)).scalars())
    totals = [t for t in rows if t.period == period.label and t.dimension == TOTAL]
    total_ids = {t.id for t in totals}
    view = TargetView(team=team, period=period, by=by, currency=actor.workspace.currency or "CNY", today=today, total=None)
    view.splits = sorted({t.dimension for t in rows if t.period == period.label and t.dimension in DIMENSIONS}, key=DIMENSIONS.index)
    start, end = period.utc_range(tz)

    if by is None:
        children = sorted((t for t in rows if t.parent_id in total_ids and t.dimension == TOTAL), key=lambda t: (KINDS.index(t.split or YEAR), t.period_start, t.key))
        ranges = [(period.start, period.end)] + [(c.period_start, c.period_end) for c in children]
        sums = []
        for s, e in ranges:
            s_utc, e_utc = _utc(s, tz), _utc(e, tz)
            sums.append(func.coalesce(func.sum(case((and_(Deal.won_at >= s_utc, Deal.won_at < e_utc), Deal.amount), else_=0)), 0))
        won = [int(v) for v in (await session.execute(select(*sums).where(*_deals_won(team, start, end)))).one()]
        if totals:
            view.total = TargetLine(period.label, sum(t.amount for t in totals), won[0], period.elapsed_share(today), period.start, period.end)
        else:
            view.total = TargetLine(period.label, 0, won[0], period.elapsed_share(today), period.start, period.end)
        for c, w in zip(children, won[1:]):
            view.lines.append(TargetLine(c.period, c.amount, w, _elapsed(c.period_start, c.period_end, today), c.period_start, c.period_end))
        return view

    column = {
        "product": Deal.product_line,
        "region": Customer.region,
        "segment": Customer.segment,
        "rep": Member.slack_user_id,
    }[by]
    q = select(column, func.coalesce(func.sum(Deal.amount), 0)).where(*_deals_won(team, start, end))
    if by in ("region", "segment"):
        q = q.join(Customer, Customer.id == Deal.customer_id)
    elif by == "rep":
        q = q.join(Member, Member.id == Deal.owner_id)
    won_by_key: dict[str, int] = {}
    for key, amount in (await session.execute(q.group_by(column))).all():
        k = key.value if isinstance(key, Segment) else (key or "")
        won_by_key[k] = won_by_key.get(k, 0) + int(amount)
    lines = sorted((t for t in rows if t.period == period.label and t.dimension == by), key=lambda t: (-t.amount, t.key))
    elapsed = period.elapsed_share(today)
    view.total = TargetLine(period.label, sum(t.amount for t in totals), sum(won_by_key.values()), elapsed, period.start, period.end)
    for t in lines:
        view.lines.append(TargetLine(t.key, t.amount, won_by_key.get(t.key, 0), elapsed, period.start, period.end))
    named = {t.key for t in lines}
    view.other_won = sum(v for k, v in won_by_key.items() if k not in named)
    return view


def _utc(d: date, tz) -> datetime:
    """Local midnight of a date as a UTC instant."""
    return datetime.combine(d, time(0), tz).astimezone(timezone.utc)


def _elapsed(start: date, end: date, today: date) -> Fraction:
    """The share of [start, end) begun by the local date `today`."""
    if today < start:
        return Fraction(0)
    if today >= end:
        return Fraction(1)
    return Fraction((today - start).days + 1, (end - start).days)
