"""The authorization endpoint (RFC 6749 §3.1, §4.1; OIDC Core §3.1.2) and its resume point.

The endpoint validates the request and hands it to the one resume function (resume.py), which asks
the policy for the first unmet prompt and either sends the person to `/interaction/<uid>` or issues
the code. Pages finish an interaction and send the browser back to `/authorize/<uid>`, which
re-validates the stored request and continues the same way."""

from __future__ import annotations

import re

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
    UnsupportedResponseTypeError,
)
from authlib.oidc.core.errors import (
    RegistrationNotSupportedError,
    RequestNotSupportedError,
    RequestURINotSupportedError,
)
from flask import Response, request

from .. import http
from ..errors import UnsafeRedirect, ValidationError
from ..extensions import csrf
from ..services import claims as claim_rules
from ..services import clients, codes, interactions, tokens
from ..services.runtime import current
from ..services.text import N_
from ..types import AuthorizationRequest, ClientView, InteractionView, SessionView, UserView
from . import bp, device, request_resolution
from .responses import RESPONSE_MODES, error_response, safe_description
from .responses import authorization_response as respond
from .resume import Pending
from .resume import resume as resume_flow
from .server import InvalidTargetError

MAX_PARAM_LENGTH = 4096
SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 §3.3
PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # RFC 7636 §4.2
DPOP_JKT = re.compile(r"^[A-Za-z0-9_-]{43}$")  # RFC 9449 §10: base64url SHA-256 thumbprint
KNOWN_PROMPTS = {"none", "login", "consent", "select_account"}


def _single_values(multi) -> dict[str, str]:
    """Parameters MUST NOT repeat (RFC 6749 §3.1); the client and redirect URI are checked first so
    that an error about them is shown rather than redirected."""
    values: dict[str, str] = {}
    for key in multi:
        items = multi.getlist(key)
        if key == "resource":
            # RFC 8707 §2: may repeat. Stored space-separated (a URI holds no spaces; one that does is refused).
            values[key] = " ".join(items)
            continue
        if len(items) > 1:
            if key in ("client_id", "redirect_uri"):
                raise UnsafeRedirect(N_("The request repeats the '%(name)s' parameter."), name=key)
            values.setdefault("__repeated__", key)
        values[key] = items[0]
    return values


def _client_and_redirect_uri(params: dict[str, str]) -> tuple[ClientView, str]:
    client = clients.get(params.get("client_id", ""))
    if client is None:
        raise UnsafeRedirect(N_("The application that sent you here is not registered with this server."))
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        raise UnsafeRedirect(N_("The request has no redirect_uri, so there is nowhere safe to send you back to."))
    # Exact string comparison with a registered URI (RFC 9700 §4.1.3; OIDC Core §3.1.2.1).
    if redirect_uri not in client.redirect_uris:
        raise UnsafeRedirect(N_("The address the application asked to return to is not registered for it."))
    return client, redirect_uri


def _scopes(raw: str | None, client: ClientView) -> tuple[str, ...]:
    if not raw:
        raise InvalidScopeError("The 'scope' parameter is required.")
    requested = raw.split(" ")
    if any(not SCOPE_TOKEN.match(s) for s in requested if s) or not raw.strip():
        raise InvalidScopeError("The 'scope' parameter is malformed.")
    allowed = set(client.scopes)
    if "refresh_token" not in client.grant_types:
        allowed.discard("offline_access")
    # Unknown or not-allowed values are ignored (OIDC Core §3.1.2.1); order and uniqueness kept.
    scopes = tuple(dict.fromkeys(s for s in requested if s in allowed))
    if not scopes:
        raise InvalidScopeError("None of the requested scopes is allowed for this application.")
    return scopes


def _invalid(message: str) -> InvalidRequestError:
    """invalid_request whose description may echo client-chosen text (names of parameters, claims)."""
    return InvalidRequestError(safe_description(message))


def _validate(params: dict[str, str], client: ClientView, redirect_uri: str) -> AuthorizationRequest:
    if "__repeated__" in params:
        raise _invalid(f"The '{params['__repeated__']}' parameter is repeated.")
    too_long = [k for k, v in params.items() if len(v) > MAX_PARAM_LENGTH or len(k) > MAX_PARAM_LENGTH]
    if too_long:
        raise _invalid(f"The '{too_long[0][:40]}' parameter is too long.")
    if "request" in params:
        raise RequestNotSupportedError()
    if "request_uri" in params:
        raise RequestURINotSupportedError()
    if "registration" in params:
        raise RegistrationNotSupportedError()
    response_type = params.get("response_type")
    if not response_type:
        raise InvalidRequestError("The 'response_type' parameter is required.")
    if response_type != "code":
        raise UnsupportedResponseTypeError(response_type, description="Only response_type=code is supported.")
    if "code" not in client.response_types or "authorization_code" not in client.grant_types:
        raise UnauthorizedClientError("This application may not use the authorization code flow.")
    if params.get("response_mode", "query") not in RESPONSE_MODES:
        raise InvalidRequestError("Unsupported 'response_mode'; use 'query' or 'form_post'.")
    scopes = _scopes(params.get("scope"), client)

    challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
    if challenge is None and method is not None:
        raise InvalidRequestError("'code_challenge_method' was sent without 'code_challenge'.")
    if challenge is not None:
        if (method or "plain") != "S256":
            raise InvalidRequestError("Only the S256 code_challenge_method is supported.")
        if not PKCE_CHALLENGE.match(challenge):
            raise InvalidRequestError("The 'code_challenge' is malformed.")
    elif client.require_pkce:
        raise InvalidRequestError("This application must use PKCE: send code_challenge with method S256.")

    known = KNOWN_PROMPTS | ({"create"} if current().settings.registration == "open" else set())
    requested_prompts = [p for p in params.get("prompt", "").split(" ") if p]
    unknown = [p for p in requested_prompts if p not in known]
    if unknown:
        # OpenID Connect Prompt Create 1.0 §4.1: a value not in prompt_values_supported is invalid_request.
        raise _invalid(f"Unsupported prompt value '{unknown[0][:40]}'; see prompt_values_supported.")
    prompt = tuple(dict.fromkeys(requested_prompts))
    if "none" in prompt and len(prompt) > 1:
        raise InvalidRequestError("prompt=none cannot be combined with other prompt values.")
    max_age = None
    if "max_age" in params:
        if not re.fullmatch(r"[0-9]{1,10}", params["max_age"]):  # ASCII digits only ('²'.isdigit() is True)
            raise InvalidRequestError("'max_age' must be a non-negative integer.")
        max_age = int(params["max_age"])
    try:
        claims_request = claim_rules.restrict(claim_rules.parse_claims_request(params.get("claims")),
                                              client.scopes)
    except ValidationError as exc:
        raise _invalid(str(exc)) from None
    try:
        resources = tokens.check_resources(client, params["resource"].split(" ") if "resource" in params else [])
    except tokens.InvalidTarget as exc:
        raise InvalidTargetError(str(exc)) from None
    dpop_jkt = params.get("dpop_jkt")
    if dpop_jkt is not None and not DPOP_JKT.match(dpop_jkt):
        raise InvalidRequestError("'dpop_jkt' must be a SHA-256 JWK thumbprint (RFC 9449 section 10).")
    hint_sub = None
    if params.get("id_token_hint"):
        rt = current()
        hint = tokens.decode_id_token_hint(rt.keyring, params["id_token_hint"])
        if not hint or hint.get("iss") != rt.settings.issuer or not isinstance(hint.get("sub"), str):
            raise InvalidRequestError("The 'id_token_hint' is not an ID token issued by this server.")
        hint_sub = hint["sub"]
    requested_sub = ((claims_request or {}).get("id_token") or {}).get("sub", {}).get("value")
    if requested_sub is not None:
        # OIDC Core §5.5.1: a sub requested with a value gets a positive response only for that person.
        if not isinstance(requested_sub, str) or hint_sub not in (None, requested_sub):
            raise InvalidRequestError("'claims.id_token.sub.value' must be a string naming the hinted person.")
        hint_sub = requested_sub
    return AuthorizationRequest(
        client_id=client.client_id, redirect_uri=redirect_uri, response_mode=params.get("response_mode", "query"),
        scopes=scopes, state=params.get("state"), nonce=params.get("nonce"), code_challenge=challenge,
        code_challenge_method="S256" if challenge else None, prompt=prompt, max_age=max_age,
        login_hint=params.get("login_hint"), id_token_hint_sub=hint_sub,
        ui_locales=tuple(params.get("ui_locales", "").split()),
        acr_values=tuple(params.get("acr_values", "").split()), claims=claims_request, resources=resources,
        dpop_jkt=dpop_jkt,
    )


class _IssueCode:
    """The code flow's last step: a code to the redirect URI (RFC 6749 §4.1.2), or access_denied."""

    def __init__(self, req: AuthorizationRequest, client: ClientView, mode: str, state: str | None):
        self.req, self.client, self.mode, self.state = req, client, mode, state

    def approve(self, session: SessionView, user: UserView, acr: str) -> Response:
        code = codes.issue(current().settings, request=self.req, client_pk=self.client.id, session=session, acr=acr)
        return respond(self.req.redirect_uri, self.mode, {"code": code, "state": self.state}, self.client.name)

    def deny(self) -> Response:
        raise AccessDeniedError("The person declined the request.")


def _process(params: dict[str, str], interaction: InteractionView | None) -> Response:
    client, redirect_uri = _client_and_redirect_uri(params)
    mode = params.get("response_mode") if params.get("response_mode") in RESPONSE_MODES else "query"
    state = params.get("state")
    if state is not None and len(state) > MAX_PARAM_LENGTH:
        state = None  # not echoed: the request is refused for it anyway
    try:
        req = _validate(params, client, redirect_uri)
        pending = Pending(request=req, client=client, interaction=interaction, params=params)
        return resume_flow(pending, _IssueCode(req, client, mode, state))
    except OAuth2Error as error:
        return error_response(redirect_uri, mode, error, state, client.name if client else None)


@bp.route("/authorize", methods=["GET", "POST"])
@csrf.exempt  # OIDC Core §3.1.2.1: POST comes from the client's site; state and PKCE protect the flow
def authorize() -> Response:
    source = request.form if request.method == "POST" else request.args
    params = request_resolution.resolve(_single_values(source))  # PAR request_uri / request object
    return params if isinstance(params, Response) else _process(params, None)


@bp.route("/authorize/<uid>", methods=["GET"])
def resume(uid: str) -> Response:
    secret = http.read(http.BROWSER_COOKIE)
    interaction = interactions.get(uid, secret)
    if interaction is None:
        raise UnsafeRedirect(N_("This sign-in request has expired or was already completed. "
                                "Go back to the application and start again."))
    if device.is_device_interaction(interaction):
        return device.resume(interaction)
    return _process(dict(interaction.params), interaction)
