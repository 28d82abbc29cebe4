"""What every listener and job needs, built once in the entry point and passed down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.db import Database
from bot.i18n import I18n
from bot.installations import BotTokens
from bot.metrics import Metrics
from bot.models import utcnow
from bot.services.sendbudget import SharedBudget
from bot.settings import Settings


@dataclass
class Deps:
    """Settings, the database, the catalogs, the clock and the metrics shared by listeners and jobs."""

    settings: Settings
    db: Database
    i18n: I18n = field(default_factory=I18n)
    clock: Callable[[], datetime] = utcnow
    metrics: Metrics = field(default_factory=Metrics)  # one registry per app or process
    tokens: BotTokens | None = None  # each workspace's bot token; built from the settings when not given
    send_budget: SharedBudget | None = None  # PostgreSQL: the send budget every process shares

    def __post_init__(self) -> None:
        if self.tokens is None:
            self.tokens = BotTokens(self.db, per_workspace=self.settings.oauth_enabled, static_token=self.settings.slack_bot_token)
