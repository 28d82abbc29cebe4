"""The request edge's pieces: signature check, body parsing and scrubbing, id decoding, delivery memory."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.blocks.refs import MAX_ID, TaskRef, decode_count, decode_id
from bot.models import ProcessedEvent, RequestSignature
from bot.server import Malformed, parse_body, scrub, signature_ok
from bot.services.events import first_delivery, prune_events
from bot.services.signatures import expiry_for, first_use, prune_signatures

SECRET = "s3cret"
NOW = 1_800_000_000


def sign(raw: bytes, ts: str) -> str:
    return "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256).hexdigest()


def test_signature_is_checked_on_the_raw_bytes_within_five_minutes():
    raw = b"token=x&text=\xff"  # not UTF-8: still checkable
    ts = str(NOW)
    assert signature_ok(SECRET, raw, ts, sign(raw, ts), now=NOW + 299)
    assert not signature_ok(SECRET, raw, ts, sign(raw, ts), now=NOW + 301)
    assert not signature_ok(SECRET, raw + b" ", ts, sign(raw, ts), now=NOW)
    assert not signature_ok("", raw, ts, sign(raw, ts), now=NOW)
    for stamp in ("abc", "", "1e9", "-5", "١٢٣", None):
        assert not signature_ok(SECRET, raw, stamp, sign(raw, stamp or ""), now=NOW)


def test_bodies_parse_like_slack_sends_them():
    assert parse_body('{"type": "event_callback"}', "application/json") == {"type": "event_callback"}
    assert parse_body("payload=%7B%22type%22%3A%22block_actions%22%7D", "application/x-www-form-urlencoded") == {"type": "block_actions"}
    # A command whose text merely mentions the word "payload" is still a command.
    assert parse_body("command=%2Fsalesbot&text=payload", "application/x-www-form-urlencoded") == {"command": "/salesbot", "text": "payload"}
    for body, ctype in (("payload={not json", "application/x-www-form-urlencoded"), ("payload=%5B1%5D", None),
                        ("[1]", "application/json"), ("nope", "application/json"), ("", None), ('"text"', "application/json"),
                        ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "application/json")):
        with pytest.raises(Malformed):
            parse_body(body, ctype)


def test_scrub_strips_control_characters_but_keeps_tabs_and_newlines():
    dirty = {"te\x00am": ["a\x00b", {"c": "line\n\tnext\x07\x1b\x7f"}], "n": 5, "ok": None, "lone": "x\ud800y"}
    assert scrub(dirty) == {"team": ["ab", {"c": "line\n\tnext"}], "n": 5, "ok": None, "lone": "xy"}


@given(st.recursive(st.text() | st.integers() | st.none() | st.booleans(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=20))
def test_scrubbed_values_hold_no_control_characters_and_scrub_is_idempotent(value):
    clean = scrub(value)
    assert scrub(clean) == clean

    def strings(v):
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            for k, x in v.items():
                yield k
                yield from strings(x)
        elif isinstance(v, list):
            for x in v:
                yield from strings(x)

    for s in strings(clean):
        assert not any((ord(c) < 32 and c not in "\t\n") or c == "\x7f" or 0xD800 <= ord(c) <= 0xDFFF for c in s)
        s.encode("utf-8")  # storable by PostgreSQL and SQLite alike


def test_ids_must_fit_an_integer_column():
    assert decode_id("1") == 1 and decode_id(str(MAX_ID)) == MAX_ID
    assert decode_count("0") == 0
    for bad in ("0", str(MAX_ID + 1), "1" * 30, "", "-1", "1.0", " 1", "²", "١", "0x1"):
        with pytest.raises(ValueError):
            decode_id(bad)
    with pytest.raises(ValueError):
        TaskRef.decode("1|l|open|" + "9" * 30)
    assert TaskRef.decode(TaskRef(7, TaskRef.decode("1|l|open|0").surface).encode()).task_id == 7
    assert (TaskRef.decode("0|l|open|10").task_id, TaskRef.decode("0|l|open|-10").offset) == (0, 0)  # paging buttons


async def test_a_signature_is_remembered_once_and_pruned_after_its_window(session):
    ts = int(datetime.now(timezone.utc).timestamp())
    assert await first_use(session, signature="v0=abc", timestamp=ts)
    assert not await first_use(session, signature="v0=abc", timestamp=ts)
    assert await first_use(session, signature="v0=old", timestamp=ts - 3600)
    await session.commit()
    assert expiry_for(ts) - datetime.fromtimestamp(ts, timezone.utc) == timedelta(minutes=6)

    assert await prune_signatures(session, now=datetime.now(timezone.utc)) == 1
    await session.commit()
    assert (await session.execute(select(RequestSignature.signature))).scalars().all() == ["v0=abc"]


async def test_old_event_ids_are_pruned(session):
    now = datetime.now(timezone.utc)
    assert await first_delivery(session, event_id="EvNEW")
    session.add(ProcessedEvent(event_id="EvOLD", received_at=now - timedelta(days=2)))
    await session.commit()
    assert await prune_events(session, now=now) == 1
    await session.commit()
    assert (await session.execute(select(ProcessedEvent.event_id))).scalars().all() == ["EvNEW"]
