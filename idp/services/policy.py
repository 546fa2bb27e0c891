"""The interaction policy: named checks that decide *that* a person must act (log in, choose an
account, consent) before an authorization response can be sent. The first unmet check wins.
Each check is a function of the request, the SSO session and what this interaction recorded."""

from __future__ import annotations

from dataclasses import dataclass

from ..types import AuthorizationRequest, ClientView, InteractionView, SessionView
from . import clock, consents

LOGIN = "login"
SELECT_ACCOUNT = "select_account"
CONSENT = "consent"


@dataclass(frozen=True)
class Context:
    request: AuthorizationRequest
    client: ClientView
    session: SessionView | None
    session_sub: str | None
    interaction: InteractionView | None


def _logged_in_here(ctx: Context) -> bool:
    """The person authenticated during this very interaction (so login-forcing checks are met)."""
    i = ctx.interaction
    return bool(i and i.login_at is not None and ctx.session and ctx.session.user_id == i.login_user_id)


def no_session(ctx: Context) -> str | None:
    """OIDC Core §3.1.2.3: authenticate when there is no session."""
    return LOGIN if ctx.session is None else None


def prompt_login(ctx: Context) -> str | None:
    """prompt=login: re-authenticate, once, for this request."""
    return LOGIN if "login" in ctx.request.prompt and not _logged_in_here(ctx) else None


def max_age(ctx: Context) -> str | None:
    """max_age: re-authenticate when the last authentication is older (OIDC Core §3.1.2.1); max_age=0
    is equivalent to prompt=login (errata set 2), even within the second of the last sign-in."""
    limit = ctx.request.max_age
    if limit is None or _logged_in_here(ctx) or ctx.session is None:
        return None
    return LOGIN if limit == 0 or clock.now() - ctx.session.auth_time > limit else None


def id_token_hint(ctx: Context) -> str | None:
    """id_token_hint naming a different person than the session's: that person must log in."""
    hinted = ctx.request.id_token_hint_sub
    if hinted is None or _logged_in_here(ctx):
        return None
    return LOGIN if hinted != ctx.session_sub else None


def select_account(ctx: Context) -> str | None:
    """prompt=select_account: let the person confirm or switch the account."""
    if SELECT_ACCOUNT not in ctx.request.prompt:
        return None
    return None if ctx.interaction and ctx.interaction.account_selected else SELECT_ACCOUNT


def consent(ctx: Context) -> str | None:
    """Consent: asked when prompt=consent, or when no remembered decision covers the scopes,
    unless the client is first-party (skip_consent)."""
    given_here = bool(ctx.interaction and ctx.interaction.consent_given)
    if "consent" in ctx.request.prompt:
        return None if given_here else CONSENT
    if given_here or ctx.client.skip_consent:
        return None
    assert ctx.session is not None
    wanted = consents.scopes_to_consent(ctx.request)
    return None if consents.covers(ctx.session.user_id, ctx.client.id, wanted) else CONSENT


CHECKS = (no_session, prompt_login, max_age, id_token_hint, select_account, consent)


def first_unmet(ctx: Context) -> str | None:
    for check in CHECKS:
        prompt = check(ctx)
        if prompt:
            return prompt
    return None
