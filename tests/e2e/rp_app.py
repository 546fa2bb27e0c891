"""A small relying-party web app built on Authlib's Flask OAuth client, as an app developer would
write one: configured with only the issuer URL, a client id and a secret. It signs people in, signs
them out through the end-session endpoint (RP-Initiated Logout), and receives back-channel logout
tokens (checked as Back-Channel Logout 1.0 §2.6 says) and front-channel logout requests."""

from __future__ import annotations

import re
import secrets
import socket
import time
from urllib.parse import urljoin

import requests
import waitress.server
from authlib.integrations.flask_client import OAuth
from flask import Flask, jsonify, request, session, url_for
from joserfc import jwt
from joserfc.jwk import KeySet

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def check_logout_token(token: str, *, issuer: str, client_id: str, jwks: dict, known_sids: set[str]) -> dict:
    """Validate a logout token as an RP must (Back-Channel Logout 1.0 §2.6); raise ValueError if bad."""
    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"])  # checks the signature
    claims = decoded.claims
    if decoded.header.get("typ") != "logout+jwt":
        raise ValueError("typ is not logout+jwt")
    if claims.get("iss") != issuer:
        raise ValueError("wrong iss")
    aud = claims.get("aud")
    if client_id not in ([aud] if isinstance(aud, str) else aud or []):
        raise ValueError("wrong aud")
    now = int(time.time())
    if not isinstance(claims.get("iat"), int) or not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
        raise ValueError("iat/exp missing or expired")
    if not claims.get("jti"):
        raise ValueError("no jti")
    if claims.get("events") != {BACKCHANNEL_EVENT: {}}:
        raise ValueError("events claim is wrong")
    if "nonce" in claims:
        raise ValueError("a logout token must not carry a nonce")
    if not claims.get("sub") and not claims.get("sid"):
        raise ValueError("neither sub nor sid")
    if claims.get("sid") not in known_sids:
        raise ValueError("sid of no session of this app")
    return dict(claims)


def create_rp_app(name: str, issuer: str, client_id: str, client_secret: str, response_mode: str = "query") -> Flask:
    app = Flask(name)
    app.config.update(SECRET_KEY=secrets.token_hex(16), SESSION_COOKIE_NAME=f"{name}_session")
    # What the test inspects: sids seen in ID tokens, sids logged out, logout tokens and front-channel calls.
    events = app.extensions["rp_events"] = {"sids": set(), "logged_out_sids": set(), "backchannel": [],
                                            "backchannel_rejected": [], "frontchannel": []}
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
        session["sid"] = token["userinfo"].get("sid")
        session["id_token"] = token["id_token"]
        events["sids"].add(session["sid"])
        return jsonify(id_token_claims=dict(token["userinfo"]), userinfo=dict(userinfo),
                       access_token=token["access_token"], scope=token.get("scope"))

    @app.get("/me")
    def me():
        signed_in = "sub" in session and session.get("sid") not in events["logged_out_sids"]
        return jsonify(signed_in=signed_in, sub=session.get("sub") if signed_in else None)

    @app.get("/logout")
    def logout():
        id_token = session.pop("id_token", None)
        return oauth.idp.logout_redirect(url_for("logged_out", _external=True), id_token_hint=id_token)

    @app.get("/logged_out")
    def logged_out():
        oauth.idp.validate_logout_response()  # checks the state it sent
        session.clear()
        return jsonify(signed_out=True)

    @app.post("/backchannel_logout")
    def backchannel_logout():
        token = request.form.get("logout_token", "")
        try:
            claims = check_logout_token(token, issuer=issuer, client_id=client_id,
                                        jwks=oauth.idp.fetch_jwk_set(force=True), known_sids=events["sids"])
        except Exception as exc:  # any failure is a rejection; the reason is what the test looks at
            events["backchannel_rejected"].append(str(exc))
            return jsonify(error="invalid_request", error_description=str(exc)), 400
        events["backchannel"].append(claims)
        events["logged_out_sids"].add(claims["sid"])
        return "", 200, {"Cache-Control": "no-store"}

    @app.get("/frontchannel_logout")
    def frontchannel_logout():
        events["frontchannel"].append(dict(request.args))
        if request.args.get("iss") == issuer:
            events["logged_out_sids"].add(request.args.get("sid"))
        return "<!doctype html><title>signed out</title><p>Signed out of the app.</p>", 200, {
            "Cache-Control": "no-store"}

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
        self.events = app.extensions["rp_events"]
        from tests.conftest import ServerThread

        self.thread = ServerThread(waitress.server.create_server(app, sockets=[self._sock], threads=4))
        self.thread.start()

    def registration(self) -> dict:
        """The client registration this app needs (for make_client)."""
        return dict(name=f"App {self.name}", redirect_uris=[f"{self.url}/callback"],
                    post_logout_redirect_uris=[f"{self.url}/logged_out"])

    def wait_for(self, kind: str, count: int = 1, timeout: float = 15) -> list:
        deadline = time.monotonic() + timeout
        while len(self.events[kind]) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.events[kind])

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
