#!/usr/bin/env bash
# Lint and run the whole test suite on SQLite, then on a throwaway PostgreSQL (scripts/pg.sh).
#
#   scripts/test.sh [pytest args...]      e.g. scripts/test.sh -x -k refresh
#
# Installs what it needs on a fresh Debian 12: its own venv at .venv-test (IDP_TEST_VENV; python3-venv
# from apt if missing) — never .venv, which scripts/serve.sh's running server uses —
# the project with its [test] extras, and PostgreSQL from apt if missing. Every stage runs even if an
# earlier one failed; the exit status is non-zero if any failed.
#
# Environment knobs:
#   IDP_TEST_DATABASES   which runs to do (default "sqlite postgresql")
#   IDP_TEST_WORKERS     pytest-xdist workers (default 2; 0 runs in-process)
#   IDP_TEST_TIMEOUT     seconds per pytest run before it is killed (default 900 when CI is set, else none)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DATABASES=${IDP_TEST_DATABASES:-sqlite postgresql}
WORKERS=${IDP_TEST_WORKERS:-2}
TIMEOUT=${IDP_TEST_TIMEOUT:-}
if [[ -z $TIMEOUT && -n ${CI:-} && ${CI:-} != false ]]; then TIMEOUT=900; fi
VENV=${IDP_TEST_VENV:-$ROOT/.venv-test}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

banner() { printf '\n==> %s\n' "$*"; }
declare -a RESULTS=()
FAILED=0
record() {  # record NAME STATUS SECONDS
    local verdict=ok
    if [[ $2 -ne 0 ]]; then verdict="FAILED (exit $2)"; FAILED=1; fi
    RESULTS+=("$(printf '%-34s %-16s %4ss' "$1" "$verdict" "$3")")
}
summary() {
    banner "Summary"
    local line
    for line in "${RESULTS[@]}"; do echo "    $line"; done
}

as_root() {
    if [[ $EUID -eq 0 ]]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

make_venv() {
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || { echo "python3 must be 3.11 or newer (found $(python3 --version 2>&1))" >&2; exit 1; }
    if "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
            && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
        echo "reusing $VENV"
        return
    fi
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
        # Debian ships venv's ensurepip separately.
        rm -rf "$VENV"
        echo "python3 -m venv failed; installing python3-venv with apt-get"
        as_root apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
        python3 -m venv "$VENV"
    fi
}

# run_pytest LABEL [env assignments...] -- [extra args]
run_pytest() {
    local label=$1; shift
    local -a envs=()
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    local -a cmd=("$VENV/bin/python" -m pytest -q)
    if [[ $WORKERS != 0 ]]; then cmd+=(-n "$WORKERS"); fi
    cmd+=("$@")
    # --foreground keeps pytest in our process group, so Ctrl-C and a CI runner's group kill reach it.
    if [[ -n $TIMEOUT ]]; then cmd=(timeout --foreground --kill-after=30 "$TIMEOUT" "${cmd[@]}"); fi
    local start=$SECONDS status=0
    env -u IDP_TEST_DATABASE_URL "${envs[@]}" "${cmd[@]}" || status=$?
    if [[ $status -eq 124 && -n $TIMEOUT ]]; then echo "pytest timed out after ${TIMEOUT}s" >&2; fi
    record "$label" "$status" $((SECONDS - start))
}

trap 'exit 130' INT
trap 'exit 143' TERM

banner "Environment: $(python3 --version 2>&1), venv $VENV"
start=$SECONDS
make_venv
"$VENV/bin/python" -m pip install -q -e '.[test]'
record "install (venv + pip)" 0 $((SECONDS - start))

banner "Chromium for the browser tests (scripts/chromium.sh)"
start=$SECONDS; status=0
bash scripts/chromium.sh || status=$?
record "chromium" "$status" $((SECONDS - start))

banner "Node.js and oauth4webapi for the independent-client tests (scripts/node.sh)"
start=$SECONDS; status=0
bash scripts/node.sh || status=$?
record "node + oauth4webapi" "$status" $((SECONDS - start))

banner "ruff check idp tests scripts migrations/env.py"
start=$SECONDS; status=0
"$VENV/bin/ruff" check idp tests scripts migrations/env.py || status=$?
record "ruff" "$status" $((SECONDS - start))

for database in $DATABASES; do
    case $database in
    sqlite)
        banner "pytest on SQLite (a temporary database file per worker)"
        run_pytest "pytest on SQLite" -- "$@"
        ;;
    postgresql)
        banner "Starting a throwaway PostgreSQL (scripts/pg.sh)"
        trap 'banner "Stopping PostgreSQL"; bash "$ROOT/scripts/pg.sh" stop || true' EXIT
        start=$SECONDS; status=0
        bash scripts/pg.sh start || status=$?
        record "PostgreSQL start" "$status" $((SECONDS - start))
        if [[ $status -eq 0 ]]; then
            url=$(bash scripts/pg.sh url)
            note=""
            if [[ $WORKERS != 0 ]]; then note=" (one database per xdist worker: idp_test_gw0, ...)"; fi
            banner "pytest on PostgreSQL at $url$note"
            run_pytest "pytest on PostgreSQL" IDP_TEST_DATABASE_URL="$url" -- "$@"
        fi
        banner "Stopping PostgreSQL"
        bash scripts/pg.sh stop || true
        trap - EXIT
        ;;
    *)
        echo "unknown database in IDP_TEST_DATABASES: $database" >&2
        record "pytest on $database" 2 0
        ;;
    esac
done

summary
exit "$FAILED"
