"""Marking words a person reads without translating them here: services never see the request, so
they cannot know the page's language. `N_("…")` leaves the text as it is and lets `pybabel extract -k N_`
put it in the catalogues; the page that shows it translates it (idp.i18n.gettext)."""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    return text
