"""A small relying-party web app built on Authlib's Flask OAuth client, as an app developer would
write one: configured with only the issuer URL, a client id and a secret."""

from __future__ import annotations

import re
import secrets
import socket
from urllib.parse import urljoin

import requests
import waitress.server
from authlib.integrations.flask_client import OAuth
from flask import Flask, jsonify, session, url_for


def create_rp_app(name: str, issuer: str, client_id: str, client_secret: str, response_mode: str = "query") -> Flask:
    app = Flask(name)
    app.config.update(SECRET_KEY=secrets.token_hex(16), SESSION_COOKIE_NAME=f"{name}_session")
    oauth = OAuth(app)
    oauth.register(
        "idp", client_id=client_id, client_secret=client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"},
    )

    @app.get("/login")
    def login():
        extra = {"response_mode": response_mode} if response_mode != "query" else {}
        return oauth.idp.authorize_redirect(url_for("callback", _external=True), **extra)

    @app.route("/callback", methods=["GET", "POST"])
    def callback():
        token = oauth.idp.authorize_access_token()  # checks state, fetches tokens, verifies the ID token
        userinfo = oauth.idp.userinfo(token=token)
        session["sub"] = token["userinfo"]["sub"]
        return jsonify(id_token_claims=dict(token["userinfo"]), userinfo=dict(userinfo),
                       access_token=token["access_token"], scope=token.get("scope"))

    return app


class RelyingParty:
    def __init__(self, name: str):
        self.name = name
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._sock = sock
        self.thread = None

    def start(self, issuer: str, client_id: str, client_secret: str, response_mode: str = "query") -> None:
        app = create_rp_app(self.name, issuer, client_id, client_secret, response_mode)
        from tests.conftest import ServerThread

        self.thread = ServerThread(waitress.server.create_server(app, sockets=[self._sock], threads=4))
        self.thread.start()

    def stop(self) -> None:
        if self.thread:
            self.thread.stop()


def follow(browser: requests.Session, response: requests.Response) -> requests.Response:
    while response.is_redirect:
        response = browser.get(urljoin(response.url, response.headers["Location"]), allow_redirects=False)
    return response


def submit(browser: requests.Session, page: requests.Response, action_pattern: str, data: dict):
    html = page.text
    action = re.search(rf'<form method="post" action="([^"]*{action_pattern})"', html).group(1)
    data["csrf_token"] = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = browser.post(urljoin(page.url, action), data=data, allow_redirects=False)
    return follow(browser, response)
