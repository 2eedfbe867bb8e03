"""The sentencepiece character vocabulary round-trips words."""

from hypothesis import given, settings
from hypothesis import strategies as st

from reinflect.morph import vocab

WORDS = ["plays", "played", "null", "straße", "ça", "go went", "NA"]


def test_round_trip_and_reserved_ids():
    v = vocab.Vocab.build(WORDS)
    for w in WORDS:
        ids = v.encode(w)
        assert len(ids) == len(w) and min(ids) > vocab.EOS
        assert v.decode(ids) == w
    assert v.decode([*v.encode("plays"), vocab.EOS, *v.encode("null")]) == "plays"
    again = vocab.Vocab(v.proto)
    assert again.encode("straße") == v.encode("straße")


def test_unknown_characters():
    v = vocab.Vocab.build(WORDS)
    assert v.encode("xq")[0] == vocab.UNK
    assert v.unknown_chars("quiz") == {"q", "i", "z"}  # u is in "null"
    assert v.knows("played")
    assert v.knows("go went")  # a space seen in training is a character like any other
    no_space = vocab.Vocab.build(["plays", "go"])
    assert no_space.encode("go play")[2] == vocab.UNK
    assert no_space.unknown_chars("go play") == {" "}


def test_copy_ids_give_unknown_characters_ids_past_the_vocabulary():
    v = vocab.Vocab.build(WORDS)
    V = len(v)
    ids, unknown = v.copy_ids("QQxpla")  # a run of unknowns, one repeated
    assert unknown == ["Q", "x"] and ids[:3] == [V, V, V + 1] and ids[3:] == v.encode("pla")
    assert v.encode("QQxpla")[:3] == [vocab.UNK] * 3  # one id per character
    # A copy brings them back: decode reads ids past V from the source word.
    assert v.decode([*ids, *v.encode("ys"), vocab.EOS], "QQxpla") == "QQxplays"
    assert v.decode([v.encode("p")[0], V + 1, V], "QQxpla") == "pxQ"
    assert v.copy_ids("plays") == (v.encode("plays"), [])


alphabet = st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(alphabet, min_size=1, max_size=10), min_size=1, max_size=8))
def test_property_round_trip(words):
    v = vocab.Vocab.build(words)
    for w in words:
        assert v.decode(v.encode(w)) == w
