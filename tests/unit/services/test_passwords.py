"""Passwords: argon2id hashes with the configured parameters, verification, transparent upgrade of
old hashes at login, and sign-in failures that do not reveal whether the account exists."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters

from idp.errors import AuthenticationFailed
from idp.extensions import db
from idp.services import users as user_service
from idp.services.passwords import MAX_LENGTH, PasswordPolicy, Passwords, check_strength
from idp.services.runtime import current
from idp.storage import users as user_store
from tests.conftest import PASSWORD

CHEAP = PasswordPolicy(time_cost=1, memory_cost=8, parallelism=1)
STRONGER = PasswordPolicy(time_cost=2, memory_cost=16, parallelism=1)


def test_hash_is_argon2id_with_the_configured_parameters():
    hashed = Passwords(STRONGER).hash("s3cret-passphrase")
    assert hashed.startswith("$argon2id$")
    params = extract_parameters(hashed)
    assert (params.time_cost, params.memory_cost, params.parallelism) == (2, 16, 1)
    assert "s3cret-passphrase" not in hashed


def test_same_password_hashes_differently_each_time():
    passwords = Passwords(CHEAP)
    assert passwords.hash("same password") != passwords.hash("same password")


def test_verify_accepts_the_right_password_and_rejects_others():
    passwords = Passwords(CHEAP)
    hashed = passwords.hash("s3cret-passphrase")
    assert passwords.verify(hashed, "s3cret-passphrase") is True
    assert passwords.verify(hashed, "s3cret-passphrasE") is False
    assert passwords.verify(hashed, "") is False
    assert passwords.verify(None, "s3cret-passphrase") is False  # no such user
    assert passwords.verify("not-a-hash", "s3cret-passphrase") is False
    assert passwords.verify(hashed, "x" * (MAX_LENGTH + 1)) is False


def test_a_hash_made_with_other_parameters_verifies_but_needs_rehash():
    old = Passwords(CHEAP).hash("s3cret-passphrase")
    stronger = Passwords(STRONGER)
    assert stronger.verify(old, "s3cret-passphrase") is True
    assert stronger.needs_rehash(old) is True
    assert stronger.needs_rehash(stronger.hash("s3cret-passphrase")) is False
    assert Passwords(CHEAP).needs_rehash(old) is False


def test_password_strength_rules():
    assert check_strength("short") is not None
    assert "8" in check_strength("1234567")
    assert check_strength("a8d7f6g5") is None
    assert check_strength("x7#kq!29") is None  # eight characters, not a common one
    assert check_strength("x" * (MAX_LENGTH + 1)) is not None


def test_a_password_equal_to_the_username_is_refused():
    assert "username" in check_strength("Alice.Liddell", avoid=("alice.liddell", None))


def _stored_hash(user_id: int) -> str:
    db.session.expire_all()
    return user_store.get(user_id).password_hash


def test_login_upgrades_a_hash_made_with_old_parameters(ctx, user):
    old_hash = _stored_hash(user.id)
    stronger = Passwords(STRONGER)
    assert stronger.needs_rehash(old_hash)

    signed_in = user_service.authenticate(stronger, "alice", PASSWORD)

    assert signed_in.id == user.id
    new_hash = _stored_hash(user.id)
    assert new_hash != old_hash
    assert extract_parameters(new_hash).time_cost == 2
    assert not stronger.needs_rehash(new_hash)
    # The upgraded hash still lets the person in, with either configuration.
    assert user_service.authenticate(stronger, "alice", PASSWORD).id == user.id
    assert user_service.authenticate(current().passwords, "alice", PASSWORD).id == user.id


def test_login_with_current_parameters_leaves_the_hash_alone(ctx, user):
    old_hash = _stored_hash(user.id)
    user_service.authenticate(current().passwords, "alice", PASSWORD)
    assert _stored_hash(user.id) == old_hash


def test_failed_login_does_not_touch_the_hash(ctx, user):
    old_hash = _stored_hash(user.id)
    with pytest.raises(AuthenticationFailed):
        user_service.authenticate(Passwords(STRONGER), "alice", "wrong password")
    assert _stored_hash(user.id) == old_hash


def test_login_by_username_or_email_in_any_case(ctx, user):
    passwords = current().passwords
    assert user_service.authenticate(passwords, "alice", PASSWORD).id == user.id
    assert user_service.authenticate(passwords, "ALICE", PASSWORD).id == user.id
    assert user_service.authenticate(passwords, "Alice@Example.com", PASSWORD).id == user.id


def _failure(login: str, password: str) -> str:
    with pytest.raises(AuthenticationFailed) as excinfo:
        user_service.authenticate(current().passwords, login, password)
    return str(excinfo.value)


def test_unknown_user_and_wrong_password_fail_the_same_way(ctx, user):
    wrong_password = _failure("alice", "not the password")
    unknown_user = _failure("mallory", PASSWORD)
    assert wrong_password == unknown_user == "The username or password is incorrect."
    assert _failure("", "") == wrong_password
    assert _failure("a" * 300, PASSWORD) == wrong_password


def test_disabled_user_cannot_sign_in(ctx, user):
    row = user_store.get(user.id)
    row.enabled = False
    db.session.commit()
    assert _failure("alice", PASSWORD) == "The username or password is incorrect."
    assert user_service.get_enabled(user.id) is None


@pytest.mark.parametrize("candidate", ["password123", "Password123", "qwertyuiop", "iloveyou1", "12345678",
                                       "password", "Password1", "iloveyou"])
def test_common_passwords_are_refused_with_a_reason(candidate):
    reason = check_strength(candidate)
    assert reason is not None and "common passwords" in reason


def test_the_password_rules():
    assert "at least 8" in check_strength("Tr0ub4!")
    assert check_strength("correct horse battery") is None  # a passphrase, no composition rules
    assert check_strength("zebra-kettle-51") is None
    assert "username" in check_strength("alice.liddell", avoid=("Alice.Liddell",))


def test_every_way_of_setting_a_password_applies_the_rules(app):
    """users.create, change_password and set-password links refuse a common password, naming the field."""
    from idp.errors import ValidationError

    with app.app_context():
        passwords = current().passwords
        with pytest.raises(ValidationError, match="common passwords") as refused:
            user_service.create(passwords, username="carol", password="password123")
        assert refused.value.field == "password"
        user = user_service.create(passwords, username="carol", password=PASSWORD)
        with pytest.raises(ValidationError, match="common passwords"):
            user_service.change_password(passwords, user.id, PASSWORD, "iloveyou123")
        link = user_service.issue_password_link(user.id, 600)
        with pytest.raises(ValidationError, match="common passwords"):
            user_service.set_password_with_link(passwords, link.token, "qwerty123")
