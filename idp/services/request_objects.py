"""Request objects (RFC 9101 §4-6, OIDC Core §6.1): an authorization request as a JWT signed with
one of the client's registered keys. Only the object's parameters count; `iss`, `aud`, `exp` and
`nbf` are checked; an unsigned object (`alg: none`) is accepted only from a client registered with
request_object_signing_alg "none" (never a FAPI 2.0 client), and its `iss`, `aud` and `exp` only when
present: it proves no more than query parameters do (OIDC Core §6.1 asks for iss and aud if signed)."""

from __future__ import annotations

import json

from joserfc import jwt
from joserfc.errors import JoseError

from ..errors import ValidationError
from ..types import ClientView
from . import client_keys, clock, crypto

MAX_LENGTH = 16384
MAX_LIFETIME = 3600  # FAPI 2.0 Message Signing §5.3.1: exp - nbf at most 60 minutes
LEEWAY = 30
JWT_CLAIMS = ("iss", "aud", "exp", "nbf", "iat", "jti")


class InvalidRequestObject(ValidationError):
    """RFC 9101 §6.3 / OIDC Core §6.1 invalid_request_object."""


class UnsignedNotAccepted(InvalidRequestObject):
    """An unsigned object from a client not registered for them. /authorize answers OIDC Core §3.1.2.6
    `request_not_supported` (what the OpenID conformance suite accepts for a refused unsigned object, as
    discovery lists `none` for the clients that did register it); /par keeps invalid_request_object."""


def _header(token: str) -> dict:
    try:
        header = json.loads(crypto.b64url_decode(token.split(".", 1)[0]))
    except (ValueError, TypeError):
        raise InvalidRequestObject("The request object is not a JWT.") from None
    if not isinstance(header, dict):
        raise InvalidRequestObject("The request object is not a JWT.")
    return header


def _claims(settings, client: ClientView, token: str) -> tuple[dict, bool]:
    """The object's claims, and whether it was signed."""
    if len(token) > MAX_LENGTH or token.count(".") != 2:
        raise InvalidRequestObject("The request object is not a compact JWT (encrypted objects are not supported).")
    alg = _header(token).get("alg")
    if alg == "none":
        if not token.endswith("."):
            raise InvalidRequestObject("An unsigned request object must have an empty signature.")
        if client.request_object_signing_alg != "none" or client.fapi2:
            raise UnsignedNotAccepted("Unsigned request objects are not accepted from this client.")
        try:
            claims = json.loads(crypto.b64url_decode(token.split(".")[1]))
        except (ValueError, TypeError):
            raise InvalidRequestObject("The request object's payload is not JSON.") from None
        return (claims if isinstance(claims, dict) else {}), False
    registered = client.request_object_signing_alg if client.request_object_signing_alg != "none" else None
    if alg not in client_keys.allowed_algs(client, registered):
        raise InvalidRequestObject("The request object's alg is not allowed for this client.")
    try:
        key = client_keys.key_for(settings, client, alg, _header(token).get("kid"))
        return jwt.decode(token, key, algorithms=[alg]).claims, True
    except client_keys.KeysUnavailable as exc:
        raise InvalidRequestObject(f"The client's signing key cannot be found: {exc}.") from None
    except (JoseError, ValueError, TypeError):
        raise InvalidRequestObject("The request object's signature is not valid.") from None


def _number(claims: dict, name: str) -> int | None:
    value = claims.get(name)
    if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
        raise InvalidRequestObject(f"The request object's {name} is not a number.")
    return None if value is None else int(value)


def parameters(settings, client: ClientView, token: str) -> dict[str, str]:
    """The authorization request parameters of a request object sent by `client` (RFC 9101 §5: the
    object's parameters only; client_id is the client's). Raises InvalidRequestObject."""
    claims, signed = _claims(settings, client, token)
    if (signed or "iss" in claims) and claims.get("iss") != client.client_id:
        raise InvalidRequestObject("The request object's iss must be the client_id.")
    aud = claims.get("aud")
    if (signed or "aud" in claims) and settings.issuer not in (aud if isinstance(aud, list) else [aud]):
        raise InvalidRequestObject("The request object's aud must be this server's issuer.")
    if claims.get("client_id", client.client_id) != client.client_id:
        raise InvalidRequestObject("The request object's client_id does not match.")
    now = clock.now()
    exp, nbf = _number(claims, "exp"), _number(claims, "nbf")
    if (exp is None and signed) or (exp is not None and exp <= now - LEEWAY):
        raise InvalidRequestObject("The request object has expired (or has no exp).")
    if nbf is None and client.fapi2:
        raise InvalidRequestObject("The request object needs nbf.")
    if nbf is not None and (nbf > now + LEEWAY or nbf < now - MAX_LIFETIME):
        raise InvalidRequestObject("The request object's nbf is in the future or too old.")
    if exp is not None and exp - (nbf if nbf is not None else now) > MAX_LIFETIME:
        raise InvalidRequestObject("The request object may be valid for at most 60 minutes.")
    params: dict[str, str] = {}
    for name, value in claims.items():
        if name in JWT_CLAIMS:
            continue
        if name in ("request", "request_uri"):
            raise InvalidRequestObject(f"A request object cannot contain '{name}'.")
        if isinstance(value, str):
            params[name] = value
        elif isinstance(value, int) and not isinstance(value, bool):
            params[name] = str(value)  # e.g. max_age
        elif isinstance(value, dict) and name == "claims":
            params[name] = json.dumps(value)  # OIDC Core §6.1: claims as a JSON object
        elif isinstance(value, list) and name == "resource" and all(isinstance(v, str) for v in value):
            params[name] = " ".join(value)
        else:
            raise InvalidRequestObject(f"The request object's '{name[:40]}' has an unsupported type.")
    params["client_id"] = client.client_id
    return params
