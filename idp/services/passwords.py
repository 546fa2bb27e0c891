"""Password hashing with argon2id (argon2-cffi), parameters from settings."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import Message
from .text import N_

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


@functools.cache
def common_passwords() -> frozenset[str]:
    """The most commonly used passwords long enough to pass the length rule (zxcvbn's list of the
    30,000 most frequent, from leaked password sets), lower-cased. ASVS 2.1.7."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"] if len(p) >= MIN_LENGTH)


def check_strength(password: str, avoid: tuple[str | None, ...] = ()) -> str | None:
    """A reason the password is unacceptable, or None: too short or long, among the most common
    passwords, or the same as one of `avoid` (the username, the e-mail address)."""
    if len(password) < MIN_LENGTH:
        return Message(N_("The password must be at least %(num)d characters long."), num=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return Message(N_("The password must be at most %(num)d characters long."), num=MAX_LENGTH)
    lowered = password.lower()
    if lowered in common_passwords():
        return N_("This password is on a list of common passwords that attackers try first. "
                  "Choose another one — a few unrelated words make a strong, memorable password.")
    if any(word and lowered == word.lower() for word in avoid):
        return N_("The password must not be your username or e-mail address.")
    return None
