"""The interaction policy: named checks that decide *that* a person must act (log in, choose an
account, set up or give a second factor, consent) before an authorization response can be sent. The
first unmet check wins (`CHECKS`, in order; the README's "How sign-in is decided" lists them). Each
check is a function of the request, the client, who is signed in and what this interaction recorded.
Every flow that signs a person in (the code flow, the device flow, the provider's own consoles) asks
these same checks. Also the authentication context class (`acr`) rules."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..types import AuthorizationRequest, ClientView, InteractionView, MfaStatus, SessionView, UserView
from . import clock, consents, mfa, sessions, users
from .sessions import ACR_LEVELS, MFA_ACR

LOGIN = "login"
SELECT_ACCOUNT = "select_account"
CONSENT = "consent"
MFA = "mfa"
MFA_ENROL = "mfa_enrol"  # a required action: set up a second factor inside the sign-in


def signed_in(settings, cookie: str | None) -> tuple[SessionView | None, UserView | None]:
    """Who is signed in: the live SSO session behind the cookie and its enabled user, or (None, None)."""
    session = sessions.current(settings, cookie)
    user = users.get_enabled(session.user_id) if session else None
    return (session, user) if user is not None else (None, None)


@dataclass(frozen=True)
class Context:
    request: AuthorizationRequest
    client: ClientView
    session: SessionView | None
    session_sub: str | None
    interaction: InteractionView | None
    user: UserView | None = None

    @cached_property
    def factors(self) -> MfaStatus | None:
        """The signed-in person's second factors (read once per decision)."""
        return mfa.status(self.session.user_id) if self.session is not None else None


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


def _essential_acr_values(req: AuthorizationRequest) -> list[str] | None:
    spec = ((req.claims or {}).get("id_token") or {}).get("acr") or {}
    if not isinstance(spec, dict) or not spec.get("essential"):
        return None
    wanted = spec.get("values") or ([spec["value"]] if "value" in spec else [])
    return [v for v in wanted if isinstance(v, str)] or None


def acr_for(req: AuthorizationRequest, session_acr: str) -> str | None:
    """The `acr` to state in the tokens. An essential request is answered with a requested value
    the session reaches (a higher level satisfies a lower one), or None if none is reached, which
    the caller treats as a failed authentication (OIDC Core §5.5.1.1)."""
    wanted = _essential_acr_values(req)
    if not wanted:
        return session_acr
    if session_acr in wanted:
        return session_acr
    reached = ACR_LEVELS.get(session_acr, 0)
    met = [v for v in wanted if v in ACR_LEVELS and ACR_LEVELS[v] <= reached]
    return max(met, key=ACR_LEVELS.__getitem__) if met else None


def mfa_required(ctx: Context) -> bool:
    """A second factor is needed when the person has one enrolled, is an administrator, or the
    client demands it (its `require_mfa` setting). Step-up: a session below the MFA level asked for
    `urn:idp:acr:mfa` (acr_values or an essential acr claim) is taken up to it whenever the person has
    a factor, which is exactly the first case; without one, `acr_values` stays voluntary (the
    session's level is stated) and an essential request fails with access_denied (§5.5.1.1)."""
    if ctx.session is None:
        return False
    if ctx.client.require_mfa or (ctx.user is not None and ctx.user.is_admin):
        return True
    return bool(ctx.factors and ctx.factors.enrolled)


def enrol_second_factor(ctx: Context) -> str | None:
    """Required action (like Keycloak's): a second factor is required but the person has none yet,
    so they set one up inside this sign-in (authenticator app or passkey), then continue at the MFA
    level. Without this the first administrator could never get in."""
    if ctx.session is None or ctx.session.acr == MFA_ACR or not mfa_required(ctx):
        return None
    return MFA_ENROL if not (ctx.factors and ctx.factors.enrolled) else None


def second_factor(ctx: Context) -> str | None:
    """MFA: the session must have reached the MFA level (in this session's lifetime; `max_age` and
    prompt=login already forced a new session when due) when a second factor is required."""
    if ctx.session is None or ctx.session.acr == MFA_ACR:
        return None
    return MFA if mfa_required(ctx) else None


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


CHECKS = (no_session, prompt_login, max_age, id_token_hint, select_account, enrol_second_factor, second_factor,
          consent)


def first_unmet(ctx: Context) -> str | None:
    """The prompt of the first check in `CHECKS` that is not met, or None when the person may continue."""
    for check in CHECKS:
        prompt = check(ctx)
        if prompt:
            return prompt
    return None


def may_continue(client: ClientView, session: SessionView | None, user: UserView | None) -> bool:
    """Whether the signed-in person may use a first-party page (the consoles) of `client` as they are:
    the same checks a plain authorization request of that client (scope `openid`) would run."""
    request = AuthorizationRequest(client_id=client.client_id, redirect_uri="", response_mode="query",
                                   scopes=("openid",))
    ctx = Context(request=request, client=client, session=session, session_sub=user.sub if user else None,
                  interaction=None, user=user)
    return first_unmet(ctx) is None
