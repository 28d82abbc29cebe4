"""Run one job by hand, as if the clock said a given time: `salesbot jobs run NAME [--at] [--dry-run]`."""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from bot.deps import Deps
from sqlalchemy import select

from bot.models import OutboxMessage, OutboxStatus
from bot.render import blocks_to_text
from jobs.base import Composer, Post
from jobs.outbox import NOTICE_JOB, Sender, SenderConfig, enqueue, make_sender_client, shared_budget_for
from jobs.registry import get_job


def parse_at(value: str) -> datetime:
    """An ISO time with its offset (`2027-03-01T08:30+08:00`); a time without one is ambiguous."""
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--at {value!r} is not an ISO time such as 2027-03-01T08:30+08:00") from None
    if at.tzinfo is None:
        raise ValueError(f"--at {value!r} needs a UTC offset, such as 2027-03-01T08:30+08:00")
    return at


def render_post(post: Post) -> str:
    """A post as readable text: where it goes, when, and what it says."""
    window = f"not before {post.not_before.isoformat()}"
    if post.expires_at is not None:
        window += f", expires {post.expires_at.isoformat()}"
    lines = [f"── {post.key} → {post.channel} ({window})"]
    lines.append(blocks_to_text(post.blocks) if post.blocks else post.text)
    for f in post.files:
        lines.append(f"[file in thread: {f['filename']} “{f.get('title') or f['filename']}”, {len(f['content'])} bytes]")
    return "\n".join(lines)


def write_files(post: Post, directory: Path | None = None) -> list[Path]:
    """A dry run's files (the digest chart), written where a person can open them: SALESBOT_DRY_RUN_DIR or the temp dir."""
    if not post.files:
        return []
    directory = directory or Path(os.environ.get("SALESBOT_DRY_RUN_DIR") or Path(tempfile.gettempdir()) / "salesbot-dry-run")
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in post.files:
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", post.key)
        path = directory / f"{stem}-{f['filename']}"
        path.write_bytes(f["content"])
        paths.append(path)
    return paths


async def run_job(
    deps: Deps,
    name: str,
    *,
    at: datetime,
    dry_run: bool = False,
    jobs: dict[str, Composer] | None = None,
    config: SenderConfig | None = None,
    sender: Sender | None = None,
    out: TextIO | None = None,
) -> int:
    """Compose one job at `at`; print it (dry run) or deliver it through the outbox. 0 only if all were sent."""
    out = out or sys.stdout
    composer = jobs[name] if jobs is not None and name in jobs else get_job(name)
    async with deps.db.sessionmaker() as session:
        session.info["dry_run"] = dry_run  # a composer that commits its own work (the sync pull) does nothing then
        posts = await composer(deps, session, now=at)
        if dry_run:
            await session.rollback()  # a dry run changes nothing, whatever the composer touched
        else:
            new = await enqueue(session, [p for p in posts if not p.skip])
            await enqueue(session, [p for p in posts if p.skip])
            await session.commit()
    posts = [p for p in posts if not p.skip]  # markers of "nothing to send" are stored, never shown or sent
    if dry_run:
        for post in posts:
            print(render_post(post), end="\n\n", file=out)
            for path in write_files(post):
                print(f"file written to {path}", end="\n\n", file=out)
        print(f"{name} at {at.isoformat()}: {len(posts)} posts (dry run, nothing sent)", file=out)
        return 0
    if not posts:
        print(f"{name} at {at.isoformat()}: nothing to send", file=out)
        return 0
    if sender is None:
        config = config or SenderConfig.from_env()
        # The sender judges what is due and what has expired by the job's clock, which starts
        # at `at` and runs at the wall clock's pace.
        started = time.monotonic()
        sender = Sender(
            deps.db,
            make_sender_client(deps.settings, config),
            config=config,
            clock=lambda: at + timedelta(seconds=time.monotonic() - started),
            i18n=deps.i18n,
            admins=deps.settings.admins,
            tokens=deps.tokens,
            shared=shared_budget_for(deps.db, config, metrics=deps.metrics),
        )
    counts = await sender.deliver([p.key for p in posts])
    if counts.get(OutboxStatus.DEAD):
        # The admins' notices about this run's dead posts go out now too, not at the next clock.
        async with deps.db.sessionmaker() as session:
            notices = (await session.execute(select(OutboxMessage.key).where(OutboxMessage.job == NOTICE_JOB, OutboxMessage.status == OutboxStatus.PENDING))).scalars().all()
        await sender.deliver(notices)
    summary = ", ".join(f"{counts[s]} {s.value}" for s in OutboxStatus if counts.get(s))
    print(f"{name} at {at.isoformat()}: {len(posts)} posts ({new} new): {summary}", file=out)
    return 0 if counts.get(OutboxStatus.SENT, 0) == len({p.key for p in posts}) else 1
