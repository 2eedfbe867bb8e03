"""docs/errors.md: every case it lists names a test, and that test exists."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_row_of_the_error_catalogue_has_a_test():
    rows = [
        line
        for line in (ROOT / "docs" / "errors.md").read_text().splitlines()
        if line.startswith("| ") and not line.startswith("| case")
    ]
    defined = set(re.findall(r"^def (test_\w+)", _all_tests(), flags=re.M))
    assert len(rows) >= 20
    for row in rows:
        named = re.findall(r"`(test_\w+)`", row)
        assert named, f"no test named in: {row}"
        assert set(named) <= defined, f"{set(named) - defined} not found (row: {row})"


def _all_tests() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
