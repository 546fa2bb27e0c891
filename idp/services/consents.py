"""Consent: what a person allowed a client to have. Remembered per client and scope set."""

from __future__ import annotations

from collections.abc import Callable

from ..extensions import db
from ..storage import clients as client_store
from ..storage import consents as store
from ..types import AuthorizationRequest, ConnectedApp
from . import claims as claim_rules
from . import clock, tokens
from .text import N_


def scopes_to_consent(request: AuthorizationRequest) -> list[str]:
    """What a person is asked to allow: the requested scopes plus the scopes of claims requested
    one by one through the `claims` parameter (OIDC Core §5.5)."""
    return list(dict.fromkeys([*request.scopes, *sorted(claim_rules.implied_scopes(request.claims))]))


def covers(user_id: int, client_pk: int, scopes: list[str]) -> bool:
    row = store.find(user_id, client_pk)
    return row is not None and set(scopes) <= set(row.scopes)


def grant(user_id: int, client_pk: int, scopes: list[str]) -> None:
    """Record (widen) the consent for this client."""
    row = store.find(user_id, client_pk)
    if row is None:
        store.add(store.Consent(user_id=user_id, client_pk=client_pk, scopes=sorted(set(scopes)),
                                granted_at=clock.now()))
    else:
        row.scopes = sorted(set(row.scopes) | set(scopes))
        row.granted_at = clock.now()
    db.session.commit()


# What each scope means, in words for the consent page.
SCOPE_DESCRIPTIONS: dict[str, str] = {
    "openid": N_("Confirm who you are (your account identifier)"),
    "profile": N_("See your name and basic profile (username, picture, locale)"),
    "email": N_("See your e-mail address"),
    "address": N_("See your postal address"),
    "phone": N_("See your phone number"),
    "offline_access": N_("Stay connected when you are not using the app (until you revoke it)"),
    "roles": N_("See the roles you hold"),
    "groups": N_("See the groups you belong to"),
}


def describe(scopes: list[str], translate: Callable[..., str] | None = None) -> list[str]:
    """Every scope in words (in the page's language when the page passes its gettext); an API scope
    without a description is named as it is, never left out."""
    say = translate or (lambda text, **values: text % values if values else text)
    return [say(SCOPE_DESCRIPTIONS[s]) if s in SCOPE_DESCRIPTIONS
            else say(N_("Use “%(scope)s” on your behalf"), scope=s) for s in scopes]


def connected_apps(user_id: int) -> list[ConnectedApp]:
    """The applications a person has allowed, with what each may see."""
    apps = []
    for row in store.for_user(user_id):
        client = client_store.get(row.client_pk)
        if client is None:
            continue
        apps.append(ConnectedApp(client_pk=client.id, client_id=client.client_id, name=client.name,
                                 scopes=tuple(row.scopes), permissions=tuple(describe(list(row.scopes))),
                                 granted_at=row.granted_at))
    return apps


def revoke(user_id: int, client_pk: int) -> int | None:
    """Withdraw a person's consent for a client and revoke that client's access and refresh tokens
    for them. Returns the number of tokens revoked, or None if there was no consent to withdraw."""
    if not store.remove(user_id, client_pk):
        db.session.rollback()
        return None
    return tokens.revoke_grants(user_id, client_pk)  # commits both
