"""Unlabeled words for the semi-supervised term.

Sources: the word forms (no tags) of the train files of every task of the
language (SIGMORPHON 2016 layout: ``<lang>-task{1,2,3}-{train,dev}`` beside
the training file) and the *source* words of their dev files: a dev file's
target forms are the answers dev accuracy is scored on, so they never enter
the pool (at test time only a test file's inputs would be known); a
``wordfreq`` list where the language has one; a user list (one word per
line). Words are filtered to the training character set and deduplicated.
Test files are never read: a path whose name contains ``test`` is refused.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from reinflect.errors import ReinflectError
from reinflect.morph import formats

log = logging.getLogger(__name__)

# SIGMORPHON language names -> ISO 639-1 codes that wordfreq knows.
WORDFREQ_CODES = {
    "arabic": "ar",
    "german": "de",
    "spanish": "es",
    "finnish": "fi",
    "hungarian": "hu",
    "russian": "ru",
    "turkish": "tr",
    "english": "en",
}


def refuse_test(path: str | Path) -> Path:
    p = Path(path)
    if "test" in p.name.lower():
        raise ReinflectError(f"{p}: test files are never used for training or unlabeled words")
    return p


def words_from_files(
    paths: Iterable[str | Path], *, skip_bad: bool = False, sources_only: bool = False
) -> list[str]:
    """Every word form (sources and targets; with ``sources_only``, sources)
    of labeled files, any format (``skip_bad``: malformed rows left out, as
    :func:`formats.read` does)."""
    out = []
    for p in paths:
        for ex in formats.read(refuse_test(p), skip_bad=skip_bad):
            out.append(ex.source)
            if ex.target and not sources_only:
                out.append(ex.target)
    return out


def is_dev(path: str | Path) -> bool:
    """A file named as a dev split (``german-dev``, ``xx-task1-dev``, ``dev.tsv``)."""
    return re.search(r"(^|[-_.])dev($|[-_.])", Path(path).name.lower()) is not None


def sibling_files(train_path: str | Path) -> list[Path]:
    """Train/dev files of all tasks beside a SIGMORPHON 2016 file of the same language."""
    p = Path(train_path)
    m = re.match(r"(.+)-task\d-(train|dev)$", p.name)
    if not m:
        return []
    lang = m.group(1)
    found = []
    for task in (1, 2, 3):
        for split in ("train", "dev"):
            f = p.parent / f"{lang}-task{task}-{split}"
            if f.is_file():
                found.append(f)
    return found


def wordfreq_words(lang: str | None, n: int) -> list[str]:
    """The ``n`` most frequent words of ``lang`` from wordfreq, or [] where it has none.

    wordfreq matches language codes loosely and may answer with a related
    language's list; only exact codes it lists are used.
    """
    if not lang or n <= 0:
        return []
    code = WORDFREQ_CODES.get(lang.lower(), lang.lower())
    try:
        import wordfreq
    except ImportError:
        log.warning("wordfreq is not installed; no word list for %s", lang)
        return []
    if code not in wordfreq.available_languages():
        log.info("wordfreq has no list for %s; skipped", lang)
        return []
    return wordfreq.top_n_list(code, n)


def read_word_list(path: str | Path) -> list[str]:
    p = refuse_test(path)
    if p.is_dir():
        raise ReinflectError(f"{p}: is a folder, not a word list")
    try:
        text = p.read_text(encoding="utf-8-sig")  # a byte-order mark is not a character
    except FileNotFoundError:
        raise ReinflectError(f"{p}: no such file") from None
    except UnicodeDecodeError as e:
        raise ReinflectError(f"{p}: not UTF-8 ({e.reason} at byte {e.start})") from None
    return [w.split("\t")[0].strip() for w in text.splitlines() if w.strip()]


def pool(
    *,
    charset: set[str],
    files: Iterable[str | Path] = (),
    source_files: Iterable[str | Path] = (),
    lang: str | None = None,
    wordfreq_n: int = 0,
    user_list: str | Path | None = None,
    skip_bad: bool = False,
) -> tuple[list[str], dict[str, int]]:
    """The deduplicated unlabeled words over ``charset``, and counts per source:
    every word of ``files``, the source words of ``source_files`` (dev files)."""
    sources = {
        "files": words_from_files(files, skip_bad=skip_bad)
        + words_from_files(source_files, skip_bad=skip_bad, sources_only=True),
        "wordfreq": wordfreq_words(lang, wordfreq_n),
        "user": read_word_list(user_list) if user_list else [],
    }
    seen: dict[str, None] = {}
    counts: Counter = Counter()
    for name, words in sources.items():
        counts[f"{name}_read"] = len(words)
        for w in words:
            if not w or any(c not in charset for c in w):
                counts[f"{name}_off_charset"] += 1
                continue
            if w not in seen:
                seen[w] = None
                counts[f"{name}_kept"] += 1
    counts["total"] = len(seen)
    return list(seen), dict(counts)
