"""The admin console's pages through the test client: sign-in through the admin console client
(role + second factor), least privilege per page, CSRF on forms, and each management action."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from idp.services import rbac
from idp.services import users as user_service
from idp.services.runtime import current
from tests.conftest import PASSWORD, csrf_from, enrol_totp, totp_now


def _walk(client, response, secret=None, limit=12, username="root"):
    """Follow redirects through the authorization flow and its pages, as a browser would."""
    for _ in range(limit):
        if response.status_code not in (302, 303):
            return response
        location = response.headers["Location"]
        path = urlsplit(location).path + ("?" + urlsplit(location).query if urlsplit(location).query else "")
        response = client.get(path)
        html = response.get_data(as_text=True)
        if response.status_code == 200 and 'name="password"' in html and "/interaction/" in path:
            base = urlsplit(location).path
            response = client.post(base + "/login", data={"username": username, "password": PASSWORD,
                                                          "csrf_token": csrf_from(html)})
        elif response.status_code == 200 and "/mfa/totp" in html and secret:
            action = re.search(r'action="([^"]*/mfa/totp)"', html)
            if action is None:
                base = urlsplit(location).path
                response = client.get(base, query_string={"method": "totp"})
                html = response.get_data(as_text=True)
                action = re.search(r'action="([^"]*/mfa/totp)"', html)
            response = client.post(action.group(1), data={"code": totp_now(secret), "csrf_token": csrf_from(html)})
    raise AssertionError("too many redirects")


def _admin(app, roles=("admin",), username="root"):
    with app.app_context():
        user = user_service.create(current().passwords, username=username, password=PASSWORD,
                                   email=f"{username}@example.com")
        rbac.assign(rbac.ROLE, user.id, list(roles))
        user = user_service.get(user.id)
    return user


@pytest.fixture()
def admin_client(app, client):
    admin = _admin(app)
    secret = enrol_totp(app, admin)
    page = _walk(client, client.get("/admin"), secret)
    assert page.status_code == 200 and "Admin console" in page.get_data(as_text=True)
    return client


def test_console_needs_sign_in_role_and_second_factor(app, client):
    first = client.get("/admin")
    assert first.status_code == 303 and "client_id=idp-admin-console" in first.headers["Location"]


def test_an_admin_without_a_factor_is_sent_to_set_one_up(app, client):
    _admin(app)
    page = _walk(client, client.get("/admin"))
    assert page.status_code == 200 and "authenticator" in page.get_data(as_text=True).lower()
    assert "Admin console" not in page.get_data(as_text=True)


def test_someone_without_an_admin_role_is_refused(app, client, user):
    response = _walk(client, client.get("/admin"), username="alice")
    # alice has no roles: she signs in (no second factor is asked of her), then the console refuses her.
    assert response.status_code == 403 and "Not allowed" in response.get_data(as_text=True)
    assert client.get("/admin/users").status_code == 403


def test_least_privilege_pages(app, client):
    admin = _admin(app, roles=("auditor",))
    secret = enrol_totp(app, admin)
    assert _walk(client, client.get("/admin/audit"), secret).status_code == 200
    assert client.get("/admin/clients").status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/roles").status_code == 403
    # The overview and the navigation show only what the auditor's role opens.
    overview = client.get("/admin").get_data(as_text=True)
    assert "sign-ins in the last 24 hours" in overview and "Recent security events" in overview
    assert " users</a>" not in overview and " applications</a>" not in overview
    nav = overview.split('aria-label="Admin console"', 1)[1].split("</nav>", 1)[0]
    assert "Audit log" in nav and "Users" not in nav and "Applications" not in nav


def test_an_application_manager_sees_no_audit_events_on_the_overview(app, client):
    manager = _admin(app, roles=("client-manager",), username="apps")
    secret = enrol_totp(app, manager)
    overview = _walk(client, client.get("/admin"), secret, username="apps").get_data(as_text=True)
    assert " applications</a>" in overview
    assert "Recent security events" not in overview and "sign-ins in the last" not in overview


def test_register_edit_rotate_disable_and_delete_a_client(admin_client):
    form = admin_client.get("/admin/clients/new").get_data(as_text=True)
    token = csrf_from(form)
    assert admin_client.post("/admin/clients/new", data={"name": "x"}).status_code == 400  # no CSRF token
    bad = admin_client.post("/admin/clients/new", data={
        "csrf_token": token, "name": "Shop", "auth_method": "client_secret_basic",
        "redirect_uris": "https://shop.example.com/*", "grant_types": "authorization_code", "scopes": "openid"})
    assert bad.status_code == 400 and "wildcards" in bad.get_data(as_text=True)
    assert "https://shop.example.com/*" in bad.get_data(as_text=True)  # the form keeps what was typed
    created = admin_client.post("/admin/clients/new", data={
        "csrf_token": token, "name": "Shop", "auth_method": "client_secret_basic",
        "redirect_uris": "https://shop.example.com/cb\nhttps://shop.example.com/cb2",
        "grant_types": ["authorization_code", "refresh_token"], "scopes": "openid email roles",
        "access_token_format": "jwt", "access_token_ttl": "600", "require_mfa": "1"})
    html = created.get_data(as_text=True)
    assert created.status_code == 200 and "never shown again" in html
    client_id = re.search(r'id="client-id">([^<]+)<', html).group(1)
    secret = re.search(r'id="client-secret">([^<]+)<', html).group(1)
    assert len(secret) >= 40
    edit = admin_client.get(f"/admin/clients/{client_id}").get_data(as_text=True)
    assert secret not in edit and "https://shop.example.com/cb2" in edit
    saved = admin_client.post(f"/admin/clients/{client_id}", data={
        "csrf_token": token, "name": "Shop 2", "auth_method": "client_secret_basic",
        "redirect_uris": "https://shop.example.com/cb", "grant_types": "authorization_code", "scopes": "openid",
        "access_token_format": "opaque"})
    assert saved.status_code == 303
    assert "Shop 2" in admin_client.get("/admin/clients").get_data(as_text=True)
    asked = admin_client.post(f"/admin/clients/{client_id}/secret", data={"csrf_token": token,
                                                                        "grace_seconds": "60"})
    assert asked.status_code == 200 and 'name="confirm" value="yes"' in asked.get_data(as_text=True)
    assert 'name="grace_seconds" value="60"' in asked.get_data(as_text=True)  # the form is repeated
    rotated = admin_client.post(f"/admin/clients/{client_id}/secret", data={"csrf_token": token,
                                                                          "grace_seconds": "60", "confirm": "yes"})
    new_secret = re.search(r'id="client-secret">([^<]+)<', rotated.get_data(as_text=True)).group(1)
    assert new_secret != secret
    assert admin_client.post(f"/admin/clients/{client_id}/enabled", data={"csrf_token": token, "enabled": "0",
                                                                         "confirm": "yes"}).status_code == 303
    assert "disabled" in admin_client.get("/admin/clients").get_data(as_text=True)
    asked = admin_client.post(f"/admin/clients/{client_id}/delete", data={"csrf_token": token})
    assert asked.status_code == 200 and "cannot be undone" in asked.get_data(as_text=True)
    assert admin_client.get(f"/admin/clients/{client_id}").status_code == 200  # nothing happened yet
    assert admin_client.post(f"/admin/clients/{client_id}/delete", data={"csrf_token": token,
                                                                        "confirm": "yes"}).status_code == 303
    assert admin_client.get(f"/admin/clients/{client_id}").status_code == 404
    issued = admin_client.post("/admin/clients/initial-access-token", data={"csrf_token": token})
    assert issued.status_code == 200 and 'id="initial-access-token"' in issued.get_data(as_text=True)
    assert "Dynamic registration is off" in issued.get_data(as_text=True)
    several = admin_client.post("/admin/clients/initial-access-token",
                                data={"csrf_token": token, "uses": "4", "expires_in": "600"})
    assert several.status_code == 200 and "It lets 4 applications register" in several.get_data(as_text=True)
    refused = admin_client.post("/admin/clients/initial-access-token", data={"csrf_token": token, "uses": "0"})
    assert refused.status_code == 303 and "from 1 to 1000" in admin_client.get("/admin/clients").get_data(as_text=True)
    audit = admin_client.get("/admin/audit?event=admin.client").get_data(as_text=True)
    for event in ("admin.client.create", "admin.client.update", "admin.client.rotate_secret",
                  "admin.client.disable", "admin.client.delete"):
        assert event in audit


def test_register_a_fapi2_key_client_in_the_console(admin_client):
    import json

    from tests.protocol.high_assurance import client_key, public_jwks

    token = csrf_from(admin_client.get("/admin/clients/new").get_data(as_text=True))
    jwks = json.dumps(public_jwks(client_key("ec")))
    created = admin_client.post("/admin/clients/new", data={
        "csrf_token": token, "name": "Bank", "auth_method": "private_key_jwt",
        "redirect_uris": "https://bank.example.com/cb", "grant_types": "authorization_code", "scopes": "openid",
        "jwks": jwks, "fapi2": "1"})
    html = created.get_data(as_text=True)
    assert created.status_code == 200 and 'id="client-secret"' not in html and "registered keys" in html
    client_id = re.search(r'id="client-id">([^<]+)<', html).group(1)
    edit = admin_client.get(f"/admin/clients/{client_id}").get_data(as_text=True)
    assert "Rotate the secret" not in edit and client_key("ec").as_dict(private=False)["x"] in edit
    assert re.search(r'name="require_pushed_authorization_requests" value="1" checked', edit)
    assert re.search(r'id="id_token_signed_response_alg" name="id_token_signed_response_alg" value="PS256"', edit)
    refused = admin_client.post("/admin/clients/new", data={
        "csrf_token": token, "name": "Bank 2", "auth_method": "client_secret_basic", "fapi2": "1",
        "redirect_uris": "https://bank.example.com/cb", "grant_types": "authorization_code", "scopes": "openid"})
    assert refused.status_code == 400 and "private_key_jwt" in refused.get_data(as_text=True)


def test_manage_users_roles_and_groups(app, admin_client):
    token = csrf_from(admin_client.get("/admin/users").get_data(as_text=True))
    created = admin_client.post("/admin/users", data={"csrf_token": token, "username": "bob",
                                                     "email": "bob@example.com", "password": PASSWORD})
    assert created.status_code == 303
    user_path = urlsplit(created.headers["Location"]).path
    assert "bob" in admin_client.get("/admin/users?q=bo").get_data(as_text=True)
    assert admin_client.post("/admin/roles", data={"csrf_token": token, "name": "billing"}).status_code == 303
    assert admin_client.post("/admin/groups", data={"csrf_token": token, "name": "staff"}).status_code == 303
    assert "billing" in admin_client.get("/admin/roles").get_data(as_text=True)
    assert admin_client.post(user_path + "/roles", data={"csrf_token": token, "roles": ["billing"],
                                                         "groups": ["staff"]}).status_code == 303
    assert admin_client.post(user_path + "/profile", data={"csrf_token": token, "email": "bob@example.com",
                                                           "nickname": "Bobby"}).status_code == 303
    page = admin_client.get(user_path).get_data(as_text=True)
    assert 'value="billing" checked' in page and 'value="staff" checked' in page and "Bobby" in page
    mailed = admin_client.post(user_path + "/password-link", data={"csrf_token": token})
    assert mailed.status_code == 303
    assert "A link to set a password was sent to bob@example.com" in admin_client.get(user_path).text
    assert admin_client.post(user_path + "/mfa/reset", data={"csrf_token": token, "confirm": "yes"}).status_code == 303
    assert admin_client.post(user_path + "/enabled", data={"csrf_token": token, "enabled": "0",
                                                           "confirm": "yes"}).status_code == 303
    assert "Disabled" in admin_client.get(user_path).get_data(as_text=True)
    assert admin_client.post(user_path + "/delete", data={"csrf_token": token, "confirm": "yes"}).status_code == 303
    assert admin_client.get(user_path).status_code == 404
    assert admin_client.post("/admin/roles/billing/delete", data={"csrf_token": token,
                                                                  "confirm": "yes"}).status_code == 303
    assert admin_client.post("/admin/roles/admin/delete", data={"csrf_token": token,
                                                                "confirm": "yes"}).status_code == 303
    assert "admin" in admin_client.get("/admin/roles").get_data(as_text=True)


def _rows(html: str) -> str:
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def test_audit_page_filters_and_pages(admin_client):
    """Filters by event, outcome, person (by name) and date; people and applications by name; each
    event has a readable page."""
    page = admin_client.get("/admin/audit?event=login&outcome=success&offset=0").get_data(as_text=True)
    rows = _rows(page)
    assert "login.password" in rows and "mfa.totp" not in rows
    assert "Signed in with a password" in rows and "data-label=\"Who\">root<" in rows  # a name, not an id
    assert admin_client.get("/admin/audit?user_id=abc&offset=-4").status_code == 200
    assert "login.password" in _rows(admin_client.get("/admin/audit?person=root").get_data(as_text=True))
    assert _rows(admin_client.get("/admin/audit?person=nobody").get_data(as_text=True)).strip() == ""
    assert _rows(admin_client.get("/admin/audit?until=2000-01-01").get_data(as_text=True)).strip() == ""
    event_id = re.search(r'href="/admin/audit/(\d+)"', rows).group(1)
    detail = admin_client.get(f"/admin/audit/{event_id}").get_data(as_text=True)
    assert "Signed in with a password" in detail and "IP address" in detail
    assert admin_client.get("/admin/audit/999999").status_code == 404


def test_dashboard_counts_and_navigation(admin_client):
    """The overview counts users, applications and the last day's sign-ins; the nav marks the current
    page and offers sign-out."""
    page = admin_client.get("/admin").get_data(as_text=True)
    assert re.search(r"<strong>1</strong> users", page) and re.search(r"<strong>1</strong> sign-ins", page)
    assert re.search(r'href="/admin"\s+aria-current="page">Overview', page)
    assert 'action="/account/logout"' in page and ">Sign out<" in page
    users_page = admin_client.get("/admin/users").get_data(as_text=True)
    assert re.search(r'href="/admin/users"\s+aria-current="page">Users', users_page)


def test_lists_search_sort_and_page(app, admin_client):
    with app.app_context():
        for n in range(30):
            user_service.create(current().passwords, username=f"user{n:02d}", password=PASSWORD,
                                email=f"z{n:02d}@example.com")
    first = _rows(admin_client.get("/admin/users").get_data(as_text=True))
    assert "user00" in first and "user29" not in first  # 25 a page, by username
    second = admin_client.get("/admin/users?offset=25").get_data(as_text=True)
    assert "user29" in _rows(second) and "26–31 of 31" in second
    newest_first = _rows(admin_client.get("/admin/users?sort=username&dir=desc").get_data(as_text=True))
    assert newest_first.index("user29") < newest_first.index("user28")
    assert "user07" in _rows(admin_client.get("/admin/users?q=z07").get_data(as_text=True))
    sorted_page = admin_client.get("/admin/users?sort=email").get_data(as_text=True)
    assert 'aria-sort="ascending"' in sorted_page


def test_no_destructive_action_acts_without_its_confirmation_step(app, admin_client):
    """Deleting, disabling or rotating: without confirm=yes the console answers with a confirmation page
    repeating the form, and nothing changes."""
    from idp.services import clients as client_service
    from idp.services import mfa

    token = csrf_from(admin_client.get("/admin/users").get_data(as_text=True))
    with app.app_context():
        bob = user_service.create(current().passwords, username="bob", password=PASSWORD)
        secret = enrol_totp(app, bob)
        shop = client_service.create(name="Shop", redirect_uris=["https://shop.example.com/cb"])
        rbac.create(rbac.GROUP, "staff", "")
    assert secret
    cid = shop.client.client_id
    for path, fields in ((f"/admin/clients/{cid}/delete", {}), (f"/admin/clients/{cid}/enabled", {"enabled": "0"}),
                         (f"/admin/clients/{cid}/secret", {"grace_seconds": "0"}),
                         (f"/admin/users/{bob.id}/delete", {}), (f"/admin/users/{bob.id}/enabled", {"enabled": "0"}),
                         (f"/admin/users/{bob.id}/mfa/reset", {}), ("/admin/groups/staff/delete", {})):
        asked = admin_client.post(path, data={"csrf_token": token, **fields})
        html = asked.get_data(as_text=True)
        assert asked.status_code == 200 and 'name="confirm" value="yes"' in html, path
        assert f'action="{path}"' in html and ">Cancel</a>" in html, path
    with app.app_context():
        kept = client_service.find(cid)
        assert kept.enabled and client_service.check_secret(kept, shop.client_secret)
        assert user_service.get(bob.id).enabled and mfa.status(bob.id).totp
        assert "staff" in [g.name for g in rbac.list_all(rbac.GROUP)]


def test_client_form_errors_are_at_the_field_in_words(admin_client):
    token = csrf_from(admin_client.get("/admin/clients/new").get_data(as_text=True))
    base = {"csrf_token": token, "name": "Shop", "auth_method": "client_secret_basic",
            "redirect_uris": "https://shop.example.com/cb", "grant_types": "authorization_code", "scopes": "openid"}
    bad = admin_client.post("/admin/clients/new", data=base | {"refresh_token_ttl": "60",
                                                                "refresh_token_idle_ttl": "600"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "“Refresh token idle lifetime” must not exceed “Refresh token lifetime”" in html
    assert "refresh_token_idle_ttl must" not in html  # no internal names
    wildcard = admin_client.post("/admin/clients/new", data=base | {"redirect_uris": "https://shop.example.com/*"})
    html = wildcard.get_data(as_text=True)
    assert re.search(r'<a href="#redirect_uris">Redirect URI', html)  # the summary links to the field
    assert re.search(r'<p class="field-error" id="redirect_uris-error">', html)
    assert re.search(r'id="redirect_uris"[^>]*aria-describedby="redirect_uris-hint redirect_uris-error" '
                     r'aria-invalid="true"', html)
    policy = admin_client.post("/admin/clients/new", data=base | {"policy_uri": "http://shop.example.com/p"})
    assert 'id="policy_uri-error"' in policy.get_data(as_text=True)
    created = admin_client.post("/admin/clients/new", data=base | {"policy_uri": "https://shop.example.com/p",
                                                                    "tos_uri": "https://shop.example.com/t"})
    client_id = re.search(r'id="client-id">([^<]+)<', created.get_data(as_text=True)).group(1)
    edit = admin_client.get(f"/admin/clients/{client_id}").get_data(as_text=True)
    assert 'value="https://shop.example.com/p"' in edit and 'value="https://shop.example.com/t"' in edit


def test_roles_page_searches_and_sorts(app, admin_client):
    with app.app_context():
        rbac.create(rbac.GROUP, "staff", "Everyone employed")
        rbac.create(rbac.GROUP, "contractors", "")
    found = _rows_all(admin_client.get("/admin/roles?q=employ").get_data(as_text=True))
    assert "staff" in found and "contractors" not in found and ">admin<" not in found
    by_name_desc = admin_client.get("/admin/roles?sort=name&dir=desc").get_data(as_text=True)
    assert by_name_desc.index(">staff<") < by_name_desc.index(">contractors<")


def _rows_all(html: str) -> str:
    return "".join(part.split("</tbody>", 1)[0] for part in html.split("<tbody>")[1:])


def test_admin_console_safe_next_refuses_control_characters(app):
    from idp.admin.console_auth import safe_next

    with app.test_request_context():
        assert safe_next("/admin/users\n") == safe_next("/admin/\t/evil.example.com") == "/admin"
        assert safe_next("/admin/users") == "/admin/users"


def test_console_messages_with_values_are_in_the_page_language(app, admin_client):
    """Form errors, flashes and confirmation pages built with values: the words in the console's language,
    the values (an address, a name) as they were given, escaped."""
    token = csrf_from(admin_client.get("/admin/clients/new").get_data(as_text=True))
    admin_client.set_cookie("idp_lang", "fr")
    bad = admin_client.post("/admin/clients/new", data={
        "csrf_token": token, "name": "Shop", "auth_method": "client_secret_basic", "grant_types": "authorization_code",
        "scopes": "openid", "redirect_uris": "http://shop.example.com/cb?<b>"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'lang="fr"' in html
    assert ("L’URI de redirection &#39;http://shop.example.com/cb?&lt;b&gt;&#39; doit utiliser https "
            "(http uniquement en boucle locale).") in html
    assert "<b>" not in html and "must use https" not in html

    admin_client.set_cookie("idp_lang", "de")
    with app.app_context():
        rbac.create(rbac.ROLE, "shipping", "")
    answer = admin_client.post("/admin/roles", data={"csrf_token": token, "name": "shipping"})
    assert answer.status_code == 303
    html = admin_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Eine Rolle namens „shipping“ gibt es bereits." in html and "already exists" not in html

    asked = admin_client.post("/admin/roles/shipping/delete", data={"csrf_token": token})
    html = asked.get_data(as_text=True)
    assert "<h1>Rolle shipping löschen?</h1>" in html and ">Rolle löschen</button>" in html
    with app.app_context():
        assert "shipping" in [r.name for r in rbac.list_all(rbac.ROLE)]


def test_the_users_page_shows_no_message_taken_from_its_address(admin_client):
    """Content spoofing (OWASP ASVS 5.x): a link to the console cannot put words of its own on the page."""
    page = admin_client.get("/admin/users?error=Your+account+is+locked.+Call+555-0100")
    shown = re.sub(r"<[^>]*>", " ", page.text)  # the words on the page (the address is only in link targets)
    assert page.status_code == 200 and "555-0100" not in shown and 'class="alert' not in page.text


@pytest.mark.parametrize("path, field", [
    ("/admin/clients/new", "access_token_ttl"), ("/admin/clients/initial-access-token", "uses"),
    ("/admin/clients/initial-access-token", "expires_in"),
])
def test_unicode_digits_in_number_fields_are_refused_with_a_message(admin_client, rp, path, field):
    """'²'.isdigit() is True, yet int('²') fails: such a value is refused like any other non-number."""
    csrf = csrf_from(admin_client.get("/admin/clients").get_data(as_text=True))
    response = admin_client.post(path, data={"csrf_token": csrf, "name": "New app",
                                             "redirect_uris": "https://new.example.com/cb", field: "\u00b2"})
    assert response.status_code in (200, 303, 400), response.status_code
    page = admin_client.get(response.headers["Location"]) if response.status_code == 303 else response
    assert "whole number" in page.get_data(as_text=True)


def test_unicode_digits_in_the_secret_grace_period_are_refused(admin_client, rp):
    csrf = csrf_from(admin_client.get(f"/admin/clients/{rp.client.client_id}").get_data(as_text=True))
    response = admin_client.post(f"/admin/clients/{rp.client.client_id}/secret",
                                 data={"csrf_token": csrf, "confirm": "yes", "grace_seconds": "\u00b2"})
    assert response.status_code == 303
    assert "whole number" in admin_client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("page, query", [("/admin/users", "offset"), ("/admin/clients", "offset"),
                                         ("/admin/roles", "offset"), ("/admin/audit", "offset"),
                                         ("/admin/audit", "user_id")])
def test_unicode_digits_in_listing_parameters_fall_back_to_the_default(admin_client, page, query):
    assert admin_client.get(page, query_string={query: "\u00b2"}).status_code == 200


@pytest.mark.parametrize("query", [{"since": "9999-12-31"}, {"until": "0001-01-01"}, {"user_id": "30000000000"}])
def test_audit_page_filters_beyond_the_integer_columns_are_a_page(admin_client, query):
    assert admin_client.get("/admin/audit", query_string=query).status_code == 200


def test_built_in_role_descriptions_are_in_the_page_language_until_an_operator_changes_them(app, admin_client):
    admin_client.set_cookie("idp_lang", "de")
    html = admin_client.get("/admin/roles").get_data(as_text=True)
    assert "Vordefiniert: das Audit-Protokoll lesen" in html and "Built-in: read the audit log" not in html
    with app.app_context():
        rbac.update(rbac.ROLE, "auditor", "Reads the audit log for the compliance team")
    html = admin_client.get("/admin/roles").get_data(as_text=True)
    assert "Reads the audit log for the compliance team" in html  # an operator's words are shown as written
