"""One way to save a modal: read and save inside Slack's 3 seconds, once per submitted view, then confirm.

Every view_submission listener calls `save_form` with what differs (which block shows which
field's error, the save, the confirmation); the ladder is written here once:

- a value Slack could not have sent (BadField) or a refused save (ValidationFailed, any
  ServiceError) is answered under its field and nothing is kept;
- the view's id and hash are recorded in the saving transaction: a resubmitted view that
  was already saved just closes, so a retry after Slack's error never saves twice;
- the transaction must commit within SAVE_DEADLINE; otherwise the member is told to submit
  again under the form, and the unfinished transaction is cancelled and rolled back;
- after the commit the modal closes (ack), and `after` confirms and notifies.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.blocks.tasks import build_notice
from bot.i18n import Localizer
from bot.services.errors import ServiceError, ValidationFailed
from bot.services.forms import claim_submission, prune_submissions
from bot.text import SlackSafe
from bot.unit import Turn, turn
from handlers.views.state import BadField, metadata

log = logging.getLogger(__name__)

# Slack drops a submission not answered within 3 s (the member sees an error, and may submit
# again); answering by 2 s leaves a second for the network both ways and a busy event loop
# (2.5 s proved too tight on a loaded machine: answers arrived after 3.4 s).
SAVE_DEADLINE = 2.0

R = TypeVar("R")


@dataclass(frozen=True)
class Form:
    """Where a modal shows errors: service field name → block id, and the block for everything else."""

    fallback: str
    fields: Mapping[str, str] = field(default_factory=dict)

    def block_for(self, view: dict, name: str | None) -> str:
        """The block showing an error about `name` (a field or a block id), when the view has it."""
        block = self.fields.get(name, name) if name else self.fallback
        present = {b.get("block_id") for b in view.get("blocks") or [] if isinstance(b, dict) and b.get("type") == "input"}
        return block if block in present else self.fallback


class Confirm:
    """Tells the member the form was saved: where the modal was opened from (its response_url), else by DM."""

    def __init__(self, client: AsyncWebClient, user_id: str, response_url: str | None) -> None:
        self.client = client
        self.user_id = user_id
        self.response_url = response_url

    async def message(self, text: str, blocks: list[dict], *, replace: bool = False, dm: SlackSafe | None = None) -> None:
        """Ephemeral beside the command (or in place of the clicked message with `replace`); a DM otherwise."""
        if self.response_url:
            if replace:
                await AsyncWebhookClient(self.response_url).send(text=text, blocks=blocks, replace_original=True)
            else:
                await AsyncWebhookClient(self.response_url).send(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        elif dm is not None:
            await self.notice(dm)
        else:
            await self.client.chat_postMessage(channel=self.user_id, text=text, blocks=blocks)

    async def notice(self, safe: SlackSafe) -> None:
        """One line of mrkdwn, the same way."""
        text, blocks = build_notice(safe)
        await self.message(text, blocks)


class _Answer:
    """The submission's one HTTP answer: whoever answers first (the save or the deadline) wins."""

    def __init__(self, ack) -> None:
        self._ack = ack
        self.given = asyncio.Event()

    async def __call__(self, **kw: Any) -> bool:
        if self.given.is_set():
            return False
        self.given.set()
        await self._ack(**kw)
        return True

    async def errors(self, errors: dict[str, str]) -> bool:
        """Refuse the submission with messages under fields (Slack shows at most 150 characters)."""
        return await self(response_action="errors", errors={block: str(text)[:150] for block, text in errors.items()})


class _Abandoned(Exception):
    """The deadline answered first: the transaction must not commit."""


async def save_form(
    ack,
    body: dict,
    view: dict,
    client: AsyncWebClient,
    context,
    *,
    form: Form,
    save: Callable[[Turn], Awaitable[R]],
    after: Callable[[Turn, R, Confirm], Awaitable[None]] | None = None,
    team_id: str | None = None,
) -> None:
    """Save a submitted modal once, within Slack's time, and confirm it (see the module's docstring)."""
    # The clock started when the request arrived: the edge's own database work counts too.
    started = context.get("arrived") or time.monotonic()
    deps = context["deps"]
    user_id = body["user"]["id"]
    answer = _Answer(ack)
    language: list[Localizer] = []
    ru = metadata(view).get("ru")
    confirm = Confirm(client, user_id, ru if isinstance(ru, str) and ru else None)

    async def refuse(loc: Localizer, exc: ServiceError) -> None:
        if isinstance(exc, ValidationFailed):
            errors: dict[str, str] = {}
            for name, (key, params) in exc.errors.items():
                errors.setdefault(form.block_for(view, name), loc.t(key, **params))
            await answer.errors(errors)
        else:
            block = form.block_for(view, exc.block_id if isinstance(exc, BadField) else None)
            await answer.errors({block: loc.t(exc.key, **exc.params)})

    async def work() -> None:
        async with turn(deps, client, team_id=team_id or body["team"]["id"], user_id=user_id) as t:
            language.append(t.loc)
            try:
                fresh = await claim_submission(t.session, view_id=str(view.get("id") or ""), view_hash=str(view.get("hash") or ""), now=t.now)
                result = await save(t) if fresh else None
            except ServiceError as exc:
                await t.session.rollback()
                await refuse(t.loc, exc)
                return
            if not fresh:  # saved already: this is Slack's retry or a second click on Submit
                await t.session.rollback()
                await answer()
                return
            if answer.given.is_set():
                raise _Abandoned()
            committing.set()
            await t.session.commit()
            if not await answer():
                log.warning("form %s saved after the member was told to submit again", view.get("callback_id"))
            if after is not None:
                await after(t, result, confirm)
            await prune_submissions(t.session, now=t.now)

    committing = asyncio.Event()
    task = asyncio.ensure_future(work())
    answered = asyncio.ensure_future(answer.given.wait())
    try:
        await asyncio.wait({task, answered}, timeout=max(0.0, SAVE_DEADLINE - (time.monotonic() - started)), return_when=asyncio.FIRST_COMPLETED)
    finally:
        answered.cancel()
    if not answer.given.is_set():
        loc = language[0] if language else deps.i18n.get(None)
        await answer.errors({form.fallback: loc.t("form.error.busy")})
        # A commit already under way is left to finish (the view's key makes a retry harmless);
        # anything earlier is cancelled, and the session's close rolls it back.
        if not committing.is_set():
            task.cancel()
    # Nothing may escape once the submission is answered: Bolt would reset the answer.
    try:
        await task
    except (asyncio.CancelledError, _Abandoned):
        log.info("form %s abandoned after %.1fs", view.get("callback_id"), time.monotonic() - started)
    except Exception:
        log.exception("form %s failed", view.get("callback_id"))
