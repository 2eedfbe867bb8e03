"""The English sample builder is reproducible and splits by lemma."""

import importlib.util
from pathlib import Path

import pytest

from reinflect.morph import formats, tags

pytest.importorskip("lemminflect")
pytest.importorskip("wordfreq")
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_english_data.py"
spec = importlib.util.spec_from_file_location("make_english_data", SCRIPT)
builder = importlib.util.module_from_spec(spec)
spec.loader.exec_module(builder)
COUNTS = {"VERB": 60, "NOUN": 60, "ADJ": 20}


def test_same_seed_same_files_and_lemmas_in_one_split(tmp_path):
    a = builder.build(tmp_path / "a", seed=3, counts=COUNTS, pairs=4)
    b = builder.build(tmp_path / "b", seed=3, counts=COUNTS, pairs=4)
    for split in ("train", "dev", "test"):
        assert (tmp_path / "a" / split).read_bytes() == (tmp_path / "b" / split).read_bytes()
    assert a == b
    split_of = a["split_of_lemma"]
    assert set(split_of.values()) == {"train", "dev", "test"}  # one split per lemma string
    assert a["pairs"]["train"] > a["pairs"]["dev"] > 0


def test_rows_are_readable_with_unimorph_tags_and_irregulars(tmp_path):
    builder.build(tmp_path, seed=0, counts=COUNTS, pairs=20)
    rows = [e for s in ("train", "dev", "test") for e in formats.read(tmp_path / s)]
    assert formats.detect(tmp_path / "train") == "unimorph-ltf"
    bundles = {e.target_tags for e in rows}
    assert bundles <= {"V;NFIN", "V;3;SG;PRS", "V;PST", "V;V.PTCP;PST", "V;V.PTCP;PRS"} | {
        "N;SG", "N;PL", "ADJ", "ADJ;CMPR", "ADJ;SPRL",
    }  # fmt: skip
    tags.Schema.build(sorted(bundles))  # every feature has a UniMorph dimension
    assert ("go", "V;PST", "went") in {(e.source, e.target_tags, e.target) for e in rows}


def test_irregular_forms_are_those_the_rules_for_unknown_words_miss():
    go = builder.paradigm("go", "VERB")
    assert {"went", "gone"} <= builder.irregular("go", "VERB", go)
    assert "going" not in builder.irregular("go", "VERB", go)
    assert builder.irregular("play", "VERB", builder.paradigm("play", "VERB")) == set()
    assert builder.irregular("stop", "VERB", builder.paradigm("stop", "VERB")) == set()  # doubling


def test_irregular_training_lemmas_keep_every_pair(tmp_path):
    stats = builder.build(tmp_path, seed=0, counts=COUNTS, pairs=4)
    rows = formats.read(tmp_path / "train")
    per_source = {}
    for e in rows:
        per_source.setdefault(e.source, set()).add((e.target_tags, e.target))
    odd = [w for w, s in stats["split_of_lemma"].items() if s == "train" and w in ("go", "be")]
    assert odd  # the most frequent irregular verbs are in this sample
    for lemma in odd:
        forms = {f for _, f in builder.paradigm(lemma, "VERB")}
        pairs = {(e.source, e.target) for e in rows if e.source in forms and e.target in forms}
        assert len(pairs) == len(forms) * (len(forms) - 1)  # all ordered pairs, not 4
    assert stats["irregular_lemmas"]["VERB"] > 0


def test_every_irregular_lemma_is_in_training_and_dev_is_regular(tmp_path):
    stats = builder.build(tmp_path, seed=0, counts=COUNTS, pairs=4)
    split_of = stats["split_of_lemma"]
    for lemma in ("be", "go", "mouse", "child", "good"):  # frequent irregulars, any rank
        assert split_of[lemma] == "train", lemma
    train = {(e.source, e.target_tags, e.target) for e in formats.read(tmp_path / "train")}
    for row in (("mouse", "N;PL", "mice"), ("be", "V;PST", "was"), ("child", "N;PL", "children")):
        assert row in train
    irregular = formats.read(tmp_path / "irregular")
    assert irregular and {(e.source, e.target_tags, e.target) for e in irregular} <= train
    # Dev and test lemmas are regular in every part of speech they were taken in.
    odd = {w for words in stats["irregular"].values() for w in words}
    assert {"go", "be", "mouse"} <= odd
    assert {split_of[w] for w in odd} == {"train"}
    for e in formats.read(tmp_path / "dev") + formats.read(tmp_path / "test"):
        assert e.source not in odd and e.target not in odd
