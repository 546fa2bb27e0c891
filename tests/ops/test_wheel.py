"""The wheel ships what the server needs at run time besides the code: templates, static files
(the console's and password page's scripts), migrations, defaults and the common-password list."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_ships_data_files(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("idp-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("idp/_data/templates/admin/layout.html", "idp/_data/static/js/console.js",
                   "idp/_data/static/js/password.js", "idp/_data/static/css/site.css",
                   "idp/_data/config/defaults.toml", "idp/_data/translations/de/LC_MESSAGES/messages.mo",
                   "idp/_data/translations/fr/LC_MESSAGES/messages.mo"):
        assert needed in names, needed
