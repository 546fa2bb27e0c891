"""Throttling of wrong second-factor attempts, per account and per client IP address. The failures
are the audit trail's own records, so every server process sees the same count."""

from __future__ import annotations

from ...storage import audit as audit_store
from .. import clock

# Audit events whose failures count against the limits.
VERIFY_EVENTS = ("mfa.totp.verify", "mfa.recovery.verify", "mfa.webauthn.verify", "login.passkey")


def retry_after(settings, *, user_id: int | None, ip_address: str | None) -> int:
    """Seconds until another attempt is allowed; 0 when one is allowed now."""
    now = clock.now()
    since = now - settings.mfa_failure_window
    waits = []
    for limit, key in ((settings.mfa_max_failures_per_account, {"subject_user_id": user_id}),
                       (settings.mfa_max_failures_per_ip, {"ip_address": ip_address})):
        if next(iter(key.values())) is None:
            continue
        times = audit_store.failure_times(VERIFY_EVENTS, since, limit, **key)
        if len(times) >= limit:
            # The oldest of the last `limit` failures leaves the window first.
            waits.append(times[-1] + settings.mfa_failure_window - now)
    return max([0, *waits])


def message(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    unit = "minute" if minutes == 1 else "minutes"
    return (f"Too many wrong attempts. For your security, wait {minutes} {unit} and try again, "
            "or use another method.")
