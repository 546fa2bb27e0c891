"""A readable "browser on system" description of a User-Agent string for the sessions list. A
rough guess on purpose: it helps a person recognise a session, it decides nothing."""

from __future__ import annotations

from ..errors import Message
from .text import N_

# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari", Android says "Linux".
BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"),
            ("HeadlessChrome/", "Chrome (headless)"), ("Chrome/", "Chrome"), ("Safari/", "Safari"),
            ("python-requests/", "Python requests"), ("curl/", "curl"))
SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
           ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def describe(user_agent: str | None) -> str:
    """E.g. "Firefox on Linux": a Message, so the page says it in its language (idp.i18n.describe)."""
    ua = user_agent or ""
    browser = next((name for marker, name in BROWSERS if marker in ua), None)
    system = next((name for marker, name in SYSTEMS if marker in ua), None)
    if browser and system:
        return Message(N_("%(browser)s on %(system)s"), browser=browser, system=system)
    return browser or system or N_("Unknown device")
