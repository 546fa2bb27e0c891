"""`idp db upgrade` and friends: Alembic (Flask-Migrate) under our own group name."""

from __future__ import annotations

import click
from flask_migrate import upgrade as alembic_upgrade
from flask_migrate.cli import db as flask_migrate_db


def upgrade_database() -> None:
    """Bring an empty or old database up to the latest revision."""
    alembic_upgrade()


db = flask_migrate_db
db.help = "Database migrations (upgrade, downgrade, current, history, revision …)."

__all__ = ["db", "upgrade_database", "click"]
