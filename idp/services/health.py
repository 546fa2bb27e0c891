"""Readiness: can this process serve? The database answers, its schema is at the revision this code
expects, and a signing key is loaded."""

from __future__ import annotations

from functools import cache

from sqlalchemy import text

from ..config import DATA_DIR
from ..extensions import db


@cache
def expected_revision() -> str | None:
    """The head revision of the migrations shipped with this code (read once)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(DATA_DIR / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def readiness(keyring) -> dict[str, str]:
    """One line per check, "ok" or what is wrong (never an exception text that could leak secrets)."""
    checks = {"database": "ok", "migrations": "ok", "signing_key": "ok"}
    try:
        revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        db.session.rollback()
    except Exception:
        db.session.rollback()
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    else:
        if revision != expected_revision():
            checks["migrations"] = f"database at {revision}, code expects {expected_revision()} (run idp db upgrade)"
    if not keyring.loaded:
        checks["signing_key"] = "not loaded"
    return checks
