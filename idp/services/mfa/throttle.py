"""The one second-factor check: every verification of an authenticator-app code, a recovery code or a
security key / passkey (at sign-in, and the first code when setting an app up inside the sign-in)
goes through `verify`, which counts the attempt on the shared database throttle before checking it.
Passwordless passkey sign-in has its own per-IP counter, so it stays available while passwords are
throttled."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .. import throttle

T = TypeVar("T")


def keys(settings, user_id: int | None, ip_address: str | None) -> list[throttle.Key]:
    window = settings.mfa_failure_window
    if user_id is None:  # passwordless: nobody to count against yet but the address
        return [throttle.Key("passkey.ip", ip_address or "", settings.mfa_max_failures_per_ip, window)]
    return [throttle.Key("mfa.ip", ip_address or "", settings.mfa_max_failures_per_ip, window),
            throttle.Key("mfa.account", str(user_id), settings.mfa_max_failures_per_account, window,
                         personal=True)]


def verify(settings, *, user_id: int | None, ip_address: str | None, check: Callable[[], T]) -> T:
    """Reserve an attempt, then run `check` (which raises SecondFactorFailed when wrong: the attempt
    stays counted). Raises Throttled when no attempt is left."""
    reservation = throttle.reserve(keys(settings, user_id, ip_address))
    result = check()
    reservation.succeeded()
    return result


def message(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    unit = "minute" if minutes == 1 else "minutes"
    return (f"Too many wrong attempts. For your security, wait {minutes} {unit} and try again, "
            "or use another method.")
