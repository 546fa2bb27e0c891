"""`idp-container`: the image's entry point. Refuses to start without IDP_ISSUER (one clear line, exit
2), then replaces itself with the command (so `idp serve` is PID 1 and receives `docker stop`'s SIGTERM)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

MESSAGE = ("idp: set IDP_ISSUER to the URL clients reach this provider at, e.g. "
           "docker run -e IDP_ISSUER=https://id.example.com … (http only for localhost)")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not os.environ.get("IDP_ISSUER", "").strip():
        print(MESSAGE, file=sys.stderr)
        sys.exit(2)
    if not argv:
        argv = ["idp", "serve", "--port", "8000"]
    sibling = Path(sys.executable).with_name(argv[0])  # the `idp` of this installation, even off PATH
    program = str(sibling) if "/" not in argv[0] and sibling.exists() else argv[0]
    os.execvp(program, [program, *argv[1:]])
