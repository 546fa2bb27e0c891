"""Small cryptographic helpers shared by the services."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def random_token(nbytes: int = 32) -> str:
    """A url-safe random string with `nbytes` bytes of entropy."""
    return secrets.token_urlsafe(nbytes)


def lookup_hash(value: str) -> str:
    """SHA-256 hex of a high-entropy secret: enough for storage and lookup (no salt/argon2 needed)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def encrypt(kek: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """AES-256-GCM; the output is nonce || ciphertext+tag. `associated_data` binds it to its row."""
    nonce = os.urandom(12)
    return nonce + AESGCM(kek).encrypt(nonce, plaintext, associated_data)


def decrypt(kek: bytes, blob: bytes, associated_data: bytes) -> bytes:
    return AESGCM(kek).decrypt(blob[:12], blob[12:], associated_data)
