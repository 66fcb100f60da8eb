"""The interface is Chinese first: every message in the code and templates has a Simplified Chinese translation."""

import gettext
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "core" / "translations"
METHODS = [("core/**.py", "python"), ("plugins/**.py", "python"), ("federation/**.py", "python"), ("core/**/templates/**.html", "jinja2"),
           ("plugins/**/templates/**.html", "jinja2")]
# Babel's default keywords, the lazy ones (``lazy_gettext as _l``) and refusals (``N_``, core/i18n.py), as
# ``make translations`` extracts them.
from babel.messages.extract import DEFAULT_KEYWORDS  # noqa: E402

KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS, directory_filter=lambda d: ".venv" not in d):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle)


def test_every_message_has_a_chinese_translation():
    catalog = _catalog("zh")
    translated = {m.id for m in catalog if m.id and m.string and "fuzzy" not in m.flags}
    missing = sorted(_source_messages() - translated)
    assert missing == [], f"untranslated (run make translations, then fill zh/messages.po): {missing}"


def test_compiled_catalogs_match_their_sources():
    for language in ("zh", "en"):
        with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo", "rb") as handle:
            compiled = gettext.GNUTranslations(handle)
        for message in _catalog(language):
            if message.id and message.string:
                assert compiled.gettext(message.id) == message.string, f"{language}: recompile (make translations)"
