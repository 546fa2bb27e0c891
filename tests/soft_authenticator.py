"""A software WebAuthn authenticator for fast tests (ES256, "none" attestation), built from the
spec's byte layouts (WebAuthn L2 §6.1 authenticator data, §6.5 attestation object). The browser tests
use Chromium's virtual authenticator instead."""

from __future__ import annotations

import hashlib
import json
import os
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import bytes_to_base64url

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


class SoftAuthenticator:
    def __init__(self, origin: str, rp_id: str, *, synced: bool = False, user_verifying: bool = True):
        self.origin, self.rp_id = origin, rp_id
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.sign_count = 0
        self.synced, self.user_verifying = synced, user_verifying
        self.user_handle: str | None = None

    @property
    def id(self) -> str:
        return bytes_to_base64url(self.credential_id)

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _auth_data(self, attested: bool) -> bytes:
        flags = UP | (UV if self.user_verifying else 0) | ((BE | BS) if self.synced else 0) | (AT if attested else 0)
        data = hashlib.sha256(self.rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", self.sign_count)
        if attested:
            data += bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + self._cose_key()
        return data

    def _client_data(self, kind: str, options: dict, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": options["challenge"], "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    def create(self, options_json: str, origin: str | None = None) -> str:
        """navigator.credentials.create() → the JSON the page posts (credential.toJSON())."""
        options = json.loads(options_json)
        self.user_handle = options["user"]["id"]
        client_data = self._client_data("webauthn.create", options, origin)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": self._auth_data(attested=True)})
        return json.dumps({
            "id": self.id, "rawId": self.id, "type": "public-key", "clientExtensionResults": {},
            "response": {"clientDataJSON": bytes_to_base64url(client_data),
                         "attestationObject": bytes_to_base64url(attestation), "transports": ["usb", "bogus"]},
        })

    def get(self, options_json: str, *, sign_count: int | None = None, user_handle: str | None = None,
            origin: str | None = None) -> str:
        """navigator.credentials.get() → credential.toJSON(). The counter goes up unless told otherwise."""
        options = json.loads(options_json)
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        client_data = self._client_data("webauthn.get", options, origin)
        auth_data = self._auth_data(attested=False)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return json.dumps({
            "id": self.id, "rawId": self.id, "type": "public-key", "clientExtensionResults": {},
            "response": {"clientDataJSON": bytes_to_base64url(client_data),
                         "authenticatorData": bytes_to_base64url(auth_data),
                         "signature": bytes_to_base64url(signature),
                         "userHandle": user_handle if user_handle is not None else self.user_handle},
        })
