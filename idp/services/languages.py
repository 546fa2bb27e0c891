"""The languages the provider speaks, as data the services may use without the request: which BCP 47
tags name a complete catalogue (idp.i18n builds the pages' language on top of this) and the check of
a person's `locale` claim (OIDC Core §5.1: a BCP 47 language tag such as "fr" or "fr-CA")."""

from __future__ import annotations

import re

# The complete catalogues, in the order the pickers list them (each name in its own language).
LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español"}
DEFAULT = "en"
# RFC 5646 in its common shape: a 2–3 letter language, then subtags of 1–8 letters or digits.
TAG_RE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,6}$")


def supported(tag: str | None) -> str | None:
    """The catalogue for a language tag ("fr-CA" → "fr", "de_AT" → "de"), or None. Lenient: it reads
    what browsers and applications send (ui_locales, Accept-Language, cookies)."""
    if not isinstance(tag, str) or not tag:
        return None
    base = tag.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def valid_locale(value: str) -> bool:
    """Whether `value` may be stored as a person's `locale` claim: a well-formed BCP 47 tag whose
    language has a complete catalogue (so mails and pages can honour it)."""
    return bool(TAG_RE.match(value)) and supported(value) is not None
