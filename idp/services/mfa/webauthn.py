"""Security keys and passkeys (WebAuthn Level 2/3, the `webauthn` package): registration and
authentication side by side, for a second factor after the password and for passwordless sign-in
with a discoverable credential.

* The RP ID is the issuer's host name and the one allowed origin is the issuer's scheme://host[:port].
* Challenges are random, stored server-side (as a hash) bound to the browser, the purpose and the
  user, used once (conditional UPDATE) and short-lived (`webauthn_challenge_ttl`).
* Passwordless sign-in requires user verification and checks the returned userHandle against the
  stored one (the library does not).
* A signature counter that does not increase (when either count is non-zero) is rejected, and the
  caller audits it: the authenticator may have been cloned."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ...errors import CounterRegression, SecondFactorFailed, ValidationError
from ...extensions import db
from ...storage import mfa as store
from ...storage import users as user_store
from ...types import PasskeyView, UserView
from .. import clock, crypto, json_input
from ..text import N_
from . import AMR_HARDWARE_KEY, AMR_SOFTWARE_KEY, AMR_USER_VERIFIED, passkey_view

REGISTER = "register"
SECOND_FACTOR = "second_factor"
PASSWORDLESS = "passwordless"
MAX_CREDENTIAL_JSON = 16384
NICKNAME_MAX = 100
TRANSPORTS = {t.value for t in AuthenticatorTransport}


@dataclass(frozen=True)
class Assertion:
    """A verified WebAuthn sign-in: whose credential it was and the amr values it earns."""

    user_id: int
    methods: tuple[str, ...]
    user_verified: bool


def relying_party(settings) -> tuple[str, str]:
    """(RP ID, allowed origin), both derived from the issuer."""
    parts = urlsplit(settings.issuer)
    return parts.hostname or "", f"{parts.scheme}://{parts.netloc}"


def usable(settings) -> bool:
    """Whether browsers accept passkeys for this issuer: the RP ID must be a domain name, not an IP
    address (WebAuthn §5.1.3: "This is an invalid domain."), and the page a secure context (https, or
    http on localhost). Where they cannot work, the pages do not offer them."""
    parts = urlsplit(settings.issuer)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        pass
    return bool(host) and (parts.scheme == "https" or host == "localhost" or host.endswith(".localhost"))


def _descriptor(row: store.WebAuthnCredential) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in row.transports or () if t in TRANSPORTS]
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(row.credential_id), transports=transports or None)


def _new_challenge(settings, purpose: str, user_id: int | None, browser_secret: str) -> bytes:
    now = clock.now()
    store.purge_challenges(now)
    challenge = os.urandom(32)
    db.session.add(store.WebAuthnChallenge(
        challenge_hash=crypto.lookup_hash(bytes_to_base64url(challenge)), purpose=purpose, user_id=user_id,
        browser_hash=crypto.lookup_hash(browser_secret), expires_at=now + settings.webauthn_challenge_ttl,
    ))
    db.session.commit()
    return challenge


def _parse(credential_json: str) -> dict:
    if not credential_json or len(credential_json) > MAX_CREDENTIAL_JSON:
        raise SecondFactorFailed("missing or oversized WebAuthn response")
    try:
        data = json_input.loads(credential_json)  # deep nesting is a ValueError there, not a RecursionError
        client_data = json_input.loads(base64url_to_bytes(data["response"]["clientDataJSON"]))
        challenge = client_data["challenge"]
    except (ValueError, KeyError, TypeError):
        raise SecondFactorFailed("malformed WebAuthn response") from None
    if not isinstance(data, dict) or not isinstance(challenge, str) or not isinstance(data.get("id"), str):
        raise SecondFactorFailed("malformed WebAuthn response")
    data["_challenge"] = challenge
    return data


def _consume(data: dict, purpose: str, user_id: int | None, browser_secret: str | None) -> bytes:
    """The challenge the response answers, claimed for this one use; refused if it was issued for
    another purpose, person or browser, expired, or used before."""
    row = store.consume_challenge(crypto.lookup_hash(data["_challenge"]), clock.now())
    db.session.commit()
    if row is None:
        raise SecondFactorFailed("unknown, expired or already used WebAuthn challenge")
    if (row.purpose != purpose or row.user_id != user_id or not browser_secret
            or not crypto.constant_time_equal(row.browser_hash, crypto.lookup_hash(browser_secret))):
        raise SecondFactorFailed("WebAuthn challenge issued for another ceremony")
    return base64url_to_bytes(data["_challenge"])


def _user_handle(user_id: int) -> str:
    row = user_store.get(user_id)
    assert row is not None
    if row.webauthn_handle is None:
        row.webauthn_handle = bytes_to_base64url(os.urandom(32))
        db.session.commit()
    return row.webauthn_handle


# --- Registration -----------------------------------------------------------------------------------

def registration_options(settings, user: UserView, browser_secret: str) -> str:
    """PublicKeyCredentialCreationOptions (JSON) for a new discoverable credential, user
    verification preferred, excluding the credentials the person already has."""
    rp_id, _ = relying_party(settings)
    options = generate_registration_options(
        rp_id=rp_id, rp_name=rp_id, user_name=user.username,
        user_id=base64url_to_bytes(_user_handle(user.id)),
        user_display_name=str(user.claims.get("name") or user.username),
        challenge=_new_challenge(settings, REGISTER, user.id, browser_secret),
        timeout=settings.webauthn_challenge_ttl * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[_descriptor(r) for r in store.credentials_of(user.id)],
    )
    return options_to_json(options)


def _nickname(value: str | None, fallback: str) -> str:
    value = " ".join((value or "").split())[:NICKNAME_MAX]
    return value or fallback


def register(settings, user: UserView, credential_json: str, nickname: str | None,
             browser_secret: str | None) -> PasskeyView:
    """Verify a registration response and store the credential."""
    data = _parse(credential_json)
    challenge = _consume(data, REGISTER, user.id, browser_secret)
    rp_id, origin = relying_party(settings)
    try:
        verified = verify_registration_response(credential=data, expected_challenge=challenge,
                                                expected_rp_id=rp_id, expected_origin=origin,
                                                require_user_verification=False)
    except WebAuthnException as exc:
        raise SecondFactorFailed(f"registration did not verify: {exc}") from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if store.credential_by_id(credential_id) is not None:
        raise SecondFactorFailed("this security key or passkey is already registered")
    # The library does not return the transports; they are in the browser's response (hints only).
    raw_transports = (data.get("response") or {}).get("transports") or []
    transports = [t for t in raw_transports if isinstance(t, str) and t in TRANSPORTS]
    now = clock.now()
    count = len(store.credentials_of(user.id))
    row = store.WebAuthnCredential(
        user_id=user.id, credential_id=credential_id, user_handle=_user_handle(user.id),
        public_key=verified.credential_public_key, sign_count=verified.sign_count, transports=transports,
        aaguid=verified.aaguid, device_type=verified.credential_device_type.value,
        backed_up=verified.credential_backed_up, nickname=_nickname(nickname, f"Passkey {count + 1}"),
        created_at=now,
    )
    db.session.add(row)
    db.session.commit()
    return passkey_view(row)


def rename(user_id: int, pk: int, nickname: str) -> PasskeyView:
    row = store.credential_of(user_id, pk)
    if row is None:
        raise ValidationError(N_("That security key or passkey was not found."))
    row.nickname = _nickname(nickname, row.nickname)
    db.session.commit()
    return passkey_view(row)


def delete(user_id: int, pk: int) -> PasskeyView:
    row = store.credential_of(user_id, pk)
    if row is None:
        raise ValidationError(N_("That security key or passkey was not found."))
    view = passkey_view(row)
    db.session.delete(row)
    db.session.commit()
    return view


# --- Authentication ---------------------------------------------------------------------------------

def authentication_options(settings, user_id: int | None, browser_secret: str) -> str:
    """PublicKeyCredentialRequestOptions (JSON). With a user: a second factor over that person's
    credentials, user verification preferred. Without: passwordless with any discoverable
    credential (the browser lists them), user verification required."""
    rp_id, _ = relying_party(settings)
    if user_id is None:
        allow, uv, purpose = [], UserVerificationRequirement.REQUIRED, PASSWORDLESS
    else:
        allow = [_descriptor(r) for r in store.credentials_of(user_id)]
        uv, purpose = UserVerificationRequirement.PREFERRED, SECOND_FACTOR
    options = generate_authentication_options(
        rp_id=rp_id, challenge=_new_challenge(settings, purpose, user_id, browser_secret),
        timeout=settings.webauthn_challenge_ttl * 1000, allow_credentials=allow, user_verification=uv,
    )
    return options_to_json(options)


def authenticate(settings, credential_json: str, browser_secret: str | None, user_id: int | None) -> Assertion:
    """Verify an assertion: for `user_id` as a second factor, or (user_id None) passwordless.
    Raises SecondFactorFailed (CounterRegression for a counter that went backwards)."""
    data = _parse(credential_json)
    passwordless = user_id is None
    challenge = _consume(data, PASSWORDLESS if passwordless else SECOND_FACTOR, user_id, browser_secret)
    row = store.credential_by_id(data["id"])
    if row is None or (user_id is not None and row.user_id != user_id):
        raise SecondFactorFailed("unknown security key or passkey")
    if passwordless:
        handle = (data.get("response") or {}).get("userHandle")
        if not isinstance(handle, str) or not crypto.constant_time_equal(handle, row.user_handle):
            raise SecondFactorFailed("the passkey's user handle does not match its account")
    rp_id, origin = relying_party(settings)
    try:
        # Count 0 here: the counter is checked below so that a regression can be told apart and audited.
        verified = verify_authentication_response(
            credential=data, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=origin,
            credential_public_key=row.public_key, credential_current_sign_count=0,
            require_user_verification=passwordless,
        )
    except WebAuthnException as exc:
        raise SecondFactorFailed(f"assertion did not verify: {exc}") from None
    stored, new = row.sign_count, verified.new_sign_count
    if (new > 0 or stored > 0) and new <= stored:
        raise CounterRegression(f"signature counter went from {stored} to {new}: possibly a cloned authenticator",
                                row.user_id)
    if not store.advance_sign_count(row.id, stored, new, clock.now()):
        db.session.rollback()
        raise SecondFactorFailed("the same security key was used concurrently")
    db.session.commit()
    methods = [AMR_SOFTWARE_KEY if row.device_type == "multi_device" else AMR_HARDWARE_KEY]
    if verified.user_verified:
        methods.append(AMR_USER_VERIFIED)
    return Assertion(user_id=row.user_id, methods=tuple(methods), user_verified=verified.user_verified)
