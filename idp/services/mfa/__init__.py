"""Multi-factor authentication: one strategy module per method, each holding enrolment and
verification side by side (`totp`, `recovery`, `webauthn`), plus the throttle on wrong attempts.
This module answers "which factors does this person have" and upgrades a session once a second
factor verified."""

from __future__ import annotations

from ...storage import mfa as store
from ...types import MfaStatus, PasskeyView, SessionView
from .. import sessions

# RFC 8176 authentication method references added by each method.
AMR_OTP = "otp"  # authenticator-app code, and recovery codes (one-time codes too; the audit trail tells them apart)
AMR_HARDWARE_KEY = "hwk"  # WebAuthn credential bound to one authenticator
AMR_SOFTWARE_KEY = "swk"  # synced (multi-device) passkey
AMR_USER_VERIFIED = "user"  # the authenticator verified the person (PIN or biometrics)
AMR_MFA = "mfa"


def passkey_view(row: store.WebAuthnCredential) -> PasskeyView:
    return PasskeyView(id=row.id, nickname=row.nickname, device_type=row.device_type, backed_up=row.backed_up,
                       transports=tuple(row.transports or ()), created_at=row.created_at,
                       last_used_at=row.last_used_at)


def status(user_id: int) -> MfaStatus:
    totp = store.totp_of(user_id)
    return MfaStatus(
        totp=bool(totp and totp.confirmed_at is not None),
        passkeys=tuple(passkey_view(r) for r in store.credentials_of(user_id)),
        recovery_codes_left=store.recovery_codes_left(user_id),
    )


def satisfied(session: SessionView | None) -> bool:
    return bool(session and session.acr == sessions.MFA_ACR)


def complete(settings, cookie: str | None, methods: list[str]) -> tuple[str, SessionView] | None:
    """A second factor verified for the session behind `cookie`: raise it to the MFA level. Returns
    the new cookie value (the id changes as the privilege does) and the session."""
    return sessions.elevate(settings, cookie, [*methods, AMR_MFA], sessions.MFA_ACR)


def drop_recovery_codes_if_unused(user_id: int) -> bool:
    """Recovery codes stand in for a second factor; once none is left they go too. True if dropped."""
    from . import recovery

    if status(user_id).enrolled or recovery.remaining(user_id) == 0:
        return False
    recovery.remove_all(user_id)
    return True


def reset(user_id: int) -> dict:
    """Remove every second factor of a person (authenticator app, passkeys, recovery codes), e.g.
    when they lost their device. They must set one up again at their next sign-in if required."""
    from ...extensions import db

    removed = {"totp": store.delete_totp(user_id), "passkeys": store.delete_credentials_of(user_id),
               "recovery_codes": store.recovery_codes_left(user_id)}
    store.delete_recovery_codes(user_id)
    db.session.commit()
    return removed
