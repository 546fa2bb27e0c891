"""The one source of "now" for the domain, so tests can move time instead of sleeping."""

from __future__ import annotations

import time

_offset = 0


def now() -> int:
    """Current time in whole seconds since the epoch (the unit of every stored timestamp)."""
    return int(time.time()) + _offset


def advance(seconds: int) -> None:
    """Move the clock forward (tests only)."""
    global _offset
    _offset += seconds


def reset() -> None:
    global _offset
    _offset = 0
