"""Fill Chinese translations into core/translations/zh/LC_MESSAGES/messages.po and recompile.

Usage: .venv/bin/python scripts/fill_translations.py FILE   (FILE: one "English<TAB>中文" per line)
       .venv/bin/python scripts/fill_translations.py --missing   (list the msgids without a translation)
Run ``make translations`` first so that the catalogue holds the new msgids.
"""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "core/translations/zh/LC_MESSAGES/messages.po"


def main(argv: list[str]) -> int:
    with open(PO, "rb") as handle:
        catalog = read_po(handle)
    if argv[:1] == ["--missing"]:
        for message in catalog:
            if message.id and not message.string:
                print(message.id if isinstance(message.id, str) else message.id[0])
        return 0
    pairs = {}
    for line in Path(argv[0]).read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            english, chinese = line.split("\t", 1)
            pairs[english] = chinese
    unknown = [e for e in pairs if e not in catalog]
    for message in catalog:
        if message.id in pairs:
            message.string = pairs[message.id]
            message.flags.discard("fuzzy")
    with open(PO, "wb") as handle:
        write_po(handle, catalog, sort_output=True)
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-d", str(ROOT / "core/translations")],
                   check=True, capture_output=True)
    if unknown:
        print("not in the catalogue (run make translations first):", *unknown, sep="\n  ")
    return 1 if unknown else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
