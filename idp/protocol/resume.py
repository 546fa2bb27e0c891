"""The one resume function: every flow that signs a person in (the authorization code flow at
/authorize, the device flow's /device page) finishes through `resume`, which runs the same ordered
policy (services/policy.py) on the same inputs and differs only in its last step — issue a code, or
approve the device — given by the caller as a `Finish`.

A policy check added once therefore applies to both flows, and completing an interaction is a
conditional update, so one interaction yields at most one code or one device approval however many
times the browser resumes it concurrently."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from authlib.oauth2.rfc6749.errors import AccessDeniedError
from authlib.oidc.core.errors import (
    AccountSelectionRequiredError,
    ConsentRequiredError,
    InteractionRequiredError,
    LoginRequiredError,
)
from flask import Response, redirect, url_for

from .. import http
from ..errors import UnsafeRedirect
from ..services import consents, interactions, policy
from ..services.runtime import current
from ..services.text import N_
from ..types import AuthorizationRequest, ClientView, InteractionView, SessionView, UserView

PROMPT_ERRORS = {
    policy.LOGIN: LoginRequiredError,
    policy.CONSENT: ConsentRequiredError,
    policy.SELECT_ACCOUNT: AccountSelectionRequiredError,
    # OIDC Core §3.1.2.6: the person must act (give, or first set up, a second factor)
    policy.MFA: InteractionRequiredError,
    policy.MFA_ENROL: InteractionRequiredError,
    policy.VERIFY_EMAIL: InteractionRequiredError,
    policy.CREATE: LoginRequiredError,
}
COMPLETED = N_("This sign-in request was already completed. Go back to the application.")


class Finish(Protocol):
    """The last step of a flow, once the policy has nothing left to ask."""

    def approve(self, session: SessionView, user: UserView, acr: str) -> Response: ...

    def deny(self) -> Response: ...


@dataclass(frozen=True)
class Pending:
    """An authorization request waiting for the person: validated, with its client, and the stored
    interaction when one was started (None on the first pass through /authorize). `params` are what a
    new interaction stores to be re-validated on resume."""

    request: AuthorizationRequest
    client: ClientView
    interaction: InteractionView | None
    params: dict


def _ask(pending: Pending, prompt: str, secret: str, new_browser: bool) -> Response:
    """Send the browser to the interaction page for `prompt` (OIDC Core §3.1.2.3)."""
    if "none" in pending.request.prompt:
        raise PROMPT_ERRORS[prompt]()
    if pending.interaction is not None:
        uid = pending.interaction.uid
        interactions.set_prompt(uid, secret, prompt)
    else:
        uid = interactions.start(current().settings, client_id=pending.client.client_id, params=pending.params,
                                 prompt=prompt, consent_scopes=consents.scopes_to_consent(pending.request),
                                 browser_secret=secret)
    response = redirect(url_for("interaction.show", uid=uid))
    if new_browser:
        http.set_cookie(response, http.BROWSER_COOKIE, secret)
    return response


def resume(pending: Pending, finish: Finish) -> Response:
    """Run the policy for `pending`; send the person to the first unmet prompt, or finish exactly once."""
    secret, new_browser = http.browser_secret()
    interaction = pending.interaction
    if interaction is not None and interaction.denied:
        if not interactions.complete(interaction.uid, secret):
            raise UnsafeRedirect(COMPLETED)
        return finish.deny()
    session, user = policy.signed_in(current().settings, http.read(http.SESSION_COOKIE))
    ctx = policy.Context(request=pending.request, client=pending.client, session=session,
                         session_sub=user.sub if user else None, interaction=interaction, user=user)
    prompt = policy.first_unmet(ctx)
    if prompt:
        return _ask(pending, prompt, secret, new_browser)
    assert session is not None and user is not None
    req = pending.request
    if req.id_token_hint_sub is not None and user.sub != req.id_token_hint_sub:
        # Someone else signed in than the id_token_hint names (OIDC Core §3.1.2.1).
        raise LoginRequiredError("The account signed in is not the one the application asked for.")
    acr = policy.acr_for(req, session.acr)
    if acr is None:  # an essential acr claim this session does not reach (OIDC Core §5.5.1.1)
        raise AccessDeniedError("The requested authentication context class cannot be satisfied.")
    if interaction is not None and not interactions.complete(interaction.uid, secret):
        raise UnsafeRedirect(COMPLETED)
    return finish.approve(session, user, acr)
