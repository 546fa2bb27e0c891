"""Keep the translation catalogues in step with the code (Babel's Python API, so every catalogue keeps its
header — Plural-Forms included — and the same layout: no source locations, sorted, 120 columns).

    python scripts/translations.py update    # extract into translations/messages.pot, merge into every
                                             # catalogue, drop obsolete entries, list what needs translating
    python scripts/translations.py compile   # write the .mo files (committed next to the .po files)

English is the source language: its catalogue's entries are filled with the English text on update.
tests/unit/test_i18n_catalogs.py fails while any entry is missing, empty or fuzzy."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "translations"
KEYWORDS = DEFAULT_KEYWORDS | {"lazy_gettext": None, "N_": None, "Nn_": (1, 2)}


def _catalogues() -> list[Path]:
    return sorted(FOLDER.glob("*/LC_MESSAGES/messages.po"))


def _write(path: Path, catalog: Catalog, *, header_comment: str | None = None) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=120, no_location=True, sort_output=True,
             omit_header=header_comment is None and path.suffix == ".pot")
    text = buffer.getvalue().decode("utf-8")
    if header_comment is not None:  # keep the file's own first comment line instead of Babel's template one
        lines = text.split("\n")
        while lines and lines[0].startswith("#"):
            lines.pop(0)
        text = header_comment + "\n".join(lines)
    path.write_text(text, encoding="utf-8")


def extract() -> Catalog:
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    template = Catalog(project="idp", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS,
            directory_filter=lambda path: not Path(path).name.startswith(".")):  # _macros/, _partials/ too
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    _write(FOLDER / "messages.pot", template)
    return template


def update() -> int:
    template = extract()
    todo = 0
    for path in _catalogues():
        lang = path.parts[-3]
        first_line = path.read_text(encoding="utf-8").split("\n", 1)[0] + "\n"
        with open(path, "rb") as f:
            catalog = read_po(f, locale=lang)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        missing = []
        for message in catalog:
            if not message.id:
                continue
            if lang == "en" and not _complete(message.string):
                message.string = message.id
            if not _complete(message.string) or message.fuzzy:
                missing.append(message.id)
        _write(path, catalog, header_comment=first_line if first_line.startswith("#") else None)
        for msgid in missing:
            print(f"{lang}: to translate: {msgid!r}")
        todo += len(missing)
    print(f"{len(template)} messages; {todo} entries to translate")
    return 0


def _complete(string) -> bool:
    return all(string) if isinstance(string, tuple | list) else bool(string)


def compile_all() -> int:
    for path in _catalogues():
        with open(path, "rb") as f:
            catalog = read_po(f, locale=path.parts[-3])
        with open(path.with_suffix(".mo"), "wb") as f:
            write_mo(f, catalog)
        print(f"compiled {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    commands = {"update": update, "compile": compile_all}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print(__doc__)
        sys.exit(2)
    sys.exit(commands[sys.argv[1]]())
