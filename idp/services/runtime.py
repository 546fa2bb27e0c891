"""Process-wide objects built once at start: settings, the key ring and the password hasher."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..config import Settings
from .backchannel import Deliverer
from .keys import KeyRing
from .passwords import Passwords


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    keyring: KeyRing
    passwords: Passwords
    backchannel: Deliverer | None = None  # sends back-channel logout tokens off the request path


def current() -> Runtime:
    return current_app.extensions["idp"]
