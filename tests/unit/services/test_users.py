"""Users: what an operator may create, and the errors that tell them what to fix."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from idp.errors import ValidationError
from idp.extensions import db
from idp.services import users as user_service
from idp.services.runtime import current
from idp.storage import users as user_store
from tests.conftest import PASSWORD


def _create(**kwargs):
    values = dict(username="bob", password=PASSWORD, email="bob@example.com")
    values.update(kwargs)
    return user_service.create(current().passwords, **values)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(user_store.User))


def test_create_stores_a_user_who_can_sign_in(ctx):
    created = _create(username="  Bob.Smith ", email="Bob@Example.COM", email_verified=True,
                      claims={"name": "Bob Smith", "address": {"locality": "Leeds", "country": "UK"},
                              "nickname": ""})
    assert created.username == "bob.smith"
    assert created.email == "bob@example.com"
    assert created.email_verified is True
    assert created.enabled is True
    assert created.claims == {"name": "Bob Smith", "address": {"locality": "Leeds", "country": "UK"}}
    assert len(created.sub) >= 16
    row = user_store.get(created.id)
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    assert user_service.authenticate(current().passwords, "bob.smith", PASSWORD).sub == created.sub


def test_email_is_optional(ctx):
    created = _create(email=None)
    assert created.email is None
    assert _create(username="carol", email="").email is None


def test_each_user_gets_a_distinct_subject(ctx):
    assert _create(username="bob", email=None).sub != _create(username="carol", email=None).sub


@pytest.mark.parametrize("username", ["", "   ", "bob smith", "-bob", ".bob", "bob/../x", "b" * 151, "bøb"])
def test_bad_usernames_are_refused(ctx, username):
    with pytest.raises(ValidationError, match="username"):
        _create(username=username)
    assert _count() == 0


@pytest.mark.parametrize("email", [
    "not-an-email", "bob@", "@example.com", "bob@example", "bob smith@example.com",
])
def test_bad_emails_are_refused(ctx, email):
    with pytest.raises(ValidationError, match="e-mail"):
        _create(email=email)
    assert _count() == 0


def test_short_password_is_refused(ctx):
    with pytest.raises(ValidationError, match="at least 8 characters"):
        _create(password="short")
    assert _count() == 0


def test_duplicate_username_or_email_is_refused(ctx):
    _create()
    with pytest.raises(ValidationError, match="already exists"):
        _create(email="other@example.com")  # same username
    with pytest.raises(ValidationError, match="already exists"):
        _create(username="BOB", email=None)  # same username, other case
    with pytest.raises(ValidationError, match="already exists"):
        _create(username="robert", email="BOB@example.com")  # same e-mail
    assert _count() == 1


def test_a_username_may_not_be_another_users_email_nor_the_reverse(ctx):
    """Sign-in takes either name: one login must name one account (else which one signs in is chance)."""
    _create()
    with pytest.raises(ValidationError, match="already exists"):
        _create(username="bob@example.com", email="robert@example.com")
    _create(username="carol@example.com", email=None)
    with pytest.raises(ValidationError, match="already exists"):
        _create(username="dave", email="Carol@example.com")
    assert _count() == 2


def test_unknown_claim_is_refused_naming_it(ctx):
    with pytest.raises(ValidationError, match="favourite_colour"):
        _create(claims={"favourite_colour": "blue"})
    with pytest.raises(ValidationError, match="sub"):
        _create(claims={"sub": "someone-else"})  # identity claims cannot be set
    assert _count() == 0


@pytest.mark.parametrize("address", ["1 High Street, Oxford", ["Oxford"], {"planet": "Earth"}])
def test_badly_shaped_address_is_refused(ctx, address):
    with pytest.raises(ValidationError, match="address"):
        _create(claims={"address": address})
    assert _count() == 0


def test_non_string_profile_claim_is_refused(ctx):
    with pytest.raises(ValidationError, match="name"):
        _create(claims={"name": 42})
    assert _count() == 0


def test_get_and_get_enabled(ctx):
    created = _create()
    assert user_service.get(created.id) == created
    assert user_service.get_enabled(created.id) == created
    assert user_service.get(created.id + 1000) is None
    assert user_service.any_exist() is True
