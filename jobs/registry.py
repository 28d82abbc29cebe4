"""Job names and their composers: what `salesbot jobs run NAME` and the scheduler's ticks run.

Each job module adds one line to BUILTIN ("name": "module:function"); modules are imported
only when the registry is read, so a job module may import anything without a cycle.

SALESBOT_EXTRA_JOBS (comma-separated module names) adds jobs from other modules, each of
which exposes ``JOBS: dict[str, Composer]``. The tests use it to run a test-only composer
in a real `salesbot` subprocess; production needs no extra modules.
"""

from __future__ import annotations

import importlib
import os

from jobs.base import Composer

EXTRA_JOBS_ENV = "SALESBOT_EXTRA_JOBS"

BUILTIN: dict[str, str] = {
    "daily": "jobs.daily:compose",
    "weekly": "jobs.digest:compose_weekly",
    "monthly": "jobs.digest:compose_monthly",
    "surveys": "jobs.surveys:compose",
    "survey_reminders": "jobs.surveys:compose_reminders",
    "deal_alerts": "jobs.deal_alerts:compose",
    "sync": "jobs.sync_pull:compose",
    "standup": "jobs.standup:compose",
    "repeats": "jobs.repeats:compose",
    "reminders": "jobs.reminders:compose",
    "escalations": "jobs.escalations:compose",
    "housekeeping": "jobs.housekeeping:compose",
}


class UnknownJob(LookupError):
    """A job name nobody registered."""


def _load(target: str) -> Composer:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _extra_jobs(extra: str | None) -> dict[str, Composer]:
    extra = os.environ.get(EXTRA_JOBS_ENV, "") if extra is None else extra
    jobs: dict[str, Composer] = {}
    for module in (m.strip() for m in extra.split(",")):
        if module:
            jobs.update(importlib.import_module(module).JOBS)
    return jobs


def job_names(extra: str | None = None) -> list[str]:
    """Every registered job name, without importing the built-in job modules."""
    return sorted({*BUILTIN, *_extra_jobs(extra)})


def load_jobs(names: list[str] | None = None, extra: str | None = None) -> dict[str, Composer]:
    """The composers of the named jobs (all when `names` is None), importing only those."""
    extras = _extra_jobs(extra)
    wanted = job_names(extra) if names is None else names
    unknown = [n for n in wanted if n not in BUILTIN and n not in extras]
    if unknown:
        raise UnknownJob(f"unknown job {unknown[0]!r}; jobs: {', '.join(job_names(extra)) or 'none registered'}")
    return {n: extras[n] if n in extras else _load(BUILTIN[n]) for n in wanted}


def get_job(name: str, extra: str | None = None) -> Composer:
    """The composer of one job; UnknownJob lists the names that exist."""
    return load_jobs([name], extra)[name]
