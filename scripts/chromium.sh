#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium for the browser tests (Playwright drives it
# with executable_path; no browser is ever downloaded by a test tool).
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then
    exit 0
fi
as_root() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
echo "chromium.sh: installing Debian's chromium with apt-get"
as_root apt-get update -q
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
/usr/bin/chromium --version
