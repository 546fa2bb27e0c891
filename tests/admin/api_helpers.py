"""Helpers for admin API tests: automation clients with admin scopes, their tokens, and a checker
that validates every response against the served OpenAPI document."""

from __future__ import annotations

import re

from openapi_schema_validator import OAS31Validator

from idp.services import clients as client_service
from idp.services.rbac import ADMIN_SCOPES
from tests.conftest import basic_auth

BASE = "/admin/api"


def automation_client(app, scopes=ADMIN_SCOPES):
    with app.app_context():
        return client_service.create(name="Automation", redirect_uris=[], grant_types=["client_credentials"],
                                     scopes=list(scopes), admin_scopes_allowed=ADMIN_SCOPES)


def token(client, rp, scope: str | None = None) -> str:
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    response = client.post("/token", data=data, headers=basic_auth(rp.client.client_id, rp.client_secret))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


class Api:
    """Calls the admin API with a bearer token and validates each response against the OpenAPI
    document (status code declared, body matches the schema, content type as documented)."""

    def __init__(self, client, bearer: str | None):
        self.client = client
        self.bearer = bearer
        self.doc = client.get(BASE + "/openapi.json").get_json()
        self.checked: set[tuple[str, str]] = set()

    def _template(self, path: str, method: str) -> str:
        for template, item in self.doc["paths"].items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            if re.match(pattern, path) and method in item:
                return template
        raise AssertionError(f"{method.upper()} {path} is not in the OpenAPI document")

    def call(self, method: str, path: str, **kwargs):
        headers = kwargs.pop("headers", {})
        if self.bearer:
            headers["Authorization"] = f"Bearer {self.bearer}"
        response = self.client.open(BASE + path, method=method.upper(), headers=headers, **kwargs)
        template = self._template(path.split("?")[0], method.lower())
        operation = self.doc["paths"][template][method.lower()]
        declared = operation["responses"].get(str(response.status_code))
        assert declared is not None, f"{method} {template}: undocumented status {response.status_code}"
        self.checked.add((method.lower(), template))
        if "content" in declared:
            (media_type, media), = declared["content"].items()
            assert response.mimetype == media_type, (response.mimetype, media_type)
            schema = {**media["schema"], "components": self.doc["components"]}
            OAS31Validator(schema).validate(response.get_json())
        else:
            assert response.get_data() == b""
        return response

    def get(self, path, **kw):
        return self.call("get", path, **kw)

    def post(self, path, **kw):
        return self.call("post", path, **kw)

    def patch(self, path, **kw):
        return self.call("patch", path, **kw)

    def put(self, path, **kw):
        return self.call("put", path, **kw)

    def delete(self, path, **kw):
        return self.call("delete", path, **kw)
