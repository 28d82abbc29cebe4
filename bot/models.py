"""Database tables. Every row belongs to a workspace (Slack team_id) and every query filters by it."""

from __future__ import annotations

import enum
from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back as an aware datetime.

    SQLite keeps no offset and PostgreSQL returns one; without this the two databases
    would hand the services naive and aware values that cannot be compared.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def ts_field(**kw):
    """A UTC timestamp column."""
    nullable = kw.pop("nullable", False)
    return Field(sa_column=sa.Column(UTCDateTime(), nullable=nullable, **kw))


class Role(str, enum.Enum):
    """A member's job on a sales team; admin is not a role but a Slack fact or setting."""

    MANAGER = "manager"
    REP = "rep"
    SERVICE = "service"


class Segment(str, enum.Enum):
    """Customer segment: key accounts or small and medium businesses."""

    KEY = "key"
    SMB = "smb"


class Level(str, enum.Enum):
    """A rep's seniority, matched against task difficulty."""

    JUNIOR = "junior"
    SENIOR = "senior"
    EXPERT = "expert"


class Stage(str, enum.Enum):
    """Pipeline stages in order."""

    LEAD = "lead"
    FIRST_CONTACT = "first_contact"
    NEEDS_ANALYSIS = "needs_analysis"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    AFTER_SALES = "after_sales"


class Priority(int, enum.Enum):
    """Task priority; the smaller number sorts first."""

    HIGH = 1
    MEDIUM = 2
    LOW = 3


class TaskStatus(str, enum.Enum):
    """Where a task stands."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"  # dropped by a manager: in no open list and in neither side of the completion rate


# Statuses of work still to do: every open list, the morning DM and overdue counts use these.
OPEN_TASK_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


class TaskEventKind(str, enum.Enum):
    """What happened to a task."""

    CREATED = "created"
    STARTED = "started"
    DONE = "done"
    NOTE = "note"
    EDITED = "edited"  # one field changed; the note holds "field: old -> new"
    CANCELLED = "cancelled"
    REOPENED = "reopened"


def change_seq_field():
    """The database-assigned change sequence of a row (a trigger sets it on every insert and update).

    The API's incremental pull orders by (change_seq, id): on SQLite writers are serialized and the
    number comes from a counter bumped inside the write; on PostgreSQL it is the writing
    transaction's id, and readers only take rows of transactions older than every one still running,
    so a writer committing late can never slip in behind a reader's cursor.
    """
    return Field(default=None, sa_column=sa.Column(sa.BigInteger, nullable=True))


def _enum_col(enum_cls, **kw):
    # Enums are stored as their plain values (VARCHAR), so adding a value needs no DDL.
    return sa.Column(sa.Enum(enum_cls, native_enum=False, values_callable=lambda e: [m.value for m in e], length=32), **kw)


class Workspace(SQLModel, table=True):
    """A Slack workspace that installed the bot."""

    id: int | None = Field(default=None, primary_key=True)
    slack_team_id: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    currency: str = Field(default="CNY", max_length=3)
    created_at: datetime = ts_field(default=utcnow)
    # Set when the app is uninstalled (OAuth mode): nothing is posted there; the data stays until deleted.
    uninstalled_at: datetime | None = ts_field(nullable=True, default=None)


class SlackInstallation(SQLModel, table=True):
    """A workspace's OAuth installation: its own bot token, and who installed the app."""

    __tablename__ = "slack_installation"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", unique=True, index=True)
    team_id: str = Field(max_length=32, unique=True)  # Slack's team id, the key Bolt looks installations up by
    enterprise_id: str | None = Field(default=None, max_length=32)
    app_id: str | None = Field(default=None, max_length=32)
    bot_token: str = Field(max_length=255)
    bot_id: str | None = Field(default=None, max_length=32)
    bot_user_id: str | None = Field(default=None, max_length=32)
    bot_scopes: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    installer_user_id: str | None = Field(default=None, max_length=32)
    installed_at: datetime = ts_field(default=utcnow)


class OAuthState(SQLModel, table=True):
    """An OAuth state issued by the install page, consumed once by the redirect (stored as its digest)."""

    __tablename__ = "oauth_state"

    digest: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = ts_field(index=True)


class SalesTeam(SQLModel, table=True):
    """A sales team inside a workspace."""

    __tablename__ = "sales_team"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    name: str = Field(max_length=80)
    timezone: str = Field(default="UTC", max_length=64)
    # KPI targets in basis points (1000 = 10%) and the age at which a deal counts as stale.
    growth_target_bp: int = Field(default=1000, sa_column=sa.Column(sa.Integer, nullable=False, server_default="1000"))
    satisfaction_target_bp: int = Field(default=9000, sa_column=sa.Column(sa.Integer, nullable=False, server_default="9000"))
    stale_days: int = Field(default=14, sa_column=sa.Column(sa.Integer, nullable=False, server_default="14"))
    # Schedules, in the team's time zone: the weekly digest and each member's morning DM.
    digest_channel_id: str | None = Field(default=None, max_length=32)
    digest_weekday: int = Field(default=0, sa_column=sa.Column(sa.SmallInteger, nullable=False, server_default="0"))  # Monday
    digest_time: str = Field(default="09:00", max_length=5)
    daily_time: str = Field(default="08:30", max_length=5)
    working_days: str = Field(default="0,1,2,3,4", max_length=13)  # Monday..Friday
    survey_delay_days: int = Field(default=3, sa_column=sa.Column(sa.Integer, nullable=False, server_default="3"))
    survey_reminder_days: int = Field(default=3, sa_column=sa.Column(sa.Integer, nullable=False, server_default="3"))  # 0: none
    # Deal alerts: won, lost or moved back, from this amount (minor units; None: no alerts), to the channel or the managers.
    deal_alert_channel_id: str | None = Field(default=None, max_length=32)
    deal_alert_min_amount: int | None = Field(default=10_000_000, sa_column=sa.Column(sa.BigInteger, nullable=True, server_default="10000000"))
    daily_skip_empty: bool = Field(default=True)
    # The standup: reps' check-ins before the weekly digest (standup_time, each rep's zone), and a
    # daily check-in reported in the channel at standup_daily_time (team zone) when wanted.
    standup_enabled: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    standup_time: str = Field(default="16:00", max_length=5)
    standup_daily: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    standup_daily_time: str = Field(default="10:00", max_length=5)
    standup_questions: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))  # JSON list; null: the defaults
    # Task reminders: `reminder_days` working days before the due date at `reminder_time` (rep's zone;
    # 0 = the morning of the due date); escalation to the managers when `escalate_days` working days overdue.
    reminder_days: int = Field(default=1, sa_column=sa.Column(sa.SmallInteger, nullable=False, server_default="1"))
    reminder_time: str = Field(default="09:00", sa_column=sa.Column(sa.String(5), nullable=False, server_default="09:00"))
    escalate_days: int = Field(default=2, sa_column=sa.Column(sa.SmallInteger, nullable=False, server_default="2"))
    # Sent, cancelled and skipped posts older than this many days are pruned by housekeeping.
    retention_days: int = Field(default=30, sa_column=sa.Column(sa.Integer, nullable=False, server_default="30"))
    created_at: datetime = ts_field(default=utcnow)


class Member(SQLModel, table=True):
    """A Slack user the bot has met; on the roster when `role` is set."""

    __table_args__ = (sa.UniqueConstraint("workspace_id", "slack_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    slack_user_id: str = Field(max_length=32)
    name: str = Field(default="", max_length=200)
    role: Role | None = Field(default=None, sa_column=_enum_col(Role, nullable=True))
    team_id: int | None = Field(default=None, foreign_key="sales_team.id", index=True)
    region: str | None = Field(default=None, max_length=80)
    segment: Segment | None = Field(default=None, sa_column=_enum_col(Segment, nullable=True))
    level: Level = Field(default=Level.JUNIOR, sa_column=_enum_col(Level, nullable=False, server_default="junior"))
    tz: str = Field(default="UTC", max_length=64)
    locale: str = Field(default="en-US", max_length=16)
    is_slack_admin: bool = Field(default=False)
    profile_checked_at: datetime | None = ts_field(nullable=True, default=None)
    dm_channel_id: str | None = Field(default=None, max_length=32)
    # Change notices about tasks (done, notes in the card's thread); the member turns them off on the App Home.
    task_notices: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true()))
    created_at: datetime = ts_field(default=utcnow)
    updated_at: datetime = ts_field(default=utcnow, onupdate=utcnow)
    change_seq: int | None = change_seq_field()


class Customer(SQLModel, table=True):
    """A customer account."""

    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "name"),
        sa.UniqueConstraint("workspace_id", "external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    name: str = Field(max_length=200)
    segment: Segment = Field(default=Segment.SMB, sa_column=_enum_col(Segment, nullable=False, server_default="smb"))
    region: str | None = Field(default=None, max_length=80)
    external_id: str | None = Field(default=None, max_length=100)
    # Where a satisfaction survey goes: a Slack Connect channel or an external user id.
    contact_channel_id: str | None = Field(default=None, max_length=32)
    contact_user_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = ts_field(default=utcnow)
    updated_at: datetime = ts_field(default=utcnow, onupdate=utcnow)
    change_seq: int | None = change_seq_field()


class Task(SQLModel, table=True):
    """A piece of sales work assigned to one or more reps."""

    __table_args__ = (
        sa.Index("ix_task_ws_status_due", "workspace_id", "status", "due_date"),
        # one occurrence per repeat rule and date, whichever clock creates it
        sa.UniqueConstraint("rule_id", "occurs_on", name="uq_task_rule_occurs_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    team_id: int | None = Field(default=None, foreign_key="sales_team.id", index=True)
    title: str = Field(max_length=200)
    details: str = Field(default="", max_length=3000)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    deal_id: int | None = Field(default=None, foreign_key="deal.id", index=True)
    stage: Stage | None = Field(default=None, sa_column=_enum_col(Stage, nullable=True))
    priority: Priority = Field(default=Priority.MEDIUM, sa_column=sa.Column(sa.SmallInteger, nullable=False, server_default="2"))
    difficulty: int = Field(default=1, ge=1, le=3)
    due_date: date | None = Field(default=None)
    status: TaskStatus = Field(default=TaskStatus.OPEN, sa_column=_enum_col(TaskStatus, nullable=False, server_default="open"))
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    external_id: str | None = Field(default=None, max_length=100)
    self_created: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    rule_id: int | None = Field(default=None, foreign_key="task_rule.id")  # the repeat rule that made it
    occurs_on: date | None = Field(default=None)  # that rule's date for this occurrence
    created_at: datetime = ts_field(default=utcnow)
    updated_at: datetime = ts_field(default=utcnow, onupdate=utcnow)
    completed_at: datetime | None = ts_field(nullable=True, default=None)
    change_seq: int | None = change_seq_field()


class RepeatKind(str, enum.Enum):
    """How often a repeat rule makes a task."""

    WORKDAYS = "workdays"  # every working day of the team
    WEEKLY = "weekly"  # on the given weekdays
    MONTHLY = "monthly"  # on a day of the month (the last day when the month is shorter)
    QUARTERLY = "quarterly"  # on a day of every third month, counted from the first date


class TaskRule(SQLModel, table=True):
    """A repeating task: the clock makes one task per date the rule names, from `start_on` until stopped."""

    __tablename__ = "task_rule"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="sales_team.id")  # its zone and working days
    kind: RepeatKind = Field(sa_column=_enum_col(RepeatKind, nullable=False))
    weekdays: str = Field(default="", max_length=13)  # WEEKLY: "0,3" (Monday = 0)
    month_day: int | None = Field(default=None)  # MONTHLY / QUARTERLY: 1..31
    start_on: date
    next_on: date | None = Field(default=None, index=True)  # the next date to make; None once stopped
    title: str = Field(max_length=200)
    details: str = Field(default="", max_length=3000)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    stage: Stage | None = Field(default=None, sa_column=_enum_col(Stage, nullable=True))
    priority: Priority = Field(default=Priority.MEDIUM, sa_column=sa.Column(sa.SmallInteger, nullable=False, server_default="2"))
    difficulty: int = Field(default=1)
    assignee_ids: str = Field(max_length=2000)  # member ids, "12,40"
    self_created: bool = Field(default=False)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = ts_field(default=utcnow)
    stopped_at: datetime | None = ts_field(nullable=True, default=None)


class TaskAssignee(SQLModel, table=True):
    """Who works a task; several rows make a shared task."""

    __tablename__ = "task_assignee"

    task_id: int = Field(foreign_key="task.id", primary_key=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", primary_key=True, index=True)


class TaskEvent(SQLModel, table=True):
    """One entry in a task's history: created, started, done or a note."""

    __tablename__ = "task_event"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    task_id: int = Field(foreign_key="task.id", index=True, ondelete="CASCADE")
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    kind: TaskEventKind = Field(sa_column=_enum_col(TaskEventKind, nullable=False))
    note: str = Field(default="", max_length=3000)
    created_at: datetime = ts_field(default=utcnow)


class TaskCard(SQLModel, table=True):
    """The DM card a member got for a task: where to redraw it and whose thread carries the task's notices."""

    __tablename__ = "task_card"

    task_id: int = Field(foreign_key="task.id", primary_key=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    channel: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    created_at: datetime = ts_field(default=utcnow)


class DealStatus(str, enum.Enum):
    """Whether a deal is still being worked, won or lost."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"


class LostReason(str, enum.Enum):
    """Why a deal was lost, as the Lost modal asks it."""

    PRICE = "price"
    COMPETITOR = "competitor"
    TIMING = "timing"
    NO_BUDGET = "no_budget"
    NO_DECISION = "no_decision"
    OTHER = "other"


class ActivityKind(str, enum.Enum):
    """A customer touch."""

    CALL = "call"
    VISIT = "visit"
    MEETING = "meeting"
    MESSAGE = "message"


class Deal(SQLModel, table=True):
    """A sales opportunity moving through the pipeline stages."""

    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "external_id"),
        sa.Index("ix_deal_ws_status_won", "workspace_id", "status", "won_at"),
        # covers /pipeline's open deals per stage, so the report reads no table rows
        sa.Index("ix_deal_ws_team_stage", "workspace_id", "team_id", "status", "stage", "stage_entered_at", "amount"),
        # /pipeline's stale deals (oldest first) and /kpi's first-win test per customer.
        sa.Index("ix_deal_ws_team_status_entered", "workspace_id", "team_id", "status", "stage_entered_at"),
        sa.Index("ix_deal_customer_status_won", "customer_id", "status", "won_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    team_id: int | None = Field(default=None, foreign_key="sales_team.id")
    customer_id: int = Field(foreign_key="customer.id", index=True)
    owner_id: int = Field(foreign_key="member.id", index=True)
    title: str = Field(default="", max_length=200)
    product_line: str = Field(default="", max_length=80)
    amount: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False))  # minor units
    stage: Stage = Field(default=Stage.LEAD, sa_column=_enum_col(Stage, nullable=False, server_default="lead"))
    status: DealStatus = Field(default=DealStatus.OPEN, sa_column=_enum_col(DealStatus, nullable=False, server_default="open"))
    expected_close: date | None = Field(default=None)
    stage_entered_at: datetime = ts_field(default=utcnow)
    won_at: datetime | None = ts_field(nullable=True, default=None)
    lost_at: datetime | None = ts_field(nullable=True, default=None)
    lost_reason: LostReason | None = Field(default=None, sa_column=_enum_col(LostReason, nullable=True))
    lost_note: str = Field(default="", sa_column=sa.Column(sa.String(500), nullable=False, server_default=""))
    external_id: str | None = Field(default=None, max_length=100)
    created_at: datetime = ts_field(default=utcnow)
    updated_at: datetime = ts_field(default=utcnow, onupdate=utcnow)
    change_seq: int | None = change_seq_field()


class DealStageChange(SQLModel, table=True):
    """A deal's move from one stage to another (or to won / lost), with its time."""

    __tablename__ = "deal_stage_change"
    __table_args__ = (
        # both cover /pipeline's scans of a period (entries, and stays that ended), deal by deal
        sa.Index("ix_stage_change_ws_at", "workspace_id", "team_id", "changed_at", "status", "to_stage", "deal_id", "advanced"),
        sa.Index("ix_stage_change_deal_at", "deal_id", "changed_at"),  # a deal's changes in time order
        sa.Index("ix_stage_change_ws_left", "workspace_id", "team_id", "left_at", "status", "to_stage", "changed_at", "deal_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    deal_id: int = Field(foreign_key="deal.id", index=True, ondelete="CASCADE")
    # The team that had the deal when it moved: a team's pipeline history stays its own.
    team_id: int | None = Field(default=None, foreign_key="sales_team.id")
    from_stage: Stage | None = Field(default=None, sa_column=_enum_col(Stage, nullable=True))
    to_stage: Stage = Field(sa_column=_enum_col(Stage, nullable=False))
    # The deal's status after the change: a move to won or lost keeps the last stage.
    status: DealStatus = Field(default=DealStatus.OPEN, sa_column=_enum_col(DealStatus, nullable=False, server_default="open"))
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    changed_at: datetime = ts_field(default=utcnow)
    # Filled when the deal's next change is recorded: when it left the stage this change
    # entered, and whether that next move went forward (a later stage or a win). The pipeline
    # report then sums plain columns instead of pairing each change with the next one.
    left_at: datetime | None = ts_field(nullable=True, default=None)
    advanced: bool | None = Field(default=None)
    # Why: a lost deal's category (LostReason) and words; a reopened deal's words.
    reason: LostReason | None = Field(default=None, sa_column=_enum_col(LostReason, nullable=True))
    note: str = Field(default="", sa_column=sa.Column(sa.String(500), nullable=False, server_default=""))


class Activity(SQLModel, table=True):
    """A customer touch logged by a rep: call, visit, meeting or message; effective or not."""

    __table_args__ = (sa.Index("ix_activity_ws_at", "workspace_id", "occurred_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    deal_id: int | None = Field(default=None, foreign_key="deal.id", index=True)
    kind: ActivityKind = Field(sa_column=_enum_col(ActivityKind, nullable=False))
    effective: bool = Field(default=True)
    note: str = Field(default="", max_length=3000)
    occurred_at: datetime = ts_field(default=utcnow)
    updated_at: datetime = ts_field(default=utcnow, onupdate=utcnow)
    change_seq: int | None = change_seq_field()


class Expense(SQLModel, table=True):
    """A sales expense (the sales cost KPI)."""

    __table_args__ = (sa.Index("ix_expense_ws_on", "workspace_id", "spent_on"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    deal_id: int | None = Field(default=None, foreign_key="deal.id")
    amount: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))  # minor units
    category: str = Field(max_length=80)
    spent_on: date
    created_at: datetime = ts_field(default=utcnow)
    updated_at: datetime = ts_field(default=utcnow, onupdate=utcnow)
    change_seq: int | None = change_seq_field()


class Target(SQLModel, table=True):
    """A sales target for a team, a period and one line of a split.

    A yearly target is (period "2027", dimension "total", key ""). A time split makes total
    targets of the sub-periods ("2027-Q1"…); a dimension split makes lines of the same period
    keyed by product, region, segment or rep. `parent_id` and `split` record where a line came
    from, so a new split of the same kind replaces the old one.
    """

    __table_args__ = (sa.UniqueConstraint("workspace_id", "team_id", "period", "dimension", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    team_id: int = Field(foreign_key="sales_team.id", index=True)
    period: str = Field(max_length=16)
    period_start: date
    period_end: date  # exclusive
    dimension: str = Field(default="total", max_length=16)
    key: str = Field(default="", max_length=80)
    amount: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))  # minor units
    parent_id: int | None = Field(default=None, foreign_key="target.id", ondelete="CASCADE")
    split: str | None = Field(default=None, max_length=16)
    external_id: str | None = Field(default=None, max_length=100)
    created_at: datetime = ts_field(default=utcnow)
    updated_at: datetime = ts_field(default=utcnow, onupdate=utcnow)
    change_seq: int | None = change_seq_field()


class PlaybookItem(SQLModel, table=True):
    """A team's checklist task for a stage (teams without their own use the defaults)."""

    __tablename__ = "playbook_item"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    team_id: int = Field(foreign_key="sales_team.id", index=True)
    stage: Stage = Field(sa_column=_enum_col(Stage, nullable=False))
    position: int = Field(default=0)
    title: str = Field(max_length=200)


class PlaybookRun(SQLModel, table=True):
    """That a deal's checklist for a stage was created: the key that makes it happen once."""

    __tablename__ = "playbook_run"

    deal_id: int = Field(foreign_key="deal.id", primary_key=True, ondelete="CASCADE")
    stage: Stage = Field(sa_column=_enum_col(Stage, nullable=False, primary_key=True))
    created_at: datetime = ts_field(default=utcnow)


class SurveyStatus(str, enum.Enum):
    """Where a satisfaction survey stands."""

    SCHEDULED = "scheduled"
    SENT = "sent"
    ANSWERED = "answered"
    EXPIRED = "expired"
    MANUAL = "manual"  # the customer has no Slack contact: the rep records the answer


class Survey(SQLModel, table=True):
    """A customer satisfaction survey after a won deal or a finished after-sales task."""

    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "source", "source_id"),
        sa.Index("ix_survey_ws_answered", "workspace_id", "answered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    customer_id: int = Field(foreign_key="customer.id", index=True)
    rep_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    source: str = Field(max_length=16)  # "deal" or "task"
    source_id: int
    status: SurveyStatus = Field(default=SurveyStatus.SCHEDULED, sa_column=_enum_col(SurveyStatus, nullable=False, server_default="scheduled"))
    send_at: datetime = ts_field(default=utcnow)
    expires_at: datetime = ts_field(default=utcnow)
    score: int | None = Field(default=None)  # 1..5; 4 and 5 count as satisfied
    comment: str = Field(default="", max_length=3000)
    answered_at: datetime | None = ts_field(nullable=True, default=None)
    created_at: datetime = ts_field(default=utcnow)
    updated_at: datetime = ts_field(default=utcnow, onupdate=utcnow)
    change_seq: int | None = change_seq_field()


class SuggestionStatus(str, enum.Enum):
    """A manager's decision on an employee suggestion."""

    NEW = "new"
    PLANNED = "planned"
    DONE = "done"
    DECLINED = "declined"


class Suggestion(SQLModel, table=True):
    """An employee suggestion for the sales meeting; an anonymous one stores no author at all."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="sales_team.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="member.id")
    text: str = Field(max_length=3000)
    status: SuggestionStatus = Field(default=SuggestionStatus.NEW, sa_column=_enum_col(SuggestionStatus, nullable=False, server_default="new"))
    created_at: datetime = ts_field(default=utcnow)
    decided_at: datetime | None = ts_field(nullable=True, default=None)


class Leave(SQLModel, table=True):
    """A member away from FROM to TO (inclusive): no morning DM on those days."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    start: date
    end: date
    created_at: datetime = ts_field(default=utcnow)


class CheckIn(SQLModel, table=True):
    """A rep's answers to a team's check-in for one period (the digest day's ISO week, or a date for a daily one)."""

    __tablename__ = "checkin"
    __table_args__ = (sa.UniqueConstraint("team_id", "member_id", "period"), sa.Index("ix_checkin_team_period", "team_id", "period"))

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    team_id: int = Field(foreign_key="sales_team.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    kind: str = Field(default="weekly", max_length=8)  # weekly or daily
    period: str = Field(max_length=16)
    answers: str = Field(default="[]", sa_column=sa.Column(sa.Text, nullable=False))  # JSON list, one text per question
    blocker: str = Field(default="", max_length=3000)
    confidence: int | None = Field(default=None)  # 1..5
    answered_at: datetime = ts_field(default=utcnow)
    updated_at: datetime = ts_field(default=utcnow)


class MeetingAction(SQLModel, table=True):
    """A decision taken from the digest (a task created, a target adjusted, an item discussed); `key` makes it once."""

    __tablename__ = "meeting_action"
    __table_args__ = (sa.UniqueConstraint("key"), sa.Index("ix_meeting_action_team_period", "team_id", "period"))

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    team_id: int = Field(foreign_key="sales_team.id")
    period: str = Field(max_length=16)  # the meeting's ISO week (the digest day's)
    key: str = Field(max_length=255)
    kind: str = Field(max_length=16)  # task, target or discussed
    source: str = Field(max_length=64)  # blocker:<check-in id> or agenda:<item>
    what: str = Field(default="", max_length=300)
    member_id: int | None = Field(default=None, foreign_key="member.id")  # who it is about or who does it
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    task_id: int | None = Field(default=None, foreign_key="task.id")
    due_date: date | None = Field(default=None)
    created_at: datetime = ts_field(default=utcnow)


class OutboxStatus(str, enum.Enum):
    """Where a scheduled post stands in delivery."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    UNKNOWN = "unknown"  # the request may have reached Slack: held for review, never resent blindly
    DEAD = "dead"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"  # the workspace uninstalled the app before it was sent


class OutboxMessage(SQLModel, table=True):
    """A post to deliver exactly once; `key` (job, recipient, period) is unique."""

    __tablename__ = "outbox"
    __table_args__ = (
        sa.UniqueConstraint("key"),
        sa.Index("ix_outbox_status_due", "status", "not_before"),
        # Housekeeping's range: settled rows by age.
        sa.Index("ix_outbox_status_created", "status", "created_at"),
        # The claim's ordered range: only pending rows, already in claiming order (no sort, no scan of settled rows).
        sa.Index("ix_outbox_pending_due", "not_before", "id", postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    key: str = Field(max_length=255)
    job: str = Field(max_length=32)
    channel: str = Field(max_length=32)  # a channel id, or a user id for a DM
    payload: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # JSON: text, blocks, files
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_column=_enum_col(OutboxStatus, nullable=False, server_default="pending"))
    attempts: int = Field(default=0)
    not_before: datetime = ts_field(default=utcnow)
    expires_at: datetime | None = ts_field(nullable=True, default=None)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = ts_field(nullable=True, default=None)
    # Set just before the request leaves: a claimed row without it was never sent and may be
    # claimed again after a crash; with it the outcome is unknown and the row is held for review.
    sending_started_at: datetime | None = ts_field(nullable=True, default=None)
    last_error: str | None = Field(default=None, max_length=500)
    message_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = ts_field(default=utcnow)
    sent_at: datetime | None = ts_field(nullable=True, default=None)


class SyncRunKind(str, enum.Enum):
    """What moved data in or out of the workspace."""

    API_BATCH = "api_batch"
    WEBHOOK = "webhook"
    PULL = "pull"


class SyncRunStatus(str, enum.Enum):
    """How a sync run ended."""

    OK = "ok"
    UNCHANGED = "unchanged"  # a pulled file identical to the last one imported: skipped
    FAILED = "failed"


class SyncRun(SQLModel, table=True):
    """One API batch, webhook delivery or scheduled pull, with its counts; `ref` says what a retry re-runs."""

    __tablename__ = "sync_run"
    __table_args__ = (sa.Index("ix_sync_run_ws_started", "workspace_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    kind: SyncRunKind = Field(sa_column=_enum_col(SyncRunKind, nullable=False))
    source: str = Field(default="", max_length=500)  # a URL, a token name, an endpoint
    ref: str | None = Field(default=None, max_length=255)  # "source:ID" for a pull, the outbox key of a delivery
    status: SyncRunStatus = Field(sa_column=_enum_col(SyncRunStatus, nullable=False))
    created: int = Field(default=0)
    updated: int = Field(default=0)
    unchanged: int = Field(default=0)
    failed: int = Field(default=0)
    message: str = Field(default="", max_length=500)
    started_at: datetime = ts_field(default=utcnow)
    finished_at: datetime | None = ts_field(nullable=True, default=None)


class SyncError(SQLModel, table=True):
    """One rejected row or field of a sync run (line 0 and no field: the run as a whole)."""

    __tablename__ = "sync_error"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="sync_run.id", index=True, ondelete="CASCADE")
    line: int = Field(default=0)
    field: str | None = Field(default=None, max_length=100)
    message: str = Field(max_length=500)


class WebhookEndpoint(SQLModel, table=True):
    """A URL that receives the workspace's change events, signed with its own secret."""

    __tablename__ = "webhook_endpoint"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "url"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    url: str = Field(max_length=2000)
    events: str = Field(default="*", max_length=500)  # comma-separated event types, or "*"
    # Kept in clear: signing needs it. Shown once when created, never logged.
    secret: str = Field(max_length=100)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    # Set when a delivery went dead, cleared by the next success: the admins hear once per outage.
    failing_since: datetime | None = ts_field(nullable=True, default=None)
    created_at: datetime = ts_field(default=utcnow)


class SyncSource(SQLModel, table=True):
    """A file of one data-standard kind (CSV or JSON) that the clock pulls and imports on a schedule."""

    __tablename__ = "sync_source"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    kind: str = Field(max_length=16)  # members, customers, deals, targets, tasks
    url: str = Field(max_length=2000)
    auth_header: str | None = Field(default=None, max_length=1000)  # "Name: value"; never shown back or logged
    every_minutes: int = Field(default=60)
    etag: str | None = Field(default=None, max_length=200)
    content_hash: str | None = Field(default=None, max_length=64)
    next_due_at: datetime | None = ts_field(nullable=True, default=None)
    failing_since: datetime | None = ts_field(nullable=True, default=None)
    created_at: datetime = ts_field(default=utcnow)


class OutboxBlob(SQLModel, table=True):
    """A file of a post (a chart image), stored once per workspace by content digest; the payload names the digest."""

    __tablename__ = "outbox_blob"

    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True)
    digest: str = Field(primary_key=True, max_length=64)  # sha256 hex of content
    content: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    # Every post naming it was created at or before this instant: housekeeping's test for "no longer needed".
    last_used_at: datetime = ts_field(default=utcnow, index=True)


class SendBudget(SQLModel, table=True):
    """One send budget (a workspace, or a channel in it) shared by every process on PostgreSQL.

    The current window and how many requests it has handed out; taking a slot is one atomic
    INSERT … ON CONFLICT … RETURNING on this row (see bot/services/sendbudget.py).
    """

    __tablename__ = "send_budget"

    scope: str = Field(primary_key=True, max_length=160)
    window_no: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    used: int = Field(default=0)
    updated_at: datetime = ts_field(default=utcnow, index=True)


class ProcessedEvent(SQLModel, table=True):
    """Events API deliveries already handled, so Slack's retries change nothing."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = ts_field(default=utcnow, index=True)


class RequestSignature(SQLModel, table=True):
    """Signatures of accepted Slack requests, kept while Slack's 5-minute window would accept a replay."""

    __tablename__ = "request_signature"

    signature: str = Field(primary_key=True, max_length=80)
    expires_at: datetime = ts_field(index=True)


class SavedSubmission(SQLModel, table=True):
    """Modal submissions already saved, by view id and hash, so a resubmitted view saves once."""

    __tablename__ = "saved_submission"

    view_id: str = Field(primary_key=True, max_length=32)
    view_hash: str = Field(primary_key=True, max_length=64)
    saved_at: datetime = ts_field(default=utcnow, index=True)


class ApiScope(str, enum.Enum):
    """What an API token may do: read only, or read and write."""

    READ = "read"
    WRITE = "write"


class ApiToken(SQLModel, table=True):
    """An API token of a workspace: only the SHA-256 of the secret is kept; revoking deletes the row."""

    __tablename__ = "api_token"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "name"), sa.UniqueConstraint("token_hash"))

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    name: str = Field(max_length=64)
    scope: ApiScope = Field(sa_column=_enum_col(ApiScope, nullable=False))
    token_hash: str = Field(max_length=64)
    hint: str = Field(default="", max_length=16)  # the first characters, so admins can tell tokens apart
    created_by: str | None = Field(default=None, max_length=32)
    created_at: datetime = ts_field(default=utcnow)
    last_used_at: datetime | None = ts_field(nullable=True, default=None)


class ApiIdempotency(SQLModel, table=True):
    """A write request's Idempotency-Key with the request's hash and the response it got, kept a day."""

    __tablename__ = "api_idempotency"

    token_id: int = Field(foreign_key="api_token.id", primary_key=True, ondelete="CASCADE")
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)
    status: int = Field(default=0)
    body: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    created_at: datetime = ts_field(default=utcnow)
    expires_at: datetime = ts_field(default=utcnow, index=True)


class ApiRateWindow(SQLModel, table=True):
    """Requests a token made in one window of time: one row per token and window, shared by every web process."""

    __tablename__ = "api_rate_window"

    token_id: int = Field(foreign_key="api_token.id", primary_key=True, ondelete="CASCADE")
    window: int = Field(primary_key=True)  # window start, in seconds since the epoch
    count: int = Field(default=0)
