"""An independent FAPI 2.0 client: panva's oauth4webapi (npm, run by Debian's node) pushes its request
(PAR) with private_key_jwt and DPoP, validates the callback's iss, exchanges the code with a DPoP
proof (retrying on use_dpop_nonce as its docs say), calls UserInfo with the DPoP scheme and refreshes,
against a live server. scripts/node.sh installs node and the package when they are missing."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc.jwk import ECKey

from idp.extensions import db
from idp.storage.tokens import Token
from tests.conftest import Browser, make_client
from tests.protocol.high_assurance import client_key, public_jwks

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
NPM_LOCAL = ROOT / ".npm-local"
SCRIPT = Path(__file__).with_name("oauth4webapi_client.mjs")
REDIRECT = "https://rp.example.com/cb"


@pytest.fixture(scope="session")
def node() -> str:
    if not (NPM_LOCAL / "node_modules" / "oauth4webapi" / "package.json").exists():
        subprocess.run(["bash", str(ROOT / "scripts" / "node.sh")], check=True, timeout=600)
    return "node"


def _run(node, env, *args) -> dict:
    result = subprocess.run([node, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_oauth4webapi_does_par_private_key_jwt_and_dpop_against_a_fapi2_client(app, live_server, user, node,
                                                                                tmp_path):
    rp = make_client(app, name="oauth4webapi RP", redirect_uris=[REDIRECT],
                     token_endpoint_auth_method="private_key_jwt", jwks=public_jwks(client_key("ec")), fapi2=True,
                     skip_consent=True, grant_types=["authorization_code", "refresh_token"],
                     scopes=["openid", "profile", "offline_access"])
    env = dict(os.environ, NPM_LOCAL=str(NPM_LOCAL), ISSUER=live_server.url, CLIENT_ID=rp.client.client_id,
               CLIENT_JWK=json.dumps(client_key("ec").as_dict(private=True)), REDIRECT_URI=REDIRECT)
    state = str(tmp_path / "state.json")

    pushed = _run(node, env, "push", state)
    assert pushed["expires_in"] == 60 and "request_uri=urn" in pushed["authorization_url"]
    request_uri = parse_qs(urlsplit(pushed["authorization_url"]).query)["request_uri"][0]
    result = Browser(live_server.app.test_client()).sign_in(rp, request_uri=request_uri)
    assert result["iss"] == live_server.url

    done = _run(node, env, "callback", state, result["_location"])
    assert done["token_type"].lower() == "dpop" and done["refreshed_token_type"].lower() == "dpop"
    assert done["userinfo"]["sub"] == done["sub"] and done["userinfo"]["name"] == "Alice Liddell"
    jkt = ECKey.import_key(done["dpop_public_jwk"]).thumbprint()
    with app.app_context():
        bound = {t.jkt for t in db.session.query(Token).filter(Token.kind == "access")}
        assert bound == {jkt}  # both access tokens are bound to oauth4webapi's DPoP key
