"""Every page, walked in Chromium at a desktop (1280×800) and a phone (390×844) width, checked by
axe-core (every rule axe runs by default: WCAG 2.x A/AA and best practices); any violation fails the
test. A few pages are also checked in the dark theme. A screenshot of each page at each width is
written to the screenshots folder (IDP_SCREENSHOTS, default artifacts/screenshots; git-ignored, kept
by CI as artefacts).

axe-core comes from npm (scripts/node.sh puts it in .npm-local/); the page CSP forbids injected
scripts, so the browser context bypasses the CSP (the pages' own CSP is tested elsewhere)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest

from idp.services import rbac
from idp.services import users as user_service
from idp.services.runtime import current
from tests.conftest import PASSWORD, enrol_totp, make_client, totp_now

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".npm-local" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("IDP_SCREENSHOTS", ROOT / "artifacts" / "screenshots"))
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
APP = "https://photos.example"


class Walk:
    """Checks the page a tab shows at both widths (and in the dark theme when asked)."""

    def __init__(self, page):
        if not AXE.exists():
            pytest.fail(f"{AXE} is missing: run scripts/node.sh (scripts/test.sh does)")
        self.page, self.script, self.failures, self.seen = page, AXE.read_text(), [], []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def check(self, name: str, dark: bool = False) -> None:
        page = self.page
        page.wait_for_load_state("load")
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(content=self.script)
        schemes = ("light", "dark") if dark else ("light",)
        for scheme in schemes:
            page.emulate_media(color_scheme=scheme)
            for label, size in WIDTHS.items():
                page.set_viewport_size(size)
                result = page.evaluate("axe.run(document).then(r => r.violations.map(v => ({id: v.id, "
                                       "help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)})))")
                for v in result:
                    self.failures.append(f"{name} [{label}, {scheme}]: {v['id']} — {v['help']} {v['nodes']}")
                overflow = page.evaluate("document.documentElement.scrollWidth") - size["width"]
                if overflow > 0:
                    self.failures.append(f"{name} [{label}]: {overflow}px wider than the screen")
                suffix = "" if scheme == "light" else "-dark"
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}{suffix}.png"), full_page=True)
        page.emulate_media(color_scheme="light")
        page.set_viewport_size(WIDTHS["desktop"])
        self.seen.append(name)


@pytest.fixture()
def people(app):
    with app.app_context():
        root = user_service.create(current().passwords, username="root", password=PASSWORD,
                                   email="root@example.com", is_admin=True, claims={"name": "Ada Root"})
        assert rbac.names_of(rbac.ROLE, root.id) == ["admin"]
    return enrol_totp(app, root)


def test_every_page_passes_axe_at_both_widths(chromium, live_server, people):
    app = live_server.app
    rp = make_client(app, name="Acme Photos", redirect_uris=[f"{APP}/cb"], client_uri=f"{APP}/",
                     policy_uri=f"{APP}/privacy", tos_uri=f"{APP}/terms", scopes=["openid", "profile", "email"],
                     post_logout_redirect_uris=[f"{APP}/bye"],
                     grant_types=["authorization_code", "urn:ietf:params:oauth:grant-type:device_code"])
    context = chromium.new_context(bypass_csp=True, viewport=WIDTHS["desktop"])
    context.route(f"{APP}/**", lambda route: route.fulfill(status=200, content_type="text/html",
                                                           body="<!doctype html><title>Acme Photos</title>"))
    page = context.new_page()
    walk = Walk(page)
    base = live_server.url
    try:
        # Sign-in pages: password, second factor, consent, then the form_post page (held back from submitting).
        query = urlencode({"response_type": "code", "client_id": rp.client.client_id, "redirect_uri": f"{APP}/cb",
                           "scope": "openid profile email", "state": "s", "response_mode": "form_post",
                           "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                           "code_challenge_method": "S256"})
        page.goto(f"{base}/authorize?{query}")
        walk.check("sign-in", dark=True)
        page.get_by_label("Username or e-mail").fill("root")
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Sign in", exact=True).click()
        walk.check("sign-in-error")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.get_by_label("6-digit code").wait_for()
        walk.check("second-factor")
        page.get_by_label("6-digit code").fill(totp_now(people))
        page.get_by_role("button", name="Verify").click()
        page.get_by_role("heading", name="Allow Acme Photos access?").wait_for()
        walk.check("consent", dark=True)
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(f"{APP}/cb")

        held = context.new_page()
        held.add_init_script("HTMLFormElement.prototype.submit = function () {};")
        held.goto(f"{base}/authorize?{query}")
        held.get_by_role("heading", name="Returning to Acme Photos").wait_for()
        Walk.check(_with_page(walk, held), "form-post")
        held.close()

        # Device flow pages, logout confirmation, error pages.
        page.goto(f"{base}/device")
        walk.check("device")
        page.get_by_label("Code").fill("NOPE-NOPE")
        page.get_by_role("button", name="Continue").click()
        walk.check("device-error")
        page.goto(f"{base}/device/done?result=approved")
        walk.check("device-done")
        page.goto(f"{base}/logout?client_id={rp.client.client_id}")
        walk.check("logout-confirm")
        page.get_by_role("button", name="Stay signed in").click()
        walk.check("logout-cancelled")
        page.goto(f"{base}/no/such/page")
        walk.check("not-found")
        page.goto(f"{base}/interaction/expired-or-unknown")
        walk.check("sign-in-expired")

        # The account pages.
        for name, path in (("account", "/account"), ("account-profile", "/account/profile"),
                           ("account-password", "/account/password"), ("account-security", "/account/security"),
                           ("account-totp", "/account/security/totp")):
            page.goto(base + path)
            walk.check(name, dark=name == "account")
        page.goto(f"{base}/account/password")
        page.get_by_label("Current password").fill(PASSWORD)
        page.get_by_label("New password", exact=True).fill("password123")
        page.get_by_label("New password again").fill("password123")
        page.get_by_role("button", name="Show password").click()
        assert page.get_by_label("New password", exact=True).get_attribute("type") == "text"
        page.get_by_role("button", name="Change password").click()
        assert page.locator("#new_password").get_attribute("aria-invalid") == "true"
        assert "common passwords" in page.locator("#new_password-error").inner_text()
        walk.check("account-password-error")
        page.goto(f"{base}/account/security")
        page.get_by_label("Your password, to make new codes").fill(PASSWORD)
        page.get_by_role("button", name="Make new recovery codes").click()
        walk.check("recovery-codes")

        # Every console page (the console's own sign-in already happened: same browser session).
        for name, path in (("console", "/admin"), ("console-clients", "/admin/clients"),
                           ("console-client-new", "/admin/clients/new"),
                           ("console-client", f"/admin/clients/{rp.client.client_id}"),
                           ("console-users", "/admin/users"), ("console-roles", "/admin/roles"),
                           ("console-audit", "/admin/audit")):
            page.goto(base + path)
            walk.check(name, dark=name == "console-audit")
        page.goto(f"{base}/admin/clients/new")
        page.get_by_role("button", name="Register").click()
        walk.check("console-client-form-error")
        page.goto(f"{base}/admin/audit")
        page.locator("table.audit tbody a").first.click()
        walk.check("console-audit-event")
        page.goto(f"{base}/admin/users")
        page.get_by_role("link", name="root").click()
        walk.check("console-user")
        page.get_by_role("button", name=re.compile("set-password link")).click()  # e-mailed: root has an address
        walk.check("console-password-link")
        page.goto(f"{base}/admin/clients/{rp.client.client_id}")
        page.get_by_role("button", name="Delete this application").click()
        page.get_by_role("heading", name="Delete Acme Photos?").wait_for()
        walk.check("console-confirm")
        page.get_by_role("link", name="Cancel").click()
        page.get_by_role("button", name="Rotate the secret").click()
        page.get_by_role("button", name="Rotate the secret").click()  # on the confirmation page
        walk.check("console-client-secret")
        page.goto(f"{base}/admin/clients")
        page.get_by_role("button", name="Create an initial access token").click()
        walk.check("console-initial-access-token")

        # A person without a second factor: a device's consent page (with its code), then the set-up of a
        # second factor inside the sign-in of an application that requires one.
        _without_second_factor(chromium, app, base, walk)

        # The same pages in German (the browser's Accept-Language): longer words must still fit and pass.
        _in_german(chromium, base, walk, query)

        # Signing out ends at the signed-out page.
        page.goto(f"{base}/account")
        page.get_by_role("button", name="Sign out", exact=True).last.click()
        page.get_by_role("heading", name="You are signed out").wait_for()
        walk.check("signed-out")
    finally:
        context.close()
    assert len(walk.seen) >= 30
    assert walk.failures == [], "\n".join(walk.failures)


def _without_second_factor(chromium, app, base: str, walk: Walk) -> None:
    import requests

    with app.app_context():
        user_service.create(current().passwords, username="alice", password=PASSWORD, email="alice@example.com")
    tv = make_client(app, name="Living-room TV", redirect_uris=[], token_endpoint_auth_method="none",
                     grant_types=["urn:ietf:params:oauth:grant-type:device_code"], scopes=["openid", "profile"])
    strict = make_client(app, name="Acme Bank", redirect_uris=[f"{APP}/bank"], require_mfa=True,
                         scopes=["openid"])
    started = requests.post(f"{base}/device_authorization", timeout=10,
                            data={"client_id": tv.client.client_id, "scope": "openid profile"}).json()
    context = chromium.new_context(bypass_csp=True, viewport=WIDTHS["desktop"])
    page = context.new_page()
    try:
        page.goto(started["verification_uri_complete"])
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("Username or e-mail").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.get_by_text(started["user_code"]).wait_for()
        Walk.check(_with_page(walk, page), "device-consent")
        query = urlencode({"response_type": "code", "client_id": strict.client.client_id, "scope": "openid",
                           "redirect_uri": f"{APP}/bank", "code_challenge_method": "S256",
                           "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"})
        page.goto(f"{base}/authorize?{query}")
        page.get_by_role("heading", name="Set up two-step sign-in").wait_for()
        Walk.check(_with_page(walk, page), "enrol")
        page.get_by_role("link", name="Set up an authenticator app").click()
        Walk.check(_with_page(walk, page), "enrol-authenticator-app")
    finally:
        context.close()


def _in_german(chromium, base: str, walk: Walk, query: str) -> None:
    context = chromium.new_context(bypass_csp=True, viewport=WIDTHS["desktop"], locale="de-DE")
    page = context.new_page()
    try:
        german = _with_page(walk, page)
        page.goto(f"{base}/authorize?{query}")
        assert page.get_attribute("html", "lang") == "de"
        page.get_by_role("heading", name="Anmelden").wait_for()
        Walk.check(german, "de-sign-in")
        page.get_by_label("Benutzername oder E-Mail").fill("root")
        page.get_by_label("Passwort", exact=True).fill("wrong password")
        page.get_by_role("button", name="Anmelden", exact=True).click()
        page.get_by_text("Benutzername oder Passwort ist falsch").wait_for()
        Walk.check(german, "de-sign-in-error")
        page.goto(f"{base}/device")
        Walk.check(german, "de-device")
        page.goto(f"{base}/no/such/page")
        page.get_by_role("heading", name="Seite nicht gefunden").wait_for()
        Walk.check(german, "de-not-found")
    finally:
        context.close()


def _with_page(walk: Walk, page) -> Walk:
    other = Walk.__new__(Walk)
    other.page, other.script, other.failures, other.seen = page, walk.script, walk.failures, walk.seen
    return other
