"""Throttling of wrong second-factor attempts, per account and per client IP address. The failures
are the audit trail's own records, so every server process sees the same count."""

from __future__ import annotations

from .. import throttle

# Audit events whose failures count against the limits.
VERIFY_EVENTS = ("mfa.totp.verify", "mfa.recovery.verify", "mfa.webauthn.verify", "login.passkey")


def retry_after(settings, *, user_id: int | None, ip_address: str | None) -> int:
    """Seconds until another attempt is allowed; 0 when one is allowed now."""
    return throttle.retry_after(VERIFY_EVENTS, window=settings.mfa_failure_window,
                                per_account=settings.mfa_max_failures_per_account,
                                per_ip=settings.mfa_max_failures_per_ip, user_id=user_id, ip_address=ip_address)


def message(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    unit = "minute" if minutes == 1 else "minutes"
    return (f"Too many wrong attempts. For your security, wait {minutes} {unit} and try again, "
            "or use another method.")
