"""A complete relying party ("Sign in with idp") in one file: Flask + Authlib's OpenID Connect client.

    idp clients create --name "Example app" --redirect-uri http://127.0.0.1:8000/callback --json
    IDP_CLIENT_ID=… IDP_CLIENT_SECRET=… .venv/bin/python examples/rp.py      # then open http://127.0.0.1:8000

Needs flask, authlib and requests (scripts/serve.sh installs them into .venv). Settings: IDP_ISSUER (default
http://localhost:5000), IDP_CLIENT_ID, IDP_CLIENT_SECRET, RP_PORT (default 8000)."""

from __future__ import annotations

import os
import secrets

from authlib.integrations.flask_client import OAuth
from flask import Flask, redirect, session, url_for
from markupsafe import escape

ISSUER = os.environ.get("IDP_ISSUER", "http://localhost:5000")
PORT = int(os.environ.get("RP_PORT", "8000"))

app = Flask(__name__)
app.secret_key = secrets.token_hex(32)
oauth = OAuth(app)
oauth.register(
    "idp", client_id=os.environ["IDP_CLIENT_ID"], client_secret=os.environ["IDP_CLIENT_SECRET"],
    server_metadata_url=f"{ISSUER}/.well-known/openid-configuration",
    client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"},
)


@app.get("/")
def home():
    user = session.get("user")
    if not user:
        return '<p>Not signed in. <a href="/login">Sign in with idp</a></p>'
    return (f"<p>Signed in as {escape(user.get('name') or user['sub'])} ({escape(user.get('email', ''))}).</p>"
            '<form method="post" action="/logout"><button>Sign out</button></form>')


@app.get("/login")
def login():
    return oauth.idp.authorize_redirect(url_for("callback", _external=True))


@app.get("/callback")
def callback():
    token = oauth.idp.authorize_access_token()  # exchanges the code, verifies the ID token (JWKS, iss, aud, nonce)
    session["user"], session["id_token"] = token["userinfo"], token["id_token"]
    return redirect("/")


@app.post("/logout")
def logout():
    id_token = session.pop("id_token", "")
    session.clear()
    end_session = oauth.idp.load_server_metadata()["end_session_endpoint"]
    return redirect(f"{end_session}?id_token_hint={id_token}&post_logout_redirect_uri=http://127.0.0.1:{PORT}/")


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=PORT)
