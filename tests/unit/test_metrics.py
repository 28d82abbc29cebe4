"""The metrics' settings and labels: blank variables are unset, and every Slack payload gets a bounded kind."""

from __future__ import annotations

import pytest

from bot.metrics import KINDS, Metrics, request_kind
from bot.settings import ConfigError, load_settings


def test_metrics_settings_blank_is_unset_and_a_port_is_a_number(monkeypatch):
    monkeypatch.setenv("SALESBOT_METRICS_TOKEN", " ")
    monkeypatch.setenv("SALESBOT_METRICS_PORT", "")
    settings = load_settings()
    assert settings.metrics_token is None and settings.metrics_port is None
    monkeypatch.setenv("SALESBOT_METRICS_PORT", "9100")
    monkeypatch.setenv("SALESBOT_METRICS_TOKEN", "scrape-me")
    settings = load_settings()
    assert settings.metrics_port == 9100 and settings.metrics_token == "scrape-me"
    monkeypatch.setenv("SALESBOT_METRICS_PORT", "ninety")
    with pytest.raises(ConfigError, match="SALESBOT_METRICS_PORT"):
        load_settings()


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"command": "/kpi", "type": "ignored"}, "command"),
        ({"type": "block_actions"}, "action"),
        ({"type": "view_submission"}, "view"),
        ({"type": "view_closed"}, "view"),
        ({"type": "block_suggestion"}, "options"),
        ({"type": "event_callback"}, "event"),
        ({"type": "shortcut"}, "shortcut"),
        ({"type": "something new"}, "other"),
        ({"type": ["not", "a", "string"]}, "other"),
        ({}, "other"),
    ],
)
def test_request_kinds_are_bounded(body, kind):
    assert request_kind(body) == kind
    assert kind in KINDS


def test_each_metrics_has_its_own_registry():
    a, b = Metrics(), Metrics()
    a.send("sent")
    assert b"salesbot_sends_total{outcome=\"sent\"} 1.0" in a.render()
    assert b"salesbot_sends_total{outcome=\"sent\"}" not in b.render()
