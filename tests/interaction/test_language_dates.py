"""Dates and times on pages: in the page's language and the person's `zoneinfo` claim (UTC without one)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import g

from idp import i18n
from idp.types import UserView

NOON_UTC = int(datetime(2026, 3, 5, 12, 0, tzinfo=UTC).timestamp())


def _person(zone=None):
    return UserView(id=1, sub="s", username="alice", email=None, email_verified=False, enabled=True,
                    claims={"zoneinfo": zone} if zone else {})


def test_dates_follow_the_language_and_the_persons_time_zone(app):
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        g.user = _person("Europe/Berlin")
        assert i18n.when(NOON_UTC) == "05.03.2026, 13:00:00"
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        g.user = _person("America/New_York")
        assert i18n.when(NOON_UTC) == "5 mars 2026, 07:00:00"
    with app.test_request_context("/"):
        assert i18n.when(NOON_UTC) == "Mar 5, 2026, 12:00:00\u202fPM"
        assert i18n.when(None) == "never"


def test_an_unknown_time_zone_falls_back_to_utc(app):
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        g.user = _person("Mars/Olympus_Mons")
        assert i18n.when(NOON_UTC) == "5 mar 2026, 12:00:00"
