"""Pages in the person's language: the sign-in request's ui_locales, then the footer's language picker
(a cookie), then Accept-Language; English when none of them names a language with a catalogue."""

from __future__ import annotations

import json

from tests.conftest import PASSWORD, csrf_from, pkce_pair


def _sign_in_page(client, browser, rp, headers=None, **params):
    _, challenge = pkce_pair()
    response = browser.authorize(response_type="code", client_id=rp.client.client_id,
                                 redirect_uri=rp.client.redirect_uris[0], scope="openid", state="s",
                                 code_challenge=challenge, code_challenge_method="S256", **params)
    path = browser.follow_to_interaction(response)
    page = client.get(path, headers=headers or {})
    assert page.status_code == 200
    return path, page.get_data(as_text=True)


def test_ui_locales_fr_gives_a_french_sign_in_page(client, browser, user, rp):
    _, html = _sign_in_page(client, browser, rp, ui_locales="fr-CA en")
    assert '<html lang="fr">' in html
    assert "Se connecter" in html and "Mot de passe" in html
    assert "Password" not in html


def test_ui_locales_skips_languages_without_a_catalogue(client, browser, user, rp):
    _, html = _sign_in_page(client, browser, rp, ui_locales="ja es")
    assert '<html lang="es">' in html and "Contraseña" in html


def test_accept_language_de_gives_german(client, browser, user, rp):
    _, html = _sign_in_page(client, browser, rp, headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert '<html lang="de">' in html
    assert "Anmelden" in html and "Passwort" in html


def test_english_without_any_preference(client, browser, user, rp):
    _, html = _sign_in_page(client, browser, rp)
    assert '<html lang="en">' in html and "Username or e-mail" in html


def test_picker_cookie_wins_over_accept_language(client, browser, user, rp):
    path, html = _sign_in_page(client, browser, rp, headers={"Accept-Language": "de"})
    assert 'action="/language"' in html and '<label for="language-picker">Sprache</label>' in html
    response = client.post("/language", data={"language": "es", "next": path, "csrf_token": csrf_from(html)},
                           headers={"Accept-Language": "de"})
    assert response.status_code == 303 and response.headers["Location"] == path
    cookie = response.headers["Set-Cookie"]
    assert "idp_lang=es" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get(path, headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="es">' in page and "Iniciar sesión" in page


def test_ui_locales_wins_over_the_picker(client, browser, user, rp):
    client.set_cookie("idp_lang", "es")
    _, html = _sign_in_page(client, browser, rp, ui_locales="fr")
    assert '<html lang="fr">' in html


def test_picker_needs_the_csrf_token_and_stays_on_this_site(client, browser, user, rp):
    path, html = _sign_in_page(client, browser, rp)
    assert client.post("/language", data={"language": "de", "next": path}).status_code == 400
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = client.post("/language", data={"language": "de", "next": target,
                                                  "csrf_token": csrf_from(html)})
        assert response.status_code == 303 and response.headers["Location"] == "/"
    response = client.post("/language", data={"language": "xx", "next": path, "csrf_token": csrf_from(html)})
    assert "idp_lang" not in response.headers.get("Set-Cookie", "")


def test_error_pages_and_flashes_follow_the_language(client, user):
    html = client.get("/no-such-page", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="fr">' in html and "Page introuvable" in html
    refused = client.put("/account", headers={"Accept-Language": "de"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 405 and "Hier nicht möglich" in html and "Method Not Allowed" not in html
    nul = client.get("/account?x=%00", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "La solicitud contiene un carácter NUL." in nul


def test_discovery_lists_exactly_the_complete_catalogues(client):
    document = json.loads(client.get("/.well-known/openid-configuration").get_data())
    assert document["ui_locales_supported"] == ["en", "de", "fr", "es"]


def test_scripts_get_their_messages_in_the_page_language(client, browser, user, rp):
    _, html = _sign_in_page(client, browser, rp, headers={"Accept-Language": "fr"})
    block = html.split('<script type="application/json" id="idp-messages">', 1)[1].split("</script>", 1)[0]
    messages = json.loads(block)
    assert messages["The request was cancelled. Try again."] == "La demande a été annulée. Réessayez."
    _, english = _sign_in_page(client, browser, rp)
    assert 'id="idp-messages"' not in english  # the scripts' own text is English


def test_consent_page_permissions_in_the_page_language(client, browser, user, rp):
    path, html = _sign_in_page(client, browser, rp, ui_locales="de")
    response = client.post(path + "/login", data={"username": "alice", "password": PASSWORD,
                                                  "csrf_token": csrf_from(html)})
    consent = client.get(browser.follow_to_interaction(browser.resume(response))).get_data(as_text=True)
    assert "Bestätigen, wer Sie sind (Ihre Konto-Kennung)" in consent and "Zugriff erlauben?" in consent


def test_a_refused_password_is_explained_in_the_page_language(client, browser, user, rp):
    client.set_cookie("idp_lang", "es")
    path, html = _sign_in_page(client, browser, rp)
    browser.resume(client.post(path + "/login", data={"username": "alice", "password": PASSWORD,
                                                      "csrf_token": csrf_from(html)}))
    page = client.get("/account/password").get_data(as_text=True)
    refused = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "password123", "new_password_again": "password123",
        "csrf_token": csrf_from(page)}).get_data(as_text=True)
    assert "Esta contraseña está en una lista de contraseñas comunes" in refused


def test_a_counted_message_takes_the_form_of_its_number_in_each_language(app):
    """services.text.Nn_: the `num` value picks the singular or plural form, per language (French has
    three); values are filled in as given; str() stays English."""
    from idp.errors import ValidationError
    from idp.i18n import describe
    from idp.services.text import Nn_

    def refused(names):
        return ValidationError(Nn_("Unsupported scope: %(names)s.", "Unsupported scopes: %(names)s."),
                               num=len(names), names=", ".join(names))

    one, two = refused(["a:b"]), refused(["a:b", "c:d"])
    assert (str(one), str(two)) == ("Unsupported scope: a:b.", "Unsupported scopes: a:b, c:d.")
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert describe(one) == "Portée non prise en charge : a:b."
        assert describe(two) == "Portées non prises en charge : a:b, c:d."
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert describe(two) == "Nicht unterstützte Scopes: a:b, c:d."
