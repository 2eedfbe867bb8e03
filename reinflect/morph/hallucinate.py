"""Stem hallucination (ours, after Anastasopoulos & Neubig 2019): extra training
pairs whose stem is replaced by random characters, so the model learns to copy
any stem rather than memorise the ones it has seen.

The stem of a pair is the longest substring that source and target share (at
least ``MIN_STEM`` characters). A hallucinated pair replaces its interior
consonants (not its first and last character, whose neighbours decide
alternations such as Turkish *kitap* / *kitabı*) with consonants drawn by
their training frequency, the same ones at the same places in source and
target. Vowels are kept, so vowel harmony and vowel-conditioned suffixes still
agree with the stem. A character counts as a vowel when its base letter
(Unicode decomposition) is in ``VOWELS``; other non-letters are never touched.

In form-to-form pairs the shared substring often runs into shared affixes
(Turkish *abadi-leriniz-de* / *abadi-leriniz-in*). A position stays unchanged
when the word's ending from it, or its beginning up to it, is shared by
``AFFIX_TYPES`` or more distinct training words: that part is an affix (or a
common word start), and redrawing it would teach affixes that do not match
the tags.

Replacements are drawn afresh each time a hallucinated pair is used, from a
generator seeded by the training step, so a run depends only on its seed and
``--resume`` continues exactly.
"""

from __future__ import annotations

import difflib
import random
import unicodedata
from collections import Counter
from collections.abc import Sequence

MIN_STEM = 3
AFFIX_TYPES = 100
# Latin (base letters after decomposition: á, ö, ą́ count as vowels), IPA-like
# letters, Cyrillic, Greek, Georgian, and Arabic/Maltese long vowels.
VOWELS = frozenset("".join(["aeiouyæøœıəɛɔɨʉɯɑʊɪ", "аеёиоуыэюяіїє", "αεηιουω", "აეიოუ", "اوىي"]))


def is_vowel(c: str) -> bool:
    base = unicodedata.normalize("NFD", c)[:1].lower()
    return base in VOWELS or c.lower() in VOWELS


def is_consonant(c: str) -> bool:
    return c.isalpha() and not is_vowel(c)


def slots(source: str, target: str) -> list[tuple[int, int]]:
    """The (source, target) positions a hallucinated pair may replace: the
    interior consonants of the longest common substring, if it has ``MIN_STEM``
    characters or more."""
    m = difflib.SequenceMatcher(None, source, target, autojunk=False).find_longest_match(
        0, len(source), 0, len(target)
    )
    if m.size < MIN_STEM:
        return []
    return [(m.a + k, m.b + k) for k in range(1, m.size - 1) if is_consonant(source[m.a + k])]


class Hallucinator:
    """Hallucinated versions of training pairs, on their character ids.

    ``pairs`` are the (source, target) strings of the training set; ``encode``
    maps a character to its id (one id per character). ``bases`` lists the
    pairs that have something to replace.
    """

    def __init__(self, pairs: Sequence[tuple[str, str]], encode) -> None:
        words = {w for pair in pairs for w in pair}
        ends = Counter(w[k:] for w in words for k in range(len(w)))
        begins = Counter(w[: k + 1] for w in words for k in range(len(w)))

        def stem(s: str, t: str, a: int, b: int) -> bool:
            return max(ends[s[a:]], ends[t[b:]], begins[s[: a + 1]]) < AFFIX_TYPES

        self.slots = [[(a, b) for a, b in slots(s, t) if stem(s, t, a, b)] for s, t in pairs]
        self.bases = [i for i, sl in enumerate(self.slots) if sl]
        counts = Counter(c for s, t in pairs for w in (s, t) for c in w if is_consonant(c))
        chars = sorted(counts)
        self.consonants = [encode(c) for c in chars]
        self.weights = [counts[c] for c in chars]

    def __len__(self) -> int:
        return len(self.bases)

    def apply(
        self, i: int, source: list[int], target: list[int], rng: random.Random
    ) -> tuple[list[int], list[int]]:
        """Pair ``i``'s ids with its stem consonants redrawn (new lists)."""
        source, target = list(source), list(target)
        sl = self.slots[i]
        drawn = rng.choices(self.consonants, self.weights, k=len(sl))
        for (a, b), c in zip(sl, drawn, strict=True):
            source[a] = target[b] = c
        return source, target
