"""Readers and writers for SIGMORPHON 2016 and UniMorph-style (2017+) files.

Layouts (tab-separated, UTF-8, one example per line):

=====================  ==========================================  =================
format                 columns                                     tags look like
=====================  ==========================================  =================
``sigmorphon2016``     source, target tags, target (tasks 1 and 3) ``pos=V,tense=PST``
``sigmorphon2016-t2``  source tags, source, target tags, target    ``pos=V,tense=PST``
``unimorph``           lemma, form, tags (2017-2019)               ``V;PST;3;SG``
``unimorph-ltf``       lemma, tags, form (some 2020+ files)        ``V;PST;3;SG``
=====================  ==========================================  =================

Covered (test) files lack the target: the 2016 files drop the last column,
the 2017 files leave the form column empty; both read with ``target=None``.
Every field is a plain string: ``null``, ``nan`` and ``NA`` are words, never
missing values, and no quoting exists in these formats.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from reinflect.checkpoint import atomic_write
from reinflect.errors import ReinflectError
from reinflect.morph import tags

log = logging.getLogger(__name__)

FORMATS = ("sigmorphon2016", "sigmorphon2016-t2", "unimorph", "unimorph-ltf")


@dataclass(frozen=True)
class Example:
    """One reinflection example; ``target`` is None in covered files."""

    source: str
    target_tags: str
    target: str | None
    source_tags: str | None = None
    line: int = 0


def _is_2016_tags(field: str) -> bool:
    return "=" in field


def _is_unimorph_tags(field: str) -> bool:
    # Bare features are upper-case or digits (V, PST, 3, SG, V.PTCP, LGSPEC1...).
    return bool(field) and "=" not in field and " " not in field and field.upper() == field


def _mostly(test, fields: list[str]) -> bool:
    """``test`` holds for at least 90% of ``fields`` (a stray odd row, such as
    Latvian's ``LgSPEC8``, does not decide)."""
    return sum(map(test, fields)) >= 0.9 * len(fields)


def detect(path: str | os.PathLike, lines: list[str] | None = None) -> str:
    """Guess the format of ``path`` from its first rows."""
    if lines is None:
        lines = _read_lines(path)[:50]
    rows = [ln.rstrip("\r").split("\t") for ln in lines if ln.strip()][:50]
    if not rows:
        raise ReinflectError(f"{path}: empty file, cannot tell its format")
    # The most common width, so that a stray bad row does not decide.
    width = Counter(len(r) for r in rows).most_common(1)[0][0]
    if width == 4:
        return "sigmorphon2016-t2"
    if width == 2:  # a covered 2016 task-1/3 file
        return "sigmorphon2016"
    if width == 3:
        mids = [r[1] for r in rows if len(r) == 3]
        lasts = [r[2] for r in rows if len(r) == 3]
        if _mostly(_is_2016_tags, mids):
            return "sigmorphon2016"
        if _mostly(_is_unimorph_tags, lasts):
            return "unimorph"
        if _mostly(_is_unimorph_tags, mids):
            return "unimorph-ltf"
    raise ReinflectError(
        f"{path}:1: cannot tell the format ({width} columns); pass the format explicitly, "
        f"one of {', '.join(FORMATS)}"
    )


def check_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path; an error naming it where it is a folder or no file."""
    p = Path(path)
    if p.is_dir():
        raise ReinflectError(f"{p}: is a folder, not a data file")
    if not p.is_file():
        raise ReinflectError(f"{p}: no such file")
    return p


def _read_lines(path: str | os.PathLike) -> list[str]:
    p = check_file(path)
    try:
        text = p.read_text(encoding="utf-8-sig")  # a byte-order mark is not a character
    except UnicodeDecodeError as e:
        line = p.read_bytes()[: e.start].count(b"\n") + 1
        raise ReinflectError(f"{p}:{line}: not UTF-8 ({e.reason} at byte {e.start})") from None
    return text.split("\n") if text else []


def read(
    path: str | os.PathLike,
    fmt: str | None = None,
    *,
    skip_bad: bool = False,
    skipped: list[str] | None = None,
) -> list[Example]:
    """All examples of ``path``; ``fmt`` overrides detection.

    A bad row (wrong column count, an empty field, bad tag syntax, an unknown
    UniMorph feature) is an error naming file and line; with ``skip_bad`` it is
    left out instead, its message appended to ``skipped`` and a count logged.
    """
    lines = _read_lines(path)
    if fmt is None:
        fmt = detect(path, lines[:50])
    elif fmt not in FORMATS:
        raise ReinflectError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out, bad = [], []
    for n, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        try:
            ex = _parse(line.split("\t"), fmt, path, n)
            for tag_string in (ex.target_tags, ex.source_tags):
                if tag_string is not None:
                    tags.parse(tag_string, where=f"{path}:{n}")
        except ReinflectError as e:
            if not skip_bad:
                raise ReinflectError(f"{e} (--skip-bad-lines skips bad rows)") from None
            bad.append(str(e))
            continue
        out.append(ex)
    if bad:
        if skipped is not None:
            skipped.extend(bad)
        log.warning("%s: skipped %d bad line(s); the first: %s", path, len(bad), bad[0])
    if not out:
        extra = f" ({len(bad)} bad lines skipped)" if bad else ""
        raise ReinflectError(f"{path}: no examples in file{extra}")
    return out


# The longest word a row may hold (the data sets' longest, an Arabic phrase, has
# 108): a longer one is a broken file, and would take a batch's memory.
MAX_WORD = 300


def _parse(cols: list[str], fmt: str, path, n: int) -> Example:
    def bad(why: str) -> ReinflectError:
        return ReinflectError(f"{path}:{n}: {why} (format {fmt})")

    if fmt == "sigmorphon2016-t2":
        if len(cols) not in (3, 4):
            raise bad(f"expected 4 tab-separated columns, found {len(cols)}")
        src_tags, src, tgt_tags = cols[:3]
        tgt = cols[3] if len(cols) == 4 else None
    elif fmt == "sigmorphon2016":
        if len(cols) not in (2, 3):
            raise bad(f"expected 3 tab-separated columns, found {len(cols)}")
        src, tgt_tags = cols[:2]
        tgt, src_tags = (cols[2] if len(cols) == 3 else None), None
    else:
        if len(cols) != 3:
            raise bad(f"expected 3 tab-separated columns, found {len(cols)}")
        if fmt == "unimorph":
            src, tgt, tgt_tags = cols
        else:
            src, tgt_tags, tgt = cols
        tgt = tgt or None  # covered 2017 test files leave the form empty
        src_tags = None
    if not src.strip():
        raise bad("empty source word")
    if not tgt_tags:
        raise bad("empty tags")
    if tgt is not None and not tgt.strip():
        raise bad("empty target word")
    if src_tags is not None and not src_tags:
        raise bad("empty source tags")
    for word in (src, tgt or ""):
        if len(word) > MAX_WORD:
            raise bad(f"a word of {len(word)} characters; words may have at most {MAX_WORD}")
    return Example(source=src, target_tags=tgt_tags, target=tgt, source_tags=src_tags, line=n)


def format_row(ex: Example, fmt: str) -> str:
    """One line (without newline) of ``ex`` in ``fmt``; a missing target stays covered."""
    tgt = ex.target
    if fmt == "sigmorphon2016-t2":
        cols = [ex.source_tags or "", ex.source, ex.target_tags] + (
            [tgt] if tgt is not None else []
        )
    elif fmt == "sigmorphon2016":
        cols = [ex.source, ex.target_tags] + ([tgt] if tgt is not None else [])
    elif fmt == "unimorph":
        cols = [ex.source, tgt or "", ex.target_tags]
    elif fmt == "unimorph-ltf":
        cols = [ex.source, ex.target_tags, tgt or ""]
    else:
        raise ReinflectError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return "\t".join(cols)


def write(path: str | os.PathLike, examples: list[Example], fmt: str) -> None:
    """Write ``examples`` in ``fmt`` (UTF-8, LF), atomically."""
    text = "".join(format_row(ex, fmt) + "\n" for ex in examples).encode("utf-8")
    atomic_write(path, lambda f: f.write(text))
