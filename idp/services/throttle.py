"""Throttling by counting recent failures in the audit trail, per account and per client IP
address. The audit trail is shared by every server process, so the limits hold across them."""

from __future__ import annotations

from ..storage import audit as audit_store
from . import clock

# Failed password checks: the sign-in pages and the account pages' own sign-in.
PASSWORD_EVENTS = ("login.password",)


def retry_after(events: tuple[str, ...], *, window: int, per_account: int, per_ip: int, user_id: int | None,
                ip_address: str | None) -> int:
    """Seconds until another attempt is allowed; 0 when one is allowed now."""
    now = clock.now()
    waits = []
    for limit, key in ((per_account, {"subject_user_id": user_id}), (per_ip, {"ip_address": ip_address})):
        if next(iter(key.values())) is None:
            continue
        times = audit_store.failure_times(events, now - window, limit, **key)
        if len(times) >= limit:
            # The oldest of the last `limit` failures leaves the window first.
            waits.append(times[-1] + window - now)
    return max([0, *waits])


def password_retry_after(settings, *, user_id: int | None, ip_address: str | None) -> int:
    return retry_after(PASSWORD_EVENTS, window=settings.login_failure_window,
                       per_account=settings.login_max_failures_per_account,
                       per_ip=settings.login_max_failures_per_ip, user_id=user_id, ip_address=ip_address)


def message(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed attempts. For your security, wait {minutes} {unit} and try again."
