#!/usr/bin/env bash
# Installs the identity provider into .venv (first run only) and starts it on the embedded default:
# SQLite and keys in ./instance, issuer http://localhost:5000. Extra arguments go to `idp serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/idp ] || [ pyproject.toml -nt .venv/.installed ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet .
  touch .venv/.installed
fi
export IDP_ISSUER="${IDP_ISSUER:-http://localhost:${IDP_PORT:-5000}}"
exec .venv/bin/idp serve --port "${IDP_PORT:-5000}" "$@"
