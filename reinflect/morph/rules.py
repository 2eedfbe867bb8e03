"""Edit rules read off the training pairs (ours), for reranking at small sizes.

A pair's *edit* is what changes at the two ends of the word. With ``s`` the
longest common substring of the source and the target, source = a + s + b and
target = c + s + d, and the edit is ``(a, c, b, d)``: German *machen* ->
*gemacht* is ``("", "ge", "en", "t")``. :class:`Rules` keeps, per target
bundle, the edits training shows and the source words each was seen on. It
gives prediction two things (:meth:`Predictor.scored_beams`):

- :meth:`Rules.support`: whether a hypothesis makes an edit training made for
  that bundle, a reranking feature (the model's beam often holds the right
  form below a wrong one whose ending no training pair has);
- :meth:`Rules.candidates`: forms the training edits make of a new word, most
  alike first, added to the beam and scored by the model like its own
  hypotheses (at 100 pairs the right form is often not in the beam at all).

This is the idea of the CoNLL-SIGMORPHON 2017 organisers' baseline (affix
rewrites per tag bundle), used here to check and extend what the model
proposes, never to answer on its own: the weight of both is chosen on dev with
the other reranking weights, and 0 is the model alone (results/README.md,
"Edit rules from the training pairs").
"""

from __future__ import annotations

from collections import defaultdict
from difflib import SequenceMatcher

Edit = tuple[str, str, str, str]


def edit(source: str, target: str) -> Edit:
    """``(a, c, b, d)`` with source = a + s + b and target = c + s + d, ``s``
    the longest common substring (the leftmost of equals); a pair with nothing
    in common is the whole of one replaced by the whole of the other."""
    m = SequenceMatcher(None, source, target, autojunk=False).find_longest_match(
        0, len(source), 0, len(target)
    )
    if not m.size:
        return ("", "", source, target)
    return (source[: m.a], target[: m.b], source[m.a + m.size :], target[m.b + m.size :])


def apply(e: Edit, word: str) -> str | None:
    """``word`` with the edit made, or None where its ends do not fit (a word
    must keep at least one character between the two ends)."""
    a, c, b, d = e
    if len(word) <= len(a) + len(b) or not word.startswith(a) or not word.endswith(b):
        return None
    return c + word[len(a) : len(word) - len(b)] + d


def _shared_ends(x: str, y: str) -> int:
    """How many characters ``x`` and ``y`` share at their start and at their end."""
    n = min(len(x), len(y))
    head = next((i for i in range(n) if x[i] != y[i]), n)
    tail = next((i for i in range(n) if x[-1 - i] != y[-1 - i]), n)
    return head + tail


class Rules:
    """The edits of training's pairs per target bundle (:func:`bundle_key`
    strings, as the stored known pairs have them)."""

    def __init__(self, pairs: dict[tuple[str, str], str]) -> None:
        #: bundle key -> edit -> the source words training made it on
        self.edits: dict[str, dict[Edit, list[str]]] = defaultdict(lambda: defaultdict(list))
        for (word, key), form in pairs.items():
            self.edits[key][edit(word, form)].append(word)
        self.edits = {k: dict(v) for k, v in self.edits.items()}

    def __bool__(self) -> bool:
        return bool(self.edits)

    def support(self, word: str, key: str, form: str) -> float:
        """1 where ``word`` -> ``form`` is an edit training made for this
        bundle, else 0."""
        return 1.0 if edit(word, form) in self.edits.get(key, {}) else 0.0

    def candidates(self, word: str, key: str, k: int) -> list[str]:
        """Up to ``k`` distinct forms training's edits for this bundle make of
        ``word``: first those whose training words share the most characters
        with ``word`` at its two ends, then the edits seen most often."""
        scored = {}
        for e, words in self.edits.get(key, {}).items():
            form = apply(e, word)
            if form is None or form == "":
                continue
            rank = (max(_shared_ends(word, w) for w in words), len(words))
            if rank > scored.get(form, (-1, 0)):
                scored[form] = rank
        return sorted(scored, key=lambda f: scored[f], reverse=True)[:k]
