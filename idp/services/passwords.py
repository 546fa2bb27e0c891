"""Password hashing with argon2id (argon2-cffi), parameters from settings."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 1024


@dataclass(frozen=True)
class PasswordPolicy:
    time_cost: int
    memory_cost: int
    parallelism: int


class Passwords:
    def __init__(self, policy: PasswordPolicy):
        self._hasher = PasswordHasher(
            time_cost=policy.time_cost, memory_cost=policy.memory_cost, parallelism=policy.parallelism
        )
        # Verified against when the user does not exist, so both paths cost the same time.
        self._dummy_hash = self._hasher.hash("not-a-real-password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        if len(password) > MAX_LENGTH:
            return False
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, password) and stored_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt.gz")


@cache
def _common() -> frozenset[str]:
    """The shipped list of common passwords (8+ characters, lower-cased; ~8,400 entries, read once)."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as fh:
        return frozenset(line.rstrip("\n") for line in fh if line.strip())


def check_strength(password: str, *, username: str | None = None) -> str | None:
    """A reason the password is unacceptable, or None. The one password rule, applied wherever a
    password is set (NIST SP 800-63B §5.1.1.2): at least 8 characters, not a common or leaked
    password, not the username; no composition rules and no expiry."""
    if len(password) < MIN_LENGTH:
        return f"The password must be at least {MIN_LENGTH} characters long."
    if len(password) > MAX_LENGTH:
        return f"The password must be at most {MAX_LENGTH} characters long."
    if password.lower() in _common():
        return ("This password is on a list of common passwords that attackers try first. "
                "Choose another one — a few unrelated words make a strong, memorable password.")
    if username and password.lower() == username.lower():
        return "The password must not be the same as the username."
    return None
