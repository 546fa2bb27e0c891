#!/usr/bin/env bash
# Installs the identity provider into .venv (first run, and again when pyproject.toml changes) and starts
# `idp serve` on the embedded default: SQLite and keys in ./instance, issuer http://localhost:5000.
#
# The issuer decides the port: IDP_ISSUER=http://localhost:5411 ./scripts/serve.sh serves on 5411 and
# advertises it. Extra arguments go to `idp serve` (--workers N, --threads N, --host ADDRESS).
# The tests use their own virtualenv (.venv-test, scripts/test.sh), so running them never disturbs this one.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/idp ] || [ pyproject.toml -nt .venv/.installed ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet '.[examples]'
  touch .venv/.installed
fi
export IDP_ISSUER="${IDP_ISSUER:-http://localhost:5000}"
export IDP_INSTANCE_PATH="${IDP_INSTANCE_PATH:-$PWD/instance}"
exec .venv/bin/idp serve "$@"
