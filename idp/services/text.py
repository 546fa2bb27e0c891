"""Marking words a person reads without translating them here: services never see the request, so
they cannot know the page's language. `N_("…")` leaves the text as it is and lets `pybabel extract -k N_`
put it in the catalogues; the page that shows it translates it (idp.i18n.gettext).

A message with values inside is raised as a template with named placeholders and the values apart,
`ValidationError(N_("%(label)s can be at most %(num)d characters long."), field=name, label=label, num=200)`
(or built with `Message(N_(…), **values)`, idp.errors); the page shows it with idp.i18n.describe, which
translates the template and every value that is itself a marked word (a label such as N_("Full name")),
while addresses, names and numbers are filled in as they are."""

from __future__ import annotations


class Marked(str):
    """A word marked with N_(): still the English string everywhere, but a page translates it when it
    appears as a value inside a message (idp.i18n.describe)."""


def N_(text: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    return Marked(text)


def Nn_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802 - N_ for a message that counts
    """A message whose words depend on a number (`pybabel extract -k Nn_:1,2` puts both forms in the
    catalogues as one plural entry): `ValidationError(Nn_("Unsupported scope: %(names)s.", "Unsupported
    scopes: %(names)s."), num=len(names), names=…)`; the `num` value picks the form, per language."""
    return singular, plural
