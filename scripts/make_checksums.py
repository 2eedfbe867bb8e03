"""Write ``reinflect/checksums.json``: the sha256 of every train and dev file of
SIGMORPHON 2016 and CoNLL-SIGMORPHON 2017 task 1, from a local mirror.

    python scripts/make_checksums.py ../shared/data

The mirror holds byte-identical copies of the public repositories at the
pinned commits that ``reinflect.download.SOURCES`` names (see each folder's
DATA.md), so these are the checksums of the public files. Test files are
not listed: reinflect never fetches or reads them.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "reinflect" / "checksums.json"
FOLDERS = {"sigmorphon2016": "sigmorphon2016", "conll2017": "conll2017/task1"}


def main() -> None:
    mirror = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
    table = {}
    for name, sub in FOLDERS.items():
        files = sorted(p for p in (mirror / sub).iterdir() if p.is_file() and "-test" not in p.name)
        table[name] = {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.name != "DATA.md"
        }
    OUT.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT}: " + ", ".join(f"{k} {len(v)} files" for k, v in table.items()))


if __name__ == "__main__":
    main()
