"""Tag parsing, the schema round trip and partial-tag resolution."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reinflect.errors import ReinflectError
from reinflect.morph import tags


def test_parse_2016_with_set_values():
    b = tags.parse("pos=V,aspect={IPFV/PFV},arg=ARGNO2P+ARGDA1P,gen={A,B}")
    assert b == {"pos": "V", "aspect": "{IPFV/PFV}", "arg": "ARGNO2P+ARGDA1P", "gen": "{A,B}"}


def test_parse_unimorph_dimensions():
    assert tags.parse("V;V.PTCP;PRS") == {"POS": "V", "VerbForm": "V.PTCP", "Tense": "PRS"}
    assert tags.parse("N;ACC;PL;PSS3S") == {
        "POS": "N",
        "Case": "ACC",
        "Number": "PL",
        "Possession": "PSS3S",
    }
    assert tags.parse("V;ARGNO1S;ARGAC3S")["Argument"] == "ARGAC3S+ARGNO1S"


def test_conll2017_conjunctions_disjunctions_and_typos():
    # a conjunction is the two features of one dimension, as if written apart
    assert tags.parse("N;IN+ALL;PL") == tags.parse("N;IN;ALL;PL")
    assert tags.parse("N;IN+ALL;PL")["Case"] == "ALL+IN"
    assert tags.parse("V;PRS;1+INCL;PL")["Person"] == "1+INCL"
    # a disjunction is one atomic value of its dimension
    b = tags.parse("V;REAL;PFV/PRF;1;DU/PL")
    assert (b["Aspect"], b["Number"], b["Mood"]) == ("PFV/PRF", "DU/PL", "REAL")
    assert tags.parse("ADJ;NOM/ACC;NEUT;SG")["Case"] == "NOM/ACC"
    # ':' for ';' and stray spaces, as in some 2017 files
    assert tags.parse("V;2;SG;PRS;PRF:COL") == tags.parse("V;2;SG;PRS;PRF;COL")
    assert tags.parse("ADJ;ABL; PL") == tags.parse("ADJ;ABL;PL")
    # spellings and language-specific features of the 2017 files
    assert tags.parse("ADJ;INST;PL")["Case"] == "INST"
    assert tags.parse("N;LGSPEC1;2S;SG;LGSPEC2") == {
        "POS": "N",
        "LanguageSpecific": "LGSPEC1+LGSPEC2",
        "Agreement": "2S",
        "Number": "SG",
    }
    # the rendering reads back as the same bundle
    for raw in ["N;IN+ALL;PL", "V;REAL;PFV/PRF;1;DU/PL", "V;2;SG;PRS;PRF:COL"]:
        b = tags.parse(raw)
        assert tags.parse(tags.render(b, unimorph=True)) == b
    # parts that are unknown, or of different dimensions, are still errors
    for raw in ["N;IN+WEIRD", "N;NOM/PL", "V;PST:WEIRD"]:
        with pytest.raises(ReinflectError, match="unknown UniMorph feature"):
            tags.parse(raw)


def test_unknown_and_malformed_tags_are_reported():
    with pytest.raises(
        ReinflectError, match=r"f:3: unknown UniMorph feature\(s\) WEIRD in 'V;WEIRD'"
    ):
        tags.parse("V;WEIRD", where="f:3")
    with pytest.raises(
        ReinflectError, match="bad tag 'tense' in 'pos=V,tense': expected key=value"
    ):
        tags.parse("pos=V,tense")
    with pytest.raises(ReinflectError, match="dimension 'pos' given twice"):
        tags.parse("pos=V,pos=N")
    with pytest.raises(ReinflectError, match="empty feature"):
        tags.parse("V;;PST")


def test_schema_round_trip_and_absent_class():
    s = tags.Schema.build(["V;PST", "V;3;SG;PRS", "N;PL", "N;SG"])
    assert s.dimensions == ["Number", "POS", "Person", "Tense"]
    assert s.sizes == [3, 3, 2, 3]
    for raw in ["V;PST", "N;PL", "V;3;SG;PRS"]:
        b = tags.parse(raw)
        assert s.decode(s.encode(b)) == b
    assert s.encode({"POS": "V", "Tense": "PST"}) == [0, 2, 0, 2]  # sorted values after absent
    back = tags.Schema.from_dict(s.to_dict())
    assert back == s
    with pytest.raises(ReinflectError, match=r"unknown value 'FUT' for Tense \(known: PRS, PST\)"):
        s.encode({"Tense": "FUT"})
    with pytest.raises(ReinflectError, match="unknown tag dimension"):
        s.encode({"Mood": "IND"})


def test_partial_tags_resolve_to_a_seen_bundle():
    train = ["V;NFIN"] * 5 + ["V;3;SG;PRS"] * 5 + ["V;PST"] * 5 + ["N;SG"] * 5 + ["N;PL"] * 5
    s = tags.Schema.build(train)
    # "plays" is V;3;SG;PRS; asking for PST drops person and number, as English has no V;3;SG;PST.
    src = tags.parse("V;3;SG;PRS")
    assert s.resolve(src, tags.parse("PST")) == {"POS": "V", "Tense": "PST"}
    # "mice" is N;PL; asking for SG keeps the noun.
    assert s.resolve(tags.parse("N;PL"), tags.parse("SG")) == {"POS": "N", "Number": "SG"}
    with pytest.raises(ReinflectError, match="no tag bundle seen in training has FUT"):
        s.resolve(src, {"Tense": "FUT"})


@given(
    st.dictionaries(
        st.sampled_from(["pos", "tense", "num", "per"]),
        st.sampled_from(["V", "PST", "SG", "{A/B}"]),
        min_size=1,
    )
)
def test_render_parse_round_trip_2016(bundle):
    assert tags.parse(tags.render(bundle, unimorph=False)) == bundle


@given(st.text(max_size=60))
def test_any_tag_string_parses_or_gives_a_clear_error(raw):
    try:
        bundle = tags.parse(raw, where="f:1")
    except ReinflectError as e:
        assert str(e).startswith("f:1: ")
        return
    assert bundle and all(k and v for k, v in bundle.items())
    unimorph = "=" not in raw
    if unimorph:  # bare features render back to the same bundle
        assert tags.parse(tags.render(bundle, unimorph=True)) == bundle
