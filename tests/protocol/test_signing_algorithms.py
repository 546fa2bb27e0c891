"""Signing algorithms per client: ID tokens and JWT access tokens signed RS256 by default, or PS256 /
ES256 with the current key of that algorithm (each in the rotation, published in the JWKS)."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.errors import ValidationError
from tests.conftest import make_client, redeem


@pytest.mark.parametrize("id_alg, at_alg", [(None, None), ("PS256", "ES256"), ("ES256", "PS256")])
def test_tokens_are_signed_with_the_clients_algorithms(client, browser, user, app, id_alg, at_alg):
    rp = make_client(app, name="Alg", redirect_uris=["https://app.example.com/callback"], skip_consent=True,
                     id_token_signed_response_alg=id_alg, access_token_signed_response_alg=at_alg)
    result = browser.sign_in(rp)
    body = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    id_token = jwt.decode(body["id_token"], keys, algorithms=["RS256", "PS256", "ES256"])
    access = jwt.decode(body["access_token"], keys, algorithms=["RS256", "PS256", "ES256"])
    assert id_token.header["alg"] == (id_alg or "RS256") and access.header["alg"] == (at_alg or "RS256")
    published = {k.kid: k.as_dict()["alg"] for k in keys.keys}
    assert published[id_token.header["kid"]] == id_token.header["alg"]
    # Everything the server accepts back (UserInfo, hints) verifies whatever the algorithm.
    assert client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200


def test_unsupported_or_unsigned_algorithms_are_refused_at_registration(app):
    for alg in ("none", "HS256", "RS512"):
        with pytest.raises(ValidationError, match="id_token_signed_response_alg"):
            make_client(app, name="Bad", redirect_uris=["https://app.example.com/cb"],
                        id_token_signed_response_alg=alg)
