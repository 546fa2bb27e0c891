"""Branding on every page (product name in titles, logo, favicon, accent colour, footer links), the
application's logo and links on sign-in and consent (the CSP allows only its logo's origin), and
error pages that lead somewhere."""

from __future__ import annotations

import re

import pytest

from idp.errors import ConfigurationError
from tests.conftest import PASSWORD, csrf_from, make_app, make_client

LOGO = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8"/></svg>'


@pytest.fixture(scope="module")
def branded(tmp_path_factory, database_url, _session_app):
    folder = tmp_path_factory.mktemp("brand")
    (folder / "logo.svg").write_bytes(LOGO)
    (folder / "icon.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 32)
    return make_app(tmp_path_factory, database_url, product_name="Acme ID", brand_logo=str(folder / "logo.svg"),
                    brand_favicon=str(folder / "icon.png"), brand_accent_color="#7a2e8e",
                    privacy_url="https://acme.example/privacy", support_url="mailto:help@acme.example")


def test_branding_is_on_every_page(app, branded):
    client = branded.test_client()
    page = client.get("/device").get_data(as_text=True)
    assert "<title>Connect a device · Acme ID</title>" in page
    logo = re.search(r'<img class="brand-logo" src="([^"]+)"', page).group(1)
    assert client.get(logo).data == LOGO and client.get(logo).headers["Cache-Control"].startswith("public")
    favicon = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert client.get(favicon).mimetype == "image/png"
    assert client.get("/favicon.ico").status_code == 302
    theme = re.search(r'<link rel="stylesheet" href="(/branding/theme.css[^"]*)"', page).group(1)
    css = client.get(theme).get_data(as_text=True)
    assert "--accent: #7a2e8e" in css and "prefers-color-scheme: dark" in css
    assert 'href="https://acme.example/privacy">Privacy<' in page and 'href="mailto:help@acme.example"' in page
    assert "Terms" not in page  # not configured, not shown
    assert "Content-Security-Policy" in client.get("/device").headers  # the CSP still applies
    assert "img-src 'self' data:;" in client.get("/device").headers["Content-Security-Policy"]


def test_defaults_have_no_theme_and_the_bundled_favicon(client):
    page = client.get("/device").get_data(as_text=True)
    assert "· Identity Provider</title>" in page and "theme.css" not in page and "favicon.svg" in page
    assert client.get("/branding/logo").status_code == 404


@pytest.mark.parametrize("overrides, message", [
    ({"brand_accent_color": "#ffcc00"}, "contrast"),
    ({"brand_accent_color": "blue"}, "#rrggbb"),
    ({"brand_logo": "/nonexistent/logo.svg"}, "not a readable file"),
    ({"brand_logo": "/etc/passwd"}, "must be a"),
    ({"privacy_url": "http://acme.example/privacy"}, "https"),
    ({"product_name": " "}, "product_name"),
])
def test_bad_branding_settings_are_refused_at_start(tmp_path_factory, database_url, overrides, message):
    with pytest.raises(ConfigurationError, match=message):
        make_app(tmp_path_factory, database_url, **overrides)


def _to_interaction(client, rp):
    response = client.get("/authorize", query_string={
        "response_type": "code", "client_id": rp.client.client_id, "redirect_uri": "https://app.example.com/cb",
        "scope": "openid profile", "state": "s", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256"})
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    return response.headers["Location"]


def test_client_logo_and_links_on_sign_in_and_consent(app, client, user):
    rp = make_client(app, name="Acme Photos", redirect_uris=["https://app.example.com/cb"],
                     logo_uri="https://cdn.photos.example/logo.png", client_uri="https://photos.example/",
                     policy_uri="https://photos.example/privacy", tos_uri="https://photos.example/terms")
    location = _to_interaction(client, rp)
    login = client.get(location)
    html = login.get_data(as_text=True)
    assert 'src="https://cdn.photos.example/logo.png"' in html
    # Images from the logo's origin only, not from anywhere else.
    assert "img-src 'self' data: https://cdn.photos.example;" in login.headers["Content-Security-Policy"]
    resumed = client.post(location + "/login", data={"username": "alice", "password": PASSWORD,
                                                     "csrf_token": csrf_from(html)})
    consent = client.get(client.get(resumed.headers["Location"]).headers["Location"])
    page = consent.get_data(as_text=True)
    assert "Allow Acme Photos access?" in page and 'src="https://cdn.photos.example/logo.png"' in page
    for link in ("https://photos.example/privacy", "https://photos.example/terms", "https://photos.example/"):
        assert f'href="{link}"' in page
    assert "https://cdn.photos.example" in consent.headers["Content-Security-Policy"]
    # Back after finishing: the interaction is over, the browser goes on to the app's home page.
    resume = client.post(location + "/consent", data={"decision": "allow", "csrf_token": csrf_from(page)})
    assert client.get(resume.headers["Location"]).headers["Location"].startswith("https://app.example.com/cb?")
    back = client.get(location)
    assert back.status_code == 303 and back.headers["Location"] == "https://photos.example/"


def test_unknown_client_and_expired_pages_lead_somewhere(client):
    unknown = client.get("/authorize", query_string={"response_type": "code", "client_id": "nope",
                                                     "redirect_uri": "https://app.example.com/cb"})
    assert unknown.status_code == 400
    assert 'href="/account">Go to your account<' in unknown.get_data(as_text=True)
    expired = client.get("/interaction/not-a-real-one")
    assert expired.status_code == 400 and 'href="/account"' in expired.get_data(as_text=True)


def test_custom_not_found_page(client):
    missing = client.get("/no/such/page")
    html = missing.get_data(as_text=True)
    assert missing.status_code == 404 and "<h1>Page not found</h1>" in html and 'href="/account"' in html
    assert "requested URL was not found on the server" not in html  # not Werkzeug's words


def test_passkeys_are_not_offered_where_browsers_refuse_them(tmp_path_factory, database_url, app):
    """On an IP-address issuer the RP ID is invalid for WebAuthn: no passkey button, no script; on a
    domain name (here localhost) they are offered."""
    from idp.services.mfa import webauthn

    ip_app = make_app(tmp_path_factory, database_url, issuer="http://127.0.0.1:8080")
    page = ip_app.test_client().get("/interaction/x")  # any page of the sign-in: the expired one is enough
    assert page.status_code == 400
    with ip_app.app_context():
        from idp.services.runtime import current

        assert webauthn.usable(current().settings) is False
    with app.app_context():
        from idp.services.runtime import current

        assert webauthn.usable(current().settings) is True
    rp = make_client(app, name="Shop", redirect_uris=["https://app.example.com/cb"])
    for flask_app, offered in ((ip_app, False), (app, True)):
        client = flask_app.test_client()
        html = client.get(_to_interaction(client, rp)).get_data(as_text=True)
        assert ("Sign in with a passkey" in html) is offered
        assert ("webauthn.js" in html) is offered


def test_back_after_sign_in_without_a_home_page_says_so_and_links_on(app, client, user):
    rp = make_client(app, name="Acme Notes", redirect_uris=["https://app.example.com/cb"], skip_consent=True)
    location = _to_interaction(client, rp)
    html = client.get(location).get_data(as_text=True)
    resumed = client.post(location + "/login", data={"username": "alice", "password": PASSWORD,
                                                     "csrf_token": csrf_from(html)})
    assert client.get(resumed.headers["Location"]).headers["Location"].startswith("https://app.example.com/cb?")
    back = client.get(location)
    page = back.get_data(as_text=True)
    assert back.status_code == 200 and "You are signed in to Acme Notes" in page and 'href="/account"' in page
