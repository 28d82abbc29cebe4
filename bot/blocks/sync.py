"""Sync surfaces: `/salesbot sync` (last runs, failures, sources), webhook replies and the admins' notices."""

from __future__ import annotations

from datetime import datetime

from bot.blocks.kit import MESSAGE_MAX_BLOCKS, context, divider, fallback_text, header, section
from bot.i18n import Localizer
from bot.models import SyncRunStatus, SyncSource, WebhookEndpoint
from bot.services.sync_runs import RunView
from bot.text import SlackSafe

STATUS_ICON = {SyncRunStatus.OK: ":white_check_mark:", SyncRunStatus.UNCHANGED: ":zzz:", SyncRunStatus.FAILED: ":x:"}
# Literal ids, so the catalog check sees every one of them.
KIND_NAMES = {"api_batch": "sync.kind.api_batch", "webhook": "sync.kind.webhook", "pull": "sync.kind.pull"}
STATUS_NAMES = {"ok": "sync.status.ok", "unchanged": "sync.status.unchanged", "failed": "sync.status.failed"}


def _when(loc: Localizer, at: datetime | None, tz: str) -> str:
    return loc.datetime(at, tz) if at else "—"


def _error_line(loc: Localizer, line: int, field: str | None, message: str) -> SlackSafe:
    if field:
        return loc.md("sync.error_line.cell", line=line, field=field, message=message)
    if line:
        return loc.md("sync.error_line.line", line=line, message=message)
    return loc.md("sync.error_line.run", message=message)


def build_sync_overview(runs: list[RunView], sources: list[SyncSource], endpoints: int, loc: Localizer, *, tz: str) -> tuple[str, list[dict]]:
    """The admin's view of sync: configured sources, then the last runs, failures with their first errors."""
    blocks: list[dict] = [header(loc.t("sync.overview.title"))]
    if sources:
        lines = [loc.md("sync.overview.source", kind=s.kind, url=s.url, every=s.every_minutes, due=_when(loc, s.next_due_at, tz)) for s in sources]
        blocks.append(section(SlackSafe("\n".join(lines))))
    else:
        blocks.append(section(loc.md("sync.overview.no_source")))
    blocks.append(context(loc.mdn("sync.overview.endpoints", endpoints)))
    blocks.append(divider())
    if not runs:
        blocks.append(section(loc.md("sync.overview.no_runs")))
    # Each run takes one block; the message limit leaves room for the header lines above and the footer.
    room = MESSAGE_MAX_BLOCKS - len(blocks) - 1
    for view in runs[:room]:
        r = view.run
        text = loc.md(
            "sync.overview.run", icon=SlackSafe(STATUS_ICON[r.status]), id=r.id, kind=loc.t(KIND_NAMES[r.kind.value]),
            status=loc.t(STATUS_NAMES[r.status.value]), source=r.source, when=_when(loc, r.started_at, tz),
            created=r.created, updated=r.updated, unchanged=r.unchanged, failed=r.failed,
        )
        lines = [text]
        if r.message:
            lines.append(loc.md("sync.overview.message", message=r.message))
        lines += [_error_line(loc, e.line, e.field, e.message) for e in view.errors]
        if view.error_count > len(view.errors):
            lines.append(loc.mdn("sync.overview.more_errors", view.error_count - len(view.errors)))
        blocks.append(section(SlackSafe("\n".join(lines))))
    blocks.append(context(loc.md("sync.overview.hint")))
    return loc.t("sync.overview.title"), blocks


def build_webhook_added(endpoint: WebhookEndpoint, secret: str, loc: Localizer) -> tuple[str, list[dict]]:
    """The new endpoint and its secret, shown this once."""
    events = loc.t("sync.webhook.all_events") if endpoint.events == "*" else endpoint.events.replace(",", ", ")
    body = loc.md("sync.webhook.added", url=endpoint.url, events=events, secret=secret)
    return fallback_text(loc.md("sync.webhook.added_text", url=endpoint.url)), [section(body), context(loc.md("sync.webhook.secret_once"))]


def build_webhook_list(endpoints: list[WebhookEndpoint], loc: Localizer) -> tuple[str, list[dict]]:
    """The workspace's endpoints, without their secrets."""
    if not endpoints:
        text = loc.md("sync.webhook.none")
        return fallback_text(text), [section(text)]
    lines = []
    for e in endpoints[: MESSAGE_MAX_BLOCKS - 2]:
        events = loc.t("sync.webhook.all_events") if e.events == "*" else e.events.replace(",", ", ")
        key = "sync.webhook.line_failing" if e.failing_since else "sync.webhook.line"
        lines.append(section(loc.md(key, url=e.url, events=events)))
    return loc.t("sync.webhook.list_title"), [header(loc.t("sync.webhook.list_title")), *lines]


def build_webhook_dead_notice(loc: Localizer, *, url: str, attempts: int, error: str, event: str) -> tuple[str, list[dict]]:
    """The admins' notice that deliveries to an endpoint stopped (sent once per outage)."""
    body = loc.md("sync.notice.webhook_dead", url=url, attempts=attempts, error=error, event=event)
    return loc.t("sync.notice.webhook_dead_text"), [section(body), context(loc.md("sync.notice.webhook_hint"))]


def build_pull_failed_notice(loc: Localizer, *, run_id: int, kind: str, url: str, errors: list[tuple[int, str | None, str]], total: int) -> tuple[str, list[dict]]:
    """The admins' notice that a scheduled pull failed (sent once per outage), with its first errors."""
    lines = [loc.md("sync.notice.pull_failed", kind=kind, url=url, run=run_id)]
    lines += [_error_line(loc, line, field, message) for line, field, message in errors[:10]]
    if total > min(len(errors), 10):
        lines.append(loc.mdn("sync.overview.more_errors", total - min(len(errors), 10)))
    return loc.t("sync.notice.pull_failed_text"), [section(SlackSafe("\n".join(lines))), context(loc.md("sync.notice.pull_hint", run=run_id))]


def build_source_set(source: SyncSource, loc: Localizer) -> tuple[str, list[dict]]:
    """Confirmation that a scheduled pull source was saved (the auth header is never repeated)."""
    key = "sync.source.set_with_header" if source.auth_header else "sync.source.set"
    text = loc.md(key, kind=source.kind, url=source.url, every=source.every_minutes)
    return fallback_text(text), [section(text)]
