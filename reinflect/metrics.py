"""The official SIGMORPHON metrics (exact match, mean Levenshtein) and chrF."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence


def levenshtein(a: str, b: str) -> int:
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(a, b)


def _score(predictions: Sequence[str], golds: Sequence[str]) -> dict:
    import sacrebleu

    n = len(golds)
    correct = sum(p == g for p, g in zip(predictions, golds, strict=True))
    dist = sum(levenshtein(p, g) for p, g in zip(predictions, golds, strict=True))
    chrf = sacrebleu.corpus_chrf(list(predictions), [list(golds)]).score if n else 0.0
    return {
        "accuracy": 100.0 * correct / n if n else 0.0,
        "levenshtein": dist / n if n else 0.0,
        "chrf": chrf,
        "correct": correct,
        "total": n,
    }


def score(predictions: Sequence[str], golds: Sequence[str], groups: Sequence[str] | None = None):
    """Accuracy (%), mean Levenshtein distance, chrF and counts; the same per group
    (``by_tag``) when ``groups`` are given."""
    if len(predictions) != len(golds):
        raise ValueError(f"{len(predictions)} predictions for {len(golds)} gold forms")
    out = _score(predictions, golds)
    if groups is not None:
        by: dict[str, list[int]] = defaultdict(list)
        for i, g in enumerate(groups):
            by[g].append(i)
        out["by_tag"] = {
            g: _score([predictions[i] for i in idx], [golds[i] for i in idx])
            for g, idx in sorted(by.items())
        }
    return out
