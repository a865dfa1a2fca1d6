"""The English catalogue is complete and compiled: every French string of carnet/locale/en has an English
translation (none empty, none fuzzy), and the .mo the server loads says the same as the .po (a .po edited
without `compilemessages` fails here)."""

import ast
import gettext
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parent.parent / "carnet" / "locale" / "en" / "LC_MESSAGES"


def _entries(po: Path) -> list[dict]:
    """A small reader of the .po format as makemessages writes it (quoted lines, plural forms)."""
    entries, current, key = [], {"flags": ""}, None
    for line in po.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if key is not None:
                entries.append(current)
            current, key = {"flags": ""}, None
        elif line.startswith("#,"):
            current["flags"] += line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            current[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            current[key] = ast.literal_eval(value)
    return entries


def test_every_string_has_an_english_translation():
    entries = [e for e in _entries(CATALOGUE / "django.po") if e["msgid"]]  # the header has an empty msgid
    assert len(entries) > 1000
    untranslated = [e["msgid"][:60] for e in entries
                    if not (e.get("msgstr") or (e.get("msgstr[0]") and e.get("msgstr[1]")))]
    fuzzy = [e["msgid"][:60] for e in entries if "fuzzy" in e["flags"]]
    assert not untranslated, untranslated
    assert not fuzzy, fuzzy


def test_the_compiled_catalogue_matches_the_source():
    with open(CATALOGUE / "django.mo", "rb") as compiled:
        translations = gettext.GNUTranslations(compiled)
    differing = []
    for entry in _entries(CATALOGUE / "django.po"):
        if not entry["msgid"]:
            continue
        if "msgid_plural" in entry:
            got = translations.ngettext(entry["msgid"], entry["msgid_plural"], 1)
            wanted = entry["msgstr[0]"]
        else:
            got, wanted = translations.gettext(entry["msgid"]), entry["msgstr"]
        if got != wanted:
            differing.append(entry["msgid"][:60])
    assert not differing, differing
