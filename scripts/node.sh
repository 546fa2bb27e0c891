#!/usr/bin/env bash
# Node.js (from Debian) and the npm packages the independent-client tests drive: oauth4webapi (panva)
# for PAR + DPoP + private_key_jwt against a live server. Packages go into .npm-local/ (ignored by git).
#
#   scripts/node.sh          install what is missing; prints nothing else on success
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=$ROOT/.npm-local
OAUTH4WEBAPI_VERSION=3.8.8

as_root() {
    if [[ $EUID -eq 0 ]]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "installing nodejs and npm with apt-get"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if (( major < 18 )); then
    echo "node $major is too old for oauth4webapi (needs 18+: fetch and WebCrypto)" >&2
    exit 1
fi
installed=$(node -p "try { require('$PREFIX/node_modules/oauth4webapi/package.json').version } catch { '' }")
if [[ $installed != "$OAUTH4WEBAPI_VERSION" ]]; then
    mkdir -p "$PREFIX"
    [[ -f $PREFIX/package.json ]] || echo '{"private": true, "type": "module"}' > "$PREFIX/package.json"
    npm install --prefix "$PREFIX" --no-audit --no-fund --silent "oauth4webapi@$OAUTH4WEBAPI_VERSION"
fi
