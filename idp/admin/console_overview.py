"""The console's overview (counts and recent security events) and the audit log: a filtered,
paged table with people and applications by name, and one page per event."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import render_template, request

from .. import http
from ..errors import NotFound
from ..i18n import gettext
from ..services import audit, authorization, clients, clock, users
from ..services.text import N_
from ..types import Page
from . import bp
from .console_auth import actor, requires

DAY = 86400
# Audit event names in words (others are shown as recorded).
EVENT_LABELS = {
    "login.password": N_("Signed in with a password"), "login.passkey": N_("Signed in with a passkey"),
    "login.throttled": N_("Sign-in slowed down (too many failures)"), "logout": N_("Signed out"),
    "logout.backchannel": N_("Back-channel logout sent"), "consent.grant": N_("Allowed an application"),
    "consent.deny": N_("Denied an application"), "consent.revoke": N_("Removed an application's access"),
    "token.issue": N_("Tokens issued"), "token.refresh": N_("Tokens refreshed"), "token.revoke": N_("Token revoked"),
    "token.refresh_reuse_detected": N_("A used refresh token was sent again"),
    "token.code_reuse_detected": N_("A used authorization code was sent again"),
    "mfa.totp.verify": N_("Second step: authenticator code"), "mfa.webauthn.verify": N_("Second step: passkey"),
    "mfa.recovery.verify": N_("Second step: recovery code"), "mfa.totp.enrol": N_("Set up an authenticator app"),
    "mfa.totp.disable": N_("Removed the authenticator app"), "mfa.webauthn.register": N_("Added a passkey"),
    "mfa.webauthn.delete": N_("Removed a passkey"), "mfa.webauthn.rename": N_("Renamed a passkey"),
    "mfa.recovery.generate": N_("Made new recovery codes"), "password.change": N_("Changed the password"),
    "password.set_by_link": N_("Set a password with a link"), "profile.update": N_("Changed the profile"),
    "device.enter": N_("Entered a device code"), "device.done": N_("Answered a device request"),
    "client.register": N_("Application registered itself"), "admin.client.create": N_("Registered an application"),
    "admin.client.update": N_("Changed an application"), "admin.client.delete": N_("Deleted an application"),
    "admin.client.disable": N_("Disabled an application"), "admin.client.enable": N_("Enabled an application"),
    "admin.client.rotate_secret": N_("Rotated an application's secret"), "admin.user.create": N_("Created a user"),
    "admin.user.update": N_("Changed a user's profile"), "admin.user.delete": N_("Deleted a user"),
    "admin.user.disable": N_("Disabled a user"), "admin.user.enable": N_("Enabled a user"),
    "admin.user.mfa_reset": N_("Reset a user's second factors"), "admin.user.roles": N_("Changed a user's roles"),
    "admin.user.password_link": N_("Made a set-password link"),
    "account.delete": N_("Deleted their own account"),
    "account.reauthenticate": N_("Typed the password again"),
    "account.register": N_("Signed up"),
    "admin.initial_access_token.create": N_("Made an initial access token"),
    "admin.user.groups": N_("Changed a user's groups"),
    "admin.user.invite": N_("Invited a person"),
    "admin.role.create": N_("Created a role"),
    "admin.role.update": N_("Changed a role"),
    "admin.role.delete": N_("Deleted a role"),
    "admin.group.create": N_("Created a group"),
    "admin.group.update": N_("Changed a group"),
    "admin.group.delete": N_("Deleted a group"),
    "client.register.delete": N_("Application deleted itself"),
    "client.register.update": N_("Application changed itself"),
    "email.change_requested": N_("Asked to change the e-mail address"),
    "email.verified": N_("Confirmed an e-mail address"),
    "login.magic_link": N_("Signed in with an e-mailed link"),
    "login.magic_link_requested": N_("Asked for a sign-in link"),
    "login.magic_link_transfer": N_("Allowed a sign-in link in another browser"),
    "mfa.recovery.remove": N_("Removed the recovery codes"),
    "mfa.webauthn.counter_regression": N_("A passkey's counter went backwards (possibly copied)"),
}


@bp.app_template_filter("event_label")
def event_label(event: str) -> str:
    """An audit event's name in words, in the page's language (unknown names as recorded)."""
    return gettext(EVENT_LABELS[event]) if event in EVENT_LABELS else event


RECENT_SECURITY_EVENTS = 8


def _names(entries) -> tuple[dict[int, str], dict[str, str]]:
    """Usernames and client names for the ids these audit entries mention."""
    people = users.usernames({e.actor_user_id for e in entries} | {e.subject_user_id for e in entries})
    apps = clients.names({e.client_id for e in entries} | {e.details.get("client") for e in entries
                                                          if isinstance(e.details.get("client"), str)})
    return people, apps


@bp.get("")
@requires(None)
def index():
    """Each figure only for an administrator whose roles open its section (least privilege: an
    application manager sees no audit events, an auditor no user count)."""
    since, me = clock.now() - DAY, actor()
    counts: dict[str, int] = {}
    if authorization.allowed(me, "user.list"):
        counts["users"] = users.count()
    if authorization.allowed(me, "client.list"):
        counts["clients"] = len(clients.list_registered())
    recent, people, apps = None, {}, {}
    if authorization.allowed(me, "audit.read"):
        counts["sign_ins"] = audit.count(event="login", outcome=audit.SUCCESS, since=since)
        counts["failures"] = (audit.count(event="login", outcome=audit.FAILURE, since=since)
                              + audit.count(event="mfa", outcome=audit.FAILURE, since=since))
        recent = audit.search(outcome=audit.FAILURE, limit=RECENT_SECURITY_EVENTS).items
        people, apps = _names(recent)
    return render_template("admin/index.html", counts=counts, recent=recent, people=people, apps=apps)


def _day(value: str, end: bool = False) -> int | None:
    """A YYYY-MM-DD date from a filter as epoch seconds (UTC; the end of the day when `end`)."""
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(day.timestamp()) + (DAY if end else 0)


@bp.get("/audit")
@requires("audit.read")
def audit_page():
    args = request.args

    def number(name):
        return http.whole_number(args.get(name))  # nine digits fit the integer columns

    filters = {k: args.get(k, "").strip()[:254] for k in ("event", "outcome", "person", "user_id", "client_id",
                                                           "since", "until")}
    outcome = filters["outcome"] if filters["outcome"] in (audit.SUCCESS, audit.FAILURE) else None
    user_id, unknown_person = number("user_id"), False
    if filters["person"] and user_id is None:
        person = users.find(filters["person"])
        user_id, unknown_person = (person.id, False) if person else (None, True)
    page = audit.search(event=filters["event"], outcome=outcome, user_id=user_id, client_id=filters["client_id"],
                        since=_day(filters["since"]), until=_day(filters["until"], end=True),
                        offset=number("offset") or 0, limit=50)
    if unknown_person:  # a name nobody has: nothing matches (rather than everything)
        page = Page(items=(), total=0, offset=0, limit=page.limit)
    people, apps = _names(page.items)
    if user_id is not None and not filters["person"]:
        filters["person"] = users.usernames({user_id}).get(user_id, "")
    filters.pop("user_id")
    return render_template("admin/audit.html", page=page, filters={k: v for k, v in filters.items() if v},
                           people=people, apps=apps, events=audit.event_names(),
                           clients=sorted(clients.list_registered(), key=lambda c: c.name.lower()))


@bp.get("/audit/<int:event_id>")
@requires("audit.read")
def audit_event(event_id: int):
    entry = audit.get(event_id)
    if entry is None:
        raise NotFound(N_("No such audit event."))
    people, apps = _names([entry])
    return render_template("admin/audit_event.html", e=entry, people=people, apps=apps)
