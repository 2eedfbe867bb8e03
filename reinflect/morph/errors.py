"""What kind of mistake a prediction is: the error analysis of a dev file.

A prediction is ``correct``; ``copy`` (the source word returned unchanged);
``wrong affix`` (it keeps the stem, the longest stretch of characters that
the source and the gold form share, but its affixes differ from the gold's);
or ``garbled stem`` (the stem did not come through). Words sharing fewer
than :data:`MIN_STEM` characters (suppletion, ``go`` -> ``went``) have no
stem to keep: their errors count as garbled.
"""

from __future__ import annotations

from collections import Counter
from difflib import SequenceMatcher

KINDS = ("correct", "copy", "wrong affix", "garbled stem")
MIN_STEM = 2


def stem(source: str, gold: str) -> str:
    """The longest stretch of characters of ``source`` that ``gold`` also has."""
    m = SequenceMatcher(None, source, gold, autojunk=False).find_longest_match(
        0, len(source), 0, len(gold)
    )
    return source[m.a : m.a + m.size]


def kind(source: str, gold: str, predicted: str) -> str:
    """One of :data:`KINDS` for a prediction of ``gold`` from ``source``."""
    if predicted == gold:
        return "correct"
    if predicted == source:
        return "copy"
    s = stem(source, gold)
    return "wrong affix" if len(s) >= MIN_STEM and s in predicted else "garbled stem"


def summary(sources, golds, predictions, *, examples: int = 5) -> dict:
    """Counts of each kind and the first ``examples`` rows of each error kind
    (``source -> predicted (gold)``)."""
    counts: Counter[str] = Counter()
    shown: dict[str, list[str]] = {k: [] for k in KINDS[1:]}
    for s, g, p in zip(sources, golds, predictions, strict=True):
        k = kind(s, g, p)
        counts[k] += 1
        if k != "correct" and len(shown[k]) < examples:
            shown[k].append(f"{s} -> {p} ({g})")
    return {"counts": {k: counts[k] for k in KINDS}, "examples": shown}
