"""Build the bundled English sample ``data/english/`` from lemminflect's lexicon.

    python scripts/make_english_data.py [--out data/english] [--seed 0]

Paradigms (UniMorph features) come from the inflection table that the
``lemminflect`` package ships (``resources/infl_lu.csv.gz``, read through its
public ``getAllInflections``):

* verbs: V;NFIN, V;3;SG;PRS, V;PST, V;V.PTCP;PST, V;V.PTCP;PRS
* nouns: N;SG, N;PL
* adjectives with synthetic comparison: ADJ, ADJ;CMPR, ADJ;SPRL

Lemmas are the most frequent lower-case ones by ``wordfreq``, and beside them
every lemma of the lexicon with an irregular form (one that lemminflect's
rules for unknown words do not give: went, mice, better) and a Zipf frequency
of at least ``IRREGULAR_ZIPF`` (be, go, mouse, child, good). Every lemma with
an irregular form goes to training with all its pairs: no model can guess
*mice* for an unseen *mouse*, and a user expects the common ones to be known.
The regular lemmas are split train/dev/test (no lemma string in two splits),
so dev and test measure what can be learned: new regular words. Each lemma
gives task-3-style pairs: source form, target tags, target form, for ordered
pairs of different cells (at most ``--pairs`` per regular lemma). Output
lines are ``source<TAB>tags<TAB>target``. The same seed gives the same files.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
from pathlib import Path

CELLS = {  # Penn tag -> UniMorph features, per part of speech
    "VERB": [
        ("VB", "V;NFIN"),
        ("VBZ", "V;3;SG;PRS"),
        ("VBD", "V;PST"),
        ("VBN", "V;V.PTCP;PST"),
        ("VBG", "V;V.PTCP;PRS"),
    ],
    "NOUN": [("NN", "N;SG"), ("NNS", "N;PL")],
    "ADJ": [("JJ", "ADJ"), ("JJR", "ADJ;CMPR"), ("JJS", "ADJ;SPRL")],
}
DEFAULT_SEED = 0
DEFAULT_COUNTS = {"VERB": 1500, "NOUN": 1500, "ADJ": 400}
DEFAULT_PAIRS = 8
IRREGULAR_ZIPF = 4.0  # irregular lemmas at least this frequent join training (mouse: 4.3)
# Each training pair with an irregular target is written this many times: seen
# once among 15k pairs, mice, better and children were not learned.
IRREGULAR_REPEAT = 4
LEXICON_POS = {"verb": "VERB", "noun": "NOUN", "adj": "ADJ"}


def lexicon_lemmas() -> dict[str, list[str]]:
    """Lower-case alphabetic lemmas per part of speech, from lemminflect's table."""
    import lemminflect

    path = Path(os.path.dirname(lemminflect.__file__)) / "resources" / "infl_lu.csv.gz"
    out: dict[str, set[str]] = {p: set() for p in CELLS}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            lemma, pos = line.split(",")[:2]
            if pos in LEXICON_POS and lemma.isalpha() and lemma.islower() and 2 <= len(lemma) <= 20:
                out[LEXICON_POS[pos]].add(lemma)
    out["VERB"].add("be")  # lemminflect inflects "be" by hand, outside its table
    return {p: sorted(v) for p, v in out.items()}


def paradigm(lemma: str, upos: str) -> list[tuple[str, str]] | None:
    """(tags, form) for every cell, first variant of each; None if a cell is missing."""
    import lemminflect

    forms = dict(lemminflect.getAllInflections(lemma, upos=upos))
    if upos == "VERB" and "VBN" not in forms and "VBD" in forms:
        forms["VBN"] = forms["VBD"]  # the table leaves out participles equal to the past
    cells = []
    for penn, tags in CELLS[upos]:
        if penn in ("VB", "NN", "JJ"):
            cells.append((tags, lemma))
        elif penn in forms and forms[penn]:
            cells.append((tags, forms[penn][0]))
        else:
            return None
    return cells


def rule_forms(lemma: str, upos: str) -> dict[str, set[str]]:
    """tags -> the forms lemminflect's rules for unknown words give (its
    ``getAllInflectionsOOV``: -s/-es/-ies, -ed/-ied, -ing, -er/-est, e-dropping,
    consonant doubling); the lemma's own cell is the lemma."""
    import lemminflect

    oov = dict(lemminflect.getAllInflectionsOOV(lemma, upos=upos))
    out = {}
    for penn, tags in CELLS[upos]:
        out[tags] = {lemma} if penn in ("VB", "NN", "JJ") else set(oov.get(penn, ()))
    return out


def irregular(lemma: str, upos: str, cells: list[tuple[str, str]]) -> set[str]:
    """The forms of ``cells`` that lemminflect's rules for unknown words do not
    produce (went, gone, mice, better, also spellings such as spelt)."""
    rules = rule_forms(lemma, upos)
    return {form for tags, form in cells if form not in rules[tags]}


def choose(rng: random.Random, counts: dict[str, int]):
    """The lemmas of the sample and their split: ``({upos: [(lemma, cells)]},
    {lemma: split})``: the ``counts[upos]`` most frequent lemmas of each part of
    speech that have a full paradigm of more than one form, and the irregular
    lemmas at least :data:`IRREGULAR_ZIPF` frequent. A lemma string with an
    irregular form in any part of speech is in training; the others are split
    80/10/10."""
    import wordfreq

    lemmas = lexicon_lemmas()
    chosen: dict[str, list] = {}
    odd: set[str] = set()
    for upos, n in counts.items():
        zipf = {w: wordfreq.zipf_frequency(w, "en") for w in lemmas[upos]}
        ranked = sorted(lemmas[upos], key=lambda w: (-zipf[w], w))
        picked = []
        for rank, lemma in enumerate(ranked):
            if rank >= n and zipf[lemma] < IRREGULAR_ZIPF:
                break
            cells = paradigm(lemma, upos)
            if cells is None or len({f for _, f in cells}) < 2:
                continue
            bad = irregular(lemma, upos, cells)
            if len(picked) < n or bad:
                picked.append((lemma, cells))
                odd |= {lemma} if bad else set()
        chosen[upos] = picked
    # Split lemma *strings*, so "play" the noun and "play" the verb share a split.
    names = sorted({lemma for picked in chosen.values() for lemma, _ in picked} - odd)
    rng.shuffle(names)
    cut1, cut2 = int(0.8 * len(names)), int(0.9 * len(names))
    split_of = {w: "train" for w in names[:cut1]} | {w: "dev" for w in names[cut1:cut2]}
    split_of |= {w: "test" for w in names[cut2:]} | dict.fromkeys(sorted(odd), "train")
    return chosen, split_of


def build(out: Path, *, seed: int, counts: dict[str, int], pairs: int) -> dict:
    """Write ``out/{train,dev,test}`` and ``out/irregular`` (the training pairs
    with an irregular form, for checking that a model learned them); returns
    counts and the split of every lemma."""
    rng = random.Random(seed)
    chosen, split_of = choose(rng, counts)
    splits: dict[str, list[str]] = {"train": [], "dev": [], "test": [], "irregular": []}
    stats: dict = {"lemmas": {}, "irregular_lemmas": {}, "pairs": {}}
    for upos, picked in chosen.items():
        stats["lemmas"][upos] = {
            k: sum(split_of[w] == k for w, _ in picked) for k in ("train", "dev", "test")
        }
        odd = {lemma: irregular(lemma, upos, cells) for lemma, cells in picked}
        stats["irregular_lemmas"][upos] = sum(bool(v) for v in odd.values())
        stats.setdefault("irregular", {})[upos] = sorted(w for w, v in odd.items() if v)
        for lemma, cells in picked:
            ordered = [(a, b) for a in cells for b in cells if a[0] != b[0]]
            rng.shuffle(ordered)
            keep = len(ordered) if split_of[lemma] == "train" and odd[lemma] else pairs
            for (_, src), (tags, tgt) in ordered[:keep]:
                row = f"{src}\t{tags}\t{tgt}\n"
                again = IRREGULAR_REPEAT if tgt in odd[lemma] else 1
                splits[split_of[lemma]].extend([row] * again)
                if tgt in odd[lemma]:
                    splits["irregular"].append(row)
    out.mkdir(parents=True, exist_ok=True)
    for split, rows in splits.items():
        random.Random(f"{seed}:{split}").shuffle(rows)  # one order per split
        (out / split).write_text("".join(rows), encoding="utf-8")
        stats["pairs"][split] = len(rows)
    stats["split_of_lemma"] = split_of
    return stats


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", default="data/english")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--verbs", type=int, default=DEFAULT_COUNTS["VERB"])
    p.add_argument("--nouns", type=int, default=DEFAULT_COUNTS["NOUN"])
    p.add_argument("--adjectives", type=int, default=DEFAULT_COUNTS["ADJ"])
    p.add_argument(
        "--pairs", type=int, default=DEFAULT_PAIRS, help="at most this many pairs per lemma"
    )
    a = p.parse_args()
    counts = {"VERB": a.verbs, "NOUN": a.nouns, "ADJ": a.adjectives}
    stats = build(Path(a.out), seed=a.seed, counts=counts, pairs=a.pairs)
    del stats["split_of_lemma"], stats["irregular"]
    print(json.dumps(stats, indent=2))


if __name__ == "__main__":
    main()
