"""Which claims each scope releases (OIDC Core §5.4) and the `claims` request parameter (§5.5)."""

from __future__ import annotations

import json

from ..errors import ValidationError
from .text import N_

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name", "family_name", "given_name", "middle_name", "nickname", "preferred_username", "profile",
        "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at",
    ),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
}
# `roles` and `groups` release the RBAC claims of the same name (services.rbac.claims_for).
RBAC_SCOPES = ("roles", "groups")
STANDARD_SCOPES = ("openid", "profile", "email", "address", "phone", "offline_access", *RBAC_SCOPES)
ALL_CLAIMS = ("sub", *(c for claims in SCOPE_CLAIMS.values() for c in claims))
# Claims about the authentication event; requestable in `claims.id_token` but not user data.
AUTH_CLAIMS = ("auth_time", "acr", "amr")
ADDRESS_FIELDS = ("formatted", "street_address", "locality", "region", "postal_code", "country")


def user_claims(user) -> dict:
    """All standard claims known for a user (a storage row or UserView), without `sub`."""
    values = dict(user.claims or {})
    if user.email:
        values["email"] = user.email
        values["email_verified"] = bool(user.email_verified)
    values.setdefault("preferred_username", user.username)
    values["updated_at"] = getattr(user, "updated_at", None)  # kept by the provider, not an editable claim
    return {k: v for k, v in values.items() if v not in (None, "", {})}


def release(user, scopes: list[str], requested: dict | None) -> dict:
    """Claims released for `scopes` plus those individually requested (§5.5), `sub` always."""
    names: set[str] = set()
    for scope in scopes:
        names.update(SCOPE_CLAIMS.get(scope, ()))
    names.update(k for k in (requested or {}) if k in ALL_CLAIMS)
    available = user_claims(user)
    out = {"sub": user.sub}
    out.update({k: available[k] for k in sorted(names) if k in available})
    return out


def parse_claims_request(raw: str | None) -> dict | None:
    """Parse and check the `claims` parameter. Returns {"userinfo": {...}, "id_token": {...}}."""
    if raw is None or raw == "":
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValidationError("The 'claims' parameter is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ValidationError("The 'claims' parameter must be a JSON object.")
    out: dict = {}
    for member in ("userinfo", "id_token"):
        part = value.get(member)
        if part is None:
            continue
        if not isinstance(part, dict):
            raise ValidationError(f"'claims.{member}' must be a JSON object.")
        checked: dict = {}
        for name, spec in part.items():
            if spec is not None and not isinstance(spec, dict):
                raise ValidationError(f"'claims.{member}.{name}' must be null or an object.")
            spec = spec or {}
            if "essential" in spec and not isinstance(spec["essential"], bool):
                raise ValidationError(f"'claims.{member}.{name}.essential' must be a boolean.")
            if "values" in spec and not isinstance(spec["values"], list):
                raise ValidationError(f"'claims.{member}.{name}.values' must be an array.")
            checked[str(name)] = spec
        out[member] = checked
    return out


def implied_scopes(claims_request: dict | None) -> set[str]:
    """The scopes whose claims a `claims` request asks for individually: what consent must cover."""
    names = {name for part in (claims_request or {}).values() for name in part}
    return {scope for scope, claims in SCOPE_CLAIMS.items() if names & set(claims)}


def restrict(claims_request: dict | None, allowed_scopes) -> dict | None:
    """Drop individually requested user claims that no scope the client is registered for would
    release, so the `claims` parameter cannot reach beyond the client's registration."""
    if not claims_request:
        return claims_request
    reachable = {"sub"} | {c for scope in allowed_scopes for c in SCOPE_CLAIMS.get(scope, ())}
    return {member: {name: spec for name, spec in part.items() if name not in ALL_CLAIMS or name in reachable}
            for member, part in claims_request.items()}

# Profile claims in words, with the autocomplete token of their form field.
CLAIM_LABELS = {
    "name": (N_("Full name"), "name"), "given_name": (N_("Given name"), "given-name"),
    "family_name": (N_("Family name"), "family-name"), "middle_name": (N_("Middle name"), "additional-name"),
    "nickname": (N_("Nickname"), "nickname"), "profile": (N_("Profile page"), "url"),
    "picture": (N_("Picture URL"), "photo"), "website": (N_("Website"), "url"), "gender": (N_("Gender"), "sex"),
    "birthdate": (N_("Birth date (YYYY-MM-DD)"), "bday"),
    "zoneinfo": (N_("Time zone (e.g. Europe/Paris)"), "off"), "locale": (N_("Language (e.g. en-GB)"), "language"),
}
