"""WSGI entry point for servers other than `idp serve` (e.g. `gunicorn wsgi:app`). Run
`idp db upgrade` before starting workers; keys are generated on first use."""

from idp import create_app

app = create_app()
