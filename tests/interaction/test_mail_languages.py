"""Mails in their recipient's language (README "Languages"): the person's `locale` claim, else — when they
asked for the mail themselves — the language of their page, else English; never the language of the
operator's console. Received by a real SMTP server; the person's language is chosen on the profile page,
remembered from the footer's picker, taken from the sign-up page, or given with an invitation."""

from __future__ import annotations

from idp.services import users as user_service
from tests.account.test_account import account_login, post_form
from tests.account.test_forgot_password import ask
from tests.admin.api_helpers import Api, automation_client, token
from tests.admin.test_authorization_matrix import _console
from tests.conftest import csrf_from, deliver_mail, make_app
from tests.interaction.test_registration import _open_app, _sign_up, _start, open_app  # noqa: F401,F811 - fixtures


def _received(app, smtp):
    deliver_mail(app, smtp)
    [msg] = smtp.messages
    return msg, msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def _set_locale(app, user_id: int, locale: str) -> None:
    with app.app_context():
        user_service.admin_update(user_id, claims={"locale": locale})


def _claims(app, username: str) -> dict:
    with app.app_context():
        return user_service.find(username).claims


def test_an_operator_with_a_german_console_invites_a_french_speaker_in_french(app, smtp):
    client, csrf = _console(app, "user-manager")
    client.set_cookie("idp_lang", "de")
    sent = client.post("/admin/users/invite", data={"username": "zoe", "email": "zoe@example.com", "locale": "fr",
                                                    "csrf_token": csrf})
    assert sent.status_code == 303
    assert "Eine Einladung wurde an zoe@example.com gesendet" in client.get(sent.headers["Location"]).text
    msg, text, html = _received(app, smtp)
    assert msg["Subject"] == "Vous êtes invité sur Identity Provider" and msg["Content-Language"] == "fr"
    assert "Vous êtes invité sur Identity Provider avec le nom d’utilisateur zoe" in text
    assert '<html lang="fr">' in html and "Accepter l’invitation" in html
    assert _claims(app, "zoe")["locale"] == "fr"  # their language from now on; they may change it


def test_an_invitation_without_a_language_is_english_whatever_the_console_language(app, smtp):
    client, csrf = _console(app, "user-manager")
    client.set_cookie("idp_lang", "de")
    client.post("/admin/users/invite", data={"username": "zoe", "email": "zoe@example.com", "csrf_token": csrf},
                headers={"Accept-Language": "de"})
    msg, text, html = _received(app, smtp)
    assert msg["Subject"] == "You are invited to Identity Provider" and msg["Content-Language"] == "en"
    assert '<html lang="en">' in html and "locale" not in _claims(app, "zoe")


def test_the_admin_api_invites_in_the_given_locale_and_refuses_one_it_cannot_honour(app, client, smtp):
    api = Api(client, token(client, automation_client(app)))
    refused = api.post("/v1/invitations", json={"username": "zoe", "email": "zoe@example.com", "locale": "xx"})
    assert refused.status_code == 400 and "language is not available" in refused.get_json()["detail"]
    assert api.post("/v1/invitations", json={"username": "zoe", "email": "zoe@example.com",
                                             "locale": "es-MX"}).status_code == 201
    msg, text, _html = _received(app, smtp)
    assert msg["Subject"] == "Te han invitado a Identity Provider" and msg["Content-Language"] == "es"
    assert _claims(app, "zoe")["locale"] == "es-MX"


def test_a_german_speaker_asking_from_an_english_browser_gets_german_mail(app, client, user, smtp):
    _set_locale(app, user.id, "de")
    answer = ask(client, "alice", headers={"Accept-Language": "en"})
    assert "If the name you typed belongs to an account" in answer.text  # the page stays English
    msg, text, html = _received(app, smtp)
    assert msg["Subject"] == "Ihr Identity Provider-Passwort zurücksetzen" and msg["Content-Language"] == "de"
    assert "Neues Passwort wählen" in html and '<html lang="de">' in html and "Hallo alice," in text


def test_a_person_without_a_language_asking_from_a_spanish_page_gets_spanish_mail(app, client, user, smtp):
    ask(client, "alice", headers={"Accept-Language": "es-ES,es;q=0.9"})
    msg, text, html = _received(app, smtp)
    assert msg["Subject"] == "Restablece tu contraseña de Identity Provider" and msg["Content-Language"] == "es"
    assert '<html lang="es">' in html and "Elegir una nueva contraseña" in html


def test_an_operators_edit_of_an_address_mails_the_person_in_their_language(app, user, smtp):
    _set_locale(app, user.id, "fr")
    client, csrf = _console(app, "user-manager")
    client.set_cookie("idp_lang", "de")
    edited = client.post(f"/admin/users/{user.id}/profile", data={"email": "alice@new.example", "csrf_token": csrf})
    assert edited.status_code == 303
    msg, _text, _html = _received(app, smtp)
    assert msg["To"] == "alice@new.example" and msg["Subject"] == "Confirmer votre adresse e-mail"


def test_the_profile_page_saves_a_language_and_refuses_one_without_a_catalogue(app, client, user):
    account_login(client)
    page = client.get("/account/profile").text
    assert '<select id="locale" name="locale"' in page and '<option value="fr" lang="fr">Français</option>' in page
    refused = post_form(client, "/account/profile", "/account/profile", name="Changed", locale="xx")
    assert refused.status_code == 400 and 'aria-invalid="true"' in refused.text
    assert "That language is not available here: choose one from the list." in refused.text
    assert _claims(app, "alice").get("locale") is None and _claims(app, "alice")["name"] == "Alice Liddell"
    saved = post_form(client, "/account/profile", "/account/profile", locale="fr-CA")
    assert saved.status_code == 303 and _claims(app, "alice")["locale"] == "fr-CA"
    assert '<option value="fr-CA" selected>fr-CA</option>' in client.get("/account/profile").text
    assert post_form(client, "/account/profile", "/account/profile", locale="").status_code == 303
    assert "locale" not in _claims(app, "alice")


def test_the_footer_picker_remembers_the_language_of_a_signed_in_person(app, client, user, smtp):
    account_login(client)
    html = client.get("/account").text
    client.post("/language", data={"language": "de", "next": "/account", "csrf_token": csrf_from(html)})
    assert _claims(app, "alice")["locale"] == "de"
    _set_locale(app, user.id, "fr-CA")
    client.post("/language", data={"language": "fr", "next": "/account", "csrf_token": csrf_from(html)})
    assert _claims(app, "alice")["locale"] == "fr-CA"  # the same language, more precisely: kept
    anonymous = app.test_client()
    page = anonymous.get("/account/forgot-password").text
    anonymous.post("/language", data={"language": "es", "next": "/", "csrf_token": csrf_from(page)})
    assert _claims(app, "alice")["locale"] == "fr-CA"  # nobody signed in: only the cookie


def test_sign_up_takes_the_language_of_the_sign_up_page(open_app, rp, smtp):  # noqa: F811 - the fixture
    client = open_app.test_client()
    path = _start(client, rp, prompt="create", ui_locales="fr-FR")
    assert _sign_up(client, path).status_code == 200
    assert _claims(open_app, "newbie")["locale"] == "fr"
    msg, _text, html = _received(open_app, smtp)
    assert msg["Subject"] == "Confirmer votre adresse e-mail" and '<html lang="fr">' in html


def test_idp_mail_test_is_english(app, smtp, tmp_path_factory, database_url):
    configured = make_app(tmp_path_factory, database_url, smtp_host="127.0.0.1", smtp_port=smtp.port,
                          smtp_security="none")
    result = configured.test_cli_runner().invoke(args=["mail", "test", "--to", "ops@example.com"])
    assert result.exit_code == 0, result.output
    [msg] = smtp.messages
    assert msg["Subject"].startswith("Test message from") and msg["Content-Language"] == "en"
    assert '<html lang="en">' in msg.get_body(("html",)).get_content()
