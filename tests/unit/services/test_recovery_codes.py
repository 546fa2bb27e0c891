"""Recovery codes: ten, shown once, stored hashed, each usable once (also under concurrency),
regenerating kills the old ones."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from idp.errors import SecondFactorFailed
from idp.extensions import db
from idp.services import crypto
from idp.services.mfa import recovery
from idp.storage.mfa import RecoveryCode
from tests.conftest import race


def test_ten_distinct_codes_stored_only_as_hashes(ctx, user):
    codes = recovery.generate(user.id)
    assert len(codes) == 10 == len(set(codes))
    assert all(re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}", c) for c in codes)
    stored = {r.code_hash for r in db.session.scalars(select(RecoveryCode))}
    assert stored == {crypto.lookup_hash(c.replace("-", "")) for c in codes}
    assert not any(c in h or c.replace("-", "") in h for c in codes for h in stored)
    assert recovery.remaining(user.id) == 10


def test_each_code_works_once_in_any_spelling(ctx, user):
    codes = recovery.generate(user.id)
    recovery.use(user.id, " " + codes[0].upper().replace("-", " ") + " ")
    assert recovery.remaining(user.id) == 9
    with pytest.raises(SecondFactorFailed):
        recovery.use(user.id, codes[0])
    with pytest.raises(SecondFactorFailed):
        recovery.use(user.id, "aaaa-bbbb-cccc-dddd")
    assert recovery.remaining(user.id) == 9


def test_regenerating_invalidates_the_old_codes(ctx, user):
    old = recovery.generate(user.id)
    new = recovery.generate(user.id)
    assert not set(old) & set(new)
    with pytest.raises(SecondFactorFailed):
        recovery.use(user.id, old[1])
    recovery.use(user.id, new[1])
    assert recovery.remaining(user.id) == 9


def test_codes_belong_to_their_owner(app, user):
    from idp.services import users
    from idp.services.runtime import current

    with app.app_context():
        bob = users.create(current().passwords, username="bob", password="another good password")
        codes = recovery.generate(user.id)
        with pytest.raises(SecondFactorFailed):
            recovery.use(bob.id, codes[0])


def test_concurrent_uses_of_one_code_accept_exactly_one(app, user):
    with app.app_context():
        code = recovery.generate(user.id)[0]
    racers = 6

    def attempt() -> bool:
        with app.app_context():
            try:
                recovery.use(user.id, code)
                return True
            except SecondFactorFailed:
                return False
            finally:
                db.session.remove()

    outcomes = race(attempt, racers)
    assert sorted(outcomes) == [False] * (racers - 1) + [True]
    with app.app_context():
        assert recovery.remaining(user.id) == 9
