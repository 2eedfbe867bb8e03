"""The training pairs' edit rules (reinflect.morph.rules): what a pair changes at
its two ends, made again on a new word."""

import random

from reinflect.morph import rules


def test_an_edit_is_what_changes_at_the_two_ends():
    assert rules.edit("machen", "gemacht") == ("", "ge", "en", "t")
    assert rules.edit("walk", "walked") == ("", "", "", "ed")
    assert rules.edit("cats", "cat") == ("", "", "s", "")
    assert rules.edit("abc", "xyz") == ("", "", "abc", "xyz")  # nothing in common


def test_an_edit_made_again_on_its_own_source_gives_its_target():
    rng = random.Random(0)
    for _ in range(500):
        stem = "".join(rng.choices("abcde", k=rng.randint(1, 6)))
        pieces = ["".join(rng.choices("abcdexyz", k=rng.randint(0, 3))) for _ in range(4)]
        source = pieces[0] + stem + pieces[1]
        target = pieces[2] + stem + pieces[3]
        assert rules.apply(rules.edit(source, target), source) == target


def test_an_edit_needs_both_ends_and_a_middle():
    e = rules.edit("machen", "gemacht")
    assert rules.apply(e, "sagen") == "gesagt"
    assert rules.apply(e, "sagt") is None  # no "en" to take off
    assert rules.apply(e, "en") is None  # nothing would be left between the ends


def test_candidates_come_most_alike_first_and_support_names_training_edits():
    pairs = {
        ("sagen", "PST"): "gesagt",
        ("fragen", "PST"): "gefragt",
        ("laufen", "PST"): "gelaufen",
        ("sagen", "PRS"): "sagt",
    }
    r = rules.Rules(pairs)
    # "tragen" shares "ragen" with "fragen": that edit first.
    assert r.candidates("tragen", "PST", 4) == ["getragt", "getragen"]
    assert r.candidates("tragen", "PST", 1) == ["getragt"]
    assert r.candidates("tragen", "FUT", 4) == []  # a bundle training never had
    assert r.support("tragen", "PST", "getragen") == 1.0
    assert r.support("tragen", "PST", "tragte") == 0.0
    assert r.support("tragen", "PRS", "tragt") == 1.0
    assert not rules.Rules({}) and r
