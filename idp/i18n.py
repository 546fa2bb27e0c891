"""Translations (Flask-Babel): every string a person reads — pages, flash messages, mails, scripts — goes
through `_()`; `python scripts/translations.py update` collects them into translations/messages.pot and each
language has a complete catalogue in translations/<lang>/LC_MESSAGES/messages.po (the compiled .mo files
are committed next to them; tests/unit/test_i18n_catalogs.py fails when either is out of date).

The language of a page, in order: the `ui_locales` of the request the page belongs to (the sign-in
request, OIDC Core §3.1.2.1, or the sign-out request, RP-Initiated Logout 1.0 §2), the language picked in
the footer (a cookie), the browser's Accept-Language, English. Mails go out in their recipient's
language instead (idp.mails.language).
Dates and times are shown in the person's `zoneinfo` claim when they have one, else UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, format_datetime, get_locale, refresh
from flask_babel import gettext as _babel_gettext
from flask_babel import lazy_gettext as _babel_lazy_gettext
from flask_babel import ngettext as _babel_ngettext

from .config import DATA_DIR
from .errors import IdpError, Message
from .services.languages import DEFAULT, LANGUAGES, supported
from .services.text import Marked

COOKIE = "idp_lang"
COOKIE_MAX_AGE = 365 * 86400


def gettext(text: str, **values) -> str:
    return _babel_gettext(text, **values)


def ngettext(singular: str, plural: str, num: int, **values) -> str:
    return _babel_ngettext(singular, plural, num, **values)


lazy_gettext = _babel_lazy_gettext
_ = gettext


def describe(message: IdpError | Message | str | None) -> str:
    """What a service said, in the page's language: a domain error's (or a Message's) English template
    translated, with its values filled in — values that are marked words (N_("Full name")) translated
    too, the others (addresses, names, numbers) as they are. A plain string is translated as it stands
    (English when the catalogue does not have it). The result is plain text: the template escapes it."""
    if isinstance(message, IdpError):
        message = message.message
    if not isinstance(message, Message):
        return gettext(str(message)) if message else ""
    if not message.template:
        return str(message)
    values = {name: gettext(value) if isinstance(value, Marked) else value for name, value in message.values.items()}
    if message.plural is not None:
        return ngettext(message.template, message.plural, values.pop("num"), **values)
    return gettext(message.template, **values)


def available() -> list[str]:
    """The languages with a compiled catalogue (English is the source language), as discovery's
    ui_locales_supported advertises them."""
    folder = DATA_DIR / "translations"
    return [lang for lang in LANGUAGES
            if lang == DEFAULT or (folder / lang / "LC_MESSAGES" / "messages.mo").is_file()]


def complete(tag: str | None) -> str | None:
    """The catalogue for a language tag when it is one of the complete, compiled ones, else None."""
    lang = supported(tag)
    return lang if lang is not None and lang in available() else None


def first_supported(ui_locales: str | None) -> str | None:
    """The first tag of a space-separated `ui_locales` list that has a catalogue, as its catalogue."""
    for tag in str(ui_locales or "").split()[:20]:
        if (lang := supported(tag)) is not None:
            return lang
    return None


def select_locale() -> str:
    """The page's language (the one place that decides it): the request's ui_locales — the sign-in
    request's, or the one a view put in `g.ui_locales` (the sign-out pages) — then the picker's
    cookie, then Accept-Language, then English."""
    if not has_request_context():
        return DEFAULT
    interaction = g.get("interaction")
    ui_locales = g.get("ui_locales") or (interaction.params.get("ui_locales") if interaction is not None else None)
    if (lang := first_supported(ui_locales)) is not None:
        return lang
    picked = supported(request.cookies.get(COOKIE))
    if picked is not None:
        return picked
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT)


def use_ui_locales(ui_locales: str | None) -> str | None:
    """Let select_locale follow a request's `ui_locales` that is not a sign-in request's (the sign-out
    request, RP-Initiated Logout 1.0 §2) for the rest of this request. Returns the catalogue chosen."""
    g.ui_locales = ui_locales
    refresh()  # a language already worked out for this request is worked out again
    return first_supported(ui_locales)


def select_timezone() -> str:
    user = g.get("user") if has_request_context() else None
    zone = (getattr(user, "claims", None) or {}).get("zoneinfo") if user is not None else None
    if isinstance(zone, str) and zone:
        try:
            ZoneInfo(zone)
            return zone
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return "UTC"


def language() -> str:
    """The language of the current page ("en", "de", …), for <html lang>."""
    locale = get_locale() if has_request_context() else None
    return locale.language if locale is not None else DEFAULT


def when(timestamp: int | None) -> str:
    """A stored epoch-seconds time in the person's language and time zone."""
    if timestamp is None:
        return gettext("never")
    return format_datetime(datetime.fromtimestamp(timestamp, tz=UTC), "medium")


@cache
def _script_messages() -> tuple:
    """The messages static/js/*.js ask for with _("…"), read once from the scripts themselves."""
    from babel.messages.extract import extract_javascript

    found = []
    for script in sorted((DATA_DIR / "static" / "js").glob("*.js")):
        with open(script, "rb") as f:
            found += [message for _line, _func, message, _comments in extract_javascript(f, ["_"], [], {})
                      if isinstance(message, str)]
    return tuple(dict.fromkeys(found))


def script_messages() -> dict[str, str]:
    """The page's translations of the scripts' messages (empty in English: the scripts' own text)."""
    if language() == DEFAULT:
        return {}
    return {message: gettext(message) for message in _script_messages()}


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone,
          default_translation_directories=str(DATA_DIR / "translations"))
    # Flask-Babel installed _/gettext/ngettext (autoescape-aware) and {% trans %} in Jinja.
    app.jinja_env.globals.update(html_lang=language, languages=LANGUAGES, script_messages=script_messages)
    app.jinja_env.filters["describe"] = describe  # a service's Message (e.g. a session's device) in words
    app.add_url_rule("/language", "language", pick_language, methods=["POST"])


def pick_language():
    """The footer's language picker (a CSRF-protected form; works without JS): remember the choice in a
    cookie and go back to the page it was made on (a path on this site only)."""
    from flask import redirect

    from . import http

    back = request.form.get("next", "")
    if not back.startswith("/") or back.startswith("//") or "\\" in back or any(ord(c) < 32 for c in back):
        back = "/"
    response = redirect(back, code=303)
    lang = supported(request.form.get("language"))
    if lang is not None:
        http.set_cookie(response, COOKIE, lang, max_age=COOKIE_MAX_AGE)
        remember_on_account(lang)
    return response


def remember_on_account(lang: str) -> None:
    """A signed-in person's pick becomes their `locale` claim too (so mails follow it), when people may
    edit that claim here (`account_editable_claims`); a more precise tag of the same language
    ("fr-CA" when "fr" is picked) is kept."""
    from . import http
    from .services import audit, policy, users
    from .services.runtime import current

    settings = current().settings
    if "locale" not in settings.editable_claims:
        return
    session, user = policy.signed_in(settings, http.read(http.SESSION_COOKIE))
    if session is None or user is None or supported(user.claims.get("locale")) == lang:
        return
    if users.update_profile(user.id, {"locale": lang}, ("locale",)):
        audit.record("profile.update", origin=http.origin(), actor_user_id=user.id, details={"claims": ["locale"]})


def throttled(seconds: int, what: str = "failed") -> str:
    """A throttle's wait (services.throttle, services.mfa.throttle), as a page says it."""
    num = max(1, (seconds + 59) // 60)
    if what == "mfa":
        return ngettext("Too many wrong attempts. For your security, wait %(num)d minute and try again, "
                        "or use another method.",
                        "Too many wrong attempts. For your security, wait %(num)d minutes and try again, "
                        "or use another method.", num)
    if what == "requests":
        return ngettext("Too many requests. For your security, wait %(num)d minute and try again.",
                        "Too many requests. For your security, wait %(num)d minutes and try again.", num)
    if what == "sign-ups":
        return ngettext("Too many sign-ups. For your security, wait %(num)d minute and try again.",
                        "Too many sign-ups. For your security, wait %(num)d minutes and try again.", num)
    return ngettext("Too many failed attempts. For your security, wait %(num)d minute and try again.",
                    "Too many failed attempts. For your security, wait %(num)d minutes and try again.", num)
