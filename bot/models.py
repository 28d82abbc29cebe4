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


class TaskEventKind(str, enum.Enum):
    """What happened to a task."""

    CREATED = "created"
    STARTED = "started"
    DONE = "done"
    NOTE = "note"


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


class SalesTeam(SQLModel, table=True):
    """A sales team inside a workspace."""

    __tablename__ = "sales_team"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    name: str = Field(max_length=80)
    timezone: str = Field(default="UTC", max_length=64)
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
    created_at: datetime = ts_field(default=utcnow)


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
    created_at: datetime = ts_field(default=utcnow)


class Task(SQLModel, table=True):
    """A piece of sales work assigned to one or more reps."""

    __table_args__ = (sa.Index("ix_task_ws_status_due", "workspace_id", "status", "due_date"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    team_id: int | None = Field(default=None, foreign_key="sales_team.id", index=True)
    title: str = Field(max_length=200)
    details: str = Field(default="", max_length=3000)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    stage: Stage | None = Field(default=None, sa_column=_enum_col(Stage, nullable=True))
    priority: Priority = Field(default=Priority.MEDIUM, sa_column=sa.Column(sa.SmallInteger, nullable=False, server_default="2"))
    difficulty: int = Field(default=1, ge=1, le=3)
    due_date: date | None = Field(default=None)
    status: TaskStatus = Field(default=TaskStatus.OPEN, sa_column=_enum_col(TaskStatus, nullable=False, server_default="open"))
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    external_id: str | None = Field(default=None, max_length=100)
    created_at: datetime = ts_field(default=utcnow)
    updated_at: datetime = ts_field(default=utcnow)
    completed_at: datetime | None = ts_field(nullable=True, default=None)


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


class ProcessedEvent(SQLModel, table=True):
    """Events API deliveries already handled, so Slack's retries change nothing."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = ts_field(default=utcnow)
