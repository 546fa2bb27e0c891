"""Translatable strings: every string a person reads in a mail (and, over time, on a page) goes through
`_()`, so a later change can put Flask-Babel's gettext here and extract catalogues (`pybabel extract`
finds `_()` in Python and Jinja alike) without touching the callers. For now it returns the English
text, with %(name)s placeholders filled in."""

from __future__ import annotations


def gettext(text: str, **values) -> str:
    return text % values if values else text


_ = gettext
