"""Every page, walked in Chromium in English and in German, at a desktop (1280×800) and a phone
(390×844) width, checked by axe-core (every rule axe runs by default: WCAG 2.x A/AA and best
practices); any violation fails the test, and so does a page wider than the screen or a text wider
than its box (a long German compound in a heading or a button). In German every page must also say
`<html lang="de">` and show no English words of our own (visible text, the page title and the
aria-label/placeholder/title/alt texts) nor times written the ISO way. A few pages are also checked in
the dark theme (English only: colours do not depend on the language). A screenshot of each page at
each width is written to the screenshots folder (IDP_SCREENSHOTS, default artifacts/screenshots;
git-ignored, kept by CI as artefacts), named `<page>-<width>.png` in English and
`de-<page>-<width>.png` in German.

The walk finds elements by the names people see, in the page's language: the names are looked up in
the compiled catalogues (translations/<lang>), so a translation that changes does not break it.

axe-core comes from npm (scripts/node.sh puts it in .npm-local/) and is loaded into every page as an
init script; the browser context bypasses the CSP (the pages' own CSP is tested elsewhere). The walk
takes about half a minute per language; the two languages are two tests, so xdist runs them side by
side."""

from __future__ import annotations

import gettext
import os
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest

from idp.services import rbac
from idp.services import users as user_service
from idp.services.runtime import current
from tests.conftest import PASSWORD, LiveServer, _stop_background, deliver_mail, enrol_totp, make_client, totp_now
from tests.e2e.test_browser_mfa import VirtualAuthenticator

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".npm-local" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("IDP_SCREENSHOTS", ROOT / "artifacts" / "screenshots"))
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
APP = "https://photos.example"
CHALLENGE = {"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}
BROWSER_LOCALE = {"en": "en-US", "de": "de-DE"}

# English words of ours that must not be left on a German page (whole words, case-sensitive).
ENGLISH = re.compile(r"\b(Sign in|Sign out|Password|Cancel|Delete|Continue|Back(?!-)|Save|Allow|Deny|Search|Next|"
                     r"Previous|Enabled|Disabled|Users|Applications|Settings|Language|E-mail|Your|your|you|"
                     r"the|and|with|this|never|ago|minutes|hours|days)\b")
# A time written the English/ISO way ("2026-12-08 17:18 UTC") rather than in the page's language.
ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")
# Data, not our words, may stay English on a German page: the people's and applications' names, the
# language picker's "English", and what a page marks translate="no" (audit details, user agents).
DATA = ("Acme Photos", "Acme Bank", "Living-room TV", "Ada Root", "English")
SCRIPT_TEXT = """() => {
  let text = document.title + '\\n' + document.body.innerText;
  for (const el of document.querySelectorAll('[translate="no"]')) text = text.replace(el.innerText, '');
  const texts = [text];
  for (const el of document.querySelectorAll('[aria-label], [placeholder], [title], [alt]'))
    for (const name of ['aria-label', 'placeholder', 'title', 'alt'])
      if (el.hasAttribute(name)) texts.push(el.getAttribute(name));
  return texts.join('\\n');
}"""
# Elements whose text sticks out of their own box (a long word in a narrow heading or button), outside
# scroll containers and what is hidden on purpose (visually-hidden texts, the sign-up honeypot).
SPILLS = """() => [...document.body.querySelectorAll('*')].filter(el =>
  !['svg', 'path', 'INPUT', 'TEXTAREA', 'SELECT', 'TABLE', 'THEAD', 'TBODY', 'TR'].includes(el.tagName)
  && !el.closest('.visually-hidden, .hp, .table-wrap') && getComputedStyle(el).overflowX === 'visible'
  && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1
).map(el => `${el.tagName.toLowerCase()} "${el.innerText.slice(0, 40)}" ${el.scrollWidth - el.clientWidth}px`)"""
# One-word headings, labels, buttons and tags broken inside the word ("Anwendun|g" in a squeezed
# column): the word's text lies on more than one line.
BROKEN_WORDS = """() => [...document.body.querySelectorAll('th, .tag, button, label, h1, h2')].filter(el => {
  const text = el.innerText.trim();
  if (!text || /\\s/.test(text) || el.closest('.visually-hidden, .hp') || el.getBoundingClientRect().width < 20)
    return false;
  return [...el.childNodes].some(node => {
    if (node.nodeType !== Node.TEXT_NODE || !node.textContent.trim()) return false;
    const range = document.createRange();
    range.selectNodeContents(node);
    return [...range.getClientRects()].filter(r => r.width > 0).length > 1;
  });
}).map(el => `${el.tagName.toLowerCase()} "${el.innerText.trim()}"`)"""
AXE_RUN = ("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({id: v.id, "
           "help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)})))")


class Walk:
    """Checks the page a tab shows, at both widths (and in the dark theme when asked), in one language."""

    def __init__(self, lang: str):
        if not AXE.exists():
            pytest.fail(f"{AXE} is missing: run scripts/node.sh (scripts/test.sh does)")
        self.lang, self.failures, self.seen = lang, [], []
        catalogue = (gettext.NullTranslations() if lang == "en"
                     else gettext.translation("messages", ROOT / "translations", languages=[lang]))
        self.t = catalogue.gettext
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def check(self, page, name: str, dark: bool = False) -> None:
        page.wait_for_load_state("load")
        name = name if self.lang == "en" else f"{self.lang}-{name}"
        if page.get_attribute("html", "lang") != self.lang:
            self.failures.append(f"{name}: <html lang={page.get_attribute('html', 'lang')!r}>")
        if self.lang != "en":
            text = page.evaluate(SCRIPT_TEXT)
            for data in DATA:
                text = text.replace(data, "")
            left = sorted({line.strip()[:120] for line in text.splitlines()
                           if ENGLISH.search(line) or ISO_TIME.search(line)})
            if left:
                self.failures.append(f"{name}: English left: {left}")
        schemes = ("light", "dark") if dark and self.lang == "en" else ("light",)
        for scheme in schemes:
            page.emulate_media(color_scheme=scheme)
            for label, size in WIDTHS.items():
                page.set_viewport_size(size)
                for v in page.evaluate(AXE_RUN):
                    self.failures.append(f"{name} [{label}, {scheme}]: {v['id']} — {v['help']} {v['nodes']}")
                overflow = page.evaluate("document.documentElement.scrollWidth") - size["width"]
                if overflow > 0:
                    self.failures.append(f"{name} [{label}]: {overflow}px wider than the screen")
                spills = page.evaluate(SPILLS)
                if spills:
                    self.failures.append(f"{name} [{label}]: text wider than its box: {spills[:3]}")
                broken = page.evaluate(BROKEN_WORDS)
                if broken:
                    self.failures.append(f"{name} [{label}]: words broken across lines: {broken[:3]}")
                suffix = "" if scheme == "light" else "-dark"
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}{suffix}.png"), full_page=True)
        page.emulate_media(color_scheme="light")
        page.set_viewport_size(WIDTHS["desktop"])
        self.seen.append(name)


def _fail():
    raise RuntimeError("a deliberate failure, to show the 500 page")


@pytest.fixture(scope="module")
def _site(_session_app, tmp_path_factory, database_url):
    """A live server with every optional page on: sign-up, sign-in links by e-mail, passkeys (the
    issuer is named localhost, a valid WebAuthn RP ID), and a route that fails (the 500 page)."""
    server = LiveServer(tmp_path_factory, database_url, host_name="localhost", registration="open", magic_link=1)
    server.app.add_url_rule("/test-only/fail", "test_only_fail", _fail)
    with server:
        yield server


@pytest.fixture()
def site(app, _site):
    yield _site
    _stop_background(_site.app)


@pytest.fixture()
def people(app, site):
    with app.app_context():
        passwords = current().passwords
        root = user_service.create(passwords, username="root", password=PASSWORD, email="root@example.com",
                                   is_admin=True, claims={"name": "Ada Root"})
        assert rbac.names_of(rbac.ROLE, root.id) == ["admin"]
        user_service.create(passwords, username="alice", password=PASSWORD, email="alice@example.com",
                            email_verified=True)
    return enrol_totp(app, root)


@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_page_passes_axe_at_both_widths(lang, chromium, site, people, smtp):
    app = site.app
    walk = Walk(lang)
    rp = make_client(app, name="Acme Photos", redirect_uris=[f"{APP}/cb"], client_uri=f"{APP}/",
                     policy_uri=f"{APP}/privacy", tos_uri=f"{APP}/terms", scopes=["openid", "profile", "email"],
                     post_logout_redirect_uris=[f"{APP}/bye"],
                     grant_types=["authorization_code", "urn:ietf:params:oauth:grant-type:device_code"])
    context = _context(chromium, lang)
    page = context.new_page()
    try:
        query = _authorize_query(lang, rp.client.client_id, f"{APP}/cb", scope="openid profile email",
                                 state="s", response_mode="form_post")
        _sign_in_pages(walk, page, context, site.url, query, people)
        _device_logout_and_error_pages(walk, page, site.url, rp.client.client_id)
        _account_pages(walk, page, site, smtp)
        _console_pages(walk, page, site, smtp, rp.client.client_id)
        _second_person(walk, chromium, site, lang)
        _newcomer(walk, chromium, site, smtp, lang)

        # Signing out ends at the signed-out page.
        page.goto(f"{site.url}/account")
        page.get_by_role("button", name=walk.t("Sign out"), exact=True).last.click()
        page.get_by_role("heading", name=walk.t("You are signed out"), exact=True).wait_for()
        walk.check(page, "signed-out")
    finally:
        context.close()
    assert len(walk.seen) >= 60
    assert walk.failures == [], "\n".join(walk.failures)


def _context(chromium, lang: str):
    """A fresh browser profile speaking `lang` (its Accept-Language), with axe-core loaded in every
    page, in which the application's own pages (https://photos.example) answer with an empty page."""
    context = chromium.new_context(bypass_csp=True, viewport=WIDTHS["desktop"], locale=BROWSER_LOCALE[lang])
    context.route(f"{APP}/**", lambda route: route.fulfill(status=200, content_type="text/html",
                                                           body="<!doctype html><title>Acme Photos</title>"))
    context.set_default_timeout(10_000)
    context.add_init_script(path=str(AXE))  # on every page before its own scripts: cheaper than injecting
    return context


def _authorize_query(lang: str, client_id: str, redirect_uri: str, **params) -> str:
    """An authorization request asking for the page language with `ui_locales` (OIDC Core §3.1.2.1)."""
    return urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                      "ui_locales": lang, **CHALLENGE, **params})


def _sign_in_pages(walk: Walk, page, context, base: str, query: str, totp_secret: str) -> None:
    """Password, second factor (both ways), consent, the form_post page and the account chooser."""
    t = walk.t
    page.goto(f"{base}/authorize?{query}")
    page.get_by_role("heading", name=t("Sign in"), exact=True).wait_for()
    walk.check(page, "sign-in", dark=True)
    page.get_by_label(t("Username or e-mail"), exact=True).fill("root")
    page.locator("#password").fill("wrong password")
    page.get_by_role("button", name=t("Sign in"), exact=True).click()
    page.locator("#form-error").wait_for()
    walk.check(page, "sign-in-error")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=t("Sign in"), exact=True).click()
    page.get_by_label(t("6-digit code"), exact=True).wait_for()
    walk.check(page, "second-factor")
    page.get_by_role("link", name=t("Use a recovery code"), exact=True).click()
    page.get_by_label(t("Recovery code"), exact=True).wait_for()
    walk.check(page, "second-factor-recovery")
    page.get_by_role("link", name=t("Enter a code from your authenticator app"), exact=True).click()
    page.get_by_label(t("6-digit code"), exact=True).fill(totp_now(totp_secret))
    page.get_by_role("button", name=t("Verify"), exact=True).click()
    page.get_by_role("heading", name=t("Allow %(client_name)s access?") % {"client_name": "Acme Photos"}).wait_for()
    walk.check(page, "consent", dark=True)
    page.get_by_role("button", name=t("Allow"), exact=True).click()
    page.wait_for_url(f"{APP}/cb")

    held = context.new_page()
    held.add_init_script("HTMLFormElement.prototype.submit = function () {};")
    held.goto(f"{base}/authorize?{query}")
    held.get_by_role("heading", name=t("Returning to %(value)s") % {"value": "Acme Photos"}).wait_for()
    walk.check(held, "form-post")
    held.close()

    page.goto(f"{base}/authorize?{query}&prompt=select_account")
    page.get_by_role("heading", name=t("Choose an account"), exact=True).wait_for()
    walk.check(page, "select-account")


def _device_logout_and_error_pages(walk: Walk, page, base: str, client_id: str) -> None:
    t = walk.t
    page.goto(f"{base}/device")
    walk.check(page, "device")
    page.get_by_label(t("Code"), exact=True).fill("NOPE-NOPE")
    page.get_by_role("button", name=t("Continue"), exact=True).click()
    page.locator("#form-error").wait_for()
    walk.check(page, "device-error")
    page.goto(f"{base}/device/done?result=approved")
    walk.check(page, "device-done")
    page.goto(f"{base}/device/done?result=denied")
    walk.check(page, "device-denied")
    page.goto(f"{base}/logout?client_id={client_id}")
    walk.check(page, "logout-confirm")
    page.get_by_role("button", name=t("Stay signed in"), exact=True).click()
    page.get_by_role("heading", name=t("You are still signed in"), exact=True).wait_for()
    walk.check(page, "logout-cancelled")
    page.goto(f"{base}/no/such/page")
    page.get_by_role("heading", name=t("Page not found"), exact=True).wait_for()
    walk.check(page, "not-found")
    page.goto(f"{base}/test-only/fail")
    page.get_by_role("heading", name=t("Something went wrong"), exact=True).wait_for()
    walk.check(page, "server-error")
    page.goto(f"{base}/interaction/expired-or-unknown")
    walk.check(page, "sign-in-expired")
    page.goto(f"{base}/")
    walk.check(page, "home")


def _account_pages(walk: Walk, page, site, smtp) -> None:
    t, base = walk.t, site.url
    for name, path in (("account", "/account"), ("account-profile", "/account/profile"),
                       ("account-password", "/account/password"), ("account-security", "/account/security"),
                       ("account-totp", "/account/security/totp"), ("account-email", "/account/email"),
                       ("account-delete", "/account/delete")):
        page.goto(base + path)
        walk.check(page, name, dark=name == "account")
    page.goto(f"{base}/account/password")
    page.get_by_label(t("Current password"), exact=True).fill(PASSWORD)
    page.get_by_label(t("New password"), exact=True).fill("password123")
    page.get_by_label(t("New password again"), exact=True).fill("password123")
    page.get_by_role("button", name=t("Show password"), exact=True).click()
    assert page.get_by_label(t("New password"), exact=True).get_attribute("type") == "text"
    page.get_by_role("button", name=t("Change password"), exact=True).click()
    assert page.locator("#new_password").get_attribute("aria-invalid") == "true"
    walk.check(page, "account-password-error")
    page.goto(f"{base}/account/security")
    page.locator("#codes-password").fill(PASSWORD)
    page.get_by_role("button", name=t("Make new recovery codes"), exact=True).click()
    walk.check(page, "recovery-codes")

    # A new e-mail address: the link is mailed, opened, confirmed.
    page.goto(f"{base}/account/email")
    page.get_by_label(t("New e-mail address"), exact=True).fill("ada@example.com")
    page.get_by_label(t("Current password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=t("Send the link"), exact=True).click()
    page.locator(".notice, .flash").first.wait_for()
    walk.check(page, "account-email-sent")
    page.goto(_mailed_link(site, smtp, "/verify-email/"))
    page.get_by_role("heading", name=t("Confirm your e-mail address"), exact=True).wait_for()
    walk.check(page, "account-email-verify")
    page.get_by_role("button", name=t("Confirm"), exact=True).click()
    page.get_by_role("heading", name=t("Your e-mail address is confirmed"), exact=True).wait_for()
    walk.check(page, "account-email-confirmed")

    # A passkey, made by Chromium's virtual authenticator: the security page then lists it.
    VirtualAuthenticator(page)
    page.goto(f"{base}/account/security")
    page.get_by_label(t("Name for the new key (optional)"), exact=True).fill("Laptop")
    page.get_by_role("button", name=t("Add a security key or passkey"), exact=True).click()
    page.get_by_text("Laptop", exact=True).wait_for()
    walk.check(page, "account-security-passkey")


def _console_pages(walk: Walk, page, site, smtp, client_id: str) -> None:
    """Every console page (the console's own sign-in already happened: same browser session)."""
    t, base = walk.t, site.url
    for name, path in (("console", "/admin"), ("console-clients", "/admin/clients"),
                       ("console-client-new", "/admin/clients/new"),
                       ("console-client", f"/admin/clients/{client_id}"),
                       ("console-users", "/admin/users"), ("console-roles", "/admin/roles"),
                       ("console-audit", "/admin/audit"), ("console-mail", "/admin/mail")):
        page.goto(base + path)
        walk.check(page, name, dark=name == "console-audit")
    page.goto(f"{base}/admin/clients/new")
    page.get_by_role("button", name=t("Register"), exact=True).click()
    page.locator("#form-error").wait_for()
    walk.check(page, "console-client-form-error")
    page.goto(f"{base}/admin/audit")
    page.locator("table.audit tbody a").first.click()
    walk.check(page, "console-audit-event")
    page.goto(f"{base}/admin/users")
    page.get_by_role("link", name="root", exact=True).click()
    walk.check(page, "console-user")
    page.get_by_role("button", name=t("E-mail a set-password link"), exact=True).click()
    walk.check(page, "console-password-link")
    page.goto(f"{base}/admin/clients/{client_id}")
    page.get_by_role("button", name=t("Delete this application"), exact=True).click()
    page.get_by_role("heading", name=t("Delete %(name)s?") % {"name": "Acme Photos"}).wait_for()
    walk.check(page, "console-confirm")
    page.get_by_role("link", name=t("Cancel"), exact=True).click()
    page.get_by_role("button", name=t("Rotate the secret"), exact=True).click()
    page.locator(".confirm-actions button[type=submit]").click()  # on the confirmation page
    walk.check(page, "console-client-secret")
    page.goto(f"{base}/admin/clients")
    page.get_by_role("button", name=t("Create an initial access token"), exact=True).click()
    walk.check(page, "console-initial-access-token")

    # An invitation: the console shows the invited person; the mailed link sets their password.
    page.goto(f"{base}/admin/users")
    page.locator("#invite_username").fill("bob")
    page.locator("#invite_email").fill("bob@example.com")
    page.get_by_role("button", name=t("Send the invitation"), exact=True).click()
    page.get_by_role("heading", name="bob", exact=True).wait_for()
    walk.check(page, "console-invited")
    page.goto(_mailed_link(site, smtp, "/set-password/"))
    page.get_by_role("heading", name=t("Set your password"), exact=True).wait_for()
    walk.check(page, "set-password")
    page.get_by_label(t("New password"), exact=True).fill("x")
    link = page.url
    page.get_by_label(t("New password again"), exact=True).fill("y")
    page.get_by_role("button", name=t("Set password"), exact=True).click()
    page.locator("#form-error").wait_for()
    walk.check(page, "set-password-error")
    page.get_by_label(t("New password"), exact=True).fill(PASSWORD)
    page.get_by_label(t("New password again"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=t("Set password"), exact=True).click()
    page.get_by_role("heading", name=t("Your password is set"), exact=True).wait_for()
    walk.check(page, "set-password-done")
    page.goto(link)  # single use
    page.get_by_role("heading", name=t("This link no longer works"), exact=True).wait_for()
    walk.check(page, "link-used")


def _second_person(walk: Walk, chromium, site, lang: str) -> None:
    """A person without a second factor: a device's consent page (with its code), the set-up of a
    second factor inside the sign-in of an application that requires one, and the console's refusal."""
    import requests

    t, base, app = walk.t, site.url, site.app
    tv = make_client(app, name="Living-room TV", redirect_uris=[], token_endpoint_auth_method="none",
                     grant_types=["urn:ietf:params:oauth:grant-type:device_code"], scopes=["openid", "profile"])
    strict = make_client(app, name="Acme Bank", redirect_uris=[f"{APP}/bank"], require_mfa=True,
                         scopes=["openid"])
    started = requests.post(f"{base}/device_authorization", timeout=10,
                            data={"client_id": tv.client.client_id, "scope": "openid profile"}).json()
    context = _context(chromium, lang)
    page = context.new_page()
    try:
        page.goto(started["verification_uri_complete"])
        page.get_by_role("button", name=t("Continue"), exact=True).click()
        page.get_by_label(t("Username or e-mail"), exact=True).fill("alice")
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name=t("Sign in"), exact=True).click()
        page.get_by_text(started["user_code"]).wait_for()
        walk.check(page, "device-consent")
        page.goto(f"{base}/authorize?" + _authorize_query(lang, strict.client.client_id, f"{APP}/bank",
                                                          scope="openid"))
        page.get_by_role("heading", name=t("Set up two-step sign-in"), exact=True).wait_for()
        walk.check(page, "enrol")
        page.get_by_role("link", name=t("Set up an authenticator app"), exact=True).click()
        walk.check(page, "enrol-authenticator-app")
        secret = page.locator("#totp-secret").inner_text()
        page.get_by_label(t("6-digit code from the app"), exact=True).fill(totp_now(secret))
        page.get_by_role("button", name=t("Turn on and continue"), exact=True).click()
        page.get_by_role("heading", name=t("Save your recovery codes"), exact=True).wait_for()
        walk.check(page, "enrol-recovery-codes")
        page.goto(f"{base}/admin")
        page.get_by_role("heading", name=t("Not allowed"), exact=True).wait_for()
        walk.check(page, "console-not-allowed")
        # A form sent with a stale CSRF token, then the account's deletion.
        page.goto(f"{base}/account/profile")
        page.locator("input[name=csrf_token]").first.evaluate("input => { input.value = 'stale'; }")
        page.get_by_role("button", name=t("Save"), exact=True).click()
        page.get_by_role("heading", name=t("Your form expired"), exact=True).wait_for()
        walk.check(page, "form-expired")
        page.goto(f"{base}/account/delete")
        page.get_by_label(t("Your password"), exact=True).fill(PASSWORD)
        page.get_by_label(t("Yes, delete my account"), exact=True).check()
        page.get_by_role("button", name=t("Delete my account"), exact=True).click()
        gone = (t("Your account is being deleted"), t("Your account was deleted"))
        page.locator("h1").filter(has_text=re.compile("|".join(map(re.escape, gone)))).wait_for()
        walk.check(page, "account-deleted")
    finally:
        context.close()


def _newcomer(walk: Walk, chromium, site, smtp, lang: str) -> None:
    """A fresh browser: root's second step with the passkey offered, then someone signed out: forgot
    password, sign-up, and a sign-in link by e-mail opened in this browser and in another one (root's:
    alice deleted her account)."""
    t, base, app = walk.t, site.url, site.app
    rp = make_client(app, name="Acme Photos Web", redirect_uris=[f"{APP}/web"], scopes=["openid"])
    query = _authorize_query(lang, rp.client.client_id, f"{APP}/web", scope="openid")
    context = _context(chromium, lang)
    other = _context(chromium, lang)
    page = context.new_page()
    try:
        # Root again, now with a passkey as a second way: the second step offers it.
        page.goto(f"{base}/authorize?{query}")
        page.get_by_label(t("Username or e-mail"), exact=True).fill("root")
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name=t("Sign in"), exact=True).click()
        use = page.get_by_role("button", name=t("Use security key or passkey"), exact=True)
        choose = page.get_by_role("link", name=t("Use a security key or passkey"), exact=True)
        use.or_(choose).wait_for()
        if choose.is_visible():  # the authenticator app is offered first
            choose.click()
        use.wait_for()
        walk.check(page, "second-factor-passkey")
        context.clear_cookies()

        page.goto(f"{base}/authorize?{query}")
        page.get_by_role("link", name=t("Forgot password?"), exact=True).click()
        walk.check(page, "forgot-password")
        page.get_by_label(t("Username or e-mail"), exact=True).fill("alice")
        page.get_by_role("button", name=t("Send me a link"), exact=True).click()
        page.get_by_role("heading", name=t("Check your e-mail"), exact=True).wait_for()
        walk.check(page, "forgot-password-sent")

        page.get_by_role("link", name=t("Back to sign-in"), exact=True).click()
        page.get_by_role("link", name=t("Create an account"), exact=True).click()
        walk.check(page, "register")
        page.get_by_label(t("Username"), exact=True).fill("carol")
        page.get_by_label(t("E-mail address"), exact=True).fill("carol@example.com")
        page.get_by_label(t("Password"), exact=True).fill(PASSWORD)
        page.get_by_label(t("Password again"), exact=True).fill(PASSWORD + "!")
        page.get_by_role("button", name=t("Create the account"), exact=True).click()
        page.locator("#form-error").wait_for()
        walk.check(page, "register-error")
        page.get_by_label(t("Password"), exact=True).fill(PASSWORD)
        page.get_by_label(t("Password again"), exact=True).fill(PASSWORD)
        page.get_by_role("button", name=t("Create the account"), exact=True).click()
        page.get_by_role("heading", name=t("Check your e-mail"), exact=True).wait_for()
        walk.check(page, "register-sent")
        page.get_by_role("link", name=t("Back to sign-in"), exact=True).click()
        page.get_by_label(t("Username or e-mail"), exact=True).fill("carol")
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name=t("Sign in"), exact=True).click()
        page.get_by_role("heading", name=t("Confirm your e-mail address"), exact=True).wait_for()
        walk.check(page, "sign-in-verify-email")

        # A sign-in link: asked for here, opened in another browser (which asks), allowed here.
        context.clear_cookies()
        page.goto(f"{base}/authorize?{query}")
        page.get_by_label(t("Or get a sign-in link by e-mail: username or e-mail"), exact=True).fill("root")
        page.get_by_role("button", name=t("E-mail me a sign-in link"), exact=True).click()
        page.get_by_role("heading", name=t("Check your e-mail"), exact=True).wait_for()
        walk.check(page, "magic-link-sent")
        link = _mailed_link(site, smtp, "/magic/")
        elsewhere = other.new_page()
        elsewhere.goto(link)
        walk.check(elsewhere, "magic-link-other-browser")
        elsewhere.get_by_role("button", name=t("Ask to sign in on this browser"), exact=True).click()
        elsewhere.get_by_role("heading", name=t("Confirm on the other browser"), exact=True).wait_for()
        walk.check(elsewhere, "magic-link-asked")
        page.get_by_role("link", name=t("Another browser asks to sign in?"), exact=True).click()
        page.get_by_role("button", name=t("Allow the other browser"), exact=True).wait_for()
        walk.check(page, "magic-link-requests")
        page.goto(link)
        page.get_by_role("heading", name=t("Sign in"), exact=True).wait_for()
        walk.check(page, "magic-link-confirm")
    finally:
        other.close()
        context.close()


def _mailed_link(site, smtp, part: str) -> str:
    """The newest link containing `part` in the mail sent so far (delivered to the test's SMTP server)."""
    deliver_mail(site.app, smtp)
    return [link for link in smtp.links(site.url) if part in link][-1]
