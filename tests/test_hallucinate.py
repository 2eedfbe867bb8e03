"""Stem hallucination: which characters it may redraw (the batches: test_training.py)."""

import random

from reinflect.morph import hallucinate


def test_vowels_and_consonants_by_base_letter():
    assert all(map(hallucinate.is_vowel, "aöáąı"))  # ö, á, ą decompose to a base vowel
    assert all(map(hallucinate.is_consonant, "bşçğʼ"))
    assert not any(map(hallucinate.is_consonant, "a-' 1"))


def test_slots_are_the_interior_consonants_of_the_shared_stem():
    # kitap-lar / kitab-ı share "kita": only its interior consonant t may change
    assert hallucinate.slots("kitaplar", "kitabı") == [(2, 2)]
    # the shared part is found wherever it is (a prefix added to the target)
    assert hallucinate.slots("bcdfa", "xxbcdfa") == [(1, 3), (2, 4), (3, 5)]
    assert hallucinate.slots("go", "went") == []  # nothing shared
    assert hallucinate.slots("abs", "abd") == []  # shorter than MIN_STEM


def test_hallucinated_pairs_redraw_the_stem_and_keep_affixes():
    # 120 words end in "lar": past AFFIX_TYPES, so the ending is an affix
    stems = [a + b + c for a in "bcdfgh" for b in "aeiou" for c in "mnprst"][:120]
    pairs = [(s + "lar", s + "ı") for s in stems]
    pairs += [("kartallar", "kartalı"), ("kartallar", "kartallara")]
    ids = {c: i for i, c in enumerate(sorted({c for p in pairs for w in p for c in w}))}
    chars = {i: c for c, i in ids.items()}
    h = hallucinate.Hallucinator(pairs, ids.__getitem__)
    i = len(pairs) - 2
    # kartal|lar / kartal|ı share "kartal": its interior consonants r and t may
    # change, not its first and last characters, nor anything of "lar" or "ı"
    assert h.slots[i] == [(2, 2), (3, 3)]
    # kartallar / kartallara share all of "kartallar"; the l of "lar" (an ending of
    # 122 words) stays, the l before it ("llar" ends 2 words) may change
    assert h.slots[i + 1] == [(2, 2), (3, 3), (5, 5)]
    consonants = {chars[c] for c in h.consonants}
    assert consonants == {c for p in pairs for w in p for c in w if c not in "aeiouı"}
    src, tgt = [ids[c] for c in pairs[i][0]], [ids[c] for c in pairs[i][1]]
    seen = set()
    for seed in range(20):
        s, t = h.apply(i, src, tgt, random.Random(seed))
        s, t = "".join(chars[c] for c in s), "".join(chars[c] for c in t)
        assert (s[:2], s[4:], t[:2], t[4:]) == ("ka", "allar", "ka", "alı")
        assert s[:4] == t[:4] and {s[2], s[3]} <= consonants
        seen.add(s)
    assert len(seen) > 10  # drawn afresh
    assert src == [ids[c] for c in pairs[i][0]]  # the inputs are not changed
