"""CI check for the translations: every message the code and templates ask for is translated in every
catalogue (with the same placeholders and markup), the committed .mo files match their .po files, and no
template shows literal text that bypasses gettext."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from idp.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
TAG = re.compile(r"<(\w+)")


@pytest.fixture(scope="module")
def extracted() -> dict:
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = DEFAULT_KEYWORDS | {"lazy_gettext": None, "N_": None, "Nn_": (1, 2)}
    found = {}
    # Babel skips folders whose names start with "_" unless told otherwise: templates/_macros and
    # templates/_partials hold messages too (pybabel extract --ignore-dirs '.*' does the same).
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords,
            directory_filter=lambda path: not Path(path).name.startswith(".")):
        found.setdefault(message, filename)
    return found


def test_the_extraction_finds_the_pages_mails_and_scripts(extracted):
    files = set(extracted.values())
    assert any(f.startswith("templates/interaction") for f in files)
    assert any(f.startswith("templates/mail") for f in files)
    assert any(f.startswith("templates/_macros") for f in files)
    assert any(f.startswith("templates/_partials") for f in files)
    assert any(f.startswith("idp/") for f in files)
    assert "Sign in" in extracted and ("%(num)d day ago", "%(num)d days ago") in extracted


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_message_is_translated(extracted, lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    problems = []
    for msgid, where in extracted.items():
        message = catalog.get(msgid)
        if message is None or message.fuzzy:
            problems.append(f"missing in {lang}: {msgid!r} ({where})")
            continue
        sources = msgid if isinstance(msgid, tuple) else (msgid,)
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(targets):
            problems.append(f"empty in {lang}: {msgid!r}")
            continue
        for source, target in zip(sources, targets, strict=False):
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(target)) or \
                    sorted(TAG.findall(source)) != sorted(TAG.findall(target)):
                problems.append(f"placeholders or markup differ in {lang}: {source!r} → {target!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_the_compiled_catalogue_matches_the_po_file(lang):
    folder = TRANSLATIONS / lang / "LC_MESSAGES"
    def tupled(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    with open(folder / "messages.po", "rb") as f:
        po = {tupled(m.id): tupled(m.string) for m in read_po(f) if m.id and not m.fuzzy}
    with open(folder / "messages.mo", "rb") as f:
        mo = {tupled(m.id): tupled(m.string) for m in read_mo(f) if m.id}
    assert mo == po, f"run: python scripts/translations.py compile  ({lang})"


# --- templates: literal text outside _() / {% trans %} ---------------------------------------------
JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
ATTRIBUTE = re.compile(r'\b(aria-label|placeholder|title|alt|data-label)="([^"]*)"')
LETTERS = re.compile(r"[A-Za-z]{2,}")
ALLOWED = {"JSON"}  # names that read the same in every language


def _untranslated(source: str) -> list[str]:
    found = []
    # Attribute values a person reads must come from _() (literal parts are only allowed around Jinja).
    for match in ATTRIBUTE.finditer(source):
        literal = JINJA.sub(" ", match.group(2))
        if LETTERS.search(html.unescape(literal)):
            found.append(match.group(0))
    # Text between tags, with Jinja blocks taken out: none may contain words.
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S | re.I)
    text = re.sub(r"\{\{.*?\}\}", "0", text, flags=re.S)  # a value: part of the text around it
    text = JINJA.sub("\x00", text)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"<[A-Za-z/!][^<>]*>", "\x00", text)  # tags (their attributes are checked above)
    for chunk in text.split("\x00"):
        words = [w for w in LETTERS.findall(html.unescape(chunk)) if w not in ALLOWED]
        # an attribute written between Jinja statements, e.g. {% if x %} checked{% endif %}
        if words and not re.fullmatch(r'(\s*([\w-]+="[^"]*"|checked|selected|hidden|disabled|autofocus|required))+\s*',
                                      chunk):
            found.append(chunk.strip())
    return found


def test_templates_have_no_untranslated_text():
    problems = {}
    for path in sorted((ROOT / "templates").rglob("*.html")):
        found = _untranslated(path.read_text(encoding="utf-8"))
        if found:
            problems[str(path.relative_to(ROOT))] = found
    assert not problems, problems


def test_the_template_check_catches_literal_text():
    assert _untranslated("<p>Sign in</p>") == ["Sign in"]
    assert _untranslated('<input placeholder="e.g. Laptop">') == ['placeholder="e.g. Laptop"']
    assert _untranslated('<p>{{ _("Sign in") }}</p><b>{{ name }}</b>') == []
